"""The race page's results, shared by every visitor (Streamlit caches, bounded): runs, the
landscape's grid and picture, the figure, and what the chart is sent (a whole figure or a
patch from the one this page has).  Everything it caches is computed in the pure modules
beside it (compute, figures, metrics)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import streamlit as st

import landscapes
from landscapes import compiled
from viz.common import bootstrap, chart
from viz.common import rerun_log
from viz.common.caching import MB, cached_by_key
from viz.common.plotting import CHART_CONFIG, PALETTE
from viz.common.progress import Progress
from viz.race import compute, figures, metrics, presets, shipped
from viz.race.scene import CUSTOM, MAX_RUNS, MAX_STEPS, Scene, landscape_domain

S = st.session_state
_log = logging.getLogger("landscape.race")


@cached_by_key("race.run", 32 * MB)  # a run of 100k steps pickles to 2.4 MB (8 of them: 19 MB)
def cached_run(landscape_key: tuple, run_key: tuple, shared_key: tuple, start: tuple, steps: int):
    return compute.run_one(landscape_key, run_key, shared_key, tuple(start), int(steps))


@cached_by_key("race.grid", 4 * MB)  # 150 x 150 float32 + axes: ~92 kB
def cached_grid(landscape_key: tuple):
    return compute.grid_of(landscape_key)


def landscape(key: tuple):
    """The Landscape (the core caches built-ins and formulas itself)."""
    return compute.landscape_from_key(key)


def reference(L, grid, results) -> metrics.Reference:
    """What the loss plots and the table measure from (f*, or the lowest value seen)."""
    z = grid[2]
    return metrics.reference(L, results, float(np.nanmin(z)) if np.isfinite(z).any() else None)


_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="runs")  # a server's, shared


class _Told:
    """The progress card while a scene's new runs are computed (two at a time, from the
    pool's threads): how many are done, whose programs are being compiled."""

    def __init__(self, p: Progress, new: list, steps: int, where: str):
        self.p, self.n, self.done, self.compiling = p, len(new), 0, {}
        self.what = f"{'a run' if self.n == 1 else f'{self.n} runs'} of {steps:,} steps on {where}"
        self._lock = threading.Lock()
        self.say()

    def say(self):  # (under the lock, or before the threads start)
        text = f"Computing {self.what}" + (f": {self.done} of {self.n} done" if self.n > 1 else "")
        if self.compiling:
            text += f"; compiling {' and '.join(dict.fromkeys(self.compiling.values()))}"
        self.p.update(text + "…", self.done / self.n)

    def run(self, fn, run):
        """``fn(run)``, a new run: "compiling" while a program is compiled for it."""
        me = id(run)
        with compiled.watch(lambda name: self._set(lambda: self.compiling.__setitem__(me, run.rule.title))):
            try:
                return fn(run)
            finally:
                self._set(lambda: self._finish(me))

    def _finish(self, me: int):
        self.done += 1
        self.compiling.pop(me, None)

    def _set(self, change):
        with self._lock:
            change()
            self.say()


def run_args(scene: Scene, L, run) -> tuple:
    """``cached_run``'s arguments for one of the scene's runs."""
    return scene.landscape_key(), run.key(), scene.shared_key(), tuple(compute.start_of(scene, L)), scene.steps


_SHIPPED: dict[str, shipped.Shipped | None] = {}  # "used": what put_shipped gave the caches
_ship_lock = threading.Lock()


def put_shipped(got: shipped.Shipped | None) -> bool:
    """The default scene's runs and grid ``got`` (viz.race.shipped) into the caches; False if None."""
    if got is None:
        return False
    scene = shipped.default_scene()
    L = landscape(scene.landscape_key())
    for r, t in zip(scene.runs, got.runs):
        cached_run.put(t, *run_args(scene, L, r))
    cached_grid.put(got.grid, scene.landscape_key())
    return True


def _ship_once():
    """Once per server process (not in the tests), before its first page computes anything:
    the shipped default scene into the caches."""
    if "used" in _SHIPPED or bootstrap.quiet():
        return
    with _ship_lock:
        if "used" not in _SHIPPED:
            got = shipped.load()
            _SHIPPED["used"] = got if put_shipped(got) else None


def check_shipped(used: shipped.Shipped | None, runs, grid) -> bool:
    """After the default scene's ``runs`` and ``grid`` were computed here: True when the shipped
    ones the caches were given (``used``) are the same, bit for bit (or none were given).  Else
    these take their place, the figures drawn from the shipped ones are forgotten, and a warning
    says so (this machine rounds otherwise than the one that wrote the file)."""
    if used is None or used.same(runs, grid):
        return True
    put_shipped(shipped.Shipped(tuple(runs), grid))
    for memo in (chart.SPECS, chart_extras.memo, _picture.memo, main_figure_spec.memo):
        memo.clear()
    _log.warning("%s differs from this machine's default scene: replaced by what it computed "
                 "(regenerate it here with python -m viz.race.shipped)", shipped.FILE.name)
    return False


def scene_results(scene: Scene, L, p: Progress | None = None, *, compiling: bool = True):
    """The scene's runs; two at a time when more than one must be computed (compiling a new
    program, 0.2-0.7 s, mostly leaves Python: a cold server's first page ~25 % sooner), the
    landscape's grid meanwhile when it is new too.  All cached: no thread hop.  ``p`` (a
    progress card) hears how many new runs are done and which are being compiled.  With
    ``compiling=False`` (the direct route, viz/race/direct.py: it answers only what takes no
    compiler, whose wait the page shows), :class:`Slow` as soon as a run would compile."""
    _ship_once()
    args = {id(r): run_args(scene, L, r) for r in scene.runs}
    new = [r for r in scene.runs if not cached_run.has(*args[id(r)])]
    key = scene.landscape_key()

    def run(r):
        if compiling:
            return cached_run(*args[id(r)])
        with no_compiler():
            return cached_run(*args[id(r)])
    one = rerun_log.carried(run)
    if p is not None and new:
        told, fresh = _Told(p, new, scene.steps, compute.landscape_title(key)), {id(r) for r in new}
        one = rerun_log.carried(lambda r: told.run(run, r) if id(r) in fresh else run(r))
    if len(new) < 2:
        return [one(r) for r in scene.runs]
    if compiling and not cached_grid.has(key):  # (the figure needs it next)
        _POOL.submit(rerun_log.carried(cached_grid), key)
    return list(_POOL.map(one, scene.runs))


class Slow(Exception):
    """A program would have to be compiled (``scene_results(..., compiling=False)``)."""


def _refuse(name: str):
    raise Slow(name)


def no_compiler():
    """A block (``with``) in which this thread raises :class:`Slow` instead of compiling."""
    return compiled.watch(_refuse)


@cached_by_key("race.picture", 4 * MB)  # a PNG data URI, ~30-150 kB
def _picture(landscape_key: tuple, f_star: float, known: bool):
    ref = metrics.Reference(f_star, "f − f*" if known else "f − min f (estimated)", known)
    return figures.landscape_picture(landscape(landscape_key), cached_grid(landscape_key)[2], ref)


def figure_spec(scene: Scene, results=None, compact: bool = False) -> dict:
    """The main figure's dict (``results``: the scene's runs, if the caller has them;
    ``compact``: its frames described, not built: see figures.main_figure)."""
    key = scene.landscape_key()
    L, grid = landscape(key), cached_grid(key)
    results = scene_results(scene, L) if results is None else results
    ref = reference(L, grid, results)
    if scene.view == "3d":
        return figures.surface_figure(scene, L, grid, results, scene.labels(), ref).spec
    picture = _picture(key, ref.f_star, ref.known)
    return figures.main_figure(scene, L, grid, results, scene.labels(), ref, picture=picture, compact=compact,
                               places=MAX_RUNS).spec  # (a run added or removed: a quick update)


@cached_by_key("race.figure_3d", 8 * MB, key=lambda query, scene: query)  # 3-D view, export
def main_figure_spec(query: str, scene: Scene) -> dict:
    """The main figure's dict, keyed by the scene's (lossless) query string."""
    return figure_spec(scene)


NOTE = ("▶ Play animates the runs; drag the slider to any step. Click anywhere on the landscape "
        "to start from there, a name above it to hide or show that run. Learning rates: just below.")


def results_table(scene: Scene, L, results) -> dict:
    """The results table (plain text cells): a row per run, in the runs' colours."""
    ref = reference(L, cached_grid(scene.landscape_key()), results)
    return metrics.table_cells(results, scene.labels(), L, ref, scene.tol, PALETTE)


@cached_by_key("race.extras", 2 * MB, key=lambda query, scene, results: query)  # ~5-20 kB
def chart_extras(query: str, scene: Scene, results) -> dict:
    """What the chart shows under the plot: the note, the steps', the start point's and the
    landscape parameters' inputs, the learning rates, "Add a run", the results table."""
    L = landscape(scene.landscape_key())
    return {"note": NOTE if scene.view != "3d" and scene.runs else "",
            "start": chart.start_control(compute.start_of(scene, L), landscape_domain(scene)),
            "steps": chart.steps_control(scene.steps, MAX_STEPS),
            "add": chart.add_control(len(scene.runs), MAX_RUNS),
            "params": chart.param_controls(scene.landscape, *params_of(scene)),
            "controls": chart.lr_controls(scene),
            "table": results_table(scene, L, results) if scene.runs else None}


def params_of(scene: Scene) -> tuple[list, list[float]]:
    """The scene's landscape parameters: their specs and values (none for a formula); what the
    chart's controls show and its trigger "param" is checked against."""
    if scene.landscape == CUSTOM:
        return [], []
    return list(landscapes.param_specs(scene.landscape)), [v for _, v in scene.landscape_params]


SENT = "_chart_sent"  # the name (query) of the figure this page's chart was last sent; the
#                       figure itself stays in chart.SPECS (a session holds no figure of its own)


def chart_data(query: str, scene: Scene, results) -> bytes:
    """The main chart's data (viz.common.chart.payload) for this page: the whole figure, or a
    patch from the figure sent last (most of a change: one run's traces and frames).  The 3-D
    view draws its own figure (st.plotly_chart): this chart then shows what is under the plot."""
    base = S.get(SENT)
    if scene.view == "3d":
        S.pop(SENT, None)
    else:
        S[SENT] = query
    return chart_payload(query, scene, results, base)


def chart_payload(query: str, scene: Scene, results, base: str | None) -> bytes:
    """The chart's data for ``scene`` (named ``query``) to a chart that has the figure named
    ``base`` (None: none): a patch from it when it is still in the memo and most traces stay,
    else the whole figure.  Shared by the page (``chart_data``) and the direct route
    (viz/race/direct.py); no session."""
    extras = chart_extras(query, scene, results)
    if scene.view == "3d":
        return _sent(chart.payload(None, rev=query, config=CHART_CONFIG, **extras), "3d")
    # 2-D figures are shared per server (a pickled cache would hand out a copy each time)
    spec = chart.SPECS.get(query, lambda: figure_spec(scene, results, compact=True))
    old = chart.SPECS.peek(base) if base else None  # gone from the memo: the whole figure
    diff = chart.patch(old, spec) if old is not None else None
    if diff is not None and 2 * len(diff["data"]) <= len(spec["data"]):
        return _sent(chart.payload(None, rev=query, config=CHART_CONFIG, base=base, patch=diff, **extras), "patch")
    return _sent(chart.payload(spec, rev=query, config=CHART_CONFIG, **extras), "whole")


def drawn(query: str, scene: Scene, results, p: Progress | None = None) -> tuple[dict | None, bytes]:
    """The 3-D view's figure (None in 2-D) and the chart's data (``chart_data``); ``p`` hears
    "Drawing the figure" when the figure is not made yet."""
    made = main_figure_spec.has(query, scene) if scene.view == "3d" else chart.SPECS.peek(query) is not None
    if p is not None and not made:
        p.update("Drawing the figure…", 1.0)
    spec = main_figure_spec(query, scene) if scene.view == "3d" else None
    return spec, chart_data(query, scene, results)


def _sent(data: bytes, kind: str) -> bytes:
    rerun_log.sent(len(data), kind)
    return data


def took(value) -> None:
    """A chart's trigger ``value`` says it drew the figure it names already (the direct route,
    viz/race/direct.py: ``chart.had``): this rerun's chart data is a patch from that one (the
    same figure: an empty patch, nothing drawn again)."""
    have = chart.had(value)
    if have is not None:
        S[SENT] = have


def on_resync():
    """The browser got a patch for a figure it does not have (it lost it): send the whole one."""
    S.pop(SENT, None)


def _warm_up():  # pragma: no cover - background thread
    """Compile the ready scenes' programs once per server process, off the request path (the
    default scene first: the shipped results given to the first pages are checked with it)."""
    for name, p in presets.PRESETS.items():
        try:
            runs = compute.run_scene(p.scene)  # same steps (same size bucket): the very programs
            grid = compute.grid_of(p.scene.landscape_key())
            if name == presets.DEFAULT_PRESET:  # (then the file's 2.3 MB of arrays are let go)
                check_shipped(_SHIPPED.get("used"), runs, grid)
                _SHIPPED["used"] = None
        except Exception:  # noqa: BLE001
            pass


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread | None:
    """Once per server process, after the first visitor's whole page is out (not in the tests)."""
    if bootstrap.quiet():
        return None
    t = threading.Thread(target=_warm_up, name="warm-up", daemon=True)
    t.start()
    return t
