"""The race page's main chart: a small Streamlit component around Plotly's basic bundle.

Not ``st.plotly_chart``: that loads the whole of Plotly.js (4.7 MB); the 2-D figure needs only
what the basic bundle (1.2 MB, ``static/plotly-basic.min.js``, Plotly.js 4.1.1 as plotly.py
7.1.0 ships) has.  The 3-D view and the other pages keep ``st.plotly_chart``.  The bundle is
served by Streamlit's static file serving (``.streamlit/config.toml``); ``chart.js`` loads it
once per page, draws with ``Plotly.react`` (zoom kept through ``uirevision``), or, when only
some traces' numbers changed, re-plots just those (``Plotly.animate`` without a redraw).

The element also holds an HTML legend above the plot and, below it, the steps' and the start
point's inputs, the landscape's parameters, every run's learning rate (a range input over
``viz.common.runs.notches``) with its remove button, "Add a run" and the results table.  It
reports a click on a point (trigger ``click`` = {x, y}), its first drawn figure (``drawn``), a
typed start (``start`` = {x, y} or {reset: true}, checked by viz.race.scene.start_from_input),
typed steps (``steps`` = {steps}, viz.race.scene.steps_from_input), a run added or removed
(``add`` = {n}, ``remove`` = {key, n}: viz.race.direct.changed), a landscape parameter
(``param`` = {key, value}, :func:`param_change`), a moved rate (``lr`` = {keys, values}, checked
by :func:`lr_changes`) and a patch it cannot apply (``resync``).  These live here, not in the
sidebar, so that a change of one, like a click or a rate, goes first to the chart's own route
(viz/race/direct.py) and then reruns the chart's fragment with this
one element.  Why each piece, with the measurements: benchmarks/results/HISTORY.md.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import orjson
import streamlit as st

from viz.common.lru import Memo, deep_size
from viz.common.plotting import PALETTE
from viz.common.runs import notches, number_step, short_title
from viz.common.url import MAX_QUERY_CHARS, fmt
from viz.race.scene import Scene

NAME = "loss_landscape_chart"
_HERE = Path(__file__).parent
_LOADER = (_HERE / "plotly_loader.js").read_text(encoding="utf-8")
_JS = _LOADER + "\n" + (_HERE / "chart.js").read_text(encoding="utf-8")
_HTML = ('<div class="lle-chart-message" role="status"></div>'
         '<div class="lle-legend" aria-label="legend: click a run to hide or show it"></div>'
         '<div class="lle-chart"></div>'
         '<div class="lle-side"></div>'  # the side plots, over the chart (chart.js: splitSpec)
         '<div class="lle-inputs"><div class="lle-steps"></div>'
         '<div class="lle-start" role="group" aria-label="start point"></div>'
         '<div class="lle-params" role="group" aria-label="the landscape\'s parameters"></div></div>'
         '<p class="lle-note"></p>'
         '<div class="lle-lrs" role="group" aria-label="learning rates"></div>'
         '<div class="lle-add"></div>'
         '<div class="lle-table"></div>')
_CSS = """
.lle-chart-message:empty { display: none; } .lle-chart-message { color: #a00; }
.lle-side, .lle-side .plot-container, .lle-side .svg-container { position: relative; pointer-events: none; }
.lle-legend { display: flex; flex-wrap: wrap; gap: 0.1rem 1.1rem; padding: 0 0 0.3rem 3.5rem;
              font: 15px Arial, Helvetica, sans-serif; color: #111; min-height: 1.6rem; }
.lle-legend-item { display: inline-flex; align-items: center; gap: 0.35rem; border: 0; padding: 0;
                   background: none; font: inherit; color: inherit; cursor: pointer; }
.lle-legend-off { opacity: 0.4; }
.lle-note:empty, .lle-lrs:empty, .lle-table:empty, .lle-start:empty, .lle-steps:empty { display: none; }
.lle-inputs { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 2.2rem; margin: 0.4rem 0 0.2rem;
              font-size: 0.875rem; }
.lle-start { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.9rem; }
.lle-start label, .lle-steps label { display: inline-flex; align-items: center; gap: 0.35rem; }
.lle-start input, .lle-steps input { width: 7.5rem; font: inherit; padding: 0.2rem 0.4rem; border-radius: 0.4rem;
                                     border: 1px solid rgba(49, 51, 63, 0.25); font-variant-numeric: tabular-nums; }
.lle-start button { font: inherit; padding: 0.2rem 0.7rem; border: 1px solid rgba(49, 51, 63, 0.25);
                    border-radius: 0.4rem; background: #fff; cursor: pointer; }
.lle-steps input { width: 6.5rem; }
.lle-params:empty { display: none; } .lle-params { display: flex; flex-wrap: wrap; gap: 0.4rem 1.6rem; }
.lle-param { display: inline-flex; align-items: center; gap: 0.45rem; }
.lle-param input[type=number] { width: 5.5rem; font: inherit; padding: 0.2rem 0.4rem;
                                border: 1px solid rgba(49, 51, 63, 0.25); border-radius: 0.4rem; }
.lle-param input[type=range] { width: 9rem; cursor: pointer; }
.lle-param-value { font-variant-numeric: tabular-nums; font-weight: 600; min-width: 2.5em; }
.lle-start-tip { color: rgba(49, 51, 63, 0.6); }
.lle-note { font-size: 0.875rem; color: rgba(49, 51, 63, 0.6); margin: 0.2rem 0 0.6rem; }
.lle-lrs { display: grid; gap: 0.3rem 1.5rem; margin: 0 0 1rem;  /* 4 a row, fewer when narrow */
           grid-template-columns: repeat(auto-fill, minmax(max(10rem, calc((100% - 4.5rem) / 4)), 1fr)); }
.lle-lr { display: flex; flex-direction: column; min-width: 0; font-size: 0.875rem; }
.lle-lr-remove, .lle-add button { font: inherit; border: 1px solid rgba(49, 51, 63, 0.25); background: #fff;
                                  border-radius: 0.4rem; cursor: pointer; color: rgba(49, 51, 63, 0.8); }
.lle-lr-remove { padding: 0 0.35rem; line-height: 1.2; font-size: 0.8rem; }
.lle-lr-remove:hover { border-color: #d33; color: #d33; }  /* (removing: red; adding: darker) */
.lle-add button:hover:not(:disabled) { border-color: rgba(49, 51, 63, 0.7); color: #111; }
.lle-add:empty { display: none; } .lle-add { margin: -0.5rem 0 1rem; font-size: 0.875rem; }
.lle-add button { padding: 0.2rem 0.8rem; } .lle-add button:disabled { cursor: default; opacity: 0.5; }
.lle-lr-head { display: flex; align-items: center; gap: 0.4em; white-space: nowrap; }
.lle-lr-name { overflow: hidden; text-overflow: ellipsis; }
.lle-lr-value { margin-left: auto; font-variant-numeric: tabular-nums; font-weight: 600; }
.lle-lr input { width: 100%; margin: 0.25rem 0 0; cursor: pointer; }
.lle-swatch { display: inline-block; width: 1.5em; height: 0.5em; border-radius: 0.2em; flex: none; }
.lle-table { overflow-x: auto; margin: 0 0 1rem; }
.lle-table table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.lle-table th, .lle-table td { border: 1px solid rgba(49, 51, 63, 0.15); padding: 0.3rem 0.6rem;
                               text-align: right; font-variant-numeric: tabular-nums; }
.lle-table th { font-weight: 600; background: rgba(49, 51, 63, 0.04); }
.lle-table td:first-child, .lle-table th:first-child { text-align: left; }
.lle-table td:not(:first-child) { white-space: nowrap; }
.lle-table td:first-child .lle-swatch { margin-right: 0.45em; vertical-align: 0.1em; }
"""

_component = st.components.v2.component(NAME, html=_HTML, css=_CSS, js=_JS, isolate_styles=False)


def payload(spec: Mapping[str, Any] | None, rev: str, config: Mapping[str, Any] | None = None, *,
            note: str = "", controls: Sequence[Mapping[str, Any]] = (),
            table: Mapping[str, Any] | None = None, start: Mapping[str, Any] | None = None,
            steps: Mapping[str, Any] | None = None, add: Mapping[str, Any] | None = None,
            params: Sequence[Mapping[str, Any]] = (), base: str | None = None, patch: Mapping[str, Any] | None = None) -> bytes:
    """What the chart receives: ``spec`` (a Plotly figure as a dict: data, layout, frames; None:
    no plot, only what follows), its name ``rev`` (the browser redraws only when it changes),
    Plotly's ``config``, a ``note`` under the plot, the ``steps`` input (:func:`steps_control`), the
    ``start`` point's inputs (:func:`start_control`), the learning-rate ``controls`` (:func:`lr_controls`,
    each with its run's remove button), the ``add`` button (:func:`add_control`), the landscape's
    ``params`` (:func:`param_controls`) and the
    results ``table`` ({header, rows, colors}; plain text, shown with textContent), as JSON
    bytes.  Or, instead of ``spec``, a ``patch`` (:func:`patch`) to the figure named ``base``,
    which the browser has.  Bytes, not a dict: Streamlit passes bytes through as they are,
    while a dict is walked, dumped twice and hashed on every rerun."""
    out = {"rev": rev, "config": dict(config or {}), "spec": spec, "note": note,
           "start": dict(start) if start else None, "steps": dict(steps) if steps else None,
           "add": dict(add) if add else None, "params": list(params),
           "controls": list(controls), "table": dict(table) if table else None}
    if patch is not None:
        out.update(spec=None, base=base, patch=patch)
    return orjson.dumps(out)


# --- sending only what changed ----------------------------------------------------------------
#
# Moving one learning rate changes one run: its traces and its part of every frame.  The server
# remembers the figure it last sent to this page; the browser applies a patch only to that
# figure (its name is the patch's ``base``) and otherwise asks for the whole figure (the
# trigger value ``resync``).

# Figures' dicts shared by every visitor of this server process, by name (the scene's query
# string); never changed once built.  (Here, not in a page script: Streamlit runs a page anew on
# each full rerun, so a dict there would not outlive one.)
SPECS = Memo("race.figures", 24 * 2**20, getsizeof=deep_size)  # a figure: ~1-3 MB as dicts


def patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict | None:
    """What turns figure spec ``old`` into ``new``: {"data": {j: trace}, "frames": {k: {m:
    entry}}}, "runs": {i: run} when the frames are described (``lle_frames``, see
    viz.race.figures.main_figure; "frame_traces": the traces they name, "frame_marks": the
    traces of the heads and the crosses they build, when that changed) and
    "layout" when it changed (indices as strings, as JSON
    writes them); "run_count" when the runs described are more or fewer (a run added or removed
    in a figure with a place for it: its "runs" has the new ones).  None when their shapes
    differ (other traces, frames or frame names): then the whole figure goes."""
    od, nd = old.get("data", []), new.get("data", [])
    of, nf = old.get("frames", []), new.get("frames", [])
    oc, nc = old.get("lle_frames"), new.get("lle_frames")
    if len(od) != len(nd) or len(of) != len(nf) or (oc is None) != (nc is None):
        return None
    out: dict[str, Any] = {"data": _changed(od, nd), "frames": {}}
    for k, (a, b) in enumerate(zip(of, nf)):
        if a.get("name") != b.get("name") or a.get("traces") != b.get("traces") or \
                len(a.get("data", [])) != len(b.get("data", [])):
            return None
        changed = _changed(a["data"], b["data"])
        if changed:
            out["frames"][str(k)] = changed
    if oc is not None:
        if [oc[k] for k in ("names", "anchors")] != [nc[k] for k in ("names", "anchors")]:
            return None
        out["runs"] = _changed(oc["runs"], nc["runs"])
        out["runs"].update({str(i): run for i, run in enumerate(nc["runs"]) if i >= len(oc["runs"])})
        if len(oc["runs"]) != len(nc["runs"]):
            out["run_count"] = len(nc["runs"])
        if oc["traces"] != nc["traces"]:  # (the crosses are named while a run diverges)
            out["frame_traces"] = nc["traces"]
        marks = {k: nc.get(k) for k in ("heads", "crosses") if oc.get(k) != nc.get(k)}
        if marks:  # (the crosses' trace, or null)
            out["frame_marks"] = marks
    if old.get("layout") != new.get("layout"):
        out["layout"] = new.get("layout")
    return out


def _changed(old: Sequence, new: Sequence) -> dict[str, Any]:
    return {str(j): b for j, (a, b) in enumerate(zip(old, new)) if a is not b and a != b}


def apply_patch(spec: Mapping[str, Any], change: Mapping[str, Any]) -> dict:
    """``spec`` with ``change`` (:func:`patch`) applied: a new dict (``spec`` is not changed).
    What viz/common/chart.js does in the browser (``applyPatch``); here for the tests and the record."""
    data = list(spec.get("data", []))
    for j, t in change.get("data", {}).items():
        data[int(j)] = t
    frames = list(spec.get("frames", []))
    for k, entries in change.get("frames", {}).items():
        f = dict(frames[int(k)])
        f["data"] = list(f["data"])
        for m, e in entries.items():
            f["data"][int(m)] = e
        frames[int(k)] = f
    out = dict(spec, data=data, frames=frames)
    if "frames" not in spec:
        del out["frames"]
    if change.get("runs") or "frame_traces" in change or "frame_marks" in change or "run_count" in change:
        runs = list(spec["lle_frames"]["runs"])[:change.get("run_count")]
        runs.extend([None] * (change.get("run_count", len(runs)) - len(runs)))
        for i, run in change.get("runs", {}).items():
            runs[int(i)] = run
        traces = change.get("frame_traces", spec["lle_frames"]["traces"])
        out["lle_frames"] = dict(spec["lle_frames"], runs=runs, traces=traces, **change.get("frame_marks", {}))
    if "layout" in change:
        out["layout"] = change["layout"]
    return out


# --- learning rates -------------------------------------------------------------------------

def lr_key(i: int, run) -> str:
    """Where run ``i``'s learning rate lives in the session state (its optimizer in the name:
    another optimizer in the same place starts from its own rate)."""
    return f"run{i}_{run.optimizer}_learning_rate"


def run_name(run) -> str:
    """A run's name next to its learning rate (its label, else its optimizer's short title)."""
    return run.label or short_title(run.optimizer) + (" +LA" if run.lookahead else "") + \
        (" (raw)" if run.raw else "")


def lr_controls(scene: Scene) -> list[dict]:
    """One learning-rate control per run: its key, number, name, colour, the notches it moves
    over (``values``, with ``labels`` as the URL writes them) and where it stands (``at``)."""
    out = []
    for i, run in enumerate(scene.runs):
        p = run.rule.spec("learning_rate")
        values = notches(p, run.learning_rate)
        out.append({"key": lr_key(i, run), "n": i + 1, "name": run_name(run),
                    "color": PALETTE[i % len(PALETTE)], "values": values,
                    "labels": [fmt(v) for v in values], "at": values.index(float(run.learning_rate)),
                    "doc": p.doc})
    return out


# --- the start point ------------------------------------------------------------------------

def start_control(start: Sequence[float], domain: Sequence[float]) -> dict[str, Any]:
    """The start point's inputs under the plot: its coordinates (``x``, ``y``: exact; ``labels``:
    as the URL writes them), the landscape's domain (xmin, xmax, ymin, ymax: the inputs' bounds)
    and each input's ``step`` (a hundredth of the domain, one significant digit).  A typed start
    comes back as the trigger value ``start`` ({x, y}, or {reset: true}: the landscape's own),
    checked by viz.race.scene.start_from_input."""
    x0, x1, y0, y1 = (float(v) for v in domain)
    return {"x": float(start[0]), "y": float(start[1]), "labels": [fmt(start[0]), fmt(start[1])],
            "domain": [x0, x1, y0, y1],
            "step": [float(f"{(x1 - x0) / 100:.1g}"), float(f"{(y1 - y0) / 100:.1g}")]}


def steps_control(steps: int, most: int) -> dict[str, Any]:
    """The step count's input under the plot: its ``value``, bounds (1 to ``most``), the arrows'
    ``step`` and its tooltip.  A typed count comes back as the trigger value ``steps`` ({steps: n}),
    checked by viz.race.scene.steps_from_input."""
    return {"value": int(steps), "min": 1, "max": int(most), "step": 500,
            "help": f"Number of updates, 1 to {most:,}."}


# --- the landscape's parameters ---------------------------------------------------------------

def param_key(landscape: str, name: str) -> str:
    """Where a landscape parameter's value lives in the session state."""
    return f"lp_{landscape}_{name}"


def param_controls(landscape: str, specs: Sequence, values: Sequence[float]) -> list[dict[str, Any]]:
    """The landscape's parameters under the plot, one control each: ``kind`` "notches" (a range
    over ``values``, shown as ``labels``, at index ``at``: log-scale numbers), "number" (a box:
    ``value``, ``min``, ``max``, ``step``) or "bool" (a checkbox); its ``key``, ``label`` and
    tooltip ``doc``.  A change comes back as the trigger value ``param`` = {key, value}, checked
    by :func:`param_change`."""
    out = []
    for p, v in zip(specs, values):
        c = {"key": param_key(landscape, p.name), "label": p.doc.split(":")[0] if p.doc else p.name,
             "doc": p.doc}
        if p.kind == "bool":
            c.update(kind="bool", value=bool(v))
        elif p.log:
            vals = notches(p, v)
            c.update(kind="notches", values=vals, labels=[fmt(x) for x in vals], at=vals.index(float(v)))
        else:
            c.update(kind="number", value=int(v) if p.kind == "int" else float(v), min=p.low, max=p.high,
                     step=1.0 if p.kind == "int" else number_step(p))
        out.append(c)
    return out


def param_change(value: Any, landscape: str, specs: Sequence, values: Sequence[float]) -> tuple[str, float] | None:
    """(name, number) the chart's trigger ``param`` asks for, or None.  From the browser:
    {key, value} with the key of one of the landscape's parameters and a value its control can
    hold (a notch; a finite number, clamped to its range and whole for a whole number; a
    boolean); anything else is ignored."""
    if not isinstance(value, Mapping):
        return None
    v = value.get("value")
    for p, now in zip(specs, values):
        if value.get("key") != param_key(landscape, p.name):
            continue
        if p.kind == "bool":
            return (p.name, 1.0 if v else 0.0) if isinstance(v, bool) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        if p.log:
            best = min(notches(p, now), key=lambda n: abs(n - v))
            return (p.name, best) if math.isclose(best, v, rel_tol=1e-9) else None
        v = min(max(float(v), p.low), p.high)
        return p.name, float(round(v)) if p.kind == "int" else v
    return None


def add_control(n: int, most: int) -> dict[str, Any]:
    """The "Add a run" button under the learning rates: the ``n`` runs shown (the trigger value
    ``add`` = {n}: a button pressed on a page one behind adds nothing) and the most there may be."""
    return {"n": int(n), "max": int(most)}


def lr_changes(value: Any, scene: Scene) -> dict[str, float]:
    """The learning rates a chart's ``lr`` trigger asks for, as {session-state key: rate}.

    The value comes from the browser: anything but {"keys": [...], "values": [...]} of equal
    lengths is ignored, and so is each entry whose key is not that run's (the runs changed
    since) or whose value is not one of its notches."""
    if not isinstance(value, Mapping):
        return {}
    keys, values = value.get("keys"), value.get("values")
    if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
        return {}
    out = {}
    for i, (run, key, v) in enumerate(zip(scene.runs, keys, values)):
        if key != lr_key(i, run) or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        v = float(v)
        if not math.isfinite(v):
            continue
        allowed = notches(run.rule.spec("learning_rate"), run.learning_rate)
        best = min(allowed, key=lambda n: abs(n - v))
        if math.isclose(best, v, rel_tol=1e-9, abs_tol=0.0):
            out[key] = best
    return out


def plotly_chart(data: bytes, *, key: str, on_click: Callable[[], None] | None = None,
                 on_drawn: Callable[[], None] | None = None, on_lr: Callable[[], None] | None = None,
                 on_start: Callable[[], None] | None = None, on_steps: Callable[[], None] | None = None,
                 on_runs: Callable[[], None] | None = None, on_param: Callable[[], None] | None = None,
                 on_resync: Callable[[], None] | None = None):
    """Draw a figure (``data`` from :func:`payload`).  ``on_click`` runs (as a widget callback)
    after a click on a point; :func:`clicked` reads the point.  ``on_drawn`` runs once the
    chart has drawn its first figure (or failed to, or after 5 s: ``DRAWN_WAIT_MS`` in chart.js).
    ``on_lr`` runs after a learning rate moved, ``on_start`` after a start was typed (or reset),
    ``on_steps`` after the steps were typed, ``on_runs`` after a run was added or removed,
    ``on_param`` after a landscape parameter changed; :func:`trigger` reads the value ``lr``,
    ``start``, ``steps``, ``add``, ``remove`` or ``param``.  ``on_resync`` runs when the browser
    got a patch for a figure it does not have."""
    callbacks = {"on_click_change": on_click, "on_drawn_change": on_drawn, "on_lr_change": on_lr,
                 "on_start_change": on_start, "on_steps_change": on_steps,
                 "on_add_change": on_runs, "on_remove_change": on_runs, "on_param_change": on_param,
                 "on_resync_change": on_resync}
    return _component(key=key, data=data, **{k: v for k, v in callbacks.items() if v is not None})


def trigger(state: Any, name: str) -> Any:
    """A chart's trigger value ``name`` from its session-state value (None if there is none)."""
    try:
        return state.get(name) if hasattr(state, "get") else None
    except Exception:  # noqa: BLE001 - an odd state object has no value
        return None


def had(value: Any) -> str | None:
    """The name of the figure the chart drew before sending the trigger ``value`` (its "have":
    the direct route's answer, viz/race/direct.py), or None.  From the browser: a lie only costs
    a resync (a patch from a figure the chart lacks is not applied)."""
    have = value.get("have") if isinstance(value, Mapping) else None
    return have if isinstance(have, str) and 0 < len(have) <= MAX_QUERY_CHARS else None


def clicked(state: Any) -> list[dict]:
    """The clicked point of a chart's session-state value, as a list like Streamlit's
    ``selection.points`` (empty when there is none or it is malformed)."""
    click = trigger(state, "click")
    return [click] if isinstance(click, Mapping) else []


# Streamlit's front end loads each widget's code when the first such widget arrives; the
# page then commits only when all of them have loaded.  These are the widget kinds the race
# page shows on load, preloaded (modulepreload) by the same early script once Plotly's bundle
# has arrived (asked for at once, they came in with it and put off its evaluation: a shared
# link's chart ~35 ms later).  Names are looked up in the installed Streamlit (hashed file
# names), and a missing one is simply not preloaded.
_CHUNKS = ("BidiComponent", "Slider", "Selectbox", "NumberInput", "Radio", "Checkbox", "TextInput",
           "DownloadButton", "rehype-katex")


def _chunk_files() -> list[str]:
    js = Path(st.__file__).parent / "static" / "static" / "js"
    return [min(found).name for stem in _CHUNKS if (found := list(js.glob(f"{stem}.*.js")))]


_PRELOAD_JS = _LOADER + """
(function (names) {
  const go = () => { for (const name of names) {
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = new URL("static/js/" + name, document.baseURI).href;
    document.head.appendChild(link);
  } };
  (window.llePlotly || Promise.resolve()).then(go, go);  // (Plotly first: the chart needs it sooner)
})(%s);
""" % orjson.dumps(_chunk_files()).decode()


def preload():
    """Start fetching Plotly's bundle now (call it first thing on the page).  The chart comes
    after the sidebar and the header; a component's code runs only once the page's widgets
    have loaded (measured: ~1 s after the first paint), a script in st.html at once."""
    st.html(f"<script>{_PRELOAD_JS}</script>", unsafe_allow_javascript=True)
