"""What a ready scene claims to show, as data that a test can check.

A claim is a small frozen dataclass naming runs by their index in the scene
(0-based) and the numbers it is about.  ``holds(results, L)`` checks it on the
scene's trajectories; ``sentence`` (runs named "run 1", "run 2", ...) and
``text(labels)`` (runs named by their labels) render the human sentence from
the same numbers, so what the page says and what the test checks cannot drift
apart.  tests/test_scene_claims.py runs every preset and asserts every claim.

Claims live next to their preset (viz/presets.py), never in the Scene or the
URL: a shared link decodes exactly as before.  No Streamlit here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from landscapes import Landscape
from viz.race.compute import RunResult
from viz.race.metrics import steps_to_tol

Runs = tuple[int, ...]


def _names(runs: Runs, labels: Sequence[str] | None) -> str:
    names = [labels[i] if labels is not None else f"run {i + 1}" for i in runs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _tol_steps(r: RunResult, L: Landscape, tol: float) -> float:
    k = steps_to_tol(r.loss, L.f_min, tol)
    return math.inf if k is None else k


def _end(r: RunResult) -> np.ndarray:
    ok = np.flatnonzero(np.isfinite(r.xy).all(axis=1))
    return r.xy[ok[-1]]


def _first(mask: np.ndarray) -> float:
    hit = np.flatnonzero(mask)
    return int(hit[0]) if hit.size else math.inf


class Claim:
    """Base: ``holds(results, L) -> bool`` and ``text(labels) -> str``."""

    runs: Runs

    def holds(self, results: Sequence[RunResult], L: Landscape) -> bool:
        raise NotImplementedError

    def text(self, labels: Sequence[str] | None = None) -> str:
        raise NotImplementedError

    @property
    def sentence(self) -> str:
        return self.text(None)


@dataclass(frozen=True)
class Diverges(Claim):
    """The run's first non-finite step is at most ``within``."""

    runs: Runs
    within: int

    def holds(self, results, L):
        return all(results[i].diverged_at is not None and results[i].diverged_at <= self.within
                   for i in self.runs)

    def text(self, labels=None):
        return f"{_names(self.runs, labels)} diverge{'s' * (len(self.runs) == 1)} within {self.within:,} steps"


@dataclass(frozen=True)
class Stays(Claim):
    """None of the runs diverges."""

    runs: Runs

    def holds(self, results, L):
        return all(results[i].diverged_at is None for i in self.runs)

    def text(self, labels=None):
        return f"{_names(self.runs, labels)} never diverge{'s' * (len(self.runs) == 1)}"


@dataclass(frozen=True)
class Reaches(Claim):
    """Each run's f - f* is at most ``tol`` at some step <= ``within``."""

    runs: Runs
    within: int
    tol: float = 1e-3

    def holds(self, results, L):
        return all(_tol_steps(results[i], L, self.tol) <= self.within for i in self.runs)

    def text(self, labels=None):
        return f"{_names(self.runs, labels)} reach{'es' * (len(self.runs) == 1)} f − f* ≤ {self.tol:g} within {self.within:,} steps"


@dataclass(frozen=True)
class Misses(Claim):
    """Each run ends (last finite value) with f - f* above ``tol``."""

    runs: Runs
    tol: float = 1e-3

    def holds(self, results, L):
        for i in self.runs:
            finite = results[i].loss[np.isfinite(results[i].loss)]
            if not finite.size or finite[-1] - L.f_min <= self.tol:
                return False
        return True

    def text(self, labels=None):
        return f"{_names(self.runs, labels)} end{'s' * (len(self.runs) == 1)} with f − f* above {self.tol:g}"


@dataclass(frozen=True)
class Faster(Claim):
    """Every run in ``runs`` reaches f - f* <= tol, and ``factor`` times the slowest of
    them is still sooner than any run in ``than`` (a run that never gets there counts as
    never)."""

    runs: Runs
    than: Runs
    factor: float = 1.0
    tol: float = 1e-3

    def holds(self, results, L):
        fast = max(_tol_steps(results[i], L, self.tol) for i in self.runs)
        slow = min(_tol_steps(results[i], L, self.tol) for i in self.than)
        return math.isfinite(fast) and self.factor * fast < slow

    def text(self, labels=None):
        how = "before" if self.factor == 1 else f"more than {self.factor:g} times sooner than"
        return (f"{_names(self.runs, labels)} reach{'es' * (len(self.runs) == 1)} f − f* ≤ {self.tol:g} "
                f"{how} {_names(self.than, labels)}")


@dataclass(frozen=True)
class Leaves(Claim):
    """|coordinate ``axis``| first exceeds ``beyond`` at a step in [after, within]."""

    runs: Runs
    beyond: float
    within: int | None = None
    after: int = 0
    axis: int = 1

    def holds(self, results, L):
        for i in self.runs:
            k = _first(np.abs(results[i].xy[:, self.axis]) > self.beyond)
            if not (math.isfinite(k) and self.after < k <= (self.within if self.within is not None else math.inf)):
                return False
        return True

    def text(self, labels=None):
        when = []
        if self.after:
            when.append(f"after more than {self.after:,} steps")
        if self.within is not None:
            when.append(f"within {self.within:,} steps")
        xy = "xy"[self.axis]
        return f"|{xy}| passes {self.beyond:g} for {_names(self.runs, labels)} " + " and ".join(when)


@dataclass(frozen=True)
class Near(Claim):
    """The distance to ``point`` (default: the nearest global minimum) falls below
    ``radius`` within ``within`` steps (default: by the end); ``never=True`` says it does not."""

    runs: Runs
    radius: float
    within: int | None = None
    point: tuple[float, float] | None = None
    never: bool = False

    def _dist(self, r, L):
        if self.point is None:
            return L.nearest_minimum_distance(r.xy)
        return np.linalg.norm(r.xy - np.asarray(self.point), axis=1)

    def holds(self, results, L):
        for i in self.runs:
            d = self._dist(results[i], L)
            if self.within is None:  # at the end (the last finite point)
                ok = np.isfinite(d)
                inside = bool(ok.any()) and d[np.flatnonzero(ok)[-1]] < self.radius
            else:
                inside = _first(d < self.radius) <= self.within
            if inside == self.never:
                return False
        return True

    def text(self, labels=None):
        where = ("the minimum" if self.point is None
                 else f"({self.point[0]:g}, {self.point[1]:g})")
        names = _names(self.runs, labels)
        if self.never:
            return f"{names} never come{'s' * (len(self.runs) == 1)} within {self.radius:g} of {where}"
        if self.within is None:
            return f"{names} end{'s' * (len(self.runs) == 1)} within {self.radius:g} of {where}"
        return f"{names} come{'s' * (len(self.runs) == 1)} within {self.radius:g} of {where} in at most {self.within:,} steps"


@dataclass(frozen=True)
class Steps(Claim):
    """The largest step length ‖Δθ‖ lies in [at_least, at_most] (None: no bound)."""

    runs: Runs
    at_most: float | None = None
    at_least: float | None = None

    def holds(self, results, L):
        for i in self.runs:
            s = results[i].step_length
            big = float(np.nanmax(s)) if np.isfinite(s).any() else math.inf
            if self.at_most is not None and not big <= self.at_most * (1 + 1e-5):
                return False
            if self.at_least is not None and not big >= self.at_least:
                return False
        return True

    def text(self, labels=None):
        bounds = []
        if self.at_least is not None:
            bounds.append(f"at least {self.at_least:g}")
        if self.at_most is not None:
            bounds.append(f"at most {self.at_most:g}")
        return f"the largest step of {_names(self.runs, labels)} is " + " and ".join(bounds) + " long"


@dataclass(frozen=True)
class Ends(Claim):
    """The last finite point's coordinate ``axis`` (0 = x, 1 = y) ends above / below a value."""

    runs: Runs
    axis: int
    above: float | None = None
    below: float | None = None

    def holds(self, results, L):
        for i in self.runs:
            v = float(_end(results[i])[self.axis])
            if (self.above is not None and not v > self.above) or (self.below is not None and not v < self.below):
                return False
        return True

    def text(self, labels=None):
        bounds = ([f"above {self.above:g}"] if self.above is not None else []) + \
                 ([f"below {self.below:g}"] if self.below is not None else [])
        return f"{'xy'[self.axis]} ends " + " and ".join(bounds) + f" for {_names(self.runs, labels)}"


def holds_all(claims: Sequence[Claim], results: Sequence[RunResult], L: Landscape) -> list[bool]:
    return [c.holds(results, L) for c in claims]


def claims_markdown(claims: Sequence[Claim], labels: Sequence[str]) -> str:
    """The sentences for the page, or "" when there are none."""
    if not claims:
        return ""
    return "\n\nWhat to see (the tests check it on every change): " + "; ".join(c.text(labels) for c in claims) + "."
