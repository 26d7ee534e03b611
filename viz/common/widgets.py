"""Streamlit pieces shared by the pages: one widget per Param spec, a run's colour swatch, the
run editor and the shared schedule/clipping/noise controls (both parameterised by a key
prefix, with the widget state that shows a run and the run read back), and the URL's
reading and writing.  Values live in ``st.session_state`` under the widget keys."""

from __future__ import annotations

import html
import logging
import os
import sys
import threading
import time
from typing import Callable

import streamlit as st

import optimizers
from landscapes.params import Param
from optimizers import schedules
from optimizers.transforms import CLIP_NORM, CLIP_VALUE, NOISE
from viz.common import rerun_log
from viz.common.plotting import PALETTE
from viz.common.text import share_link, warnings_markdown
from viz.common.runs import Run, clean_label, is_decay, notches, number_step
from viz.common.url import fmt

S = st.session_state


def ensure(key: str, value):
    """Give widget ``key`` its first value (a widget's own default would not be the scene's)."""
    if key not in S:
        S[key] = value


def widget_value(p: Param, v: float):
    """A spec's number as its widget holds it."""
    if p.kind == "bool":
        return bool(v)
    if p.kind == "int":
        return int(v)
    return float(v)


def from_widget(p: Param, v) -> float:
    """A widget's value as the spec's number."""
    return float(v) if p.kind != "bool" else (1.0 if v else 0.0)


def param_widget(p: Param, key: str, container, label: str | None = None, visibility: str = "visible"):
    """One widget for one Param spec (its value lives in ``S[key]``): a toggle, a whole-number
    box, a select-slider of notches (log-scale numbers, decay rates) or a number box."""
    label = label or p.name
    if p.kind == "bool":
        return container.toggle(label, key=key, help=p.doc)
    if p.kind == "int":
        return container.number_input(label, min_value=int(p.low), max_value=int(p.high), step=1,
                                      key=key, help=p.doc, label_visibility=visibility)
    if p.log or is_decay(p):
        return container.select_slider(label, options=notches(p, S.get(key)), key=key, help=p.doc,
                                       format_func=fmt, label_visibility=visibility)
    return container.number_input(label, min_value=float(p.low), max_value=float(p.high), step=number_step(p),
                                  key=key, help=p.doc, format="%g", label_visibility=visibility)


def swatch(i: int, text: str) -> str:
    """HTML: run ``i``'s colour, its number and ``text`` (escaped)."""
    color = PALETTE[i % len(PALETTE)]
    return (f'<div style="display:flex;align-items:center;gap:.45em;line-height:1.2">'
            f'<span style="display:inline-block;width:1.5em;height:.5em;border-radius:.2em;'
            f'background:{color};flex:none"></span><b>{i + 1}</b>'
            f'<span style="overflow:hidden;white-space:nowrap;text-overflow:ellipsis">'
            f'{html.escape(text)}</span></div>')


def run_editor(i: int, run: Run, label: str, *, prefix: str,
               on_optimizer: Callable[[int], None], on_remove_run: Callable[[int], None]):
    """Run ``i``'s optimizer, hyperparameters (all but the learning rate), Lookahead and raw
    switches, label and remove button; widget keys start with ``f"{prefix}{i}_"``."""
    k = f"{prefix}{i}_"
    st.markdown(swatch(i, label), unsafe_allow_html=True)
    st.selectbox("Optimizer", optimizers.names(), key=k + "opt", on_change=on_optimizer,
                 args=(i,), format_func=lambda n: optimizers.get(n).title)
    la = S.get(k + "la", run.lookahead)
    rule = optimizers.get(run.optimizer, lookahead=la and run.optimizer != "ranger")
    for p in rule.hyperparams:
        if p.name == "learning_rate":
            continue
        key = f"{k}{run.optimizer}_{p.name}"
        ensure(key, widget_value(p, run.hp.get(p.name, p.default)))
        param_widget(p, key, st)
    if run.optimizer != "ranger":
        st.toggle("Lookahead", key=k + "la", help="Wrap the rule in Lookahead (slow weights).")
    st.toggle("raw gradient (no shared clipping or noise)", key=k + "raw",
              help="Ignore the shared gradient clipping and noise (to compare with and without).")
    st.text_input("Label", key=k + "label", max_chars=40, placeholder=run.auto_label())
    st.button("Remove this run", key=k + "remove", on_click=on_remove_run, args=(i,),
              icon=":material/delete:")


def run_widget_state(prefix: str, i: int, run: Run) -> dict[str, object]:
    """The run editor's widget values for run ``i`` (keys start with ``f"{prefix}{i}_"``)."""
    k = f"{prefix}{i}_"
    out = {k + "opt": run.optimizer, k + "la": run.lookahead, k + "raw": run.raw, k + "label": run.label}
    for p, (name, v) in zip(run.rule.hyperparams, run.hyperparams):
        out[f"{k}{run.optimizer}_{name}"] = widget_value(p, v)
    return out


def runs_widget_state(prefix: str, runs, lr_key, edit_key: str) -> dict[str, object]:
    """Every run's learning rate (``lr_key(i, run)``) and the open editor's widgets."""
    out: dict[str, object] = {lr_key(i, run): run.learning_rate for i, run in enumerate(runs)}
    edit = edited_run(len(runs), edit_key)
    if edit is not None:
        out.update(run_widget_state(prefix, edit, runs[edit]))
        out[edit_key] = edit
    return out


def commit(new, key: str, warnings_key: str):
    """Make ``new`` this visitor's scene (``S[key]``); a visitor's change clears the warnings
    about the link (``S[warnings_key]``)."""
    if new != S[key]:
        S[key] = new
        S[warnings_key] = []
    return new


def reopen_editor(prefix: str, runs, edit_key: str):
    """Another run's editor was chosen: set its widgets to that run's values."""
    i = edited_run(len(runs), edit_key)
    if i is not None:
        for k, v in run_widget_state(prefix, i, runs[i]).items():
            S[k] = v


def edited_run(n_runs: int, key: str) -> int | None:
    """The run whose editor is open (``S[key]``, kept in range); None without runs."""
    if not n_runs:
        return None
    return min(max(int(S.get(key) or 0), 0), n_runs - 1)


def run_from_widgets(prefix: str, i: int, run: Run, lr_key: str, edited: bool) -> Run:
    """Run ``i`` with its learning rate from ``S[lr_key]`` and, if its editor is open, the
    editor's optimizer switches, hyperparameters and label."""
    hp = run.hp
    hp["learning_rate"] = float(S.get(lr_key, run.learning_rate))
    if not edited:
        return run.with_hp(**hp)
    k = f"{prefix}{i}_"
    la = bool(S.get(k + "la", run.lookahead))
    rule = optimizers.get(run.optimizer, lookahead=la and run.optimizer != "ranger")
    for p in rule.hyperparams:
        key = f"{k}{run.optimizer}_{p.name}"
        if p.name != "learning_rate" and key in S:
            hp[p.name] = from_widget(p, S[key])
    hp = {n: v for n, v in hp.items() if n in {p.name for p in rule.hyperparams}}
    return Run(run.optimizer, hp, lookahead=la, raw=bool(S.get(k + "raw", run.raw)),
               label=clean_label(S.get(k + "label", run.label)))


# --- the shared gradient switches (schedule, clipping, noise) ------------------------------

def switches_widget_state(scene, prefix: str, sched_key: str) -> dict[str, object]:
    """The switches' widget values that show ``scene`` (any scene with the shared fields)."""
    out: dict[str, object] = {sched_key: scene.schedule, prefix + "clip_kind": scene.clip,
                              prefix + "clip_at": scene.clip_at, prefix + "noise": scene.noise}
    for p, (name, v) in zip(schedules.SCHEDULES[scene.schedule].params, scene.schedule_params):
        out[f"{prefix}sched_{scene.schedule}_{name}"] = widget_value(p, v)
    return out


def switches_from_widgets(scene, prefix: str, sched_key: str) -> dict[str, object]:
    """The switches' values as Scene fields, read back from their widgets."""
    kind = S.get(sched_key, scene.schedule)
    return {"schedule": kind,
            "schedule_params": {p.name: from_widget(p, S[f"{prefix}sched_{kind}_{p.name}"])
                                for p in schedules.SCHEDULES[kind].params
                                if f"{prefix}sched_{kind}_{p.name}" in S},
            "clip": S.get(prefix + "clip_kind", scene.clip),
            "clip_at": float(S.get(prefix + "clip_at", scene.clip_at)),
            "noise": float(S.get(prefix + "noise", scene.noise))}


def switch_controls(scene, prefix: str, sched_key: str, noise_step: float, noise_help: str):
    """Schedule and its numbers, gradient clipping and gradient noise (in the current container)."""
    st.selectbox("Learning-rate schedule", schedules.schedule_names(), key=sched_key,
                 format_func=lambda k: schedules.SCHEDULES[k].title)
    kind = S.get(sched_key, scene.schedule)
    for p in schedules.SCHEDULES[kind].params:
        key = f"{prefix}sched_{kind}_{p.name}"
        ensure(key, widget_value(p, p.default))
        param_widget(p, key, st)
    st.radio("Gradient clipping", ["off", "value", "norm"], key=prefix + "clip_kind", horizontal=True,
             format_func={"off": "off", "value": "by value", "norm": "by norm"}.get)
    if S.get(prefix + "clip_kind", "off") != "off":
        spec = CLIP_NORM if S.get(prefix + "clip_kind") == "norm" else CLIP_VALUE
        param_widget(spec, prefix + "clip_at", st, label="clip at")
    st.number_input("Gradient noise σ", min_value=0.0, max_value=float(NOISE.high), step=noise_step,
                    key=prefix + "noise", format="%g", help=noise_help)


# --- the URL and page chrome ----------------------------------------------------------------

def page_query() -> dict[str, list[str]]:
    """The URL query with repeated keys kept (the decoders report duplicates)."""
    qp = st.query_params
    return {k: qp.get_all(k) for k in qp.keys()}


def sync_url(want: dict[str, str]):
    """Write ``want`` (a codec's ``encode``) to the address bar, if it differs."""
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def share_url(query: str) -> str:
    """This page's full address with ``query``."""
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001
        base = None
    return share_link(base, query)


# The page's address as the browser has it now: a box the script refreshes whenever it is shown,
# focused or copied.  For a row drawn once while a fragment keeps changing the URL (the race
# page's share row, outside the chart's fragment: an update sends fewer messages).
_LIVE_LINK_JS = """(function () {
  // (the characters viz.common.url.SAFE leaves readable, as the server writes its links)
  const now = () => location.href.split("#")[0].replace(/%(2C|3A|3D|7E)/gi, (m) => decodeURIComponent(m));
  const fill = () => { for (const i of document.querySelectorAll(".lle-link textarea")) i.value = now(); };
  fill();
  if (window.__lleLink) return;
  window.__lleLink = true;
  document.addEventListener("focusin", (e) => { if (e.target.closest(".lle-link")) fill(); });
  document.addEventListener("click", (e) => {
    const b = e.target.closest(".lle-link button");
    if (!b) return;
    const box = b.parentNode.querySelector("textarea"), said = b.parentNode.querySelector("span");
    fill();
    box.select();
    const done = (ok) => { said.textContent = ok ? "Copied." : "Select the link and copy it (Ctrl+C)."; };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(box.value).then(() => done(true), () => done(false));
    else { let ok = false; try { ok = document.execCommand("copy"); } catch (err) { ok = false; } done(ok); }
  });
})();"""
_LIVE_LINK_CSS = (".lle-link{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}"
                  ".lle-link textarea{flex:1 1 16rem;min-width:0;font:0.85rem ui-monospace,monospace;padding:.35rem .5rem;"
                  "resize:none;word-break:break-all;"
                  "border:1px solid rgba(49,51,63,.25);border-radius:.4rem;background:#f7f8fa;color:#111}"
                  ".lle-link button{font:inherit;padding:.3rem .8rem;border:1px solid rgba(49,51,63,.25);"
                  "border-radius:.4rem;background:#fff;cursor:pointer}"
                  ".lle-link span{flex-basis:100%;font-size:.85rem;color:rgba(49,51,63,.7)}")


def live_link(url: str):
    """The page's address in a read-only box with a Copy button.  ``url``: the address when this
    is drawn (``share_url``); the browser puts in its address as it is now (the chart's
    fragment rewrites the query on every change without drawing this again)."""
    st.html(f'<style>{_LIVE_LINK_CSS}</style><div class="lle-link">'
            f'<textarea readonly rows="4" aria-label="link to this view">{html.escape(url)}</textarea>'
            f'<button type="button">Copy</button><span role="status"></span></div>'
            f"<script>{_LIVE_LINK_JS}</script>", unsafe_allow_javascript=True)


# A line of the page's own HTML with MathML in it: st.html's sanitiser drops MathML, and Markdown
# with maths or HTML in it holds a run's first elements back until its KaTeX or raw-HTML code
# has loaded (~60-80 ms of a shared link's first chart: benchmarks/results/HISTORY.md); the chart's
# component code is loaded anyway.
_HTML_LINE = st.components.v2.component(
    "loss_landscape_html_line", html='<p class="lle-line"></p>',
    css=".lle-line { margin: 0; line-height: 1.6; } .lle-line:empty { display: none; }",
    js="""export default function ({ parentElement, data }) {
  const p = parentElement.querySelector(".lle-line");
  const text = data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? new TextDecoder().decode(data) : data;
  if (p && p.__lleHtml !== text) { p.innerHTML = text || ""; p.__lleHtml = text; }
}""", isolate_styles=False)


def html_line(text: str, key: str):
    """One paragraph of ``text``: HTML the page made itself (escape what came from outside).
    Sent as bytes: Streamlit passes bytes as they are, while a string goes through its check
    for data frames, which imports pandas (~7,000 more objects for every full collection)."""
    _HTML_LINE(key=key, data=text.encode())


def link_warnings(warnings: list[str], page: str = "race"):
    """The box that says which parts of a link were not used (and, once per session and
    link, a WARNING line in the server's log)."""
    if warnings:
        st.warning(warnings_markdown(warnings), icon=":material/warning:")
        if st.session_state.get("_logged_warnings") != warnings:
            st.session_state["_logged_warnings"] = list(warnings)
            logging.getLogger(f"{rerun_log.LOGGER}.{page}").warning(
                "link not used as given: %s", rerun_log.safe("; ".join(warnings), 400))


_timing = threading.local()  # .on: a timed part of this thread's rerun is running


def timed(what: str, fn, page: str):
    """Run ``fn`` (a page's script, or part of it) and log the rerun's line under ``page``
    (``viz.common.rerun_log``); with LANDSCAPE_TIMING set, also print its time on stderr as
    ``[timing] <what> <ms> ms`` (what bench_page.py reads), once per rerun: a part run inside
    another (a fragment in the page's run) prints nothing of its own."""
    if not os.environ.get("LANDSCAPE_TIMING") or getattr(_timing, "on", False):
        return rerun_log.logged(page, fn)
    t0, _timing.on = time.perf_counter(), True
    try:
        return rerun_log.logged(page, fn)
    finally:
        _timing.on = False
        print(f"[timing] {what} {1e3 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr, flush=True)
