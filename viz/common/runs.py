"""A run (one optimizer with its hyperparameters) and what every page's URL writes about
runs and the shared gradient switches (pure: no Streamlit).

URL form (each page's codec writes these keys alike)::

    r0=adam:learning_rate=0.01,b1=0.95    run 0: optimizer, then hyperparameters by optax's names;
    r1=sgd~lookahead:learning_rate=0.001      learning_rate is always written, the others only when
    r2=sgd~raw:learning_rate=0.1              not at the rule's default.  ~lookahead wraps the rule
                                              in Lookahead, ~raw ignores the shared clipping/noise
    l0=Fast%20Adam                        run 0's legend label
    runs=none                             no runs
    sched=cosine:decay_steps=5000         learning-rate schedule and its numbers (default constant)
    clip=norm:1                           gradient clipping by global norm (or value:0.5)
    noise=0.5                             Gaussian gradient noise sigma
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import optimizers
from landscapes.params import Param
from optimizers import schedules
from optimizers.transforms import CLIP_NORM, CLIP_VALUE, NOISE
from viz.common.url import Pairs, Problems, fmt, num, pairs_text, read_number, read_pairs, show

CLIP_KINDS = ("off", "value", "norm")




MAX_LABEL_CHARS = 40


def rule_of(optimizer: str, lookahead: bool):
    return optimizers.get(optimizer, lookahead=lookahead and optimizer != "ranger")


def canonical_params(specs: Sequence[Param], given: Mapping[str, Any], owner: str) -> Pairs:
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
        rule = rule_of(self.optimizer, bool(self.lookahead))
        given = dict(self.hyperparams)
        put(self, "hyperparams", canonical_params(rule.hyperparams, given, rule.name))
        put(self, "lookahead", bool(self.lookahead))
        put(self, "raw", bool(self.raw))
        put(self, "label", clean_label(self.label))

    @property
    def rule(self):
        return rule_of(self.optimizer, self.lookahead)

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


def pairs_of_schedule(kind: str, params: dict) -> Pairs:
    specs = {p.name: p for p in schedules.SCHEDULES[kind].params} if kind in schedules.SCHEDULES else {}
    params = {k: (num(v) if k in specs and specs[k].kind == "float" else v) for k, v in params.items()}
    values = schedules.validate(kind, params)
    return tuple(values.items())


R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)  # Renard's series: ten notches a decade


DECAYS = tuple(round(0.05 * k, 2) for k in range(20)) + (0.97, 0.98, 0.99, 0.995, 0.999, 0.9995,
                                                         0.9999, 0.99999)


def number_step(p: Param) -> float:
    """A number box's arrow step for a float ``p``: a hundredth of the power of ten below its span."""
    span = p.high - p.low
    return float(f"{10 ** math.floor(math.log10(span)) / 100:.0e}") if span > 0 else 0.01


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


def encode_runs_and_switches(q: dict[str, str], scene) -> None:
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
        text = pairs_text(schedules.SCHEDULES[scene.schedule].params, scene.schedule_params)
        q["sched"] = scene.schedule + (":" + text if text else "")
    if scene.clip != "off":
        q["clip"] = f"{scene.clip}:{fmt(scene.clip_at)}"
    if scene.noise > 0:
        q["noise"] = fmt(scene.noise)


def run_token(run: Run) -> str:
    head = run.optimizer + ("~lookahead" if run.lookahead else "") + ("~raw" if run.raw else "")
    return head + ":" + pairs_text(run.rule.hyperparams, run.hyperparams, always=("learning_rate",))


def read_run(text: str, label: str, key: str, problems: Problems,
              default_lr: Callable[[str], float]) -> Run | None:
    """A run ``name~flags:k=v,...`` (``key`` is r0..r7 for the warnings); None if unusable.
    ``default_lr(name)``: the learning rate when the link gives none or a bad one."""
    head, _, rest = text.partition(":")
    name, *flags = head.replace("+", "~").replace(" ", "~").split("~")
    name = name.strip().lower()
    if name not in optimizers.names():
        problems.add(f"{key}: unknown optimizer {show(name)}; run dropped")
        return None
    lookahead = raw = False
    for flag in flags[:8]:
        flag = flag.strip().lower()
        if flag in ("lookahead", "la"):
            lookahead = True
        elif flag == "raw":
            raw = True
        elif flag:
            problems.add(f"{key}: unknown flag {show(flag)} ignored")
    rule = rule_of(name, lookahead)
    lr = default_lr(name)
    hp = read_pairs(rest, rule.hyperparams, f"{key} ({name})", problems, {"learning_rate": lr})
    hp.setdefault("learning_rate", lr)
    if label and clean_label(label) != label:
        problems.add(f"l{key[1:]}: the label was shortened or had characters removed")
    try:
        return Run(name, hp, lookahead=lookahead, raw=raw, label=label)
    except ValueError as err:  # e.g. a combination the rule refuses
        problems.add(f"{key}: {str(err)[:120]}; run dropped")
        return None


def read_schedule(text, problems):
    head, _, rest = text.partition(":")
    kind = head.strip()
    if kind not in schedules.SCHEDULES:
        problems.add(f"unknown schedule {show(kind)}; using constant")
        return "constant", ()
    params = read_pairs(rest, schedules.SCHEDULES[kind].params, f"schedule {kind}", problems)
    try:
        return kind, pairs_of_schedule(kind, params)
    except ValueError as err:
        problems.add(f"schedule {kind}: {str(err)[:120]}; using its defaults")
        return kind, pairs_of_schedule(kind, {})


def read_clip(text, problems):
    kind, _, value = text.partition(":")
    kind = kind.strip().lower()
    if kind in ("off", "none", ""):
        return "off", 1.0
    if kind not in ("value", "norm"):
        problems.add(f"unknown clipping {show(kind)}; clipping is off")
        return "off", 1.0
    spec = CLIP_NORM if kind == "norm" else CLIP_VALUE
    return kind, read_number(value or fmt(spec.default), spec, f"clip {kind}", problems)



def read_runs(q: Mapping[str, str], problems: Problems, max_runs: int, is_run_key: Callable[[str], bool],
              default_lr: Callable[[str], float], default_runs: Callable[[], Sequence[Run]]) -> tuple | None:
    """The runs ``r0``.. of a query with their labels ``l0``..; ``default_runs()`` if none of
    them can be used, ``()`` for ``runs=none``, None when the query names no runs."""
    keys = sorted((k for k in q if is_run_key(k) and k[0] == "r"), key=lambda k: int(k[1:]))
    runs: tuple | None = None
    if keys:
        found = []
        for k in keys:
            i = int(k[1:])
            if i >= max_runs:
                problems.add(f"at most {max_runs} runs (r0..r{max_runs - 1}); {k} ignored")
                continue
            run = read_run(q[k], q.get(f"l{i}", ""), k, problems, default_lr)
            if run is not None:
                found.append(run)
        if not found:
            problems.add("no valid run in the link; using the default runs")
            found = list(default_runs())
        runs = tuple(found)
    elif q.get("runs", "").strip() == "none":
        runs = ()
    for k in q:
        if is_run_key(k) and k[0] == "l" and f"r{k[1:]}" not in q:
            problems.add(f"label {k} has no run r{k[1:]}; ignored")
    return runs


def read_switches(q: Mapping[str, str], problems: Problems) -> dict[str, Any]:
    """The shared schedule, clipping and noise a query sets (only those it names)."""
    kw: dict[str, Any] = {}
    if "sched" in q:
        kw["schedule"], kw["schedule_params"] = read_schedule(q["sched"], problems)
    if "clip" in q:
        kw["clip"], kw["clip_at"] = read_clip(q["clip"], problems)
    if "noise" in q:
        kw["noise"] = read_number(q["noise"], NOISE, "noise", problems)
    return kw


def unique_labels(runs: Sequence[Run]) -> list[str]:
    """Each run's legend label, made unique with a ' #2' suffix where two coincide."""
    out, seen = [], {}
    for r in runs:
        text = r.display_label()
        seen[text] = seen.get(text, 0) + 1
        out.append(text if seen[text] == 1 else f"{text} #{seen[text]}")
    return out


def check_runs_and_switches(obj, max_runs: int):
    """In a scene's ``__post_init__``: its runs (at most ``max_runs`` Run objects) and its shared
    schedule, clipping and noise, checked and stored canonical; ValueError when invalid."""
    put = object.__setattr__
    runs = tuple(obj.runs)
    if len(runs) > max_runs:
        raise ValueError(f"at most {max_runs} runs")
    if not all(isinstance(r, Run) for r in runs):
        raise ValueError("runs must be viz.common.runs.Run objects")
    put(obj, "runs", runs)
    put(obj, "schedule_params", pairs_of_schedule(obj.schedule, dict(obj.schedule_params)))
    if obj.clip not in CLIP_KINDS:
        raise ValueError(f"clip must be one of {CLIP_KINDS}")
    spec = CLIP_NORM if obj.clip == "norm" else CLIP_VALUE
    put(obj, "clip_at", spec.validate(num(spec.validate(obj.clip_at))))
    put(obj, "noise", NOISE.validate(num(NOISE.validate(obj.noise))))
