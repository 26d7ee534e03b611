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
ready for a figure builder; grids are indexed ``[i_beta, i_alpha]``
(rows are the y axis), like the ``z[iy, ix]`` of ``Landscape.grid``.

Loss-landscape slices follow Li, Xu, Taylor, Studer & Goldstein (2018),
"Visualizing the Loss Landscape of Neural Nets" (arXiv:1712.09913):
``loss(θ* + α d₁ + β d₂)`` on a grid of (α, β), with d₁, d₂ either two
filter-normalised random directions (section 4) or the first two principal
components of the optimisation path (section 7).

The package, by concern (every name is also reachable as ``landscapes.network.X``):

    data.py    datasets (``load_dataset``, ``Dataset``), minibatch order (``batch_stream``)
    mlp.py     the MLP: architecture, parameter trees and their flat form, forward, loss
    slices.py  directions (random, PCA), projections, ``loss_slice``
"""

from __future__ import annotations

from landscapes.network.data import (DATASETS, SAMPLES_RANGE, SEED_RANGE, VAL_FRACTION_RANGE, Dataset,
                                     DatasetSpec, _load, as_dataset, batch_stream,
                                     dataset_names, load_dataset, make_spirals, minibatch_indices)
from landscapes.network.mlp import (ACTIVATIONS, LAYERS_RANGE, UNITS_RANGE, _as_flat, accuracy, as_tree,
                                    evaluate, flatten, forward, init_params, loss, loss_and_accuracy,
                                    n_params, param_shapes, ravel, shapes_of, unflatten,
                                    validate_architecture)
from landscapes.network.slices import (SLICE_MEMORY, SLICE_N_RANGE, Directions, Slice, filter_normalize,
                                       loss_slice, pca_directions, project, random_directions,
                                       span_around)

__all__ = [
    "ACTIVATIONS", "DATASETS", "Dataset", "DatasetSpec", "Directions", "Slice",
    "dataset_names", "load_dataset", "make_spirals", "validate_architecture", "param_shapes",
    "n_params", "init_params", "forward", "loss", "accuracy", "evaluate", "flatten", "unflatten",
    "minibatch_indices", "random_directions", "pca_directions", "project", "span_around",
    "loss_slice",
    # used by optimizers.train and the pages
    "SAMPLES_RANGE", "SEED_RANGE", "VAL_FRACTION_RANGE", "LAYERS_RANGE", "UNITS_RANGE",
    "SLICE_MEMORY", "SLICE_N_RANGE", "as_dataset", "batch_stream", "loss_and_accuracy", "ravel",
    "shapes_of", "filter_normalize", "as_tree",
]

# Private helpers the tests reach as ``network._name``: re-exported so that path keeps working.
_REEXPORTED_PRIVATE = (_load, _as_flat)
