"""Pure Plotly figure builders: Scene + arrays in, figure out.  No Streamlit here.

How the figures are built, and why
----------------------------------
Each builder assembles the figure as one plain dict (the JSON Plotly.js
reads) and wraps it once in :class:`SpecFigure`, a ``go.Figure`` whose
``to_dict()`` returns that dict: Streamlit takes a ``go.Figure`` as valid and
serialises it, where a dict, or a figure built from graph objects, would be
validated object by object (10x the cost; benchmarks/results/HISTORY.md).
Validity is checked in the tests, where ``go.Figure(fig.spec)`` must accept
every figure.

Arrays go out as Plotly's base64 typed arrays (``{"dtype": "f4", "bdata": ...}``),
float32: 5.3 bytes a number on the wire.

The main figure: the landscape is a picture under the axes (trace 0 carries its
colour bar) and is never animated; a transparent grid of markers over it catches
clicks (Streamlit reports clicks on scatter points only) and shows f on hover;
each run has its path, and one trace holds every run's head (a marker each), one
every run's divergence cross (a point not drawn, null, unless it diverges: the same
traces whatever the start, so a new start is a quick update in the browser); the page's
figure keeps a place (a path, a side-plot curve) for every run it may have, empty past its runs,
so that adding or removing a run is one too (``main_figure``'s ``places``); each
frame names only those traces (``traces=[...]``) and plays with ``redraw: False``
on fixed axes.  The ``N_FRAMES`` (60) frames are
log-and-uniformly spaced steps; a frame's path is the run's points on a coarse,
shape-keeping grid up to that step; the last frame and the initial picture carry
the full path (up to 2,000 points a run, shape-preserving).
"""

from __future__ import annotations

import base64
import hashlib
import math
import weakref
from typing import Sequence

import numpy as np

from landscapes import Landscape
from viz.common import raster
from viz.common.lru import Memo, deep_size
from viz.common.plotting import (COLORSCALE, FONT, PALETTE, SYMBOLS, SpecFigure, f4, i4,  # noqa: F401
                                 log_colorbar_ticks)
from viz.common import sampling
from viz.race.compute import RunResult
from viz.race.metrics import Reference
from viz.race.scene import Scene

N_FRAMES = 60  # every change resends and redraws them: the bulk of the figure
LEVELS = 22  # colour bands of the landscape picture
FULL_PATH_POINTS = 2000  # per run at most, in the final picture ...
FULL_PATH_TOTAL = 8000  # ... and for all runs together
FRAME_BUDGET_BYTES = 200_000  # raw float32 bytes of all frames' paths together
CLICK_GRID = 18  # 324 points a click or a hover finds (not drawn: see _landscape_traces)
HOVER_PX = 30  # the main figure's hover distance (px)
SLIDER_STEPS = 50  # of the N_FRAMES frames: the slider's ticks (each an SVG group every draw makes)
# an empty run place's numbers: one point not drawn (Plotly's partial redraw, Plotly.animate,
# leaves out a trace of no points, and with it the drawing of its whole subplot if it was the
# only one re-plotted there)
_NONE = np.full(1, np.nan, np.float32)


def _r(v: float) -> float | None:
    """A rounded plain float for a tiny JSON list (None for NaN)."""
    v = float(v)
    return round(v, 6) if math.isfinite(v) else None


# --- the landscape's colours --------------------------------------------------------------

def color_transform(z: np.ndarray, f_star: float | None, log: bool, decades: float):
    """``(values, base, floor)``: what the contour colours show.

    ``values = log10(max(f - base, floor))`` when ``log``, else ``f - base``, where
    ``base`` is f* (or the grid's minimum if lower or unknown) and
    ``floor = max(f - base) * 10**-decades``.
    """
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return np.zeros_like(z), 0.0, 1.0
    base = float(finite.min())
    if f_star is not None and math.isfinite(f_star):
        base = min(base, float(f_star))
    top = float(finite.max()) - base
    if not log or top <= 0:
        return (z - base).astype(np.float32), base, 0.0
    floor = max(top * 10.0 ** -decades, 1e-30)
    with np.errstate(invalid="ignore"):
        vals = np.log10(np.maximum(z - base, floor))
    return vals.astype(np.float32), base, floor


def landscape_colors(L: Landscape, z: np.ndarray, ref: Reference):
    """``(values, colorbar dict, base, floor, log)`` for the contour or surface: log10 of
    f - base, except on a flat landscape (nothing above the base), where ``log`` is False."""
    decades = 6.0 if L.log_scale else 3.0
    vals, base, floor = color_transform(z, ref.f_star, True, decades)
    log = floor > 0
    finite = vals[np.isfinite(vals)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    title = "f − f*" if ref.known else "f − min f"
    if log:
        tickvals, ticktext = log_colorbar_ticks(vmin, vmax)
        cbar = dict(title=dict(text=title, side="top"), tickvals=tickvals, ticktext=ticktext,
                    thickness=16, len=0.85, outlinewidth=0, y=0.45)
    else:
        cbar = dict(title=dict(text=title, side="top"), thickness=16, len=0.85, outlinewidth=0, y=0.45)
    return vals, cbar, base, floor, log


def _domain(L: Landscape):
    (x0, x1), (y0, y1) = L.domain
    return x0, x1, y0, y1


# --- the main 2-D figure -----------------------------------------------------------------

def _run_style(i: int) -> tuple[str, str]:
    return PALETTE[i % len(PALETTE)], SYMBOLS[i % len(SYMBOLS)]


def _path_at(xy: np.ndarray, grid: np.ndarray, step: int, diverged_at: int | None):
    """Rows of the path from 0 to ``step`` on ``grid`` (plus ``step`` itself), cut before
    the run diverged.  Returns (indices, end) where ``end`` is the row shown as the head.
    (Rows before ``diverged_at`` are finite: optimizers.run blanks only from there on.)"""
    end = step if diverged_at is None or step < diverged_at else max(diverged_at - 1, 0)
    k = np.searchsorted(grid, end, side="right")
    idx = grid[:k]
    if not len(idx) or idx[-1] != end:
        idx = np.append(idx, end)
    return idx, end


def _thin(names: list, n: int) -> list:
    """About ``n`` of ``names``, evenly spaced, the first and the last included."""
    if len(names) <= n:
        return list(names)
    keep = np.unique(np.round(np.linspace(0, len(names) - 1, n)).astype(int))
    return [names[k] for k in keep]


def divergence_mark(xy: np.ndarray, diverged_at: int | None, box) -> tuple[int, tuple[float, float]]:
    """Where to draw a run's divergence cross: its last finite point if that is in view,
    else the last point in view before it left for good (else the last finite point, clamped
    to the view).  Returns (row, (x, y))."""
    if diverged_at is None:
        return len(xy) - 1, (float(xy[-1, 0]), float(xy[-1, 1]))
    last = max(diverged_at - 1, 0)
    x0, x1, y0, y1 = box
    pts = xy[: last + 1]
    inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
    if inside[last]:
        return last, (float(xy[last, 0]), float(xy[last, 1]))
    rows = np.flatnonzero(inside)
    if len(rows):  # where the path crosses the border of the view for the last time
        k = int(rows[-1])
        p0, p1 = xy[k].astype(np.float64), xy[k + 1].astype(np.float64)
        d = p1 - p0
        t = 1.0
        for axis, (lo, hi) in enumerate(((x0, x1), (y0, y1))):
            if d[axis] > 0:
                t = min(t, (hi - p0[axis]) / d[axis])
            elif d[axis] < 0:
                t = min(t, (lo - p0[axis]) / d[axis])
        q = p0 + max(t, 0.0) * d
        return k, (float(q[0]), float(q[1]))
    return last, (float(np.clip(xy[last, 0], x0, x1)), float(np.clip(xy[last, 1], y0, y1)))


def main_height(L: Landscape) -> int:
    """Figure height for the landscape's aspect ratio (equal scales; ~560 px of plot width)."""
    x0, x1, y0, y1 = _domain(L)
    return int(min(max(560 * (y1 - y0) / (x1 - x0) + 230, 540), 780))


def landscape_picture(L: Landscape, z: np.ndarray, ref: Reference) -> dict:
    """The landscape's picture (a PNG data URI of filled contour bands), its colour range and
    colour bar: what depends on the landscape alone (the page caches it per landscape)."""
    vals, cbar, base, floor, log = landscape_colors(L, z, ref)
    finite = vals[np.isfinite(vals)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    uri = raster.data_uri(raster.png(raster.bands_rgba(vals, COLORSCALE, LEVELS, vmin, vmax)))
    return dict(uri=uri, vmin=vmin, vmax=vmax, cbar=cbar)


# --- memoised pieces ----------------------------------------------------------------------
#
# Moving one learning rate changes one run; the other runs' traces and frames are the same
# dicts as before.  They are kept here (bounded, least recently used first out), keyed by what
# they are computed from, the run's arrays by a digest of their bytes: the same key always
# holds the same value, whoever asks.  The dicts are shared: nothing may modify them.

_MEMO = Memo("race.figure_parts", 12 * 2**20, getsizeof=deep_size)  # one run: ~20-200 kB


_DIGESTS: "weakref.WeakKeyDictionary[RunResult, bytes]" = weakref.WeakKeyDictionary()


def _content(r: RunResult) -> bytes:
    """A digest of everything a run's pieces are computed from; computed once per run (a run's
    arrays are read-only: a changed learning rate re-hashed the seven runs that stayed, ~2.7 ms
    of 8 runs of 10,000 steps).  SHA-256: ~2.5x sooner than BLAKE2b here (the CPU's SHA
    instructions)."""
    got = _DIGESTS.get(r)
    if got is not None:
        return got
    h = hashlib.sha256()
    for a in (r.xy, r.loss, r.grad):
        h.update(np.ascontiguousarray(a).view(np.uint8).ravel())
    h.update(repr((r.diverged_at, r.xy.shape, r.xy.dtype.str, r.grad.dtype.str)).encode())
    _DIGESTS[r] = got = h.digest()[:16]
    return got


def _run_animation(i: int, r: RunResult, label: str, frame_list: np.ndarray, anim_points: int,
                   full_points: int, box) -> dict:
    """Run ``i``'s path in the main figure at the last step, its point in the heads' and the
    crosses' traces (:func:`_heads`, :func:`_crosses`), and what its frames are made of
    (:func:`_run_frames`): ``{"traces", "head", "cross", "frames"}``."""
    hi = int(frame_list[-1])
    cum = sampling.arc_length(r.xy, hi) if hi + 1 > min(anim_points, full_points) else None
    grid = sampling.path_indices(r.xy, hi, anim_points, head=min(40, anim_points // 4), cum=cum)
    full = sampling.path_indices(r.xy, hi, full_points, head=min(200, full_points // 5), cum=cum)
    any_div = r.diverged_at is not None and r.diverged_at <= hi
    mk = divergence_mark(r.xy, r.diverged_at, box) if any_div else None
    idx, end = _path_at(r.xy, full, hi, r.diverged_at)
    path = _path_trace(i, label, r.xy[idx, 0], r.xy[idx, 1])
    head = dict(x=float(r.xy[end, 0]), y=float(r.xy[end, 1]), customdata=[int(end), float(r.loss[end])],
                hovertemplate=f"<b>{label}</b><br>step %{{customdata[0]}}<br>f = %{{customdata[1]:.4g}}<extra></extra>")
    div_text = f"<b>{label}</b>"
    if any_div:
        div_text += f"<br>diverged at step {r.diverged_at}"
        if mk[0] < r.diverged_at - 1:
            div_text += f"<br>(left the view at step {mk[0] + 1})"
    cross = dict(x=_r(mk[1][0]) if any_div else None, y=_r(mk[1][1]) if any_div else None,
                 hovertemplate=div_text + "<extra></extra>")
    return {"traces": [path], "head": head, "cross": cross, "frames": _run_frames(r, grid, frame_list, any_div)}


def _path_trace(i: int, label: str, x: np.ndarray, y: np.ndarray) -> dict:
    """Run place ``i``'s path (an empty place: no name, one point not drawn: ``_NONE``; the same
    trace otherwise)."""
    return dict(type="scatter", mode="lines", x=f4(x), y=f4(y), name=label, legendgroup=f"run{i}",
                line=dict(color=_run_style(i)[0], width=3), hoverinfo="skip")


def _points(n_runs: int, n_frames: int) -> tuple[int, int]:
    """A run's points in each frame and in its full path: the budgets shared by ``n_runs``
    rounded up to a power of two, so that adding or removing a run among 5-8 (or 3-4) leaves the
    other runs' points as they were (their traces unchanged: a quick update in the browser)."""
    shared = 1 << max(n_runs - 1, 0).bit_length()
    per_frame = FRAME_BUDGET_BYTES / max(1, shared * n_frames * 8)  # points a frame can carry
    return int(min(max(2 * per_frame, 60), 1200)), max(300, min(FULL_PATH_POINTS, FULL_PATH_TOTAL // shared))


def _heads(runs: list[dict], places: int) -> dict:
    """Every run's head, one marker a run, in one trace (a trace per run cost the browser's
    every update and full draw ~0.5 ms each: benchmarks/results/HISTORY.md)."""
    return _markers([run["head"] for run in runs], "where each run is",
                    dict(size=14, line=dict(color="#ffffff", width=1.5)), places, symbols=True)


def _crosses(runs: list[dict], places: int) -> dict:
    """Every run's divergence cross, in one trace: a run that does not diverge (within the shown
    steps) has a point not drawn (null), so a new start that makes a run diverge, or stop, is a
    quick update in the browser (the same traces whatever the start)."""
    return _markers([run["cross"] for run in runs], "diverged",
                    dict(symbol="x", size=20, line=dict(color="#111111", width=1.5)), places, cliponaxis=False)


def _markers(points: list[dict], name: str, marker: dict, places: int, symbols: bool = False,
             **extra) -> dict:
    """A trace of a marker a run: each point's x, y and hover text (and customdata, if it has
    them) by array; the colours (and ``symbols``) and ``meta``, which names each marker's run (the
    page's legend hides a run's marker with its path; the export splits the trace:
    :func:`marks_per_run`), for every run place (``places`` >= the points: the trace is the same
    whatever the number of runs, but for its numbers)."""
    col = lambda k: [p[k] for p in points]  # noqa: E731
    per_point = {"customdata": col("customdata")} if "customdata" in points[0] else {}
    styles = [_run_style(i) for i in range(places)]
    marker = dict(marker, color=[c for c, _ in styles], **({"symbol": [m for _, m in styles]} if symbols else {}))
    return dict(type="scatter", mode="markers", x=col("x"), y=col("y"), **per_point, name=name,
                showlegend=False, unselected=dict(marker=dict(opacity=1)),
                meta=[f"run{i}" for i in range(places)], marker=marker,
                hovertemplate=col("hovertemplate"), **extra)


def _run_frames(r: RunResult, grid: np.ndarray, frame_list: np.ndarray, any_div: bool) -> dict:
    """What run ``i``'s part of the frames is, but the last frame's (which shows the figure's
    traces): frame ``j``'s path is the first ``k[j]`` of the points ``px, py`` (the run on the
    coarse ``grid`` of rows), then, if ``tail[j]``, its head; the head is row ``end[j]`` at
    ``(ex[j], ey[j])`` with loss ``loss[j]``; its cross (a diverging run's) shows when
    ``cross[j]``.  The browser builds the frames from this (chart.js ``buildFrames``;
    :func:`expand_frames` here, the same): 60 frames of 8 runs are ~10x fewer bytes than the
    frames themselves."""
    steps = np.asarray(frame_list[:-1], np.int64)
    div = r.diverged_at
    ends = steps if div is None else np.where(steps < div, steps, max(div - 1, 0))
    ks = np.searchsorted(grid, ends, side="right")  # (a frame's points: the grid's rows <= its end)
    tails = (ks == 0) | (grid[np.maximum(ks - 1, 0)] != ends)
    rows = grid[: int(ks.max()) if len(ks) else 0]
    return {"px": f4(r.xy[rows, 0]), "py": f4(r.xy[rows, 1]), "k": ks.tolist(),
            "tail": tails.astype(int).tolist(), "end": ends.tolist(), "ex": f4(r.xy[ends, 0]),
            "ey": f4(r.xy[ends, 1]), "loss": f4(r.loss[ends]),
            "cross": (steps >= div).astype(int).tolist() if any_div else None}


def _floats(a) -> np.ndarray:
    """A float32 array sent as :func:`f4`, or a plain list, as a float32 NumPy array."""
    if isinstance(a, dict):
        return np.frombuffer(base64.b64decode(a["bdata"]), "<f4")
    return np.asarray(a, np.float32)


def expand_frames(spec: dict) -> dict:
    """A main figure with its frames built (``spec["frames"]``, as Plotly reads them) from
    what it carries in their place (``spec["lle_frames"]``: :func:`main_figure` with
    ``compact``): what the browser does before it draws (viz/common/chart.js ``buildFrames``).
    A spec with nothing to build is returned as it is."""
    c = spec.get("lle_frames")
    if c is None:
        return spec
    data, n, runs = spec["data"], len(c["names"]), c["runs"]
    paths = c["traces"][:len(runs)]
    heads, crosses = data[c["heads"]], data[c["crosses"]] if c["crosses"] is not None else None
    nums = [{k: _floats(run[k]) for k in ("px", "py", "ex", "ey", "loss")} for run in runs]
    frames = []
    for j, name in enumerate(c["names"]):
        last = j == n - 1
        entries = [dict(x=data[t]["x"], y=data[t]["y"]) if last else _path_entry(run, v, j)
                   for t, run, v in zip(paths, runs, nums)]
        entries.append(dict(x=heads["x"], y=heads["y"], customdata=heads["customdata"]) if last else
                       dict(x=[float(v["ex"][j]) for v in nums], y=[float(v["ey"][j]) for v in nums],
                            customdata=[[run["end"][j], float(v["loss"][j])] for run, v in zip(runs, nums)]))
        if crosses is not None:
            shown = [last or bool(run["cross"] and run["cross"][j]) for run in runs]
            entries.append(dict(x=[x if s else None for x, s in zip(crosses["x"], shown)],
                                y=[y if s else None for y, s in zip(crosses["y"], shown)]))
        entries.extend({} for _ in range(c["anchors"]))
        frames.append(dict(name=name, data=entries, traces=list(c["traces"])))
    out = {k: v for k, v in spec.items() if k != "lle_frames"}
    out["frames"] = frames
    return out


def _path_entry(run: dict, v: dict, j: int) -> dict:
    """Frame ``j``'s entry of a run's path (see :func:`_run_frames`; ``v``: its arrays decoded)."""
    k = run["k"][j]
    x, y = v["px"][:k], v["py"][:k]
    if run["tail"][j]:
        x, y = np.append(x, v["ex"][j]), np.append(y, v["ey"][j])
    return dict(x=f4(x), y=f4(y))


def marks_per_run(spec: dict) -> dict:
    """``spec`` (frames built) with the heads' and the crosses' traces (a marker a run, the run's
    legend group in ``meta``) split into a trace a run, in its legend group: for a page whose
    legend is Plotly's own (the HTML export), where a click on a run's name hides its group;
    the traces of empty run places (:func:`main_figure`'s ``places``) left out."""
    marks = [t for t in spec["data"] if isinstance(t.get("meta"), list)]
    runs = {f"run{r}" for r in range(len(marks[0]["x"]))} if marks else set()
    out, where, split = [], {}, set()  # where: a trace's ids in the new data
    for k, t in enumerate(spec["data"]):
        meta = t.get("meta")
        if isinstance(meta, list):
            where[k] = list(range(len(out), len(out) + len(runs)))
            split.add(k)
            out.extend(_one_mark(t, r, group) for r, group in enumerate(meta[:len(runs)]))
        elif marks and str(t.get("legendgroup", "")).startswith("run") and t["legendgroup"] not in runs:
            where[k] = []  # (an empty place: no frame names it)
        else:
            where[k] = [len(out)]
            out.append(t)
    new = dict(spec, data=out)
    if "frames" in spec:
        new["frames"] = []
        for f in spec["frames"]:
            traces, entries = [], []
            for k, e in zip(f["traces"], f["data"]):
                traces.extend(where[k])
                entries.extend([{key: [v[r]] for key, v in e.items()} for r in range(len(where[k]))]
                               if k in split else [e])
            new["frames"].append(dict(f, traces=traces, data=entries))
    return new


def _one_mark(t: dict, r: int, group: str) -> dict:
    """Marker ``r`` of a trace of a marker a run, as a trace of its own."""
    one = {k: v for k, v in t.items() if k != "meta"}
    for k in ("x", "y", "customdata"):
        if k in t:
            one[k] = [t[k][r]]
    one["hovertemplate"] = t["hovertemplate"][r]
    one["marker"] = {k: (v[r] if isinstance(v, list) else v) for k, v in t["marker"].items()}
    one["legendgroup"] = group
    return one


def main_figure(scene: Scene, L: Landscape, grid, results: Sequence[RunResult], labels: Sequence[str],
                ref: Reference, *, n_frames: int = N_FRAMES, height: int | None = None,
                with_side: bool = True, picture: dict | None = None, compact: bool = False,
                places: int = 0) -> SpecFigure:
    """The contour with the runs, animated, and (``with_side``) the scene's side plots to its
    right in the same figure: one chart for the browser to draw (see the module docstring).
    ``picture``: :func:`landscape_picture` of this landscape, if the caller cached it.
    ``compact``: the frames not built but described (``lle_frames``, see :func:`_run_frames`;
    the page's chart builds them), else as Plotly reads them (exports, notebooks).
    ``places``: the runs' traces there are at least (a path, its side-plot curves; the heads'
    and the crosses' colours), empty past the scene's runs: adding or removing a run then
    changes numbers, not the figure's traces (the page's chart: a quick update, not a redraw)."""
    box = _domain(L)
    picture = picture or landscape_picture(L, grid[2], ref)
    lo, hi = scene.effective_span()
    n_runs = len(results)
    places = max(places, n_runs) if n_runs else 0
    data = _landscape_traces(grid, picture, box)
    first_run = len(data)
    frame_list = sampling.frame_steps(lo, hi, n_frames) if n_runs else np.array([hi])
    anim_points, full_points = _points(n_runs, len(frame_list))
    digests = [_content(r) for r in results]
    runs = [_MEMO.get(("run", digests[i], i, labels[i], frame_list.tobytes(), anim_points, full_points, hi, box),
                      lambda i=i, r=r: _run_animation(i, r, labels[i], frame_list, anim_points, full_points, box))
            for i, r in enumerate(results)]
    data.extend([t for run in runs for t in run["traces"]]  # (then the empty places' paths)
                + [_path_trace(i, "", _NONE, _NONE) for i in range(n_runs, places)])
    heads = crosses = None
    if runs:  # the heads and the crosses on top of the paths
        heads, crosses = len(data), len(data) + 1
        data.extend([_heads(runs, places), _crosses(runs, places)])
    # minima and start on top of the runs (still before the side plots: trace ids stay put)
    data.extend(_marks(L, scene.start if scene.start is not None else L.start))
    side = with_side and bool(scene.panels) and n_runs > 0
    anchors, axes, notes = [], {}, []
    if side:
        traces, axes, notes = side_panels(scene, L, results, labels, ref, first_axis=2,
                                          x_domain=SIDE_DOMAIN, digests=digests, places=places, z=grid[2])
        for t in traces:  # one trace per side plot is named (unchanged) in every frame: Plotly
            if t["yaxis"] not in {data[k]["yaxis"] for k in anchors}:  # drops the drawing of
                anchors.append(len(data))  # any subplot a frame does not name
            data.append(t)
    # each frame names the runs' paths, their heads, their crosses (if one diverges: each trace a
    # frame names costs the browser's full redraws) and, unchanged ({}), one trace of each side plot
    crossed = any(run["frames"]["cross"] is not None for run in runs)
    trace_ids = list(range(first_run, first_run + n_runs)) + ([heads] if runs else []) + ([crosses] if crossed else [])
    # frames named by their place, not their step: new steps or another animated range keep the
    # names, so the slider and the Play button (which name them) stay as they are (relaid out,
    # they took ~30 ms of such an update in the page); a frame's step is its heads' (customdata)
    names = [str(k) for k in range(len(frame_list))]
    layout = _main_layout(scene, names, box, height or main_height(L), picture["uri"])
    _fit_colour_bar(data[0], layout, box)
    if side:
        layout.update(axes)
        layout["annotations"] = notes
        layout["xaxis"]["domain"] = list(MAIN_DOMAIN)
        data[0]["marker"]["colorbar"].update(x=MAIN_DOMAIN[1] + 0.01, xanchor="left")
        layout["sliders"][0].update(x=0.2, len=MAIN_DOMAIN[1] - 0.2)
        layout["height"] = max(layout["height"], 560)
    if not n_runs:  # nothing to animate
        del layout["updatemenus"], layout["sliders"]
        layout["margin"]["b"] = 50
        return SpecFigure(dict(data=data, layout=layout))
    layout["margin"]["b"] = 130
    spec = dict(data=data, layout=layout, lle_frames=dict(names=names, traces=trace_ids + anchors,
                                                          anchors=len(anchors), runs=[run["frames"] for run in runs],
                                                          heads=heads, crosses=crosses if crossed else None))
    return SpecFigure(spec if compact else expand_frames(spec))


def _landscape_traces(grid, picture: dict, box) -> list[dict]:
    """Trace 0 carries the landscape picture's colour bar (the picture itself is a layout
    image: viz.common.raster says why not a contour trace); trace 1 is a grid of points, not
    drawn (mode "none"), that report clicks and show f on hover (``hoveron``: a point hovers
    within Plotly's hover distance, everywhere on the plot with this grid; drawn as 324
    transparent markers it cost every full draw ~8 ms and the page 324 SVG elements)."""
    xs, ys, z = grid
    x0, x1, y0, y1 = box
    vmin, vmax, cbar = picture["vmin"], picture["vmax"], dict(picture["cbar"])
    if "tickvals" in cbar and vmax > vmin:  # the bar on 0..1, its ticks where they fall: another
        cbar["tickvals"] = [round((t - vmin) / (vmax - vmin), 6) for t in cbar["tickvals"]]  # landscape
        vmin, vmax = 0.0, 1.0  # changes only the ticks (the browser redraws the bar alone: chart.js)
    bar = dict(type="scatter", mode="markers", x=[_r(x0), _r(x0)], y=[_r(y0), _r(y0)],
               marker=dict(color=[vmin, vmax], cmin=vmin, cmax=vmax, colorscale=COLORSCALE,
                           showscale=True, colorbar=cbar, opacity=0, size=1),
               hoverinfo="skip", name="landscape", showlegend=False)
    GX, GY = np.meshgrid(np.linspace(x0, x1, CLICK_GRID, dtype=np.float32),
                         np.linspace(y0, y1, CLICK_GRID, dtype=np.float32))
    ix = np.clip(np.round((GX - xs[0]) / (xs[-1] - xs[0]) * (len(xs) - 1)).astype(int), 0, len(xs) - 1)
    iy = np.clip(np.round((GY - ys[0]) / (ys[-1] - ys[0]) * (len(ys) - 1)).astype(int), 0, len(ys) - 1)
    clicks = dict(type="scatter", mode="none", hoveron="points", x=f4(GX.ravel()), y=f4(GY.ravel()),
                  customdata=f4(z[iy, ix].ravel()), name="click to start here",
                  hovertemplate="x = %{x:.3g}, y = %{y:.3g}<br>f = %{customdata:.4g}"
                                "<br><i>click to start here</i><extra></extra>",
                  showlegend=False)
    return [bar, clicks]


def _marks(L: Landscape, start) -> list[dict]:
    """The landscape's minima (an empty trace if none are known) and the start point."""
    keep = dict(marker=dict(opacity=1))
    if L.minima:
        mx, my = zip(*L.minima)
        minima = dict(type="scatter", mode="markers", x=[_r(v) for v in mx], y=[_r(v) for v in my],
                      name="minimum (estimated)" if L.minima_estimated else "global minimum",
                      marker=dict(symbol="star", size=20, color="#ffd400", line=dict(color="#111111", width=1.5)),
                      unselected=keep, hovertemplate="minimum<br>(%{x:.4g}, %{y:.4g})<extra></extra>")
    else:
        minima = dict(type="scatter", x=[], y=[], showlegend=False, hoverinfo="skip")
    return [minima, dict(type="scatter", mode="markers", x=[_r(start[0])], y=[_r(start[1])], name="start",
                         marker=dict(symbol="circle", size=13, color="#ffffff",
                                     line=dict(color="#111111", width=2.5)),
                         unselected=keep, hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>")]


def _main_layout(scene: Scene, names: list[str], box, height: int, image: str) -> dict:
    """Equal-scaled axes (gradients look perpendicular to the contours), the landscape
    picture under them, the legend, and the Play/Pause buttons with the step slider."""
    x0, x1, y0, y1 = box
    play = dict(frame=dict(duration=50, redraw=False), transition=dict(duration=0),
                mode="immediate", fromcurrent=False)
    still = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    ticks = _thin(names, SLIDER_STEPS)
    axis = dict(constrain="domain", showgrid=False, zeroline=False, ticks="outside", mirror=True,
                showline=True, linecolor="#444")
    return dict(
        font=FONT, paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", height=height,
        margin=dict(l=64, r=24, t=16, b=16),
        xaxis=dict(range=[x0, x1], title=dict(text="x"), constraintoward="right", **axis),
        yaxis=dict(range=[y0, y1], title=dict(text="y", standoff=4), scaleanchor="x", scaleratio=1,
                   constraintoward="top", **axis),
        legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=15),
                    itemclick="toggle", itemdoubleclick="toggleothers", itemwidth=30,
                    bgcolor="rgba(255,255,255,0.8)"),
        hovermode="closest", hoverlabel=dict(font=dict(size=15)),
        # (a point the click grid does not draw hovers within 3 px + this: 33 px, as far as its
        # 26 px markers did with Plotly's default 20: the whole plot on a wide screen too)
        hoverdistance=HOVER_PX,
        clickmode="event", dragmode="zoom",
        uirevision=repr(scene.landscape_key()),
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0.0, y=0.0,
                          xanchor="left", yanchor="top", pad=dict(t=58, r=8), font=dict(size=15),
                          buttons=[dict(label="▶ Play", method="animate", args=[names, play]),
                                   dict(label="Pause", method="animate", args=[[None], still]),
                                   dict(label="Resume", method="animate",
                                        args=[None, dict(play, fromcurrent=True)])])],
        sliders=[dict(active=len(ticks) - 1, x=0.3, len=0.7, y=0.0, yanchor="top", pad=dict(t=52, b=0),
                      # no text (none was ever seen: the font is transparent); the step's frame
                      # name is its value.  Plotly measures every label and current value it
                      # draws, each new text a forced layout: new steps' 50 labels cost ~30 ms
                      currentvalue=dict(visible=False), font=dict(size=11, color="rgba(0,0,0,0)"),
                      ticklen=3, tickcolor="#888", transition=dict(duration=0),
                      steps=[dict(label="", value=n, method="animate", args=[[n], still]) for n in ticks])],
        images=[dict(source=image, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                     sizing="stretch", xanchor="left", yanchor="top", layer="below")])


def _fit_colour_bar(bar: dict, layout: dict, box):
    """The colour bar as tall as the (equal-scaled, top-aligned) landscape is expected to be."""
    x0, x1, y0, y1 = box
    frac = min(1.0, 560 * (y1 - y0) / (x1 - x0) / max(layout["height"] - 146, 1))
    bar["marker"]["colorbar"].update(len=0.9 * frac, y=1 - frac / 2, yanchor="middle")


# --- 3-D surface --------------------------------------------------------------------------

def surface_figure(scene: Scene, L: Landscape, grid, results: Sequence[RunResult],
                   labels: Sequence[str], ref: Reference, *, height: int = 700, stride: int = 4,
                   with_side: bool = True) -> SpecFigure:
    """The landscape as a surface of the contour's colour values, with the full paths (static),
    and the side plots to its right."""
    xs, ys, z = grid
    vals, cbar, base, floor, log = landscape_colors(L, z, ref)
    x0, x1, y0, y1 = _domain(L)
    lo, hi = scene.effective_span()
    ztitle = cbar["title"]["text"] + (" (log₁₀)" if log else "")
    data = [dict(type="surface", x=f4(xs[::stride]), y=f4(ys[::stride]), z=f4(vals[::stride, ::stride]),
                 colorscale=COLORSCALE, showscale=False, opacity=0.92, hoverinfo="skip",
                 contours=dict(z=dict(show=True, usecolormap=False, color="rgba(40,50,70,0.35)",
                                      width=1)), name="landscape")]

    def height_of(loss):
        d = np.asarray(loss, np.float64) - base
        if log:
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.log10(np.maximum(d, floor))
        return d

    for i, r in enumerate(results):
        color, _ = _run_style(i)
        idx = sampling.path_indices(r.xy, hi, 1500, head=200)
        end = sampling.last_finite(r.xy, hi if r.diverged_at is None else max(r.diverged_at - 1, 0))
        idx = idx[idx <= end]
        data.append(dict(type="scatter3d", mode="lines", x=f4(r.xy[idx, 0]), y=f4(r.xy[idx, 1]),
                         z=f4(height_of(r.loss[idx]) + 0.02), name=labels[i],
                         line=dict(color=color, width=6), hoverinfo="skip"))
    if L.minima:
        mx, my = zip(*L.minima)
        mz = height_of([float(L.f(np.asarray(m, np.float32))) for m in L.minima])
        data.append(dict(type="scatter3d", mode="markers", x=list(mx), y=list(my),
                         z=[_r(v) for v in mz], name="minimum",
                         marker=dict(symbol="diamond", size=6, color="#ffd400",
                                     line=dict(color="#111", width=1))))
    ratio = (y1 - y0) / (x1 - x0)
    side = with_side and bool(scene.panels) and bool(results)
    axes, notes = {}, []
    if side:
        traces, axes, notes = side_panels(scene, L, results, labels, ref, first_axis=1,
                                          x_domain=SIDE_DOMAIN, z=z)
        data.extend(traces)
    layout = dict(
        font=FONT, paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", height=height,
        margin=dict(l=0, r=16, t=30, b=50), annotations=notes, **axes,
        legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom", font=dict(size=15)),
        uirevision=repr(scene.landscape_key()),
        scene=dict(domain=dict(x=list(MAIN_DOMAIN) if side else [0, 1], y=[0, 1]),
                   xaxis=dict(title=dict(text="x"), range=[x0, x1]),
                   yaxis=dict(title=dict(text="y"), range=[y0, y1]),
                   zaxis=dict(title=dict(text=ztitle)),
                   aspectmode="manual",
                   aspectratio=dict(x=1.0, y=max(min(ratio, 2.0), 0.3), z=0.6),
                   camera=dict(eye=dict(x=1.4, y=-1.5, z=1.1))),
    )
    return SpecFigure(dict(data=data, layout=layout))


# --- side plots ---------------------------------------------------------------------------

def side_floor(panel: str, L: Landscape, ref: Reference) -> float | None:
    """What a side plot draws a smaller value at: about what a float32 run resolves.  The loss:
    f - f* is at least 1e-15 or one float32 step of f* (rounding makes the rest).  The distance
    to a minimum: half a float32 step of its largest coordinate (a run there is on that minimum;
    closer is only exactly on it), at least 1e-12.  None: the panel has no floor."""
    if panel == "loss":
        return max(1e-15, 2.0**-23 * abs(ref.f_star))
    if panel == "dist":
        steps = [float(np.spacing(np.float32(max(abs(mx), abs(my))))) / 2 for mx, my in L.minima]
        return max([1e-12] + steps)
    return None


def side_ceiling(panel: str, L: Landscape, z: np.ndarray, ref: Reference) -> float | None:
    """The top of a side plot's axis, from the landscape alone (None: from the curves): the loss's
    largest f - f* on the grid ``z`` over the domain, the distance's the domain's diagonal (no
    point of it is farther from a minimum in it).  A run in the domain stays about below it (the
    grid samples f; the axis goes up to the next whole decade), so a new start keeps the axis (a
    run that leaves it, diverging, goes off the top); each move of a range redrew the side plots
    anew in the page (~20-30 ms there)."""
    if panel == "loss":
        top = float(np.nanmax(z)) - ref.f_star if np.isfinite(z).any() else math.nan
    elif panel == "dist" and L.minima:
        (x0, x1), (y0, y1) = L.domain
        top = math.hypot(x1 - x0, y1 - y0)
    else:
        return None
    return top if math.isfinite(top) and top > 0 else None


def _panel_series(panel: str, r: RunResult, L: Landscape, ref: Reference, floor: float | None):
    """(x steps, list of (y values, dash)) for one run in one panel (``floor``: its
    :func:`side_floor`)."""
    if panel == "loss":
        y = np.maximum(r.loss.astype(np.float64) - ref.f_star, floor)
        return np.arange(len(y)), [(y, "solid")]
    if panel == "dist":
        y = L.nearest_minimum_distance(r.xy)
        return np.arange(len(y)), [(np.maximum(y, floor), "solid")]
    if panel == "step":
        y = r.step_length
        return np.arange(1, len(y) + 1), [(np.where(y > 0, y, np.nan), "solid")]
    if panel == "elr":
        e = r.effective_lr
        return np.arange(1, len(e) + 1), [(e[:, 0], "solid"), (e[:, 1], "dot")]
    raise ValueError(panel)


NEAR_FLOOR = 1e4  # a curve this close to its side plot's floor: the axis goes down to the floor


def decade_range(lo: float, hi: float, floor: float | None = None, ceiling: float | None = None) -> list[float]:
    """A log axis's range (log10 units) from the decade at or below ``lo`` to the one at or
    above ``hi`` (both > 0), a little wider so that a curve on a decade line stays visible.
    With a ``floor`` (:func:`side_floor`) and ``lo`` within ``NEAR_FLOOR`` of it, from the floor's
    decade: runs that converge as far as float32 goes end anywhere in the few decades above it
    (1e-13 .. 1e-15 for the default race), and a new start would move the axis each time.  With
    a ``ceiling`` (:func:`side_ceiling`), up to its decade whatever ``hi`` is."""
    if floor is not None and lo < floor * NEAR_FLOOR:
        lo = min(lo, floor)
    if ceiling is not None:
        hi = ceiling
        lo = min(lo, ceiling / 10)
    a, b = math.log10(lo), math.log10(hi)
    a0, b0 = math.floor(a + 1e-9), math.ceil(b - 1e-9)
    if b0 <= a0:
        b0 = a0 + 1
    return [a0 - 0.04 * (b0 - a0), b0 + 0.04 * (b0 - a0)]


def _side_trace(i: int, label: str, ax: str, x: np.ndarray, y: np.ndarray, dash: str) -> dict:
    """One curve of run place ``i`` in a side plot (an empty place, or a curve with nothing to
    draw: no name, a point not drawn, ``_NONE``; the same trace otherwise)."""
    none = not len(y) or y is _NONE
    return dict(type="scatter", mode="lines", x=f4(_NONE) if none else i4(x), y=f4(_NONE) if none else f4(y), xaxis=f"x{ax}", yaxis=f"y{ax}",
                name=label, legendgroup=f"run{i}", showlegend=False,
                line=dict(color=_run_style(i)[0], width=2, dash=dash),
                hovertemplate=f"{label}<br>step %{{x}}: %{{y:.3g}}<extra></extra>" if label else "")


_DASHES = {"elr": ("solid", "dot")}  # a side plot's curves per run (others: one, solid)


def _side_run(panel: str, i: int, r: RunResult, label: str, L: Landscape, ref: Reference,
              lo: int, hi: int, ax: str, budget: int, floor: float | None):
    """Run ``i``'s curves in one side plot (on axes ``x{ax}``/``y{ax}``; always one per series,
    empty where nothing is finite and positive) and their (min, max)."""
    x, series = _panel_series(panel, r, L, ref, floor)
    whole = not len(x) or (lo <= x[0] and x[-1] <= hi)  # (x is sorted; the window is most often all of it)
    window = None if whole else (x >= lo) & (x <= hi)
    xw = x if whole else x[window]
    traces, ylo, yhi = [], math.inf, -math.inf
    for y, dash in series:
        yw = np.asarray(y, np.float64) if whole else np.asarray(y, np.float64)[window]
        keep = np.isfinite(yw) & (yw > 0)  # nothing non-finite reaches a figure
        xk, yk = (xw, yw) if keep.all() else (xw[keep], yw[keep])
        if not len(yk):
            traces.append(_side_trace(i, "", ax, xk, yk, dash))
            continue
        idx = sampling.series_indices(np.log10(yk), budget)
        ylo, yhi = min(ylo, float(yk[idx].min())), max(yhi, float(yk[idx].max()))
        traces.append(_side_trace(i, label, ax, xk[idx], yk[idx], dash))
    return traces, (ylo, yhi)


SIDE_DOMAIN = (0.75, 1.0)  # x-range of the side plots in a combined figure (paper units)
# points of a side plot's curve (about: its min and max per bucket keep oscillations): a plot
# ~350 px wide; 400 -> 200 drew the same here and took a page's update of every run ~6 ms less
SIDE_POINTS = 200
MAIN_DOMAIN = (0.0, 0.58)  # ... and of the landscape next to them


def side_panels(scene: Scene, L: Landscape, results: Sequence[RunResult], labels: Sequence[str],
                ref: Reference, *, first_axis: int = 1, x_domain=(0.0, 1.0), budget: int = SIDE_POINTS,
                digests: Sequence[bytes] | None = None, places: int = 0, z: np.ndarray | None = None):
    """The side plots' traces, axes and titles: loss, distance to the nearest global minimum,
    step length, |Δθᵢ/gᵢ| vs step, one row each (log y), sharing the step axis.
    Returns ``(traces, layout_axes, annotations)``; axes are numbered from ``first_axis``.
    The y ranges are explicit, whole decades (:func:`decade_range`): the page's chart updates
    one run's curves without re-plotting the rest (an autorange would go stale), and a range
    that moves only when a curve crosses a decade spares re-plotting the axes.  ``places``: run
    places there are curves for at least (empty past the runs: see :func:`main_figure`).  ``z``:
    the landscape's grid of f, if the caller has it (the tops of the loss's and the distance's
    axes: :func:`side_ceiling`)."""
    panels = [p for p in scene.panels if not (p == "dist" and not L.minima)]
    digests = digests or [_content(r) for r in results]  # (main_figure has them already)
    n = len(panels)
    lo, hi = scene.effective_span()
    gap = 0.1 if n > 1 else 0.0
    h = (1.0 - gap * (n - 1)) / max(n, 1)
    traces, axes, notes = [], {}, []
    first = "" if first_axis == 1 else str(first_axis)
    for row, panel in enumerate(panels):
        k = first_axis + row
        ax = "" if k == 1 else str(k)
        top = 1.0 - row * (h + gap)
        xtype = "log" if scene.log_steps else "linear"
        xr = [math.log10(max(lo, 1)), math.log10(max(hi, 2))] if scene.log_steps else [lo, hi]
        axes[f"xaxis{ax}"] = dict(anchor=f"y{ax}", domain=list(x_domain), type=xtype, range=xr,
                                  showgrid=True, gridcolor="#e6e6e6", zeroline=False, showline=True,
                                  linecolor="#444", ticks="outside", tickfont=dict(size=13),
                                  matches=None if row == 0 else f"x{first}",
                                  showticklabels=row == n - 1,
                                  title=dict(text="step", font=dict(size=14)) if row == n - 1 else None)
        axes[f"yaxis{ax}"] = dict(anchor=f"x{ax}", domain=[max(top - h, 0.0), top], type="log",
                                  showgrid=True, gridcolor="#e6e6e6", showline=True, linecolor="#444",
                                  ticks="outside", exponentformat="power", tickfont=dict(size=13))
        # the panel's title names its quantity (no axis title: room for the colour bar)
        # (short enough for the plot's width: a longer one covered the axis' top tick label)
        title = {"loss": f"<b>{ref.label} vs step</b>", "dist": "<b>distance to a global minimum</b>",
                 "step": "<b>step length ‖Δθ‖</b>",
                 "elr": "<b>|Δθᵢ/gᵢ|</b> (solid x, dotted y)<br><span style='font-size:11px'>"
                        "a step size only for SGD-like rules</span>"}[panel]
        notes.append(dict(text=title, x=x_domain[1], xref="paper", xanchor="right",
                          y=top, yref="paper", yanchor="top", showarrow=False, font=dict(size=13),
                          bgcolor="rgba(255,255,255,0.85)"))
        ylo, yhi = math.inf, -math.inf
        minima = tuple(L.minima) if panel == "dist" else ()
        floor = side_floor(panel, L, ref)
        ceiling = side_ceiling(panel, L, z, ref) if z is not None else None
        for i, r in enumerate(results):
            key = ("side", digests[i], panel, i, labels[i], lo, hi, ax, budget, minima,
                   ref.f_star if panel == "loss" else None)
            run_traces, (a, b) = _MEMO.get(key, lambda i=i, r=r: _side_run(panel, i, r, labels[i], L, ref,
                                                                       lo, hi, ax, budget, floor))
            traces.extend(run_traces)
            ylo, yhi = min(ylo, a), max(yhi, b)
        traces.extend(_side_trace(i, "", ax, _NONE, _NONE, dash)
                      for i in range(len(results), places) for dash in _DASHES.get(panel, ("solid",)))
        if ylo <= yhi:  # whole decades: around the curves, or from the floor, up to the ceiling (log10 units)
            axes[f"yaxis{ax}"]["range"] = decade_range(ylo, yhi, floor, ceiling)
    return traces, axes, notes


def side_figure(scene: Scene, L: Landscape, results: Sequence[RunResult], labels: Sequence[str],
                ref: Reference, *, height: int = 700, budget: int = 400) -> SpecFigure:
    """The side plots alone (the page draws them inside the main figure, see main_figure)."""
    traces, axes, notes = side_panels(scene, L, results, labels, ref, budget=budget)
    n = len([k for k in axes if k.startswith("y")])
    layout = dict(font=dict(FONT, size=14), paper_bgcolor="#ffffff", plot_bgcolor="#ffffff",
                  height=max(height, 170 * n + 80), margin=dict(l=70, r=16, t=34, b=50),
                  showlegend=False, hovermode="closest", hoverlabel=dict(font=dict(size=13)),
                  annotations=notes, uirevision=repr(scene.landscape_key()), **axes)
    if not n:
        layout["annotations"] = [dict(text="no side plots selected", x=0.5, y=0.5, xref="paper",
                                      yref="paper", showarrow=False)]
        layout["xaxis"] = dict(visible=False)
        layout["yaxis"] = dict(visible=False)
        layout["height"] = 120
    return SpecFigure(dict(data=traces, layout=layout))
