"""FTRL-Proximal, in Keras's formulation (keras.optimizers.Ftrl).

Conventions checked against: keras/src/optimizers/ftrl.py (``Ftrl.update_step``,
transcribed in tests/test_conformance.py); optax and torch.optim have no FTRL.

Keras starts the linear accumulator at z₀ = 0, which is the point θ = 0: the
first step is θ₁ = θ₀ (1 - √n₀/√n₁) - α g₀/√n₁, so where the first gradients are
small next to √n₀ every run jumps to near the origin, wherever it started.
``start_centred=1`` starts instead from z₀ = -(n₀^{-p}/α + 2λ₂ + β/α) θ₀, the z
whose point is θ₀ (with λ₁ = 0): the first step is then AdaGrad's from θ₀.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscapes.params import Param
from optimizers.base import Rule, learning_rate, tmap, zeros_like


# Keras (McMahan et al., 2013, Algorithm 1, with Keras's extras), per coordinate:
#   n_{t+1} = n_t + g_t²                                   (n_0 = initial_accumulator_value)
#   σ_t     = (n_{t+1}^{-p} - n_t^{-p}) / α                 (p = learning_rate_power = -½)
#   z_{t+1} = z_t + g̃_t - σ_t θ_t,   g̃_t = g_t + 2 λ₂ₛ θ_t  (shrinkage L2)
#   θ_{t+1} = (clip(z, -λ₁, λ₁) - z_{t+1}) / (n_{t+1}^{-p}/α + 2 (λ₂ + β/(2α)))
# θ is recomputed from z and n, not moved by a step; `update` returns θ_{t+1} - θ_t.
# z_0 = 0 (Keras), or with start_centred the z whose point is θ_0 (see the module's doc):
#   z_0 = -(n_0^{-p}/α + 2 (λ₂ + β/(2α))) θ_0, set on the first update (init sees no hyperparameter).

class FtrlState(NamedTuple):
    s: object  # Σ g², so that n_t = initial_accumulator_value + s (init needs no hyperparameter)
    z: object  # the "linear" accumulator
    count: object  # updates so far (int32): the first one may set z_0


def ftrl_init(params):
    return FtrlState(s=zeros_like(params), z=zeros_like(params), count=jnp.zeros([], jnp.int32))


def ftrl_update(grads, state, params, hp):
    lr, p = hp["learning_rate"], hp["learning_rate_power"]
    l1, l2 = hp["l1_regularization_strength"], hp["l2_regularization_strength"]
    l2 = l2 + hp["beta"] / (2.0 * lr)
    shrink = hp["l2_shrinkage_regularization_strength"]
    n0 = hp["initial_accumulator_value"]
    centre = (hp["start_centred"] > 0.5) & (state.count == 0)

    def one(g, s, z, theta):
        accum = s + n0
        z = jnp.where(centre, -(jnp.power(accum, -p) / lr + 2 * l2) * theta, z)
        new_s = s + g * g
        new_accum = new_s + n0
        g_used = g + 2 * shrink * theta
        z = z + (g_used - (jnp.power(new_accum, -p) - jnp.power(accum, -p)) / lr * theta)
        quadratic = jnp.power(new_accum, -p) / lr + 2 * l2
        new_theta = (jnp.clip(z, -l1, l1) - z) / quadratic
        return new_theta - theta, new_s, z

    out = tmap(one, grads, state.s, state.z, params)  # a triple at each leaf of `grads`
    # Split by the structure of `grads`: a test on the triples (is_leaf) would also
    # match a 3-tuple node of the parameters themselves.
    updates, s, z = jax.tree.transpose(jax.tree.structure(grads), jax.tree.structure((0, 0, 0)), out)
    return updates, FtrlState(s=s, z=z, count=state.count + 1)


FTRL = Rule(
    name="ftrl", init=ftrl_init, update=ftrl_update,
    hyperparams=(
        learning_rate(0.1),
        Param("learning_rate_power", -0.5, -2.0, 0.0,
              doc="p: how fast the per-coordinate step decays (-½ as AdaGrad, 0 = fixed)"),
        Param("initial_accumulator_value", 0.1, 1e-6, 10.0, log=True, doc="n₀: starting sum of squares"),
        Param("l1_regularization_strength", 0.0, 0.0, 10.0, doc="λ₁: pulls coordinates to exactly 0"),
        Param("l2_regularization_strength", 0.0, 0.0, 10.0, doc="λ₂: online L2 penalty"),
        Param("l2_shrinkage_regularization_strength", 0.0, 0.0, 10.0,
              doc="λ₂ₛ: L2 penalty added to the loss (shrinks the weights)"),
        Param("beta", 0.0, 0.0, 10.0, doc="β: smooths the first steps (Keras)"),
        Param("start_centred", 0.0, 0.0, 1.0, kind="bool",
              doc="start the accumulator z at the start point, so the first step is AdaGrad's "
                  "(0 = Keras: z₀ = 0, the origin)"),
    ),
    title="FTRL",
    latex=r"z_{t+1} = z_t + g_t - \sigma_t \theta_t \qquad "
          r"\theta_{t+1} = \frac{\operatorname{clip}(z_{t+1}, \pm\lambda_1) - z_{t+1}}{\sqrt{n_{t+1}}/\alpha + 2\lambda_2}",
    explanation="Follow the regularised leader: instead of stepping from where it is, it jumps to "
                "the point that would have been best against all gradients so far, with an "
                "AdaGrad-like per-coordinate scale. With λ₁ > 0 small coordinates snap to zero. "
                "That point is measured from the origin, not from the start: Keras starts z at 0, "
                "so the first step lands at θ₀(1 - √n₀/√n₁) - αg₀/√n₁, close to 0 wherever the "
                "first gradients are small next to √n₀. Every run is pulled towards the origin, "
                "which looks like success only where the minimum is there. start_centred = 1 "
                "starts z at the start point instead: the first step is then AdaGrad's.",
    references=("McMahan et al., 2013, 'Ad Click Prediction: a View from the Trenches'",
                "keras.optimizers.Ftrl"),
    conventions="Keras's names and defaults (except α: Keras 0.001), z₀ = 0 as Keras; start_centred "
                "is ours. optax and torch.optim have no FTRL; the reference is Keras's published "
                "update step.",
)
