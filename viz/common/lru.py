"""One bounded, thread-safe memo shared by every visitor of a server process (pure: no
Streamlit).  A value is a function of its key and is never changed once made, so a hit
returns the very object (no copy).  At most ``size`` entries; the least recently used
leaves first (``cachetools.LRUCache``)."""

from __future__ import annotations

import threading
from typing import Callable, Hashable, TypeVar

import cachetools

T = TypeVar("T")


class Memo:
    def __init__(self, size: int):
        self.size = size
        self._items: cachetools.LRUCache = cachetools.LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value under ``key``, made by ``make()`` the first time (outside the lock: two
        visitors may make the same value once each; either copy is kept)."""
        with self._lock:
            try:
                return self._items[key]
            except KeyError:
                pass
        value = make()
        with self._lock:
            self._items[key] = value
        return value

    def clear(self):
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
