"""The compiled JAX programs of this process, bounded: one least-recently-used store.

``jax.jit`` keeps every program it compiles for as long as the jitted function lives, one
per set of static arguments and argument shapes: on a server that runs for months that is
one program per landscape x rule x step bucket x switches, plus every custom formula's,
without end (~3 MB each on XLA:CPU).  Here a jitted function is made per *program key*
(the function, its static arguments, and the shapes and dtypes of the others), so each holds
exactly one program, and the store keeps at most ``PROGRAMS.size`` of them; dropping the
least recently used one drops its executable.  A formula's programs leave with it
(:meth:`Programs.forget`, called by ``landscapes.expression``'s formula cache).

Dropping a jitted function frees only part of what its compilation left: JAX's own staging
and lowering caches keep the rest (measured: of ~5 MB a program, ~1.5 MB leaves with the
function, the rest with ``jax.clear_caches()``).  So after every ``CLEAR_AFTER`` evictions the
store empties itself and clears JAX's caches: the programs in use are compiled again on their
next call (from the persistent compile cache when it is on; 0.1-0.7 s each).

A caller that wants to say when it waits for a compiler (the pages' progress lines) watches
its thread (:func:`watch`): every program made for a call in that thread, and every other
compile that reports itself (:func:`compiling`), is announced before it is compiled.

Pure: no Streamlit.  The core's jitted entry points use :func:`jit` instead of ``jax.jit``.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from typing import Any, Callable, Hashable, Sequence

import cachetools
import jax
import numpy as np

SIZE = 24  # programs; ~3 MB each measured (simulate on XLA:CPU), <= ~5 MB for the largest
CLEAR_AFTER = 48  # evictions between two clears of JAX's own caches
_watchers = threading.local()


@contextlib.contextmanager
def watch(callback: Callable[[str], Any]):
    """Within the block, ``callback(name)`` is called in this thread just before a program is
    compiled for this thread (``name``: the jitted function's, e.g. ``"simulate"``).  Blocks
    nest (the innermost callback hears); other threads are not watched."""
    old = getattr(_watchers, "callback", None)
    _watchers.callback = callback
    try:
        yield
    finally:
        _watchers.callback = old


def compiling(name: str):
    """Tell this thread's watcher (if any) that ``name`` is about to be compiled."""
    callback = getattr(_watchers, "callback", None)
    if callback is not None:
        callback(name)


class Programs:
    """At most ``size`` jitted functions by program key, least recently used out first."""

    def __init__(self, size: int = SIZE, clear_after: int | None = CLEAR_AFTER):
        self.size, self.clear_after = size, clear_after
        self.clears = 0
        self._since_clear = 0
        self._items: cachetools.LRUCache = cachetools.LRUCache(maxsize=size)
        self._lock = threading.Lock()
        self.made = 0  # programs made (each is compiled on its first call)
        self.made_by: dict[Callable, int] = {}  # ... by function
        self.evicted = 0

    def get(self, key: Hashable, make: Callable[[], Callable]) -> Callable:
        """The jitted function under ``key``; a new one (made by ``make()``, compiled on its
        first call, which follows) is announced to this thread's watcher (:func:`watch`)."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                return hit
            fn = make()
            if len(self._items) >= self.size:
                self.evicted += 1
                self._since_clear += 1
            self._items[key] = fn  # the least recently used leaves past ``size``
            self.made += 1
            self.made_by[key[0]] = self.made_by.get(key[0], 0) + 1
            clear = self.clear_after is not None and self._since_clear >= self.clear_after
            if clear:
                self._since_clear = 0
                self.clears += 1
                self._items.clear()
                self._items[key] = fn
        if clear:
            jax.clear_caches()  # what the evicted programs left in JAX's caches
        compiling(getattr(key[0], "__name__", "program") if isinstance(key, tuple) and key else "program")
        return fn

    def forget(self, owner: Any) -> int:
        """Drop every program whose static arguments include ``owner`` (a formula's function,
        or an adapter holding it as ``.f``); returns how many."""
        def owned(key) -> bool:
            return any(v is owner or getattr(v, "f", None) is owner for v in key[1])
        with self._lock:
            gone = [k for k in list(self._items.keys()) if owned(k)]
            for k in gone:
                del self._items[k]
            return len(gone)

    def count(self, fn: Callable) -> int:
        """How many of the programs held are ``fn``'s."""
        with self._lock:
            return sum(1 for k in list(self._items.keys()) if k[0] is fn)

    def clear(self):
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


PROGRAMS = Programs()


def _shapes(args) -> tuple:
    leaves, treedef = jax.tree.flatten(args)
    return treedef, tuple((np.shape(a), _dtype(a)) for a in leaves)


def _dtype(a):
    d = getattr(a, "dtype", None)
    return np.asarray(a).dtype if d is None else d


def jit(static_argnames: Sequence[str] = (), store: Programs | None = None, **jit_kwargs):
    """Like ``partial(jax.jit, static_argnames=...)``, but each program lives in ``store``
    (default :data:`PROGRAMS`).  Static arguments must be hashable; the others may be
    passed by position or by name."""
    def decorate(fn: Callable):
        sig = inspect.signature(fn)
        names = tuple(sig.parameters)
        s_idx = tuple(i for i, n in enumerate(names) if n in set(static_argnames))
        d_idx = tuple(i for i, n in enumerate(names) if n not in set(static_argnames))

        def make(svals):
            def program(*dvals):
                args = [None] * len(names)
                for i, v in zip(s_idx, svals):
                    args[i] = v
                for i, v in zip(d_idx, dvals):
                    args[i] = v
                return fn(*args)
            return lambda: jax.jit(program, **jit_kwargs)

        def call(*args, **kwargs):
            if kwargs or len(args) != len(names):  # the slow path: by name, or defaults
                bound = sig.bind(*args, **kwargs)
                bound.apply_defaults()
                args = tuple(bound.arguments[n] for n in names)
            svals = tuple(args[i] for i in s_idx)
            dvals = tuple(args[i] for i in d_idx)
            return (PROGRAMS if store is None else store).get((fn, svals) + _shapes(dvals), make(svals))(*dvals)

        call._cache_size = lambda: (PROGRAMS if store is None else store).count(fn)  # held now
        call.programs_made = lambda: (PROGRAMS if store is None else store).made_by.get(fn, 0)  # ever
        call.__wrapped__ = fn
        call.__doc__ = fn.__doc__
        call.__name__ = getattr(fn, "__name__", "jitted")
        return call
    return decorate
