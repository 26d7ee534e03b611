"""Sweeps: a hyperparameter map, a basin map, or a fair race (each optimizer at its best
learning rate) of the race page's scene.

Layout only.  State, cached sweeps and callbacks: viz/sweeps/state.py; the sweeps and the
texts under the figures: viz/sweeps/compute.py and figures.py (no Streamlit)."""

from __future__ import annotations

import streamlit as st

from viz.common import widgets
from viz.common.plotting import CHART_CONFIG
from viz.common.progress import Progress
from viz.common.text import md_escape
from viz.race.compute import landscape_of
from viz.common.url import fmt
from viz.sweeps import compute as swc
from viz.sweeps import figures as swf
from viz.sweeps import state as sws
from viz.sweeps.scene import (COLOR_TITLES, HYPER_COLORS, MODE_TITLES, MODES, NONE, OBJECTIVES,
                              OBJECTIVE_TITLES, SweepScene, max_n, sweepable, tune_extras)

S = st.session_state
GRID_SIZES = (8, 12, 16, 24, 31, 32, 48, 64, 96, 128)


def _num_input(label: str, key: str, container):
    container.number_input(label, key=key, format="%g", step=None, on_change=sws.on_numbers)


def _range_inputs(sb, x_label: str, y_label: str | None):
    for label, lo, hi in ((x_label, "swp_xlo", "swp_xhi"), (y_label, "swp_ylo", "swp_yhi")):
        if label is not None:
            c1, c2 = sb.columns(2)
            _num_input(f"{label} from", lo, c1)
            _num_input("to", hi, c2)


def controls(ss: SweepScene):
    sb = st.sidebar
    sb.radio("What to sweep", MODES, key="swp_mode", format_func=MODE_TITLES.get, on_change=sws.on_mode)
    runs, labels = ss.scene.runs, ss.scene.labels()
    if ss.mode in ("hyper", "basin") and runs:
        sb.selectbox("Run", list(range(len(runs))), key="swp_run", format_func=lambda i: labels[i],
                     on_change=sws.on_run)
    sizes = sorted({v for v in GRID_SIZES if v <= max_n(ss.scene.steps, ss.mode)} | {ss.n})
    sb.select_slider("Learning rates tried" if ss.mode == "tune" else "Grid size (n x n runs)", sizes,
                     key="swp_n", on_change=sws.on_numbers,
                     help=f"at most {max_n(ss.scene.steps, ss.mode)} with {ss.scene.steps:,} steps")
    if not runs:
        return
    if ss.mode == "hyper":
        names = sweepable(ss.run_obj)
        sb.selectbox("x axis", names, key="swp_x", on_change=sws.on_x)
        sb.selectbox("y axis", [NONE] + [n for n in names if n != ss.x], key="swp_y", on_change=sws.on_y,
                     format_func=lambda n: "none (1-D sweep)" if n == NONE else n)
        _range_inputs(sb, ss.x, None if ss.y == NONE else ss.y)
        sb.radio("Colour by", HYPER_COLORS, key="swp_color_hyper", on_change=sws.on_numbers,
                 format_func=COLOR_TITLES.get)
    elif ss.mode == "basin":
        _range_inputs(sb, "start x", "start y")
        sb.radio("Colour by", ("basin", "steps", "final_loss"), key="swp_color_basin",
                 on_change=sws.on_numbers, format_func=COLOR_TITLES.get)
    else:
        sb.radio("Best means the lowest", OBJECTIVES, key="swp_obj", on_change=sws.on_numbers,
                 format_func=OBJECTIVE_TITLES.get)
        _range_inputs(sb, "rates", None)
        sb.selectbox("Also tune", [NONE] + tune_extras(ss.scene), key="swp_extra", on_change=sws.on_numbers,
                     format_func=lambda n: "nothing else" if n == NONE else f"{n} (8 values)")
    if ss.mode != "tune":
        sb.button("Default ranges", on_click=sws.on_reset_ranges, key="swp_reset")


def _compute(fn, key):
    """``fn(key, progress)`` (a cached sweep), with a progress card where its map will be."""
    try:
        with Progress("sweep") as p:
            return fn(key, p), None
    except ValueError as err:
        st.error(f"The sweep could not run: {md_escape(str(err)[:300])}", icon=":material/error:")
        return None, str(err)


def hyper_view(ss: SweepScene):
    res, err = _compute(sws.hyper_map, swc.hyper_key(ss))
    if err is None:
        st.plotly_chart(swf.hyper_figure(ss, res), key="swp_chart_hyper", theme=None, config=CHART_CONFIG,
                        on_select=sws.on_hyper_click, selection_mode="points")
        st.caption(swf.hyper_summary(ss, res))


def basin_view(ss: SweepScene):
    res, err = _compute(sws.basin_map, swc.basin_key(ss))
    if err is None:
        start = ss.scene.start if ss.scene.start is not None else landscape_of(ss.scene).start
        st.plotly_chart(swf.basin_figure(ss, res, start), key="swp_chart_basin", theme=None,
                        config=CHART_CONFIG, on_select=sws.on_basin_click, selection_mode="points")
        st.caption(swf.basin_summary(ss, res))


def tune_view(ss: SweepScene):
    keys = swc.tune_keys(ss)
    labels = ss.scene.labels()
    with Progress("tune") as p:
        outcomes = sws.tuned(keys, p)
    S["_sweep_tuned"] = outcomes
    st.plotly_chart(swf.tune_figure(ss, outcomes, labels), key="swp_chart_tune", theme=None,
                    config=CHART_CONFIG)
    st.markdown(swf.tune_table(ss, outcomes, labels))
    st.button("Race them at their best", key="swp_race", on_click=sws.on_race, type="primary",
              icon=":material/sports_score:",
              help="Opens the race page with every run at its best learning rate (and extra value).")


def page():
    sws.load()
    if "_sweep_goto" in S:  # a click in the previous run: open it on the race page
        sws.goto_race(S.pop("_sweep_goto"))
    controls(sws.current())
    ss = sws.current()
    sws.sync_url(ss)
    st.markdown(f"### {MODE_TITLES[ss.mode]}")
    widgets.link_warnings(S.get("_sweep_warnings") or [], "sweeps")
    if S.get("_sweep_error"):
        st.warning(md_escape(S.pop("_sweep_error")), icon=":material/warning:")
    if S.get("_sweep_goto_text"):
        st.info("Open this on the race page: `?" + S.pop("_sweep_goto_text")[:1500] + "`")
    scene = ss.scene
    where = "its default start" if scene.start is None else f"start ({fmt(scene.start[0])}, {fmt(scene.start[1])})"
    name = "your formula" if scene.landscape == "custom" else scene.landscape
    st.caption(f"On **{md_escape(name)}** from {where}, {scene.steps:,} steps each, tolerance "
               f"{scene.tol:g} on loss − f*. Change the landscape, start or steps on the race page.")
    if not scene.runs:
        st.info("This scene has no runs: add one on the race page first.", icon=":material/add:")
        return
    {"hyper": hyper_view, "basin": basin_view, "tune": tune_view}[ss.mode](ss)


widgets.timed("sweeps page", page, "sweeps")
