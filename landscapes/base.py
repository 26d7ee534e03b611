"""The `Landscape` type: a 2-D test function plus what a person needs to read it.

A landscape is a pure ``jax.numpy`` function of one point ``xy`` (shape ``(2,)``)
returning a scalar, together with its domain, known minima, a default start
point and a few words on what it teaches.

Landscapes with numeric parameters (the quadratic's condition number and angle,
say) keep the function in two parts, ``fn(xy, params)`` and ``params``, so the
runner can pass the parameters as *traced* values: moving a slider changes
``params`` and never recompiles.  ``f(xy)`` is always available and equals
``fn(xy, params)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple

import jax.numpy as jnp
import numpy as np

from landscapes._grid import evaluate_grid

Point = tuple[float, float]
Domain = tuple[tuple[float, float], tuple[float, float]]


def value_at_minima(f: Callable[[Any], Any], minima) -> float:
    """The lowest of ``f`` at ``minima``, each evaluated op by op in float32 (as jnp runs it
    eagerly; one jitted program rounds some surfaces' values differently)."""
    return min(float(f(jnp.asarray(m, jnp.float32))) for m in minima)


def _as_point(p: Any, what: str) -> Point:
    try:
        x, y = (float(v) for v in p)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a pair of numbers (x, y), got {p!r:.80}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{what} must be finite, got ({x}, {y})")
    return (x, y)


def _as_domain(d: Any) -> Domain:
    try:
        (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in d)
    except (TypeError, ValueError):
        raise ValueError(
            f"domain must be ((xmin, xmax), (ymin, ymax)), got {d!r:.80}"
        ) from None
    for lo, hi, axis in ((x0, x1, "x"), (y0, y1, "y")):
        if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
            raise ValueError(f"domain along {axis} must be finite with min < max, got ({lo}, {hi})")
    return ((x0, x1), (y0, y1))


@dataclass(frozen=True, eq=False)
class Landscape:
    """A 2-D loss landscape.

    Args:
      name: short identifier (``"rosenbrock"``); used in URLs.
      f: ``f(xy) -> scalar``, a pure jnp function of a ``(2,)`` array.
      domain: ``((xmin, xmax), (ymin, ymax))``, the plotted region.
      minima: known global minima ``[(x, y), ...]`` (may be empty).
      start: default start point.
      title: human-readable name.
      latex: the formula, as LaTeX.
      lesson: one sentence on what this landscape teaches.
      f_min: the value at the global minima (``value_at_minima`` if omitted; a catalog
        entry states it where it is that evaluation's exact result, tests/test_landscapes.py,
        which spares a new server the evaluation's op-by-op compiles on its first page).
      fn: optional parametrised form ``fn(xy, params) -> scalar``; when given,
        ``f`` is ``fn(., params)`` and the runner traces ``params``.
      params: the numeric parameters passed to ``fn``.
      minima_estimated: True when ``minima`` were found numerically, not known.
      log_scale: whether the contour colours should use a log scale.
    """

    name: str
    f: Callable[[Any], Any] | None = None
    domain: Domain = ((-2.0, 2.0), (-2.0, 2.0))
    minima: tuple[Point, ...] = ()
    start: Point = (1.0, 1.0)
    title: str = ""
    latex: str = ""
    lesson: str = ""
    f_min: float | None = None
    fn: Callable[[Any, Mapping[str, Any]], Any] | None = None
    params: Mapping[str, float] = field(default_factory=dict)
    minima_estimated: bool = False
    log_scale: bool = True

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a landscape needs a non-empty name")
        if self.f is None and self.fn is None:
            raise ValueError(f"landscape {self.name!r} needs a function f(xy)")
        if self.f is not None and not callable(self.f):
            raise ValueError(f"landscape {self.name!r}: f must be callable")
        if self.fn is not None and not callable(self.fn):
            raise ValueError(f"landscape {self.name!r}: fn must be callable")
        put = object.__setattr__
        put(self, "domain", _as_domain(self.domain))
        put(self, "start", _as_point(self.start, "start"))
        put(self, "minima", tuple(_as_point(m, "each minimum") for m in self.minima))
        put(self, "params", {str(k): float(v) for k, v in dict(self.params).items()})
        put(self, "title", self.title or self.name)
        if self.f is None:
            fn, params = self.fn, self.params
            put(self, "f", lambda xy: fn(xy, params))
        if self.f_min is None and self.minima:
            put(self, "f_min", value_at_minima(self.f, self.minima))

    # The runner compiles one program per `objective` (a stable function) and
    # feeds `objective_params` as traced arguments.
    @property
    def objective(self) -> Callable[[Any, Mapping[str, Any]], Any]:
        """``g(xy, params)``: the function the runner compiles (stable identity)."""
        if self.fn is not None:
            return self.fn
        return _Unparametrised.of(self.f)

    @property
    def objective_params(self) -> dict[str, float]:
        return dict(self.params) if self.fn is not None else {}

    def grid(self, n: int = 150) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Evaluate on an ``n x n`` grid over the domain: ``(xs, ys, z[iy, ix])``.

        Non-finite values stay NaN (figures show them as gaps).
        """
        return evaluate_grid(self, n)

    def nearest_minimum_distance(self, xy: np.ndarray) -> np.ndarray:
        """Euclidean distance from each row of ``xy`` (..., 2) to the nearest known minimum."""
        if not self.minima:
            return np.full(np.shape(xy)[:-1], np.nan)
        xy = np.asarray(xy, np.float64)
        x, y = xy[..., 0], xy[..., 1]
        nearest = None  # the squared distance to the nearest (norm's sum, written out: ~5x sooner;
        for mx, my in self.minima:  # a minimum at a time: 93 -> 32 us for 10,001 rows and one
            # minimum, 2,470 -> 107 us for four, against broadcasting to (..., M, 2))
            dx, dy = x - mx, y - my
            d = dx * dx + dy * dy
            nearest = d if nearest is None else np.minimum(nearest, d)
        return np.sqrt(nearest)  # (sqrt is monotone and correctly rounded: the same as the nearest's)

    def __repr__(self) -> str:
        return f"Landscape(name={self.name!r}, domain={self.domain}, start={self.start})"


class _Adapted(NamedTuple):
    f: Callable  # kept so a reused id() of a collected function is not taken for it
    adapter: "_Unparametrised"


class _Unparametrised:
    """Adapts ``f(xy)`` to ``g(xy, params)``; one adapter per ``f`` so jit caches hit."""

    _cache: dict[int, _Adapted] = {}

    def __init__(self, f):
        self.f = f

    def __call__(self, xy, params):
        return self.f(xy)

    @classmethod
    def of(cls, f):
        hit = cls._cache.get(id(f))
        if hit is not None and hit.f is f:
            return hit.adapter
        if len(cls._cache) > 256:
            cls._cache.clear()
        adapter = cls(f)
        cls._cache[id(f)] = _Adapted(f, adapter)
        return adapter
