"""The default scene shipped with the app (viz/race/shipped.py): it is today's default scene, a
server's first page takes it instead of compiling, and a server whose numbers differ puts its
own in its place."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from landscapes import compiled
from viz.common import chart
from viz.race import cached, shipped

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "run `python -m viz.race.shipped` and commit viz/race/default_scene.npz"


@pytest.fixture(scope="module")
def computed() -> shipped.Shipped:
    return shipped.compute_now()


@pytest.fixture
def fresh_caches():
    """The race's caches hold nothing of the default scene before and after the test (what a
    test puts there would otherwise reach the next test in this process)."""
    memos = (cached.cached_run.memo, cached.cached_grid.memo, cached._picture.memo, chart.SPECS,
             cached.chart_extras.memo, cached.main_figure_spec.memo)
    for m in memos:
        m.clear()
    yield
    for m in memos:
        m.clear()


def test_the_shipped_file_is_for_todays_default_scene_and_versions():
    assert shipped.FILE.exists(), REGENERATE
    assert shipped.load() is not None, f"made for another default scene, JAX or NumPy: {REGENERATE}"


PREFIX = 200  # steps compared (see below)


def test_it_holds_the_default_scenes_runs_and_grid(computed):
    """What this process computes, run by run (bit for bit where the file was written; another
    CPU may round the last bits otherwise, which a server checks for itself: see below).  The
    first ``PREFIX`` steps of each run: after them, another CPU's last bits grow (on an AMD EPYC,
    RMSProp's path differs from step 572 on and by 1e-3 at step 1,150; AdaGrad's from 1,260,
    AdaDelta's from 1,522); any change to a rule, a default or the scene changes the first steps."""
    got = shipped.load()
    scene = shipped.default_scene()
    assert len(got.runs) == len(computed.runs) == len(scene.runs) == 8
    for run, a, b in zip(scene.runs, got.runs, computed.runs):
        assert (a.optimizer, a.landscape, a.hyperparams, a.diverged_at) == \
            (b.optimizer, b.landscape, b.hyperparams, b.diverged_at)
        assert a.optimizer == run.optimizer and a.steps == scene.steps
        for f in shipped.FIELDS:
            x, y = getattr(a, f), getattr(b, f)
            assert x.dtype == y.dtype and x.shape == y.shape, (a.optimizer, f)
            np.testing.assert_allclose(x[:PREFIX], y[:PREFIX], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{a.optimizer} {f}: {REGENERATE}")
    # the grid: the server's XLA flag (bootstrap) moves its last bits; this process has XLA's defaults
    for x, y in zip(got.grid, computed.grid):
        assert x.dtype == y.dtype == np.float32 and x.shape == y.shape
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def test_a_file_for_another_scene_or_a_damaged_one_is_not_used(tmp_path, caplog):
    other = tmp_path / "other.npz"
    meta = dict(shipped.fingerprint(), query="v=1&ls=quadratic", runs=[])
    np.savez_compressed(other, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    assert shipped.load(other) is None
    bad = tmp_path / "bad.npz"
    bad.write_bytes(shipped.FILE.read_bytes()[:5000])
    with caplog.at_level(logging.WARNING, logger="landscape.race"):
        assert shipped.load(bad) is None
    assert "unreadable" in caplog.text
    assert shipped.load(tmp_path / "none.npz") is None


def test_the_caches_serve_what_was_put_there_without_computing(computed, fresh_caches):
    got = shipped.load()
    scene = shipped.default_scene()
    L = cached.landscape(scene.landscape_key())
    assert not any(cached.cached_run.has(*cached.run_args(scene, L, r)) for r in scene.runs)
    assert cached.put_shipped(got) and not cached.put_shipped(None)
    compiles = []
    with compiled.watch(compiles.append):
        results = cached.scene_results(scene, L)
        grid = cached.cached_grid(scene.landscape_key())
    assert compiles == []
    assert got.same(results, grid)


def test_a_server_puts_its_own_numbers_where_the_files_differ(computed, fresh_caches, caplog):
    scene = shipped.default_scene()
    L = cached.landscape(scene.landscape_key())
    assert cached.check_shipped(None, computed.runs, computed.grid)  # nothing was shipped
    assert cached.check_shipped(computed, computed.runs, computed.grid)
    xy = np.array(computed.runs[3].xy)
    xy[500, 0] = np.nextafter(xy[500, 0], np.float32(np.inf))  # one bit of one number
    used = shipped.Shipped(computed.runs[:3] + (replace(computed.runs[3], xy=xy),) + computed.runs[4:],
                           computed.grid)
    assert not used.same(computed.runs, computed.grid)
    cached.put_shipped(used)
    chart.SPECS.get("a figure drawn from the file", lambda: {"data": []})
    with caplog.at_level(logging.WARNING, logger="landscape.race"):
        assert not cached.check_shipped(used, computed.runs, computed.grid)
    assert "differs from this machine's" in caplog.text
    assert len(chart.SPECS) == 0
    assert computed.same(cached.scene_results(scene, L), cached.cached_grid(scene.landscape_key()))


_SERVER_FIRST_PAGE = """
from viz.common import bootstrap
assert bootstrap.configure_jax()
from landscapes import compiled
from viz.race import cached, shipped
scene = shipped.default_scene()
L = cached.landscape(scene.landscape_key())
made = compiled.PROGRAMS.made
results = cached.scene_results(scene, L)
assert compiled.PROGRAMS.made == made, compiled.PROGRAMS.made - made
assert shipped.load().same(results, cached.cached_grid(scene.landscape_key()))
print("ok")
"""


def test_a_new_servers_first_page_compiles_nothing(tmp_path):
    """A server (bootstrap on, its compile cache empty): the default scene's runs come from the file."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANDSCAPE_NO_WARMUP", "XLA_FLAGS")}
    env.update(LANDSCAPE_JAX_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _SERVER_FIRST_PAGE], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
