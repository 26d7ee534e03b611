"""The server's log: one INFO line per rerun of a page (pure: no Streamlit).

    INFO landscape.race: rerun 412 ms | computed run x3 412 ms, figure 35 ms | cached grid, picture
         | new programs 2 | chart 781 kB whole | rss 642 MB

What a rerun computed (each memo of ``viz.common.lru`` that missed, how many times and the
milliseconds it took), what it was served from cache (the memos that hit), how many compiled
programs it added (``landscapes.compiled``), the bytes sent to the chart (``whole``: a whole
figure; ``patch``: the change from the figure the browser has), and the server's resident
memory.  Nothing is logged per animation frame (the animation runs in the browser).

The record is per thread: Streamlit runs each session's script in a thread of its own, and a
rerun inside another (the race page's chart fragment inside a full rerun) adds to the outer
one's line.  The level comes from ``LANDSCAPE_LOG_LEVEL`` (default INFO; see
:func:`configure`)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from viz.common.bootstrap import rss_mb

T = TypeVar("T")
LOGGER = "landscape"
_local = threading.local()


@dataclass
class Record:
    page: str
    t0: float = field(default_factory=time.perf_counter)
    hits: Counter = field(default_factory=Counter)
    computed: Counter = field(default_factory=Counter)
    compute_s: Counter = field(default_factory=Counter)
    sent: list = field(default_factory=list)  # (bytes, kind)
    programs0: int = 0


def _current() -> Record | None:
    return getattr(_local, "record", None)


def hit(name: str):
    r = _current()
    if r is not None:
        r.hits[name] += 1


def computed(name: str, seconds: float):
    r = _current()
    if r is not None:
        r.computed[name] += 1
        r.compute_s[name] += seconds


def sent(nbytes: int, kind: str = "whole"):
    r = _current()
    if r is not None:
        r.sent.append((int(nbytes), kind))


def carried(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` to run in a worker thread, adding to this thread's rerun record (if any)."""
    r = _current()

    def run(*args, **kwargs):
        old = _current()
        _local.record = r
        try:
            return fn(*args, **kwargs)
        finally:
            _local.record = old
    return run


def _programs_made() -> int:
    from landscapes import compiled
    return compiled.PROGRAMS.made


def line(r: Record) -> str:
    ms = 1e3 * (time.perf_counter() - r.t0)
    parts = [f"rerun {ms:.0f} ms"]
    if r.computed:
        parts.append("computed " + ", ".join(
            f"{k}{f' x{n}' if n > 1 else ''} {1e3 * r.compute_s[k]:.0f} ms" for k, n in r.computed.items()))
    cached = [k for k in r.hits if k not in r.computed]
    parts.append("cached " + ", ".join(cached) if cached else "cached nothing")
    new = _programs_made() - r.programs0
    if new:
        parts.append(f"new programs {new}")
    if r.sent:
        parts.append("chart " + ", ".join(f"{b / 1e3:.0f} kB {k}" for b, k in r.sent))
    parts.append(f"rss {rss_mb():.0f} MB")
    return " | ".join(parts)


def logged(page: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` (a page's script) and log its line; inside another logged rerun, just run it."""
    if _current() is not None:
        return fn()
    _local.record = r = Record(page, programs0=_programs_made())
    try:
        return fn()
    finally:
        _local.record = None
        log = logging.getLogger(f"{LOGGER}.{page}")
        if log.isEnabledFor(logging.INFO):
            log.info(line(r))
        from viz.common import bootstrap
        bootstrap.trim_after(bool(r.computed) or _programs_made() > r.programs0)


def configure() -> int:
    """Our loggers' level from ``LANDSCAPE_LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR; default
    INFO) and a handler on stderr (Streamlit configures only its own loggers).  Idempotent."""
    name = os.environ.get("LANDSCAPE_LOG_LEVEL", "INFO").strip().upper()
    level = logging.getLevelName(name) if name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") else logging.INFO
    log = logging.getLogger(LOGGER)
    log.setLevel(level)
    if not any(getattr(h, "_landscape", False) for h in log.handlers):
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        h._landscape = True
        log.addHandler(h)
        log.propagate = False
    return level


def safe(text: str, limit: int = 200) -> str:
    """Untrusted text for one log line: no line breaks or control characters, shortened."""
    out = "".join(c if c.isprintable() else "?" for c in str(text))
    return out if len(out) <= limit else out[:limit] + "..."
