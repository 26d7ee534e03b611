"""Slices of the loss landscape (Li et al. 2018): directions in weight space, projections
of a weight trajectory onto a plane, and the loss on a grid of that plane."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from landscapes import compiled
from landscapes.network.data import SEED_RANGE, as_dataset
from landscapes.params import number_in, whole
from landscapes.network.mlp import (ACTIVATIONS, _as_flat, as_tree, _loss_and_correct, flatten, forward,
                                   shapes_of, unflatten, validate_architecture)

# --- directions ------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Directions:
    """Two directions in weight space, flat float32 vectors of length n_params.

    kind: "random" (filter-normalised Gaussian) or "pca" (orthonormal principal components).
    explained_variance_ratio: (2,) for "pca" (the share of the path's variance along each), else None.
    """

    d1: np.ndarray
    d2: np.ndarray
    kind: str
    explained_variance_ratio: np.ndarray | None = None


def filter_normalize(direction, params):
    """Li et al.'s filter normalisation of one direction tree against ``params``.

    For each dense layer's weight matrix ``w`` (n_in, n_out), a *filter* is one output
    neuron's incoming weight vector, a column ``w[:, j]``; the direction's column j is
    rescaled to the norm of ``w[:, j]``.  Bias entries are set to zero: like the
    paper (which zeroes bias and batch-norm directions), the slice only moves weights.
    """
    out = []
    for d, p in zip(direction, params):
        d_w = np.asarray(d["w"], np.float64)
        w = np.asarray(p["w"], np.float64)
        d_norm = np.linalg.norm(d_w, axis=0, keepdims=True)
        w_norm = np.linalg.norm(w, axis=0, keepdims=True)
        scaled = d_w * (w_norm / np.where(d_norm > 0, d_norm, 1.0))
        out.append({"w": scaled.astype(np.float32), "b": np.zeros(np.shape(p["b"]), np.float32)})
    return out


def random_directions(params, seed: int = 0) -> Directions:
    """Two filter-normalised random Gaussian directions around ``params`` (a tree).

    Each is drawn from N(0, I) (NumPy PCG64 seeded by ``[seed, 2]``) and then
    filter-normalised (``filter_normalize``): every column of every weight matrix gets
    the norm of the same column of the weights, and biases do not move.  In many
    dimensions two such directions are nearly orthogonal but not exactly; ``project``
    solves least squares, so it does not assume they are.
    """
    rng = np.random.default_rng([whole(seed, *SEED_RANGE, "seed"), 2])
    tree = [{k: np.asarray(layer[k], np.float32) for k in ("w", "b")} for layer in params]
    dirs = []
    for _ in range(2):
        raw = [{"w": rng.standard_normal(layer["w"].shape), "b": np.zeros(layer["b"].shape)}
               for layer in tree]
        dirs.append(flatten(filter_normalize(raw, tree)))
    return Directions(dirs[0], dirs[1], "random")


def pca_directions(weight_trajectory) -> Directions:
    """The first two principal components of an optimisation path (Li et al., section 7).

    ``weight_trajectory`` (n_rows, n_params), row -1 the final weights (rows that are
    not finite, e.g. after a divergence, are left out: the last finite row is final).
    The rows ``θ_i - θ_final`` are centred (as the paper's code, which uses sklearn's
    PCA, does) and decomposed by SVD; d1, d2 are the two leading right singular
    vectors (orthonormal), each signed so that the path's first row has a positive
    coordinate.  ``explained_variance_ratio`` is each one's share of the total
    variance: in [0, 1] and decreasing.
    """
    m = np.asarray(weight_trajectory, np.float64)
    if m.ndim != 2:
        raise ValueError(f"a weight trajectory of shape (n_rows, n_params) is needed, got {m.shape}")
    m = m[np.isfinite(m).all(axis=1)]
    if m.shape[0] < 3:
        raise ValueError(f"PCA directions need at least 3 finite rows of weights, got {m.shape[0]}")
    diffs = m - m[-1]
    centred = diffs - diffs.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s**2
    total = var.sum()
    if not total > 0:
        raise ValueError("the weights never moved: the trajectory has no principal directions")
    ratio = (var[:2] / total).astype(np.float32)
    comps = vt[:2]
    first = centred[0] @ comps.T
    comps = comps * np.where(first < 0, -1.0, 1.0)[:, None]
    return Directions(comps[0].astype(np.float32), comps[1].astype(np.float32), "pca", ratio)


def project(weight_trajectory, center, d1, d2) -> np.ndarray:
    """``(n_rows, 2)`` float32 coordinates (α, β) of each row in the plane ``center + α d1 + β d2``.

    Least squares, ``argmin ‖θ - center - α d1 - β d2‖``, through the 2x2 Gram matrix
    (float64): exact for any two independent directions, and the plain dot products
    ``(θ - center)·d`` when d1, d2 are orthonormal (PCA).  ``center`` and the
    directions may be trees or flat vectors.
    """
    traj = np.asarray(weight_trajectory, np.float64)
    if traj.ndim == 1:
        traj = traj[None]
    size = traj.shape[1]
    c = _as_flat(center, size, "center").astype(np.float64)
    D = np.stack([_as_flat(d1, size, "d1"), _as_flat(d2, size, "d2")]).astype(np.float64)  # (2, P)
    gram = D @ D.T
    if abs(np.linalg.det(gram)) <= 1e-12 * (gram[0, 0] * gram[1, 1]):
        raise ValueError("d1 and d2 are parallel (or zero): they do not span a plane")
    rhs = (traj - c) @ D.T  # (n, 2)
    return np.linalg.solve(gram, rhs.T).T.astype(np.float32)


def span_around(*coords, margin: float = 0.25) -> tuple[float, float, float, float]:
    """Bounds ``(α_min, α_max, β_min, β_max)`` framing one or more projected paths
    (``(n, 2)`` arrays from ``project``) and the origin, widened by ``margin`` times their
    extent on each side: the ``span`` of a ``loss_slice`` that shows them all."""
    pts = [np.zeros((1, 2))] + [np.asarray(c, np.float64).reshape(-1, 2) for c in coords]
    pts = np.concatenate(pts)
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-3)
    lo, hi = np.clip(lo - pad, -1e4, 1e4), np.clip(hi + pad, -1e4, 1e4)
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


# --- slices -------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Slice:
    """The loss on the plane ``center + α d1 + β d2``.

    alphas (n,), betas (n,) float32; loss (n, n) and accuracy (n, n) float32 with
    ``loss[i_beta, i_alpha]`` (rows are β, the y axis), NaN where not finite;
    center_loss, center_accuracy: the values at α = β = 0; split: "train" or "val".
    """

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    center_loss: float
    center_accuracy: float
    split: str = "train"


SLICE_N_RANGE = (3, 201)
# Bytes of hidden activations per batch of grid points: the grid is one jitted call,
# vmapped in batches of this size (lax.map).  Small enough to stay in cache: on the digits
# MLP (2 CPU cores) a 41x41 grid takes 0.15 s in batches of ~16 points, 1.1 s all at once.
SLICE_MEMORY = 16 * 2**20


def _bounds(span) -> tuple[float, float, float, float]:
    if isinstance(span, (int, float, np.number)) and not isinstance(span, bool):
        s = number_in(span, 1e-6, 1e4, "span")
        return (-s, s, -s, s)
    try:
        vals = tuple(number_in(v, -1e4, 1e4, "span bound") for v in span)
    except TypeError:
        raise ValueError(f"span must be a number or (alpha_min, alpha_max, beta_min, beta_max), "
                         f"got {span!r:.60}") from None
    if len(vals) != 4 or not (vals[0] < vals[1] and vals[2] < vals[3]):
        raise ValueError("span bounds must be (alpha_min, alpha_max, beta_min, beta_max) with min < max")
    return vals


@compiled.jit(static_argnames=("activation", "shapes", "n", "batch"))
def _slice(center, d1, d2, alphas, betas, x, y, activation, shapes, n, batch):
    shapes = [dict(s) for s in shapes]
    A, B = jnp.meshgrid(alphas, betas)  # (n, n): [i_beta, i_alpha]
    ab = jnp.stack([A.ravel(), B.ravel()], axis=1)  # (n*n, 2)

    # The first layer is linear in (α, β): x (W + α D1 + β D2) = xW + α xD1 + β xD2,
    # so its three products are computed once, not once per grid point.
    P = [unflatten(v, shapes) for v in (center, d1, d2)]
    z0, z1, z2 = (x @ p[0]["w"] for p in P)
    act = ACTIVATIONS[activation]

    def point(ab):
        a, b = ab[0], ab[1]
        params = unflatten(center + a * d1 + b * d2, shapes)
        h = z0 + a * z1 + b * z2 + params[0]["b"]
        for layer in params[1:]:
            h = act(h) @ layer["w"] + layer["b"]
        return _loss_and_correct(h, y)

    loss_grid, acc_grid = jax.lax.map(point, ab, batch_size=batch)
    c_loss, c_acc = _loss_and_correct(forward(P[0], x, activation), y)
    return loss_grid.reshape(n, n), acc_grid.reshape(n, n), c_loss, c_acc


def loss_slice(dataset, hidden: Sequence[int], activation: str, center_params, d1, d2,
               span=1.0, n: int = 41, split: str = "train") -> Slice:
    """The loss (and accuracy) on an ``n x n`` grid of the plane through ``center_params``.

    Args:
      dataset: a name from ``dataset_names()`` or a ``Dataset``.
      hidden, activation: the architecture ``center_params`` belongs to.
      center_params: the centre θ* (a tree or a flat vector), e.g. a run's final weights.
      d1, d2: the directions (flat vectors, e.g. from ``random_directions`` or
        ``pca_directions``, or trees).
      span: α, β ∈ [-span, span], or explicit bounds ``(α_min, α_max, β_min, β_max)``
        (e.g. to frame a projected trajectory).
      n: grid points per axis, 3 to 201 (odd n puts a point at the centre).
      split: evaluate on "train" (the paper's choice) or "val".

    The whole grid is one jitted call: ``vmap`` over grid points, in batches sized so
    the activations stay under ``SLICE_MEMORY`` (``lax.map``), no Python loop.
    """
    ds = as_dataset(dataset)
    hidden, activation = validate_architecture(hidden, activation)
    n = whole(n, *SLICE_N_RANGE, "n")
    a0, a1, b0, b1 = _bounds(span)
    x, y = ds.split(split)
    tree = as_tree(center_params, ds, hidden)
    center = flatten(tree)
    size = center.size
    if not np.isfinite(center).all():
        raise ValueError("center_params has values that are not finite")
    v1, v2 = _as_flat(d1, size, "d1"), _as_flat(d2, size, "d2")
    alphas = np.linspace(a0, a1, n, dtype=np.float32)
    betas = np.linspace(b0, b1, n, dtype=np.float32)
    if n % 2 and a0 == -a1:
        alphas[n // 2] = 0.0  # exactly 0, not a rounding error away
    if n % 2 and b0 == -b1:
        betas[n // 2] = 0.0
    per_point = 4 * x.shape[0] * (max(hidden) * 3 + ds.n_classes * 2)
    batch = int(max(1, min(n * n, SLICE_MEMORY // per_point)))
    shapes = tuple(tuple(sorted(s.items())) for s in shapes_of(tree))
    lg, ag, cl, ca = _slice(center, v1, v2, alphas, betas, x, y, activation=activation,
                            shapes=shapes, n=n, batch=batch)
    lg = np.asarray(lg, np.float32)
    lg = np.where(np.isfinite(lg), lg, np.nan).astype(np.float32)
    return Slice(alphas, betas, lg, np.asarray(ag, np.float32), float(cl), float(ca), split)
