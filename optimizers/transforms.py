"""What happens to a gradient before the update rule sees it.

1. Gaussian noise, ``g ← g + σ ξ`` with ``ξ ~ N(0, I)`` drawn from ``(seed, t)``:
   a stand-in for minibatch noise, reproducible from its seed.
2. Clipping by value, ``g ← clip(g, -c, c)`` (optax.clip, Keras ``clipvalue``).
3. Clipping by global norm, ``g ← g · min(1, c / ‖g‖)`` (optax.clip_by_global_norm;
   Keras's ``clipnorm`` clips each variable separately, which is the same on a 2-vector).

Which of them is on is static (part of what is compiled); their numbers are traced.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from landscapes.params import Param
from optimizers.base import tmap

CLIP_VALUE = Param("clip_value", 1.0, 1e-6, 1e6, log=True, doc="largest allowed |g_i|")
CLIP_NORM = Param("clip_norm", 1.0, 1e-6, 1e6, log=True, doc="largest allowed ‖g‖")
NOISE = Param("noise", 0.0, 0.0, 1e4, doc="σ: standard deviation of the noise added to each gradient coordinate")
SEED = Param("seed", 0, 0, 2**31 - 1, kind="int", doc="seed of the gradient noise")


@dataclass(frozen=True)
class GradientSwitches:
    """Which transforms are compiled in (the static part)."""

    noise: bool = False
    clip_value: bool = False
    clip_norm: bool = False


def transform(g, t, key, numbers: dict, on: GradientSwitches):
    """Apply the switched-on transforms to the gradient tree ``g`` at step ``t``."""
    if on.noise:
        leaves, treedef = jax.tree.flatten(g)
        keys = jax.random.split(jax.random.fold_in(key, t), len(leaves))
        noisy = [x + numbers["noise"] * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys)]
        g = jax.tree.unflatten(treedef, noisy)
    if on.clip_value:
        c = numbers["clip_value"]
        g = tmap(lambda x: jnp.clip(x, -c, c), g)
    if on.clip_norm:
        c = numbers["clip_norm"]
        norm = jnp.sqrt(sum(jnp.sum(x * x) for x in jax.tree.leaves(g)))
        g = tmap(lambda x: jnp.where(norm < c, x, (x / norm) * c), g)
    return g
