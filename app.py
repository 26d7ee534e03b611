"""Loss-landscape explorer: the Streamlit page.

Thin on purpose: widgets <-> Scene (viz.scene), Scene -> cached runs
(viz.compute, optimizers.run) -> figure builders (viz.figures) -> st.plotly_chart.
Every number shown is computed in viz/ and testable without Streamlit.

State: ``st.session_state["_scene"]`` is this visitor's Scene (never a module
global); the URL query always encodes it.  Structural edits (a ready scene,
another landscape, adding/removing a run, another optimizer, a click on the
plot) go through callbacks that replace the Scene and rewrite the widgets'
state; every other widget is read back into the Scene at the end of a run.

Pages: ``PAGES`` at the bottom lists them; a "Sweeps" or "Real network" page
is one more ``st.Page`` there.  Nothing here is jitted (optimizers.run owns the
compiled programs, so changing a number never recompiles).
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Callable

import numpy as np
import streamlit as st

import landscapes
import optimizers
from landscapes import expression
from optimizers import schedules
from optimizers.transforms import CLIP_NORM, CLIP_VALUE, NOISE, SEED
from viz import chart, compute, defaults, export, figures, metrics, presets, widgets
from viz.scene import (CUSTOM, DEFAULT_DOMAIN, MAX_RUNS, MAX_STEPS, PANEL_TITLES, PANELS, TOL, Run,
                       Scene, clean_label, decode, encode, landscape_domain, num, short_title,
                       start_from_click, to_query_string)
from viz.network_page import network_page
from viz.sweep_page import sweep_page
from viz.chart import lr_key
from viz.widgets import ensure, md_escape, param_widget
from viz.widgets import from_widget as _from_widget
from viz.widgets import widget_value as _widget_value

# LANDSCAPE_NO_WARMUP=1 (the tests set it): no background warm-up thread and no persistent
# compile cache (no JAX configuration changed in a test process).
QUIET = bool(os.environ.get("LANDSCAPE_NO_WARMUP"))

# JAX's persistent compilation cache: a restarted server loads its programs from disk instead
# of compiling them again (measured: 4 first runs 4.4 s -> 1.4 s in a fresh process).  JAX
# skips compiles under 1 s by default; ours take 0.2-0.7 s each, hence the thresholds of 0.
if not QUIET:
    try:  # pragma: no cover - configuration only
        import jax

        jax.config.update("jax_compilation_cache_dir",
                          os.path.join(tempfile.gettempdir(), "loss-landscape-jax-cache"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except Exception:  # noqa: BLE001  (a JAX without these options: compile as usual)
        pass


# ==========================================================================================
# Cached computations (plain hashable arguments; results shared by all visitors, bounded)
# ==========================================================================================

# The cache key is the repr of the plain arguments (one string: cheap to hash); the
# underscore arguments are the same values, which Streamlit does not hash again.

@st.cache_data(max_entries=48, show_spinner=False)  # <= 48 x 2.4 MB (8 runs x 100k steps: 19 MB)
def _cached_run(key: str, _args: tuple):
    return compute.run_one(*_args)


def cached_run(landscape_key: tuple, run_key: tuple, shared_key: tuple, start: tuple, steps: int):
    args = (landscape_key, run_key, shared_key, tuple(start), int(steps))
    return _cached_run(repr(args), args)


@st.cache_data(max_entries=32, show_spinner=False)
def _cached_grid(key: str, _landscape_key: tuple):
    return compute.grid_of(_landscape_key)


def cached_grid(landscape_key: tuple):
    return _cached_grid(repr(landscape_key), landscape_key)


def landscape(key: tuple):
    """The Landscape (the core caches built-ins and formulas itself)."""
    return compute.landscape_from_key(key)


def reference(L, grid, results) -> metrics.Reference:
    """What the loss plots and the table measure from (f*, or the lowest value seen)."""
    z = grid[2]
    return metrics.reference(L, results, float(np.nanmin(z)) if np.isfinite(z).any() else None)


def scene_results(scene: Scene, L):
    start = compute.start_of(scene, L)
    return [cached_run(scene.landscape_key(), r.key(), scene.shared_key(), start, scene.steps)
            for r in scene.runs]


@st.cache_data(max_entries=32, show_spinner=False)
def _cached_picture(key: str, _landscape_key: tuple, f_star: float, known: bool):
    L = landscape(_landscape_key)
    ref = metrics.Reference(f_star, "f − f*" if known else "f − min f (estimated)", known)
    return figures.landscape_picture(L, cached_grid(_landscape_key)[2], ref)


def figure_spec(scene: Scene, results=None) -> dict:
    """The main figure's dict (``results``: the scene's runs, if the caller has them)."""
    L = landscape(scene.landscape_key())
    grid = cached_grid(scene.landscape_key())
    results = scene_results(scene, L) if results is None else results
    ref = reference(L, grid, results)
    if scene.view == "3d":
        fig = figures.surface_figure(scene, L, grid, results, scene.labels(), ref)
    else:
        key = scene.landscape_key()
        picture = _cached_picture(repr((key, ref.f_star, ref.known)), key, ref.f_star, ref.known)
        fig = figures.main_figure(scene, L, grid, results, scene.labels(), ref, picture=picture)
    return fig.spec


@st.cache_data(max_entries=24, show_spinner=False)
def main_figure_spec(query: str, _scene: Scene) -> dict:
    """The main figure's dict, keyed by the scene's (lossless) query string."""
    return figure_spec(_scene)


CHART_CONFIG = {"displaylogo": False, "scrollZoom": False,
                "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}


NOTE = ("▶ Play animates the runs; drag the slider to any step. Click anywhere on the landscape "
        "to start from there, a name above it to hide or show that run. Learning rates: just below.")


def results_table(scene: Scene, L, results) -> dict:
    """The results table (plain text cells): a row per run, in the runs' colours."""
    ref = reference(L, cached_grid(scene.landscape_key()), results)
    rows = metrics.table(results, scene.labels(), L, ref, scene.tol)
    header = ["run", "final loss", "best loss", f"steps to {ref.label} ≤ {scene.tol:g}",
              "diverged at step", "distance to global minimum"]
    cells = [[r["run"]] + [metrics.fmt_cell(r[k]) for k in
                           ("final loss", "best loss", "steps to tol", "diverged at", "final distance")]
             for r in rows]
    colors = [figures.PALETTE[i % len(figures.PALETTE)] for i in range(len(rows))]
    return {"header": header, "rows": cells, "colors": colors}


def shared_spec(query: str, scene: Scene, results) -> dict:
    """The 2-D figure of ``scene`` (named by its ``query``), built once per server (bounded;
    viz.chart.SPECS: the page's patches need the figures as dicts, and st.cache_data would hand
    out a pickled copy of ~0.6 MB each time)."""
    return chart.SPECS.get(query, lambda: figure_spec(scene, results))


@st.cache_data(max_entries=48, show_spinner=False)
def chart_extras(query: str, _scene: Scene, _results) -> dict:
    """What the chart shows under the plot: the note, the learning rates, the results table."""
    scene = _scene
    L = landscape(scene.landscape_key())
    return {"note": NOTE if scene.view != "3d" and scene.runs else "",
            "controls": chart.lr_controls(scene),
            "table": results_table(scene, L, _results) if scene.runs else None}


SENT = "_chart_sent"  # {"rev", "spec"}: the figure this page's chart was last sent


def chart_data(query: str, scene: Scene, results) -> bytes:
    """The main chart's data (viz.chart.payload) for this page: the whole figure, or a patch
    from the figure sent last (most of a change: one run's traces and frames).  The 3-D view
    draws its own figure (st.plotly_chart): this chart then shows what is under the plot."""
    extras = chart_extras(query, scene, results)
    if scene.view == "3d":
        S.pop(SENT, None)
        return chart.payload(None, rev=query, config=CHART_CONFIG, **extras)
    spec = shared_spec(query, scene, results)
    sent = S.get(SENT)
    diff = chart.patch(sent["spec"], spec) if sent else None
    S[SENT] = {"rev": query, "spec": spec}
    if diff is not None and 2 * len(diff["data"]) <= len(spec["data"]):
        return chart.payload(None, rev=query, config=CHART_CONFIG, base=sent["rev"], patch=diff, **extras)
    return chart.payload(spec, rev=query, config=CHART_CONFIG, **extras)


def on_resync():
    """The browser got a patch for a figure it does not have (it lost it): send the whole one."""
    S.pop(SENT, None)


def _warm_up():  # pragma: no cover - background thread
    """Compile the ready scenes' programs once per server process, off the request path."""
    for p in presets.PRESETS.values():
        try:
            compute.run_scene(p.scene)  # same steps (same size bucket): the very programs
            compute.grid_of(p.scene.landscape_key())
        except Exception:  # noqa: BLE001
            pass


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread | None:
    if QUIET:
        return None
    t = threading.Thread(target=_warm_up, name="warm-up", daemon=True)
    t.start()
    return t


# ==========================================================================================
# Widgets <-> Scene
# ==========================================================================================

S = st.session_state


def run_keys(i: int, run: Run) -> dict[str, object]:
    """The editor's widgets of run ``i`` (its learning rate is always on screen, see push)."""
    out = {f"run{i}_opt": run.optimizer, f"run{i}_la": run.lookahead, f"run{i}_raw": run.raw,
           f"run{i}_label": run.label}
    for p, (name, v) in zip(run.rule.hyperparams, run.hyperparams):
        out[f"run{i}_{run.optimizer}_{name}"] = _widget_value(p, v)
    return out


def widget_state(scene: Scene, L) -> dict[str, object]:
    """Every widget's value that shows ``scene`` (L: its landscape, for the default start)."""
    start = compute.start_of(scene, L)
    out: dict[str, object] = {
        "landscape": scene.landscape, "start_x": float(start[0]), "start_y": float(start[1]),
        "steps": scene.steps, "schedule": scene.schedule, "clip_kind": scene.clip,
        "clip_at": scene.clip_at, "noise": scene.noise, "seed": scene.seed, "view": scene.view,
        "panels": list(scene.panels), "tol": scene.tol, "log_steps": scene.log_steps,
        "span": tuple(scene.effective_span()),
    }
    if scene.landscape == CUSTOM:
        out["formula"] = scene.formula
        for k, v in zip(("dom_x0", "dom_x1", "dom_y0", "dom_y1"), scene.domain):
            out[k] = float(v)
    else:
        for p, (name, v) in zip(landscapes.param_specs(scene.landscape), scene.landscape_params):
            out[f"lp_{scene.landscape}_{name}"] = _widget_value(p, v)
    for p, (name, v) in zip(schedules.SCHEDULES[scene.schedule].params, scene.schedule_params):
        out[f"sched_{scene.schedule}_{name}"] = _widget_value(p, v)
    for i, run in enumerate(scene.runs):
        out[lr_key(i, run)] = run.learning_rate
    edit = edited_run(scene)
    if edit is not None:
        out.update(run_keys(edit, scene.runs[edit]))
        out["edit_run"] = edit
    return out


def edited_run(scene: Scene) -> int | None:
    """The run whose editor is open (all runs' learning rates are always shown)."""
    if not scene.runs:
        return None
    return min(max(int(S.get("edit_run") or 0), 0), len(scene.runs) - 1)


def push(scene: Scene):
    """Make ``scene`` the current one and set every widget to show it (callbacks, first run)."""
    try:
        L = landscape(scene.landscape_key())
    except ValueError as err:
        L = None
        S["_warnings"] = list(S.get("_warnings") or []) + [
            f"the formula cannot be used ({str(err)[:120]}); showing another landscape"]
    if L is None:  # a formula that parses but cannot be used: keep the old landscape
        old = S.get("_scene")
        scene = defaults.landscape_change(scene, old.landscape if old else "rosenbrock",
                                          getattr(old, "formula", ""), getattr(old, "domain", None))
        L = landscape(scene.landscape_key())
    for k in [k for k in S.keys() if isinstance(k, str) and k.startswith("run")]:
        del S[k]  # run widgets are rewritten from scratch (their indices may have shifted)
    for k, v in widget_state(scene, L).items():
        S[k] = v
    S["_scene"] = scene


def current() -> Scene:
    return S["_scene"]


# --- callbacks ----------------------------------------------------------------------------

def on_preset():
    key = S.get("scene_preset")
    if key in presets.PRESETS:
        push(presets.PRESETS[key].scene)
        S["_warnings"] = []


def on_landscape():
    name = S["landscape"]
    scene = current()
    if name == scene.landscape:
        return
    if name == CUSTOM:
        formula = S.get("formula") or expression.EXAMPLES[0][0]
        ok, _, _ = expression.check(formula)
        push(defaults.landscape_change(scene, CUSTOM, formula if ok else expression.EXAMPLES[0][0],
                                       DEFAULT_DOMAIN))
    else:
        push(defaults.landscape_change(scene, name))


def on_formula():
    text = S.get("formula", "")
    ok, msg, col = expression.check(text)
    if not ok:
        S["_formula_error"] = (text, msg, col)
        return
    scene = current().replace(formula=text, start=None)
    try:
        landscape(scene.landscape_key())
    except ValueError as err:
        S["_formula_error"] = (text, str(err), None)
        return
    S.pop("_formula_error", None)
    push(scene)


def on_example():
    choice = S.get("formula_example")
    if choice:
        S["formula"] = choice
        on_formula()
    S["formula_example"] = None


def on_domain():
    try:
        dom = tuple(float(S[k]) for k in ("dom_x0", "dom_x1", "dom_y0", "dom_y1"))
        scene = current().replace(domain=dom, start=None)
        landscape(scene.landscape_key())
    except (ValueError, KeyError) as err:
        S["_domain_error"] = str(err)
        return
    S.pop("_domain_error", None)
    push(scene)


def on_add_run():
    scene = current()
    if len(scene.runs) >= MAX_RUNS:
        return
    used = {r.optimizer for r in scene.runs}
    nxt = next((o for o in defaults.DEFAULT_OPTIMIZERS if o not in used), "adam")
    S["edit_run"] = len(scene.runs)
    push(scene.replace(runs=scene.runs + (defaults.default_run(scene.landscape, nxt),)))


def on_remove_run(i: int):
    scene = current()
    S["edit_run"] = max(i - 1, 0)
    push(scene.replace(runs=scene.runs[:i] + scene.runs[i + 1:]))


def on_edit_run():
    scene = current()
    i = edited_run(scene)
    if i is not None:
        for k, v in run_keys(i, scene.runs[i]).items():
            S[k] = v


def on_optimizer(i: int):
    scene = current()
    name = S[f"run{i}_opt"]
    old = scene.runs[i]
    run = defaults.default_run(scene.landscape, name, lookahead=old.lookahead, raw=old.raw)
    push(scene.replace(runs=scene.runs[:i] + (run,) + scene.runs[i + 1:]))


def on_steps():
    push(current().replace(steps=int(S["steps"]), span=None))


def on_reset_start():
    push(current().replace(start=None))


def on_lr():
    """A learning rate moved under the chart (checked: the message comes from the browser)."""
    for key, value in chart.lr_changes(chart.trigger(S.get("main_chart"), "lr"), current()).items():
        S[key] = value


def on_click():
    """A click on the transparent grid over the contour sets the start point."""
    scene = current()
    start = start_from_click(chart.clicked(S.get("main_chart")), landscape_domain(scene))
    if start is not None:
        push(scene.replace(start=start))
        S["_full_rerun"] = True  # the sidebar shows the start too


# --- reading the simple widgets back ------------------------------------------------------

def scene_from_widgets(scene: Scene, L) -> Scene:
    """The scene with every simple widget's current value (structural parts come from callbacks)."""
    kw = {}
    if scene.landscape != CUSTOM:
        kw["landscape_params"] = {name: _from_widget(p, S.get(f"lp_{scene.landscape}_{name}", v))
                                  for p, (name, v) in zip(landscapes.param_specs(scene.landscape),
                                                          scene.landscape_params)}
    sx, sy = float(S.get("start_x", 0.0)), float(S.get("start_y", 0.0))
    kw["start"] = None if (num(sx), num(sy)) == (num(L.start[0]), num(L.start[1])) else (sx, sy)
    runs = []
    edit = edited_run(scene)
    for i, run in enumerate(scene.runs):
        hp = run.hp
        hp["learning_rate"] = float(S.get(lr_key(i, run), run.learning_rate))
        if i != edit:  # only its learning rate is on screen
            runs.append(run.with_hp(**hp))
            continue
        la = bool(S.get(f"run{i}_la", run.lookahead))
        rule = optimizers.get(run.optimizer, lookahead=la and run.optimizer != "ranger")
        for p in rule.hyperparams:
            key = f"run{i}_{run.optimizer}_{p.name}"
            if p.name != "learning_rate" and key in S:
                hp[p.name] = _from_widget(p, S[key])
        hp = {k: v for k, v in hp.items() if k in {p.name for p in rule.hyperparams}}
        runs.append(Run(run.optimizer, hp, lookahead=la, raw=bool(S.get(f"run{i}_raw", run.raw)),
                        label=clean_label(S.get(f"run{i}_label", run.label))))
    kw["runs"] = tuple(runs)
    kind = S.get("schedule", scene.schedule)
    kw["schedule"] = kind
    kw["schedule_params"] = {p.name: _from_widget(p, S[f"sched_{kind}_{p.name}"])
                             for p in schedules.SCHEDULES[kind].params if f"sched_{kind}_{p.name}" in S}
    kw["clip"] = S.get("clip_kind", scene.clip)
    kw["clip_at"] = float(S.get("clip_at", scene.clip_at))
    kw["noise"] = float(S.get("noise", scene.noise))
    kw["seed"] = int(S.get("seed", scene.seed))
    kw["view"] = S.get("view", scene.view)
    kw["panels"] = tuple(S.get("panels", scene.panels))
    kw["tol"] = float(S.get("tol", scene.tol))
    kw["log_steps"] = bool(S.get("log_steps", scene.log_steps))
    a, b = S.get("span", scene.effective_span())
    kw["span"] = (int(a), int(b)) if int(a) < int(b) else None
    try:
        return scene.replace(**kw)
    except ValueError as err:  # e.g. a schedule whose numbers contradict each other
        S["_scene_error"] = str(err)
        return scene


# ==========================================================================================
# The sidebar: every control
# ==========================================================================================

def _title_of_landscape(name: str) -> str:
    return "✏️ Your own formula" if name == CUSTOM else landscapes.get(name).title


def controls(scene: Scene, L):
    sb = st.sidebar
    sb.markdown("## :material/landscape: Optimizer race")
    match = presets.matching(scene)
    S["scene_preset"] = match.key if match else "(yours)"
    sb.selectbox("Ready scene", ["(yours)"] + list(presets.PRESETS), key="scene_preset",
                 format_func=lambda k: "— your own scene —" if k == "(yours)" else presets.PRESETS[k].title,
                 on_change=on_preset, help="Teaching scenes: each shows one idea. Pick one, then "
                                           "change one thing at a time.")

    with sb.expander("**Landscape**", expanded=True):
        st.selectbox("Function", landscapes.names() + [CUSTOM], key="landscape",
                     format_func=_title_of_landscape, on_change=on_landscape)
        specs = () if scene.landscape == CUSTOM else landscapes.param_specs(scene.landscape)
        if scene.landscape == CUSTOM:
            formula_controls(scene)
        for p in specs:
            key = f"lp_{scene.landscape}_{p.name}"
            ensure(key, _widget_value(p, p.default))
            param_widget(p, key, st, label=p.doc.split(":")[0] if p.doc else p.name)
        c1, c2 = st.columns(2)
        (x0, x1), (y0, y1) = L.domain
        c1.number_input("start x", min_value=float(x0), max_value=float(x1), key="start_x",
                        format="%g", step=float(f"{(x1 - x0) / 100:.1g}"))
        c2.number_input("start y", min_value=float(y0), max_value=float(y1), key="start_y",
                        format="%g", step=float(f"{(y1 - y0) / 100:.1g}"))
        st.button("Reset start", key="reset_start", on_click=on_reset_start,
                  help="Back to the landscape's default start.  Tip: click on the plot to start there.")
        st.number_input("Steps", min_value=1, max_value=MAX_STEPS, step=500, key="steps",
                        on_change=on_steps, help=f"Number of updates, 1 to {MAX_STEPS:,}.")

    with sb.expander(f"**Runs** ({len(scene.runs)} of {MAX_RUNS})", expanded=True):
        st.caption("Learning rates: the sliders under the figure. Here: each run's optimizer "
                   "and its other hyperparameters.")
        edit = edited_run(scene)
        if edit is not None:
            st.radio("Edit run", list(range(len(scene.runs))), key="edit_run", horizontal=True,
                     format_func=lambda i: str(i + 1), on_change=on_edit_run)
            run = scene.runs[edit]
            widgets.run_editor(edit, run, run.label or short_title(run.optimizer), prefix="run",
                               on_optimizer=on_optimizer, on_remove_run=on_remove_run)
        st.button("Add a run", icon=":material/add:", key="add_run", on_click=on_add_run,
                  disabled=len(scene.runs) >= MAX_RUNS, width="stretch")

    # The two closed sections are popovers, not expanders: a popover's widgets are drawn only
    # when it opens (an expander's always are): ~0.06 s off a shared link's load (A/B, 6 loads).
    with sb.popover("**Schedule, clipping, noise** (shared)", icon=":material/tune:", width="stretch"):
        st.selectbox("Learning-rate schedule", schedules.schedule_names(), key="schedule",
                     format_func=lambda k: schedules.SCHEDULES[k].title)
        kind = S.get("schedule", scene.schedule)
        for p in schedules.SCHEDULES[kind].params:
            key = f"sched_{kind}_{p.name}"
            ensure(key, _widget_value(p, p.default))
            param_widget(p, key, st)
        st.radio("Gradient clipping", ["off", "value", "norm"], key="clip_kind", horizontal=True,
                 format_func={"off": "off", "value": "by value", "norm": "by norm"}.get)
        if S.get("clip_kind", "off") != "off":
            spec = CLIP_NORM if S.get("clip_kind") == "norm" else CLIP_VALUE
            param_widget(spec, "clip_at", st, label="clip at")
        st.number_input("Gradient noise σ", min_value=0.0, max_value=float(NOISE.high), step=0.1,
                        key="noise", format="%g", help=NOISE.doc)
        st.number_input("Noise seed", min_value=0, max_value=int(SEED.high), step=1, key="seed",
                        help=SEED.doc)
        st.caption("A run marked *raw* ignores clipping and noise (compare with and without).")

    with sb.popover("**View**: 2-D/3-D, side plots, steps shown", icon=":material/visibility:",
                    width="stretch"):
        st.radio("Main figure", ["2d", "3d"], key="view", horizontal=True,
                 format_func={"2d": "2-D contour (animated)", "3d": "3-D surface"}.get)
        st.multiselect("Side plots", list(PANELS), key="panels", format_func=PANEL_TITLES.get)
        st.slider("Animate steps", min_value=0, max_value=scene.steps, key="span",
                  help="The animation's step range (the figure shows the path up to its end).")
        param_widget(TOL, "tol", st, label="tolerance for 'steps to tol' (f − f*)")
        st.toggle("Logarithmic step axis", key="log_steps")


def formula_controls(scene: Scene):
    st.text_input("f(x, y) =", key="formula", on_change=on_formula, max_chars=expression.MAX_LENGTH,
                  help="x and y, numbers, + - * / ** (or ^), parentheses, pi, e and functions such "
                       "as sin, cos, exp, log, sqrt, abs, min, max, tanh. Press Enter to apply.")
    err = S.get("_formula_error")
    if err and err[0] == S.get("formula"):
        text, msg, col = err
        where = f"column {col}: " if col else ""
        caret = ("\n" + " " * (col - 1) + "^") if col else ""
        st.error(f"Not applied: {where}{msg}")
        st.code(text[:200] + caret, language=None)
    ensure("formula_example", None)
    st.selectbox("Examples", [e for e, _ in expression.EXAMPLES], key="formula_example", index=None,
                 placeholder="pick an example formula…", on_change=on_example,
                 format_func=lambda e: f"{e}  —  {dict(expression.EXAMPLES)[e]}")
    c = st.columns(4)
    for col, key, lab in zip(c, ("dom_x0", "dom_x1", "dom_y0", "dom_y1"), ("x min", "x max", "y min", "y max")):
        col.number_input(lab, min_value=-1e4, max_value=1e4, key=key, on_change=on_domain, format="%g",
                         step=0.5)
    if S.get("_domain_error"):
        st.error(f"Domain not applied: {S['_domain_error']}")


# ==========================================================================================
# The page
# ==========================================================================================

def share_url(scene: Scene) -> str:
    base = None
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001
        base = None
    query = to_query_string(scene)
    if base:
        return base.split("?")[0].split("#")[0] + "?" + query
    return "?" + query


def sync_url(scene: Scene):
    want = encode(scene)
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def header(scene: Scene, L):
    """The ready scene's title and what to watch (if it is one), the formula and its lesson."""
    match = presets.matching(scene)
    if match:
        st.info(f"**{match.title}.** {match.text}{match.claims_text()}", icon=":material/school:")
    name = "Your own function" if scene.landscape == CUSTOM else L.title
    latex = L.latex.replace("$", "") if L.latex else ""
    st.markdown(f"**{name}** &nbsp; ${latex}$ &nbsp; — {L.lesson}")


def stacked(latex: str) -> str:
    """A rule's equations one per line (they are joined by \\quad in the core)."""
    parts = [p.strip() for p in latex.replace(r"\qquad", r"\quad").split(r"\quad") if p.strip()]
    body = r" \\ ".join(parts)
    return r"\begin{gathered}" + body + r"\end{gathered}"


def rule_cards(scene: Scene):
    """Each selected optimizer's update rule: LaTeX, two sentences, its conventions.
    One markdown element per rule (every element costs a re-render in the browser)."""
    seen, rules = set(), []
    for r in scene.runs:
        rule = r.rule
        if rule.name not in seen:
            seen.add(rule.name)
            rules.append(rule)
    if not rules:
        return
    st.markdown("#### Update rules")
    for start in range(0, len(rules), 2):
        cols = st.columns(2)
        for col, rule in zip(cols, rules[start:start + 2]):
            extra = f"*Conventions.* {rule.conventions}  \n" if rule.conventions else ""
            col.container(border=True).markdown(
                f"**{rule.title}**\n\n$$\n{stacked(rule.latex)}\n$$\n\n{rule.explanation}\n\n"
                f":small[{extra}*References.* {'; '.join(rule.references)}]")


def share_and_export(scene: Scene, L, results, spec: Callable[[], dict]):
    st.markdown("#### Share and export")
    url = share_url(scene)
    c0, c1, c2 = st.columns(3)
    with c0.popover("Copy the link to this view", icon=":material/link:", width="stretch"):
        st.caption("This link reproduces the page exactly: scene, runs, settings, animation range. "
                   "Copy it with the button at the right of the box.")
        st.code(url, language=None, wrap_lines=True)
    labels = scene.labels()
    c1.download_button("Trajectories (CSV, every step)", icon=":material/download:", key="dl_csv", on_click="ignore",
                       data=lambda: export.trajectories_csv(scene, results, labels),
                       file_name="trajectories.csv", mime="text/csv", width="stretch")
    title = presets.matching(scene).title if presets.matching(scene) else L.title
    c2.download_button("Animated figure (HTML, plays offline)", icon=":material/download:", key="dl_html", on_click="ignore",
                       data=lambda: export.standalone_html(figures.SpecFigure(spec()), title,
                                                           subtitle=", ".join(labels), link=url),
                       file_name="optimizer-race.html", mime="text/html", width="stretch")


def timed(what: str, fn):
    """Run ``fn``; with LANDSCAPE_TIMING set, print its time on stderr (where a rerun's time goes)."""
    if not os.environ.get("LANDSCAPE_TIMING"):
        return fn()
    import sys
    import time

    t0 = time.perf_counter()
    try:
        return fn()
    finally:
        print(f"[timing] {what} {1e3 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr, flush=True)


def explorer():
    timed("script", _explorer)


def _explorer():
    with st.sidebar:
        chart.preload()
    if "_scene" not in S:  # a new visitor: the URL is the scene
        scene, warnings = decode(_query_lists())
        S["_warnings"] = warnings
        push(scene)
        S[CHART_FIRST] = scene.view != "3d"  # (the 3-D view's chart reports nothing)
    scene = current()
    try:
        L = landscape(scene.landscape_key())
    except ValueError as err:  # a formula that parses but cannot be plotted
        S["_warnings"] = S.get("_warnings", []) + [f"the formula cannot be used ({err}); "
                                                   "showing the default landscape"]
        push(defaults.landscape_change(scene, defaults.DEFAULT_LANDSCAPE))
        scene = current()
        L = landscape(scene.landscape_key())

    first = S.get(CHART_FIRST, False)
    if first:
        loading_controls()
    else:
        controls(scene, L)
        scene = commit(scene_from_widgets(scene, L))

    warnings = S.get("_warnings") or []
    if warnings:
        st.warning("**Some of the link could not be used; safe defaults are shown instead.**\n\n"
                   + "\n".join(f"- {md_escape(w)}" for w in warnings), icon=":material/warning:")
    if S.get("_scene_error"):
        st.warning(S.pop("_scene_error"), icon=":material/warning:")
    header(scene, L)
    race()
    if not first:
        rule_cards(current())
    start_warm_up()  # once per server process, after the first page is out


# A new visitor's first run draws the header and the chart alone, then the chart reports that
# it is drawn (viz/chart.js: the trigger "drawn", or after a few seconds if it cannot draw) and
# the whole page follows: controls, sliders, table, update rules.  Measured on a shared link in
# headless Chromium here (benchmarks/bench_page.py): the chart is drawn ~0.8 s sooner, because
# the browser's one busy thread draws the chart before the ~40 widgets instead of after.
CHART_FIRST = "_chart_first"


def loading_controls():
    """The sidebar while the chart is drawn first (the same title: nothing moves)."""
    st.sidebar.markdown("## :material/landscape: Optimizer race")
    st.sidebar.caption("Loading the controls…")


def on_drawn():
    """The chart is drawn: show the rest of the page (a fragment's callback: rerun the app)."""
    if S.pop(CHART_FIRST, False):
        S["_full_rerun"] = True


def commit(new: Scene) -> Scene:
    """Make ``new`` the current scene (a visitor's change clears the link's warnings)."""
    if new != current():
        S["_scene"] = new
        S["_warnings"] = []
    return new


@st.fragment
def race():
    """The learning-rate sliders, the figure, the table and the share/export row.

    A fragment: moving a learning rate reruns only this part (not the sidebar, the header or
    the update rules), so the page sends and redraws less.  The URL is written here."""
    timed("race", _race)


def _race():
    if S.pop("_full_rerun", False):  # a click on the plot changed the sidebar's start too
        st.rerun(scope="app")
    first = S.get(CHART_FIRST, False)  # the chart alone (see CHART_FIRST)
    scene = current()
    L = landscape(scene.landscape_key())
    if scene.runs and not first:  # the sliders' values (they are drawn below the chart)
        scene = commit(scene_from_widgets(scene, L))
    results = scene_results(scene, L)
    query = to_query_string(scene)
    # The chart first: the browser's one busy thread draws it before the other elements of
    # this fragment.  One element: the landscape with the runs and, to its right, the side
    # plots; under them the learning rates and the results table (viz/chart.py: a change
    # reruns this fragment, which sends this element and the share row).
    if scene.view == "3d":
        st.plotly_chart(figures.SpecFigure(main_figure_spec(query, scene)), key="main_chart_3d",
                        theme=None, config=CHART_CONFIG)
    chart.plotly_chart(chart_data(query, scene, results), key="main_chart", on_click=on_click,
                       on_drawn=on_drawn, on_lr=on_lr, on_resync=on_resync)
    sync_url(scene)  # (after the chart: the browser takes the new URL once it has the chart's data)
    if first:
        return
    if not scene.runs:
        st.info("No runs yet: add one in the sidebar (Add a run).", icon=":material/add:")
    share_and_export(scene, L, results, lambda: main_figure_spec(query, scene))


def _query_lists() -> dict[str, list[str]]:
    """The URL query with repeated keys kept (the decoder reports duplicates)."""
    qp = st.query_params
    return {k: qp.get_all(k) for k in qp.keys()}


PAGES = [st.Page(explorer, title="Optimizer race", icon=":material/sports_score:", url_path="race",
                 default=True),
         st.Page(sweep_page, title="Sweeps", icon=":material/grid_on:", url_path="sweeps"),
         st.Page(network_page, title="Real network", icon=":material/hub:", url_path="network")]


st.set_page_config(page_title="Loss-landscape explorer", page_icon=":material/landscape:", layout="wide",
                   initial_sidebar_state="expanded")
st.navigation(PAGES, position="hidden" if len(PAGES) == 1 else "sidebar").run()
