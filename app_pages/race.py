"""The optimizer race: runs over a landscape's contour, side plots, a results table.

Layout only.  State and callbacks: viz/race/state.py; cached results and the chart's data:
viz/race/cached.py; every number shown is computed in viz/race/ without Streamlit."""

from __future__ import annotations

import streamlit as st

import landscapes
from landscapes import expression
from optimizers.transforms import NOISE, SEED
from viz.common import chart, widgets
from viz.common.plotting import CHART_CONFIG, SpecFigure
from viz.common.progress import Progress
from viz.common.text import rule_cards as rule_card_text
from viz.common.widgets import ensure, param_widget
from viz.race import export, presets
from viz.race import state as rs
from viz.race.cached import drawn, main_figure_spec, on_resync, scene_results, start_warm_up
from viz.common.runs import short_title
from viz.race.link import encode, to_query_string
from viz.race.scene import CUSTOM, MAX_RUNS, PANEL_TITLES, PANELS, TOL, Scene

S = st.session_state


def _title_of_landscape(name: str) -> str:
    return "✏️ Your own formula" if name == CUSTOM else landscapes.get(name).title


def controls(scene: Scene):
    """The sidebar: its frame now, empty, and ``fill``, which draws the page's own controls into
    it after the chart (a rerun's chart data goes out before them: ~30 widgets the browser's
    one thread would render first).  Returns (fill, the containers the fragments fill: the View
    popover, ``view_controls``; the runs', ``run_controls``)."""
    sb = st.sidebar
    sb.markdown("## :material/landscape: Optimizer race")
    top, land = sb.container(), sb.expander("**Landscape**", expanded=True)
    runs = sb.expander("**Runs**", expanded=True)  # (its count: run_controls, a fragment's)
    # Popovers, not expanders: a popover's widgets are drawn only when it opens (~0.06 s off a load).
    shared = sb.popover("**Schedule, clipping, noise** (shared)", icon=":material/tune:", width="stretch")
    view = sb.popover("**View**: 2-D/3-D, side plots, steps shown", icon=":material/visibility:",
                      width="stretch")

    def fill():
        match = presets.matching(scene)
        S["scene_preset"] = match.key if match else "(yours)"
        top.selectbox("Ready scene", ["(yours)"] + list(presets.PRESETS), key="scene_preset",
                      format_func=lambda k: "— your own scene —" if k == "(yours)" else presets.PRESETS[k].title,
                      on_change=rs.on_preset, help="Teaching scenes: each shows one idea. Pick one, then "
                                                   "change one thing at a time.")
        with land:
            st.selectbox("Function", landscapes.names() + [CUSTOM], key="landscape",
                         format_func=_title_of_landscape, on_change=rs.on_landscape)
            if scene.landscape == CUSTOM:
                formula_controls()
        with shared:
            widgets.switch_controls(scene, "", rs.SCHED, noise_step=0.1, noise_help=NOISE.doc)
            st.number_input("Noise seed", min_value=0, max_value=int(SEED.high), step=1, key="seed", help=SEED.doc)
            st.caption("A run marked *raw* ignores clipping and noise (compare with and without).")
    return fill, (view, runs)


def run_controls(scene: Scene):
    st.caption(f"{len(scene.runs)} of {MAX_RUNS} runs. Under the figure: each run's learning rate, its "
               "remove button (×) and \"Add a run\". Here: each run's optimizer and its other hyperparameters.")
    edit = rs.edited_run(scene)
    if edit is not None:
        st.radio("Edit run", list(range(len(scene.runs))), key="edit_run", horizontal=True,
                 format_func=lambda i: str(i + 1), on_change=rs.on_edit_run)
        run = scene.runs[edit]
        widgets.run_editor(edit, run, run.label or short_title(run.optimizer), prefix=rs.RUN,
                           on_optimizer=rs.on_optimizer, on_remove_run=rs.on_remove_run)
    st.button("Add a run", icon=":material/add:", key="add_run", on_click=rs.on_add_run,
              disabled=len(scene.runs) >= MAX_RUNS, width="stretch")


def view_controls(scene: Scene):
    st.radio("Main figure", ["2d", "3d"], key="view", horizontal=True,
             format_func={"2d": "2-D contour (animated)", "3d": "3-D surface"}.get)
    st.multiselect("Side plots", list(PANELS), key="panels", format_func=PANEL_TITLES.get)
    st.slider("Animate steps", min_value=0, max_value=scene.steps, key="span",
              help="The animation's step range (the figure shows the path up to its end).")
    param_widget(TOL, "tol", st, label="tolerance for 'steps to tol' (f − f*)")
    st.toggle("Logarithmic step axis", key="log_steps")


def formula_controls():
    st.text_input("f(x, y) =", key="formula", on_change=rs.on_formula, max_chars=expression.MAX_LENGTH,
                  help="x and y, numbers, + - * / ** (or ^), parentheses, pi, e and functions such "
                       "as sin, cos, exp, log, sqrt, abs, min, max, tanh. Press Enter to apply.")
    err = S.get("_formula_error")
    if err and err[0] == S.get("formula"):
        text, msg, col = err
        st.error(f"Not applied: {f'column {col}: ' if col else ''}{msg}")
        st.code(text[:200] + (("\n" + " " * (col - 1) + "^") if col else ""), language=None)
    ensure("formula_example", None)
    st.selectbox("Examples", [e for e, _ in expression.EXAMPLES], key="formula_example", index=None,
                 placeholder="pick an example formula…", on_change=rs.on_example,
                 format_func=lambda e: f"{e}  —  {dict(expression.EXAMPLES)[e]}")
    for col, key, lab in zip(st.columns(4), ("dom_x0", "dom_x1", "dom_y0", "dom_y1"),
                             ("x min", "x max", "y min", "y max")):
        col.number_input(lab, min_value=-1e4, max_value=1e4, key=key, on_change=rs.on_domain, format="%g",
                         step=0.5)
    if S.get("_domain_error"):
        st.error(f"Domain not applied: {S['_domain_error']}")


def rule_cards(scene: Scene):
    """Each selected optimizer's update rule (viz.common.text.rule_cards: one element, the
    equations as MathML drawn by the browser, no KaTeX)."""
    rules = list({r.rule.name: r.rule for r in scene.runs}.values())
    if rules:
        st.markdown("#### Update rules\n\n" + rule_card_text(rules), unsafe_allow_html=True)


def share_and_export(live: dict):  # live: {"now": state.ShareView}
    """The link and the downloads, drawn by the race fragment, not the chart's (a change of the
    chart sends its one element): ``live["now"]``, which the chart's fragment keeps up to date
    (``state.keep_share_view``), says what they hold when they are used."""
    st.markdown("#### Share and export")
    c0, c1, c2 = st.columns(3)
    with c0.popover("Copy the link to this view", icon=":material/link:", width="stretch"):
        st.caption("This link reproduces the page exactly: scene, runs, settings, animation range.")
        widgets.live_link(live["now"].url)

    def csv():  # (the buttons' data are made on a click, from the scene shown then)
        now = live["now"]
        return export.trajectories_csv(now.scene, scene_results(now.scene, now.L), now.scene.labels())

    def html():
        now = live["now"]
        match = presets.matching(now.scene)
        return export.standalone_html(SpecFigure(main_figure_spec(now.query, now.scene)),
                                      match.title if match else now.L.title,
                                      subtitle=", ".join(now.scene.labels()), link=now.url)
    # What they hold until a click stays in this session (kept 120 s after the visitor leaves): the
    # scene, not its runs (8 x 100k steps: 19 MB).
    c1.download_button("Trajectories (CSV, every step)", icon=":material/download:", key="dl_csv",
                       on_click="ignore", data=csv, file_name="trajectories.csv", mime="text/csv", width="stretch")
    c2.download_button("Animated figure (HTML, plays offline)", icon=":material/download:", key="dl_html",
                       on_click="ignore", data=html, file_name="optimizer-race.html", mime="text/html",
                       width="stretch")


@st.fragment
def race(slots=()):
    """The chart's fragment, then the run editor (in ``slots[1]``), the share row and the update
    rules.  A run added, removed or edited reruns this, not the page, unless the header changes."""
    widgets.timed("race", lambda: _race(slots), "race.controls")


def _race(slots):
    race_chart(slots[:1])  # (first: its data goes out before the rest)
    if not S.get(rs.CHART_FIRST, False) and slots:  # (a page drawn in full: the sidebar has them)
        scene = rs.current()  # (as the chart's fragment committed it)
        with slots[1]:
            run_controls(scene)
        if rs.SHARE in S:  # (the chart's fragment sets it; not if it failed)
            share_and_export(S[rs.SHARE])
        rule_cards(scene)


@st.fragment
def race_chart(slots=()):
    """The chart (one element, viz.common.chart: the plot and its own controls, the table), the
    URL, then the View popover's controls (into ``slots[0]``).  A fragment inside ``race``: a
    change of the chart's own controls (after its route has drawn it) or of the view reruns only
    this."""
    widgets.timed("chart", lambda: _race_chart(slots), "race.chart")


def _race_chart(slots):
    if S.pop("_full_rerun", False):  # the chart was drawn first: now the whole page
        st.rerun(scope="app")
    first = S.get(rs.CHART_FIRST, False)  # the chart alone (see state.CHART_FIRST)
    scene, L = rs.load() if first else rs.committed()
    query = to_query_string(scene)
    with Progress("race") as p:  # (shown only when this takes a while: a new run, a cold server)
        results = scene_results(scene, L, p)
        spec_3d, data = drawn(query, scene, results, p)
    if spec_3d is not None:
        st.plotly_chart(SpecFigure(spec_3d), key="main_chart_3d", theme=None, config=CHART_CONFIG)
    chart.plotly_chart(data, key="main_chart", on_click=rs.on_click, on_drawn=rs.on_drawn,
                       on_lr=rs.on_lr, on_start=rs.on_start, on_steps=rs.on_steps,
                       on_runs=rs.on_chart_runs, on_param=rs.on_param, on_resync=on_resync)
    widgets.sync_url(encode(scene))  # (after the chart: the browser takes it with the chart's data)
    rs.keep_share_view(scene, L, query)
    if not first and slots:  # (a page drawn in full: the sidebar has the View popover)
        with slots[0]:
            view_controls(scene)
    if not first and not scene.runs:
        st.info("No runs yet: add one with \"Add a run\" under the plot (or in the sidebar).", icon=":material/add:")


def page():
    with st.sidebar:
        chart.preload()
    scene, L = rs.load()
    first = S.get(rs.CHART_FIRST, False)
    slots, fill = (), None
    if first:  # the sidebar while the chart is drawn first (the same title: nothing moves)
        st.sidebar.markdown("## :material/landscape: Optimizer race")
        st.sidebar.caption("Loading the controls…")
    else:  # (the scene first: the ready scene's box shows what the widgets now hold)
        scene = rs.commit(rs.scene_from_widgets(scene, L))
        L = rs.landscape(scene.landscape_key())
        fill, slots = controls(scene)
    S[rs.SHOWN] = rs.shown(scene, L)
    with st.container():  # one element, whatever it holds: the chart's place stays (no remount)
        widgets.link_warnings(S.get("_warnings") or [])
        if S.get("_scene_error"):
            st.warning(S.pop("_scene_error"), icon=":material/warning:")
        info, text = presets.header(scene, L)  # the ready scene's lesson, the formula
        if info:
            st.info(info, icon=":material/school:")
        widgets.html_line(text, key="header_formula")  # (the formula as MathML: see html_line)
    S[rs.FULL] = True  # (the fragment runs as part of the page: nothing to rerun)
    try:
        race(slots)
    finally:
        S.pop(rs.FULL, None)
        if fill is not None:  # (the sidebar's own controls, after the chart)
            fill()
    if not first:
        start_warm_up()  # (after the whole page: the first visitor's controls do not wait for it)


widgets.timed("script", page, "race")
