"""Learning-rate schedules, as multipliers of the learning rate.

The runner computes ``α_t = learning_rate · s(t)`` for every step at once
(one vectorised call before the loop), where ``t`` counts the updates
already made, as optax's schedules do.  Each schedule's numbers are traced:
changing them never recompiles; changing the schedule's kind does.

Each ``s`` matches optax's schedule of the same name with ``init_value=1``
(``inverse_time`` matches Keras's ``InverseTimeDecay``, which optax lacks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp

from landscapes.params import Param

STEPS = dict(low=1, high=1_000_000, kind="int", log=True)


def _constant(t, p):
    return jnp.ones_like(t)


def _exponential(t, p):
    # optax.exponential_decay: decay_rate ** ((t - begin) / transition_steps)
    rate = t / p["transition_steps"]
    rate = jnp.where(p["staircase"] > 0.5, jnp.floor(rate), rate)
    return p["decay_rate"] ** rate


def _piecewise(t, p):
    # optax.piecewise_constant_schedule: multiply by each scale once t reaches its boundary
    s = jnp.ones_like(t)
    for i in (1, 2):
        s = s * jnp.where(t < p[f"boundary{i}"], 1.0, p[f"scale{i}"])
    return s


def _polynomial(t, p):
    # optax.polynomial_schedule: (1 - end) (1 - t/T)^power + end, constant after T
    count = jnp.clip(t, 0, p["transition_steps"])
    frac = 1 - count / p["transition_steps"]
    return (1.0 - p["end_factor"]) * frac ** p["power"] + p["end_factor"]


def _inverse_time(t, p):
    # keras.optimizers.schedules.InverseTimeDecay: 1 / (1 + rate · t / steps)
    rate = t / p["decay_steps"]
    rate = jnp.where(p["staircase"] > 0.5, jnp.floor(rate), rate)
    return 1.0 / (1.0 + p["decay_rate"] * rate)


def _cosine(t, p):
    # optax.cosine_decay_schedule: (1 - a) · ½(1 + cos(π min(t, T)/T)) + a
    count = jnp.minimum(t, p["decay_steps"])
    cosine = 0.5 * (1 + jnp.cos(math.pi * count / p["decay_steps"]))
    return (1 - p["alpha"]) * cosine + p["alpha"]


def _warmup(t, p):
    # optax.linear_schedule(0, 1, warmup_steps): linear from 0, then constant
    return jnp.clip(t / p["warmup_steps"], 0.0, 1.0)


def _warmup_cosine(t, p):
    # optax.warmup_cosine_decay_schedule(0, 1, warmup_steps, decay_steps, end_value=alpha)
    warm = p["warmup_steps"]
    ramp = t / warm
    count = jnp.clip(t - warm, 0, p["decay_steps"] - warm)
    cosine = 0.5 * (1 + jnp.cos(math.pi * count / (p["decay_steps"] - warm)))
    decay = (1 - p["alpha"]) * cosine + p["alpha"]
    return jnp.where(t < warm, ramp, decay)


@dataclass(frozen=True)
class ScheduleKind:
    name: str
    fn: Callable
    params: tuple[Param, ...]
    title: str
    latex: str


def _staircase():
    return Param("staircase", 0.0, 0.0, 1.0, kind="bool", doc="decay in whole steps of the period")


SCHEDULES = {s.name: s for s in [
    ScheduleKind("constant", _constant, (), "Constant", r"\alpha_t = \alpha"),
    ScheduleKind("exponential", _exponential, (
        Param("transition_steps", 1000, doc="steps per factor of decay_rate", **STEPS),
        Param("decay_rate", 0.5, 1e-4, 1.0, log=True, doc="factor per transition_steps"),
        _staircase()), "Exponential decay", r"\alpha_t = \alpha\, r^{t/T}"),
    ScheduleKind("piecewise", _piecewise, (
        Param("boundary1", 1000, 0, 1_000_000, kind="int", doc="step of the first drop"),
        Param("scale1", 0.1, 1e-4, 10.0, log=True, doc="factor applied at boundary1"),
        Param("boundary2", 5000, 0, 1_000_000, kind="int", doc="step of the second drop"),
        Param("scale2", 0.1, 1e-4, 10.0, log=True, doc="factor applied at boundary2")),
        "Piecewise constant", r"\alpha_t = \alpha \prod_{i:\, t \ge b_i} s_i"),
    ScheduleKind("polynomial", _polynomial, (
        Param("transition_steps", 5000, doc="steps to reach the end value", **STEPS),
        Param("end_factor", 0.01, 0.0, 1.0, doc="final rate as a fraction of α"),
        Param("power", 1.0, 0.1, 10.0, doc="1 = linear decay")),
        "Polynomial decay", r"\alpha_t = \alpha\,[(1-e)(1 - t/T)^p + e]"),
    ScheduleKind("inverse_time", _inverse_time, (
        Param("decay_steps", 1000, doc="steps per unit of decay", **STEPS),
        Param("decay_rate", 1.0, 0.0, 100.0, doc="r"),
        _staircase()), "Inverse time decay", r"\alpha_t = \frac{\alpha}{1 + r\, t / T}"),
    ScheduleKind("cosine", _cosine, (
        Param("decay_steps", 5000, doc="steps of the half cosine", **STEPS),
        Param("alpha", 0.0, 0.0, 1.0, doc="final rate as a fraction of α")),
        "Cosine decay", r"\alpha_t = \alpha\,[(1-a)\tfrac12(1 + \cos \pi t/T) + a]"),
    ScheduleKind("warmup", _warmup, (
        Param("warmup_steps", 500, doc="steps to ramp from 0 to α", **STEPS),),
        "Linear warm-up", r"\alpha_t = \alpha \min(1, t / W)"),
    ScheduleKind("warmup_cosine", _warmup_cosine, (
        Param("warmup_steps", 500, doc="steps to ramp from 0 to α", **STEPS),
        Param("decay_steps", 5000, doc="total steps, warm-up included", **STEPS),
        Param("alpha", 0.0, 0.0, 1.0, doc="final rate as a fraction of α")),
        "Warm-up then cosine", r"\alpha_t = \alpha\,\min(t/W, \text{cosine})"),
]}


def schedule_names() -> list[str]:
    return list(SCHEDULES)


def validate(kind: str, params: dict | None) -> dict[str, float]:
    """Check a schedule's kind and numbers; return all its numbers with defaults filled in."""
    if not isinstance(kind, str) or kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r:.40}; choose one of: {', '.join(SCHEDULES)}")
    sk = SCHEDULES[kind]
    if params is not None and not isinstance(params, Mapping):
        raise ValueError(f"schedule {kind!r}: its parameters must be a mapping of name to number, "
                         f"got {params!r:.40}")
    params = dict(params or {})
    specs = {p.name: p for p in sk.params}
    for k in params:
        if k not in specs:
            raise ValueError(f"schedule {kind!r} has no parameter {k!r:.40}; "
                             f"its parameters: {', '.join(specs) or 'none'}")
    out = {p.name: p.validate(params.get(p.name, p.default), f"schedule {kind!r}") for p in sk.params}
    if kind == "warmup_cosine" and out["decay_steps"] <= out["warmup_steps"]:
        raise ValueError("schedule 'warmup_cosine': decay_steps must be larger than warmup_steps")
    return out


def multipliers(kind: str, params, length: int):
    """``s(t)`` for t = 0 .. length-1, as a float32 array (inside jit: `params` traced)."""
    t = jnp.arange(length, dtype=jnp.float32)
    return SCHEDULES[kind].fn(t, params).astype(jnp.float32)
