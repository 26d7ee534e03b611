"""Plain gradient descent and its momentum variants.

Conventions lines checked against: optax/_src/alias.py (sgd) and transform.py (trace);
torch/optim/sgd.py (``_single_tensor_sgd``: momentum, dampening, nesterov);
keras/src/optimizers/sgd.py (``update_step``).
"""

from __future__ import annotations

from landscapes.params import Param
from optimizers.base import NESTEROV, Rule, learning_rate, scale, tmap, where, zeros_like

MOMENTUM = Param("momentum", 0.9, 0.0, 0.9999, doc="μ: the fraction of the previous velocity kept")
EMA = Param("ema", 0.0, 0.0, 1.0, kind="bool",
            doc="average form v ← μv + (1-μ)g (TF docs, seed 001) instead of v ← μv + g")


# SGD ----------------------------------------------------------------------------------

def sgd_init(params):
    return ()


def sgd_update(grads, state, params, hp):
    return scale(-hp["learning_rate"], grads), state


SGD = Rule(
    name="sgd", init=sgd_init, update=sgd_update,
    hyperparams=(learning_rate(0.01),),
    title="SGD",
    latex=r"\theta_{t+1} = \theta_t - \alpha\, g_t",
    explanation="Step straight downhill, by the learning rate times the slope. Where the "
                "slope is steep it jumps far, where it is flat it barely moves.",
    references=("Robbins & Monro, 1951", "optax.sgd"),
)


# Momentum and Nesterov ------------------------------------------------------------------
#   v_{t+1} = μ v_t + g_t                       (optax.trace, torch.optim.SGD, Keras)
#   v_{t+1} = μ v_t + (1 - μ) g_t               (ema=True: the "average" form)
#   θ_{t+1} = θ_t - α v_{t+1}                   (heavy ball)
#   θ_{t+1} = θ_t - α (g_t + μ v_{t+1})         (Nesterov, as optax and PyTorch write it)

def momentum_init(params):
    return zeros_like(params)  # v: the velocity


def _velocity(grads, v, hp):
    mu = hp["momentum"]
    # (1 - μ) g in the average form, g otherwise
    g_in = where(hp["ema"], scale(1.0 - mu, grads), grads)
    return tmap(lambda g, t: g + mu * t, g_in, v), g_in


def momentum_update(grads, v, params, hp):
    v, g_in = _velocity(grads, v, hp)
    look_ahead = tmap(lambda g, t: g + hp["momentum"] * t, g_in, v)
    direction = where(hp["nesterov"], look_ahead, v)
    return scale(-hp["learning_rate"], direction), v


MOMENTUM_RULE = Rule(
    name="momentum", init=momentum_init, update=momentum_update,
    hyperparams=(learning_rate(0.01), MOMENTUM, EMA, NESTEROV),
    title="Momentum (heavy ball)",
    latex=r"v_{t+1} = \mu\, v_t + g_t \qquad \theta_{t+1} = \theta_t - \alpha\, v_{t+1}",
    explanation="A ball rolling downhill: the velocity keeps a fraction μ of its past, so "
                "consistent slopes add up (up to 1/(1-μ) times faster) and zig-zags cancel.",
    references=("Polyak, 1964", "Sutskever et al., 2013", "optax.sgd(momentum=...)"),
    conventions="optax, PyTorch and Keras accumulate v ← μv + g; with ema=True the seeds' and "
                "TF docs' average v ← μv + (1-μ)g is used, whose steps are (1-μ) times smaller "
                "(PyTorch's dampening=μ, except that PyTorch starts its buffer at g₁, not (1-μ)g₁).",
)

NESTEROV_RULE = Rule(
    name="nesterov", init=momentum_init, update=momentum_update,
    hyperparams=(learning_rate(0.01), MOMENTUM, EMA, Param(
        "nesterov", 1.0, 0.0, 1.0, kind="bool", doc="use Nesterov's look-ahead form")),
    title="Nesterov momentum",
    latex=r"v_{t+1} = \mu\, v_t + g_t \qquad \theta_{t+1} = \theta_t - \alpha\,(g_t + \mu\, v_{t+1})",
    explanation="Momentum that looks ahead: the step uses where the velocity is about to "
                "carry it, so it brakes before overshooting a valley floor.",
    references=("Nesterov, 1983", "Sutskever et al., 2013", "optax.sgd(nesterov=True)"),
    conventions="The form of optax and PyTorch (g + μv); Keras writes the same step in terms "
                "of -αv, which is equivalent at a constant learning rate.",
)
