"""Results shared by every visitor of a server process, keyed by a string, bounded in bytes.

Like ``st.cache_data`` (each caller gets its own copy: the value is kept pickled, and a hit
unpickles it, so nobody can change what the next visitor gets), but bounded by the bytes of
the pickles, not only by a count: one entry may be a 20 MB trajectory set or a 2 kB table.
The key is one string (``repr`` of plain hashable arguments, cheap) and the arguments are
passed unhashed.  Pure (no Streamlit): a ``viz.common.lru.Memo`` of pickles."""

from __future__ import annotations

import functools
import pickle
from typing import Any, Callable

from viz.common.lru import Memo

MB = 2**20


def cached_by_key(name: str, max_bytes: int, max_entries: int = 10_000,
                  key: Callable[..., str] | None = None):
    """Decorator: ``fn(*args)`` computed once per ``key(*args)`` (default ``repr(args)``) and
    shared; its pickles are kept in a memo named ``name`` of at most ``max_bytes`` bytes and
    ``max_entries`` entries.  The key must determine the result."""
    def decorate(fn: Callable[..., Any]):
        memo = Memo(name, max_bytes, max_entries, getsizeof=len)

        @functools.wraps(fn)
        def call(*args):
            made = []

            def make() -> bytes:
                made.append(fn(*args))
                return pickle.dumps(made[0], protocol=pickle.HIGHEST_PROTOCOL)

            blob = memo.get(key(*args) if key else repr(args), make)
            return made[0] if made else pickle.loads(blob)

        call.clear = memo.clear
        call.memo = memo
        call.has = lambda *args: memo.peek(key(*args) if key else repr(args)) is not None
        call.put = lambda value, *args: memo.put(key(*args) if key else repr(args),
                                                 pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return call
    return decorate
