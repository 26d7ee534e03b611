"""Update rules, written next to their math, and the jit-compiled runner.

    >>> import optimizers
    >>> tr = optimizers.run("rosenbrock", "adam", start=(-1.5, 2.0), steps=10_000,
    ...                     learning_rate=1e-2, b1=0.9)
    >>> tr.xy.shape, tr.loss.shape, tr.diverged_at
    ((10001, 2), (10001,), None)

Hyperparameters are keyword arguments named as optax names them (ftrl takes
Keras's names).  Unknown names and out-of-range values raise ValueError.

This package only re-exports; the modules, bottom to top:

    base, sgd, adam, adaptive, ftrl, lookahead   the update rules (pure init/update on pytrees)
    schedules, transforms                        learning-rate schedules; gradient noise/clipping
    step                                         one step (gradient, transforms, rule, apply), written once
    registry, checks                             rules by name; the argument checks shared by every call
    runner, trajectories                         run / run_batch: compiled trajectory programs
    sweeping                                     sweep / tune: many runs, summarised
    train                                        the network's training loop (``optimizers.train.train``)
"""

from __future__ import annotations

from optimizers.base import Rule
from optimizers.lookahead import lookahead
from optimizers.registry import get, names, resolve
from optimizers.runner import Trajectory
from optimizers.schedules import SCHEDULES, schedule_names
from optimizers.sweeping import SweepResult, sweep, tune
from optimizers.trajectories import BatchResult, run, run_batch

__all__ = ["names", "get", "run", "run_batch", "Rule", "Trajectory", "BatchResult",
           "schedule_names", "SCHEDULES", "lookahead", "resolve", "sweep", "SweepResult", "tune"]
