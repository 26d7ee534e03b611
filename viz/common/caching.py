"""Results shared by every visitor, in Streamlit's cache (``st.cache_data``), keyed by a
string.  Streamlit would hash every argument on every call; here the key is one string
(``repr`` of plain hashable arguments, cheap) and the arguments are passed unhashed."""

from __future__ import annotations

import functools
from typing import Any, Callable

import streamlit as st


def cached_by_key(max_entries: int, key: Callable[..., str] | None = None):
    """Decorator: ``fn(*args)`` computed once per ``key(*args)`` (default ``repr(args)``) and
    shared; at most ``max_entries`` results are kept.  The key must determine the result."""
    def decorate(fn: Callable[..., Any]):
        def compute(key_text: str, _args: tuple):
            return fn(*_args)

        # st.cache_data tells functions apart by module, qualified name and source.
        compute.__module__, compute.__qualname__ = fn.__module__, fn.__qualname__
        cached = st.cache_data(max_entries=max_entries, show_spinner=False)(compute)

        @functools.wraps(fn)
        def call(*args):
            return cached(key(*args) if key else repr(args), args)

        call.clear = cached.clear
        return call
    return decorate
