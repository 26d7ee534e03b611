"""The server's process setup (viz/common/bootstrap.py): the compile-time XLA flag it sets
changes no trajectory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from viz.common import bootstrap
from viz.race import compute, presets

ROOT = Path(__file__).resolve().parents[1]

_SERVER_RUNS = """
import sys
import numpy as np
from viz.common import bootstrap
assert bootstrap.configure_jax(), "the server's JAX setup was skipped"
import os
assert bootstrap.XLA_FLAG in os.environ["XLA_FLAGS"].split(), os.environ["XLA_FLAGS"]
from viz.race import compute, presets
out = {}
for name in sys.argv[2:]:
    for i, r in enumerate(compute.run_scene(presets.PRESETS[name].scene)):
        out[f"{name}/{i}"] = np.asarray(r.xy)
np.savez(sys.argv[1], **out)
"""


def test_the_servers_xla_flag_changes_no_trajectory(tmp_path):
    """A server (bootstrap on: XLA's CPU fusion emitters off) draws, bit for bit, the runs a
    process with XLA's defaults computes (this test process: LANDSCAPE_NO_WARMUP)."""
    names = [presets.DEFAULT_PRESET, "ravine_momentum", "clipping_cliff", "noise_escape"]
    env = {k: v for k, v in os.environ.items() if k not in ("LANDSCAPE_NO_WARMUP", "XLA_FLAGS")}
    env.update(LANDSCAPE_JAX_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    out = tmp_path / "server.npz"
    subprocess.run([sys.executable, "-c", _SERVER_RUNS, str(out), *names], env=env, cwd=ROOT,
                   check=True, timeout=300)
    server = np.load(out)
    assert bootstrap.XLA_FLAG not in os.environ.get("XLA_FLAGS", "")  # (this side: the defaults)
    n = 0
    for name in names:
        for i, r in enumerate(compute.run_scene(presets.PRESETS[name].scene)):
            np.testing.assert_array_equal(server[f"{name}/{i}"], np.asarray(r.xy), err_msg=f"{name} run {i}")
            n += 1
    assert n == len(server.files) >= 8


_SERVER_GC = """
import gc, weakref
from viz.common import bootstrap
bootstrap.setup()  # as app.py's first line on a server
frozen = gc.get_freeze_count()
assert frozen > 50_000, frozen  # JAX, Streamlit and the rest of the imports
class Node:
    pass
a = Node()
a.me = a  # cyclic garbage made after the freeze ...
gone = weakref.ref(a)
del a
gc.collect()
assert gone() is None  # ... is still collected
bootstrap.setup()  # every script run calls it: nothing more is frozen
assert gc.get_freeze_count() == frozen
print("ok")
"""


def test_a_server_freezes_its_imports_once_and_still_collects_new_garbage(tmp_path):
    """Streamlit's full collection after each script run skips the frozen imports (a median of
    78 ms -> 9.5 ms on a live server); what a page makes later is collected as before."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANDSCAPE_NO_WARMUP", "XLA_FLAGS")}
    env.update(LANDSCAPE_JAX_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _SERVER_GC], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_a_page_run_by_apptest_freezes_nothing(tmp_path):
    """The tests' own processes (AppTest runs app.py in them) keep Python's collector as it is:
    a test may wait for a cycle made before the first page to be collected."""
    code = ("import gc\nfrom streamlit import config\nconfig.set_option('global.appTest', True)\n"
            "from viz.common import bootstrap\nbootstrap.setup()\nprint(gc.get_freeze_count())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LANDSCAPE_NO_WARMUP", "XLA_FLAGS")}
    env.update(PYTHONPATH=str(ROOT), LANDSCAPE_JAX_CACHE_DIR=str(tmp_path / "cache"))  # (as a server)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "0", out.stderr[-2000:]


_RACE_PAGE_IMPORTS = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run()
at.session_state["_chart_first"] = False  # (what the browser's "drawn" report does)
at.run()
assert not at.exception, [e.value for e in at.exception]
print(sorted(m for m in ("pandas", "pyarrow") if m in sys.modules))
"""


def test_the_race_page_imports_no_pandas(tmp_path):
    """Streamlit checks a component's data for data frames, importing pandas and pyarrow, unless
    it is bytes: the race page sends bytes, so a server whose visitors stay on it never imports
    them.  Imported after the freeze (``freeze_imports``) they were ~30,000 more objects for
    every full collection after a script run (61,000 -> 32,000 on a live server)."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(PYTHONPATH=str(ROOT), LANDSCAPE_NO_WARMUP="1", LANDSCAPE_JAX_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", _RACE_PAGE_IMPORTS, str(ROOT / "app.py")], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "[]", (out.stdout[-500:], out.stderr[-2000:])


def _nodelay(s) -> int:
    import socket
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_no_delay_sets_the_servers_listening_socket_and_its_connections_only():
    """A listening socket made as Streamlit 1.67 makes its server's (``socket.socket(family)``:
    protocol 0, so asyncio leaves Nagle's algorithm on): ``no_delay`` sets TCP_NODELAY on it and
    on the connection it accepted; a connection it accepts later inherits it (Linux); a client
    socket of this process, whose own port is not a listening one, is left as it is."""
    import socket
    if not os.path.isdir("/proc/self/fd"):
        assert bootstrap.no_delay() == 0
        return
    server = socket.socket(socket.AF_INET)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    before, _ = server.accept()
    try:
        assert server.proto == 0 and _nodelay(before) == 0 and _nodelay(client) == 0
        assert bootstrap.no_delay() >= 2
        later_client = socket.create_connection(("127.0.0.1", port))
        later, _ = server.accept()
        assert _nodelay(server) == 1 and _nodelay(before) == 1 and _nodelay(later) == 1
        assert _nodelay(client) == 0 and _nodelay(later_client) == 0
        before.sendall(b"still open")  # its descriptor was duplicated, not closed
        assert client.recv(16) == b"still open"
        later_client.close()
        later.close()
    finally:
        for s in (client, before, server):
            s.close()
