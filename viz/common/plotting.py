"""What every page's figures share (pure: no Streamlit): colours, font, the Plotly toolbar,
a figure that is its prebuilt dict, and the typed-array and log-tick encoders."""

from __future__ import annotations

import base64
import math

import numpy as np
import plotly.graph_objects as go

# Okabe & Ito's colour-blind-safe palette (yellow swapped for Tol's wine: readable on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#882255")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "triangle-down", "pentagon", "hexagon",
           "star-triangle-up")
# Light, low-saturation colours for the landscape, so that the runs stand out.
COLORSCALE = [[0.0, "#ffffff"], [0.2, "#f0f3f7"], [0.45, "#dce4ee"], [0.75, "#c3d0e0"],
              [1.0, "#a9bbd2"]]
FONT = dict(family="Arial, Helvetica, sans-serif", size=16, color="#111111")
# The toolbar every page's charts show (no lasso/box select, no autoscale; scroll does not zoom).
CHART_CONFIG = {"displaylogo": False, "scrollZoom": False,
                "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}


class SpecFigure(go.Figure):
    """A ``go.Figure`` whose JSON is the prebuilt dict ``spec`` (see viz/race/figures.py).

    ``fig.spec`` is the dict; ``to_dict()`` (what Streamlit, ``to_json`` and
    ``to_html`` call) returns a shallow copy of it.  The graph-object
    properties (``fig.data``, ``fig.layout``) are left empty on purpose.
    """

    def __init__(self, spec: dict):
        super().__init__()
        self._spec = spec

    @property
    def spec(self) -> dict:
        return self._spec

    def to_dict(self) -> dict:
        return dict(self._spec)

    def to_plotly_json(self) -> dict:
        return self.to_dict()


def f4(a) -> dict:
    """A float32 typed array (1-D, or 2-D with its shape)."""
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    out = {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    if a.ndim > 1:
        out["shape"] = ", ".join(str(s) for s in a.shape)
    return out


def i4(a) -> dict:
    a = np.ascontiguousarray(np.asarray(a, dtype=np.int32))
    return {"dtype": "i4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


def _tick_text(v: float) -> str:
    if v == 0:
        return "0"
    e = math.floor(math.log10(abs(v)) + 1e-9)
    m = v / 10**e
    if -3 <= e <= 3:
        return f"{v:g}"
    return (f"{m:g}e{e}" if abs(m - 1) > 1e-9 else f"1e{e}")


def log_colorbar_ticks(vmin: float, vmax: float) -> tuple[list[float], list[str]]:
    """Tick positions (log10 values) and their labels in real units."""
    lo, hi = math.floor(vmin), math.ceil(vmax)
    mults = (1,) if hi - lo >= 4 else ((1, 3) if hi - lo >= 2 else (1, 2, 5))
    vals, text = [], []
    for e in range(lo, hi + 1):
        for m in mults:
            p = e + math.log10(m)
            if vmin - 1e-9 <= p <= vmax + 1e-9:
                vals.append(round(p, 6))
                text.append(_tick_text(m * 10.0**e))
    return vals, text
