"""The numbers of the per-run table, and the reference value f* the plots subtract.

    final loss, best loss, steps to reach f - f* <= tol, diverged at which step,
    final distance to the nearest listed global minimum (local minima are not counted), final point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from landscapes import Landscape
from viz.race.compute import RunResult


@dataclass(frozen=True)
class Reference:
    """The value the loss plots and the tolerance are measured from."""

    f_star: float
    label: str  # "f − f*" or "f − min f (estimated)"
    known: bool  # True when f* is the landscape's known global minimum value


def reference(L: Landscape, results: Sequence[RunResult], grid_min: float | None = None) -> Reference:
    """f*: the landscape's known minimum value; for estimated minima (custom formulas), the
    lowest value seen (estimated minima, grid, every run)."""
    if L.f_min is not None and not L.minima_estimated:
        return Reference(float(L.f_min), "f − f*", True)
    candidates = [float(L.f_min)] if L.f_min is not None and math.isfinite(L.f_min) else []
    if grid_min is not None and math.isfinite(grid_min):
        candidates.append(float(grid_min))
    for r in results:
        finite = r.loss[np.isfinite(r.loss)]
        if finite.size:
            candidates.append(float(finite.min()))
    f_star = min(candidates) if candidates else 0.0
    return Reference(f_star, "f − min f (estimated)", False)


def steps_to_tol(loss: np.ndarray, f_star: float, tol: float) -> int | None:
    """The first step k with loss[k] - f* <= tol, or None."""
    hit = np.flatnonzero(np.nan_to_num(loss - f_star, nan=np.inf) <= tol)
    return int(hit[0]) if hit.size else None


def summary(result: RunResult, L: Landscape, ref: Reference, tol: float) -> dict:
    """One row of the table (plain Python numbers; None where there is nothing to say)."""
    loss = result.loss
    finite = np.isfinite(loss)
    last = int(np.flatnonzero(finite)[-1]) if finite.any() else 0
    final = float(loss[last]) if finite.any() else math.nan
    best = float(np.nanmin(loss)) if finite.any() else math.nan
    xy = result.xy[last]
    dist = float(L.nearest_minimum_distance(xy)) if L.minima else math.nan
    return {
        "final loss": final,
        "best loss": best,
        "final gap": final - ref.f_star,
        "steps to tol": steps_to_tol(loss, ref.f_star, tol),
        "diverged at": result.diverged_at,
        "final distance": dist,
        "final x": float(xy[0]),
        "final y": float(xy[1]),
    }


def table(results: Sequence[RunResult], labels: Sequence[str], L: Landscape, ref: Reference,
          tol: float) -> list[dict]:
    """Rows for the page's table: the run label first, then :func:`summary`'s columns."""
    return [{"run": label, **summary(r, L, ref, tol)} for r, label in zip(results, labels)]


def fmt_cell(v) -> str:
    """Table formatting: 4 significant digits, '—' for missing, whole numbers for steps."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.4g}"


def table_cells(results: Sequence[RunResult], labels: Sequence[str], L: Landscape, ref: Reference,
                tol: float, colors: Sequence[str]) -> dict:
    """The page's results table as plain text cells: a header, a row per run, the runs' colours."""
    rows = table(results, labels, L, ref, tol)
    header = ["run", "final loss", "best loss", f"steps to {ref.label} ≤ {tol:g}",
              "diverged at step", "distance to global minimum"]
    cells = [[r["run"]] + [fmt_cell(r[k]) for k in
                           ("final loss", "best loss", "steps to tol", "diverged at", "final distance")]
             for r in rows]
    return {"header": header, "rows": cells, "colors": [colors[i % len(colors)] for i in range(len(rows))]}
