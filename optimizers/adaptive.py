"""Per-coordinate step sizes from the history of squared gradients:
AdaGrad, RMSProp and AdaDelta.

Conventions lines checked against (each rule's ``conventions``):
  optax:  optax/_src/alias.py (adagrad, rmsprop, adadelta) and optax/_src/transform.py
          (scale_by_rss, scale_by_rms, scale_by_stddev, scale_by_adadelta);
  torch:  torch/optim/adagrad.py, rmsprop.py, adadelta.py (``_single_tensor_*``);
  Keras:  keras/src/optimizers/adagrad.py, rmsprop.py, adadelta.py (``update_step``).
Keras's RMSProp form is asserted in tests/test_conformance.py.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscapes.params import Param
from optimizers.base import NESTEROV, Rule, learning_rate, scale, tmap, where, zeros_like

EPS_IN_SQRT = Param("eps_in_sqrt", 1.0, 0.0, 1.0, kind="bool",
                    doc="ε inside the square root, √(G+ε) (optax, Keras) rather than √G+ε (PyTorch)")


def _eps(default: float, accumulator: str) -> Param:
    return Param("eps", default, 1e-12, 1.0, log=True,
                 doc=f"ε in the denominator: inside the square root, √({accumulator}+ε), while "
                     f"eps_in_sqrt is on; outside, √{accumulator}+ε, when it is off")


# AdaGrad --------------------------------------------------------------------------------
#   G_{t+1} = G_t + g_t²
#   θ_{t+1} = θ_t - α g_t / √(G_{t+1} + ε)

# The state is S = Σ g² so that `init` needs no hyperparameter; G = G₀ + S.

def adagrad_init(params):
    return zeros_like(params)  # S


def adagrad_update(grads, S, params, hp):
    S = tmap(lambda g, s: g * g + s, grads, S)
    G = tmap(lambda s: s + hp["initial_accumulator_value"], S)
    eps = hp["eps"]
    inside = tmap(lambda s: jnp.where(s > 0, jax.lax.rsqrt(s + eps), 0.0), G)
    outside = tmap(lambda s: 1.0 / (jnp.sqrt(s) + eps), G)
    factor = where(hp["eps_in_sqrt"], inside, outside)
    direction = tmap(lambda f, g: f * g, factor, grads)
    return scale(-hp["learning_rate"], direction), S


ADAGRAD = Rule(
    name="adagrad", init=adagrad_init, update=adagrad_update,
    hyperparams=(
        learning_rate(0.1),
        Param("initial_accumulator_value", 0.1, 0.0, 10.0,
              doc="G₀: the starting sum of squares (optax and Keras 0.1, PyTorch 0)"),
        _eps(1e-7, "G"),
        EPS_IN_SQRT,
    ),
    title="AdaGrad",
    latex=r"G_{t+1} = G_t + g_t^2 \qquad \theta_{t+1} = \theta_t - \frac{\alpha}{\sqrt{G_{t+1} + \epsilon}}\, g_t",
    explanation="Each coordinate gets its own step, divided by the root of all its past squared "
                "gradients. Steep coordinates slow down early; but the sum only grows, so every "
                "step keeps shrinking and long runs stall.",
    references=("Duchi, Hazan & Singer, 2011", "optax.adagrad"),
    conventions="optax: ε inside the root and G₀ = 0.1; PyTorch: √G + ε with G₀ = 0 "
                "(set eps_in_sqrt=False, initial_accumulator_value=0).",
)


# RMSProp --------------------------------------------------------------------------------
#   ν_{t+1} = ρ ν_t + (1 - ρ) g_t²                (ρ is optax's `decay`)
#   m_{t+1} = ρ m_t + (1 - ρ) g_t                 (centered only)
#   u_t     = -α g_t / √(ν_{t+1} - m_{t+1}² + ε)
#   v_{t+1} = μ v_t + u_t ;  θ_{t+1} = θ_t + v_{t+1}   (μ is `momentum`, 0 = off)

class RMSPropState(NamedTuple):
    nu: object  # running mean of g²
    mg: object  # running mean of g (centered variant)
    trace: object  # momentum buffer


def rmsprop_init(params):
    return RMSPropState(nu=zeros_like(params), mg=zeros_like(params), trace=zeros_like(params))


def rmsprop_update(grads, state, params, hp):
    rho, eps = hp["decay"], hp["eps"]
    nu = tmap(lambda g, n: (1 - rho) * (g**2) + rho * n, grads, state.nu)
    mg = tmap(lambda g, m: (1 - rho) * g + rho * m, grads, state.mg)
    # variance estimate: ν (plain) or ν - m² (centered)
    var = where(hp["centered"], tmap(lambda n, m: n - m * m, nu, mg), nu)
    inside = tmap(lambda v: jax.lax.rsqrt(v + eps), var)
    outside = tmap(lambda v: 1 / (jnp.sqrt(v) + eps), var)
    factor = where(hp["eps_in_sqrt"], inside, outside)
    u = scale(-hp["learning_rate"], tmap(lambda f, g: f * g, factor, grads))
    trace = tmap(lambda x, t: x + hp["momentum"] * t, u, state.trace)
    look_ahead = tmap(lambda x, t: x + hp["momentum"] * t, u, trace)
    updates = where(hp["nesterov"], look_ahead, trace)
    return updates, RMSPropState(nu=nu, mg=mg, trace=trace)


RMSPROP = Rule(
    name="rmsprop", init=rmsprop_init, update=rmsprop_update,
    hyperparams=(
        learning_rate(0.01),
        Param("decay", 0.9, 0.0, 0.9999, doc="ρ: decay of the running mean of squared gradients"),
        _eps(1e-8, "ν"), EPS_IN_SQRT,
        Param("centered", 0.0, 0.0, 1.0, kind="bool",
              doc="divide by the running standard deviation instead of the root mean square"),
        Param("momentum", 0.0, 0.0, 0.9999, doc="μ: momentum applied to the scaled steps (0 = off)"),
        NESTEROV,
    ),
    title="RMSProp",
    latex=r"\nu_{t+1} = \rho\,\nu_t + (1-\rho)\, g_t^2 \qquad \theta_{t+1} = \theta_t - \frac{\alpha}{\sqrt{\nu_{t+1} + \epsilon}}\, g_t",
    explanation="AdaGrad with a memory that fades: dividing by a running average of squared "
                "gradients keeps every coordinate's step near α, so it neither stalls nor "
                "explodes where the slope changes scale.",
    references=("Hinton, Srivastava & Swersky, Neural Networks for ML, lecture 6e, 2012",
                "optax.rmsprop"),
    conventions="optax and Keras: ρ=0.9 and ε inside the root, √(ν + ε) (Keras's default ε is "
                "1e-7); PyTorch: ρ (alpha) = 0.99 and √ν + ε (eps_in_sqrt=False).",
)


# AdaDelta -------------------------------------------------------------------------------
#   E[g²]_{t+1} = ρ E[g²]_t + (1 - ρ) g_t²
#   Δ_t         = √(E[Δ²]_t + ε) / √(E[g²]_{t+1} + ε) · g_t
#   E[Δ²]_{t+1} = ρ E[Δ²]_t + (1 - ρ) Δ_t²
#   θ_{t+1}     = θ_t - α Δ_t

class AdaDeltaState(NamedTuple):
    e_g: object  # running mean of g²
    e_x: object  # running mean of squared updates


def adadelta_init(params):
    return AdaDeltaState(e_g=zeros_like(params), e_x=zeros_like(params))


def adadelta_update(grads, state, params, hp):
    rho, eps = hp["rho"], hp["eps"]
    e_g = tmap(lambda g, t: (1 - rho) * (g**2) + rho * t, grads, state.e_g)
    delta = tmap(lambda g, eg, ex: (jnp.sqrt(ex + eps) / jnp.sqrt(eg + eps)) * g,
                 grads, e_g, state.e_x)
    e_x = tmap(lambda d, t: (1 - rho) * (d**2) + rho * t, delta, state.e_x)
    return scale(-hp["learning_rate"], delta), AdaDeltaState(e_g=e_g, e_x=e_x)


ADADELTA = Rule(
    name="adadelta", init=adadelta_init, update=adadelta_update,
    hyperparams=(
        learning_rate(1.0),
        Param("rho", 0.9, 0.0, 0.9999, doc="ρ: decay of both running means"),
        Param("eps", 1e-6, 1e-12, 1.0, log=True, doc="ε inside both square roots; it also sets the first steps' size"),
    ),
    title="AdaDelta",
    latex=r"\Delta_t = \frac{\sqrt{E[\Delta^2]_t + \epsilon}}{\sqrt{E[g^2]_{t+1} + \epsilon}}\, g_t \qquad \theta_{t+1} = \theta_t - \alpha\, \Delta_t",
    explanation="RMSProp whose numerator is the running size of its own past steps, so the "
                "units match and no learning rate is needed (α = 1). Its first step is "
                "√(ε/(1-ρ)) per coordinate (about 0.0032 at the defaults, whatever the slope) and "
                "it gathers speed as its steps grow.",
    references=("Zeiler, 2012, arXiv:1212.5701", "optax.adadelta"),
    conventions="optax and PyTorch (lr=1.0) as in the paper, ε inside both roots; Keras' default "
                "learning rate is 0.001. Seed 003 puts ε outside the roots, which is not the paper's.",
)
