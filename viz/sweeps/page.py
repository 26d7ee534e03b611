"""The "Sweeps" page: hyperparameter map, basin map and fair race of the current scene.

Thin on purpose: widgets <-> SweepScene (viz.sweeps.scene) <-> st.query_params;
SweepScene -> cached sweeps (viz.sweeps.compute, which calls optimizers.sweep / tune)
-> figure builders (viz.sweeps.figures) -> st.plotly_chart.  Nothing here is jitted.

State: ``st.session_state["_sweep"]`` is this visitor's SweepScene; the URL always encodes
it (the main Scene's keys plus ``sw_`` keys).  A visitor who comes from the main page
without a query sweeps the main page's current scene.  Every widget has an ``on_change``
callback that rebuilds the SweepScene (an invalid combination is refused with a message
and the widgets are reset).  Every widget key starts with ``swp_``.

A click on a cell (or a start, or "Race them at their best") builds the main-page Scene
(viz.sweeps.scene.hyper_click_scene & co.) and switches to the main page with that Scene's
query; the main page's session scene is dropped so that it reads the link.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from viz.sweeps import compute as swc
from viz.sweeps import figures as swf
from viz.race.scene import fmt
from viz.common.widgets import md_escape
from viz.race.scene import encode as encode_scene
from viz.sweeps.scene import (BASIN_COLORS, COLOR_TITLES, DEFAULT_N, HYPER_COLORS, MAX_N, MIN_N,
                             MODE_TITLES, MODES, NONE, OBJECTIVE_TITLES, OBJECTIVES, SweepScene,
                             basin_click_scene, cell_from_point, decode, default_range, default_y,
                             encode, hyper_click_scene, max_n, sweepable, tune_extras, tuned_scene)

S = st.session_state
MAIN_URL_PATH = "race"  # the main page's url_path in app.py
GRID_SIZES = (8, 12, 16, 24, 31, 32, 48, 64, 96, 128)
CONFIG = {"displaylogo": False, "scrollZoom": False,
          "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}


# ==========================================================================================
# Cached computations (the key is the repr of a plain tuple; the underscore argument is
# the same tuple, which Streamlit does not hash again)
# ==========================================================================================

def _progress_cb(text: str):
    """A progress bar made inside the cached function (so a cache hit replays nothing visible)."""
    bar = st.progress(0.0, text=text)

    def cb(f: float):
        bar.progress(min(max(float(f), 0.0), 1.0), text=text)

    return bar, cb


@st.cache_data(max_entries=16, show_spinner=False)
def _cached_hyper(key: str, _k: tuple):
    bar, cb = _progress_cb(f"Running {len(_k[8]) * (1 if _k[10] is None else len(_k[10])):,} runs "
                           f"of {_k[5]:,} steps...")
    try:
        return swc.run_hyper(_k, on_progress=cb)
    finally:
        bar.empty()


@st.cache_data(max_entries=16, show_spinner=False)
def _cached_basin(key: str, _k: tuple):
    bar, cb = _progress_cb(f"Running {len(_k[6]) * len(_k[7]):,} starts of {_k[4]:,} steps...")
    try:
        return swc.run_basin(_k, on_progress=cb)
    finally:
        bar.empty()


@st.cache_data(max_entries=64, show_spinner=False)
def _cached_tune(key: str, _k: tuple):
    return swc.run_tune(_k)


def cached_hyper(k: tuple):
    return _cached_hyper(repr(k), k)


def cached_basin(k: tuple):
    return _cached_basin(repr(k), k)


def cached_tune(k: tuple):
    return _cached_tune(repr(k), k)


# ==========================================================================================
# SweepScene <-> widgets <-> URL
# ==========================================================================================

def _query_lists() -> dict[str, list[str]]:
    qp = st.query_params
    return {k: qp.get_all(k) for k in qp.keys() if k not in ("embed", "embed_options")}


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


def _try(build, what: str):
    """Build a SweepScene in a callback; refuse an invalid one with a message."""
    try:
        push(build())
    except ValueError as err:
        S["_sweep_error"] = f"{what}: {err}"
        push(current())  # the widgets go back to what is shown


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


def sync_url(ss: SweepScene):
    want = encode(ss)
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)
    S["_sweep_q"] = {k: [v] for k, v in want.items()}


def _load():
    """The SweepScene to show: the URL's (a new visitor or an edited URL), else the current."""
    q = _query_lists()
    if "_sweep" in S and q == S.get("_sweep_q"):
        return
    if not q and "_scene" in S:  # from the main page without a link: sweep what it shows
        scene = S["_scene"]
        ss, warnings = decode(encode_scene(scene))  # (clamps the grid to the work budget)
        S["_sweep_warnings"] = warnings
    else:
        ss, warnings = decode(q)
        S["_sweep_warnings"] = warnings
    push(ss)


# ==========================================================================================
# Going to the main page
# ==========================================================================================

def _main_placeholder():  # pragma: no cover - never run: st.navigation runs the real page
    pass


def main_page():
    """The main page as registered in st.navigation (None when this page runs alone)."""
    page = st.Page(_main_placeholder, title="Optimizer race", url_path=MAIN_URL_PATH)
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or page._script_hash not in ctx.pages_manager.get_pages():
            return None
    except Exception:  # noqa: BLE001
        return None
    return page


def goto_main(scene):
    """Open ``scene`` on the main page (it reads the link: its session scene is dropped)."""
    page = main_page()
    query = encode_scene(scene)
    if page is None:
        S["_sweep_goto_text"] = "&".join(f"{k}={v}" for k, v in query.items())
        return
    S.pop("_scene", None)
    S.pop("_warnings", None)
    st.switch_page(page, query_params=query)


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


# ==========================================================================================
# The page
# ==========================================================================================

def _num_input(label: str, key: str, container, help: str | None = None):
    container.number_input(label, key=key, format="%g", step=None, on_change=on_numbers, help=help)


def controls(ss: SweepScene):
    sb = st.sidebar
    sb.radio("What to sweep", MODES, key="swp_mode", format_func=MODE_TITLES.get, on_change=on_mode)
    runs = ss.scene.runs
    labels = ss.scene.labels()
    if ss.mode in ("hyper", "basin") and runs:
        sb.selectbox("Run", list(range(len(runs))), key="swp_run", format_func=lambda i: labels[i],
                     on_change=on_run)
    sizes = sorted({v for v in GRID_SIZES if v <= max_n(ss.scene.steps, ss.mode)} | {ss.n})
    grid_label = "Learning rates tried" if ss.mode == "tune" else "Grid size (n x n runs)"
    sb.select_slider(grid_label, sizes, key="swp_n", on_change=on_numbers,
                     help=f"at most {max_n(ss.scene.steps, ss.mode)} with {ss.scene.steps:,} steps")
    if ss.mode == "hyper" and runs:
        names = sweepable(ss.run_obj)
        sb.selectbox("x axis", names, key="swp_x", on_change=on_x)
        sb.selectbox("y axis", [NONE] + [n for n in names if n != ss.x], key="swp_y", on_change=on_y,
                     format_func=lambda n: "none (1-D sweep)" if n == NONE else n)
        c1, c2 = sb.columns(2)
        _num_input(f"{ss.x} from", "swp_xlo", c1)
        _num_input("to", "swp_xhi", c2)
        if ss.y != NONE:
            c1, c2 = sb.columns(2)
            _num_input(f"{ss.y} from", "swp_ylo", c1)
            _num_input("to", "swp_yhi", c2)
        sb.radio("Colour by", HYPER_COLORS, key="swp_color_hyper", on_change=on_numbers,
                 format_func=COLOR_TITLES.get)
    elif ss.mode == "basin" and runs:
        c1, c2 = sb.columns(2)
        _num_input("start x from", "swp_xlo", c1)
        _num_input("to", "swp_xhi", c2)
        c1, c2 = sb.columns(2)
        _num_input("start y from", "swp_ylo", c1)
        _num_input("to", "swp_yhi", c2)
        sb.radio("Colour by", ("basin", "steps", "final_loss"), key="swp_color_basin",
                 on_change=on_numbers, format_func=COLOR_TITLES.get)
    elif ss.mode == "tune" and runs:
        sb.radio("Best means the lowest", OBJECTIVES, key="swp_obj", on_change=on_numbers,
                 format_func=OBJECTIVE_TITLES.get)
        c1, c2 = sb.columns(2)
        _num_input("rates from", "swp_xlo", c1)
        _num_input("to", "swp_xhi", c2)
        sb.selectbox("Also tune", [NONE] + tune_extras(ss.scene), key="swp_extra", on_change=on_numbers,
                     format_func=lambda n: "nothing else" if n == NONE else f"{n} (8 values)")
    if ss.mode != "tune" and runs:
        sb.button("Default ranges", on_click=on_reset_ranges, key="swp_reset")


def sweep_page():
    _load()
    if "_sweep_goto" in S:  # a click in the previous run: open it on the main page
        goto_main(S.pop("_sweep_goto"))
    ss = current()
    controls(ss)
    ss = current()
    sync_url(ss)

    st.markdown(f"### {MODE_TITLES[ss.mode]}")
    warnings = S.get("_sweep_warnings") or []
    if warnings:
        st.warning("**Some of the link could not be used; safe defaults are shown instead.**\n\n"
                   + "\n".join(f"- {md_escape(w)}" for w in warnings), icon=":material/warning:")
    if S.get("_sweep_error"):
        st.warning(md_escape(S.pop("_sweep_error")), icon=":material/warning:")
    if S.get("_sweep_goto_text"):
        st.info("Open this on the main page: `?" + S.pop("_sweep_goto_text")[:1500] + "`")
    scene = ss.scene
    start = scene.start
    where = ("its default start" if start is None else f"start ({fmt(start[0])}, {fmt(start[1])})")
    name = "your formula" if scene.landscape == "custom" else scene.landscape
    st.caption(f"On **{md_escape(name)}** from {where}, {scene.steps:,} steps each, tolerance "
               f"{scene.tol:g} on loss − f*. Change the landscape, start or steps on the main page.")
    if not scene.runs:
        st.info("This scene has no runs: add one on the main page first.", icon=":material/add:")
        return
    if ss.mode == "hyper":
        hyper_view(ss)
    elif ss.mode == "basin":
        basin_view(ss)
    else:
        tune_view(ss)


def _compute(fn, key):
    try:
        return fn(key), None
    except ValueError as err:
        return None, str(err)


def hyper_view(ss: SweepScene):
    res, err = _compute(cached_hyper, swc.hyper_key(ss))
    if err:
        st.error(f"The sweep could not run: {md_escape(err[:300])}", icon=":material/error:")
        return
    fig = swf.hyper_figure(ss, res)
    st.plotly_chart(fig, key="swp_chart_hyper", theme=None, config=CONFIG, on_select=on_hyper_click,
                    selection_mode="points")
    n = res.final_loss.size
    div = int(res.diverged.sum())
    reached = int(((res.steps_to_tol >= 0) & ~res.diverged).sum())
    gap = np.where(res.diverged, np.inf, res.final_loss - res.f_min)
    i = np.unravel_index(int(np.argmin(gap)), gap.shape)
    xs, ys = ss.x_values(), ss.y_values()
    best = f"{ss.x} = {xs[i[1]]:.4g}" + ("" if ys is None else f", {ss.y} = {ys[i[0]]:.4g}")
    label = ss.scene.labels()[ss.run]
    text = (f"{md_escape(label)}: {n:,} runs, {div:,} diverged ({100 * div / n:.0f} %), "
            f"{reached:,} got within tolerance.")
    if np.isfinite(gap[i]):
        text += f" Lowest final loss {res.final_loss[i]:.4g} at {md_escape(best)}."
    st.caption(text + " Hover a cell for its numbers; **click a cell** to open that run on the main page. "
               "The circle marks the run's current setting.")


def basin_view(ss: SweepScene):
    res, err = _compute(cached_basin, swc.basin_key(ss))
    if err:
        st.error(f"The sweep could not run: {md_escape(err[:300])}", icon=":material/error:")
        return
    start = ss.scene.start
    if start is None:
        from viz.race.compute import landscape_of

        start = landscape_of(ss.scene).start
    fig = swf.basin_figure(ss, res, start)
    st.plotly_chart(fig, key="swp_chart_basin", theme=None, config=CONFIG, on_select=on_basin_click,
                    selection_mode="points")
    n = res.final_loss.size
    parts = [f"#{k}: {int((res.nearest_minimum == k).sum()):,}" for k in range(len(res.minima))]
    div = int(res.diverged.sum())
    label = ss.scene.labels()[ss.run]
    st.caption(f"{md_escape(label)} from {n:,} starts; ends nearest to minimum "
               + (md_escape(", ".join(parts)) if parts else "(none listed)")
               + f"; {div:,} diverged. **Click a start** to open it on the main page.")


def tune_view(ss: SweepScene):
    keys = swc.tune_keys(ss)
    labels = ss.scene.labels()
    outcomes = []
    bar = st.progress(0.0, text=f"Tuning {len(keys)} optimizers...") if len(keys) > 1 else None
    for j, k in enumerate(keys):
        outcomes.append(cached_tune(k))
        if bar is not None:
            bar.progress((j + 1) / len(keys), text=f"Tuning {len(keys)} optimizers... {j + 1} done")
    if bar is not None:
        bar.empty()
    S["_sweep_tuned"] = outcomes
    st.plotly_chart(swf.tune_figure(ss, outcomes, labels), key="swp_chart_tune", theme=None, config=CONFIG)
    rows = []
    for label, o in zip(labels, outcomes):
        if o.best is None:
            rows.append(f"| {md_escape(label)} | — | {md_escape(o.error[:120])} |")
            continue
        extra = "".join(f", {k} = {v:.4g}" for k, v in o.best.items() if k != "learning_rate")
        value = ("never within tol" if not math.isfinite(o.value) else
                 (f"{int(o.value):,} steps" if ss.obj == "steps_to_tol" else f"{o.value:.4g}"))
        rows.append(f"| {md_escape(label)} | α = {o.best['learning_rate']:.4g}{md_escape(extra)} | {value} |")
    st.markdown(f"| run | best setting | {OBJECTIVE_TITLES[ss.obj]} |\n|---|---|---|\n" + "\n".join(rows))
    st.button("Race them at their best", key="swp_race", on_click=on_race, type="primary",
              icon=":material/sports_score:",
              help="Opens the main page with every run at its best learning rate (and extra value).")
