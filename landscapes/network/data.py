"""Datasets of the network page: the bundled digits and two generated 2-D sets, split and
standardised; the minibatch order of training; the number checks shared by the package."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from landscapes.params import number_in, whole

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


def _spec(name, seed, val_fraction, n_samples, noise) -> DatasetSpec:
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r:.60}; choose one of: {', '.join(DATASETS)}")
    seed = whole(seed, *SEED_RANGE, "seed")
    val_fraction = number_in(val_fraction, *VAL_FRACTION_RANGE, "val_fraction")
    if name == "digits":
        if n_samples is not None or noise is not None:
            raise ValueError("the digits dataset is fixed: n_samples and noise apply only to "
                             "'moons' and 'spirals'")
    else:
        default_n, default_noise, noise_range = _GENERATED[name]
        n_samples = whole(default_n if n_samples is None else n_samples, *SAMPLES_RANGE, "n_samples")
        noise = number_in(default_noise if noise is None else noise, *noise_range, "noise")
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
