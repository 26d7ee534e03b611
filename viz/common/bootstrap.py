"""Process-wide setup the entry point runs once: JAX's persistent compilation cache.

A restarted server then loads its compiled programs from disk instead of compiling them
again (4 first runs: 4.4 s -> 1.4 s in a fresh process).  JAX skips compiles under 1 s by
default; ours take 0.2-0.7 s each, hence the thresholds of 0.

XLA's CPU fusion emitters are turned off (``XLA_FLAGS``, before JAX makes its CPU client):
the older emitters compile our programs in about 60 % of the time (the default page's 8
programs: 0.7 vs 1.2 s) and give the same trajectories, bit for bit, for every ready scene;
a run of 8 x 100,000 steps takes ~25 % longer (28 vs 22 ms).  A server compiles far more
often than it runs long (benchmarks/results/cold_start.md).

``LANDSCAPE_JAX_CACHE_DIR`` moves the persistent cache (bench_page.py points it at an empty
folder to measure a cold start).  ``LANDSCAPE_NO_WARMUP=1`` (the tests set it): no persistent
cache and no warm-up thread, so a test process keeps JAX's configuration as it is.

Memory: glibc keeps freed memory in per-thread arenas (Streamlit runs each session in a
thread) and returns little of it to the system, so a server that evicts from its caches
still looks as large as its peak.  :func:`limit_arenas` caps the arenas at 2,
:func:`limit_mmap_threshold` gives blocks of 4 MB or more pages of their own, and
:func:`trim_memory` hands free heap pages back: after a rerun that computed something (a heavy
rerun's compiles and trajectories leave 200-300 MB of freed heap) while the process holds more
than ``TRIM_ABOVE_MB``, in a thread of its own so no visitor waits for it (a trim of a ~800 MB
heap takes ~0.1-0.4 s of one core, hence not below that), and otherwise at most every
``TRIM_EVERY_S``.  :func:`freeze_imports` takes the imported modules out of Python's full
collections, which Streamlit runs after every script run (median 78 -> 9.5 ms on a live server).
:func:`no_delay` turns Nagle's algorithm off on the server's connections (Streamlit 1.67 leaves
it on: a shared link's first load ~240 ms sooner)."""

from __future__ import annotations

import ctypes
import gc
import importlib
import logging
import os
import socket
import tempfile
import threading
import time

CACHE_DIR = os.environ.get("LANDSCAPE_JAX_CACHE_DIR") or os.path.join(tempfile.gettempdir(),
                                                                      "loss-landscape-jax-cache")
TRIM_EVERY_S = 20.0
TRIM_ABOVE_MB = 640  # a heavy rerun (~300 MB for a moment) then still fits in 1 GB
XLA_FLAG = "--xla_cpu_use_fusion_emitters=false"
MMAP_THRESHOLD = 4 << 20  # bytes: blocks this large get pages of their own (see limit_mmap_threshold)
_M_ARENA_MAX, _M_MMAP_THRESHOLD = -8, -3  # glibc's mallopt parameters
_last_trim = [0.0]
_trim_lock = threading.Lock()
_trimming = threading.Lock()  # held while a background trim runs


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): nothing to tune
        return None


def limit_arenas(n: int = 2) -> bool:
    libc = _libc()
    return bool(libc and hasattr(libc, "mallopt") and libc.mallopt(_M_ARENA_MAX, int(n)))


def limit_mmap_threshold(nbytes: int = MMAP_THRESHOLD) -> bool:
    """Blocks of ``nbytes`` or more are mapped pages of their own, handed back on ``free``.
    glibc's default threshold moves up to the largest block freed so far (up to 32 MB): on a
    server that once freed a big pickle, every later multi-megabyte block (a run's arrays, a
    figure's JSON) is cut from the heap and leaves a hole there.  Fixed at 4 MB it costs
    nothing measurable (a 100,000-step scene's compute and figure: 190 ms either way; at 256 kB
    or 1 MB, 375 ms: the page faults of many mid-sized arrays)."""
    libc = _libc()
    return bool(libc and hasattr(libc, "mallopt") and libc.mallopt(_M_MMAP_THRESHOLD, int(nbytes)))


def trim_memory(force: bool = False) -> bool:
    """Return free heap pages to the system (glibc's ``malloc_trim``), at most every
    TRIM_EVERY_S seconds unless ``force``; True when it ran."""
    now = time.monotonic()
    with _trim_lock:
        if not force and now - _last_trim[0] < TRIM_EVERY_S:
            return False
        _last_trim[0] = now
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    t0, rss0 = time.perf_counter(), rss_mb()
    libc.malloc_trim(0)  # ctypes lets go of the GIL while it runs
    logging.getLogger("landscape.memory").debug(
        "malloc_trim %.0f ms, rss %.0f -> %.0f MB", 1e3 * (time.perf_counter() - t0), rss0, rss_mb())
    return True


def trim_after(heavy: bool) -> None:
    """After a rerun: a rerun that computed (``heavy``) while the process holds more than
    ``TRIM_ABOVE_MB`` has its freed heap handed back now, in a background thread (one at a
    time; a trim already under way covers this one too); any other rerun trims at most every
    ``TRIM_EVERY_S``, in the script's thread."""
    if not heavy or rss_mb() <= TRIM_ABOVE_MB:
        trim_memory()
        return
    if not _trimming.acquire(blocking=False):
        return

    def run():
        try:
            trim_memory(force=True)
        finally:
            _trimming.release()
    threading.Thread(target=run, name="malloc-trim", daemon=True).start()


def rss_mb() -> float:
    """This process's resident memory in MB (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def quiet() -> bool:
    """True when the tests asked for no background work and no JAX configuration."""
    return bool(os.environ.get("LANDSCAPE_NO_WARMUP"))


def configure_jax() -> bool:
    """Turn on the persistent compilation cache and the compile-time flag; False when skipped
    or unsupported."""
    if quiet():
        return False
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_use_fusion_emitters" not in flags:  # (read when JAX makes its CPU client)
        os.environ["XLA_FLAGS"] = (flags + " " + XLA_FLAG).strip()
    try:
        import jax

        jax.config.update("jax_compilation_cache_dir", CACHE_DIR)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except Exception:  # noqa: BLE001  (a JAX without these options: compile as usual)
        return False
    return True


_configured = [False]


def configure_process():
    """Once per server process: our log lines on stderr (``LANDSCAPE_LOG_LEVEL``), at most
    two malloc arenas and a fixed mmap threshold."""
    if _configured[0]:
        return
    _configured[0] = True
    from viz.common import rerun_log
    rerun_log.configure()
    limit_arenas()
    limit_mmap_threshold()


_frozen = [False]


def freeze_imports() -> bool:
    """Once per server process: Python's collector stops scanning what exists now (JAX,
    Streamlit, Plotly and the rest of the imports: ~160,000 objects); True when it froze.
    Streamlit runs a full collection after every script run (``runner.postScriptGC``), holding
    the GIL while the run's last messages go out: on a live server (the default page, then 16
    learning-rate changes) a median of 78 ms (at most 188) each, 9.5 ms (at most 21) once they
    are frozen.  Frozen objects are never collected: what exists when the first page starts,
    the imports and the server's own objects, which live as long as the process.  No
    collection first (~50 ms of a new server's first page: the imports leave little garbage)."""
    if _frozen[0]:
        return False
    _frozen[0] = True
    importlib.import_module("jax")  # (the bulk of it; the pages import it anyway)
    gc.freeze()
    return True


def no_delay() -> int:
    """TCP_NODELAY on this process's listening TCP sockets (the server's; Linux hands it on to
    every connection they accept later) and on the connections they have accepted so far;
    returns how many sockets it set (0 where there is no /proc).

    Streamlit 1.67's server binds its socket itself, as ``socket.socket(family)``: protocol 0,
    so asyncio's transports, which set TCP_NODELAY only on sockets whose protocol is TCP, leave
    Nagle's algorithm on.  A response written in two pieces (headers, then body) on a
    connection the browser reuses then waits for the browser's delayed ACK, ~40 ms: measured
    here, a keep-alive request to ``/_stcore/health`` took 44 ms (0.4 ms with the option set),
    and a shared link's first load, whose scripts and styles come over reused connections,
    reached its chart 1,247 -> 1,010 ms and its whole page 1,984 -> 1,660 ms (medians of 8
    alternate loads, benchmarks/results/HISTORY.md).  Each socket is reached through a
    duplicate of its descriptor (the option belongs to the socket, not the descriptor), which
    is closed again; the server's own objects are not touched."""
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return 0
    listening, accepted = [], []
    for fd in fds:
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            s = socket.socket(fileno=os.dup(fd))
        except OSError:  # (closed meanwhile, or not a socket Python can wrap)
            continue
        if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM:
            is_listening = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            (listening if is_listening else accepted).append(s)
        else:
            s.close()
    ports = {s.getsockname()[1] for s in listening}
    chosen = listening + [s for s in accepted if _local_port(s) in ports]
    for s in chosen:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for s in listening + accepted:
        s.close()
    return len(chosen)


def _local_port(s: socket.socket) -> int | None:
    try:
        return s.getsockname()[1]
    except OSError:
        return None


_no_delay_done = [False]


def _under_app_test() -> bool:
    """Streamlit's AppTest (the tests run pages in their own process: nothing of it frozen)."""
    try:
        from streamlit import config
        return bool(config.get_option("global.appTest"))
    except Exception:  # noqa: BLE001
        return False


def setup():
    """What the server needs before the first page runs (app.py calls it on every script run;
    it is idempotent)."""
    configure_jax()
    configure_process()
    if not _under_app_test():
        freeze_imports()
        if not _no_delay_done[0]:
            _no_delay_done[0] = True
            no_delay()
