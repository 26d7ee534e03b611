"""Adam and its family: Nadam, AdaMax, AMSGrad, RAdam, AdamW.

All keep two running means, of the gradient (m, decay β₁) and of its square
(v, decay β₂), and correct both for their zero start.  The corrections use
``β ** t`` with an integer ``t``, exactly as optax computes them: a running
product would save a ``pow`` per step but drifts from optax by a few ulps,
which RAdam's ``1 - β₂ᵗ`` (a cancellation at small t) amplifies.

Conventions lines checked against (each rule's ``conventions``):
  optax:  optax/_src/alias.py (adam, nadam, adamw, adamax, amsgrad, radam) and
          optax/_src/transform.py (scale_by_adam, scale_by_adamax, scale_by_amsgrad,
          scale_by_radam, add_decayed_weights);
  torch:  torch/optim/adam.py (``_single_tensor_adam``, amsgrad branch), adamw.py,
          adamax.py (``_single_tensor_adamax``), nadam.py, radam.py;
  Keras:  keras/src/optimizers/adam.py, adamax.py, adamw.py, nadam.py (``update_step``).
The AMSGrad and Keras differences are asserted in tests/test_conformance.py.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from landscapes.params import Param
from optimizers.base import B1, B2, EPS, EPS_ROOT, NESTEROV, Rule, learning_rate, scale, tmap, where, zeros_like


class AdamState(NamedTuple):
    count: object  # t, the number of updates so far (int32)
    mu: object  # m: running mean of g
    nu: object  # v: running mean of g² (AdaMax: running max of |g|)


def adam_init(params):
    return AdamState(count=jnp.zeros([], jnp.int32), mu=zeros_like(params), nu=zeros_like(params))


def _moments(grads, state, hp):
    """One step of the two running means and of t (optax's update_moment)."""
    b1, b2 = hp["b1"], hp["b2"]
    mu = tmap(lambda g, m: (1 - b1) * g + b1 * m, grads, state.mu)
    nu = tmap(lambda g, v: (1 - b2) * (g**2) + b2 * v, grads, state.nu)
    return mu, nu, state.count + 1


def _mu_hat(grads, mu, t, hp):
    """m̂: bias-corrected first moment; with Nesterov, Dozat's look-ahead mix."""
    b1 = hp["b1"]
    b1t = b1**t
    plain = tmap(lambda m: m / (1 - b1t), mu)
    # Nadam: β₁ m_t / (1 - β₁^{t+1}) + (1 - β₁) g_t / (1 - β₁^t)
    # (β₁^{t+1} as β₁ᵗ·β₁: one pow per step, not two, since both branches are computed)
    nesterov = tmap(lambda m, g: b1 * (m / (1 - b1t * b1)) + (1 - b1) * (g / (1 - b1t)), mu, grads)
    return where(hp["nesterov"], nesterov, plain)


# Adam -----------------------------------------------------------------------------------
#   m_{t+1} = β₁ m_t + (1-β₁) g_t        v_{t+1} = β₂ v_t + (1-β₂) g_t²
#   m̂ = m_{t+1} / (1-β₁^{t+1})          v̂ = v_{t+1} / (1-β₂^{t+1})
#   θ_{t+1} = θ_t - α m̂ / (√(v̂ + ε_root) + ε)

def adam_update(grads, state, params, hp):
    mu, nu, t = _moments(grads, state, hp)
    mu_hat = _mu_hat(grads, mu, t, hp)
    nu_hat = tmap(lambda v: v / (1 - hp["b2"] ** t), nu)
    direction = tmap(lambda m, v: m / (jnp.sqrt(v + hp["eps_root"]) + hp["eps"]), mu_hat, nu_hat)
    if "weight_decay" in hp:  # AdamW: decoupled weight decay, scaled by α like the step
        direction = tmap(lambda d, p: d + hp["weight_decay"] * p, direction, params)
    return scale(-hp["learning_rate"], direction), AdamState(t, mu, nu)


_ADAM_HP = (learning_rate(0.01), B1, B2, EPS, EPS_ROOT)

ADAM = Rule(
    name="adam", init=adam_init, update=adam_update,
    hyperparams=_ADAM_HP + (NESTEROV,),
    title="Adam",
    latex=r"m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t \quad v_{t+1} = \beta_2 v_t + (1-\beta_2) g_t^2 \quad "
          r"\theta_{t+1} = \theta_t - \alpha \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}",
    explanation="Momentum and RMSProp together: it steps along the running mean of the "
                "gradient, divided per coordinate by the running root mean square. Each step is "
                "about α long whatever the slope's scale, which is why it rarely needs tuning.",
    references=("Kingma & Ba, 2015, arXiv:1412.6980", "optax.adam"),
    conventions="Same as PyTorch. Keras adds ε to √v before the bias correction, which is ε/√(1-β₂ᵗ) "
                "here: larger in the first steps (√1000 ≈ 32 times at t = 1 with β₂ = 0.999), the "
                "same later; Keras's default ε is 1e-7. ε_root adds ε inside the root.",
)

NADAM = Rule(
    name="nadam", init=adam_init, update=adam_update,
    hyperparams=_ADAM_HP + (Param("nesterov", 1.0, 0.0, 1.0, kind="bool",
                                  doc="use Nesterov's look-ahead form"),),
    title="Nadam",
    latex=r"\hat m = \frac{\beta_1 m_{t+1}}{1-\beta_1^{t+2}} + \frac{(1-\beta_1) g_t}{1-\beta_1^{t+1}} \qquad "
          r"\theta_{t+1} = \theta_t - \alpha \frac{\hat m}{\sqrt{\hat v_{t+1}} + \epsilon}",
    explanation="Adam with Nesterov's look-ahead: the momentum term is the one the next step "
                "will use, and the current gradient is added on top, so it reacts a step sooner "
                "when the slope turns.",
    references=("Dozat, 2016, 'Incorporating Nesterov Momentum into Adam'", "optax.nadam"),
    conventions="optax's form; PyTorch's NAdam adds a momentum-decay schedule (ψ=0.004) and "
                "Keras a similar one, so they differ slightly.",
)


# AdamW ----------------------------------------------------------------------------------

ADAMW = Rule(
    name="adamw", init=adam_init, update=adam_update,
    hyperparams=_ADAM_HP + (NESTEROV, Param(
        "weight_decay", 1e-4, 0.0, 10.0, doc="λ: pulls the weights towards 0, outside Adam's scaling")),
    title="AdamW",
    latex=r"\theta_{t+1} = \theta_t - \alpha \Bigl(\frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon} + \lambda\, \theta_t\Bigr)",
    explanation="Adam plus a decay of every weight towards zero, αλθ, that is not divided by "
                "the gradient statistics. Adam's own step is about α per coordinate whatever the "
                "slope, so it outweighs the decay wherever λ|θᵢ| < 1: a minimum with every "
                "|θᵢ| < 1/λ is still where the run comes to rest (an L2 penalty in the loss "
                "would move it towards 0). A coordinate that would need |θᵢ| > 1/λ is held near "
                "±1/λ instead, and the others settle wherever the loss is lowest given that, "
                "which may be further from 0.",
    references=("Loshchilov & Hutter, 2019, arXiv:1711.05101", "optax.adamw"),
    conventions="optax, PyTorch and Keras multiply λ by α (default λ: optax 1e-4, PyTorch 0.01, "
                "Keras 0.004); PyTorch and Keras decay θ before the Adam step, optax (and this "
                "rule) from the same θ_t: the same number, rounded differently.",
)


# AdaMax ---------------------------------------------------------------------------------
#   u_{t+1} = max(β₂ u_t, |g_t| + ε)
#   θ_{t+1} = θ_t - α m̂ / u_{t+1}

def adamax_update(grads, state, params, hp):
    b1, b2 = hp["b1"], hp["b2"]
    t = state.count + 1
    mu = tmap(lambda g, m: (1 - b1) * g + b1 * m, grads, state.mu)
    u = tmap(lambda g, n: jnp.maximum(jnp.abs(g) + hp["eps"], b2 * n), grads, state.nu)
    mu_hat = tmap(lambda m: m / (1 - b1**t), mu)
    direction = tmap(lambda m, v: m / v, mu_hat, u)
    return scale(-hp["learning_rate"], direction), AdamState(t, mu, u)


ADAMAX = Rule(
    name="adamax", init=adam_init, update=adamax_update,
    hyperparams=(_ADAM_HP[0], B1,
                 Param("b2", 0.999, 0.0, 0.99999, doc="β₂: decay of the running maximum of |g|"),
                 Param("eps", 1e-8, 1e-12, 1.0, log=True,
                       doc="ε added to |g| inside the maximum, u = max(β₂u, |g| + ε)")),
    title="AdaMax",
    latex=r"u_{t+1} = \max(\beta_2 u_t,\ |g_t| + \epsilon) \qquad \theta_{t+1} = \theta_t - \alpha\, \frac{\hat m_{t+1}}{u_{t+1}}",
    explanation="Adam with the root mean square replaced by a decaying maximum of |g|: one "
                "large gradient sets the scale for a while, which makes steps steadier.",
    references=("Kingma & Ba, 2015, section 7.1", "optax.adamax"),
    conventions="optax and PyTorch add ε to |g| inside the max. Keras takes u = max(β₂u, |g|) and "
                "divides by u + ε, ε outside the max (default 1e-7); the two agree while ε is "
                "small next to |g|.",
)


# AMSGrad --------------------------------------------------------------------------------

class AMSGradState(NamedTuple):
    adam: AdamState
    nu_max: object  # running maximum of v̂ (optax; PyTorch and Keras keep the maximum of v)


def amsgrad_init(params):
    return AMSGradState(adam=adam_init(params), nu_max=zeros_like(params))


def amsgrad_update(grads, state, params, hp):
    mu, nu, t = _moments(grads, state.adam, hp)
    mu_hat = tmap(lambda m: m / (1 - hp["b1"] ** t), mu)
    nu_hat = tmap(lambda v: v / (1 - hp["b2"] ** t), nu)
    nu_max = tmap(jnp.maximum, state.nu_max, nu_hat)
    direction = tmap(lambda m, v: m / (jnp.sqrt(v + hp["eps_root"]) + hp["eps"]), mu_hat, nu_max)
    return scale(-hp["learning_rate"], direction), AMSGradState(AdamState(t, mu, nu), nu_max)


AMSGRAD = Rule(
    name="amsgrad", init=amsgrad_init, update=amsgrad_update,
    hyperparams=_ADAM_HP,
    title="AMSGrad",
    latex=r"\hat v^{\max}_{t+1} = \max(\hat v^{\max}_t, \hat v_{t+1}) \qquad \theta_{t+1} = \theta_t - \alpha \frac{\hat m_{t+1}}{\sqrt{\hat v^{\max}_{t+1}} + \epsilon}",
    explanation="Adam that never lets its denominator shrink: dividing by the largest v̂ seen so "
                "far, a step can not grow just because recent gradients were small.",
    references=("Reddi, Kale & Kumar, 2018, 'On the Convergence of Adam and Beyond'", "optax.amsgrad"),
    conventions="optax's form: the max of the bias-corrected v̂. PyTorch and Keras (amsgrad=True) "
                "take the max of the raw v and divide it by the current 1-β₂ᵗ: the same first step, "
                "then different steps whenever an old maximum is kept (its v̂ was corrected by an "
                "earlier, smaller 1-β₂ᵗ).",
)


# RAdam ----------------------------------------------------------------------------------
#   ρ∞ = 2/(1-β₂) - 1,  ρ_t = ρ∞ - 2t β₂ᵗ/(1-β₂ᵗ)
#   if ρ_t ≥ threshold:  θ ← θ - α r_t m̂ / (√v̂ + ε),  r_t = √((ρ_t-4)(ρ_t-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρ_t))
#   else:                θ ← θ - α m̂          (momentum SGD while v̂ is still unreliable)

def radam_update(grads, state, params, hp):
    mu, nu, t = _moments(grads, state, hp)
    b2t = hp["b2"] ** t
    ro_inf = 2.0 / (1.0 - hp["b2"]) - 1.0
    ro = ro_inf - 2 * t * b2t / (1 - b2t)
    mu_hat = _mu_hat(grads, mu, t, hp)
    nu_hat = tmap(lambda v: v / (1 - b2t), nu)
    r = jnp.sqrt((ro - 4.0) * (ro - 2.0) * ro_inf / ((ro_inf - 4.0) * (ro_inf - 2.0) * ro))
    rectified = tmap(lambda m, v: r * m / (jnp.sqrt(v + hp["eps_root"]) + hp["eps"]), mu_hat, nu_hat)
    direction = tmap(lambda a, b: jnp.where(ro >= hp["threshold"], a, b), rectified, mu_hat)
    return scale(-hp["learning_rate"], direction), AdamState(t, mu, nu)


RADAM = Rule(
    name="radam", init=adam_init, update=radam_update,
    hyperparams=_ADAM_HP + (
        Param("threshold", 5.0, 4.0, 1000.0, doc="ρ below which the adaptive step is not trusted yet"),
        NESTEROV),
    title="RAdam",
    latex=r"\theta_{t+1} = \theta_t - \alpha\, r_t \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}"
          r"\quad\text{once } \rho_t \ge 5,\ \text{else } \theta_t - \alpha\, \hat m_{t+1}",
    explanation="Adam whose early steps are rectified: while few squared gradients have been "
                "averaged, v̂ is noisy, so it takes plain momentum steps and phases the adaptive "
                "ones in as their variance becomes trustworthy — a built-in warm-up.",
    references=("Liu et al., 2020, 'On the Variance of the Adaptive Learning Rate and Beyond'", "optax.radam"),
    conventions="optax's threshold is 5 (the paper's 4; PyTorch uses 5 as well).",
)
