"""From toy to real: a small neural network, its data, and slices of its loss landscape.

Everything a page needs to race the optimizers on a real model and to draw
the landscape it trains on; the training loop itself is ``optimizers.train``.

    >>> from landscapes import network
    >>> ds = network.load_dataset("digits")          # bundled with scikit-learn, never downloaded
    >>> params = network.init_params(ds.n_features, (64,), ds.n_classes, "relu", seed=0)
    >>> network.evaluate(ds, (64,), "relu", params)  # (loss, accuracy) on the training split
    >>> dirs = network.random_directions(params, seed=0)
    >>> s = network.loss_slice(ds, (64,), "relu", params, dirs.d1, dirs.d2, span=1.0, n=41)
    >>> s.loss.shape                                 # (41, 41): loss[i_beta, i_alpha]
    (41, 41)

Conventions
-----------
Parameters are a pytree: a list with one ``{"w": (n_in, n_out), "b": (n_out,)}``
dict per dense layer, float32; the forward pass is ``h @ w + b``.  The
*flat* form of a parameter tree (weight trajectories, directions) is the
concatenation, layer by layer, of ``w.ravel()`` (row-major) then ``b``:
``flatten`` / ``unflatten`` convert.

Every function returns NumPy arrays (float32) or frozen dataclasses of them,
ready for a Plotly figure builder; grids are indexed ``[i_beta, i_alpha]``
(rows are the y axis), like ``landscapes.evaluate_grid``.

Loss-landscape slices follow Li, Xu, Taylor, Studer & Goldstein (2018),
"Visualizing the Loss Landscape of Neural Nets" (arXiv:1712.09913):
``loss(θ* + α d₁ + β d₂)`` on a grid of (α, β), with d₁, d₂ either two
filter-normalised random directions (section 4) or the first two principal
components of the optimisation path (section 7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "ACTIVATIONS", "DATASETS", "Dataset", "DatasetSpec", "Directions", "Slice",
    "dataset_names", "load_dataset", "make_spirals", "validate_architecture", "param_shapes",
    "n_params", "init_params", "forward", "loss", "accuracy", "evaluate", "flatten", "unflatten",
    "minibatch_indices", "random_directions", "pca_directions", "project", "span_around",
    "loss_slice",
]

# --- datasets ------------------------------------------------------------------------------

DATASETS = ("digits", "moons", "spirals")
# (default samples, default noise, valid noise range) of the generated sets
_GENERATED = {"moons": (1000, 0.2, (0.0, 2.0)), "spirals": (900, 0.2, (0.0, 2.0))}
SAMPLES_RANGE = (60, 20_000)
VAL_FRACTION_RANGE = (0.05, 0.5)
SEED_RANGE = (0, 2**31 - 1)


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that determines a dataset: equal specs give identical arrays."""

    name: str = "digits"
    seed: int = 0
    val_fraction: float = 0.25
    n_samples: int | None = None  # generated sets only (None: the default)
    noise: float | None = None  # generated sets only (None: the default)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification dataset split into train / validation, features standardised.

    x_train (n_train, n_features) float32, y_train (n_train,) int32 in [0, n_classes),
    likewise x_val, y_val.  Features are standardised with the *training* split's mean
    and standard deviation (``mean``, ``std``; a constant feature keeps std 1).
    Equality and hashing go by ``spec`` (the arrays follow from it), so a Dataset is
    a plain cache key.
    """

    spec: DatasetSpec
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    mean: np.ndarray
    std: np.ndarray
    title: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.x_val.shape[0])

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of ``"train"`` or ``"val"``."""
        if which == "train":
            return self.x_train, self.y_train
        if which in ("val", "validation"):
            return self.x_val, self.y_val
        raise ValueError(f"split must be 'train' or 'val', got {which!r:.40}")

    def __eq__(self, other):
        return isinstance(other, Dataset) and other.spec == self.spec

    def __hash__(self):
        return hash(self.spec)


def dataset_names() -> list[str]:
    """Names accepted by ``load_dataset``: the bundled 8x8 digits first (the default)."""
    return list(DATASETS)


def make_spirals(n_samples: int = 900, noise: float = 0.2, seed: int = 0, arms: int = 3):
    """``arms`` interleaved spirals, one class each (the CS231n toy problem).

    Arm k's points sit at radius r ∈ [0, 1] and angle 4r + 2πk/arms (about two
    thirds of a turn), the angle jittered by Gaussian noise of standard deviation
    ``noise`` (radians).  Returns ``x (n, 2) float64, y (n,) int`` with the classes
    as equal as ``n_samples`` allows, in class order.
    """
    rng = np.random.default_rng(seed)
    counts = [n_samples // arms + (k < n_samples % arms) for k in range(arms)]
    xs, ys = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = 4.0 * r + 2.0 * math.pi * k / arms + noise * rng.standard_normal(m)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(m, k))
    return np.concatenate(xs), np.concatenate(ys)


def _int_in(value, low, high, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{what} must be a whole number, got {value!r:.40}")
    if not low <= value <= high:
        raise ValueError(f"{what}={value} is out of range: valid range is [{low}, {high}]")
    return int(value)


def _float_in(value, low, high, what):
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be a number, got {value!r:.40}") from None
    if not (math.isfinite(v) and low <= v <= high):
        raise ValueError(f"{what}={value!r:.40} is out of range: valid range is [{low:g}, {high:g}]")
    return v


def _spec(name, seed, val_fraction, n_samples, noise) -> DatasetSpec:
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r:.60}; choose one of: {', '.join(DATASETS)}")
    seed = _int_in(seed, *SEED_RANGE, "seed")
    val_fraction = _float_in(val_fraction, *VAL_FRACTION_RANGE, "val_fraction")
    if name == "digits":
        if n_samples is not None or noise is not None:
            raise ValueError("the digits dataset is fixed: n_samples and noise apply only to "
                             "'moons' and 'spirals'")
    else:
        default_n, default_noise, noise_range = _GENERATED[name]
        n_samples = _int_in(default_n if n_samples is None else n_samples, *SAMPLES_RANGE, "n_samples")
        noise = _float_in(default_noise if noise is None else noise, *noise_range, "noise")
    return DatasetSpec(name, seed, val_fraction, n_samples, noise)


def load_dataset(name: str = "digits", seed: int = 0, val_fraction: float = 0.25,
                 n_samples: int | None = None, noise: float | None = None) -> Dataset:
    """A dataset, generated or bundled (nothing is downloaded), split by ``seed``.

    - ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (1797 images,
      64 pixel features, 10 classes).
    - ``"moons"``: two interleaving half circles (``sklearn.datasets.make_moons``),
      2 features, 2 classes; ``n_samples`` (default 1000) and ``noise`` (default 0.2).
    - ``"spirals"``: three interleaved spiral arms (``make_spirals``), 2 features,
      3 classes; ``n_samples`` (default 900) and ``noise`` (default 0.2).

    The split is stratified and deterministic: the same arguments always give the
    same arrays (``seed`` also seeds the generated sets' noise).  Results are cached;
    the arrays are read-only.
    """
    return _load(_spec(name, seed, val_fraction, n_samples, noise))


@lru_cache(maxsize=16)
def _load(spec: DatasetSpec) -> Dataset:
    from sklearn import datasets as skd
    from sklearn.model_selection import train_test_split

    if spec.name == "digits":
        bunch = skd.load_digits()
        x, y, title = bunch.data, bunch.target, "8x8 handwritten digits"
    elif spec.name == "moons":
        x, y = skd.make_moons(n_samples=spec.n_samples, noise=spec.noise, random_state=spec.seed)
        title = "Two moons"
    else:
        x, y = make_spirals(spec.n_samples, spec.noise, spec.seed)
        title = "Three spirals"
    x_tr, x_va, y_tr, y_va = train_test_split(
        np.asarray(x, np.float64), np.asarray(y), test_size=spec.val_fraction,
        random_state=spec.seed, stratify=y)
    mean = x_tr.mean(axis=0)
    std = x_tr.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0)
    arrays = [((x_tr - mean) / std).astype(np.float32), y_tr.astype(np.int32),
              ((x_va - mean) / std).astype(np.float32), y_va.astype(np.int32),
              mean.astype(np.float32), std.astype(np.float32)]
    for a in arrays:
        a.setflags(write=False)
    x_tr, y_tr, x_va, y_va, mean, std = arrays
    return Dataset(spec, x_tr, y_tr, x_va, y_va, int(np.max(y)) + 1, mean, std, title)


def as_dataset(dataset) -> Dataset:
    """A ``Dataset`` from itself, a name, or a ``DatasetSpec``."""
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, DatasetSpec):
        return load_dataset(dataset.name, dataset.seed, dataset.val_fraction,
                            dataset.n_samples, dataset.noise)
    return load_dataset(dataset)


# --- the MLP ----------------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "gelu": partial(jax.nn.gelu, approximate=False),  # exact (erf) GELU, as torch.nn.GELU()
    "sigmoid": jax.nn.sigmoid,
}
LAYERS_RANGE = (1, 4)
UNITS_RANGE = (4, 256)


def validate_architecture(hidden: Sequence[int], activation: str) -> tuple[tuple[int, ...], str]:
    """``(hidden, activation)`` checked: 1 to 4 hidden layers of 4 to 256 units each."""
    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        hidden = (hidden,)
    try:
        hidden = tuple(hidden)
    except TypeError:
        raise ValueError(f"hidden must be a sequence of layer widths, got {hidden!r:.40}") from None
    if not LAYERS_RANGE[0] <= len(hidden) <= LAYERS_RANGE[1]:
        raise ValueError(f"hidden must have {LAYERS_RANGE[0]} to {LAYERS_RANGE[1]} layers, "
                         f"got {len(hidden)}")
    hidden = tuple(_int_in(h, *UNITS_RANGE, "hidden layer width") for h in hidden)
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r:.40}; choose one of: {', '.join(ACTIVATIONS)}")
    return hidden, activation


def param_shapes(n_in: int, hidden: Sequence[int], n_out: int) -> list[dict[str, tuple[int, ...]]]:
    """Shapes of the parameter tree: ``[{"w": (n_in, h1), "b": (h1,)}, ..., {"w": (h_k, n_out), ...}]``."""
    sizes = [int(n_in), *hidden, int(n_out)]
    return [{"w": (a, b), "b": (b,)} for a, b in zip(sizes[:-1], sizes[1:])]


def n_params(n_in: int, hidden: Sequence[int], n_out: int) -> int:
    return sum(math.prod(s["w"]) + s["b"][0] for s in param_shapes(n_in, hidden, n_out))


def init_params(n_in: int, hidden: Sequence[int], n_out: int, activation: str = "relu",
                seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Fresh weights, float32 NumPy, deterministic in ``seed``.

    Hidden layers: He normal, std √(2/fan_in), for relu and gelu; Glorot uniform,
    limit √(6/(fan_in+fan_out)), for tanh and sigmoid.  The output layer: Glorot
    uniform.  Biases: zero.
    """
    hidden, activation = validate_architecture(hidden, activation)
    rng = np.random.default_rng([_int_in(seed, *SEED_RANGE, "seed"), 0])
    shapes = param_shapes(n_in, hidden, n_out)
    out = []
    for i, s in enumerate(shapes):
        fan_in, fan_out = s["w"]
        if i < len(shapes) - 1 and activation in ("relu", "gelu"):
            w = rng.standard_normal(s["w"]) * math.sqrt(2.0 / fan_in)
        else:
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, s["w"])
        out.append({"w": w.astype(np.float32), "b": np.zeros(s["b"], np.float32)})
    return out


def forward(params, x, activation: str):
    """Logits ``(n, n_classes)`` of the MLP (jnp; works inside jit and vmap)."""
    act = ACTIVATIONS[activation]
    h = x
    for layer in params[:-1]:
        h = act(h @ layer["w"] + layer["b"])
    return h @ params[-1]["w"] + params[-1]["b"]


def _loss_and_correct(logits, y):
    logp = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(logp, y[:, None], axis=-1)[:, 0]
    correct = (jnp.argmax(logits, axis=-1) == y).astype(jnp.float32)
    return jnp.mean(nll), jnp.mean(correct)


def loss(params, x, y, activation: str):
    """Mean softmax cross-entropy of integer labels ``y`` (jnp; differentiable)."""
    return _loss_and_correct(forward(params, x, activation), y)[0]


def accuracy(params, x, y, activation: str):
    """Fraction of ``y`` predicted right (jnp)."""
    return _loss_and_correct(forward(params, x, activation), y)[1]


def loss_and_accuracy(params, x, y, activation: str):
    """``(mean cross-entropy, accuracy)`` in one forward pass (jnp)."""
    return _loss_and_correct(forward(params, x, activation), y)


@partial(jax.jit, static_argnames=("activation",))
def _evaluate(params, x, y, activation):
    return loss_and_accuracy(params, x, y, activation)


def evaluate(dataset, hidden: Sequence[int], activation: str, params, split: str = "train"
             ) -> tuple[float, float]:
    """``(loss, accuracy)`` of ``params`` on one split of ``dataset``, as Python floats."""
    ds = as_dataset(dataset)
    hidden, activation = validate_architecture(hidden, activation)
    params = _as_tree(params, ds, hidden)
    x, y = ds.split(split)
    l, a = _evaluate(params, x, y, activation)
    return float(l), float(a)


# --- flat form ------------------------------------------------------------------------------------

def flatten(params) -> np.ndarray:
    """The flat float32 vector of a parameter tree: per layer ``w.ravel()`` then ``b``."""
    return np.concatenate([np.asarray(layer[k], np.float32).ravel()
                           for layer in params for k in ("w", "b")])


def unflatten(vec, shapes: list[dict[str, tuple[int, ...]]]) -> list[dict[str, Any]]:
    """The parameter tree of a flat vector (inverse of ``flatten``); NumPy in, NumPy out
    (jnp in, jnp out, so it works inside jit)."""
    out, i = [], 0
    for s in shapes:
        layer = {}
        for k in ("w", "b"):
            size = math.prod(s[k])
            layer[k] = vec[i:i + size].reshape(s[k])
            i += size
        out.append(layer)
    if i != vec.shape[-1]:
        raise ValueError(f"a flat vector of {vec.shape[-1]} numbers does not fit shapes with {i}")
    return out


def ravel(params):
    """``flatten`` in jnp (inside jit)."""
    return jnp.concatenate([layer[k].ravel() for layer in params for k in ("w", "b")])


def shapes_of(params) -> list[dict[str, tuple[int, ...]]]:
    return [{k: tuple(np.shape(layer[k])) for k in ("w", "b")} for layer in params]


def _as_tree(params, ds: Dataset, hidden) -> list[dict[str, np.ndarray]]:
    """``params`` (a tree or a flat vector) as a float32 tree, checked against the architecture."""
    shapes = param_shapes(ds.n_features, hidden, ds.n_classes)
    if isinstance(params, (np.ndarray, jax.Array)) and np.ndim(params) == 1:
        return unflatten(np.asarray(params, np.float32), shapes)
    try:
        tree = [{k: np.asarray(layer[k], np.float32) for k in ("w", "b")} for layer in params]
    except (TypeError, KeyError, IndexError):
        raise ValueError("params must be a list of {'w': ..., 'b': ...} dicts or a flat vector") from None
    if shapes_of(tree) != shapes:
        raise ValueError(f"params have shapes {shapes_of(tree)}, but the architecture needs {shapes}")
    return tree


def _as_flat(v, size: int, what: str) -> np.ndarray:
    if isinstance(v, (list, tuple)) and v and isinstance(v[0], dict):
        v = flatten(v)
    v = np.asarray(v, np.float32)
    if v.shape != (size,):
        raise ValueError(f"{what} must have {size} numbers (the network's parameters), got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{what} has values that are not finite")
    return v


# --- minibatches -----------------------------------------------------------------------------------

def batch_stream(n: int, batch_size: int, seed: int):
    """Endless minibatch indices, one ``(batch_size,)`` int32 array per step.

    Each epoch is a fresh permutation of ``0..n-1`` from NumPy's PCG64 seeded by
    ``[seed, 1]``, cut into ``n // batch_size`` batches; the ``n % batch_size``
    left-over examples of an epoch are skipped (they lead the next epoch's shuffle
    with the same odds as any other).
    """
    rng = np.random.default_rng([int(seed), 1])
    per_epoch = n // batch_size
    while True:
        perm = rng.permutation(n).astype(np.int32)
        for b in range(per_epoch):
            yield perm[b * batch_size:(b + 1) * batch_size]


def minibatch_indices(n: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """``(steps, batch_size)`` int32: the indices ``optimizers.train.train`` uses at each step."""
    stream = batch_stream(n, batch_size, seed)
    return np.stack([next(stream) for _ in range(steps)]) if steps else np.zeros((0, batch_size), np.int32)


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
    rng = np.random.default_rng([_int_in(seed, *SEED_RANGE, "seed"), 2])
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
        s = _float_in(span, 1e-6, 1e4, "span")
        return (-s, s, -s, s)
    try:
        vals = tuple(_float_in(v, -1e4, 1e4, "span bound") for v in span)
    except TypeError:
        raise ValueError(f"span must be a number or (alpha_min, alpha_max, beta_min, beta_max), "
                         f"got {span!r:.60}") from None
    if len(vals) != 4 or not (vals[0] < vals[1] and vals[2] < vals[3]):
        raise ValueError("span bounds must be (alpha_min, alpha_max, beta_min, beta_max) with min < max")
    return vals


@partial(jax.jit, static_argnames=("activation", "shapes", "n", "batch"))
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
    n = _int_in(n, *SLICE_N_RANGE, "n")
    a0, a1, b0, b1 = _bounds(span)
    x, y = ds.split(split)
    tree = _as_tree(center_params, ds, hidden)
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
