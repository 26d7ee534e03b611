"""`Param`: the spec of one tunable number (a landscape's or an optimizer's).

A spec says what the number is called, its default, its valid range, whether a
slider for it should be logarithmic, and one line on what it means.  It is the
single place where a user's value is checked.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Param:
    name: str
    default: float
    low: float
    high: float
    log: bool = False
    doc: str = ""
    kind: str = "float"  # "float", "int" or "bool"

    def validate(self, value, owner: str = "") -> float:
        """Return ``value`` as a float, or raise ValueError naming it and the valid range."""
        where = f" for {owner}" if owner else ""
        if self.kind == "bool":
            # bool, int, float and their NumPy kinds (np.bool_ is not a numbers.Number)
            if isinstance(value, (numbers.Real, np.bool_)) and float(value) in (0.0, 1.0):
                return float(value)
            raise ValueError(f"{self.name}{where} must be true or false, got {value!r:.40}")
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{self.name}{where} must be a number, got {value!r}")
        try:
            v = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{self.name}{where} must be a number, got {value!r:.40}") from None
        if not math.isfinite(v) or not self.low <= v <= self.high:
            raise ValueError(
                f"{self.name}={value!r:.40}{where} is out of range: "
                f"valid range is [{self.low:g}, {self.high:g}]")
        if self.kind == "int":
            if v != int(v):
                raise ValueError(f"{self.name}{where} must be a whole number, got {value!r:.40}")
        return v


def whole(value, low: float, high: float, what: str) -> int:
    """``value`` as a whole number in [low, high] (a float with no fraction is accepted), or a
    ValueError naming ``what`` and the range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{what} must be a whole number, got {value!r:.40}")
    if not low <= value <= high:
        raise ValueError(f"{what}={value} is out of range: valid range is [{_plain(low)}, {_plain(high)}]")
    return int(value)


def _plain(x: float) -> str:
    """A bound as a person writes it: ``1``, ``2147483647``, ``0.5``."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def number_in(value, low: float, high: float, what: str) -> float:
    """``value`` as a finite float in [low, high], or a ValueError naming ``what`` and the range."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be a number, got {value!r:.40}") from None
    if not (math.isfinite(v) and low <= v <= high):
        raise ValueError(f"{what}={value!r:.40} is out of range: valid range is [{low:g}, {high:g}]")
    return v
