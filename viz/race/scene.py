r"""The Scene: one plain, hashable, validated description of everything shown.

Widgets edit a Scene, the URL encodes it, presets are Scenes and tests build
Scenes.  ``Scene(...)`` validates and canonicalises its arguments (it raises
``ValueError`` for anything invalid); :func:`decode` reads an untrusted URL
query and never raises: each problem becomes a warning and a safe default.

Its URL form: viz/race/link.py.
"""


from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import landscapes
from landscapes import expression
from landscapes.params import Param
from optimizers.transforms import SEED
from viz.common.runs import Pairs, Run, canonical_params, check_runs_and_switches, unique_labels
from viz.common.url import num

SCHEMA_VERSION = 1
MAX_RUNS = 8
MAX_STEPS = 100_000
DEFAULT_STEPS = 10_000
CUSTOM = "custom"
DEFAULT_DOMAIN = (-3.0, 3.0, -3.0, 3.0)
MAX_COORD = 1e4  # |domain bound|
PANELS = ("loss", "dist", "step", "elr")
PANEL_TITLES = {"loss": "loss vs step", "dist": "distance to the nearest global minimum",
                "step": "step length",
                "elr": "|Δθᵢ/gᵢ| per coordinate (the learning rate used, for SGD-like rules only)"}
DEFAULT_PANELS = ("loss", "dist", "step")
VIEWS = ("2d", "3d")
TOL = Param("tol", 1e-3, 1e-12, 1e6, log=True, doc="tolerance on f - f* for 'steps to tolerance'")


# --- the scene ----------------------------------------------------------------------------

def _point(p, what: str, bound: float) -> tuple[float, float]:
    try:
        x, y = (num(v) for v in p)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be a pair of numbers") from None
    if not all(math.isfinite(v) and abs(v) <= bound for v in (x, y)):
        raise ValueError(f"{what} must be finite with |x|, |y| <= {bound:g}")
    return (x, y)


def _domain(d) -> tuple[float, float, float, float]:
    try:
        x0, x1, y0, y1 = (num(v) for v in d)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("domain must be four numbers xmin, xmax, ymin, ymax") from None
    if not all(math.isfinite(v) and abs(v) <= MAX_COORD for v in (x0, x1, y0, y1)):
        raise ValueError(f"domain bounds must be finite with |value| <= {MAX_COORD:g}")
    if not (x0 < x1 and y0 < y1):
        raise ValueError("domain needs xmin < xmax and ymin < ymax")
    return (x0, x1, y0, y1)


@dataclass(frozen=True)
class Scene:
    """Everything the page shows.  See the module docstring for its URL form."""

    landscape: str = "rosenbrock"
    landscape_params: Pairs | Mapping[str, float] = ()
    formula: str = ""
    domain: tuple[float, float, float, float] | None = None
    start: tuple[float, float] | None = None
    steps: int = DEFAULT_STEPS
    runs: tuple[Run, ...] = ()
    schedule: str = "constant"
    schedule_params: Pairs | Mapping[str, float] = ()
    clip: str = "off"
    clip_at: float = 1.0
    noise: float = 0.0
    seed: int = 0
    span: tuple[int, int] | None = None
    view: str = "2d"
    panels: tuple[str, ...] = DEFAULT_PANELS
    tol: float = 1e-3
    log_steps: bool = False
    version: int = field(default=SCHEMA_VERSION)

    def __post_init__(self):
        put = object.__setattr__
        if self.version != SCHEMA_VERSION:
            raise ValueError(f"unsupported scene version {self.version!r:.20}")
        # landscape
        if self.landscape == CUSTOM:
            ok, msg, col = expression.check(self.formula)
            if not ok:
                where = f" at column {col}" if col else ""
                raise ValueError(f"formula{where}: {msg}")
            put(self, "formula", self.formula.strip())
            put(self, "domain", _domain(self.domain if self.domain is not None else DEFAULT_DOMAIN))
            if dict(self.landscape_params):
                raise ValueError("a custom formula has no landscape parameters")
            put(self, "landscape_params", ())
        else:
            if self.landscape not in landscapes.names():
                raise ValueError(f"unknown landscape {self.landscape!r:.40}")
            if self.formula or self.domain is not None:
                raise ValueError("formula and domain belong to the custom landscape only")
            put(self, "landscape_params", canonical_params(
                landscapes.param_specs(self.landscape), dict(self.landscape_params),
                f"landscape {self.landscape!r}"))
        if self.start is not None:
            put(self, "start", _point(self.start, "start", 1e6))
        # steps
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be a whole number in [1, {MAX_STEPS}]")
        check_runs_and_switches(self, MAX_RUNS)  # runs, schedule, clipping, noise
        put(self, "seed", int(SEED.validate(self.seed)))
        # view
        if self.span is not None:
            try:
                a, b = (int(v) for v in self.span)
            except (TypeError, ValueError):
                raise ValueError("span must be two whole numbers") from None
            if not 0 <= a < b <= self.steps:
                raise ValueError(f"span must satisfy 0 <= start < end <= steps ({self.steps})")
            put(self, "span", None if (a, b) == (0, self.steps) else (a, b))
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}")
        panels = tuple(self.panels)
        if not set(panels) <= set(PANELS):
            raise ValueError(f"panels must be among {PANELS}")
        put(self, "panels", tuple(p for p in PANELS if p in panels))
        put(self, "tol", TOL.validate(num(TOL.validate(self.tol))))
        put(self, "log_steps", bool(self.log_steps))

    # --- derived, plain values -------------------------------------------------------
    def landscape_key(self) -> tuple:
        if self.landscape == CUSTOM:
            return (CUSTOM, self.formula, self.domain)
        return ("builtin", self.landscape, self.landscape_params)

    def shared_key(self) -> tuple:
        return (self.schedule, self.schedule_params, self.clip, self.clip_at, self.noise, self.seed)

    def effective_span(self) -> tuple[int, int]:
        return self.span if self.span is not None else (0, self.steps)

    def replace(self, **changes) -> "Scene":
        return replace(self, **changes)

    def labels(self) -> list[str]:
        """Each run's legend label, made unique with a ' #2' suffix where two coincide."""
        return unique_labels(self.runs)


def landscape_domain(kw_or_scene) -> tuple[float, float, float, float]:
    """xmin, xmax, ymin, ymax of a scene's landscape, without evaluating any formula."""
    get = kw_or_scene.get if isinstance(kw_or_scene, dict) else lambda k: getattr(kw_or_scene, k)
    if get("landscape") == CUSTOM:
        return tuple(get("domain") or DEFAULT_DOMAIN)
    (x0, x1), (y0, y1) = landscapes.get(get("landscape")).domain
    return (float(x0), float(x1), float(y0), float(y1))


RESET = "reset"  # start_from_input: back to the landscape's own start


def start_from_input(value: Any, domain: Sequence[float]) -> tuple[float, float] | str | None:
    """The start the chart's start inputs ask for (its trigger value ``start``, from the
    browser): {"x", "y"} finite numbers, clamped to ``domain``; {"reset": true}: RESET (the
    landscape's own start); anything else: None (ignored)."""
    if isinstance(value, Mapping) and value.get("reset") is True:
        return RESET
    return start_from_click([value], domain)


def steps_from_input(value: Any) -> int | None:
    """The step count the chart's steps input asks for (its trigger value ``steps``, from the
    browser): {"steps": a finite number}, rounded to a whole one and clamped to [1, MAX_STEPS];
    anything else (a string, a boolean, NaN): None (ignored)."""
    n = value.get("steps") if isinstance(value, Mapping) else None
    if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n):
        return None
    return int(min(max(round(n), 1), MAX_STEPS))


def start_from_click(points: Any, domain: Sequence[float]) -> tuple[float, float] | None:
    """The start point from a plot selection's ``points`` (Streamlit's ``selection.points``):
    the first point with finite numeric x and y, clamped to ``domain`` (xmin, xmax, ymin, ymax)."""
    if not isinstance(points, (list, tuple)):
        return None
    x0, x1, y0, y1 = domain
    for pt in points[:10]:
        if not isinstance(pt, Mapping):
            continue
        x, y = pt.get("x"), pt.get("y")
        if (isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool)
                and not isinstance(y, bool) and math.isfinite(x) and math.isfinite(y)):
            return (num(min(max(x, x0), x1)), num(min(max(y, y0), y1)))
    return None
