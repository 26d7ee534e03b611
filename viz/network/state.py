"""The network page's state (Streamlit): this visitor's NetScene in ``st.session_state["_net"]``
(never a module global), the cached training and slices, and the callbacks.

Structural edits (adding or removing a run, another optimizer, the run whose editor is
open) go through callbacks that replace the NetScene and rewrite the widgets' state; every
other widget is read back after the controls are drawn.  Every widget key starts with
``net_``, so the other pages' state is untouched."""

from __future__ import annotations

import streamlit as st

import optimizers
from landscapes import compiled
from viz.common import widgets
from viz.common.caching import MB, cached_by_key
from viz.common.progress import Progress
from viz.network import compute as nc
from viz.network import figures as nf
from viz.network.scene import CONVERGE, DEFAULT_OPTIMIZERS, MAX_RUNS, PATIENCE, SPAN, NetScene, decode, default_run
from viz.common.runs import Run

S = st.session_state
RUN = "net_run"  # the run editor's key prefix
SCHED = "net_sched"  # the schedule's widget key (its numbers: net_sched_<kind>_<name>)
HEAVY_SECONDS = 20.0  # a view estimated to need longer waits for a click


_LOADED: set[str] = set()  # the datasets this process has loaded (the first: ~1 s, scikit-learn's import)


def estimate_seconds(scene: NetScene, p: Progress) -> float:
    """``nc.estimate_seconds`` (it loads the dataset), telling ``p`` when the dataset is new here."""
    if scene.dataset not in _LOADED:
        p.update(f"Loading the {nc.DATA_NAMES.get(scene.dataset, scene.dataset)} data…")
    seconds = nc.estimate_seconds(scene)
    _LOADED.add(scene.dataset)
    return seconds


def confirmed(est: float) -> bool:
    """Whether to compute a view of ``est`` seconds now: it is light, or this visitor said yes
    to as much (``on_confirm``)."""
    return est <= HEAVY_SECONDS or est <= float(S.get("_net_budget", 0.0))


# (the keys leave the progress callbacks out: a result is a function of its key alone)
@cached_by_key("network.run", 24 * MB, key=lambda train_key, on_progress=None: repr((train_key,)))
def cached_train(train_key: tuple, on_progress=None) -> nc.NetRunResult:  # curves + <= 8 MB of weights
    return nc.train_run(train_key, on_progress)


def results_of(scene: NetScene, p: Progress | None = None) -> list[nc.NetRunResult]:
    """Every run, trained (cached); ``p`` (a progress card) hears which run is trained, whether
    its programs are being compiled, and how many of its steps are done."""
    keys, labels, out = scene.train_keys(), scene.labels(), []
    for i, (k, label) in enumerate(zip(keys, labels)):
        if p is None or cached_train.has(k):
            out.append(cached_train(k))
            continue
        head, n = f"Training run {i + 1} of {len(keys)} ({label})", len(keys)
        p.update(f"{head}…", i / n)
        with compiled.watch(lambda name: p.update(f"{head}: compiling its program…")):
            out.append(cached_train(k, lambda done: p.update(f"{head}: step {done:,} of {scene.steps:,}",
                                                             (i + done / scene.steps) / n)))
    return out


def slice_of(scene: NetScene, p: Progress) -> nc.NetSlice:
    """The slice (cached); ``p`` hears what is computed (even by another visitor) and whether
    its program is being compiled."""
    if not cached_slice.has(scene):
        p.update(f"Slicing the landscape: {_around(scene)}…")
    return cached_slice(scene, p)


def _around(scene: NetScene) -> str:
    return f"{scene.grid}×{scene.grid} losses around run {scene.center + 1}'s final weights"


@cached_by_key("network.slice", 8 * MB, key=lambda scene, p=None: repr(scene.slice_key()))
def cached_slice(scene: NetScene, p: Progress | None = None) -> nc.NetSlice:
    say = p.update if p is not None else (lambda text: None)
    with compiled.watch(lambda name: say(f"Slicing the landscape: compiling its program, then {_around(scene)}…")):
        return nc.slice_of(scene.model_key(), results_of(scene), scene.directions, scene.center,
                           scene.span, scene.grid, scene.seed)


@cached_by_key("network.race_figure", 8 * MB,
               key=lambda scene: repr((scene.train_keys(), scene.labels(), scene.target)))
def race_spec(scene: NetScene) -> dict:
    return nf.race_figure(results_of(scene), scene.labels(), scene.target).spec


@cached_by_key("network.slice_figure", 8 * MB, key=lambda scene: repr((scene.slice_key(), scene.labels())))
def slice_spec(scene: NetScene) -> dict:
    return nf.slice_figure(cached_slice(scene), scene.labels()).spec


def lr_key(i: int, run: Run) -> str:
    return f"{RUN}{i}_{run.optimizer}_learning_rate"


def widget_state(scene: NetScene) -> dict[str, object]:
    """Every widget's value that shows ``scene``."""
    out: dict[str, object] = {
        "net_data": scene.dataset, "net_layers": len(scene.hidden), "net_act": scene.activation,
        "net_batch": scene.batch_size, "net_steps": scene.steps, "net_eval": scene.eval_every,
        "net_seed": scene.seed, "net_target": scene.target,
        "net_pat_on": scene.patience is not None, "net_pat": scene.patience or int(PATIENCE.default),
        "net_conv_on": scene.converge_after is not None,
        "net_conv": scene.converge_after or int(CONVERGE.default),
        "net_dirs": scene.directions, "net_center": scene.center, "net_span_auto": scene.span is None,
        "net_span": scene.span if scene.span is not None else SPAN.default, "net_grid": scene.grid,
        **widgets.switches_widget_state(scene, "net_", SCHED)}
    for j, h in enumerate(scene.hidden):
        out[f"net_h{j}"] = h
    out.update(widgets.runs_widget_state(RUN, scene.runs, lr_key, "net_edit"))
    return out


def edited_run(scene: NetScene) -> int | None:
    return widgets.edited_run(len(scene.runs), "net_edit")


def push(scene: NetScene):
    """Make ``scene`` the current one and set every widget to show it."""
    for k in [k for k in S.keys() if isinstance(k, str) and k.startswith(RUN)]:
        del S[k]  # run widgets are rewritten from scratch (their indices may have shifted)
    for k, v in widget_state(scene).items():
        S[k] = v
    S["_net"] = scene


def current() -> NetScene:
    return S["_net"]


def load() -> NetScene:
    """This visitor's scene (a new visitor's comes from the URL), with the widgets restored
    (they forget their state when another page ran in between)."""
    if "_net" not in S:
        scene, warnings = decode(widgets.page_query())
        S["_net_warnings"] = warnings
        push(scene)
    for k, v in widget_state(current()).items():
        if k not in S:
            S[k] = v
    return current()


def commit(new: NetScene) -> NetScene:
    """Make ``new`` the current scene (a visitor's change clears the link's warnings)."""
    return widgets.commit(new, "_net", "_net_warnings")


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
    center = 0 if scene.center == i else scene.center - (scene.center > i)
    S["net_edit"] = max(i - 1, 0)
    push(scene.replace(runs=runs, center=min(center, max(len(runs) - 1, 0))))


def on_edit_run():
    widgets.reopen_editor(RUN, current().runs, "net_edit")


def on_optimizer(i: int):
    scene = current()
    old = scene.runs[i]
    run = default_run(S[f"{RUN}{i}_opt"], lookahead=old.lookahead, raw=old.raw)
    push(scene.replace(runs=scene.runs[:i] + (run,) + scene.runs[i + 1:]))


def on_reset():
    S["net_edit"] = 0
    push(NetScene())
    S["_net_warnings"] = []


def on_confirm(seconds: float):
    S["_net_budget"] = max(float(S.get("_net_budget", 0.0)), seconds)


# --- reading the simple widgets back ------------------------------------------------------

FIELDS = (("net_data", "dataset", str), ("net_act", "activation", str), ("net_batch", "batch_size", int),
          ("net_steps", "steps", int), ("net_eval", "eval_every", int), ("net_seed", "seed", int),
          ("net_target", "target", float), ("net_dirs", "directions", str), ("net_grid", "grid", int))


def scene_from_widgets(scene: NetScene) -> NetScene:
    """The scene with every simple widget's current value (structural parts come from callbacks)."""
    kw: dict[str, object] = {name: cast(S.get(key, getattr(scene, name))) for key, name, cast in FIELDS}
    kw.update(widgets.switches_from_widgets(scene, "net_", SCHED))
    layers = int(S.get("net_layers", len(scene.hidden)))
    kw["hidden"] = tuple(int(S.get(f"net_h{j}", scene.hidden[min(j, len(scene.hidden) - 1)]))
                         for j in range(layers))
    edit = edited_run(scene)
    kw["runs"] = tuple(widgets.run_from_widgets(RUN, i, run, lr_key(i, run), i == edit)
                       for i, run in enumerate(scene.runs))
    kw["patience"] = int(S["net_pat"]) if S.get("net_pat_on") else None
    kw["converge_after"] = int(S["net_conv"]) if S.get("net_conv_on") else None
    kw["center"] = min(int(S.get("net_center", scene.center)), max(len(kw["runs"]) - 1, 0))
    kw["span"] = None if S.get("net_span_auto", True) else float(S.get("net_span", SPAN.default))
    try:
        return scene.replace(**kw)
    except ValueError as err:  # e.g. a schedule whose numbers contradict each other
        S["_net_error"] = str(err)
        return scene
