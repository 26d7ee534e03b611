"""Scene -> landscape and trajectories, as plain NumPy arrays.

Everything here takes plain, hashable arguments (the keys a Scene hands out),
so the page can cache it with ``st.cache_data`` and a test can call it
directly.  Nothing is jitted here: ``optimizers.run`` owns the compiled
programs and reuses them whenever only numbers change.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import landscapes
import optimizers
from landscapes import Landscape
from viz.race.scene import CUSTOM, Scene

GRID_N = 300  # landscape resolution: drawn as a ~10-30 kB PNG, so detail is cheap


def landscape_from_key(key: tuple) -> Landscape:
    """``Scene.landscape_key()`` -> Landscape.  Raises ValueError for a formula that
    compiles but is unusable (e.g. not finite anywhere on its domain)."""
    kind, name_or_formula, extra = key
    if kind == CUSTOM:
        x0, x1, y0, y1 = extra
        return landscapes.from_expression(name_or_formula, domain=((x0, x1), (y0, y1)))
    return landscapes.get(name_or_formula, **dict(extra))


def landscape_title(key: tuple) -> str:
    """A landscape's name in a sentence (a progress line): its title, or "your formula"."""
    return "your formula" if key[0] == CUSTOM else landscape_from_key(key).title


def landscape_of(scene: Scene) -> Landscape:
    return landscape_from_key(scene.landscape_key())


def start_of(scene: Scene, L: Landscape) -> tuple[float, float]:
    return scene.start if scene.start is not None else L.start


# One run's arrays are the core's Trajectory (row k is the point after k updates).
RunResult = optimizers.Trajectory


def run_kwargs(run_key: tuple, shared_key: tuple) -> dict:
    """A run's shared switches as optimizers.run / sweep take them (a raw run ignores
    the shared clipping and noise)."""
    optimizer, lookahead, raw, _ = run_key
    schedule, schedule_params, clip, clip_at, noise, seed = shared_key
    kw = dict(schedule=schedule, schedule_params=dict(schedule_params), seed=seed,
              lookahead=lookahead and optimizer != "ranger")
    if not raw:
        if clip == "value":
            kw["clip_value"] = clip_at
        elif clip == "norm":
            kw["clip_norm"] = clip_at
        kw["noise"] = noise
    return kw


def run_one(landscape_key: tuple, run_key: tuple, shared_key: tuple, start: tuple[float, float],
            steps: int) -> RunResult:
    """One run from plain values: ``Run.key()``, ``Scene.shared_key()``."""
    optimizer, _, _, hyperparams = run_key
    L = landscape_from_key(landscape_key)
    tr = optimizers.run(L, optimizer, start=start, steps=steps,
                        **run_kwargs(run_key, shared_key), **dict(hyperparams))
    # The engine gives views of its packed rows (six float32 a row): every pass over a column
    # strides 24 bytes.  The race's figures pass over them many times (a step's length, the
    # distance to the minima, the path's arc length, a digest): contiguous copies, once (8 runs
    # of 10,000 steps: ~0.2 ms), made the default figure's pieces ~3 ms sooner.
    return dataclasses.replace(tr, **{k: read_only(getattr(tr, k)) for k in ("xy", "loss", "grad", "lr")})


def read_only(a: np.ndarray) -> np.ndarray:
    """``a`` contiguous (a copy only if it is not) and read-only, as a run's arrays are (a run's
    figure pieces are keyed by a digest made once per run)."""
    out = np.ascontiguousarray(a)
    out.flags.writeable = False
    return out


def run_scene(scene: Scene, L: Landscape | None = None) -> list[RunResult]:
    """All of a scene's runs (uncached: tests and notebooks)."""
    L = L or landscape_of(scene)
    start = start_of(scene, L)
    return [run_one(scene.landscape_key(), r.key(), scene.shared_key(), start, scene.steps)
            for r in scene.runs]


def grid_of(landscape_key: tuple, n: int = GRID_N):
    """``(xs (n,), ys (n,), z (n, n))`` float32, ``z[iy, ix]``; NaN where not finite."""
    L = landscape_from_key(landscape_key)
    xs, ys, z = L.grid(n)
    return xs.astype(np.float32), ys.astype(np.float32), z.astype(np.float32)

