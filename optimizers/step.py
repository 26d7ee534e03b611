"""One optimisation step, written once: ``run`` (runner.py), ``sweep`` (sweeping.py) and
``train`` (train.py) all call :func:`take_step` inside their ``lax.scan``.

The order of the math, at step ``t`` (the number of updates already made), from the
parameters ``θ_t`` (any pytree) and the rule's state ``S_t``:

1. ``f_t, g_t = f(θ_t), ∇f(θ_t)``: ``jax.value_and_grad`` of the caller's loss (a 2-D
   landscape, or a network's minibatch loss);
2. ``g_t ← transform(g_t)``: Gaussian noise, then clipping by value, then by global norm,
   those that are switched on (transforms.py);
3. ``α_t = learning_rate · s(t)``: the schedule's multiplier (schedules.py); callers compute
   it for many ``t`` at once with :func:`schedule_factors` and pass ``α_t`` in;
4. ``u_t, S_{t+1} = rule.update(g_t, S_t, θ_t, hp)`` with ``hp["learning_rate"] = α_t``;
5. ``θ_{t+1} = θ_t + u_t``.

The step returns ``f_t`` and the transformed ``g_t`` (what the rule saw) with the new
parameters and state; what a caller keeps of them (a trajectory row, a running summary,
a minibatch loss) is its own business.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import jax.numpy as jnp

from optimizers.base import tmap
from optimizers.schedules import SCHEDULES
from optimizers.transforms import GradientSwitches, transform

__all__ = ["Stepped", "take_step", "schedule_factors"]


class Stepped(NamedTuple):
    """What one step gives back."""

    params: Any  # θ_{t+1}
    state: Any  # S_{t+1}
    loss: Any  # f(θ_t)
    grad: Any  # g_t after the transforms


def schedule_factors(kind: str, sched: Mapping[str, Any], t):
    """``s(t)`` as float32 for an array of step numbers ``t`` (traced numbers ``sched``)."""
    return SCHEDULES[kind].fn(jnp.asarray(t).astype(jnp.float32), sched).astype(jnp.float32)


def take_step(loss_and_grad: Callable, update: Callable, switches: GradientSwitches,
              hp: Mapping[str, Any], numbers: Mapping[str, Any], key,
              params, state, lr_t, t) -> Stepped:
    """Steps 1, 2, 4 and 5 of the module docstring, at step ``t`` with rate ``lr_t``.

    ``loss_and_grad(params) -> (f, g)``; ``update`` is the rule's update function;
    ``switches`` (static) says which transforms are on and ``numbers`` holds their numbers;
    ``key`` seeds the gradient noise; ``hp`` holds the rule's other hyperparameters.
    """
    loss, g = loss_and_grad(params)
    g = transform(g, t, key, numbers, switches)
    updates, state = update(g, state, params, {**hp, "learning_rate": lr_t})
    return Stepped(tmap(lambda p, u: p + u, params, updates), state, loss, g)
