"""Evaluate a landscape on a grid in one batched, jitted call."""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np

from landscapes import compiled


@compiled.jit(static_argnames=("objective", "n"))
def _grid(objective, params, bounds, n):
    (x0, x1, y0, y1) = bounds
    xs = jnp.linspace(x0, x1, n)
    ys = jnp.linspace(y0, y1, n)
    X, Y = jnp.meshgrid(xs, ys)  # (n, n): [iy, ix]
    pts = jnp.stack([X, Y], axis=-1).reshape(-1, 2)  # (n*n, 2)
    z = jax.vmap(lambda p: objective(p, params))(pts).reshape(n, n)
    return xs, ys, z


def evaluate_grid(landscape, n: int = 150):
    """Return ``(xs (n,), ys (n,), z (n, n))`` with ``z[iy, ix] = f(xs[ix], ys[iy])``.

    Values that are not finite are returned as NaN.
    """
    n = int(n)
    if not 2 <= n <= 1024:
        raise ValueError(f"grid size n={n} is out of range: valid range is [2, 1024]")
    (x0, x1), (y0, y1) = landscape.domain
    # NumPy's float32 scalars: the program sees the same float32 values as from jnp.float32, and
    # a new server's first grid skips the eager conversion's compile
    params = {k: np.float32(v) for k, v in landscape.objective_params.items()}
    bounds = tuple(np.float32(v) for v in (x0, x1, y0, y1))
    xs, ys, z = _grid(landscape.objective, params, bounds, n)
    z = np.asarray(z, dtype=np.float32)
    z = np.where(np.isfinite(z), z, np.nan).astype(np.float32)
    return np.asarray(xs), np.asarray(ys), z
