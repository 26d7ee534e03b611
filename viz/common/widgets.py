"""Streamlit pieces shared by the pages (app.py, viz/network/page.py, viz/sweeps/page.py): one
widget per Param spec, a run's colour swatch, the run editor, and Markdown escaping for text
that visitors typed.  Values live in ``st.session_state`` under the widget keys."""

from __future__ import annotations

import html
import math
from typing import Callable

import streamlit as st

import optimizers
from landscapes.params import Param
from viz.race.figures import PALETTE
from viz.race.scene import Run, fmt, is_decay, notches

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
    span = p.high - p.low
    step = float(f"{10 ** math.floor(math.log10(span)) / 100:.0e}") if span > 0 else 0.01
    return container.number_input(label, min_value=float(p.low), max_value=float(p.high), step=step,
                                  key=key, help=p.doc, format="%g", label_visibility=visibility)


def swatch(i: int, text: str) -> str:
    """HTML: run ``i``'s colour, its number and ``text`` (escaped)."""
    color = PALETTE[i % len(PALETTE)]
    return (f'<div style="display:flex;align-items:center;gap:.45em;line-height:1.2">'
            f'<span style="display:inline-block;width:1.5em;height:.5em;border-radius:.2em;'
            f'background:{color};flex:none"></span><b>{i + 1}</b>'
            f'<span style="overflow:hidden;white-space:nowrap;text-overflow:ellipsis">'
            f'{html.escape(text)}</span></div>')


def md_escape(text: str) -> str:
    """Untrusted text shown through st.markdown: no links, emphasis, HTML or maths."""
    out = html.escape(str(text), quote=False)
    for c in "\\`*_{}[]()#+-.!|$~":
        out = out.replace(c, "\\" + c)
    return out


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
