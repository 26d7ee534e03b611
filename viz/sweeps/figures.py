"""Pure Plotly builders for the "Sweeps" page: SweepScene + SweepResult in, figure out.

No Streamlit here.  As in viz.race.figures, each figure is one plain dict wrapped in
SpecFigure, arrays go out as float32 base64 typed arrays.

- hyperparameter map: a heatmap on the hyperparameters' own values (a log axis where the
  spec says log), coloured by log10(final loss - f*), steps to tolerance, or the outcome;
  diverged cells (and, for steps, cells that never got within tol) are drawn by a second,
  single-colour heatmap, with a legend entry each.  A grid of transparent markers, one per
  cell, lies on top: it carries the hover text and reports clicks (Streamlit reports clicks
  on scatter points only).  A 1-D sweep is a line of the outcome against the value.
- basin map: the grid of starts coloured by the index of the minimum reached
  (categorical colours, the minima starred, a legend), or by steps / final loss.
- fair race: the objective against the learning rate, one line per optimizer, its best
  starred.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from viz.common.plotting import FONT, PALETTE, SpecFigure, f4, log_colorbar_ticks
from viz.common.text import md_escape
from viz.sweeps.scene import COLOR_TITLES, OBJECTIVE_TITLES, SweepScene

DIVERGED = "#D55E00"  # vermillion: diverged, in every map
NEVER = "#BBBBBB"  # grey: finite but never within tol
BASIN_COLORS = ("#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#882255", "#000000",
                "#44AA99", "#DDCC77", "#117733")
SEQ = "Viridis"
LOG_FLOOR = 1e-12
GL_CELLS = 2500  # above this many cells the click grid is WebGL (an SVG node per cell is slow)
OUTCOME = {0: "reached tol", 1: "finite, never within tol", 2: "diverged"}


# --- the numbers behind the colours (pure, tested) ------------------------------------------

def log_gap(res) -> np.ndarray:
    """log10(max(final loss - f*, 1e-12)); NaN where diverged."""
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.log10(np.maximum(res.final_loss.astype(np.float64) - res.f_min, LOG_FLOOR))
    return np.where(res.diverged, np.nan, v)


def color_values(res, color: str) -> np.ndarray:
    """What each cell's colour shows (NaN where a cell is drawn by an overlay instead)."""
    if color == "final_loss":
        return log_gap(res)
    if color == "steps":
        s = res.steps_to_tol.astype(np.float64)
        return np.where(res.diverged | (res.steps_to_tol < 0), np.nan, s)
    if color == "diverged":
        return outcome(res).astype(np.float64)
    if color == "basin":
        m = res.nearest_minimum.astype(np.float64)
        return np.where(res.nearest_minimum < 0, np.nan, m)
    raise ValueError(f"unknown colour {color!r:.30}")


def outcome(res) -> np.ndarray:
    """0 reached tol (before diverging or never diverged), 1 finite but never within tol,
    2 diverged (takes precedence)."""
    return np.where(res.diverged, 2, np.where(res.steps_to_tol >= 0, 0, 1)).astype(np.int64)


def _gv(a) -> float | None:
    a = float(a)
    return a if math.isfinite(a) else None


def hover_data(res) -> np.ndarray:
    """Per cell: final loss, best loss, steps to tol (-1 never), diverged at (-1 never),
    shape (n_cells, 4), row-major over [i_y, i_x]."""
    return np.stack([res.final_loss.ravel(), res.best_loss.ravel(),
                     res.steps_to_tol.ravel().astype(np.float32),
                     res.diverged_at.ravel().astype(np.float32)], axis=1).astype(np.float32)


HOVER_TAIL = ("final loss %{customdata[0]:.4g}<br>best loss %{customdata[1]:.4g}"
              "<br>steps to tol %{customdata[2]:.0f} (-1: never)"
              "<br>diverged at step %{customdata[3]:.0f} (-1: never)")


def _axis(title: str, log: bool, **kw) -> dict:
    ax = dict(title=dict(text=title), type="log" if log else "linear", showgrid=False, zeroline=False,
              ticks="outside", mirror=True, showline=True, linecolor="#444")
    ax.update(kw)
    return ax


def _layout(height: int, **kw) -> dict:
    out = dict(font=FONT, paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", height=height,
               margin=dict(l=80, r=24, t=40, b=64), hovermode="closest",
               hoverlabel=dict(font=dict(size=14)), clickmode="event+select", dragmode="zoom",
               legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom",
                           font=dict(size=14), bgcolor="rgba(255,255,255,0.8)"))
    out.update(kw)
    return out


def _colorbar(color: str, z: np.ndarray) -> tuple[dict, float | None, float | None]:
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    cbar = dict(title=dict(text=COLOR_TITLES.get(color, color), side="right"), thickness=16, len=0.9)
    if color == "final_loss":
        cbar["title"]["text"] = "final loss − f*"
        vals, text = log_colorbar_ticks(lo, hi)
        cbar.update(tickvals=vals, ticktext=text)
    return cbar, lo, hi


def _overlay(xs, ys, mask: np.ndarray, color: str, x_log: bool, y_log: bool) -> dict:
    z = np.where(mask, 1.0, np.nan)
    return dict(type="heatmap", x=f4(xs), y=f4(ys), z=f4(z), zmin=0, zmax=1,
                colorscale=[[0, color], [1, color]], showscale=False, hoverinfo="skip",
                name="", xgap=0, ygap=0)


def _legend_square(name: str, color: str) -> dict:
    return dict(type="scatter", mode="markers", x=[None], y=[None], name=name,
                marker=dict(symbol="square", size=14, color=color, line=dict(width=1, color="#444")),
                hoverinfo="skip", showlegend=True)


def _click_grid(xs, ys, customdata, hovertemplate: str, n_cells: int, marker_px: float,
                name: str) -> dict:
    gx, gy = np.meshgrid(np.asarray(xs), np.asarray(ys))  # [i_y, i_x]
    gl = n_cells > GL_CELLS
    return dict(type="scattergl" if gl else "scatter", mode="markers",
                x=f4(gx.ravel()), y=f4(gy.ravel()), customdata=f4(customdata), name=name,
                marker=dict(size=max(4.0, marker_px), symbol="square", color="rgba(0,0,0,0)",
                            opacity=0),
                selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
                hovertemplate=hovertemplate, showlegend=False)


def _current_marker(x, y, name: str) -> dict:
    return dict(type="scatter", mode="markers", x=[_gv(x)], y=[_gv(y)], name=name,
                marker=dict(symbol="circle-open", size=18, color="#ffffff",
                            line=dict(width=3, color="#ffffff")),
                hoverinfo="skip", showlegend=False), \
        dict(type="scatter", mode="markers", x=[_gv(x)], y=[_gv(y)], name=name,
             marker=dict(symbol="circle-open", size=22, color="#000000", line=dict(width=2)),
             hoverinfo="skip", showlegend=True)


PLOT_PX = 620  # about the heatmap's side in pixels (for the click markers' size)


# --- hyperparameter map -------------------------------------------------------------------

def hyper_figure(ss: SweepScene, res, height: int = 660) -> SpecFigure:
    """The hyperparameter map of ``ss`` (mode "hyper"); ``res`` arrays are [i_y, i_x]."""
    xs = ss.x_values()
    ys = ss.y_values()
    run = ss.run_obj
    if ys is None:
        return _hyper_line(ss, res, xs, height)
    color = ss.color
    z = color_values(res, color)
    data: list[dict] = []
    n_cells = z.size
    if color == "diverged":
        o = outcome(res)
        present = [k for k in (0, 1, 2) if (o == k).any()]
        colors = {0: "#009E73", 1: NEVER, 2: DIVERGED}
        scale = []
        for k in (0, 1, 2):
            scale += [[k / 3, colors[k]], [(k + 1) / 3, colors[k]]]
        data.append(dict(type="heatmap", x=f4(xs), y=f4(ys), z=f4(o.astype(np.float32)), zmin=-0.5,
                         zmax=2.5, colorscale=scale, showscale=False, hoverinfo="skip", name="outcome"))
        for k in present:
            data.append(_legend_square(OUTCOME[k], colors[k]))
    else:
        cbar, lo, hi = _colorbar(color, z)
        data.append(dict(type="heatmap", x=f4(xs), y=f4(ys), z=f4(z), zmin=lo, zmax=hi,
                         colorscale=SEQ, reversescale=False, colorbar=cbar, hoverinfo="skip",
                         name=COLOR_TITLES[color]))
        if res.diverged.any():
            data.append(_overlay(xs, ys, res.diverged, DIVERGED, ss.x_log(), ss.y_log()))
            data.append(_legend_square("diverged", DIVERGED))
        never = (~res.diverged) & (res.steps_to_tol < 0)
        if color == "steps" and never.any():
            data.append(_overlay(xs, ys, never, NEVER, ss.x_log(), ss.y_log()))
            data.append(_legend_square(f"never within tol ({ss.scene.tol:g})", NEVER))
    tmpl = (f"{ss.x} = %{{x:.4g}}<br>{ss.y} = %{{y:.4g}}<br>" + HOVER_TAIL
            + "<br><i>click to load this run</i><extra></extra>")
    data.append(_click_grid(xs, ys, hover_data(res), tmpl, n_cells, PLOT_PX / len(xs), "cells"))
    cur = run.hp
    data.extend(_current_marker(cur.get(ss.x), cur.get(ss.y), "current setting"))
    layout = _layout(
        height,
        xaxis=_axis(ss.x, ss.x_log(), range=_range(xs, ss.x_log())),
        yaxis=_axis(ss.y, ss.y_log(), range=_range(ys, ss.y_log())),
        uirevision=repr((ss.mode, ss.x, ss.y, ss.xr, ss.yr)))
    return SpecFigure(dict(data=data, layout=layout))


def _range(vals: np.ndarray, log: bool) -> list[float]:
    """Axis range that shows the whole first and last cells."""
    v = np.asarray(vals, np.float64)
    if len(v) == 1:
        return [float(v[0]) - 0.5, float(v[0]) + 0.5] if not log else [math.log10(v[0]) - 0.5,
                                                                      math.log10(v[0]) + 0.5]
    if log:
        lv = np.log10(v)
        h0, h1 = (lv[1] - lv[0]) / 2, (lv[-1] - lv[-2]) / 2
        return [float(lv[0] - h0), float(lv[-1] + h1)]
    h0, h1 = (v[1] - v[0]) / 2, (v[-1] - v[-2]) / 2
    return [float(v[0] - h0), float(v[-1] + h1)]


def _hyper_line(ss: SweepScene, res, xs, height: int) -> SpecFigure:
    """A 1-D sweep: the outcome against the value; diverged runs as crosses at the top."""
    color = ss.color if ss.color != "diverged" else "final_loss"
    z = color_values(res, color)[0]
    ytitle = "final loss − f* (log10)" if color == "final_loss" else "steps to tolerance"
    data: list[dict] = [dict(type="scatter", mode="lines+markers", x=f4(xs), y=f4(z),
                             name=COLOR_TITLES[color], line=dict(color=PALETTE[0], width=2),
                             marker=dict(size=7), hoverinfo="skip")]
    div = res.diverged[0]
    finite = z[np.isfinite(z)]
    top = float(finite.max()) if finite.size else 0.0
    if div.any():
        data.append(dict(type="scatter", mode="markers", x=f4(xs[div]), y=f4(np.full(int(div.sum()), top)),
                         name="diverged", marker=dict(symbol="x", size=11, color=DIVERGED),
                         hoverinfo="skip"))
    tmpl = f"{ss.x} = %{{x:.4g}}<br>" + HOVER_TAIL + "<br><i>click to load this run</i><extra></extra>"
    yv = np.where(np.isfinite(z), z, top).astype(np.float32)
    data.append(dict(type="scatter", mode="markers", x=f4(xs), y=f4(yv), customdata=f4(hover_data(res)),
                     name="cells", marker=dict(size=14, color="rgba(0,0,0,0)", opacity=0),
                     selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
                     hovertemplate=tmpl, showlegend=False))
    cur = ss.run_obj.hp.get(ss.x)
    shapes = [dict(type="line", xref="x", yref="paper", x0=cur, x1=cur, y0=0, y1=1,
                   line=dict(color="#000", width=2, dash="dot"))] if cur is not None else []
    layout = _layout(height, xaxis=_axis(ss.x, ss.x_log()), yaxis=_axis(ytitle, False), shapes=shapes,
                     annotations=[dict(x=cur, xref="x", y=1, yref="paper", text="current",
                                       showarrow=False, yanchor="bottom")] if cur is not None else [])
    return SpecFigure(dict(data=data, layout=layout))


# --- basin map ----------------------------------------------------------------------------

def basin_figure(ss: SweepScene, res, start: Sequence[float] | None = None,
                 height: int = 660) -> SpecFigure:
    """The basin map of ``ss`` (mode "basin"): ``res`` is [i_y, i_x] over the start grid."""
    xs, ys = ss.x_values(), ss.y_values()
    color = ss.color
    data: list[dict] = []
    minima = list(res.minima)
    if color == "basin":
        m = res.nearest_minimum
        k = max(len(minima), 1)
        cols = [BASIN_COLORS[i % len(BASIN_COLORS)] for i in range(k)]
        scale = []
        for i, c in enumerate(cols):
            scale += [[i / k, c], [(i + 1) / k, c]]
        z = np.where(m < 0, np.nan, m).astype(np.float32)
        data.append(dict(type="heatmap", x=f4(xs), y=f4(ys), z=f4(z), zmin=-0.5, zmax=k - 0.5,
                         colorscale=scale, showscale=False, hoverinfo="skip", opacity=0.8,
                         name="minimum reached"))
    else:
        z = color_values(res, color)
        cbar, lo, hi = _colorbar(color, z)
        data.append(dict(type="heatmap", x=f4(xs), y=f4(ys), z=f4(z), zmin=lo, zmax=hi,
                         colorscale=SEQ, colorbar=cbar, hoverinfo="skip", name=COLOR_TITLES[color]))
        never = (~res.diverged) & (res.steps_to_tol < 0)
        if color == "steps" and never.any():
            data.append(_overlay(xs, ys, never, NEVER, False, False))
            data.append(_legend_square(f"never within tol ({ss.scene.tol:g})", NEVER))
    if res.diverged.any():
        data.append(_overlay(xs, ys, res.diverged, DIVERGED, False, False))
        data.append(_legend_square("diverged", DIVERGED))
    # the click grid: hover shows the start, where it ended and how
    cd = np.concatenate([hover_data(res), res.nearest_minimum.ravel()[:, None].astype(np.float32)], axis=1)
    tmpl = ("start x = %{x:.4g}, y = %{y:.4g}<br>minimum reached: #%{customdata[4]:.0f} (-1: none)<br>"
            + HOVER_TAIL + "<br><i>click to start here</i><extra></extra>")
    data.append(_click_grid(xs, ys, cd, tmpl, len(xs) * len(ys), PLOT_PX / len(xs), "starts"))
    # the minima, starred, in their basin's colour
    for i, (mx, my) in enumerate(minima):
        c = BASIN_COLORS[i % len(BASIN_COLORS)] if color == "basin" else "#ffffff"
        reached = int((res.nearest_minimum == i).sum())
        data.append(dict(type="scatter", mode="markers", x=[_gv(mx)], y=[_gv(my)],
                         name=f"#{i} ({mx:.3g}, {my:.3g}): {reached} starts",
                         marker=dict(symbol="star", size=20, color=c, line=dict(width=1.5, color="#000")),
                         hovertemplate=f"minimum #{i}: ({mx:.4g}, {my:.4g})<br>{reached} starts end here"
                                       "<extra></extra>", showlegend=True))
    if start is not None:
        data.extend(_current_marker(start[0], start[1], "current start"))
    layout = _layout(
        height,
        xaxis=_axis("start x", False, range=_range(xs, False), constrain="domain"),
        yaxis=_axis("start y", False, range=_range(ys, False), scaleanchor="x", scaleratio=1,
                    constrain="domain"),
        uirevision=repr((ss.mode, ss.xr, ss.yr)))
    if not minima and color == "basin":
        layout["annotations"] = [dict(text="this landscape lists no minima", x=0.5, y=0.5,
                                      xref="paper", yref="paper", showarrow=False,
                                      font=dict(size=18))]
    return SpecFigure(dict(data=data, layout=layout))


# --- fair race: objective vs learning rate --------------------------------------------------

def tune_figure(ss: SweepScene, outcomes: Sequence, labels: Sequence[str], height: int = 520) -> SpecFigure:
    """One line per run: the objective (best over the extra hyperparameter, if any) against
    the learning rate; diverged rates as crosses at the bottom; the chosen rate starred."""
    obj = ss.obj
    log_y = obj in ("final_loss",)
    data: list[dict] = []
    finite_all = np.concatenate([o.curve[np.isfinite(o.curve)] for o in outcomes] or [np.zeros(0)])
    for i, (o, label) in enumerate(zip(outcomes, labels)):
        c = PALETTE[i % len(PALETTE)]
        y = np.where(np.isfinite(o.curve), o.curve, np.nan)
        if log_y:
            y = np.where(y > 0, y, np.nan)
        data.append(dict(type="scatter", mode="lines+markers", x=f4(o.lrs), y=f4(y), name=label,
                         legendgroup=str(i), line=dict(color=c, width=2), marker=dict(size=6, color=c),
                         hovertemplate=f"{label}<br>α = %{{x:.4g}}<br>{OBJECTIVE_TITLES[obj]} %{{y:.4g}}"
                                       "<extra></extra>"))
        if o.diverged.any():
            data.append(dict(type="scatter", mode="markers", x=f4(o.lrs[o.diverged]),
                             y=f4(np.full(int(o.diverged.sum()), i, np.float32)),
                             yaxis="y2", name=f"{label}: diverged", legendgroup=str(i), showlegend=False,
                             marker=dict(symbol="x", size=8, color=c),
                             hovertemplate=f"{label}<br>α = %{{x:.4g}}: diverged<extra></extra>"))
        if o.best is not None:
            lr = o.best["learning_rate"]
            j = int(np.argmin(np.abs(np.log(o.lrs) - math.log(lr))))
            yv = o.curve[j]
            extra = "".join(f", {k} = {v:.4g}" for k, v in o.best.items() if k != "learning_rate")
            data.append(dict(type="scatter", mode="markers", x=[lr], y=[_gv(yv) if math.isfinite(yv) else None],
                             name=f"{label}: best α = {lr:.3g}{extra}", legendgroup=str(i), showlegend=False,
                             marker=dict(symbol="star", size=20, color=c, line=dict(width=1.5, color="#000")),
                             hovertemplate=f"{label}<br>best α = {lr:.4g}{extra}<br>"
                                           f"{OBJECTIVE_TITLES[obj]} {o.value:.4g}<extra></extra>"))
    ytitle = OBJECTIVE_TITLES[obj] + (" (mean log10 gap)" if obj == "auc" else "")
    layout = _layout(
        height,
        xaxis=_axis("learning rate α", True, anchor="y2"),  # ticks below the "diverged" strip
        yaxis=_axis(ytitle, log_y, domain=[0.16, 1.0]),
        yaxis2=dict(domain=[0.0, 0.1], showticklabels=False, range=[-0.5, max(len(outcomes), 1) - 0.5],
                    title=dict(text="diverged", font=dict(size=12)), showgrid=False, zeroline=False,
                    showline=True, linecolor="#444", mirror=True),
        legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top", font=dict(size=14)),
        margin=dict(l=80, r=24, t=24, b=64))
    if not finite_all.size:
        layout["annotations"] = [dict(text="no run finished: every rate diverged", x=0.5, y=0.6,
                                      xref="paper", yref="paper", showarrow=False)]
    return SpecFigure(dict(data=data, layout=layout))


# --- what the page says under each figure (Markdown; visitors' labels escaped) ---------------

def hyper_summary(ss: SweepScene, res) -> str:
    """How many runs, how many diverged or reached tolerance, and the best cell."""
    n = res.final_loss.size
    div = int(res.diverged.sum())
    reached = int(((res.steps_to_tol >= 0) & ~res.diverged).sum())
    gap = np.where(res.diverged, np.inf, res.final_loss - res.f_min)
    i = np.unravel_index(int(np.argmin(gap)), gap.shape)
    xs, ys = ss.x_values(), ss.y_values()
    best = f"{ss.x} = {xs[i[1]]:.4g}" + ("" if ys is None else f", {ss.y} = {ys[i[0]]:.4g}")
    text = (f"{md_escape(ss.scene.labels()[ss.run])}: {n:,} runs, {div:,} diverged ({100 * div / n:.0f} %), "
            f"{reached:,} got within tolerance.")
    if np.isfinite(gap[i]):
        text += f" Lowest final loss {res.final_loss[i]:.4g} at {md_escape(best)}."
    return text + (" Hover a cell for its numbers; **click a cell** to open that run on the race page. "
                   "The circle marks the run's current setting.")


def basin_summary(ss: SweepScene, res) -> str:
    """How many starts end nearest to each listed minimum, and how many diverged."""
    parts = [f"#{k}: {int((res.nearest_minimum == k).sum()):,}" for k in range(len(res.minima))]
    return (f"{md_escape(ss.scene.labels()[ss.run])} from {res.final_loss.size:,} starts; ends nearest "
            "to minimum " + (md_escape(", ".join(parts)) if parts else "(none listed)")
            + f"; {int(res.diverged.sum()):,} diverged. **Click a start** to open it on the race page.")


def tune_table(ss: SweepScene, outcomes, labels) -> str:
    """A Markdown table: each run's best setting and its objective."""
    rows = []
    for label, o in zip(labels, outcomes):
        if o.best is None:
            rows.append(f"| {md_escape(label)} | — | {md_escape(o.error[:120])} |")
            continue
        extra = "".join(f", {k} = {v:.4g}" for k, v in o.best.items() if k != "learning_rate")
        value = ("never within tol" if not math.isfinite(o.value) else
                 (f"{int(o.value):,} steps" if ss.obj == "steps_to_tol" else f"{o.value:.4g}"))
        rows.append(f"| {md_escape(label)} | α = {o.best['learning_rate']:.4g}{md_escape(extra)} | {value} |")
    return f"| run | best setting | {OBJECTIVE_TITLES[ss.obj]} |\n|---|---|---|\n" + "\n".join(rows)
