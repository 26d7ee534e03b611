"""Export: every step of every run as CSV, the animated figure as one HTML file that plays offline."""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
import plotly.io as pio

from viz.race.compute import RunResult
from viz.race.figures import SpecFigure, marks_per_run
from viz.race.link import to_query_string
from viz.race.scene import Scene

CSV_COLUMNS = ("run", "label", "optimizer", "step", "x", "y", "loss", "grad_x", "grad_y", "learning_rate")


def _csv_field(text: str) -> str:
    """A text field, quoted as CSV wants; a leading = + - @ is defused for spreadsheets."""
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"'


def trajectories_csv(scene: Scene, results: Sequence[RunResult], labels: Sequence[str]) -> str:
    """All steps of all runs, one row per (run, step): ``run,label,optimizer,step,x,y,loss,grad_x,
    grad_y,learning_rate``.  The first line (a ``#`` comment) is the scene's URL query, so the file
    says exactly what produced it.  NaN marks the rows after a divergence; the last step has no
    learning rate."""
    out = io.StringIO()
    out.write(f"# {to_query_string(scene)}\n")
    out.write(",".join(CSV_COLUMNS) + "\n")
    for i, (run, r, label) in enumerate(zip(scene.runs, results, labels)):
        n = len(r.xy)
        lr = np.full(n, np.nan, np.float64)
        lr[: len(r.lr)] = r.lr
        block = np.column_stack([np.arange(n), r.xy[:, 0], r.xy[:, 1], r.loss, r.grad[:, 0], r.grad[:, 1], lr])
        prefix = f"{i},{_csv_field(label)},{run.rule.name},"
        body = io.StringIO()
        np.savetxt(body, block, fmt=["%d"] + ["%.9g"] * 6, delimiter=",")
        out.write("".join(prefix + line + "\n" for line in body.getvalue().splitlines()))
    return out.getvalue()


def standalone_html(fig: SpecFigure, title: str, subtitle: str = "", link: str = "") -> str:
    """The figure (frames, buttons and slider included) as a complete HTML page with plotly.js
    embedded: it opens and plays without a network connection."""
    spec = marks_per_run(fig.spec)  # (Plotly's own legend: a run's name hides its marker too)
    layout = dict(spec["layout"])
    text = f"<b>{_html_escape(title)}</b>"
    if subtitle:
        text += f"<br><sup>{_html_escape(subtitle)}</sup>"
    layout["title"] = dict(text=text, x=0.01, xanchor="left", y=0.99, yanchor="top")
    layout["margin"] = dict(layout.get("margin", {}), t=110)
    layout["legend"] = dict(layout.get("legend", {}), y=1.0)
    layout.pop("height", None)
    out = SpecFigure(dict(spec, layout=layout))
    html = pio.to_html(out, include_plotlyjs=True, full_html=True, auto_play=False,
                       default_width="100%", default_height="92vh", validate=False,
                       config={"displaylogo": False, "responsive": True})
    if link:
        note = (f'<p style="font-family:Arial,sans-serif;font-size:14px;margin:4px 12px">'
                f'Open this view live: <a href="{_html_escape(link)}">{_html_escape(link)}</a></p>')
        html = html.replace("</body>", note + "</body>", 1)
    return html


def _html_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))
