"""The sweeps page's state (Streamlit): this visitor's SweepScene in
``st.session_state["_sweep"]``, the cached sweeps, and the callbacks.

The URL always encodes the SweepScene (the race Scene's keys plus ``sw_`` keys).  A visitor
who comes from the race page without a query sweeps the race page's current scene.  Every
widget has an ``on_change`` callback that rebuilds the SweepScene (an invalid combination
is refused with a message and the widgets are reset); every widget key starts with ``swp_``.
A click on a cell (or a start, or "Race them at their best") opens that Scene on the race
page (st.switch_page with its query; the race page's session scene is dropped so that it
reads the link)."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

import optimizers
from landscapes import compiled
from viz.common import widgets
from viz.common.caching import MB, cached_by_key
from viz.common.progress import Progress
from viz.race.compute import landscape_title
from viz.race.link import encode as encode_scene
from viz.sweeps import compute as swc
from viz.sweeps.scene import (NONE, SweepScene, basin_click_scene, cell_from_point, decode, default_y,
                              encode, hyper_click_scene, tuned_scene)

S = st.session_state
RACE_PAGE = "app_pages/race.py"  # as app.py lists it


def _title(k) -> tuple[str, str]:
    """The swept rule's and the landscape's names, for the progress card."""
    optimizer, lookahead, _, _ = k.run
    rule = optimizers.get(optimizer, lookahead=lookahead and optimizer != "ranger")
    return rule.title, landscape_title(k.landscape)


def _compiling(name: str, rule: str, where: str, then: str) -> str:
    """The card while a program is compiled (``name``: landscapes.compiled.watch's)."""
    if name == "_sweep_program":
        return f"compiling the {rule} sweep for {where}, then running its {then}…"
    return f"compiling {where}'s grid, then running the {rule} sweep's {then}…"  # (f_min of a formula)


def _swept(run, k, runs: int, p: Progress | None):
    """``run(k, on_progress=...)`` (a hyperparameter or basin map of ``runs`` runs), telling
    ``p`` what it does: compiling (when a program is compiled for it), then how many runs are done."""
    if p is None:
        return run(k)
    rule, where = _title(k)
    what = f"{runs:,} runs of {k.steps:,} steps"

    def done(f: float):
        p.update(f"Sweeping {rule} on {where}: {round(f * runs):,} of {what} done", f)

    with compiled.watch(lambda name: p.update("C" + _compiling(name, rule, where, what)[1:])):
        return run(k, on_progress=done)


# The keys leave the progress card out: a result is a function of its key alone.
@cached_by_key("sweeps.hyper", 8 * MB, key=lambda k, p=None: repr((k,)))  # 128 x 128 cells: <= 1 MB
def cached_hyper(k: swc.HyperKey, p: Progress | None = None):
    return _swept(swc.run_hyper, k, k.runs, p)


@cached_by_key("sweeps.basin", 8 * MB, key=lambda k, p=None: repr((k,)))
def cached_basin(k: swc.BasinKey, p: Progress | None = None):
    return _swept(swc.run_basin, k, len(k.xs) * len(k.ys), p)


def hyper_map(k: swc.HyperKey, p: Progress):
    """The hyperparameter map (cached); ``p`` hears what is computed, even by another visitor."""
    return _announced(cached_hyper, k, k.runs, p)


def basin_map(k: swc.BasinKey, p: Progress):
    return _announced(cached_basin, k, len(k.xs) * len(k.ys), p)


def _announced(cached, k, runs: int, p: Progress):
    if not cached.has(k):  # (said here, outside the memo: a visitor who waits for another's sees it too)
        rule, where = _title(k)
        p.update(f"Sweeping {rule} on {where}: {runs:,} runs of {k.steps:,} steps…", 0.0)
    return cached(k, p)


@cached_by_key("sweeps.tune", 4 * MB)
def cached_tune(k: swc.TuneKey):
    return swc.run_tune(k)


def tuned(keys: list[swc.TuneKey], p: Progress) -> list[swc.TuneOutcome]:
    """Each run's tuning (cached), telling ``p`` which optimizer is being tuned and whether
    its sweep is being compiled."""
    out = []
    for j, k in enumerate(keys):
        rule, where = _title(k)
        what = f"{len(k.lrs) * (1 if k.extra is None else len(k.extra[1])):,} runs of {k.steps:,} steps"
        head = f"Tuning optimizer {j + 1} of {len(keys)}"
        if not cached_tune.has(k):
            p.update(f"{head}, {rule}, on {where}: {what}…", j / len(keys))
        with compiled.watch(lambda name: p.update(f"{head}: {_compiling(name, rule, where, what)}")):
            out.append(cached_tune(k))
    return out


def widget_state(ss: SweepScene) -> dict[str, object]:
    w: dict[str, object] = {"swp_mode": ss.mode, "swp_run": ss.run, "swp_n": ss.n,
                            "swp_obj": ss.obj, "swp_extra": ss.extra or NONE}
    if ss.mode != "tune":
        w[f"swp_color_{ss.mode}"] = ss.color
    if ss.mode == "hyper" and ss.run_obj is not None:
        w["swp_x"], w["swp_y"] = ss.x, ss.y
    if ss.xr is not None:
        w["swp_xlo"], w["swp_xhi"] = ss.xr
    if ss.yr is not None:
        w["swp_ylo"], w["swp_yhi"] = ss.yr
    return w


def push(ss: SweepScene):
    """Make ``ss`` current and set every widget to show it (callbacks, first run)."""
    for k, v in widget_state(ss).items():
        S[k] = v
    S["_sweep"] = ss


def current() -> SweepScene:
    return S["_sweep"]


def load():
    """The SweepScene to show: the URL's (a new visitor or an edited URL), else the current."""
    q = {k: v for k, v in widgets.page_query().items() if k not in ("embed", "embed_options")}
    if "_sweep" in S and q == S.get("_sweep_q"):
        return
    if not q and "_scene" in S:  # from the race page without a link: sweep what it shows
        ss, warnings = decode(encode_scene(S["_scene"]))  # (clamps the grid to the work budget)
    else:
        ss, warnings = decode(q)
    S["_sweep_warnings"] = warnings
    push(ss)


def sync_url(ss: SweepScene):
    want = encode(ss)
    widgets.sync_url(want)
    S["_sweep_q"] = {k: [v] for k, v in want.items()}


def goto_race(scene):
    """Open ``scene`` on the race page (it reads the link: its session scene is dropped).  When
    this page runs alone (no navigation lists the race page) the link is shown instead."""
    query = encode_scene(scene)
    S.pop("_scene", None)
    S.pop("_warnings", None)
    try:
        st.switch_page(RACE_PAGE, query_params=query)
    except StreamlitAPIException:
        S["_sweep_goto_text"] = "&".join(f"{k}={v}" for k, v in query.items())


def _try(build, what: str):
    """Build a SweepScene in a callback; refuse an invalid one with a message."""
    try:
        push(build())
    except ValueError as err:
        S["_sweep_error"] = f"{what}: {err}"
        push(current())  # the widgets go back to what is shown


# --- callbacks ----------------------------------------------------------------------------

def on_mode():
    ss = current()
    mode = S.get("swp_mode") or ss.mode
    _try(lambda: SweepScene(ss.scene, mode=mode, run=ss.run, obj=ss.obj), "mode")


def on_run():
    ss = current()
    _try(lambda: SweepScene(ss.scene, mode=ss.mode, run=int(S["swp_run"]), n=ss.n, color=ss.color,
                            obj=ss.obj, extra=ss.extra, xr=ss.xr if ss.mode != "hyper" else None,
                            yr=ss.yr if ss.mode != "hyper" else None), "run")


def on_x():
    ss = current()
    x = S["swp_x"]
    y = ss.y if ss.y != x else default_y(ss.run_obj, x)
    _try(lambda: ss.replace(x=x, y=y, xr=None, yr=ss.yr if y == ss.y else None), "x axis")


def on_y():
    ss = current()
    _try(lambda: ss.replace(y=S["swp_y"], yr=None), "y axis")


def on_numbers():
    """Grid size, colour, objective, extra and the ranges: read back together."""
    ss = current()

    def build():
        kw = dict(n=int(S.get("swp_n", ss.n)), obj=S.get("swp_obj", ss.obj))
        if ss.mode != "tune":
            kw["color"] = S.get(f"swp_color_{ss.mode}", ss.color)
        else:
            extra = S.get("swp_extra", NONE)
            kw["extra"] = "" if extra == NONE else extra
        if ss.xr is not None:
            kw["xr"] = (float(S.get("swp_xlo", ss.xr[0])), float(S.get("swp_xhi", ss.xr[1])))
        if ss.yr is not None:
            kw["yr"] = (float(S.get("swp_ylo", ss.yr[0])), float(S.get("swp_yhi", ss.yr[1])))
        return ss.replace(**kw)

    _try(build, "settings")


def on_reset_ranges():
    ss = current()
    _try(lambda: ss.replace(xr=None, yr=None), "ranges")



def on_hyper_click():
    ss = current()
    sel = S.get("swp_chart_hyper")
    pts = _points(sel)
    xs, ys = ss.x_values(), ss.y_values()
    for pt in pts:
        cell = cell_from_point(pt, xs, ys, ss.x_log(), ss.y_log())
        if cell is not None:
            iy, ix = cell
            S["_sweep_goto"] = hyper_click_scene(ss, float(xs[ix]), None if ys is None else float(ys[iy]))
            return


def on_basin_click():
    ss = current()
    pts = _points(S.get("swp_chart_basin"))
    xs, ys = ss.x_values(), ss.y_values()
    for pt in pts:
        cell = cell_from_point(pt, xs, ys)
        if cell is not None:
            iy, ix = cell
            S["_sweep_goto"] = basin_click_scene(ss, float(xs[ix]), float(ys[iy]))
            return


def _points(sel) -> list:
    try:
        pts = sel["selection"]["points"]
    except (KeyError, TypeError):
        try:
            pts = sel.selection.points
        except AttributeError:
            return []
    return list(pts)[:10] if isinstance(pts, (list, tuple)) else []


def on_race():
    ss = current()
    outcomes = S.get("_sweep_tuned")
    if outcomes and len(outcomes) == len(ss.scene.runs):
        S["_sweep_goto"] = tuned_scene(ss, [o.best for o in outcomes])
