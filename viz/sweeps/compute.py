"""SweepScene -> optimizers.sweep / optimizers.tune, from plain hashable keys.

The page caches these keyed on the ``*_key`` named tuples (what each result is a function of);
tests call them directly.  Nothing is jitted here (optimizers.sweep owns the compiled programs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np

import optimizers
from viz.race.compute import landscape_from_key, run_kwargs, start_of
from viz.sweeps.scene import SweepScene


def _start(ss: SweepScene) -> tuple[float, float]:
    L = landscape_from_key(ss.scene.landscape_key())
    s = start_of(ss.scene, L)
    return (float(s[0]), float(s[1]))


# --- keys (plain, hashable; what each computation is a function of) -----------------------

class HyperKey(NamedTuple):
    landscape: tuple
    run: tuple  # Run.key()
    shared: tuple  # Scene.shared_key()
    start: tuple[float, float]
    steps: int
    tol: float
    x: str
    xs: tuple[float, ...]
    y: str | None
    ys: tuple[float, ...] | None

    @property
    def runs(self) -> int:
        return len(self.xs) * (1 if self.ys is None else len(self.ys))


class BasinKey(NamedTuple):
    landscape: tuple
    run: tuple
    shared: tuple
    steps: int
    tol: float
    xs: tuple[float, ...]
    ys: tuple[float, ...]


class TuneKey(NamedTuple):
    landscape: tuple
    run: tuple
    shared: tuple
    start: tuple[float, float]
    steps: int
    tol: float
    objective: str
    lrs: tuple[float, ...]
    extra: tuple[str, tuple[float, ...]] | None


def hyper_key(ss: SweepScene) -> HyperKey:
    ys = ss.y_values()
    return HyperKey(ss.scene.landscape_key(), ss.run_obj.key(), ss.scene.shared_key(), _start(ss),
                    ss.scene.steps, ss.scene.tol, ss.x, tuple(ss.x_values().tolist()), ss.y,
                    None if ys is None else tuple(ys.tolist()))


def basin_key(ss: SweepScene) -> BasinKey:
    return BasinKey(ss.scene.landscape_key(), ss.run_obj.key(), ss.scene.shared_key(), ss.scene.steps,
                    ss.scene.tol, tuple(ss.x_values().tolist()), tuple(ss.y_values().tolist()))


def tune_keys(ss: SweepScene) -> list[TuneKey]:
    """One key per run: each optimizer is tuned on its own (and cached on its own)."""
    lrs = tuple(ss.x_values().tolist())
    out = []
    for run in ss.scene.runs:
        ev = ss.extra_values(run)
        extra = None if ev is None else (ss.extra, tuple(ev.tolist()))
        out.append(TuneKey(ss.scene.landscape_key(), run.key(), ss.scene.shared_key(), _start(ss),
                           ss.scene.steps, ss.scene.tol, ss.obj, lrs, extra))
    return out


# --- the computations -----------------------------------------------------------------------

def run_hyper(key: HyperKey, on_progress: Callable[[float], Any] | None = None) -> optimizers.SweepResult:
    """The hyperparameter map: ``result[i_y, i_x]`` (y first; a 1-D sweep has shape (1, n))."""
    lkey, run_key, shared_key, start, steps, tol, x, xs, y, ys = key
    optimizer, _, _, hyperparams = run_key
    L = landscape_from_key(lkey)
    fixed = {k: v for k, v in hyperparams if k not in (x, y)}
    grid = {x: np.asarray(xs)} if ys is None else {y: np.asarray(ys), x: np.asarray(xs)}
    res = optimizers.sweep(L, optimizer, start=start, steps=steps, grid=grid, tol=tol,
                           on_progress=on_progress, **run_kwargs(run_key, shared_key), **fixed)
    if ys is None:  # one row, so the page and figures always see (n_y, n_x)
        res = _add_row_axis(res)
    return res


def _add_row_axis(res: optimizers.SweepResult) -> optimizers.SweepResult:
    from dataclasses import replace

    arrays = {k: getattr(res, k)[None] for k in ("final_loss", "final_xy", "best_loss", "steps_to_tol",
                                                 "diverged", "diverged_at", "auc", "nearest_minimum",
                                                 "nearest_distance")}
    return replace(res, **arrays)


def run_basin(key: BasinKey, on_progress: Callable[[float], Any] | None = None) -> optimizers.SweepResult:
    """The basin map: ``result[i_y, i_x]`` started from ``(xs[i_x], ys[i_y])``."""
    lkey, run_key, shared_key, steps, tol, xs, ys = key
    optimizer, _, _, hyperparams = run_key
    L = landscape_from_key(lkey)
    gx, gy = np.meshgrid(np.asarray(xs), np.asarray(ys))  # (n_y, n_x)
    starts = np.stack([gx, gy], axis=-1)
    return optimizers.sweep(L, optimizer, starts=starts, steps=steps, tol=tol,
                            on_progress=on_progress, **run_kwargs(run_key, shared_key),
                            **dict(hyperparams))


@dataclass(frozen=True, eq=False)
class TuneOutcome:
    """One optimizer's tuning: its best values, the objective per learning rate, or an error."""

    optimizer: str
    best: dict[str, float] | None  # learning_rate (+ extra) -> value; None if it failed
    value: float  # the winner's objective (inf if none reached tol)
    lrs: np.ndarray  # (n,)
    curve: np.ndarray  # (n,) the objective per learning rate (best over the extra); inf = diverged
    diverged: np.ndarray  # (n,) bool: diverged for every extra value
    error: str = ""


def objective_array(res: optimizers.SweepResult, objective: str) -> np.ndarray:
    """The objective per cell, lower is better, +inf where diverged or never within tol."""
    a = {"final_loss": res.final_loss.astype(np.float64),
         "steps_to_tol": np.where(res.steps_to_tol >= 0, res.steps_to_tol, np.inf).astype(np.float64),
         "auc": res.auc.astype(np.float64)}[objective]
    return np.where(res.diverged | np.isnan(a), np.inf, a)


def run_tune(key: TuneKey) -> TuneOutcome:
    lkey, run_key, shared_key, start, steps, tol, objective, lrs, extra = key
    optimizer, _, _, hyperparams = run_key
    L = landscape_from_key(lkey)
    extra_dict = None if extra is None else {extra[0]: np.asarray(extra[1])}
    skip = {"learning_rate"} | (set(extra_dict) if extra_dict else set())
    fixed = {k: v for k, v in hyperparams if k not in skip}
    lrs_arr = np.asarray(lrs, np.float64)
    try:
        out = optimizers.tune(L, optimizer, start=start, steps=steps, objective=objective,
                              lr_grid=lrs_arr, extra=extra_dict, tol=tol,
                              **run_kwargs(run_key, shared_key), **fixed)
    except ValueError as err:
        n = len(lrs_arr)
        return TuneOutcome(optimizer, None, float("inf"), lrs_arr, np.full(n, np.inf),
                           np.ones(n, bool), error=str(err)[:300])
    res = out["result"]
    obj = objective_array(res, objective)
    curve = obj if obj.ndim == 1 else obj.min(axis=1)
    div = res.diverged if res.diverged.ndim == 1 else res.diverged.all(axis=1)
    best = {"learning_rate": out["learning_rate"]}
    if extra_dict:
        best[extra[0]] = out[extra[0]]
    return TuneOutcome(optimizer, best, float(out["value"]), lrs_arr, curve, np.asarray(div, bool))
