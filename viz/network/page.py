"""The "Real network" page: race the optimizers on a small MLP and see its loss landscape.

Thin on purpose: widgets <-> NetScene (viz.network.scene) <-> st.query_params;
NetScene -> cached training and slice (viz.network.compute, which calls
optimizers.train and landscapes.network) -> figure builders
(viz.network.figures) -> st.plotly_chart.  Every number shown is computed in
viz/ and testable without Streamlit.  Nothing here is jitted.

State: ``st.session_state["_net"]`` is this visitor's NetScene (never a module
global); the URL query always encodes it.  Structural edits (adding or
removing a run, another optimizer, the run whose editor is open) go through
callbacks that replace the NetScene and rewrite the widgets' state; every
other widget is read back into the NetScene after the controls are drawn.
Every widget key starts with ``net_``, so the other pages' state is untouched.
"""

from __future__ import annotations

import math
import os
import sys
import time

import streamlit as st

import optimizers
from optimizers import schedules
from optimizers.transforms import CLIP_NORM, CLIP_VALUE, NOISE
from viz.network import compute as nc
from viz.network import figures as nf
from viz.race.figures import SpecFigure
from viz.network.scene import (ACTIVATIONS, BATCH, CONVERGE, DATASETS, DEFAULT_OPTIMIZERS, GRID,
                               MAX_LAYERS, MAX_RUNS, MAX_STEPS, PATIENCE, SEED, SPAN, TARGET, UNITS,
                               NetScene, decode, default_run, encode, to_query_string)
from viz.common import widgets
from viz.race.scene import Run, clean_label
from viz.common.widgets import ensure, md_escape, param_widget
from viz.common.widgets import from_widget as _from_widget
from viz.common.widgets import swatch as _swatch
from viz.common.widgets import widget_value as _widget_value

S = st.session_state
DATASET_TITLES = {"digits": "8x8 handwritten digits (scikit-learn, 1,797 images, 10 classes)",
                  "moons": "Two moons (generated, 1,000 points, 2 classes)",
                  "spirals": "Three spirals (generated, 900 points, 3 classes)"}
WIDTHS = (4, 8, 16, 32, 64, 128, 256)
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
EVALS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
TARGETS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 1.0)
GRIDS = (11, 21, 31, 41, 51, 61)


# ==========================================================================================
# Cached computations (plain hashable keys; results shared by all visitors, bounded)
# ==========================================================================================

# The cache key is the repr of the plain key (one string, cheap to hash); the underscore
# argument carries the same value, which Streamlit does not hash again.

@st.cache_data(max_entries=36, show_spinner=False)
def _cached_train(key: str, _train_key: tuple) -> nc.NetRunResult:
    return nc.train_run(_train_key)


def cached_train(train_key: tuple) -> nc.NetRunResult:
    return _cached_train(repr(train_key), train_key)


def results_of(scene: NetScene) -> list[nc.NetRunResult]:
    return [cached_train(k) for k in scene.train_keys()]


@st.cache_data(max_entries=12, show_spinner=False)
def _cached_slice(key: str, _scene: NetScene) -> nc.NetSlice:
    return nc.slice_of(_scene.model_key(), results_of(_scene), _scene.directions, _scene.center,
                       _scene.span, _scene.grid, _scene.seed)


def cached_slice(scene: NetScene) -> nc.NetSlice:
    return _cached_slice(repr(scene.slice_key()), scene)


@st.cache_data(max_entries=16, show_spinner=False)
def _race_spec(key: str, _scene: NetScene) -> dict:
    return nf.race_figure(results_of(_scene), _scene.labels(), _scene.target).spec


@st.cache_data(max_entries=16, show_spinner=False)
def _slice_spec(key: str, _scene: NetScene) -> dict:
    return nf.slice_figure(cached_slice(_scene), _scene.labels()).spec


def race_spec(scene: NetScene) -> dict:
    return _race_spec(repr((scene.train_keys(), scene.labels(), scene.target)), scene)


def slice_spec(scene: NetScene) -> dict:
    return _slice_spec(repr((scene.slice_key(), scene.labels())), scene)


# ==========================================================================================
# Widgets <-> NetScene
# ==========================================================================================

def _with(options, current) -> list:
    return sorted(set(options) | ({current} if current is not None else set()))


def lr_key(i: int, run: Run) -> str:
    return f"net_run{i}_{run.optimizer}_learning_rate"


def run_keys(i: int, run: Run) -> dict[str, object]:
    """The editor's widgets of run ``i``."""
    out = {f"net_run{i}_opt": run.optimizer, f"net_run{i}_la": run.lookahead, f"net_run{i}_raw": run.raw,
           f"net_run{i}_label": run.label}
    for p, (name, v) in zip(run.rule.hyperparams, run.hyperparams):
        out[f"net_run{i}_{run.optimizer}_{name}"] = _widget_value(p, v)
    return out


def widget_state(scene: NetScene) -> dict[str, object]:
    """Every widget's value that shows ``scene``."""
    out: dict[str, object] = {
        "net_data": scene.dataset, "net_layers": len(scene.hidden), "net_act": scene.activation,
        "net_batch": scene.batch_size, "net_steps": scene.steps, "net_eval": scene.eval_every,
        "net_seed": scene.seed, "net_sched": scene.schedule, "net_clip_kind": scene.clip,
        "net_clip_at": scene.clip_at, "net_noise": scene.noise, "net_target": scene.target,
        "net_pat_on": scene.patience is not None, "net_pat": scene.patience or int(PATIENCE.default),
        "net_conv_on": scene.converge_after is not None,
        "net_conv": scene.converge_after or int(CONVERGE.default),
        "net_dirs": scene.directions, "net_center": scene.center, "net_span_auto": scene.span is None,
        "net_span": scene.span if scene.span is not None else SPAN.default, "net_grid": scene.grid,
    }
    for j, h in enumerate(scene.hidden):
        out[f"net_h{j}"] = h
    for p, (name, v) in zip(schedules.SCHEDULES[scene.schedule].params, scene.schedule_params):
        out[f"net_sched_{scene.schedule}_{name}"] = _widget_value(p, v)
    for i, run in enumerate(scene.runs):
        out[lr_key(i, run)] = run.learning_rate
    edit = edited_run(scene)
    if edit is not None:
        out.update(run_keys(edit, scene.runs[edit]))
        out["net_edit"] = edit
    return out


def edited_run(scene: NetScene) -> int | None:
    if not scene.runs:
        return None
    return min(max(int(S.get("net_edit") or 0), 0), len(scene.runs) - 1)


def push(scene: NetScene):
    """Make ``scene`` the current one and set every widget to show it."""
    for k in [k for k in S.keys() if isinstance(k, str) and k.startswith("net_run")]:
        del S[k]  # run widgets are rewritten from scratch (their indices may have shifted)
    for k, v in widget_state(scene).items():
        S[k] = v
    S["_net"] = scene


def restore(scene: NetScene):
    """Widgets forget their state when another page ran in between: give it back."""
    for k, v in widget_state(scene).items():
        if k not in S:
            S[k] = v


def current() -> NetScene:
    return S["_net"]


# --- callbacks ----------------------------------------------------------------------------

def on_add_run():
    scene = current()
    if len(scene.runs) >= MAX_RUNS:
        return
    used = {r.optimizer for r in scene.runs}
    nxt = next((o for o in DEFAULT_OPTIMIZERS + tuple(optimizers.names()) if o not in used), "adam")
    S["net_edit"] = len(scene.runs)
    push(scene.replace(runs=scene.runs + (default_run(nxt),)))


def on_remove_run(i: int):
    scene = current()
    runs = scene.runs[:i] + scene.runs[i + 1:]
    center = scene.center
    if center == i:
        center = 0
    elif center > i:
        center -= 1
    S["net_edit"] = max(i - 1, 0)
    push(scene.replace(runs=runs, center=min(center, max(len(runs) - 1, 0))))


def on_edit_run():
    scene = current()
    i = edited_run(scene)
    if i is not None:
        for k, v in run_keys(i, scene.runs[i]).items():
            S[k] = v


def on_optimizer(i: int):
    scene = current()
    old = scene.runs[i]
    run = default_run(S[f"net_run{i}_opt"], lookahead=old.lookahead, raw=old.raw)
    push(scene.replace(runs=scene.runs[:i] + (run,) + scene.runs[i + 1:]))


def on_reset():
    S["net_edit"] = 0
    push(NetScene())
    S["_net_warnings"] = []


# --- reading the simple widgets back ------------------------------------------------------

def scene_from_widgets(scene: NetScene) -> NetScene:
    """The scene with every simple widget's current value (structural parts come from callbacks)."""
    kw: dict[str, object] = {}
    layers = int(S.get("net_layers", len(scene.hidden)))
    kw["hidden"] = tuple(int(S.get(f"net_h{j}", scene.hidden[min(j, len(scene.hidden) - 1)]))
                         for j in range(layers))
    for key, name, cast in (("net_data", "dataset", str), ("net_act", "activation", str),
                            ("net_batch", "batch_size", int), ("net_steps", "steps", int),
                            ("net_eval", "eval_every", int), ("net_seed", "seed", int),
                            ("net_clip_kind", "clip", str), ("net_clip_at", "clip_at", float),
                            ("net_noise", "noise", float), ("net_target", "target", float),
                            ("net_dirs", "directions", str), ("net_grid", "grid", int)):
        kw[name] = cast(S.get(key, getattr(scene, name)))
    runs = []
    edit = edited_run(scene)
    for i, run in enumerate(scene.runs):
        hp = run.hp
        hp["learning_rate"] = float(S.get(lr_key(i, run), run.learning_rate))
        if i != edit:
            runs.append(run.with_hp(**hp))
            continue
        la = bool(S.get(f"net_run{i}_la", run.lookahead))
        rule = optimizers.get(run.optimizer, lookahead=la and run.optimizer != "ranger")
        for p in rule.hyperparams:
            key = f"net_run{i}_{run.optimizer}_{p.name}"
            if p.name != "learning_rate" and key in S:
                hp[p.name] = _from_widget(p, S[key])
        hp = {k: v for k, v in hp.items() if k in {p.name for p in rule.hyperparams}}
        runs.append(Run(run.optimizer, hp, lookahead=la, raw=bool(S.get(f"net_run{i}_raw", run.raw)),
                        label=clean_label(S.get(f"net_run{i}_label", run.label))))
    kw["runs"] = tuple(runs)
    kind = S.get("net_sched", scene.schedule)
    kw["schedule"] = kind
    kw["schedule_params"] = {p.name: _from_widget(p, S[f"net_sched_{kind}_{p.name}"])
                             for p in schedules.SCHEDULES[kind].params if f"net_sched_{kind}_{p.name}" in S}
    kw["patience"] = int(S["net_pat"]) if S.get("net_pat_on") else None
    kw["converge_after"] = int(S["net_conv"]) if S.get("net_conv_on") else None
    kw["center"] = min(int(S.get("net_center", scene.center)), max(len(runs) - 1, 0))
    kw["span"] = None if S.get("net_span_auto", True) else float(S.get("net_span", SPAN.default))
    try:
        return scene.replace(**kw)
    except ValueError as err:  # e.g. a schedule whose numbers contradict each other
        S["_net_error"] = str(err)
        return scene


# ==========================================================================================
# The sidebar: every control
# ==========================================================================================

def controls(scene: NetScene):
    sb = st.sidebar
    sb.markdown("## :material/hub: Real network")
    with sb.expander("**Data and model**", expanded=True):
        st.selectbox("Dataset", list(DATASETS), key="net_data", format_func=DATASET_TITLES.get,
                     help="Bundled with scikit-learn or generated: nothing is downloaded.")
        st.number_input("Hidden layers", min_value=1, max_value=MAX_LAYERS, step=1, key="net_layers")
        layers = int(S.get("net_layers", len(scene.hidden)))
        for j in range(layers):
            key = f"net_h{j}"
            ensure(key, scene.hidden[min(j, len(scene.hidden) - 1)])
            st.select_slider(f"units in hidden layer {j + 1}", options=_with(WIDTHS, S.get(key)), key=key,
                             help=UNITS.doc)
        st.selectbox("Activation", list(ACTIVATIONS), key="net_act")
        st.select_slider("Minibatch size", options=_with(BATCHES, S.get("net_batch")), key="net_batch",
                         help=BATCH.doc)
        st.number_input("Steps", min_value=1, max_value=MAX_STEPS, step=100, key="net_steps",
                        help=f"Updates per run, 1 to {MAX_STEPS:,}.")
        st.select_slider("Evaluate every … steps", options=_with(EVALS, S.get("net_eval")), key="net_eval",
                         help="Loss and accuracy on the full training and validation splits, the "
                              "stopping rules and the weight snapshots (the landscape's paths) "
                              "happen every this many steps.")
        st.number_input("Seed", min_value=0, max_value=int(SEED.high), step=1, key="net_seed", help=SEED.doc)

    with sb.expander(f"**Runs** ({len(scene.runs)} of {MAX_RUNS}): learning rates", expanded=True):
        labels = scene.labels()
        for i, run in enumerate(scene.runs):
            st.markdown(_swatch(i, labels[i]), unsafe_allow_html=True)
            key = lr_key(i, run)
            ensure(key, run.learning_rate)
            param_widget(run.rule.spec("learning_rate"), key, st, label=f"learning rate α of run {i + 1}",
                         visibility="collapsed")
        st.button("Add a run", icon=":material/add:", key="net_add_run", on_click=on_add_run,
                  disabled=len(scene.runs) >= MAX_RUNS, width="stretch")
    edit = edited_run(scene)
    if edit is not None:
        with sb.expander("**Edit a run**: optimizer, hyperparameters", expanded=False):
            st.radio("Run", list(range(len(scene.runs))), key="net_edit", horizontal=True,
                     format_func=lambda i: str(i + 1), on_change=on_edit_run, label_visibility="collapsed")
            widgets.run_editor(edit, scene.runs[edit], scene.labels()[edit], prefix="net_run",
                               on_optimizer=on_optimizer, on_remove_run=on_remove_run)

    with sb.expander("**Schedule, clipping, noise** (shared)", expanded=False):
        st.selectbox("Learning-rate schedule", schedules.schedule_names(), key="net_sched",
                     format_func=lambda k: schedules.SCHEDULES[k].title)
        kind = S.get("net_sched", scene.schedule)
        for p in schedules.SCHEDULES[kind].params:
            key = f"net_sched_{kind}_{p.name}"
            ensure(key, _widget_value(p, p.default))
            param_widget(p, key, st)
        st.radio("Gradient clipping", ["off", "value", "norm"], key="net_clip_kind", horizontal=True,
                 format_func={"off": "off", "value": "by value", "norm": "by norm"}.get)
        if S.get("net_clip_kind", "off") != "off":
            spec = CLIP_NORM if S.get("net_clip_kind") == "norm" else CLIP_VALUE
            param_widget(spec, "net_clip_at", st, label="clip at")
        st.number_input("Gradient noise σ", min_value=0.0, max_value=float(NOISE.high), step=0.01,
                        key="net_noise", format="%g", help=NOISE.doc + " (seeded by the seed above)")
        st.caption("A run marked *raw* ignores clipping and noise (compare with and without).")

    with sb.expander("**Target and stopping rules**", expanded=False):
        st.select_slider("Target validation accuracy", options=_with(TARGETS, S.get("net_target")),
                         key="net_target", format_func=lambda v: f"{100 * v:g} %", help=TARGET.doc)
        st.toggle("Stop when validation loss stops improving", key="net_pat_on")
        if S.get("net_pat_on"):
            st.number_input("… after this many evaluations", min_value=1, max_value=int(PATIENCE.high),
                            key="net_pat", help=PATIENCE.doc)
        st.toggle("Stop when converged (at or above the target)", key="net_conv_on")
        if S.get("net_conv_on"):
            st.number_input("… for this many evaluations in a row", min_value=1,
                            max_value=int(CONVERGE.high), key="net_conv", help=CONVERGE.doc)

    with sb.expander("**Landscape slice**", expanded=False):
        st.radio("Plane", ["pca", "random"], key="net_dirs", horizontal=False,
                 format_func={"pca": "principal components of a run's path",
                              "random": "two random directions (filter-normalised)"}.get)
        if scene.runs:
            st.selectbox("Centre: the final weights of", list(range(len(scene.runs))), key="net_center",
                         format_func=lambda i: f"{i + 1}. {labels[i]}" if i < len(labels) else str(i + 1))
        st.toggle("Frame the paths automatically", key="net_span_auto")
        if not S.get("net_span_auto", True):
            param_widget(SPAN, "net_span", st, label="span: α, β in [−span, span]")
        st.select_slider("Grid points per axis", options=_with(GRIDS, S.get("net_grid")), key="net_grid",
                         help=GRID.doc)
    sb.button("Reset this page", key="net_restart", on_click=on_reset, icon=":material/restart_alt:")


# ==========================================================================================
# The page
# ==========================================================================================

def _query_lists() -> dict[str, list[str]]:
    qp = st.query_params
    return {k: qp.get_all(k) for k in qp.keys()}


def sync_url(scene: NetScene):
    want = encode(scene)
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def share_url(scene: NetScene) -> str:
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001
        base = None
    query = to_query_string(scene)
    if base:
        return base.split("?")[0].split("#")[0] + "?" + query
    return "?" + query


def _cell(v, kind: str = "num") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, str):
        return v
    if kind == "pct":
        return f"{100 * v:.1f} %"
    if kind == "int":
        return f"{int(v):,}"
    if kind == "sec":
        return f"{v:.3f}"
    return f"{v:.4g}"


def table(scene: NetScene, results):
    import pandas as pd

    rows = nc.summary_rows(results, scene.labels(), scene.target)
    tkey = next(k for k in rows[0] if k.startswith("steps to"))
    shown = [{"run": r["run"], "train loss": _cell(r["train loss"]), "val loss": _cell(r["val loss"]),
              "train acc": _cell(r["train acc"], "pct"), "val acc": _cell(r["val acc"], "pct"),
              "best val acc": _cell(r["best val acc"], "pct"),
              f"steps to {100 * scene.target:g} % val acc": _cell(r[tkey], "int"),
              "stopped at": _cell(r["stopped at"]),
              "training time (s)": _cell(r["wall time (s)"], "sec"),
              "compile (s)": _cell(r["compile (s)"], "sec")} for r in rows]
    st.table(pd.DataFrame(shown).set_index("run"))


HEAVY_SECONDS = 20.0  # a view estimated to need longer waits for a click


def on_confirm(seconds: float):
    S["_net_budget"] = max(float(S.get("_net_budget", 0.0)), seconds)


def confirmed(scene: NetScene) -> bool:
    """Whether to compute ``scene`` now: it is light, or this visitor said yes to as much."""
    est = nc.estimate_seconds(scene)
    if est <= HEAVY_SECONDS or est <= float(S.get("_net_budget", 0.0)):
        return True
    st.warning(f"This view needs about **{est:,.0f} s** of computing ({len(scene.runs)} runs of "
               f"{scene.steps:,} steps, a {'–'.join(map(str, scene.hidden))} network, a "
               f"{scene.grid}×{scene.grid} slice; compiling not counted). Fewer steps, rarer "
               "evaluations, a smaller network or grid make it faster.", icon=":material/hourglass:")
    st.button(f"Compute it (about {est:,.0f} s)", key="net_go", on_click=on_confirm, args=(est,),
              type="primary")
    return False


CONFIG = {"displaylogo": False, "scrollZoom": False,
          "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}


def network_page():
    """The page function (``st.Page(network_page, ...)``)."""
    if os.environ.get("LANDSCAPE_TIMING"):  # a line per run on stderr: where a rerun's time goes
        t0 = time.perf_counter()
        _network_page()
        print(f"[timing] network page {1e3 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr, flush=True)
    else:
        _network_page()


def _network_page():
    if "_net" not in S:  # a new visitor: the URL is the scene
        scene, warnings = decode(_query_lists())
        S["_net_warnings"] = warnings
        push(scene)
    scene = current()
    restore(scene)

    controls(scene)
    new = scene_from_widgets(scene)
    if new != scene:
        S["_net"] = new
        S["_net_warnings"] = []
        scene = new
    sync_url(scene)

    st.markdown("### Race the optimizers on a real network")
    n_train = {"digits": "8x8 digits", "moons": "two moons", "spirals": "three spirals"}[scene.dataset]
    arch = "–".join(str(h) for h in scene.hidden)
    st.markdown(f"A small MLP ({arch} {scene.activation} units) learns to classify **{n_train}**, "
                f"{scene.steps:,} steps of minibatches of {scene.batch_size}; every run starts from the "
                f"same weights (seed {scene.seed}) and sees the same batches.")
    warnings = S.get("_net_warnings") or []
    if warnings:
        st.warning("**Some of the link could not be used; safe defaults are shown instead.**\n\n"
                   + "\n".join(f"- {md_escape(w)}" for w in warnings), icon=":material/warning:")
    if S.get("_net_error"):
        st.warning(md_escape(S.pop("_net_error")), icon=":material/warning:")
    if not scene.runs:
        st.info("No runs yet: add one in the sidebar (Add a run).", icon=":material/add:")
        share(scene)
        return

    if not confirmed(scene):
        share(scene)
        return
    try:
        with st.spinner(f"Training {len(scene.runs)} runs (a new optimizer or architecture compiles "
                        "once, a few seconds)…", show_time=True):
            results = results_of(scene)
            race = race_spec(scene)
    except ValueError as err:  # a setting the core refuses: say so, no traceback
        st.error(f"These settings cannot be trained: {md_escape(str(err)[:300])}", icon=":material/error:")
        share(scene)
        return
    st.plotly_chart(SpecFigure(race), key="net_chart_race", theme=None, config=CONFIG)
    table(scene, results)

    st.markdown("#### The loss landscape around a trained network")
    try:
        with st.spinner("Slicing the landscape…", show_time=True):
            sl = cached_slice(scene)
            spec = slice_spec(scene)
    except ValueError as err:
        st.error(f"The slice cannot be drawn: {md_escape(str(err)[:300])}", icon=":material/error:")
        share(scene)
        return
    labels = scene.labels()
    left, right = st.columns([3, 1], vertical_alignment="top")
    left.plotly_chart(SpecFigure(spec), key="net_chart_slice", theme=None, config=CONFIG)
    with right:
        slice_notes(scene, sl, labels)
    share(scene)


def slice_notes(scene: NetScene, sl: nc.NetSlice, labels):
    center = labels[sl.center]
    if sl.note:
        st.warning(md_escape(sl.note), icon=":material/info:")
    if sl.kind == "pca" and sl.explained is not None:
        e1, e2 = (100 * float(v) for v in sl.explained)
        st.markdown(f"**Plane:** the first two principal components of **{md_escape(center)}**'s "
                    "weight path (Li et al., 2018, §7).")
        c1, c2 = st.columns(2)
        c1.metric("PC1 explains", f"{e1:.1f} %")
        c2.metric("PC2 explains", f"{e2:.1f} %")
        st.metric("Both together", f"{e1 + e2:.1f} %", help="of the variance of the centre run's "
                  "weight path (its snapshots at every evaluation)")
        st.caption("The path of the centre run lies almost in this plane and ends at the star. "
                   "Other runs are projected into it: their true loss can be lower than the "
                   "contour under them (they end outside the plane).")
    else:
        st.markdown(f"**Plane:** two filter-normalised random directions (Li et al., 2018, §4) around "
                    f"the final weights of **{md_escape(center)}**.")
        st.caption("Random directions in thousands of dimensions are almost orthogonal to any "
                   "path, so the projected paths stay near the centre: the plane shows the "
                   "shape of the basin, not the route to it.  Pick *principal components* to "
                   "see the route.")
    st.metric("Loss at the centre", f"{sl.center_loss:.3g}")
    st.metric("Training accuracy at the centre", f"{100 * sl.center_accuracy:.1f} %")
    st.caption("▶ Play animates the paths; drag the slider to any evaluation step.")


def share(scene: NetScene):
    with st.popover("Copy the link to this view", icon=":material/link:"):
        st.caption("This link reproduces the page: data, model, runs, settings and the slice.")
        st.code(share_url(scene), language=None, wrap_lines=True)
