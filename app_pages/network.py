"""Real network: race the optimizers on a small MLP and see its loss landscape (Li et al., 2018).

Layout only.  State, cached training and callbacks: viz/network/state.py; the training,
slices, figures and table: viz/network/ (no Streamlit)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from optimizers.transforms import NOISE
from viz.common import widgets
from viz.common.plotting import CHART_CONFIG, SpecFigure
from viz.common.progress import Progress
from viz.common.text import md_escape
from viz.common.widgets import ensure, param_widget, swatch
from viz.network import compute as nc
from viz.network import state as ns
from viz.network.scene import (ACTIVATIONS, BATCH, CONVERGE, DATASETS, GRID, MAX_LAYERS, MAX_RUNS,
                               MAX_STEPS, PATIENCE, SEED, SPAN, TARGET, UNITS, NetScene, encode,
                               to_query_string)

S = st.session_state
DATASET_TITLES = {"digits": "8x8 handwritten digits (scikit-learn, 1,797 images, 10 classes)",
                  "moons": "Two moons (generated, 1,000 points, 2 classes)",
                  "spirals": "Three spirals (generated, 900 points, 3 classes)"}
WIDTHS = (4, 8, 16, 32, 64, 128, 256)
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
EVALS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
TARGETS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 1.0)
GRIDS = (11, 21, 31, 41, 51, 61)


def _with(options, current) -> list:
    return sorted(set(options) | ({current} if current is not None else set()))


def _notched(label: str, options, key: str, **kw):
    st.select_slider(label, options=_with(options, S.get(key)), key=key, **kw)


def model_controls(scene: NetScene):
    st.selectbox("Dataset", list(DATASETS), key="net_data", format_func=DATASET_TITLES.get,
                 help="Bundled with scikit-learn or generated: nothing is downloaded.")
    st.number_input("Hidden layers", min_value=1, max_value=MAX_LAYERS, step=1, key="net_layers")
    for j in range(int(S.get("net_layers", len(scene.hidden)))):
        ensure(f"net_h{j}", scene.hidden[min(j, len(scene.hidden) - 1)])
        _notched(f"units in hidden layer {j + 1}", WIDTHS, f"net_h{j}", help=UNITS.doc)
    st.selectbox("Activation", list(ACTIVATIONS), key="net_act")
    _notched("Minibatch size", BATCHES, "net_batch", help=BATCH.doc)
    st.number_input("Steps", min_value=1, max_value=MAX_STEPS, step=100, key="net_steps",
                    help=f"Updates per run, 1 to {MAX_STEPS:,}.")
    _notched("Evaluate every … steps", EVALS, "net_eval",
             help="Loss and accuracy on the full training and validation splits, the stopping rules "
                  "and the weight snapshots (the landscape's paths) happen every this many steps.")
    st.number_input("Seed", min_value=0, max_value=int(SEED.high), step=1, key="net_seed", help=SEED.doc)


def run_controls(scene: NetScene):
    labels = scene.labels()
    for i, run in enumerate(scene.runs):
        st.markdown(swatch(i, labels[i]), unsafe_allow_html=True)
        ensure(ns.lr_key(i, run), run.learning_rate)
        param_widget(run.rule.spec("learning_rate"), ns.lr_key(i, run), st,
                     label=f"learning rate α of run {i + 1}", visibility="collapsed")
    st.button("Add a run", icon=":material/add:", key="net_add_run", on_click=ns.on_add_run,
              disabled=len(scene.runs) >= MAX_RUNS, width="stretch")


def stopping_controls():
    _notched("Target validation accuracy", TARGETS, "net_target", format_func=lambda v: f"{100 * v:g} %",
             help=TARGET.doc)
    st.toggle("Stop when validation loss stops improving", key="net_pat_on")
    if S.get("net_pat_on"):
        st.number_input("… after this many evaluations", min_value=1, max_value=int(PATIENCE.high),
                        key="net_pat", help=PATIENCE.doc)
    st.toggle("Stop when converged (at or above the target)", key="net_conv_on")
    if S.get("net_conv_on"):
        st.number_input("… for this many evaluations in a row", min_value=1,
                        max_value=int(CONVERGE.high), key="net_conv", help=CONVERGE.doc)


def slice_controls(scene: NetScene):
    labels = scene.labels()
    st.radio("Plane", ["pca", "random"], key="net_dirs", horizontal=False,
             format_func={"pca": "principal components of a run's path",
                          "random": "two random directions (filter-normalised)"}.get)
    if scene.runs:
        st.selectbox("Centre: the final weights of", list(range(len(scene.runs))), key="net_center",
                     format_func=lambda i: f"{i + 1}. {labels[i]}" if i < len(labels) else str(i + 1))
    st.toggle("Frame the paths automatically", key="net_span_auto")
    if not S.get("net_span_auto", True):
        param_widget(SPAN, "net_span", st, label="span: α, β in [−span, span]")
    _notched("Grid points per axis", GRIDS, "net_grid", help=GRID.doc)


def controls(scene: NetScene):
    sb = st.sidebar
    sb.markdown("## :material/hub: Real network")
    with sb.expander("**Data and model**", expanded=True):
        model_controls(scene)
    with sb.expander(f"**Runs** ({len(scene.runs)} of {MAX_RUNS}): learning rates", expanded=True):
        run_controls(scene)
    edit = ns.edited_run(scene)
    if edit is not None:
        with sb.expander("**Edit a run**: optimizer, hyperparameters", expanded=False):
            st.radio("Run", list(range(len(scene.runs))), key="net_edit", horizontal=True,
                     format_func=lambda i: str(i + 1), on_change=ns.on_edit_run, label_visibility="collapsed")
            widgets.run_editor(edit, scene.runs[edit], scene.labels()[edit], prefix=ns.RUN,
                               on_optimizer=ns.on_optimizer, on_remove_run=ns.on_remove_run)
    with sb.expander("**Schedule, clipping, noise** (shared)", expanded=False):
        widgets.switch_controls(scene, "net_", ns.SCHED, noise_step=0.01,
                                noise_help=NOISE.doc + " (seeded by the seed above)")
        st.caption("A run marked *raw* ignores clipping and noise (compare with and without).")
    with sb.expander("**Target and stopping rules**", expanded=False):
        stopping_controls()
    with sb.expander("**Landscape slice**", expanded=False):
        slice_controls(scene)
    sb.button("Reset this page", key="net_restart", on_click=ns.on_reset, icon=":material/restart_alt:")


def ask(scene: NetScene, est: float):
    """A heavy view (``est`` seconds of computing) waits for this visitor's click."""
    st.warning(f"This view needs about **{est:,.0f} s** of computing ({len(scene.runs)} runs of "
               f"{scene.steps:,} steps, a {'–'.join(map(str, scene.hidden))} network, a "
               f"{scene.grid}×{scene.grid} slice; compiling not counted). Fewer steps, rarer "
               "evaluations, a smaller network or grid make it faster.", icon=":material/hourglass:")
    st.button(f"Compute it (about {est:,.0f} s)", key="net_go", on_click=ns.on_confirm, args=(est,),
              type="primary")


def slice_notes(sl: nc.NetSlice, center: str):
    if sl.note:
        st.warning(md_escape(sl.note), icon=":material/info:")
    st.markdown(nc.plane_text(sl, md_escape(center)))
    if sl.kind == "pca" and sl.explained is not None:
        e1, e2 = (100 * float(v) for v in sl.explained)
        c1, c2 = st.columns(2)
        c1.metric("PC1 explains", f"{e1:.1f} %")
        c2.metric("PC2 explains", f"{e2:.1f} %")
        st.metric("Both together", f"{e1 + e2:.1f} %", help="of the variance of the centre run's "
                  "weight path (its snapshots at every evaluation)")
    st.caption(nc.plane_caption(sl))
    st.metric("Loss at the centre", f"{sl.center_loss:.3g}")
    st.metric("Training accuracy at the centre", f"{100 * sl.center_accuracy:.1f} %")
    st.caption("▶ Play animates the paths; drag the slider to any evaluation step.")


def share(scene: NetScene):
    with st.popover("Copy the link to this view", icon=":material/link:"):
        st.caption("This link reproduces the page: data, model, runs, settings and the slice.")
        st.code(widgets.share_url(to_query_string(scene)), language=None, wrap_lines=True)


def figures(scene: NetScene):
    """The race, the table and the slice (each error said, no traceback); a heavy view waits
    for a click (``ask``)."""
    try:
        with Progress("train") as p:  # (shown only when this takes a while)
            est = ns.estimate_seconds(scene, p)  # (the first one loads the dataset)
            go = ns.confirmed(est)
            results, race = (ns.results_of(scene, p), ns.race_spec(scene)) if go else (None, None)
    except ValueError as err:  # a setting the core refuses
        return st.error(f"These settings cannot be trained: {md_escape(str(err)[:300])}", icon=":material/error:")
    if not go:
        return ask(scene, est)
    st.plotly_chart(SpecFigure(race), key="net_chart_race", theme=None, config=CHART_CONFIG)
    st.table(pd.DataFrame(nc.table_rows(results, scene.labels(), scene.target)).set_index("run"))
    st.markdown("#### The loss landscape around a trained network")
    try:
        with Progress("slice") as p:
            sl, spec = ns.slice_of(scene, p), ns.slice_spec(scene)
    except ValueError as err:
        return st.error(f"The slice cannot be drawn: {md_escape(str(err)[:300])}", icon=":material/error:")
    left, right = st.columns([3, 1], vertical_alignment="top")
    left.plotly_chart(SpecFigure(spec), key="net_chart_slice", theme=None, config=CHART_CONFIG)
    with right:
        slice_notes(sl, scene.labels()[sl.center])


def page():
    scene = ns.load()
    controls(scene)
    scene = ns.commit(ns.scene_from_widgets(scene))
    widgets.sync_url(encode(scene))
    st.markdown("### Race the optimizers on a real network")
    st.markdown(nc.intro_text(scene))
    widgets.link_warnings(S.get("_net_warnings") or [], "network")
    if S.get("_net_error"):
        st.warning(md_escape(S.pop("_net_error")), icon=":material/warning:")
    if not scene.runs:
        st.info("No runs yet: add one in the sidebar (Add a run).", icon=":material/add:")
    else:
        figures(scene)
    share(scene)


widgets.timed("network page", page, "network")
