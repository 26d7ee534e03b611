"""The race page's state (Streamlit): this visitor's Scene in ``st.session_state["_scene"]``
(never a module global), the widgets that show it, and the callbacks that change it.

Structural edits (a ready scene, another landscape, adding or removing a run, another
optimizer, a click on the plot) go through callbacks that replace the Scene and rewrite the
widgets' state; every other widget is read back into the Scene (scene_from_widgets)."""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

import landscapes
from landscapes import expression
from viz.common import chart, widgets
from viz.common.chart import lr_key
from viz.common.widgets import from_widget, widget_value
from viz.race import defaults, direct, presets
from viz.race.cached import landscape, took
from viz.race.compute import start_of
from viz.common.url import num
from viz.race.link import decode
from viz.race.scene import CUSTOM, DEFAULT_DOMAIN, MAX_RUNS, Scene

S = st.session_state
RUN = "run"  # the run editor's key prefix
SCHED = "schedule"  # the schedule's widget key (its numbers: sched_<kind>_<name>)
# A new visitor's first run draws the header and the chart alone; when the chart reports that
# it is drawn (viz/common/chart.js: the trigger "drawn", or after a few seconds if it cannot
# draw) the whole page follows: the browser's one busy thread draws the chart first.
CHART_FIRST = "_chart_first"
# What the page outside the race fragments shows of the scene (see shown), and "a full run"
SHOWN, FULL = "_race_shown", "_race_full_run"


class ShareView(NamedTuple):
    """What the chart shows now, for the page's share row (drawn by the race fragment, used later: its
    downloads make their files on a click, outside any script run)."""
    scene: Scene
    L: object  # its Landscape
    query: str
    url: str  # the share link


SHARE = "_share_view"  # {"now": ShareView}: the holder the share row reads


def keep_share_view(scene: Scene, L, query: str):
    """The chart's fragment, on every run: what the share row holds from now on."""
    S.setdefault(SHARE, {})["now"] = ShareView(scene, L, query, widgets.share_url(query))


def widget_state(scene: Scene, L) -> dict[str, object]:
    """Every widget's value that shows ``scene``, and the start's (no widget: the chart's own
    inputs show it; L: the landscape, for its default start)."""
    start = start_of(scene, L)
    out: dict[str, object] = {
        "landscape": scene.landscape, "start_x": float(start[0]), "start_y": float(start[1]),
        "steps": scene.steps, "seed": scene.seed, "view": scene.view, "panels": list(scene.panels),
        "tol": scene.tol, "log_steps": scene.log_steps, "span": tuple(scene.effective_span()),
        **widgets.switches_widget_state(scene, "", SCHED)}
    if scene.landscape == CUSTOM:
        out["formula"] = scene.formula
        for k, v in zip(("dom_x0", "dom_x1", "dom_y0", "dom_y1"), scene.domain):
            out[k] = float(v)
    else:
        for p, (name, v) in zip(landscapes.param_specs(scene.landscape), scene.landscape_params):
            out[f"lp_{scene.landscape}_{name}"] = widget_value(p, v)
    out.update(widgets.runs_widget_state(RUN, scene.runs, lr_key, "edit_run"))
    return out


def edited_run(scene: Scene) -> int | None:
    """The run whose editor is open (all runs' learning rates are always shown)."""
    return widgets.edited_run(len(scene.runs), "edit_run")


def push(scene: Scene):
    """Make ``scene`` the current one and set every widget to show it (callbacks, first run)."""
    try:
        L = landscape(scene.landscape_key())
    except ValueError as err:  # a formula that parses but cannot be used: keep the old landscape
        S["_warnings"] = list(S.get("_warnings") or []) + [
            f"the formula cannot be used ({str(err)[:120]}); showing another landscape"]
        old = S.get("_scene")
        scene = defaults.landscape_change(scene, old.landscape if old else "rosenbrock",
                                          getattr(old, "formula", ""), getattr(old, "domain", None))
        L = landscape(scene.landscape_key())
    for k in [k for k in S.keys() if isinstance(k, str) and k.startswith(RUN)]:
        del S[k]  # run widgets are rewritten from scratch (their indices may have shifted)
    for k, v in widget_state(scene, L).items():
        S[k] = v
    S["_scene"] = scene


# the widgets the race fragments draw (app_pages/race.py: view_controls), lp_<landscape>_<name>,
# the start, the steps and the landscape's parameters (no widgets: the chart's own inputs show them)
RACE_KEYS = frozenset({"start_x", "start_y", "steps", "span", "view", "panels", "tol", "log_steps"})


def push_race(scene: Scene):
    """Make ``scene`` the current one after a change the chart's fragment makes alone (the start,
    the steps): only the fragment's widgets are set to show it (a fragment's rerun draws no
    other widget, and theirs do not change)."""
    for k, v in widget_state(scene, landscape(scene.landscape_key())).items():
        if k in RACE_KEYS or k.startswith("lp_"):
            S[k] = v
    S["_scene"] = scene


def current() -> Scene:
    return S["_scene"]


def load() -> tuple[Scene, object]:
    """This visitor's scene and its landscape: a new visitor's comes from the URL."""
    if "_scene" not in S:
        scene, warnings = decode(widgets.page_query())
        S["_warnings"] = warnings
        push(scene)
        S[CHART_FIRST] = scene.view != "3d"  # (the 3-D view's chart reports nothing)
    scene = current()
    try:
        return scene, landscape(scene.landscape_key())
    except ValueError as err:  # a formula that parses but cannot be plotted
        S["_warnings"] = S.get("_warnings", []) + [f"the formula cannot be used ({err}); "
                                                   "showing the default landscape"]
        push(defaults.landscape_change(scene, defaults.DEFAULT_LANDSCAPE))
        return current(), landscape(current().landscape_key())


def shown(scene: Scene, L):
    """What the page outside the race fragments shows of ``scene``: the header, whether the
    link's warnings are up."""
    return presets.header(scene, L), bool(S.get("_warnings"))


def committed() -> tuple[Scene, object]:
    """In a race fragment: the scene as the widgets now hold it, and its landscape.  When the
    page outside the fragment would show it otherwise (``shown``), the whole page reruns (not
    in a full run: S[FULL])."""
    scene = current()
    scene = commit(scene_from_widgets(scene, landscape(scene.landscape_key())))
    L = landscape(scene.landscape_key())
    if not S.get(FULL) and shown(scene, L) != S.get(SHOWN):
        st.rerun(scope="app")
    return scene, L


def commit(new: Scene) -> Scene:
    """Make ``new`` the current scene (a visitor's change clears the link's warnings)."""
    return widgets.commit(new, "_scene", "_warnings")


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
    if len(scene.runs) < MAX_RUNS:
        S["edit_run"] = len(scene.runs)
        push(defaults.with_run_added(scene))


def on_remove_run(i: int):
    scene = current()
    S["edit_run"] = max(i - 1, 0)
    push(scene.replace(runs=scene.runs[:i] + scene.runs[i + 1:]))


def on_chart_runs():
    """A run added or removed by the chart's own buttons (its trigger "add" or "remove", read
    as the direct route reads it): as the sidebar's buttons, then the whole page (the run
    editor and the rules are outside the chart's fragment, which a chart's trigger reruns)."""
    for kind in ("add", "remove"):
        value = chart.trigger(S.get("main_chart"), kind)
        new = direct.changed(current(), kind, value) if value is not None else None
        if new is not None:
            took(value)
            old = current()
            if kind == "add":
                S["edit_run"] = len(old.runs)
            else:
                S["edit_run"] = max(direct.removed(old, value) - 1, 0)
            push(new)
            S["_full_rerun"] = True


def on_edit_run():
    widgets.reopen_editor(RUN, current().runs, "edit_run")


def on_optimizer(i: int):
    scene = current()
    old = scene.runs[i]
    run = defaults.default_run(scene.landscape, S[f"{RUN}{i}_opt"], lookahead=old.lookahead, raw=old.raw)
    push(scene.replace(runs=scene.runs[:i] + (run,) + scene.runs[i + 1:]))


def on_steps():
    """The steps typed under the chart (checked: the message comes from the browser)."""
    _changed_in_chart("steps")


def on_param():
    """A landscape parameter changed under the chart (checked: the message comes from the browser)."""
    _changed_in_chart("param")


def on_start():
    """A start typed (or reset) under the chart (checked: the message comes from the browser)."""
    _changed_in_chart("start")


def on_lr():
    """A learning rate moved under the chart (checked: the message comes from the browser)."""
    asked = chart.trigger(S.get("main_chart"), "lr")
    took(asked)
    for key, value in chart.lr_changes(asked, current()).items():
        S[key] = value


def on_click():
    """A click on the transparent grid over the contour sets the start point."""
    _changed_in_chart("click")


def _changed_in_chart(kind: str):
    """The chart's trigger ``kind`` ("start", "click", "steps" or "param") read as the direct route reads it
    (``direct.changed``: the same checks, the same scene)."""
    value = chart.trigger(S.get("main_chart"), kind)
    took(value)
    new = direct.changed(current(), kind, value)
    if new is not None:
        push_race(new)


def on_drawn():
    """The chart is drawn: show the rest of the page (a fragment's callback: rerun the app)."""
    if S.pop(CHART_FIRST, False):
        S["_full_rerun"] = True


# --- reading the simple widgets back ------------------------------------------------------

def scene_from_widgets(scene: Scene, L) -> Scene:
    """The scene with every simple widget's current value (structural parts come from callbacks)."""
    kw = widgets.switches_from_widgets(scene, "", SCHED)
    if scene.landscape != CUSTOM:
        kw["landscape_params"] = {name: from_widget(p, S.get(f"lp_{scene.landscape}_{name}", v))
                                  for p, (name, v) in zip(landscapes.param_specs(scene.landscape),
                                                          scene.landscape_params)}
    sx, sy = float(S.get("start_x", 0.0)), float(S.get("start_y", 0.0))
    kw["start"] = None if (num(sx), num(sy)) == (num(L.start[0]), num(L.start[1])) else (sx, sy)
    edit = edited_run(scene)
    kw["runs"] = tuple(widgets.run_from_widgets(RUN, i, run, lr_key(i, run), i == edit)
                       for i, run in enumerate(scene.runs))
    kw["steps"] = int(S.get("steps", scene.steps))  # (no widget: the chart's own input shows it)
    if kw["steps"] != scene.steps:  # the animation's range goes back to every step (as on_steps does)
        S["span"] = (0, kw["steps"])
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
