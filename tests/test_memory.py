"""The memory budget (README, "Memory"): every cache that outlives a rerun is bounded, in
entries and in bytes, and holds at most its bound after many distinct uses; compiled programs
are bounded too, and a custom formula's leave with it.  The season on a real server is
benchmarks/bench_soak.py; this is its fast version (no wall-clock assertions)."""

from __future__ import annotations

import gc
import logging
import threading
import weakref

import numpy as np
import pytest

import landscapes
import optimizers
from landscapes import compiled, expression
from viz.common import bootstrap, rerun_log
from viz.common.caching import cached_by_key
from viz.common.lru import MEMOS, Memo, deep_size


def test_a_memo_is_bounded_in_bytes_and_in_entries():
    m = Memo("test.bytes", 100_000, max_entries=50, getsizeof=deep_size)
    for i in range(200):
        m.get(i, lambda i=i: np.full(1250, i, np.float64))  # 10 kB each
        assert m.bytes <= 100_000 and len(m) <= 50
    assert len(m) == 9 and m.evicted == 191  # ~9 arrays (10 kB + their header) fit in 100 kB
    assert m.peek(199) is not None and m.peek(0) is None  # the least recently used left first
    few = Memo("test.entries", 10**9, max_entries=3)
    for i in range(10):
        few.get(i, lambda: "x")
    assert len(few) == 3
    big = Memo("test.big", 1000, getsizeof=deep_size)
    assert big.get("k", lambda: np.zeros(10_000)).shape == (10_000,) and len(big) == 0  # too big: not kept


def test_cached_results_are_pickles_bounded_by_bytes_and_each_caller_gets_a_copy():
    calls = []

    @cached_by_key("test.cached", 200_000)
    def make(i):
        calls.append(i)
        return {"xy": np.full((2000, 2), i, np.float32)}  # 16 kB

    for i in range(100):
        make(i)
    assert make.memo.bytes <= 200_000 and 10 <= len(make.memo) <= 12
    first = make(99)
    first["xy"][:] = -1  # a caller changes its copy ...
    assert (make(99)["xy"] == 99).all() and calls.count(99) == 1  # ... not the next one's


def test_compiled_programs_are_bounded_and_dropped_ones_are_freed():
    store = compiled.Programs(size=4)

    @compiled.jit(static_argnames=("k",), store=store)
    def f(x, k):
        return x * k

    refs = []
    for k in range(12):
        assert float(f(np.float32(2.0), k)) == 2.0 * k
        refs.append(weakref.ref(store.get((f.__wrapped__, (k,)) + compiled._shapes((np.float32(2.0),)),
                                          lambda: None)))
        assert len(store) <= 4
    assert store.made == 12 and len(store) == 4 and f._cache_size() == 4
    gc.collect()
    assert sum(r() is not None for r in refs) == 4  # the evicted programs are gone


def test_a_watched_thread_hears_of_each_compile_and_no_other():
    """landscapes.compiled.watch (the pages' progress cards say "compiling" only then)."""
    import threading

    store = compiled.Programs(size=4)

    @compiled.jit(static_argnames=("k",), store=store)
    def g(x, k):
        return x + k

    heard, other = [], []
    with compiled.watch(heard.append):
        g(np.float32(1.0), 1)  # new: compiled
        g(np.float32(2.0), 1)  # the same program
        t = threading.Thread(target=lambda: other.append(float(g(np.float32(1.0), 2))))
        t.start()
        t.join()  # (another thread's compile is not this thread's)
        compiled.compiling("train.chunk")  # what the network's trainer says before it compiles
    g(np.float32(1.0), 3)  # not watched
    assert heard == ["g", "train.chunk"] and other == [3.0]


def test_the_shared_store_stays_within_its_size():
    clears = compiled.PROGRAMS.clears
    for i in range(32):  # 32 distinct programs: 8 landscapes x 4 buckets
        optimizers.run(landscapes.names()[i % 8], "sgd", steps=512 * 2 ** (i // 8) - 1, learning_rate=1e-4)
        assert len(compiled.PROGRAMS) <= compiled.SIZE
    # full, unless it reached CLEAR_AFTER evictions meanwhile (other tests in this process) and cleared
    assert len(compiled.PROGRAMS) == compiled.SIZE or compiled.PROGRAMS.clears > clears


def test_a_formulas_programs_leave_with_it():
    L = landscapes.from_expression("x**2 + 7.25*y**2 + sin(x*y)")
    optimizers.run(L, "adam", steps=20)
    f = L.f

    def owned() -> int:
        return sum(1 for k in list(compiled.PROGRAMS._items.keys())
                   if any(v is f or getattr(v, "f", None) is f for v in k[1]))

    assert owned() >= 1  # its run's program (and its minima search's, unless evicted)
    for i in range(expression.FORMULAS + 1):  # other formulas push it out of the formula caches
        expression.compile_formula(f"x**2 + {i + 1}.5*y**4")
        landscapes.from_expression(f"x**2 + {i + 1}.5*y**4")
    assert owned() == 0


def test_every_registered_memo_is_within_its_bounds_and_counts_its_bytes():
    import viz.network.state  # noqa: F401  (the pages' memos register when their modules load)
    import viz.race.cached  # noqa: F401
    import viz.sweeps.state  # noqa: F401
    assert {"race.run", "race.figures", "race.figure_parts", "network.run", "sweeps.hyper"} <= set(MEMOS)
    for name, m in list(MEMOS.items()):
        assert len(m) <= m.max_entries and m.bytes <= m.max_bytes, name
        now = sum(m._items.getsizeof(v) for v in m._items.values())  # weighed again
        # (a string's size grows once Python caches its UTF-8 form, e.g. when JSON is written)
        assert m.bytes <= now <= 1.01 * m.bytes + 4096, name


def test_one_log_line_per_rerun_with_what_was_computed_and_sent():
    got = []
    handler = logging.Handler()
    handler.emit = lambda record: got.append(record)
    log = logging.getLogger("landscape")
    log.addHandler(handler)
    old = log.level
    log.setLevel(logging.INFO)
    try:
        m = Memo("test.log", 10**6)

        def script():
            m.get("a", lambda: 1)
            m.get("a", lambda: 1)
            rerun_log.logged("inner", lambda: m.get("b", lambda: 2))  # nested: the same line
            rerun_log.sent(1234, "patch")

        rerun_log.logged("page", script)
    finally:
        log.removeHandler(handler)
        log.setLevel(old)
    assert len(got) == 1 and got[0].name == "landscape.page" and got[0].levelno == logging.INFO
    text = got[0].getMessage()
    assert "computed test.log x2" in text and "cached test.log" not in text and "chart 1 kB patch" in text
    assert "\n" not in rerun_log.safe("a\nb\x1b") and len(rerun_log.safe("x" * 999, 10)) == 13


def test_the_store_clears_jaxs_own_caches_after_many_evictions():
    store = compiled.Programs(size=2, clear_after=3)

    @compiled.jit(static_argnames=("k",), store=store)
    def g(x, k):
        return x + k

    for k in range(6):
        assert float(g(np.float32(1.0), k)) == 1.0 + k
    assert store.clears == 1 and len(store) <= 2  # made 6, evicted 3 (a clear), then 1 more
    assert float(g(np.float32(1.0), 5)) == 6.0  # what stays works after the clear


def test_a_rerun_that_computed_hands_freed_memory_back_at_once_and_others_wait(monkeypatch):
    monkeypatch.setattr(bootstrap, "TRIM_ABOVE_MB", 0)  # as a server near its budget
    if not bootstrap.trim_memory(force=True):
        pytest.skip("not glibc: there is no malloc_trim to call")
    before = bootstrap._last_trim[0]
    bootstrap.trim_after(False)  # a rerun served from the caches: within TRIM_EVERY_S, no trim
    assert bootstrap._last_trim[0] == before
    bootstrap.trim_after(True)  # a rerun that computed: trimmed now, in a thread of its own
    for t in [t for t in threading.enumerate() if t.name == "malloc-trim"]:
        t.join(10)
    assert bootstrap._last_trim[0] > before
    assert not bootstrap._trimming.locked()  # the next heavy rerun trims too


def test_a_logged_rerun_that_computed_trims_when_the_server_is_large(monkeypatch):
    if not bootstrap.trim_memory(force=True):
        pytest.skip("not glibc: there is no malloc_trim to call")
    before = bootstrap._last_trim[0]
    monkeypatch.setattr(bootstrap, "TRIM_ABOVE_MB", 10**6)  # a small server: no trim yet
    rerun_log.logged("page", lambda: Memo("test.trim0", 10**6).get("a", lambda: 1))
    assert bootstrap._last_trim[0] == before
    monkeypatch.setattr(bootstrap, "TRIM_ABOVE_MB", 0)
    rerun_log.logged("page", lambda: None)
    assert bootstrap._last_trim[0] == before
    m = Memo("test.trim", 10**6)
    rerun_log.logged("page", lambda: m.get("a", lambda: 1))
    for t in [t for t in threading.enumerate() if t.name == "malloc-trim"]:
        t.join(10)
    assert bootstrap._last_trim[0] > before


_HOLES = """
import sys
from viz.common import bootstrap
if sys.argv[1] == "fixed":
    assert bootstrap.limit_mmap_threshold()
big = b"x" * (24 << 20)
del big  # a big block freed: glibc's own threshold follows it up to 24 MB
blocks, keep = [], []
for _ in range(12):
    blocks.append(b"x" * (6 << 20))  # 72 MB in 6 MB blocks ...
    keep.append(bytearray(4096))  # ... each followed by a small block that stays
before = bootstrap.rss_mb()
del blocks
print(before - bootstrap.rss_mb())
"""


@pytest.mark.skipif(bootstrap._libc() is None, reason="glibc only (the server's Linux)")
def test_blocks_over_the_mmap_threshold_are_handed_back_when_freed():
    """With the server's fixed threshold (bootstrap.limit_mmap_threshold) a freed 6 MB block
    leaves the process at once; with glibc's moving one, after a larger block was freed, the
    same blocks stay as holes in the heap."""
    import subprocess
    import sys
    from pathlib import Path

    def freed(mode: str) -> float:
        out = subprocess.run([sys.executable, "-c", _HOLES, mode], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parents[1], timeout=120, check=True)
        return float(out.stdout.strip())
    assert freed("fixed") > 60  # MB of the 72
    assert freed("moving") < 12
