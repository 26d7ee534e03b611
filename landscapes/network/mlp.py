"""The MLP: architecture checks, parameter trees and their flat form, forward pass, loss."""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Sequence

import jax
import jax.numpy as jnp

from landscapes import compiled
import numpy as np

from landscapes.network.data import SEED_RANGE, Dataset, as_dataset
from landscapes.params import whole

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
    hidden = tuple(whole(h, *UNITS_RANGE, "hidden layer width") for h in hidden)
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
    rng = np.random.default_rng([whole(seed, *SEED_RANGE, "seed"), 0])
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


@compiled.jit(static_argnames=("activation",))
def _evaluate(params, x, y, activation):
    return loss_and_accuracy(params, x, y, activation)


def evaluate(dataset, hidden: Sequence[int], activation: str, params, split: str = "train"
             ) -> tuple[float, float]:
    """``(loss, accuracy)`` of ``params`` on one split of ``dataset``, as Python floats."""
    ds = as_dataset(dataset)
    hidden, activation = validate_architecture(hidden, activation)
    params = as_tree(params, ds, hidden)
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


def as_tree(params, ds: Dataset, hidden) -> list[dict[str, np.ndarray]]:
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
