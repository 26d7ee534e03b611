"""The public calls that return whole trajectories: ``run`` (one) and ``run_batch`` (many).

Both check their arguments (``optimizers.checks``, ``optimizers.registry``) and call the
compiled programs of ``optimizers.runner``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from landscapes import Landscape
from optimizers import schedules
from optimizers.base import Rule
from optimizers.checks import gradient_transforms, landscape_of, start_point, step_count
from optimizers.registry import get, resolve
from optimizers.runner import (Program, Trajectory, as_f32, bucket_for, finish, pack, simulate,
                               simulate_batch)
from optimizers.transforms import SEED

__all__ = ["run", "run_batch", "BatchResult"]

MAX_BATCH = 1_000_000  # runs in one run_batch call


def run(landscape: str | Landscape, optimizer: str, start: Sequence[float] | None = None,
        steps: int = 1000, *, schedule: str = "constant", schedule_params: Mapping | None = None,
        clip_value: float | None = None, clip_norm: float | None = None,
        noise: float = 0.0, seed: int = 0, lookahead: bool = False,
        **hyperparams) -> Trajectory:
    """Run ``optimizer`` on ``landscape`` from ``start`` for ``steps`` updates.

    Args:
      landscape: a name from ``landscapes.names()`` or a ``Landscape``.
      optimizer: a name from ``names()``.
      start: (x, y); the landscape's default start if None.
      steps: number of updates, 1 to 1,000,000.
      schedule, schedule_params: a learning-rate schedule from ``schedule_names()``
        and its numbers (the rate is ``learning_rate`` times the schedule's factor).
      clip_value, clip_norm: clip each gradient by value / by global norm (None = off).
      noise, seed: standard deviation and seed of Gaussian gradient noise (0 = off).
      lookahead: wrap the rule in Lookahead (adds ``sync_period``, ``slow_step_size``).
      **hyperparams: the rule's hyperparameters, by optax's names.
    """
    L = landscape_of(landscape)
    rule = get(optimizer, lookahead=lookahead)
    hp = resolve(rule, hyperparams)
    steps = step_count(steps)
    xy0 = start_point(start, L)
    sched = schedules.validate(schedule, schedule_params)
    switches, numbers, seed = gradient_transforms(clip_value, clip_norm, noise, seed)
    program = Program(rule=rule, schedule=schedule, switches=switches)
    out = simulate(L.objective, program, bucket_for(steps),
                   *pack(L.objective_params, hp, sched, numbers, xy0, seed, steps))
    xy, loss, grad, lr, diverged_at = finish(out, steps)
    return Trajectory(xy=xy, loss=loss, grad=grad, lr=lr, diverged_at=diverged_at,
                      landscape=L.name, optimizer=rule.name, hyperparams=hp)


class BatchResult:
    """Many runs of one rule: arrays with a leading batch axis ``n``.

    xy (n, steps+1, 2), loss (n, steps+1), grad (n, steps+1, 2),
    diverged_at (n,) int, -1 where the run stayed finite.
    """

    def __init__(self, xy, loss, grad, diverged_at):
        self.xy, self.loss, self.grad, self.diverged_at = xy, loss, grad, diverged_at

    def __len__(self):
        return len(self.xy)


def run_batch(landscape: str | Landscape, optimizer: str, starts=None, steps: int = 1000, *,
              schedule: str = "constant", schedule_params: Mapping | None = None,
              clip_value: float | None = None, clip_norm: float | None = None,
              noise: float = 0.0, seeds=None, lookahead: bool = False,
              **hyperparams) -> BatchResult:
    """Many runs in one vmapped call: each hyperparameter may be a 1-D array of length n,
    ``starts`` an (n, 2) array, ``seeds`` an (n,) array; scalars are shared by all runs.

    Run ``i`` equals ``run(...)`` with the i-th values.
    """
    L = landscape_of(landscape)
    rule = get(optimizer, lookahead=lookahead)
    steps = step_count(steps)
    arrays = {k: np.atleast_1d(np.asarray(v, np.float64)) for k, v in hyperparams.items()
              if np.ndim(v) > 0}
    starts_arr = _starts_array(starts)
    n = _batch_size(arrays, starts_arr, seeds)
    hp = _batched_hyperparams(rule, hyperparams, arrays, n)
    if starts_arr is None:
        starts_arr = np.tile(np.asarray(L.start), (n, 1))
    for s in (starts_arr.min(axis=0), starts_arr.max(axis=0)):
        start_point(s, L)
    starts_arr = np.broadcast_to(starts_arr, (n, 2)).astype(np.float32)
    sched = schedules.validate(schedule, schedule_params)
    switches, numbers, seed0 = gradient_transforms(clip_value, clip_norm, noise, 0)
    seeds_arr = _seeds_array(seeds, seed0, n)
    program = Program(rule=rule, schedule=schedule, switches=switches)
    axes = (None, 0, None, None, 0, 0, None)
    rows = simulate_batch(
        L.objective, program, bucket_for(steps), as_f32(L.objective_params), hp,
        as_f32(sched), as_f32(numbers), starts_arr, seeds_arr, np.int32(steps), axes=axes)
    return _batch_result(np.asarray(rows)[:, : steps + 1], steps)  # (n, steps + 1, ROW)


def _starts_array(starts) -> np.ndarray | None:
    """``starts`` as an (n, 2) float array (a single point becomes n = 1), or None."""
    if starts is None:
        return None
    try:
        starts_arr = np.asarray(starts, np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"starts must be an (n, 2) array of numbers, got {starts!r:.60}") from None
    if starts_arr.ndim == 1 and starts_arr.shape == (2,):
        starts_arr = starts_arr[None]
    if starts_arr.ndim != 2 or starts_arr.shape[1] != 2:
        raise ValueError(f"starts must be an (n, 2) array, got shape {starts_arr.shape}")
    return starts_arr


def _batch_size(arrays: dict, starts_arr, seeds) -> int:
    """How many runs: the longest array among starts, seeds and hyperparameters."""
    sizes = {len(a) for a in arrays.values()}
    if starts_arr is not None:
        sizes.add(len(starts_arr))
    if seeds is not None:
        sizes.add(len(np.atleast_1d(seeds)))
    sizes.discard(1)
    if len(sizes) > 1:
        raise ValueError(f"batched arguments have different lengths: {sorted(sizes)}")
    n = sizes.pop() if sizes else 1
    if n > MAX_BATCH:
        raise ValueError(f"a batch of {n} runs is too large: at most 1,000,000")
    return n


def _batched_hyperparams(rule: Rule, hyperparams: Mapping, arrays: dict, n: int) -> dict:
    """Every hyperparameter as an (n,) float32 array, each value checked against its range."""
    scalars = {k: v for k, v in hyperparams.items() if k not in arrays}
    base = resolve(rule, {**scalars, **{k: a[0] for k, a in arrays.items()}})
    hp = {k: np.full(n, v, np.float32) for k, v in base.items()}
    for k, a in arrays.items():
        spec = rule.spec(k)
        # the range needs only the extremes; whole numbers and booleans need every value
        values = np.unique(a) if spec.kind != "float" else (a.min(), a.max())
        for v in values:
            spec.validate(v, rule.name)
        hp[k] = np.broadcast_to(a, (n,)).astype(np.float32)
    return hp


def _seeds_array(seeds, seed0: int, n: int) -> np.ndarray:
    """(n,) uint32 noise seeds, each checked."""
    if seeds is None:
        return np.zeros(n, np.uint32) + seed0
    seeds_in = np.atleast_1d(np.asarray(seeds, dtype=object))
    for v in set(seeds_in.tolist()):
        SEED.validate(v)
    return np.broadcast_to(seeds_in.astype(np.int64), (n,)).astype(np.uint32)


def _batch_result(rows: np.ndarray, steps: int) -> BatchResult:
    """Unpack the (n, steps + 1, ROW) rows; blank each run from its first non-finite row on."""
    xs, ls, gs = np.array(rows[..., 0:2]), np.array(rows[..., 2]), np.array(rows[..., 3:5])
    bad = ~(np.isfinite(xs).all(axis=2) & np.isfinite(ls))
    diverged = np.where(bad.any(axis=1), bad.argmax(axis=1), -1)
    mask = np.arange(steps + 1)[None, :] >= np.where(diverged < 0, steps + 1, diverged)[:, None]
    xs[mask] = np.nan
    ls[mask] = np.nan
    gs[mask] = np.nan
    return BatchResult(xs, ls, gs, diverged)
