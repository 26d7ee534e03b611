"""The default scene's runs and its landscape's grid, computed ahead and shipped with the app
(``default_scene.npz``, ~1.4 MB), so that a new server's first visitor is not kept waiting
while JAX compiles the default page's 9 programs (~1 s of a cold first page; issue 16 asks a
cold start within 2x a warm visit).

Written by ``python -m viz.race.shipped`` (with the server's JAX setup: viz.common.bootstrap).
Used only while it still describes the default scene, computed with the JAX, jaxlib and NumPy
this process has (:func:`fingerprint`); tests/test_shipped.py fails when it no longer does
(a new default scene, a new JAX: run the command again).  A server trusts it for its first
pages only: its warm-up (viz.race.cached) computes the default scene again right after, and
where this machine's numbers differ from the file's in any bit (a CPU of another kind may round
otherwise), it puts its own in the caches and logs a warning.  Pure: no Streamlit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import jax
import jaxlib
import numpy as np

import optimizers
from viz.race import compute, presets
from viz.race.link import to_query_string
from viz.race.scene import Scene

FILE = Path(__file__).with_name("default_scene.npz")
FIELDS = ("xy", "loss", "grad", "lr")  # a Trajectory's arrays
_log = logging.getLogger("landscape.race")


def default_scene() -> Scene:
    return presets.PRESETS[presets.DEFAULT_PRESET].scene


def fingerprint(scene: Scene | None = None) -> dict:
    """What the file's numbers depend on besides the code: the scene, JAX, jaxlib, NumPy."""
    return {"query": to_query_string(scene or default_scene()), "jax": jax.__version__,
            "jaxlib": jaxlib.__version__, "numpy": np.__version__}


@dataclass(frozen=True)
class Shipped:
    """The default scene's runs (one Trajectory per run, in the scene's order) and its
    landscape's grid ``(xs, ys, z)``, as ``compute.run_scene`` and ``compute.grid_of`` give them."""

    runs: tuple[optimizers.Trajectory, ...]
    grid: tuple[np.ndarray, np.ndarray, np.ndarray]

    def same(self, runs, grid) -> bool:
        """Bit for bit the same as ``runs`` and ``grid`` (NaN where they have NaN)."""
        if len(runs) != len(self.runs):
            return False
        for a, b in zip(self.runs, runs):
            if (a.diverged_at, a.landscape, a.optimizer, a.hyperparams) != \
                    (b.diverged_at, b.landscape, b.optimizer, b.hyperparams):
                return False
            if not all(_equal(getattr(a, f), getattr(b, f)) for f in FIELDS):
                return False
        return all(_equal(a, b) for a, b in zip(self.grid, grid))


def _equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def compute_now() -> Shipped:
    """The default scene's runs and grid, computed in this process."""
    scene = default_scene()
    return Shipped(tuple(compute.run_scene(scene)), compute.grid_of(scene.landscape_key()))


def write(path: Path = FILE) -> Shipped:
    """Compute the default scene and write it to ``path`` (what the app ships)."""
    got = compute_now()
    arrays = {f"run{i}_{f}": np.asarray(getattr(r, f)) for i, r in enumerate(got.runs) for f in FIELDS}
    arrays.update(grid_xs=got.grid[0], grid_ys=got.grid[1], grid_z=got.grid[2])
    meta = dict(fingerprint(), runs=[{"diverged_at": r.diverged_at, "landscape": r.landscape,
                                      "optimizer": r.optimizer, "hyperparams": r.hyperparams}
                                     for r in got.runs])
    with open(path, "wb") as f:
        np.savez_compressed(f, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    return got


def load(path: Path = FILE) -> Shipped | None:
    """The shipped results, or None when there are none or they are for another scene, JAX,
    jaxlib or NumPy (or unreadable: logged)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes())
            want = fingerprint()
            made_for = {k: meta.get(k) for k in want}
            if made_for != want:
                _log.info("%s: made for %s, not this default scene or versions: not used", path.name, made_for)
                return None
            runs = tuple(optimizers.Trajectory(**{f: compute.read_only(z[f"run{i}_{f}"]) for f in FIELDS}, **m)
                         for i, m in enumerate(meta["runs"]))
            return Shipped(runs, (z["grid_xs"], z["grid_ys"], z["grid_z"]))
    except FileNotFoundError:
        return None
    except Exception as e:  # noqa: BLE001  (a damaged file: compute as if there were none)
        _log.warning("%s: unreadable (%s): not used", path.name, e)
        return None


if __name__ == "__main__":  # python -m viz.race.shipped
    from viz.common import bootstrap

    bootstrap.configure_jax()  # (compiled as a server compiles)
    write()
    print(f"wrote {FILE} ({FILE.stat().st_size:,} bytes) for {fingerprint()}")
