r"""The NetScene: one plain, hashable, validated description of the "Real network" page.

Widgets edit a NetScene, the URL encodes it, tests build NetScenes.
``NetScene(...)`` validates and canonicalises its arguments (it raises
``ValueError`` for anything invalid); :func:`decode` reads an untrusted URL
query and never raises: each problem becomes a warning and a safe default.

Runs are ``viz.common.runs.Run`` objects, the very runs of the 2-D page (optimizer,
hyperparameters by optax's names, ``~lookahead``, ``~raw``, a label), written
in the URL the same way.

URL schema, version 1 (page ``/network``)
=========================================

Only ``v``, ``data``, ``steps`` and the runs are always written; every other
key only when it differs from its default::

    v=1                               schema version
    data=digits                       dataset: digits (scikit-learn's bundled 8x8 digits),
                                      moons or spirals (generated); nothing is downloaded
    hidden=64,32                      hidden layer widths: 1 to 4 layers of 4 to 256 units (default 64)
    act=tanh                          activation: relu (default), tanh, gelu, sigmoid
    batch=64                          minibatch size, 1 to 512 (default 64)
    steps=600                         updates per run, 1 to 5000
    eval=25                           evaluate (train/val loss, accuracy) every 25 steps, 1 to 1000
    seed=0                            initial weights, minibatch order and gradient noise
    r0=sgd:learning_rate=0.1          run 0 .. r5: optimizer, then hyperparameters (as on the
    r1=adam~lookahead:learning_rate=0.003   2-D page); ~lookahead wraps it in Lookahead,
    r2=rmsprop~raw:learning_rate=0.001      ~raw ignores the shared clipping and noise
    l0=Plain%20SGD                    run 0's legend label
    runs=none                         no runs
    sched=cosine:decay_steps=600      learning-rate schedule and its numbers (default: constant)
    clip=norm:1                       clip gradients by global norm (or value:0.5)
    noise=0.01                        Gaussian gradient noise sigma (seeded by seed)
    target=0.97                       target validation accuracy ("steps to target"), 0.05 to 1
    patience=20                       stop a run after 20 evaluations without a lower validation
                                      loss (absent: never), 1 to 1000
    converge=20                       call a run converged and stop it after 20 evaluations in a
                                      row at or above the target (absent: never), 1 to 1000
    dirs=pca                          slice plane: pca (first two principal components of the
                                      centre run's weight path, default) or random (two
                                      filter-normalised random directions)
    center=2                          which run's final weights are the slice's centre (default 0)
    span=1.5                          the slice covers alpha, beta in [-1.5, 1.5] (default: auto,
                                      framing the trajectories), 0.01 to 100
    grid=41                           slice grid points per axis, 11 to 61 (default 41)

Numbers are plain decimals with 6 significant digits; booleans ``1``/``0``.
Reading a link never fails: unknown keys, datasets, activations, optimizers,
hyperparameters and schedules, out-of-range, non-numeric or non-finite values
and duplicated keys each give a warning and a safe default (an unknown
optimizer drops its run, an out-of-range number is clamped).  A query over
4,096 characters or with more than 40 keys is ignored as a whole.  Reading is
linear in the query's length and evaluates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import optimizers
from landscapes import network
from landscapes.params import Param, whole
from viz.common.runs import (Run, check_runs_and_switches, encode_runs_and_switches, read_runs, read_switches,
                              unique_labels)
from viz.common.url import (Problems, Schema, decode_with, fmt, num, parse_float, query_lists, query_string,
                            read_number, show)

SCHEMA_VERSION = 1
MAX_RUNS = 6
MAX_STEPS = 5000
MAX_LAYERS = 4
MIN_UNITS, MAX_UNITS = 4, 256
MAX_BATCH = 512
MAX_EVAL_EVERY = 1000
GRID_RANGE = (11, 61)
SPAN_RANGE = (0.01, 100.0)
MAX_QUERY_CHARS = 4096
MAX_KEYS = 40
MAX_VALUE_CHARS = 600
DATASETS = tuple(network.dataset_names())
ACTIVATIONS = tuple(network.ACTIVATIONS)
DIRECTIONS = ("pca", "random")

DEFAULT_HIDDEN = (64,)
DEFAULT_STEPS = 600
DEFAULT_EVAL = 25
DEFAULT_BATCH = 64
DEFAULT_GRID = 41

# the numbers a person types, as specs (range, default, doc): one place checks them
STEPS = Param("steps", DEFAULT_STEPS, 1, MAX_STEPS, kind="int", doc="updates per run")
EVAL = Param("eval", DEFAULT_EVAL, 1, MAX_EVAL_EVERY, kind="int", doc="steps between two evaluations")
BATCH = Param("batch", DEFAULT_BATCH, 1, MAX_BATCH, kind="int", log=True, doc="examples per update")
SEED = Param("seed", 0, 0, 2**31 - 1, kind="int", doc="initial weights, minibatch order, gradient noise")
UNITS = Param("hidden", 64, MIN_UNITS, MAX_UNITS, kind="int", doc="units in a hidden layer")
TARGET = Param("target", 0.97, 0.05, 1.0, doc="target validation accuracy")
PATIENCE = Param("patience", 20, 1, 1000, kind="int",
                 doc="stop after this many evaluations without a lower validation loss")
CONVERGE = Param("converge", 20, 1, 1000, kind="int",
                 doc="converged after this many evaluations in a row at or above the target")
CENTER = Param("center", 0, 0, MAX_RUNS - 1, kind="int", doc="the run whose final weights are the centre")
SPAN = Param("span", 1.0, *SPAN_RANGE, log=True, doc="the slice covers α, β in [-span, span]")
GRID = Param("grid", DEFAULT_GRID, *GRID_RANGE, kind="int", doc="grid points per axis")

# Learning rates that train the default MLP (digits, 64 relu units, batch 64, seed 0) to
# 96-98 % validation accuracy in 600 steps, chosen on a 1-3-10 grid (1e-4 .. 3) with
# optimizers.train: on the plateau of good rates, away from its divergent edge.
DEFAULT_LR = {
    "sgd": 0.1, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.1, "rmsprop": 0.001,
    "adadelta": 1.0, "adam": 0.003, "nadam": 0.003, "adamax": 0.01, "ftrl": 0.1,
    "amsgrad": 0.01, "radam": 0.01, "adamw": 0.003, "ranger": 0.03,
}
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop", "nadam", "adagrad")


def default_lr(optimizer: str) -> float:
    if optimizer in DEFAULT_LR:
        return DEFAULT_LR[optimizer]
    return float(optimizers.get(optimizer).spec("learning_rate").default)


def default_run(optimizer: str, lookahead: bool = False, raw: bool = False) -> Run:
    return Run(optimizer, {"learning_rate": default_lr(optimizer)}, lookahead=lookahead, raw=raw)


def default_runs() -> tuple[Run, ...]:
    return tuple(default_run(o) for o in DEFAULT_OPTIMIZERS[:4])


Pairs = tuple[tuple[str, float], ...]


def _whole(value, p: Param, what: str | None = None) -> int:
    return whole(value, p.low, p.high, what or p.name)


@dataclass(frozen=True)
class NetScene:
    """Everything the "Real network" page shows.  See the module docstring for its URL form."""

    dataset: str = "digits"
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    activation: str = "relu"
    batch_size: int = DEFAULT_BATCH
    steps: int = DEFAULT_STEPS
    eval_every: int = DEFAULT_EVAL
    seed: int = 0
    runs: tuple[Run, ...] = field(default_factory=default_runs)
    schedule: str = "constant"
    schedule_params: Pairs | Mapping[str, float] = ()
    clip: str = "off"
    clip_at: float = 1.0
    noise: float = 0.0
    target: float = 0.97
    patience: int | None = None  # None: the rule is off
    converge_after: int | None = None  # None: the rule is off
    directions: str = "pca"
    center: int = 0
    span: float | None = None  # None: auto (frame the trajectories)
    grid: int = DEFAULT_GRID
    version: int = SCHEMA_VERSION

    def __post_init__(self):
        put = object.__setattr__
        if self.version != SCHEMA_VERSION:
            raise ValueError(f"unsupported scene version {self.version!r:.20}")
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r:.40}; choose one of {', '.join(DATASETS)}")
        if isinstance(self.hidden, (str, bytes)):
            raise ValueError("hidden must be a sequence of layer widths")
        hidden = tuple(self.hidden)
        if not 1 <= len(hidden) <= MAX_LAYERS:
            raise ValueError(f"hidden must have 1 to {MAX_LAYERS} layers")
        put(self, "hidden", tuple(_whole(h, UNITS, "hidden layer width") for h in hidden))
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r:.40}")
        put(self, "batch_size", _whole(self.batch_size, BATCH, "batch size"))
        put(self, "steps", _whole(self.steps, STEPS))
        put(self, "eval_every", _whole(self.eval_every, EVAL, "eval every"))
        put(self, "seed", _whole(self.seed, SEED))
        check_runs_and_switches(self, MAX_RUNS)
        put(self, "target", TARGET.validate(num(TARGET.validate(self.target))))
        if self.patience is not None:
            put(self, "patience", _whole(self.patience, PATIENCE))
        if self.converge_after is not None:
            put(self, "converge_after", _whole(self.converge_after, CONVERGE, "converge"))
        if self.directions not in DIRECTIONS:
            raise ValueError(f"directions must be one of {DIRECTIONS}")
        center = _whole(self.center, CENTER)
        if center >= max(len(self.runs), 1):
            raise ValueError(f"center={center}: there is no run {center + 1}")
        put(self, "center", center)
        if self.span is not None:
            put(self, "span", SPAN.validate(num(SPAN.validate(self.span))))
        put(self, "grid", _whole(self.grid, GRID))

    # --- derived, plain values -------------------------------------------------------
    def replace(self, **changes) -> "NetScene":
        return replace(self, **changes)

    def stopping(self) -> dict[str, Any]:
        """The ``stopping=`` argument of ``optimizers.train.train``."""
        return {"patience": self.patience, "target": self.target, "converge_after": self.converge_after}

    def model_key(self) -> tuple:
        return (self.dataset, self.hidden, self.activation)

    def train_key(self, i: int) -> tuple:
        """Plain and hashable: everything run ``i``'s training depends on (not its label)."""
        return (self.model_key(), self.batch_size, self.steps, self.eval_every, self.seed,
                self.schedule, self.schedule_params, self.clip, self.clip_at, self.noise,
                self.target, self.patience, self.converge_after, self.runs[i].key())

    def train_keys(self) -> tuple:
        return tuple(self.train_key(i) for i in range(len(self.runs)))

    def slice_key(self) -> tuple:
        """Everything the landscape slice depends on (all runs' training, the plane, the grid)."""
        return (self.train_keys(), self.directions, self.center, self.span, self.grid, self.seed)

    def labels(self) -> list[str]:
        """Each run's legend label, made unique with a ' #2' suffix where two coincide."""
        return unique_labels(self.runs)


# --- encoding ---------------------------------------------------------------------------

def encode(scene: NetScene) -> dict[str, str]:
    """The scene as query parameters (an ordered dict of strings)."""
    q: dict[str, str] = {"v": str(SCHEMA_VERSION), "data": scene.dataset}
    if scene.hidden != DEFAULT_HIDDEN:
        q["hidden"] = ",".join(str(h) for h in scene.hidden)
    if scene.activation != "relu":
        q["act"] = scene.activation
    if scene.batch_size != DEFAULT_BATCH:
        q["batch"] = str(scene.batch_size)
    q["steps"] = str(scene.steps)
    if scene.eval_every != DEFAULT_EVAL:
        q["eval"] = str(scene.eval_every)
    if scene.seed:
        q["seed"] = str(scene.seed)
    encode_runs_and_switches(q, scene)
    if scene.target != TARGET.default:
        q["target"] = fmt(scene.target)
    if scene.patience is not None:
        q["patience"] = str(scene.patience)
    if scene.converge_after is not None:
        q["converge"] = str(scene.converge_after)
    if scene.directions != "pca":
        q["dirs"] = scene.directions
    if scene.center:
        q["center"] = str(scene.center)
    if scene.span is not None:
        q["span"] = fmt(scene.span)
    if scene.grid != DEFAULT_GRID:
        q["grid"] = str(scene.grid)
    return q


def to_query_string(scene: NetScene) -> str:
    """``v=1&data=digits&...``: readable (``, : = ~`` are not escaped)."""
    return query_string(encode(scene))


# --- decoding ---------------------------------------------------------------------------

SCHEMA = Schema(known=frozenset({"v", "data", "hidden", "act", "batch", "steps", "eval", "seed", "runs",
                                 "sched", "clip", "noise", "target", "patience", "converge", "dirs",
                                 "center", "span", "grid"}),
                max_keys=MAX_KEYS, max_chars=MAX_QUERY_CHARS, max_value_chars=MAX_VALUE_CHARS,
                max_key_chars=40, run_digits=1, version=SCHEMA_VERSION)


def decode(params: Mapping[str, Any]) -> tuple[NetScene, list[str]]:
    """Read a (possibly hostile) query: ``(scene, warnings)``.  Never raises."""
    return decode_with(_read, params, SCHEMA, NetScene, "the default view")


def from_query_string(qs: str) -> tuple[NetScene, list[str]]:
    """:func:`decode` of a raw query string (``?`` optional)."""
    return decode(query_lists(qs, MAX_QUERY_CHARS))


def _read(q: dict[str, str], problems: Problems) -> NetScene:
    kw = _read_model(q, problems)
    runs = read_runs(q, problems, MAX_RUNS, SCHEMA.is_run_key, default_lr, default_runs)
    if runs is not None:
        kw["runs"] = runs
    kw.update(read_switches(q, problems))
    kw.update(_read_stopping(q, problems))
    kw.update(_read_slice(q, len(kw.get("runs", default_runs())), problems))
    try:
        return NetScene(**kw)
    except ValueError as err:  # a combination the parts allow but the whole does not
        problems.add(f"the link's settings do not fit together ({str(err)[:120]}); "
                     "showing the default view")
        return NetScene()


def _choice(q: dict[str, str], key: str, options, what: str, default: str, problems: Problems,
            more: str = "") -> str | None:
    """``q[key]`` if it is one of ``options`` (case-insensitive), else None and a warning."""
    value = q[key].strip().lower()
    if value in options:
        return value
    problems.add(f"unknown {what} {show(q[key])}; using {default}{more}")
    return None


def _read_model(q: dict[str, str], problems: Problems) -> dict[str, Any]:
    """Data, network, batches, steps, evaluations and seed."""
    kw: dict[str, Any] = {}
    if "data" in q:
        kw["dataset"] = _choice(q, "data", DATASETS, "dataset", "digits", problems,
                                f" (choose from {', '.join(DATASETS)})")
    if "hidden" in q:
        kw["hidden"] = _read_hidden(q["hidden"], problems)
    if "act" in q:
        kw["activation"] = _choice(q, "act", ACTIVATIONS, "activation", "relu", problems)
    for key, field_name, spec in (("batch", "batch_size", BATCH), ("steps", "steps", STEPS),
                                  ("eval", "eval_every", EVAL), ("seed", "seed", SEED)):
        if key in q:
            kw[field_name] = int(read_number(q[key], spec, key, problems))
    return {k: v for k, v in kw.items() if v is not None}


def _read_stopping(q: dict[str, str], problems: Problems) -> dict[str, Any]:
    """The target accuracy and the two stopping rules (``off`` leaves a rule off)."""
    kw: dict[str, Any] = {}
    if "target" in q:
        kw["target"] = read_number(q["target"], TARGET, "target", problems)
    for key, field_name, spec in (("patience", "patience", PATIENCE), ("converge", "converge_after", CONVERGE)):
        if key in q and q[key].strip().lower() not in ("off", "none", ""):
            kw[field_name] = int(read_number(q[key], spec, key, problems))
    return kw


def _read_slice(q: dict[str, str], n_runs: int, problems: Problems) -> dict[str, Any]:
    """The slice's plane, centre run, span and grid."""
    kw: dict[str, Any] = {}
    if "dirs" in q:
        kw["directions"] = _choice(q, "dirs", DIRECTIONS, "slice directions", "pca", problems)
    if "center" in q:
        c = int(read_number(q["center"], CENTER, "center", problems))
        if c >= max(n_runs, 1):
            problems.add(f"center={c}: there is no run {c + 1}; using run 1")
            c = 0
        kw["center"] = c
    if "span" in q and q["span"].strip().lower() != "auto":
        try:
            parse_float(q["span"].strip().lower())
            kw["span"] = read_number(q["span"].strip().lower(), SPAN, "span", problems)
        except (ValueError, OverflowError):
            problems.add(f"span={show(q['span'])} is not a number; framing the trajectories (auto)")
    if "grid" in q:
        kw["grid"] = int(read_number(q["grid"], GRID, "grid", problems))
    return {k: v for k, v in kw.items() if v is not None}


def _read_hidden(text: str, problems: Problems) -> tuple[int, ...]:
    parts = [t for t in text.replace(" ", ",").replace("x", ",").split(",") if t.strip()]
    if len(parts) > MAX_LAYERS:
        problems.add(f"hidden: at most {MAX_LAYERS} layers; the first {MAX_LAYERS} are used")
        parts = parts[:MAX_LAYERS]
    out = []
    for t in parts:
        out.append(int(read_number(t, UNITS, "hidden layer width", problems)))
    if not out:
        problems.add(f"hidden={show(text)} has no layer width; using {DEFAULT_HIDDEN[0]}")
        return DEFAULT_HIDDEN
    return tuple(out)
