"""Pure Plotly figure builders of the "Real network" page (no Streamlit here).

Built as plain dicts wrapped once in ``viz.race.figures.SpecFigure`` (see that module's
docstring for why: no graph-object validation, orjson serialisation), with the
main page's palette, font and colours.

- :func:`race_figure`: three panels side by side: training (solid) and validation
  (dashed) loss vs step on a log axis; validation (solid) and training (dotted)
  accuracy vs step with the target line and a diamond where each run first reaches
  it; validation accuracy vs seconds of training (compiling excluded).
- :func:`slice_figure`: the loss on a 2-D slice of weight space with every run's
  projected weight path animated over it.  The landscape is drawn once, as a layout
  image (filled contour bands with outlines, :func:`landscape_png`) with a colour bar
  and a transparent hover grid: Plotly.js removes every non-scatter trace (contour,
  heatmap) while it plays a ``redraw: False`` animation (plotly.js #4491, plotly.py
  #2151), and redrawing the contour every frame is what the animation must avoid.
  Each frame names only the runs' path and head traces (``traces=[...]``) on fixed
  axes; ▶ Play / Pause buttons and a step slider.  The share of variance of the two
  PCA components is in the axis titles and the caption.

Nothing non-finite reaches a figure: NaN rows (a diverged run) are dropped.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from viz.common import raster
from viz.race.figures import COLORSCALE, FONT, PALETTE, SYMBOLS, SpecFigure, f4, i4, log_colorbar_ticks
from viz.network.compute import NetRunResult, NetSlice

N_FRAMES = 80
RACE_HEIGHT = 430
SLICE_HEIGHT = 640
GRIDCOLOR = "#e6e6e6"
FRAME_POINTS = 16_000  # path points in all frames together, at most (about)
HOVER_GRID = 21  # transparent hover markers per axis (each one is an SVG node)
IMAGE_PX = 560  # width of the landscape raster
LEVELS = 24  # contour bands


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _r(v) -> float | None:
    v = float(v)
    return round(v, 6) if math.isfinite(v) else None


def _axis(**kw) -> dict:
    base = dict(showgrid=True, gridcolor=GRIDCOLOR, zeroline=False, showline=True, linecolor="#444",
                ticks="outside", tickfont=dict(size=13), mirror=True)
    base.update(kw)
    return base


# --- the race: loss, accuracy, wall time ------------------------------------------------------

RACE_DOMAINS = ((0.0, 0.29), (0.355, 0.645), (0.71, 1.0))


def accuracy_floor(results: Sequence[NetRunResult], target: float) -> float:
    """The accuracy panels' lower bound: close enough to 1 to see the race near the target,
    low enough to show every run's final accuracy."""
    finals = [float(r.val_acc[np.isfinite(r.val_acc)][-1]) for r in results if np.isfinite(r.val_acc).any()]
    lo = min([target - 0.15] + [a - 0.05 for a in finals])
    return float(max(0.0, math.floor(lo * 20) / 20))


def race_figure(results: Sequence[NetRunResult], labels: Sequence[str], target: float, *,
                height: int = RACE_HEIGHT) -> SpecFigure:
    """Loss vs step (log), accuracy vs step, validation accuracy vs wall time: one figure."""
    max_step = max([int(r.steps[-1]) for r in results] + [1])
    max_time = max([float(r.wall_time[-1]) for r in results] + [1e-3])
    data: list[dict] = []
    for i, (r, label) in enumerate(zip(results, labels)):
        data.extend(_race_run(i, r, label))
    # the target, on both accuracy panels
    for xa, ya, x1 in (("x2", "y2", max_step), ("x3", "y3", max_time)):
        data.append(dict(type="scatter", mode="lines", x=[0, _r(x1)], y=[target, target], xaxis=xa, yaxis=ya,
                         name=f"target {target:.4g}", showlegend=False, hoverinfo="skip",
                         line=dict(color="#555", width=1.2, dash="dash")))
    layout = _race_layout(height, max_step, max_time, [accuracy_floor(results, target), 1.004])
    return SpecFigure(dict(data=data, layout=layout))


def _race_run(i: int, r: NetRunResult, label: str) -> list[dict]:
    """Run ``i``'s curves on the three panels, its target mark and where it stopped."""
    color, group = _color(i), f"run{i}"
    steps = np.asarray(r.steps)
    common = dict(type="scatter", name=label, legendgroup=group)
    out = []
    for y, dash, what, show in ((r.train_loss, "solid", "train loss", True), (r.val_loss, "dash", "val loss", False)):
        keep = np.isfinite(y) & (y > 0)
        out.append(dict(common, mode="lines", x=i4(steps[keep]), y=f4(y[keep]), xaxis="x", yaxis="y",
                        showlegend=show, line=dict(color=color, width=2.5, dash=dash),
                        hovertemplate=f"{label}<br>step %{{x}}: {what} %{{y:.4g}}<extra></extra>"))
    for y, dash, what in ((r.val_acc, "solid", "val acc"), (r.train_acc, "dot", "train acc")):
        keep = np.isfinite(y)
        out.append(dict(common, mode="lines", x=i4(steps[keep]), y=f4(y[keep]), xaxis="x2", yaxis="y2",
                        showlegend=False, line=dict(color=color, width=2.5 if dash == "solid" else 1.8, dash=dash),
                        hovertemplate=f"{label}<br>step %{{x}}: {what} %{{y:.2%}}<extra></extra>"))
    if r.steps_to_target is not None:
        k = int(np.searchsorted(steps, r.steps_to_target))
        out.append(dict(common, mode="markers", x=[int(r.steps_to_target)], y=[_r(r.val_acc[min(k, len(steps) - 1)])],
                        xaxis="x2", yaxis="y2", showlegend=False,
                        marker=dict(symbol="diamond", size=12, color=color, line=dict(color="#111", width=1)),
                        hovertemplate=f"{label}<br>reached the target at step {r.steps_to_target}<extra></extra>"))
    keep = np.isfinite(r.val_acc)
    out.append(dict(common, mode="lines", x=f4(r.wall_time[keep]), y=f4(r.val_acc[keep]), xaxis="x3", yaxis="y3",
                    showlegend=False, line=dict(color=color, width=2.5),
                    hovertemplate=f"{label}<br>%{{x:.3f}} s: val acc %{{y:.2%}}<extra></extra>"))
    if r.stop_reason is not None and keep.any():
        last = int(np.flatnonzero(keep)[-1])
        out.append(dict(common, mode="markers", x=[int(steps[last])], y=[_r(r.val_acc[last])], xaxis="x2",
                        yaxis="y2", showlegend=False,
                        marker=dict(symbol="x" if r.stop_reason == "diverged" else "square", size=11, color=color,
                                    line=dict(color="#111", width=1)),
                        hovertemplate=f"{label}<br>stopped at step {r.stopped_at} ({r.stop_reason})<extra></extra>"))
    return out


def _race_layout(height: int, max_step: int, max_time: float, acc_range: list[float]) -> dict:
    """Three panels side by side, each titled; the accuracy panels share their range."""
    titles = ("<b>loss</b> (solid: training, dashed: validation)",
              "<b>accuracy</b> (solid: validation, dotted: training)",
              "<b>validation accuracy</b> vs training time")
    notes = [dict(text=t, x=d[0], xref="paper", xanchor="left", y=1.0, yref="paper", yanchor="bottom",
                  showarrow=False, font=dict(size=14)) for t, d in zip(titles, RACE_DOMAINS)]
    step_title = dict(text="step", font=dict(size=14))
    return dict(
        font=FONT, paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", height=height,
        margin=dict(l=64, r=20, t=86, b=56), annotations=notes,
        legend=dict(orientation="h", x=0, xanchor="left", y=1.12, yanchor="bottom", font=dict(size=15),
                    itemclick="toggle", itemdoubleclick="toggleothers"),
        hovermode="closest", hoverlabel=dict(font=dict(size=14)),
        xaxis=_axis(domain=list(RACE_DOMAINS[0]), anchor="y", range=[0, max_step], title=step_title),
        yaxis=_axis(anchor="x", type="log", exponentformat="power",
                    title=dict(text="cross-entropy", font=dict(size=14), standoff=2)),
        xaxis2=_axis(domain=list(RACE_DOMAINS[1]), anchor="y2", range=[0, max_step], matches="x", title=step_title),
        yaxis2=_axis(anchor="x2", range=acc_range, tickformat=".0%"),
        xaxis3=_axis(domain=list(RACE_DOMAINS[2]), anchor="y3", range=[0, max_time * 1.02],
                     title=dict(text="seconds of training (compiling excluded)", font=dict(size=14))),
        yaxis3=_axis(anchor="x3", range=acc_range, tickformat=".0%", matches="y2"),
        uirevision="race",
    )


# --- the landscape slice -----------------------------------------------------------------------

def frame_steps(slice_: NetSlice, n_frames: int = N_FRAMES) -> np.ndarray:
    """The steps the animation stops at: every snapshot step of any run, thinned evenly to
    at most ``n_frames`` (always the first and the last)."""
    all_steps = np.unique(np.concatenate([np.asarray(s, np.int64) for s in slice_.steps] + [[0]]))
    if len(all_steps) <= n_frames:
        return all_steps
    idx = np.unique(np.round(np.linspace(0, len(all_steps) - 1, n_frames)).astype(int))
    return all_steps[idx]


def axis_titles(slice_: NetSlice, center_label: str) -> tuple[str, str]:
    if slice_.kind == "pca" and slice_.explained is not None:
        e1, e2 = (100 * float(v) for v in slice_.explained)
        return (f"PC1 of the centre run's path ({e1:.1f} % of its variance)",
                f"PC2 ({e2:.1f} %)")
    return ("random direction 1 (filter-normalised)", "random direction 2")


def slice_caption(slice_: NetSlice, center_label: str) -> str:
    """One sentence on what the plane is (plain text, for the page and the figure's title)."""
    if slice_.kind == "pca" and slice_.explained is not None:
        e1, e2 = (100 * float(v) for v in slice_.explained)
        return (f"Plane of the first two principal components of {center_label}'s weight path: "
                f"they explain {e1:.1f} % + {e2:.1f} % = {e1 + e2:.1f} % of its variance.")
    return (f"Two filter-normalised random directions around {center_label}'s final weights "
            "(Li et al., 2018): a random plane barely contains any path, so the paths "
            "hug the centre.")


def _hover_indices(n: int, most: int = HOVER_GRID) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, n - 1, min(n, most))).astype(int))


def _upsample(v: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resampling of a 2-D grid (rows: y) to ``shape`` (rows, columns)."""

    def weights(n_in: int, n_out: int):
        pos = np.linspace(0.0, n_in - 1.0, n_out)
        i0 = np.clip(np.floor(pos).astype(int), 0, max(n_in - 2, 0))
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (pos - i0)

    r0, r1, wr = weights(v.shape[0], shape[0])
    c0, c1, wc = weights(v.shape[1], shape[1])
    top = v[r0][:, c0] * (1 - wc) + v[r0][:, c1] * wc
    bottom = v[r1][:, c0] * (1 - wc) + v[r1][:, c1] * wc
    return top * (1 - wr)[:, None] + bottom * wr[:, None]


def landscape_png(vals: np.ndarray, vmin: float, vmax: float, *, levels: int = LEVELS,
                  width: int = IMAGE_PX) -> str:
    """The slice as filled contour bands with outlines: a ``data:image/png;base64`` URI.

    ``vals[i_beta, i_alpha]`` (the colour values, here log10 loss) are resampled
    bilinearly to ``width`` pixels across (rows in proportion: a 41x41 grid would show
    its cells), then drawn by ``viz.common.raster`` like the 2-D page's landscape: ``levels``
    flat bands of ``COLORSCALE`` with a darker pixel where the band changes; NaN is
    transparent.  Row 0 of ``vals`` is the smallest β, at the bottom of the image.
    """
    v = np.asarray(vals, np.float64)
    bad = ~np.isfinite(v)
    ratio = v.shape[0] / max(v.shape[1], 1)
    shape = (int(min(max(round(width * ratio), 64), 2 * width)), width)
    up = _upsample(np.where(bad, vmax, v), shape)
    if bad.any():
        up[_upsample(bad.astype(np.float64), shape) > 0.5] = np.nan
    rgba = raster.bands_rgba(up, COLORSCALE, levels, vmin, vmax)
    return raster.data_uri(raster.png(rgba))


def slice_figure(slice_: NetSlice, labels: Sequence[str], *, n_frames: int = N_FRAMES,
                 height: int = SLICE_HEIGHT) -> SpecFigure:
    """The loss around the centre run's final weights, every run's projected path animated."""
    center_label = labels[slice_.center] if slice_.center < len(labels) else f"run {slice_.center + 1}"
    data, image = _slice_background(slice_)
    paths = _Paths(slice_, labels, frame_steps(slice_, n_frames))
    first_run = len(data)
    for i in range(len(paths)):
        data.extend(paths.traces(i, paths.last, style=True))
    data.extend(_slice_marks(slice_, paths, center_label))
    trace_ids = list(range(first_run, first_run + 2 * len(paths)))
    frames = [dict(name=str(int(s)), data=[t for i in range(len(paths)) for t in paths.traces(i, int(s), style=False)],
                   traces=trace_ids) for s in paths.fsteps]
    layout = _slice_layout(slice_, center_label, height, image)
    if not len(paths):
        return SpecFigure(dict(data=data, layout=layout))
    _animate(layout, [f["name"] for f in frames])
    return SpecFigure(dict(data=data, layout=layout, frames=frames))


def _slice_background(slice_: NetSlice) -> tuple[list[dict], dict]:
    """The landscape: a raster of filled, outlined contour bands behind the plot (see
    landscape_png), a colour bar on an invisible scatter trace, and a transparent grid of
    markers that shows the loss and accuracy on hover.  No contour trace: Plotly.js removes
    every non-scatter trace during a redraw-free animation."""
    a, b = slice_.alphas, slice_.betas
    z = np.asarray(slice_.loss, np.float64)
    finite = z[np.isfinite(z) & (z > 0)]
    floor = max(float(finite.min()) if finite.size else 1e-6, 1e-6)
    with np.errstate(invalid="ignore", divide="ignore"):
        vals = np.log10(np.maximum(z, floor))
    vals = np.where(np.isfinite(z), vals, np.nan).astype(np.float32)
    fv = vals[np.isfinite(vals)]
    vmin, vmax = (float(fv.min()), float(fv.max())) if fv.size else (0.0, 1.0)
    tickvals, ticktext = log_colorbar_ticks(vmin, vmax)
    acc = np.where(np.isfinite(slice_.accuracy), slice_.accuracy, np.nan)
    si, sj = _hover_indices(len(a)), _hover_indices(len(b))
    HA, HB = np.meshgrid(a[si], b[sj])
    hz, hacc = z[np.ix_(sj, si)], acc[np.ix_(sj, si)]
    data = [
        dict(type="scatter", mode="markers", x=f4(HA.ravel()), y=f4(HB.ravel()),
             customdata=np.stack([np.where(np.isfinite(hz), hz, -1.0).ravel(),
                                  np.nan_to_num(hacc, nan=-1.0).ravel()], axis=-1).round(5).tolist(),
             marker=dict(size=12, color="rgba(0,0,0,0)"), name="loss", showlegend=False,
             hovertemplate="α = %{x:.3g}, β = %{y:.3g}<br>training loss = %{customdata[0]:.4g}"
                           "<br>training accuracy = %{customdata[1]:.1%}<extra></extra>"),
        dict(type="scatter", mode="markers", x=[None], y=[None], showlegend=False, hoverinfo="skip",
             marker=dict(color=[vmin], cmin=vmin, cmax=vmax, colorscale=COLORSCALE, showscale=True,
                         colorbar=dict(title=dict(text="training loss", side="right"), tickvals=tickvals,
                                       ticktext=ticktext, thickness=16, len=0.9, outlinewidth=0)))]
    image = dict(source=landscape_png(vals, vmin, vmax), xref="x", yref="y", x=float(a[0]), y=float(b[-1]),
                 sizex=float(a[-1] - a[0]), sizey=float(b[-1] - b[0]), sizing="stretch", layer="below",
                 xanchor="left", yanchor="top")
    return data, image


class _Paths:
    """Every run's projected path (its finite snapshots) and its traces up to a step.  A
    frame's path is thinned to at most ``cap`` points (always its first and last), so the
    frames stay small; the last frame and the picture before playing carry every snapshot."""

    def __init__(self, slice_: NetSlice, labels: Sequence[str], fsteps: np.ndarray):
        paths = [np.asarray(c, np.float32) for c in slice_.coords]
        steps = [np.asarray(s, np.int64) for s in slice_.steps]
        keeps = [np.isfinite(p).all(axis=1) for p in paths]
        self.paths = [p[k] for p, k in zip(paths, keeps)]
        self.steps = [s[k] for s, k in zip(steps, keeps)]
        self.labels, self.fsteps = labels, fsteps
        self.cap = max(16, FRAME_POINTS // max(1, len(fsteps) * len(self.paths)))
        self.last = int(fsteps[-1])

    def __len__(self) -> int:
        return len(self.paths)

    def traces(self, i: int, upto: int, style: bool) -> list[dict]:
        p, s, label = self.paths[i], self.steps[i], self.labels[i] if style else ""
        k = int(np.searchsorted(s, upto, side="right"))
        k = max(k, 1) if len(p) else 0
        rows = np.arange(k)
        if not style and upto < self.last and k > self.cap:
            rows = np.unique(np.round(np.linspace(0, k - 1, self.cap)).astype(int))
        line = dict(x=f4(p[rows, 0]), y=f4(p[rows, 1]), customdata=i4(s[rows]))
        head = dict(x=[_r(p[k - 1, 0])] if k else [], y=[_r(p[k - 1, 1])] if k else [],
                    customdata=[int(s[k - 1])] if k else [])
        if style:
            color, hover = _color(i), f"<b>{label}</b><br>step %{{customdata}}<extra></extra>"
            line.update(type="scatter", mode="lines+markers", name=label, legendgroup=f"run{i}",
                        line=dict(color=color, width=3), marker=dict(size=5, color=color), hovertemplate=hover)
            head.update(type="scatter", mode="markers", name=label, legendgroup=f"run{i}", showlegend=False,
                        marker=dict(symbol=SYMBOLS[i % len(SYMBOLS)], size=15, color=color,
                                    line=dict(color="#ffffff", width=1.5)), hovertemplate=hover)
        return [line, head]


def _slice_marks(slice_: NetSlice, paths: _Paths, center_label: str) -> list[dict]:
    """The shared start (every run starts from the same weights) and the centre."""
    out = []
    starts = [p[0] for p, s in zip(paths.paths, paths.steps) if len(p) and s[0] == 0]
    if starts:
        out.append(dict(type="scatter", mode="markers", x=[_r(starts[0][0])], y=[_r(starts[0][1])],
                        name="initial weights", marker=dict(symbol="circle", size=13, color="#ffffff",
                                                            line=dict(color="#111111", width=2.5)),
                        hovertemplate="initial weights (step 0)<extra></extra>"))
    out.append(dict(type="scatter", mode="markers", x=[0.0], y=[0.0], name=f"centre: final weights of {center_label}",
                    marker=dict(symbol="star", size=20, color="#ffd400", line=dict(color="#111111", width=1.5)),
                    hovertemplate=f"centre: final weights of {center_label}<br>loss "
                                  f"{slice_.center_loss:.4g}, accuracy {slice_.center_accuracy:.1%}"
                                  "<extra></extra>"))
    return out


def _slice_layout(slice_: NetSlice, center_label: str, height: int, image: dict) -> dict:
    a, b = slice_.alphas, slice_.betas
    xt, yt = axis_titles(slice_, center_label)
    axis = dict(constrain="domain", showgrid=False, zeroline=False, ticks="outside", mirror=True,
                showline=True, linecolor="#444")
    return dict(
        font=FONT, paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", height=height,
        margin=dict(l=70, r=24, t=28, b=140),
        xaxis=dict(range=[float(a[0]), float(a[-1])], title=dict(text=xt, font=dict(size=15)), **axis),
        yaxis=dict(range=[float(b[0]), float(b[-1])], title=dict(text=yt, font=dict(size=15), standoff=4),
                   scaleanchor="x", scaleratio=1, **axis),
        legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=15),
                    itemclick="toggle", itemdoubleclick="toggleothers", bgcolor="rgba(255,255,255,0.8)"),
        hovermode="closest", hoverlabel=dict(font=dict(size=14)),
        images=[image], uirevision="slice",
    )


def _animate(layout: dict, names: list[str]):
    """Play/Pause buttons and a step slider over the frames ``names``."""
    play = dict(frame=dict(duration=90, redraw=False), transition=dict(duration=0), mode="immediate",
                fromcurrent=False)
    still = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    layout["updatemenus"] = [dict(
        type="buttons", direction="left", showactive=False, x=0.0, y=0.0, xanchor="left", yanchor="top",
        pad=dict(t=72, r=8), font=dict(size=15),
        buttons=[dict(label="▶ Play", method="animate", args=[names, play]),
                 dict(label="Pause", method="animate", args=[[None], still])])]
    layout["sliders"] = [dict(
        active=len(names) - 1, x=0.27, len=0.73, y=0.0, yanchor="top", pad=dict(t=64, b=0),
        currentvalue=dict(prefix="step ", font=dict(size=16, color="#111111"), xanchor="left"),
        font=dict(size=11, color="rgba(0,0,0,0)"), ticklen=3, tickcolor="#888",
        transition=dict(duration=0),
        steps=[dict(label=n, method="animate", args=[[n], still]) for n in names])]
