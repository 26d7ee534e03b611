"""Which steps go into a figure: a few hundred of 100,000, keeping the shape.

Early steps matter most (that is where optimizers differ), so every sampler
mixes log-spaced steps (dense at the start) with evenly spaced ones, and the
path samplers add points evenly spaced in *arc length*, so the parts where the
iterate actually moves get the detail.  The CSV export keeps every step.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=256)  # a few (lo, hi, n) per scene, asked by every run's samplers
def _log_uniform(lo: int, hi: int, n: int) -> np.ndarray:
    """About ``n`` integers in [lo, hi], half log-spaced from lo, half uniform, lo and hi
    included (read-only: one array shared by every caller)."""
    if hi - lo + 1 <= n:
        out = np.arange(lo, hi + 1)
    else:
        half = max(n // 2, 2)
        logs = lo + np.unique(np.round(np.geomspace(1, hi - lo + 1, half) - 1).astype(np.int64))
        lin = np.round(np.linspace(lo, hi, n - half)).astype(np.int64)
        out = np.unique(np.concatenate([logs, lin, [lo, hi]]))
    out.flags.writeable = False
    return out


def frame_steps(lo: int, hi: int, n: int = 100) -> np.ndarray:
    """Exactly ``min(n, hi - lo + 1)`` animation frame steps in [lo, hi], lo and hi included:
    log-spaced at the start, uniform later."""
    count = min(n, hi - lo + 1)
    if count <= 2:
        return np.array(sorted({lo, hi}), np.int64)
    cand = _log_uniform(lo, hi, count)
    k = count
    while len(cand) < count and k < 8 * count:  # log-spacing collides at the start: ask for more
        k += count // 4 + 1
        cand = _log_uniform(lo, hi, k)
    if len(cand) > count:  # keep lo and hi, thin the rest evenly
        keep = np.round(np.linspace(0, len(cand) - 1, count)).astype(np.int64)
        cand = cand[np.unique(keep)]
    return cand


def arc_length(xy: np.ndarray, hi: int) -> np.ndarray:
    """The path's length from row 0 to each row <= ``hi`` (NaN steps count 0): what
    :func:`path_indices` spaces its points by (a caller asking twice computes it once)."""
    hi = int(hi)
    seg = xy[1: hi + 1] - xy[:hi]
    dx, dy = seg[:, 0], seg[:, 1]
    d = np.sqrt(dx * dx + dy * dy)  # (the same sum as .sum(axis=1), ~15x sooner on (n, 2))
    d = np.where(np.isfinite(d), d, 0.0)
    return np.concatenate([[0.0], np.cumsum(d)])


def path_indices(xy: np.ndarray, hi: int, budget: int, head: int = 0,
                 cum: np.ndarray | None = None) -> np.ndarray:
    """At most ``budget`` row indices in [0, hi] of a path ``xy`` (rows, 2) that keep its shape.

    A mix of: the first ``head`` rows, log-spaced rows, rows evenly spaced in
    arc length (where the iterate moves, it gets points) and evenly spaced rows;
    0 and ``hi`` always included.  Rows that are NaN (after divergence) still
    count; callers cut at the last finite row.  ``cum``: :func:`arc_length` of
    ``xy`` and ``hi``, if the caller has it.
    """
    hi = int(hi)
    if hi + 1 <= budget:
        return np.arange(hi + 1)
    budget = max(budget, 8)
    parts = [np.arange(min(head, hi + 1))]
    rest = budget - len(parts[0])
    parts.append(_log_uniform(0, hi, rest // 2))
    cum = arc_length(xy, hi) if cum is None else cum
    if cum[-1] > 0:
        targets = np.linspace(0.0, cum[-1], rest - rest // 2)
        parts.append(np.searchsorted(cum, targets).clip(0, hi))
    idx = np.unique(np.concatenate(parts + [np.array([0, hi])]))
    if len(idx) > budget:
        keep = np.round(np.linspace(0, len(idx) - 1, budget)).astype(np.int64)
        idx = idx[np.unique(keep)]
    return idx


def series_indices(values: np.ndarray, budget: int = 800) -> np.ndarray:
    """Indices of a 1-D series (loss, step length, ...) for a line plot of about ``budget`` points:
    log-spaced steps plus, per bucket of the rest, the rows of its min and max (so oscillations
    keep their envelope instead of aliasing)."""
    n = len(values)
    if n <= budget:
        return np.arange(n)
    logs = _log_uniform(0, n - 1, budget // 4)
    buckets = max((budget - len(logs)) // 2, 1)
    width = -(-n // buckets)  # ceil
    if np.isfinite(values).all():  # (most series: the same indices, ~2.5x sooner)
        return _finite_indices(values, logs, width)
    table = np.full(buckets * width, np.nan)
    table[:n] = np.where(np.isfinite(values), values, np.nan)
    table = table.reshape(buckets, width)  # (buckets, width), NaN-padded
    idx = [logs, np.array([0, n - 1])]
    rows = np.flatnonzero(~np.all(np.isnan(table), axis=1))
    if len(rows):  # (each row has a number: NaN as +-inf finds what nanargmin/max find, sooner)
        t = table[rows]
        gap = np.isnan(t)
        idx.append(rows * width + np.argmin(np.where(gap, np.inf, t), axis=1))
        idx.append(rows * width + np.argmax(np.where(gap, -np.inf, t), axis=1))
    return np.unique(np.concatenate(idx)).clip(0, n - 1)


def _finite_indices(values: np.ndarray, logs: np.ndarray, width: int) -> np.ndarray:
    """:func:`series_indices` of a series without NaN: the buckets that hold rows, the last one
    filled up with the last value (an argmin or argmax finds the first of equal values: a row,
    never the filling)."""
    n = len(values)
    rows = -(-n // width)
    table = np.empty(rows * width)
    table[:n] = values
    table[n:] = values[-1]
    table = table.reshape(rows, width)
    at = np.arange(rows) * width
    return np.unique(np.concatenate([logs, [0, n - 1], at + table.argmin(axis=1), at + table.argmax(axis=1)]))


def last_finite(xy: np.ndarray, hi: int) -> int:
    """The last row <= hi whose point is finite (0 if none)."""
    ok = np.isfinite(xy[: hi + 1]).all(axis=1)
    if ok.all():
        return hi
    good = np.flatnonzero(ok)
    return int(good[-1]) if len(good) else 0
