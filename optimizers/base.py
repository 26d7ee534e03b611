"""What an update rule is: a pair of pure functions plus its spec.

    init(params) -> state
    update(grads, state, params, hp) -> (updates, state)

``params``, ``grads`` and ``updates`` are any pytree of arrays (a 2-vector on
the landscapes, a network's weights elsewhere); the new parameters are
``params + updates``.  ``hp`` maps every hyperparameter name of the rule to a
scalar; the runner passes them as traced values, so changing one never
recompiles, and ``hp["learning_rate"]`` is already the scheduled value for
the current step.  Booleans (``nesterov``, ``eps_in_sqrt``...) arrive as 0.0
or 1.0 and are used through ``jnp.where``, for the same reason.

Names and arithmetic follow optax (google-deepmind/optax) operation by
operation, so trajectories agree with optax's to float32 rounding; where
PyTorch or Keras use another convention it is a named option.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp

from landscapes.params import Param

tmap = jax.tree.map


@dataclass(frozen=True, eq=False)
class Rule:
    """An update rule and everything a person (or the app) needs to use it.

    Compared and hashed by identity (``eq=False``): rules are singletons in the
    registry, and the runner's jit cache hashes them on every call.
    """

    name: str
    init: Callable[[Any], Any]
    update: Callable[[Any, Any, Any, dict], tuple[Any, Any]]
    hyperparams: tuple[Param, ...]
    title: str = ""
    latex: str = ""
    explanation: str = ""
    references: tuple[str, ...] = ()
    conventions: str = ""  # how it differs from PyTorch / Keras, if it does

    def spec(self, name: str) -> Param:
        for p in self.hyperparams:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.hyperparams}


def where(flag, a, b):
    """``a`` if the 0/1 hyperparameter ``flag`` is set, else ``b`` (element-wise on trees)."""
    return tmap(lambda x, y: jnp.where(flag > 0.5, x, y), a, b)


def scale(s, tree):
    return tmap(lambda t: s * t, tree)


def zeros_like(tree):
    return tmap(jnp.zeros_like, tree)


def full_like(tree, value):
    return tmap(lambda t: jnp.full_like(t, value), tree)


# --- shared hyperparameter specs (optax's names) -------------------------------------

def learning_rate(default: float) -> Param:
    return Param("learning_rate", default, 1e-6, 10.0, log=True,
                 doc="step size α: how far each update moves")


B1 = Param("b1", 0.9, 0.0, 0.9999, doc="β₁: decay of the running mean of gradients (momentum)")
B2 = Param("b2", 0.999, 0.0, 0.99999, doc="β₂: decay of the running mean of squared gradients")
EPS = Param("eps", 1e-8, 1e-12, 1.0, log=True, doc="ε added to the denominator, outside the square root")
EPS_ROOT = Param("eps_root", 0.0, 0.0, 1.0, doc="ε added inside the square root (0 in Adam's paper)")
NESTEROV = Param("nesterov", 0.0, 0.0, 1.0, kind="bool", doc="use Nesterov's look-ahead form")
