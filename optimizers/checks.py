"""The argument checks shared by ``run``, ``run_batch``, ``sweep`` and ``train``.

Each turns what a caller (or a URL) gave into a checked value, or raises
ValueError naming the argument and its valid range.
"""

from __future__ import annotations

import math

import landscapes
from landscapes import Landscape
from landscapes.params import whole
from optimizers.runner import MAX_STEPS
from optimizers.transforms import CLIP_NORM, CLIP_VALUE, NOISE, SEED, GradientSwitches

__all__ = ["landscape_of", "start_point", "step_count", "gradient_transforms"]


def landscape_of(landscape) -> Landscape:
    """A ``Landscape`` from itself or from a built-in name."""
    if isinstance(landscape, Landscape):
        return landscape
    return landscapes.get(landscape)


def start_point(start, L: Landscape) -> tuple[float, float]:
    """``(x, y)`` checked finite with |x|, |y| <= 1e6; ``L``'s default start if None."""
    if start is None:
        return L.start
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise ValueError(f"start must be a pair of numbers (x, y), got {start!r:.60}") from None
    if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > 1e6:
        raise ValueError(f"start must be finite with |x|, |y| <= 1e6, got ({x}, {y})")
    return (x, y)


def step_count(steps) -> int:
    """A whole number of updates in [1, MAX_STEPS]."""
    return whole(steps, 1, MAX_STEPS, "steps")


def gradient_transforms(clip_value, clip_norm, noise, seed):
    """``(switches, numbers, seed)``: which transforms are on, their checked numbers, the seed."""
    numbers = {}
    if clip_value is not None:
        numbers["clip_value"] = CLIP_VALUE.validate(clip_value)
    if clip_norm is not None:
        numbers["clip_norm"] = CLIP_NORM.validate(clip_norm)
    noise = NOISE.validate(noise)
    if noise > 0:
        numbers["noise"] = noise
    seed = int(SEED.validate(seed))
    switches = GradientSwitches(noise=noise > 0, clip_value=clip_value is not None,
                                clip_norm=clip_norm is not None)
    return switches, numbers, seed
