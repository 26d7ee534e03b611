"""Defaults that make visible progress: learning rates per (landscape, optimizer), runs, scene.

``DEFAULT_LR`` was computed offline by ``python -m viz.race._tune`` (read its
docstring for the rule: the safe rate that is fastest to close 99.9 % of the
gap, one notch down).  Set by hand where no rate of the tuning grid was safe:
Goldstein-Price for sgd, momentum, nesterov, radam and ranger (1e-6, the
smallest allowed: its gradients reach 10^6 at the default start), and FTRL on
the plateau (0.1).  tests/test_scene.py checks that every entry runs 2,000
steps on its landscape without diverging.
"""

from __future__ import annotations

import math

import optimizers
from viz.race.presets import DEFAULT_PRESET, PRESETS
from viz.race.scene import CUSTOM, MAX_RUNS, Run, Scene

# fmt: off
DEFAULT_LR: dict[str, dict[str, float]] = {
    'quadratic': {'sgd': 0.02, 'momentum': 0.005, 'nesterov': 0.01, 'adagrad': 1, 'rmsprop': 0.1, 'adadelta': 1, 'adam': 0.5, 'nadam': 0.5, 'adamax': 1, 'ftrl': 1, 'amsgrad': 1, 'radam': 0.02, 'adamw': 0.5, 'ranger': 0.02},
    'rosenbrock': {'sgd': 0.0002, 'momentum': 0.0002, 'nesterov': 0.0001, 'adagrad': 0.2, 'rmsprop': 0.002, 'adadelta': 0.05, 'adam': 0.1, 'nadam': 0.05, 'adamax': 0.2, 'ftrl': 0.2, 'amsgrad': 0.2, 'radam': 0.001, 'adamw': 0.1, 'ranger': 0.001},
    'saddle': {'sgd': 0.1, 'momentum': 0.02, 'nesterov': 0.02, 'adagrad': 0.2, 'rmsprop': 0.05, 'adadelta': 1, 'adam': 0.05, 'nadam': 0.1, 'adamax': 0.2, 'ftrl': 0.5, 'amsgrad': 0.2, 'radam': 0.1, 'adamw': 0.05, 'ranger': 0.2},
    'ravine': {'sgd': 0.005, 'momentum': 0.01, 'nesterov': 0.005, 'adagrad': 1, 'rmsprop': 0.05, 'adadelta': 1, 'adam': 0.2, 'nadam': 0.2, 'adamax': 0.5, 'ftrl': 1, 'amsgrad': 0.5, 'radam': 0.02, 'adamw': 0.2, 'ranger': 0.02},
    'beale': {'sgd': 0.002, 'momentum': 0.0005, 'nesterov': 0.0005, 'adagrad': 1, 'rmsprop': 0.1, 'adadelta': 0.1, 'adam': 0.1, 'nadam': 0.1, 'adamax': 1, 'ftrl': 1, 'amsgrad': 0.5, 'radam': 0.002, 'adamw': 0.2, 'ranger': 0.002},
    'himmelblau': {'sgd': 0.002, 'momentum': 0.0002, 'nesterov': 0.001, 'adagrad': 0.5, 'rmsprop': 0.1, 'adadelta': 1, 'adam': 0.2, 'nadam': 0.5, 'adamax': 0.5, 'ftrl': 0.5, 'amsgrad': 0.1, 'radam': 0.005, 'adamw': 0.2, 'ranger': 0.005},
    'rastrigin': {'sgd': 0.001, 'momentum': 0.0001, 'nesterov': 0.0002, 'adagrad': 0.5, 'rmsprop': 0.02, 'adadelta': 1, 'adam': 0.05, 'nadam': 0.2, 'adamax': 0.02, 'ftrl': 0.5, 'amsgrad': 0.02, 'radam': 0.01, 'adamw': 0.05, 'ranger': 0.01},
    'ackley': {'sgd': 0.01, 'momentum': 0.001, 'nesterov': 0.002, 'adagrad': 0.1, 'rmsprop': 0.1, 'adadelta': 1, 'adam': 0.05, 'nadam': 0.05, 'adamax': 0.2, 'ftrl': 0.5, 'amsgrad': 0.2, 'radam': 0.2, 'adamw': 0.05, 'ranger': 0.2},
    'booth': {'sgd': 0.01, 'momentum': 0.0005, 'nesterov': 0.001, 'adagrad': 1, 'rmsprop': 0.2, 'adadelta': 1, 'adam': 1, 'nadam': 1, 'adamax': 1, 'ftrl': 1, 'amsgrad': 0.5, 'radam': 0.02, 'adamw': 1, 'ranger': 0.02},
    'matyas': {'sgd': 0.2, 'momentum': 0.1, 'nesterov': 0.01, 'adagrad': 1, 'rmsprop': 0.2, 'adadelta': 1, 'adam': 1, 'nadam': 1, 'adamax': 1, 'ftrl': 1, 'amsgrad': 1, 'radam': 0.5, 'adamw': 1, 'ranger': 0.5},
    'six_hump_camel': {'sgd': 0.01, 'momentum': 0.002, 'nesterov': 0.005, 'adagrad': 0.2, 'rmsprop': 0.05, 'adadelta': 1, 'adam': 0.2, 'nadam': 0.2, 'adamax': 0.5, 'ftrl': 0.2, 'amsgrad': 0.5, 'radam': 0.005, 'adamw': 0.2, 'ranger': 0.01},
    'styblinski_tang': {'sgd': 0.005, 'momentum': 0.002, 'nesterov': 0.002, 'adagrad': 1, 'rmsprop': 0.2, 'adadelta': 1, 'adam': 1, 'nadam': 1, 'adamax': 0.5, 'ftrl': 1, 'amsgrad': 0.5, 'radam': 0.005, 'adamw': 1, 'ranger': 0.005},
    'goldstein_price': {'sgd': 1e-06, 'momentum': 1e-06, 'nesterov': 1e-06, 'adagrad': 0.2, 'rmsprop': 0.05, 'adadelta': 1, 'adam': 0.1, 'nadam': 0.2, 'adamax': 0.2, 'ftrl': 0.2, 'amsgrad': 0.2, 'radam': 1e-06, 'adamw': 0.1, 'ranger': 1e-06},
    'cliff': {'sgd': 0.02, 'momentum': 0.002, 'nesterov': 0.1, 'adagrad': 0.5, 'rmsprop': 0.05, 'adadelta': 1, 'adam': 0.2, 'nadam': 0.2, 'adamax': 0.5, 'ftrl': 0.5, 'amsgrad': 0.2, 'radam': 0.5, 'adamw': 0.2, 'ranger': 0.5},
    'plateau': {'sgd': 0.2, 'momentum': 0.1, 'nesterov': 0.1, 'adagrad': 0.5, 'rmsprop': 0.05, 'adadelta': 1, 'adam': 0.2, 'nadam': 0.1, 'adamax': 0.2, 'ftrl': 0.1, 'amsgrad': 0.2, 'radam': 1, 'adamw': 0.05, 'ranger': 1},
    'two_basin': {'sgd': 0.01, 'momentum': 0.005, 'nesterov': 0.005, 'adagrad': 0.5, 'rmsprop': 0.1, 'adadelta': 1, 'adam': 0.5, 'nadam': 0.2, 'adamax': 0.1, 'ftrl': 0.5, 'amsgrad': 0.1, 'radam': 0.01, 'adamw': 0.5, 'ranger': 0.01},
}
# fmt: on

# Custom formulas: the geometric mean of the rate over the built-in landscapes
# whose domain is about as large (a formula's scale is unknown until it runs).
_FALLBACK_LANDSCAPES = ("quadratic", "saddle", "plateau", "two_basin", "six_hump_camel")


def default_lr(landscape: str, optimizer: str) -> float:
    """The learning rate a new run of ``optimizer`` gets on ``landscape``."""
    row = DEFAULT_LR.get(landscape)
    if row is not None and optimizer in row:
        return row[optimizer]
    values = [DEFAULT_LR[n][optimizer] for n in _FALLBACK_LANDSCAPES
              if n in DEFAULT_LR and optimizer in DEFAULT_LR[n]]
    if values:
        g = math.exp(sum(math.log(v) for v in values) / len(values))
        return float(f"{g:.1g}")
    return optimizers.get(optimizer).spec("learning_rate").default


def default_run(landscape: str, optimizer: str, lookahead: bool = False, raw: bool = False) -> Run:
    return Run(optimizer, {"learning_rate": default_lr(landscape, optimizer)}, lookahead=lookahead, raw=raw)


# The default page: the classic race, 8 runs x 10,000 steps.
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "nadam")
DEFAULT_LANDSCAPE = "rosenbrock"


def default_runs(landscape: str) -> tuple[Run, ...]:
    """The default scene's optimizers, each at its default rate for ``landscape``."""
    return tuple(default_run(landscape, o) for o in DEFAULT_OPTIMIZERS)


def with_run_added(scene: Scene) -> Scene:
    """``scene`` with one run more (at most MAX_RUNS): the first default optimizer it does not
    race yet (else Adam), at its default learning rate for the landscape."""
    if len(scene.runs) >= MAX_RUNS:
        return scene
    used = {r.optimizer for r in scene.runs}
    nxt = next((o for o in DEFAULT_OPTIMIZERS if o not in used), "adam")
    return scene.replace(runs=scene.runs + (default_run(scene.landscape, nxt),))


def default_scene() -> Scene:
    return PRESETS[DEFAULT_PRESET].scene


def rescale_runs(runs, old: str, new: str) -> tuple[Run, ...]:
    """The runs moved to landscape ``new``: each learning rate keeps its ratio to the
    default rate (Adam at 10x its default stays at 10x), clamped to its range."""
    out = []
    for r in runs:
        spec = r.rule.spec("learning_rate")
        ratio = r.learning_rate / default_lr(old, r.optimizer)
        lr = min(max(float(f"{default_lr(new, r.optimizer) * ratio:.3g}"), spec.low), spec.high)
        out.append(r.with_hp(learning_rate=lr))
    return tuple(out)


def landscape_change(scene: Scene, landscape: str, formula: str = "", domain=None) -> Scene:
    """``scene`` on another landscape: its start and parameters reset, its runs rescaled."""
    old = scene.landscape
    runs = rescale_runs(scene.runs, old, landscape)
    if landscape == CUSTOM:
        return scene.replace(landscape=CUSTOM, landscape_params=(), formula=formula, domain=domain,
                             start=None, runs=runs)
    return scene.replace(landscape=landscape, landscape_params=(), formula="", domain=None,
                         start=None, runs=runs)
