"""Offline: pick each (landscape, optimizer)'s default learning rate.

    python -m viz.race._tune > /tmp/lr_table.txt

For every built-in landscape and update rule, all learning rates of a log grid
(1-2-5 per decade) run from the landscape's default start for STEPS steps in
one vmapped call (``optimizers.run_batch``).  A rate is *safe* when neither it
nor the next two notches up diverge or leave a box three times the domain, and
its steps are not jumpy (over the first 200 steps, the 90th percentile of the
step length is at most 5 % of the domain's diagonal).

The target is to close 99.9 % of the gap f(start) - f*, or, where no safe rate
gets there (egg-crates, local minima), 99 % of the best improvement any safe
rate achieves.  We take the safe rate that reaches the target in the fewest
steps (each optimizer near its best: a fair race) and go one notch down (a
factor 2 to 2.5: three notches of margin before divergence, smoother motion).
The result is pasted into ``viz.race.defaults.DEFAULT_LR``.
"""

from __future__ import annotations

import sys

import numpy as np

import landscapes
import optimizers

STEPS = 10_000
GRID = np.array([m * 10.0**e for e in range(-5, 1) for m in (1, 2, 5)] + [10.0])


def _gap(L, loss):
    f_min = L.f_min if L.f_min is not None else np.nanmin(loss)
    return np.maximum(loss - f_min, 0.0)


def pick(landscape: str, optimizer: str, steps: int = STEPS) -> float:
    L = landscapes.get(landscape)
    res = optimizers.run_batch(L, optimizer, steps=steps, learning_rate=GRID)
    (x0, x1), (y0, y1) = L.domain
    w, h = x1 - x0, y1 - y0
    xy = res.xy
    inside = ((xy[..., 0] > x0 - w) & (xy[..., 0] < x1 + w) & (xy[..., 1] > y0 - h) & (xy[..., 1] < y1 + h))
    ok = (res.diverged_at < 0) & np.nan_to_num(inside, nan=0).all(axis=1)
    safe = np.array([ok[i:i + 3].all() and i + 2 < len(ok) for i in range(len(ok))])
    steps_len = np.linalg.norm(np.diff(xy[:, :201], axis=1), axis=2)  # (n, 200)
    jumpy = np.nanpercentile(np.nan_to_num(steps_len, nan=np.inf), 90, axis=1) > 0.05 * np.hypot(w, h)
    safe &= ~jumpy
    gap = np.nan_to_num(_gap(L, res.loss), nan=np.inf)  # (n, steps+1)
    if not safe.any():
        return 1e-6  # the smallest rate a rule accepts
    gap0 = float(gap[0, 0])
    best_final = float(np.where(safe, gap[:, -1], np.inf).min())
    target = 1e-3 * gap0 if best_final <= 1e-3 * gap0 else best_final + 0.01 * (gap0 - best_final)
    reached = gap <= target
    first = np.where(reached.any(axis=1) & safe, reached.argmax(axis=1), steps + 1)
    best = int(np.argmin(first))
    if first[best] > steps:  # nothing safe reached the target: the safe rate that ends lowest
        final = np.where(safe, gap[:, -1], np.inf)
        return float(GRID[int(np.argmin(final))]) if np.isfinite(final).any() else 1e-6
    return float(GRID[max(best - 1, 0)])


def main():
    out = {}
    for ls in landscapes.names():
        row = {}
        for opt in optimizers.names():
            row[opt] = pick(ls, opt)
        out[ls] = row
        print(ls, row, file=sys.stderr, flush=True)
    print("DEFAULT_LR = {")
    for ls, row in out.items():
        print(f"    {ls!r}: {{" + ", ".join(f"{k!r}: {v:g}" for k, v in row.items()) + "},")
    print("}")


if __name__ == "__main__":
    main()
