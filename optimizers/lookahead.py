"""Lookahead: a wrapper that gives any rule a slow, averaging second set of weights.

Every k fast steps the slow weights move a fraction γ of the way to the fast
ones, and the fast weights restart from there (Zhang et al., 2019, who call the
fraction α; here α is the learning rate).  The trajectory shows the fast
weights, the ones the gradient is taken at.

Checked against optax/_src/lookahead.py (optax.lookahead, compared step by step
in tests/test_conformance.py); torch.optim and Keras have no Lookahead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import jax.numpy as jnp

from landscapes.params import Param
from optimizers.base import Rule, tmap

SYNC_PERIOD = Param("sync_period", 6, 1, 1000, kind="int", doc="k: fast steps between two syncs")
SLOW_STEP = Param("slow_step_size", 0.5, 0.0, 1.0, doc="γ: how far the slow weights move towards the fast ones (the paper's α)")


class LookaheadState(NamedTuple):
    inner: object  # the wrapped rule's state
    slow: object  # the slow weights
    steps_since_sync: object


def lookahead(rule: Rule, name: str | None = None) -> Rule:
    """``rule`` wrapped in Lookahead; adds ``sync_period`` and ``slow_step_size``."""

    def init(params):
        return LookaheadState(rule.init(params), tmap(jnp.asarray, params), jnp.zeros([], jnp.float32))

    def update(grads, state, params, hp):
        updates, inner = rule.update(grads, state.inner, params, hp)
        sync = (state.steps_since_sync == hp["sync_period"] - 1).astype(jnp.float32)
        gamma = hp["slow_step_size"]
        # φ_new = φ + γ (θ_new - φ) at a sync; θ_new is reset to φ_new (optax.lookahead).
        diff = tmap(lambda p, u, s: p + u - s, params, updates, state.slow)
        slow = tmap(lambda s, d: s + gamma * sync * d, state.slow, diff)
        updates = tmap(lambda u, d: u - sync * (1 - gamma) * d, updates, diff)
        steps = jnp.where(sync > 0, 0.0, state.steps_since_sync + 1)
        return updates, LookaheadState(inner, slow, steps)

    return replace(
        rule,
        name=name or f"{rule.name}+lookahead",
        init=init, update=update,
        hyperparams=rule.hyperparams + (SYNC_PERIOD, SLOW_STEP),
        title=f"{rule.title} + Lookahead",
        latex=rule.latex + r"\\ \text{every } k \text{ steps: } \phi \leftarrow \phi + \gamma(\theta - \phi),\ \theta \leftarrow \phi",
        explanation=rule.explanation + " Lookahead keeps slow weights that every k steps move a "
                    "fraction γ towards the fast ones, damping the fast weights' wandering.",
        references=rule.references + ("Zhang et al., 2019, 'Lookahead Optimizer: k steps forward, 1 step back'",
                                      "optax.lookahead"),
    )
