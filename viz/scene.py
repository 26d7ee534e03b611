r"""The Scene: one plain, hashable, validated description of everything shown.

Widgets edit a Scene, the URL encodes it, presets are Scenes and tests build
Scenes.  ``Scene(...)`` validates and canonicalises its arguments (it raises
``ValueError`` for anything invalid); :func:`decode` reads an untrusted URL
query and never raises: each problem becomes a warning and a safe default.

URL schema, version 1
=====================

A view is the query string of the page's URL.  Keys, in the order they are
written (only ``v``, ``ls``, ``steps`` and the runs are always present; every
other key is written only when it differs from its default)::

    v=1                                   schema version
    scene=ravine_momentum                 (read only) start from a ready scene; other keys override it
    ls=rosenbrock                         landscape: a built-in name ...
    ls=quadratic:condition=100,angle=30   ... with its parameters (those not at their default)
    ls=custom&f=x**2+10*sin(y)            ... or your own formula (the formula language of
    dom=-3,3,-3,3                             landscapes.expression) on xmin,xmax,ymin,ymax
    start=-1.5,2                          start point x,y (default: the landscape's)
    steps=10000                           number of updates, 1 to 100000
    r0=adam:learning_rate=0.01,b1=0.95    run 0: optimizer, then hyperparameters by optax's names;
    r1=sgd~lookahead:learning_rate=0.001      learning_rate is always written, the others only when
    r2=sgd~raw:learning_rate=0.1              not at the rule's default.  Flags after the name:
    ...  up to r7                             ~lookahead wraps the rule in Lookahead, ~raw makes the
                                              run ignore the shared clipping and noise
    l0=Fast%20Adam                        run 0's legend label (default: title and learning rate)
    runs=none                             a scene without runs (only the landscape)
    sched=cosine:decay_steps=5000,alpha=0 learning-rate schedule and its numbers (default: constant)
    clip=norm:1                           clip gradients by global norm (or value:0.5) at that size
    noise=0.5&seed=3                      Gaussian gradient noise sigma and its seed
    span=0,500                            the animation's step range (default: all steps)
    view=3d                               3-D surface instead of the contour
    panels=loss,dist,elr                  side plots, from: loss, dist, step, elr
    tol=0.0001                            tolerance of the "steps to tolerance" column
    xlog=1                                logarithmic step axis in the side plots

Numbers are plain decimals (``0.01``, ``1e-05``), written with 6 significant
digits; booleans are ``1``/``0`` (``true``/``false`` are read too).  A link
without runs gets the default scene's runs, tuned for its landscape.

Reading a link never fails.  Unknown keys, landscapes, optimizers,
hyperparameters and schedules, out-of-range, non-numeric or non-finite values,
duplicated keys and invalid formulas each produce a warning and a safe default
(an unknown optimizer drops its run; an out-of-range number is clamped; steps
are clamped to 1..100000).  A query longer than 4,096 characters or with more
than 48 keys is ignored as a whole.  Reading is linear in the query's length
and evaluates nothing: a formula is only checked by the allowlist parser.
"""

from __future__ import annotations

import math
import urllib.parse
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Sequence

import landscapes
import optimizers
from landscapes import expression
from landscapes.params import Param
from optimizers import schedules
from optimizers.transforms import CLIP_NORM, CLIP_VALUE, NOISE, SEED

SCHEMA_VERSION = 1
MAX_RUNS = 8
MAX_STEPS = 100_000
DEFAULT_STEPS = 10_000
MAX_QUERY_CHARS = 4096
MAX_KEYS = 48
MAX_VALUE_CHARS = 600
MAX_LABEL_CHARS = 40
MAX_WARNINGS = 12
CUSTOM = "custom"
DEFAULT_DOMAIN = (-3.0, 3.0, -3.0, 3.0)
MAX_COORD = 1e4  # |domain bound|
PANELS = ("loss", "dist", "step", "elr")
PANEL_TITLES = {"loss": "loss vs step", "dist": "distance to the nearest global minimum",
                "step": "step length",
                "elr": "|Δθᵢ/gᵢ| per coordinate (the learning rate used, for SGD-like rules only)"}
DEFAULT_PANELS = ("loss", "dist", "step")
VIEWS = ("2d", "3d")
CLIP_KINDS = ("off", "value", "norm")
TOL = Param("tol", 1e-3, 1e-12, 1e6, log=True, doc="tolerance on f - f* for 'steps to tolerance'")
IGNORED_KEYS = frozenset({"embed", "embed_options"})  # Streamlit's own

Pairs = tuple[tuple[str, float], ...]


def num(v: float) -> float:
    """The canonical float: 6 significant digits (what the URL writes)."""
    return float(f"{float(v):.6g}")


def fmt(v: float) -> str:
    """A number as the URL writes it: ``0.01``, ``1e-05``, ``10000``."""
    return f"{float(v):.6g}"


# --- runs ---------------------------------------------------------------------------------

def _rule(optimizer: str, lookahead: bool):
    return optimizers.get(optimizer, lookahead=lookahead and optimizer != "ranger")


def _canonical_params(specs: Sequence[Param], given: Mapping[str, Any], owner: str) -> Pairs:
    by_name = {p.name: p for p in specs}
    for k in given:
        if k not in by_name:
            raise ValueError(f"{owner} has no parameter {k!r:.40}; its parameters: "
                             f"{', '.join(by_name) or 'none'}")
    out = []
    for p in specs:
        v = given.get(p.name, p.default)
        if isinstance(v, bool):
            v = float(v)
        v = p.validate(num(p.validate(v, owner)) if p.kind == "float" else v, owner)
        out.append((p.name, v))
    return tuple(out)


def clean_label(text: Any) -> str:
    """A legend label: at most 40 letters, digits, spaces and ``.,:=+-()/%#'``."""
    if not isinstance(text, str):
        return ""
    keep = "".join(c for c in text[: 4 * MAX_LABEL_CHARS] if c.isalnum() or c in " .,:=+-()/%#'")
    return " ".join(keep.split())[:MAX_LABEL_CHARS]


@dataclass(frozen=True)
class Run:
    """One optimizer with its own hyperparameters.

    ``hyperparams`` may be given as a dict; it is stored complete (every
    hyperparameter of the rule, defaults filled in) as ``((name, value), ...)``
    in the rule's order.  ``lookahead`` wraps the rule in Lookahead; ``raw``
    makes the run ignore the scene's clipping and noise.
    """

    optimizer: str
    hyperparams: Pairs | Mapping[str, float] = ()
    lookahead: bool = False
    raw: bool = False
    label: str = ""

    def __post_init__(self):
        put = object.__setattr__
        if self.optimizer == "ranger":
            put(self, "lookahead", False)
        rule = _rule(self.optimizer, bool(self.lookahead))
        given = dict(self.hyperparams)
        put(self, "hyperparams", _canonical_params(rule.hyperparams, given, rule.name))
        put(self, "lookahead", bool(self.lookahead))
        put(self, "raw", bool(self.raw))
        put(self, "label", clean_label(self.label))

    @property
    def rule(self):
        return _rule(self.optimizer, self.lookahead)

    @property
    def hp(self) -> dict[str, float]:
        return dict(self.hyperparams)

    @property
    def learning_rate(self) -> float:
        return self.hp["learning_rate"]

    def key(self) -> tuple:
        """Plain, hashable: what a cached computation needs (the label is not part of it)."""
        return (self.optimizer, self.lookahead, self.raw, self.hyperparams)

    def with_hp(self, **changes) -> "Run":
        return replace(self, hyperparams={**self.hp, **changes})

    def auto_label(self) -> str:
        text = f"{short_title(self.optimizer)} α={self.learning_rate:g}"
        if self.lookahead:
            text += " +LA"
        if self.raw:
            text += " (raw)"
        return text

    def display_label(self) -> str:
        return self.label or self.auto_label()


def short_title(optimizer: str) -> str:
    """``Momentum (heavy ball)`` -> ``Momentum``, ``Nesterov momentum`` -> ``Nesterov``."""
    title = optimizers.get(optimizer).title.split(" (")[0]
    return "Nesterov" if optimizer == "nesterov" else title


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
            put(self, "landscape_params", _canonical_params(
                landscapes.param_specs(self.landscape), dict(self.landscape_params),
                f"landscape {self.landscape!r}"))
        if self.start is not None:
            put(self, "start", _point(self.start, "start", 1e6))
        # steps
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be a whole number in [1, {MAX_STEPS}]")
        # runs
        runs = tuple(self.runs)
        if len(runs) > MAX_RUNS:
            raise ValueError(f"at most {MAX_RUNS} runs")
        if not all(isinstance(r, Run) for r in runs):
            raise ValueError("runs must be Run objects")
        put(self, "runs", runs)
        # shared switches
        put(self, "schedule_params", _pairs_of_schedule(self.schedule, dict(self.schedule_params)))
        if self.clip not in CLIP_KINDS:
            raise ValueError(f"clip must be one of {CLIP_KINDS}")
        spec = CLIP_NORM if self.clip == "norm" else CLIP_VALUE
        put(self, "clip_at", spec.validate(num(spec.validate(self.clip_at))))
        put(self, "noise", NOISE.validate(num(NOISE.validate(self.noise))))
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
        out, seen = [], {}
        for r in self.runs:
            text = r.display_label()
            seen[text] = seen.get(text, 0) + 1
            out.append(text if seen[text] == 1 else f"{text} #{seen[text]}")
        return out


def _pairs_of_schedule(kind: str, params: dict) -> Pairs:
    specs = {p.name: p for p in schedules.SCHEDULES[kind].params} if kind in schedules.SCHEDULES else {}
    params = {k: (num(v) if k in specs and specs[k].kind == "float" else v) for k, v in params.items()}
    values = schedules.validate(kind, params)
    return tuple(values.items())


# --- slider positions ----------------------------------------------------------------------

R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)  # Renard's series: ten notches a decade
DECAYS = tuple(round(0.05 * k, 2) for k in range(20)) + (0.97, 0.98, 0.99, 0.995, 0.999, 0.9995,
                                                         0.9999, 0.99999)


def is_decay(p: Param) -> bool:
    """A number in [0, 1] such as beta1, momentum or rho (a slider of ``DECAYS``)."""
    return not p.log and p.kind == "float" and p.low >= 0.0 and p.high <= 1.0


def notches(p: Param, current: float | None = None) -> list[float]:
    """A select-slider's positions for ``p``: ten a decade for log-scale numbers (1-2-5
    beyond 8 decades), fine steps near 1 for decay rates; ``current`` is always one."""
    if p.log:
        lo, hi = max(p.low, 1e-12), p.high
        mant = R10 if math.log10(hi / lo) <= 8 else (1.0, 2.0, 5.0)
        vals = {num(m * 10.0**e) for e in range(math.floor(math.log10(lo)) - 1,
                                                math.ceil(math.log10(hi)) + 1) for m in mant}
        if p.low == 0:
            vals.add(0.0)
    else:
        vals = set(DECAYS)
    vals = {v for v in vals if p.low <= v <= p.high} | {num(p.low), num(p.high)}
    if current is not None:
        vals.add(float(current))
    return sorted(vals)


# --- encoding ---------------------------------------------------------------------------

def _encode_runs_and_switches(q: dict[str, str], scene) -> None:
    """The keys every page writes alike: runs ``r0``.., labels ``l0``.. (or ``runs=none``),
    and the shared schedule, clipping and noise (each only when not at its default).
    ``scene``: anything with runs, schedule, schedule_params, clip, clip_at and noise."""
    for i, run in enumerate(scene.runs):
        q[f"r{i}"] = run_token(run)
        if run.label:
            q[f"l{i}"] = run.label
    if not scene.runs:
        q["runs"] = "none"
    if scene.schedule != "constant":
        text = _pairs_text(schedules.SCHEDULES[scene.schedule].params, scene.schedule_params)
        q["sched"] = scene.schedule + (":" + text if text else "")
    if scene.clip != "off":
        q["clip"] = f"{scene.clip}:{fmt(scene.clip_at)}"
    if scene.noise > 0:
        q["noise"] = fmt(scene.noise)


def _pairs_text(specs: Sequence[Param], values: Pairs, always: Iterable[str] = ()) -> str:
    always = set(always)
    parts = []
    for p, (name, v) in zip(specs, values):
        if name in always or v != p.default:
            parts.append(f"{name}={fmt(v) if p.kind != 'bool' else int(v)}")
    return ",".join(parts)


def run_token(run: Run) -> str:
    head = run.optimizer + ("~lookahead" if run.lookahead else "") + ("~raw" if run.raw else "")
    return head + ":" + _pairs_text(run.rule.hyperparams, run.hyperparams, always=("learning_rate",))


def encode(scene: Scene) -> dict[str, str]:
    """The scene as query parameters (an ordered dict of strings)."""
    q: dict[str, str] = {"v": str(SCHEMA_VERSION)}
    if scene.landscape == CUSTOM:
        q["ls"] = CUSTOM
        q["f"] = scene.formula
        if scene.domain != DEFAULT_DOMAIN:
            q["dom"] = ",".join(fmt(v) for v in scene.domain)
    else:
        text = _pairs_text(landscapes.param_specs(scene.landscape), scene.landscape_params)
        q["ls"] = scene.landscape + (":" + text if text else "")
    if scene.start is not None:
        q["start"] = ",".join(fmt(v) for v in scene.start)
    q["steps"] = str(scene.steps)
    _encode_runs_and_switches(q, scene)
    if scene.seed != 0:
        q["seed"] = str(scene.seed)
    if scene.span is not None:
        q["span"] = f"{scene.span[0]},{scene.span[1]}"
    if scene.view != "2d":
        q["view"] = scene.view
    if scene.panels != DEFAULT_PANELS:
        q["panels"] = ",".join(scene.panels) or "none"
    if scene.tol != TOL.default:
        q["tol"] = fmt(scene.tol)
    if scene.log_steps:
        q["xlog"] = "1"
    return q


def to_query_string(scene: Scene) -> str:
    """``v=1&ls=rosenbrock&...``: readable (``, : = ~`` are not escaped)."""
    return urllib.parse.urlencode(encode(scene), safe=",:=~", quote_via=urllib.parse.quote)


# --- decoding -----------------------------------------------------------------------------

class _Problems:
    def __init__(self):
        self.items: list[str] = []

    def add(self, text: str):
        self.items.append(text)

    def result(self) -> list[str]:
        if len(self.items) > MAX_WARNINGS:
            extra = len(self.items) - (MAX_WARNINGS - 1)
            return self.items[: MAX_WARNINGS - 1] + [f"... and {extra} more problems in the link"]
        return list(self.items)


# The primitives below read every page's URL (viz/network_scene.py imports them too).

def _show(text: str) -> str:
    """A piece of user text, short and quoted, for a warning."""
    text = str(text)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def _parse_float(text: str) -> float:
    text = text.strip()
    if not text or len(text) > 40:
        raise ValueError("not a number")
    v = float(text)  # raises ValueError for anything else
    if not math.isfinite(v):
        raise ValueError("not finite")
    return v


def _parse_value(p: Param, text: str) -> float:
    if p.kind == "bool":
        t = text.strip().lower()
        if t in ("1", "true", "yes", "on"):
            return 1.0
        if t in ("0", "false", "no", "off"):
            return 0.0
        raise ValueError("not a boolean")
    return _parse_float(text)


def _fit(p: Param, v: float) -> tuple[float, str]:
    """``v`` as the URL would write it, clamped into ``p``'s range; and what changed
    ("" if nothing but the 6-digit rounding, else "out of range" or "rounded")."""
    if p.kind == "bool":
        w = 1.0 if v >= 0.5 else 0.0
        return w, "" if w == v else "rounded"
    v6 = float(round(v)) if p.kind == "int" else num(v)
    w = min(max(v6, p.low), p.high)
    if w != v6:
        return w, "out of range"
    return w, "rounded" if (p.kind == "int" and v6 != v) else ""


def _read_pairs(text: str, specs: Sequence[Param], owner: str, problems: _Problems,
                fallback: Mapping[str, float] | None = None) -> dict[str, float]:
    """``k=v,k=v`` against ``specs``: unknown names dropped, bad numbers defaulted (to
    ``fallback`` or the spec's default), others clamped."""
    fallback = fallback or {}
    by_name = {p.name: p for p in specs}
    out: dict[str, float] = {}
    for item in text.split(",")[:40]:
        if not item.strip():
            continue
        name, eq, value = item.partition("=")
        name = name.strip()
        if name not in by_name:
            problems.add(f"{owner}: unknown parameter {_show(name)} ignored")
            continue
        p = by_name[name]
        try:
            v = _parse_value(p, value) if eq else None
        except (ValueError, OverflowError):
            v = None
        if v is None:
            problems.add(f"{owner}: {name}={_show(value)} is not a valid value; "
                         f"using {fmt(fallback.get(name, p.default))}")
            continue
        w, what = _fit(p, v)
        if what == "out of range":
            problems.add(f"{owner}: {name}={fmt(v)} is out of range [{p.low:g}, {p.high:g}]; using {fmt(w)}")
        elif what:
            problems.add(f"{owner}: {name}={fmt(v)} is not a whole number; using {fmt(w)}")
        out[name] = w
    return out


def _single(params: Mapping[str, Any], problems: _Problems, *, max_keys: int = MAX_KEYS,
            max_chars: int = MAX_QUERY_CHARS, fallback: str = "the default scene") -> dict[str, str] | None:
    """Plain ``{key: last value}``; None (and ``fallback`` is shown) when the query is too large
    to read at all."""
    items: list[tuple[str, str]] = []
    total = 0
    try:
        entries = list(params.items())[: 4 * max_keys]
    except Exception:  # noqa: BLE001  (not a mapping at all)
        problems.add(f"the link could not be read; showing {fallback}")
        return None
    for k, v in entries:
        values = list(v)[: 4 * max_keys] if isinstance(v, (list, tuple)) else [v]
        for one in values:
            k_text, v_text = str(k)[: max_chars + 1], str(one)[: max_chars + 1]
            total += len(k_text) + len(v_text) + 2
            if total > max_chars:
                problems.add(f"the link is too long (over {max_chars:,} characters) "
                             f"and was ignored; showing {fallback}")
                return None
            items.append((k_text, v_text))
    if len(items) > max_keys:
        problems.add(f"the link has too many parameters ({len(items)} > {max_keys}) and was "
                     f"ignored; showing {fallback}")
        return None
    out: dict[str, str] = {}
    for k, v in items:
        if k in out and out[k] != v:
            problems.add(f"{_show(k)} appears more than once; using the last value")
        out[k] = v
    return out


def _safely(read: Callable[[Mapping[str, Any], _Problems], Any], params: Mapping[str, Any],
            default: Callable[[], Any], fallback: str) -> tuple[Any, list[str]]:
    """``read(params, problems)`` that never raises: a bug must not turn a link into a
    traceback (``default()`` is shown instead)."""
    problems = _Problems()
    try:
        scene = read(params, problems)
    except Exception as err:  # noqa: BLE001
        problems.add(f"the link could not be read ({type(err).__name__}); showing {fallback}")
        scene = default()
    return scene, problems.result()


def _query_lists(qs: Any, max_chars: int = MAX_QUERY_CHARS) -> dict[str, list[str]]:
    """A raw query string (``?`` optional) as ``{key: [values]}``; an absurdly long one as a
    single over-long value (which the reader then refuses with its warning)."""
    if not isinstance(qs, str):
        return {}
    if len(qs) > 3 * max_chars:
        return {"_": ["x" * (max_chars + 1)]}
    grouped: dict[str, list[str]] = {}
    for k, v in urllib.parse.parse_qsl(qs.lstrip("?"), keep_blank_values=True, max_num_fields=10_000):
        grouped.setdefault(k, []).append(v)
    return grouped


def decode(params: Mapping[str, Any]) -> tuple[Scene, list[str]]:
    """Read a (possibly hostile) query: ``(scene, warnings)``.  Never raises."""
    from viz.defaults import default_scene

    return _safely(_decode, params, default_scene, "the default scene")


def from_query_string(qs: str) -> tuple[Scene, list[str]]:
    """:func:`decode` of a raw query string (``?`` optional)."""
    return decode(_query_lists(qs))


_KNOWN = {"v", "scene", "ls", "f", "dom", "start", "steps", "runs", "sched", "clip", "noise", "seed",
          "span", "view", "panels", "tol", "xlog"}


def _decode(params: Mapping[str, Any], problems: _Problems) -> Scene:
    from viz import defaults, presets

    q = _single(params, problems)
    if q is None or not q:
        return defaults.default_scene()
    for k in q:
        if len(k) > MAX_VALUE_CHARS or (k not in _KNOWN and k not in IGNORED_KEYS
                                        and not _is_run_key(k)):
            problems.add(f"unknown key {_show(k)} ignored")
    long_keys = [k for k, v in q.items() if len(v) > MAX_VALUE_CHARS]
    for k in long_keys:
        problems.add(f"the value of {_show(k)} is too long and was ignored")
        del q[k]

    v = q.get("v", str(SCHEMA_VERSION))
    if v.strip() != str(SCHEMA_VERSION):
        problems.add(f"unknown link version v={_show(v)}; reading it as version {SCHEMA_VERSION}")

    # the base: a ready scene, or the default
    base = defaults.default_scene()
    if "scene" in q:
        name = q["scene"].strip()
        if name in presets.PRESETS:
            base = presets.PRESETS[name].scene
        else:
            problems.add(f"unknown scene {_show(name)}; starting from the default scene")

    kw: dict[str, Any] = {}
    # landscape
    if "ls" in q:
        _read_landscape(q, kw, problems)
    else:
        kw.update(landscape=base.landscape, landscape_params=base.landscape_params,
                  formula=base.formula, domain=base.domain)
        if "f" in q or "dom" in q:
            problems.add("'f' and 'dom' need ls=custom; ignored")
    landscape = kw["landscape"]
    if landscape != base.landscape or "start" in q:
        kw["start"] = None
    else:
        kw["start"] = base.start
    if "start" in q:
        kw["start"] = _read_start(q["start"], kw, problems)

    # steps
    kw["steps"] = base.steps
    if "steps" in q:
        kw["steps"] = _read_steps(q["steps"], problems)

    # runs
    run_keys = sorted((k for k in q if _is_run_key(k) and k[0] == "r"), key=lambda k: int(k[1:]))
    if run_keys:
        from viz.defaults import default_lr  # (viz.defaults imports this module)

        runs = []
        for k in run_keys:
            i = int(k[1:])
            if i >= MAX_RUNS:
                problems.add(f"at most {MAX_RUNS} runs (r0..r{MAX_RUNS - 1}); {k} ignored")
                continue
            run = _read_run(q[k], q.get(f"l{i}", ""), k, problems,
                            lambda name: default_lr(landscape, name))
            if run is not None:
                runs.append(run)
        if not runs:
            problems.add("no valid run in the link; using the default runs")
            runs = list(defaults.default_runs(landscape))
    elif q.get("runs", "").strip() == "none":
        runs = []
    elif landscape == base.landscape:
        runs = list(base.runs)
    else:
        runs = list(defaults.default_runs(landscape))
    for k in q:
        if _is_run_key(k) and k[0] == "l" and f"r{k[1:]}" not in q:
            problems.add(f"label {k} has no run r{k[1:]}; ignored")
    kw["runs"] = tuple(runs)

    # shared switches
    kw["schedule"], kw["schedule_params"] = base.schedule, base.schedule_params
    if "sched" in q:
        kw["schedule"], kw["schedule_params"] = _read_schedule(q["sched"], problems)
    kw["clip"], kw["clip_at"] = base.clip, base.clip_at
    if "clip" in q:
        kw["clip"], kw["clip_at"] = _read_clip(q["clip"], problems)
    kw["noise"] = base.noise
    if "noise" in q:
        kw["noise"] = _read_number(q["noise"], NOISE, "noise", problems)
    kw["seed"] = base.seed
    if "seed" in q:
        kw["seed"] = int(_read_number(q["seed"], SEED, "seed", problems))

    # view
    kw["span"] = base.span if kw["steps"] == base.steps else None
    if "span" in q:
        kw["span"] = _read_span(q["span"], kw["steps"], problems)
    kw["view"] = base.view
    if "view" in q:
        view = q["view"].strip().lower()
        if view in VIEWS:
            kw["view"] = view
        else:
            problems.add(f"unknown view {_show(q['view'])}; showing 2d")
            kw["view"] = "2d"
    kw["panels"] = base.panels
    if "panels" in q:
        kw["panels"] = _read_panels(q["panels"], problems)
    kw["tol"] = base.tol
    if "tol" in q:
        kw["tol"] = _read_number(q["tol"], TOL, "tol", problems)
    kw["log_steps"] = base.log_steps
    if "xlog" in q:
        t = q["xlog"].strip().lower()
        if t in ("1", "true", "0", "false"):
            kw["log_steps"] = t in ("1", "true")
        else:
            problems.add(f"xlog={_show(q['xlog'])} is not 0 or 1; ignored")
    return Scene(**kw)


def _is_run_key(k: str) -> bool:
    return len(k) in (2, 3) and k[0] in "rl" and k[1:].isdigit() and k[1:].isascii()


def _read_landscape(q, kw, problems):
    from viz.defaults import default_scene

    head, _, rest = q["ls"].partition(":")
    name = head.strip()
    if name == CUSTOM:
        formula = q.get("f", "")
        ok, msg, col = expression.check(formula) if formula else (False, "no formula (f=...) given", None)
        if ok:
            kw.update(landscape=CUSTOM, landscape_params=(), formula=formula, domain=DEFAULT_DOMAIN)
            if "dom" in q:
                try:
                    kw["domain"] = _domain(_parse_float(t) for t in q["dom"].split(","))
                except ValueError as err:
                    problems.add(f"domain {_show(q['dom'])} is not valid ({err}); using -3,3,-3,3")
            return
        where = f" at column {col}" if col else ""
        problems.add(f"the formula{where} is not valid: {msg}; showing the default landscape")
    elif name in landscapes.names():
        params = _read_pairs(rest, landscapes.param_specs(name), f"landscape {name}", problems)
        kw.update(landscape=name, landscape_params=params, formula="", domain=None)
        if "f" in q or "dom" in q:
            problems.add("'f' and 'dom' need ls=custom; ignored")
        return
    else:
        problems.add(f"unknown landscape {_show(name)}; showing the default landscape")
    d = default_scene()
    kw.update(landscape=d.landscape, landscape_params=d.landscape_params, formula="", domain=None)


def landscape_domain(kw_or_scene) -> tuple[float, float, float, float]:
    """xmin, xmax, ymin, ymax of a scene's landscape, without evaluating any formula."""
    get = kw_or_scene.get if isinstance(kw_or_scene, dict) else lambda k: getattr(kw_or_scene, k)
    if get("landscape") == CUSTOM:
        return tuple(get("domain") or DEFAULT_DOMAIN)
    (x0, x1), (y0, y1) = landscapes.get(get("landscape")).domain
    return (float(x0), float(x1), float(y0), float(y1))


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


def _read_start(text, kw, problems):
    try:
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError
        x, y = (_parse_float(t) for t in parts)
    except (ValueError, OverflowError):
        problems.add(f"start={_show(text)} is not a point x,y; using the landscape's start")
        return None
    x0, x1, y0, y1 = landscape_domain(kw)
    cx, cy = min(max(x, x0), x1), min(max(y, y0), y1)
    if (cx, cy) != (x, y):
        problems.add(f"start {fmt(x)},{fmt(y)} is outside the plotted domain; moved to "
                     f"{fmt(cx)},{fmt(cy)}")
    return (cx, cy)


def _read_steps(text, problems) -> int:
    try:
        v = _parse_float(text)
    except (ValueError, OverflowError):
        problems.add(f"steps={_show(text)} is not a number; using {DEFAULT_STEPS}")
        return DEFAULT_STEPS
    if v < 1:
        problems.add(f"steps={fmt(v)} is not positive; using {DEFAULT_STEPS}")
        return DEFAULT_STEPS
    if v > MAX_STEPS:
        problems.add(f"steps={fmt(v)} is more than {MAX_STEPS:,}; using {MAX_STEPS:,}")
        return MAX_STEPS
    if v != int(v):
        problems.add(f"steps={fmt(v)} is not a whole number; using {int(round(v))}")
    return max(1, int(round(v)))


def _read_run(text: str, label: str, key: str, problems: _Problems,
              default_lr: Callable[[str], float]) -> Run | None:
    """A run ``name~flags:k=v,...`` (``key`` is r0..r7 for the warnings); None if unusable.
    ``default_lr(name)``: the learning rate when the link gives none or a bad one."""
    head, _, rest = text.partition(":")
    name, *flags = head.replace("+", "~").replace(" ", "~").split("~")
    name = name.strip().lower()
    if name not in optimizers.names():
        problems.add(f"{key}: unknown optimizer {_show(name)}; run dropped")
        return None
    lookahead = raw = False
    for flag in flags[:8]:
        flag = flag.strip().lower()
        if flag in ("lookahead", "la"):
            lookahead = True
        elif flag == "raw":
            raw = True
        elif flag:
            problems.add(f"{key}: unknown flag {_show(flag)} ignored")
    rule = _rule(name, lookahead)
    lr = default_lr(name)
    hp = _read_pairs(rest, rule.hyperparams, f"{key} ({name})", problems, {"learning_rate": lr})
    hp.setdefault("learning_rate", lr)
    if label and clean_label(label) != label:
        problems.add(f"l{key[1:]}: the label was shortened or had characters removed")
    try:
        return Run(name, hp, lookahead=lookahead, raw=raw, label=label)
    except ValueError as err:  # e.g. a combination the rule refuses
        problems.add(f"{key}: {str(err)[:120]}; run dropped")
        return None


def _read_schedule(text, problems):
    head, _, rest = text.partition(":")
    kind = head.strip()
    if kind not in schedules.SCHEDULES:
        problems.add(f"unknown schedule {_show(kind)}; using constant")
        return "constant", ()
    params = _read_pairs(rest, schedules.SCHEDULES[kind].params, f"schedule {kind}", problems)
    try:
        return kind, _pairs_of_schedule(kind, params)
    except ValueError as err:
        problems.add(f"schedule {kind}: {str(err)[:120]}; using its defaults")
        return kind, _pairs_of_schedule(kind, {})


def _read_clip(text, problems):
    kind, _, value = text.partition(":")
    kind = kind.strip().lower()
    if kind in ("off", "none", ""):
        return "off", 1.0
    if kind not in ("value", "norm"):
        problems.add(f"unknown clipping {_show(kind)}; clipping is off")
        return "off", 1.0
    spec = CLIP_NORM if kind == "norm" else CLIP_VALUE
    return kind, _read_number(value or fmt(spec.default), spec, f"clip {kind}", problems)


def _read_number(text, spec: Param, what: str, problems) -> float:
    try:
        v = _parse_float(text)
    except (ValueError, OverflowError):
        problems.add(f"{what}={_show(text)} is not a number; using {fmt(spec.default)}")
        return float(spec.default)
    w, change = _fit(spec, v)
    if change == "out of range":
        problems.add(f"{what}={fmt(v)} is out of range [{spec.low:g}, {spec.high:g}]; using {fmt(w)}")
    elif change:
        problems.add(f"{what}={fmt(v)} is not a whole number; using {fmt(w)}")
    return w


def _read_span(text, steps, problems):
    try:
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError
        a, b = (_parse_float(t) for t in parts)
    except (ValueError, OverflowError):
        problems.add(f"span={_show(text)} is not two steps a,b; animating all steps")
        return None
    a2, b2 = int(min(max(round(a), 0), steps)), int(min(max(round(b), 0), steps))
    if a2 >= b2:
        problems.add(f"span={_show(text)} is empty; animating all steps")
        return None
    if (a2, b2) != (a, b):
        problems.add(f"span {fmt(a)},{fmt(b)} clamped to {a2},{b2}")
    return (a2, b2)


def _read_panels(text, problems):
    if text.strip() == "none":
        return ()
    out = []
    for p in text.split(","):
        p = p.strip()
        if p in PANELS:
            out.append(p)
        elif p:
            problems.add(f"unknown side plot {_show(p)} ignored")
    return tuple(out)
