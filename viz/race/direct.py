"""The chart's direct route: a learning rate, a typed start or a click on the plot answered over
HTTP, before the page's rerun (no Streamlit: the server's route calls :func:`answer`).

A change made in the chart used to wait for Streamlit: the chart's fragment reran, its element
went out over the websocket and Streamlit's front end applied it before the chart could draw
(~35-50 ms of the front end for a fragment, the script's bookkeeping and its collection on the
server; benchmarks/results/HISTORY.md).  Now the chart (viz/common/chart.js) first asks this
route for its new data, POST ``/api/race/chart`` with ``{"q": the query of the figure it
shows, "kind": "lr" | "start" | "click" | "steps" | "add" | "remove" | "param", "value": what
the trigger would carry}``, draws it,
and then sends the trigger as before, naming the figure it now shows: the page's rerun makes
the same scene its own (the URL, the share row, the header) and sends the chart a patch from
that figure (``cached.took``: empty, nothing drawn again, when the page's scene is the same).  If this route says no, the chart sends the trigger at once, as before.

It says yes (200, the chart's data: ``cached.chart_payload``, a patch from ``q``'s figure when
that is still held) only when the answer is what the page would send and takes no compiler:

- ``q`` reads without a warning and is the query of the scene it reads (the chart names its
  figures by that canonical query), and the view is 2-D;
- the change is read by the page's own checks (``chart.lr_changes``,
  ``scene.start_from_input``, ``scene.start_from_click``, ``scene.steps_from_input``,
  ``chart.param_change``) and changes the scene;
- no program has to be compiled (``cached.scene_results(..., compiling=False)``): a wait the page shows with its
  progress card ("compiling Adam ...") goes the page's way.

Else 409 (the page's way; a request it cannot read: 400, too large: 413).  The body is
untrusted like any URL: at most ``MAX_BODY`` bytes of JSON, read by the same codec as a shared
link; nothing in it is evaluated."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from viz.common import chart, rerun_log
from viz.common.url import MAX_QUERY_CHARS
from viz.race import cached, defaults, link
from viz.race.scene import RESET, Scene, landscape_domain, start_from_click, start_from_input, steps_from_input

MAX_BODY = 2 * MAX_QUERY_CHARS  # bytes: the query and a small change
OK, BAD, THE_PAGES_WAY, TOO_LARGE = 200, 400, 409, 413
KINDS = ("lr", "start", "click", "steps", "add", "remove", "param")
_log = logging.getLogger("landscape.race.direct")


def changed(scene: Scene, kind: str, value: Any) -> Scene | None:
    """``scene`` after the chart's change ``kind`` with the trigger value ``value``, read as
    the page reads it (viz/race/state.py: on_lr, on_start, on_click, on_steps, on_chart_runs,
    on_param); None if it is ignored."""
    if kind == "lr":
        rates = chart.lr_changes(value, scene)
        runs = tuple(r.with_hp(learning_rate=rates[chart.lr_key(i, r)]) if chart.lr_key(i, r) in rates else r
                     for i, r in enumerate(scene.runs))
        new = scene.replace(runs=runs)
    elif kind == "start":
        start = start_from_input(value, landscape_domain(scene))
        new = None if start is None else scene.replace(start=None if start == RESET else start)
    elif kind == "click":
        start = start_from_click([value], landscape_domain(scene))
        new = None if start is None else scene.replace(start=start)
    elif kind == "steps":  # (the animation's range goes back to every step, as a new link's)
        steps = steps_from_input(value)
        new = None if steps is None else scene.replace(steps=steps, span=None)
    elif kind == "add":  # {n: the runs the chart shows} (a stale button adds nothing)
        shown = value.get("n") if isinstance(value, Mapping) else None
        new = defaults.with_run_added(scene) if type(shown) is int and shown == len(scene.runs) else None
    elif kind == "remove":
        i = removed(scene, value)
        new = None if i is None else scene.replace(runs=scene.runs[:i] + scene.runs[i + 1:])
    elif kind == "param":  # (a formula has none: nothing is changed)
        change = chart.param_change(value, scene.landscape, *cached.params_of(scene))
        new = None if change is None else scene.replace(landscape_params={**dict(scene.landscape_params),
                                                                          change[0]: change[1]})
    else:
        return None
    return None if new is None or new == scene else new


def removed(scene: Scene, value: Any) -> int | None:
    """The run the chart's trigger "remove" names ({key: its learning rate's key, which names
    its place and optimizer, viz.common.chart.lr_key; n: the runs shown}), or None (no such
    run now, or a button on a page one behind: a second click must not remove the next run)."""
    if not isinstance(value, Mapping) or type(value.get("n")) is not int or value["n"] != len(scene.runs):
        return None
    return next((i for i, r in enumerate(scene.runs) if chart.lr_key(i, r) == value.get("key")), None)


def _request(body: bytes) -> tuple[str, str, Any] | int:
    """(q, kind, value) from the body, or the status that refuses it."""
    if len(body) > MAX_BODY:
        return TOO_LARGE
    try:
        got = orjson.loads(body)
    except orjson.JSONDecodeError:
        return BAD
    if not isinstance(got, dict) or not isinstance(got.get("q"), str) or got.get("kind") not in KINDS:
        return BAD
    return got["q"], got["kind"], got.get("value")


def answer(body: bytes) -> tuple[int, bytes]:
    """The route's answer to ``body``: (status, bytes); the chart's data when the status is 200."""
    got = _request(body)
    if isinstance(got, int):
        return got, b""
    q, kind, value = got
    scene, warnings = link.from_query_string(q)
    if warnings or link.to_query_string(scene) != q or scene.view == "3d":
        return THE_PAGES_WAY, b""
    new = changed(scene, kind, value)
    if new is None:
        return THE_PAGES_WAY, b""
    return rerun_log.logged("race.direct", lambda: _computed(q, new))


def _computed(base: str, scene: Scene) -> tuple[int, bytes]:
    query = link.to_query_string(scene)
    try:
        L = cached.landscape(scene.landscape_key())
        results = cached.scene_results(scene, L, compiling=False)
        with cached.no_compiler():
            return OK, cached.chart_payload(query, scene, results, base)
    except cached.Slow as slow:
        _log.debug("the page's way: %s would be compiled", slow)
    except Exception:  # noqa: BLE001  (the page's rerun meets it too, and shows it its way)
        _log.warning("the direct route failed on %s", rerun_log.safe(query), exc_info=True)
    return THE_PAGES_WAY, b""
