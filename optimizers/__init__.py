"""Update rules, written next to their math, and the jit-compiled runner.

    >>> import optimizers
    >>> tr = optimizers.run("rosenbrock", "adam", start=(-1.5, 2.0), steps=10_000,
    ...                     learning_rate=1e-2, b1=0.9)
    >>> tr.xy.shape, tr.loss.shape, tr.diverged_at
    ((10001, 2), (10001,), None)

Hyperparameters are keyword arguments named as optax names them (ftrl takes
Keras's names).  Unknown names and out-of-range values raise ValueError.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

import landscapes
from landscapes import Landscape
from optimizers import schedules
from optimizers.adam import ADAM, ADAMAX, ADAMW, AMSGRAD, NADAM, RADAM
from optimizers.adaptive import ADADELTA, ADAGRAD, RMSPROP
from optimizers.base import Rule
from optimizers.ftrl import FTRL
from optimizers.lookahead import lookahead
from optimizers.runner import (MAX_STEPS, Program, Trajectory, as_f32, bucket_for, finish,
                               pack, simulate, simulate_batch)
from optimizers.schedules import SCHEDULES, schedule_names
from optimizers.sgd import MOMENTUM_RULE, NESTEROV_RULE, SGD
from optimizers.transforms import CLIP_NORM, CLIP_VALUE, NOISE, SEED, GradientSwitches

__all__ = ["names", "get", "run", "run_batch", "Rule", "Trajectory", "BatchResult",
           "schedule_names", "SCHEDULES", "lookahead", "resolve", "sweep", "SweepResult", "tune"]

_RULES: dict[str, Rule] = {r.name: r for r in [
    SGD, MOMENTUM_RULE, NESTEROV_RULE, ADAGRAD, RMSPROP, ADADELTA,
    ADAM, NADAM, ADAMAX, FTRL, AMSGRAD, RADAM, ADAMW,
]}
_RULES["ranger"] = lookahead(RADAM, name="ranger")
_LOOKAHEAD = {name: lookahead(rule) for name, rule in _RULES.items() if name != "ranger"}


def names() -> list[str]:
    """Names of the update rules, in the order the app lists them."""
    return list(_RULES)


def get(name: str, lookahead: bool = False) -> Rule:
    """The rule ``name``; with ``lookahead=True``, wrapped in Lookahead."""
    if not isinstance(name, str) or name not in _RULES:
        raise ValueError(f"unknown optimizer {name!r:.60}; choose one of: {', '.join(_RULES)}")
    if lookahead and name != "ranger":
        return _LOOKAHEAD[name]
    return _RULES[name]


def resolve(rule: Rule, hyperparams: Mapping[str, Any]) -> dict[str, float]:
    """All of ``rule``'s hyperparameters, defaults filled in, each checked against its range."""
    specs = {p.name: p for p in rule.hyperparams}
    for k in hyperparams:
        if k not in specs:
            raise ValueError(f"{rule.name} has no hyperparameter {k!r:.40}; "
                             f"its hyperparameters: {', '.join(specs)}")
    return {p.name: p.validate(hyperparams.get(p.name, p.default), rule.name) for p in specs.values()}


def _landscape(landscape) -> Landscape:
    if isinstance(landscape, Landscape):
        return landscape
    return landscapes.get(landscape)


def _start(start, L: Landscape) -> tuple[float, float]:
    if start is None:
        return L.start
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError(f"start must be a pair of numbers (x, y), got {start!r:.60}") from None
    if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > 1e6:
        raise ValueError(f"start must be finite with |x|, |y| <= 1e6, got ({x}, {y})")
    return (x, y)


def _steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        if isinstance(steps, float) and steps.is_integer():
            steps = int(steps)
        else:
            raise ValueError(f"steps must be a whole number, got {steps!r:.40}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps={steps} is out of range: valid range is [1, {MAX_STEPS}]")
    return int(steps)


def _switches_and_numbers(clip_value, clip_norm, noise, seed):
    numbers = {}
    if clip_value is not None:
        numbers["clip_value"] = CLIP_VALUE.validate(clip_value)
    if clip_norm is not None:
        numbers["clip_norm"] = CLIP_NORM.validate(clip_norm)
    noise = NOISE.validate(noise)
    if noise > 0:
        numbers["noise"] = noise
    seed = int(SEED.validate(seed))
    switches = GradientSwitches(noise=noise > 0, clip_value=clip_value is not None,
                                clip_norm=clip_norm is not None)
    return switches, numbers, seed


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
    L = _landscape(landscape)
    rule = get(optimizer, lookahead=lookahead)
    hp = resolve(rule, hyperparams)
    steps = _steps(steps)
    xy0 = _start(start, L)
    sched = schedules.validate(schedule, schedule_params)
    switches, numbers, seed = _switches_and_numbers(clip_value, clip_norm, noise, seed)
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
    L = _landscape(landscape)
    rule = get(optimizer, lookahead=lookahead)
    steps = _steps(steps)
    # how many runs: the longest array among starts, seeds and hyperparameters
    arrays = {k: np.atleast_1d(np.asarray(v, np.float64)) for k, v in hyperparams.items()
              if np.ndim(v) > 0}
    starts_arr = None
    if starts is not None:
        try:
            starts_arr = np.asarray(starts, np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"starts must be an (n, 2) array of numbers, got {starts!r:.60}") from None
        if starts_arr.ndim == 1 and starts_arr.shape == (2,):
            starts_arr = starts_arr[None]
        if starts_arr.ndim != 2 or starts_arr.shape[1] != 2:
            raise ValueError(f"starts must be an (n, 2) array, got shape {starts_arr.shape}")
    sizes = {len(a) for a in arrays.values()}
    if starts_arr is not None:
        sizes.add(len(starts_arr))
    if seeds is not None:
        sizes.add(len(np.atleast_1d(seeds)))
    sizes.discard(1)
    if len(sizes) > 1:
        raise ValueError(f"batched arguments have different lengths: {sorted(sizes)}")
    n = sizes.pop() if sizes else 1
    if n > 1_000_000:
        raise ValueError(f"a batch of {n} runs is too large: at most 1,000,000")
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
    if starts_arr is None:
        starts_arr = np.tile(np.asarray(L.start), (n, 1))
    for s in (starts_arr.min(axis=0), starts_arr.max(axis=0)):
        _start(s, L)
    starts_arr = np.broadcast_to(starts_arr, (n, 2)).astype(np.float32)
    sched = schedules.validate(schedule, schedule_params)
    switches, numbers, seed0 = _switches_and_numbers(clip_value, clip_norm, noise, 0)
    if seeds is None:
        seeds_arr = np.zeros(n, np.uint32) + seed0
    else:
        seeds_in = np.atleast_1d(np.asarray(seeds, dtype=object))
        for v in set(seeds_in.tolist()):
            SEED.validate(v)
        seeds_arr = np.broadcast_to(seeds_in.astype(np.int64), (n,)).astype(np.uint32)
    program = Program(rule=rule, schedule=schedule, switches=switches)
    axes = (None, 0, None, None, 0, 0, None)
    rows = simulate_batch(
        L.objective, program, bucket_for(steps), as_f32(L.objective_params), hp,
        as_f32(sched), as_f32(numbers), starts_arr, seeds_arr, np.int32(steps), axes=axes)
    rows = np.asarray(rows)[:, : steps + 1]  # (n, steps + 1, ROW)
    xs, ls, gs = np.array(rows[..., 0:2]), np.array(rows[..., 2]), np.array(rows[..., 3:5])
    bad = ~(np.isfinite(xs).all(axis=2) & np.isfinite(ls))
    diverged = np.where(bad.any(axis=1), bad.argmax(axis=1), -1)
    mask = np.arange(steps + 1)[None, :] >= np.where(diverged < 0, steps + 1, diverged)[:, None]
    xs[mask] = np.nan
    ls[mask] = np.nan
    gs[mask] = np.nan
    return BatchResult(xs, ls, gs, diverged)

from optimizers.sweep import SweepResult, sweep, tune  # noqa: E402 (last: it imports from here)
