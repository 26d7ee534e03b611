"""Reading and writing every page's URL (pure: no Streamlit).  One set of primitives, one
never-raising decoder skeleton (:func:`decode_with`) parameterised by each page's
:class:`Schema`, one :func:`query_string`.

A link is untrusted: reading it never raises and evaluates nothing.  Each problem becomes a
warning (:class:`Problems`) and a safe default; a query that is too long, or has too many
keys, is ignored as a whole.  Numbers are written with 6 significant digits."""

from __future__ import annotations

import math
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from landscapes.params import Param

SAFE = ",:=~"  # left unescaped in a query string: links stay readable
MAX_QUERY_CHARS = 4096  # every page: a longer query is ignored as a whole
Pairs = tuple[tuple[str, float], ...]


def num(v: float) -> float:
    """The canonical float: 6 significant digits (what the URL writes)."""
    return float(f"{float(v):.6g}")


def fmt(v: float) -> str:
    """A number as the URL writes it: ``0.01``, ``1e-05``, ``10000``."""
    return f"{float(v):.6g}"


MAX_WARNINGS = 12


IGNORED_KEYS = frozenset({"embed", "embed_options"})  # Streamlit's own


class Problems:
    def __init__(self):
        self.items: list[str] = []

    def add(self, text: str):
        self.items.append(text)

    def result(self) -> list[str]:
        if len(self.items) > MAX_WARNINGS:
            extra = len(self.items) - (MAX_WARNINGS - 1)
            return self.items[: MAX_WARNINGS - 1] + [f"... and {extra} more problems in the link"]
        return list(self.items)


def show(text: str) -> str:
    """A piece of user text, short and quoted, for a warning."""
    text = str(text)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def parse_float(text: str) -> float:
    text = text.strip()
    if not text or len(text) > 40:
        raise ValueError("not a number")
    v = float(text)  # raises ValueError for anything else
    if not math.isfinite(v):
        raise ValueError("not finite")
    return v


def parse_pair(text: str) -> tuple[float, float]:
    """``a,b`` as two finite floats (ValueError otherwise)."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError("not two numbers")
    a, b = (parse_float(t) for t in parts)
    return a, b


def parse_value(p: Param, text: str) -> float:
    if p.kind == "bool":
        t = text.strip().lower()
        if t in ("1", "true", "yes", "on"):
            return 1.0
        if t in ("0", "false", "no", "off"):
            return 0.0
        raise ValueError("not a boolean")
    return parse_float(text)


def fit(p: Param, v: float) -> tuple[float, str]:
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


def read_pairs(text: str, specs: Sequence[Param], owner: str, problems: Problems,
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
            problems.add(f"{owner}: unknown parameter {show(name)} ignored")
            continue
        p = by_name[name]
        try:
            v = parse_value(p, value) if eq else None
        except (ValueError, OverflowError):
            v = None
        if v is None:
            problems.add(f"{owner}: {name}={show(value)} is not a valid value; "
                         f"using {fmt(fallback.get(name, p.default))}")
            continue
        w, what = fit(p, v)
        if what == "out of range":
            problems.add(f"{owner}: {name}={fmt(v)} is out of range [{p.low:g}, {p.high:g}]; using {fmt(w)}")
        elif what:
            problems.add(f"{owner}: {name}={fmt(v)} is not a whole number; using {fmt(w)}")
        out[name] = w
    return out


def pairs_text(specs: Sequence[Param], values: Pairs, always: Iterable[str] = ()) -> str:
    always = set(always)
    parts = []
    for p, (name, v) in zip(specs, values):
        if name in always or v != p.default:
            parts.append(f"{name}={fmt(v) if p.kind != 'bool' else int(v)}")
    return ",".join(parts)


def single(params: Mapping[str, Any], problems: Problems, *, max_keys: int,
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
            problems.add(f"{show(k)} appears more than once; using the last value")
        out[k] = v
    return out


def safely(read: Callable[[Mapping[str, Any], Problems], Any], params: Mapping[str, Any],
            default: Callable[[], Any], fallback: str) -> tuple[Any, list[str]]:
    """``read(params, problems)`` that never raises: a bug must not turn a link into a
    traceback (``default()`` is shown instead)."""
    problems = Problems()
    try:
        scene = read(params, problems)
    except Exception as err:  # noqa: BLE001
        problems.add(f"the link could not be read ({type(err).__name__}); showing {fallback}")
        scene = default()
    return scene, problems.result()


def query_lists(qs: Any, max_chars: int = MAX_QUERY_CHARS) -> dict[str, list[str]]:
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


def read_number(text, spec: Param, what: str, problems) -> float:
    try:
        v = parse_float(text)
    except (ValueError, OverflowError):
        problems.add(f"{what}={show(text)} is not a number; using {fmt(spec.default)}")
        return float(spec.default)
    w, change = fit(spec, v)
    if change == "out of range":
        problems.add(f"{what}={fmt(v)} is out of range [{spec.low:g}, {spec.high:g}]; using {fmt(w)}")
    elif change:
        problems.add(f"{what}={fmt(v)} is not a whole number; using {fmt(w)}")
    return w



def query_string(q: Mapping[str, str]) -> str:
    """``v=1&ls=rosenbrock&...`` from a codec's ``encode``: readable (``, : = ~`` not escaped)."""
    return urllib.parse.urlencode(q, safe=SAFE, quote_via=urllib.parse.quote)


def is_run_key(k: str, max_digits: int = 1) -> bool:
    """``r0``.. (a run) or ``l0``.. (its label), with up to ``max_digits`` digits."""
    return 2 <= len(k) <= 1 + max_digits and k[0] in "rl" and k[1:].isdigit() and k[1:].isascii()


@dataclass(frozen=True)
class Schema:
    """What one page's links may hold: its keys (besides runs and labels) and its limits."""

    known: frozenset[str]
    max_keys: int
    max_chars: int = 4096
    max_value_chars: int = 600
    max_key_chars: int = 600
    run_digits: int = 1  # r0..r9; 2 reads r10.. too (and warns that there are too many runs)
    version: int = 1

    def is_run_key(self, k: str) -> bool:
        return is_run_key(k, self.run_digits)


def read_query(params: Mapping[str, Any], problems: Problems, schema: Schema,
               fallback: str) -> dict[str, str] | None:
    """``{key: value}`` of a query, checked against ``schema``: unknown keys and over-long
    values reported (and the latter dropped), another version read as this one.  None when
    the query is empty or cannot be read at all (``fallback`` is shown)."""
    q = single(params, problems, max_keys=schema.max_keys, max_chars=schema.max_chars, fallback=fallback)
    if not q:
        return None
    for k in q:
        if len(k) > schema.max_key_chars or (k not in schema.known and k not in IGNORED_KEYS
                                              and not schema.is_run_key(k)):
            problems.add(f"unknown key {show(k)} ignored")
    for k in [k for k, v in q.items() if len(v) > schema.max_value_chars]:
        problems.add(f"the value of {show(k)} is too long and was ignored")
        del q[k]
    v = q.get("v", str(schema.version))
    if v.strip() != str(schema.version):
        problems.add(f"unknown link version v={show(v)}; reading it as version {schema.version}")
    return q


def decode_with(read: Callable[[dict[str, str], Problems], Any], params: Mapping[str, Any],
                schema: Schema, default: Callable[[], Any], fallback: str) -> tuple[Any, list[str]]:
    """A page's decoder: ``read(q, problems)`` of the checked query (``default()`` for an
    empty or unreadable one); never raises.  Returns ``(what to show, warnings)``."""
    def whole(params, problems):
        q = read_query(params, problems, schema, fallback)
        return default() if q is None else read(q, problems)

    return safely(whole, params, default, fallback)
