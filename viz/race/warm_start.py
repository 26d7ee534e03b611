"""The server's head start (run by serve.py's lifespan, in a thread, before any visitor): JAX's
setup and the default race page's results, grid, picture and figure, in the same process-wide
caches a visitor's page reads.  Skipped with ``LANDSCAPE_NO_WARMUP`` (the tests)."""

from __future__ import annotations

import logging
import threading
import time

from viz.common import bootstrap


def _run():  # pragma: no cover - background thread
    t0 = time.perf_counter()
    try:
        bootstrap.setup()
        from viz.common import chart
        from viz.race import cached, defaults
        from viz.race.link import to_query_string

        scene = defaults.default_scene()
        L = cached.landscape(scene.landscape_key())
        results = cached.scene_results(scene, L)
        query = to_query_string(scene)
        chart.SPECS.get(query, lambda: cached.figure_spec(scene, results))
        cached.chart_extras(query, scene, results)
        logging.getLogger("landscape.start").info("warm start: default page ready in %.0f ms",
                                                  1e3 * (time.perf_counter() - t0))
    except Exception:  # noqa: BLE001 - a visitor will compute it then
        logging.getLogger("landscape.start").exception("warm start failed")


def start() -> threading.Thread | None:
    if bootstrap.quiet():
        return None
    t = threading.Thread(target=_run, name="warm-start", daemon=True)
    t.start()
    return t
