"""Tests for the small-network race (issue 6): landscapes.network and optimizers.train.

The training loop must run the very update rules, transforms and schedules of
the 2-D page (checked by recomputing steps by hand from the public pieces, not
by patching them); every optimizer must learn the digits; the stopping rules,
filter normalisation, PCA directions, projections and slices must do what
Li et al. (2018) and seed 003 describe; hyperparameters must stay traced.

Runs share one configuration (digits, 64 relu units, batch 64, eval_every 50)
wherever they can, so that its compiled programs are reused.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

import optimizers
from landscapes import network
from optimizers import schedules
from optimizers import train as train_mod
from optimizers.train import train
from optimizers.transforms import GradientSwitches, transform

HIDDEN = (64,)

# Settings per optimizer for the digits MLP (64 relu units, batch 64): each reaches
# >= 96% validation accuracy by 600 steps on this machine's runs.
SETTINGS = {
    "sgd": dict(learning_rate=0.1),
    "momentum": dict(learning_rate=0.02, momentum=0.9),
    "nesterov": dict(learning_rate=0.02, momentum=0.9),
    "adagrad": dict(learning_rate=0.05),
    "rmsprop": dict(learning_rate=1e-3),
    "adadelta": dict(learning_rate=1.0, rho=0.9),  # the paper's α = 1 works on standardised inputs
    "adam": dict(learning_rate=3e-3),
    "nadam": dict(learning_rate=3e-3),
    "adamax": dict(learning_rate=5e-3),
    "ftrl": dict(learning_rate=0.5),  # Keras's default α = 0.001 barely moves in 600 steps
    "amsgrad": dict(learning_rate=3e-3),
    "radam": dict(learning_rate=5e-3),
    "adamw": dict(learning_rate=3e-3, weight_decay=1e-4),
    "ranger": dict(learning_rate=1e-2),  # RAdam + Lookahead: the slow weights halve its pace
}
STEPS = 600


@pytest.fixture(scope="module")
def digits():
    return network.load_dataset("digits")


@pytest.fixture(scope="module")
def adam_run(digits):
    """A trained digits MLP, the centre of the slice tests."""
    return train(digits, HIDDEN, "relu", "adam", steps=1000, eval_every=50, learning_rate=3e-3)


def numpy_loss(params, x, y, activation="relu"):
    """Softmax cross-entropy and accuracy in float64 NumPy: an independent forward pass."""
    acts = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}
    h = np.asarray(x, np.float64)
    for i, layer in enumerate(params):
        h = h @ np.asarray(layer["w"], np.float64) + np.asarray(layer["b"], np.float64)
        if i < len(params) - 1:
            h = acts[activation](h)
    z = h - h.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean(), (h.argmax(axis=1) == y).mean()


# --- datasets --------------------------------------------------------------------------------

def test_digits_is_bundled_split_and_standardised(digits):
    assert digits.n_features == 64 and digits.n_classes == 10
    assert digits.n_train + digits.n_val == 1797
    assert digits.x_train.dtype == np.float32 and digits.y_train.dtype == np.int32
    mean, std = digits.x_train.mean(axis=0), digits.x_train.std(axis=0)
    varying = std > 0
    np.testing.assert_allclose(mean, 0, atol=1e-5)
    np.testing.assert_allclose(std[varying], 1, rtol=1e-4)
    # stratified: every class in both splits
    assert set(digits.y_val) == set(range(10))


def test_split_is_deterministic_by_seed():
    a = network.load_dataset("moons", seed=3)
    b = network._load.__wrapped__(network.DatasetSpec("moons", 3, 0.25, 1000, 0.2))  # uncached
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert a == b and hash(a) == hash(b)
    c = network.load_dataset("moons", seed=4)
    assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("name, features, classes", [("moons", 2, 2), ("spirals", 2, 3)])
def test_generated_datasets(name, features, classes):
    ds = network.load_dataset(name, n_samples=300, noise=0.1)
    assert ds.n_features == features and ds.n_classes == classes
    assert ds.n_train + ds.n_val == 300
    assert ds.x_val.dtype == np.float32 and np.isfinite(ds.x_train).all()


def test_spirals_arms_are_spirals():
    x, y = network.make_spirals(300, noise=0.0, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    angle = np.arctan2(x[:, 0], x[:, 1])
    for k in range(3):
        arm = (y == k) & (r > 1e-6)
        expected = 4 * r[arm] + 2 * math.pi * k / 3
        np.testing.assert_allclose(np.cos(angle[arm]), np.cos(expected), atol=1e-9)
        np.testing.assert_allclose(np.sin(angle[arm]), np.sin(expected), atol=1e-9)


@pytest.mark.parametrize("kwargs", [
    dict(name="mnist"), dict(name="digits", noise=0.1), dict(name="moons", n_samples=5),
    dict(name="moons", noise=-1.0), dict(name="spirals", val_fraction=0.9), dict(name="digits", seed=-1),
])
def test_bad_dataset_arguments(kwargs):
    with pytest.raises(ValueError):
        network.load_dataset(**kwargs)


# --- the MLP ---------------------------------------------------------------------------------

@pytest.mark.parametrize("hidden, activation", [
    ((), "relu"), ((64,) * 5, "relu"), ((3,), "relu"), ((257,), "relu"), ((64,), "softplus"),
    ("64", "relu"), ((64.5,), "relu"), ((True,), "relu"),
])
def test_architecture_limits(hidden, activation):
    with pytest.raises(ValueError):
        network.validate_architecture(hidden, activation)


def test_init_is_he_or_glorot_and_seeded():
    relu = network.init_params(64, (256, 256), 10, "relu", seed=1)
    assert [l["w"].shape for l in relu] == [(64, 256), (256, 256), (256, 10)]
    assert np.std(relu[1]["w"]) == pytest.approx(math.sqrt(2 / 256), rel=0.02)  # He
    tanh = network.init_params(64, (256, 256), 10, "tanh", seed=1)
    assert np.abs(tanh[1]["w"]).max() <= math.sqrt(6 / 512)  # Glorot uniform
    assert np.std(tanh[1]["w"]) == pytest.approx(math.sqrt(2 / 512), rel=0.02)
    assert all((l["b"] == 0).all() for l in relu)
    again = network.init_params(64, (256, 256), 10, "relu", seed=1)
    assert all(np.array_equal(a["w"], b["w"]) for a, b in zip(relu, again))


def test_flatten_round_trip():
    p = network.init_params(5, (7, 4), 3, "tanh", seed=0)
    flat = network.flatten(p)
    assert flat.shape == (network.n_params(5, (7, 4), 3),) == (5 * 7 + 7 + 7 * 4 + 4 + 4 * 3 + 3,)
    back = network.unflatten(flat, network.shapes_of(p))
    assert all(np.array_equal(a[k], b[k]) for a, b in zip(p, back) for k in ("w", "b"))
    np.testing.assert_array_equal(flat[:35], p[0]["w"].ravel())  # layer by layer, w then b


def test_minibatches_are_epoch_permutations():
    idx = network.minibatch_indices(100, 30, 7, seed=5)  # 3 batches per epoch, 10 left over
    assert idx.shape == (7, 30) and idx.dtype == np.int32
    for e in range(2):
        epoch = idx[3 * e: 3 * e + 3].ravel()
        assert len(np.unique(epoch)) == 90  # no repeats within an epoch
    assert not np.array_equal(idx[:3], idx[3:6])


# --- the same rules as the 2-D page ------------------------------------------------------------

@pytest.mark.parametrize("name", optimizers.names())
def test_every_optimizer_learns_digits(name, digits):
    assert set(SETTINGS) == set(optimizers.names())
    r = train(digits, HIDDEN, "relu", name, steps=STEPS, batch_size=64, seed=0, eval_every=50,
              **SETTINGS[name])
    assert r.stop_reason is None and r.steps[-1] == STEPS
    assert r.val_acc[-1] >= 0.90, (name, r.val_acc)
    assert r.train_loss[-1] < r.train_loss[0]


def by_hand(params, digits, rule, hp, steps, seed, batch_size=64, schedule="constant",
            sched=None, numbers=None, switches=GradientSwitches()):
    """``steps`` updates computed from the public pieces, in eager JAX."""
    sched = schedules.validate(schedule, sched)
    lrs = np.float32(hp["learning_rate"]) * np.asarray(
        schedules.multipliers(schedule, {k: np.float32(v) for k, v in sched.items()}, steps))
    idx = network.minibatch_indices(digits.n_train, batch_size, steps, seed)
    key = jax.random.key(seed)
    numbers = {k: np.float32(v) for k, v in (numbers or {}).items()}
    hp32 = {k: np.float32(v) for k, v in hp.items()}
    state = rule.init(params)
    for t in range(steps):
        g = jax.grad(network.loss)(params, digits.x_train[idx[t]], digits.y_train[idx[t]], "relu")
        g = transform(g, np.int32(t), key, numbers, switches)
        updates, state = rule.update(g, state, params, {**hp32, "learning_rate": lrs[t]})
        params = jax.tree.map(lambda p, u: p + u, params, updates)
    return params, lrs


@pytest.mark.parametrize("name, lookahead", [("momentum", False), ("ftrl", False), ("adam", True)])
def test_train_steps_are_the_rules_updates(name, lookahead, digits):
    p0 = network.init_params(64, HIDDEN, 10, "relu", seed=7)
    rule = optimizers.get(name, lookahead=lookahead)
    hp = optimizers.resolve(rule, SETTINGS[name])
    # 7 steps: Lookahead syncs its slow weights after the 6th
    r = train(digits, HIDDEN, "relu", name, steps=7, batch_size=64, seed=11, eval_every=50,
              lookahead=lookahead, params0=p0, **SETTINGS[name])
    expected, _ = by_hand(p0, digits, rule, hp, 7, seed=11)
    for got, want in zip(r.params, expected):
        for k in ("w", "b"):
            np.testing.assert_allclose(got[k], want[k], rtol=2e-5, atol=2e-7)
    assert r.steps.tolist() == [0, 7]
    np.testing.assert_array_equal(r.weights[0], network.flatten(p0))


def test_train_applies_the_schedules_and_transforms(digits):
    p0 = network.init_params(64, HIDDEN, 10, "relu", seed=2)
    rule = optimizers.get("adam")
    hp = optimizers.resolve(rule, {"learning_rate": 0.01})
    sched = {"transition_steps": 2, "decay_rate": 0.5}
    r = train(digits, HIDDEN, "relu", "adam", steps=4, seed=3, eval_every=50, params0=p0,
              schedule="exponential", schedule_params=sched, clip_norm=0.05, learning_rate=0.01)
    expected, lrs = by_hand(p0, digits, rule, hp, 4, seed=3, schedule="exponential", sched=sched,
                            numbers={"clip_norm": 0.05},
                            switches=GradientSwitches(clip_norm=True))
    np.testing.assert_allclose(r.lr, lrs, rtol=1e-6)
    np.testing.assert_allclose(r.lr, 0.01 * 0.5 ** (np.arange(4) / 2), rtol=1e-5)
    np.testing.assert_allclose(network.flatten(r.params), network.flatten(expected), rtol=2e-5, atol=2e-7)


def test_result_arrays(adam_run):
    r = adam_run
    n_evals = 1000 // 50
    assert r.steps.tolist() == list(range(0, 1001, 50))
    for a in (r.train_loss, r.val_loss, r.train_acc, r.val_acc, r.wall_time):
        assert a.shape == (n_evals + 1,)
    assert np.all(np.diff(r.wall_time) >= 0) and r.wall_time[0] == 0
    assert r.weights.shape == (n_evals + 1, 4810) and r.weights.dtype == np.float32
    assert r.weight_steps.tolist() == r.steps.tolist()
    assert r.batch_loss.shape == (1000,) and r.lr.shape == (1000,)
    np.testing.assert_array_equal(network.flatten(r.params), r.weights[-1])
    assert r.val_acc[-1] >= 0.95
    loss, acc = network.evaluate("digits", HIDDEN, "relu", r.params, split="val")
    assert loss == pytest.approx(float(r.val_loss[-1]), rel=1e-4)
    assert acc == pytest.approx(float(r.val_acc[-1]))


def test_trajectory_memory_cap(digits, monkeypatch):
    # 21 rows of 4810 float32s would be 404 kB; with a 100 kB cap every 5th row is kept
    monkeypatch.setattr(train_mod, "MAX_TRAJECTORY_BYTES", 100_000)
    r = train(digits, HIDDEN, "relu", "adam", steps=1000, eval_every=50, learning_rate=3e-3)
    assert r.weights.nbytes <= 100_000 + 4810 * 4
    assert r.weight_steps.tolist() == [0, 250, 500, 750, 1000]
    assert len(r.steps) == 21


def test_same_arguments_same_run(digits):
    a = train(digits, HIDDEN, "relu", "sgd", steps=120, eval_every=50, seed=4, learning_rate=0.1)
    b = train(digits, HIDDEN, "relu", "sgd", steps=120, eval_every=50, seed=4, learning_rate=0.1)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.val_loss, b.val_loss)
    assert a.steps.tolist() == [0, 50, 100, 120]  # the last chunk is partial
    seen = []  # a progress callback hears each evaluation's step count, and changes no number
    c = train(digits, HIDDEN, "relu", "sgd", steps=120, eval_every=50, seed=4, learning_rate=0.1,
              on_progress=seen.append)
    assert seen == [50, 100, 120]
    np.testing.assert_array_equal(c.weights, a.weights)


# --- stopping rules (seed 003) -------------------------------------------------------------------

def test_patience_stops_a_plateau(digits):
    # Adam at 1e-2 overfits the digits quickly: the validation loss bottoms out, then rises
    r = train(digits, HIDDEN, "relu", "adam", steps=5000, eval_every=50, learning_rate=1e-2,
              stopping={"patience": 5})
    assert r.stop_reason == "patience" and r.stopped_at == r.steps[-1] < 5000
    best = int(np.argmin(r.val_loss))
    assert len(r.val_loss) - 1 - best == 5  # exactly `patience` evaluations without a new best
    assert r.weights.shape[0] == len(r.steps)


def test_converged_after_n_in_a_row_above_target(digits):
    r = train(digits, HIDDEN, "relu", "adam", steps=5000, eval_every=50, learning_rate=3e-3,
              stopping={"target": 0.5, "converge_after": 3})
    assert r.stop_reason == "converged" and r.stopped_at == r.steps[-1] < 5000
    above = r.val_acc >= 0.5
    assert above[-3:].all() and not above[-4]
    assert r.steps_to_target == r.steps[np.argmax(above)]


def test_no_stopping_runs_all_steps_and_reports_target(digits):
    r = train(digits, HIDDEN, "relu", "adam", steps=300, eval_every=50, learning_rate=3e-3,
              stopping={"target": 0.9})
    assert r.stop_reason is None and r.stopped_at is None and r.steps[-1] == 300
    assert r.steps_to_target == r.steps[np.argmax(r.val_acc >= 0.9)]
    assert train(digits, HIDDEN, "relu", "adam", steps=300, eval_every=50, learning_rate=3e-3,
                 stopping={"target": 0.9999}).steps_to_target is None


def test_divergence_is_data(digits):
    r = train(digits, HIDDEN, "relu", "sgd", steps=500, eval_every=50, learning_rate=10.0)
    assert r.stop_reason == "diverged" and r.diverged_at is not None
    assert r.diverged_at < r.stopped_at == r.steps[-1] < 500
    assert np.isfinite(r.batch_loss[: r.diverged_at]).all() and np.isnan(r.batch_loss[r.diverged_at])


@pytest.mark.parametrize("kwargs", [
    dict(optimizer="lbfgs"), dict(learning_rate=-1.0), dict(learning_rate=float("nan")),
    dict(bogus=1.0), dict(steps=0), dict(steps=2.5), dict(batch_size=10_000), dict(eval_every=0),
    dict(stopping={"patience": 0}), dict(stopping={"converge_after": 5}),
    dict(stopping={"target": 1.5}), dict(stopping={"bogus": 1}), dict(stopping=20),
    dict(schedule="sometimes"), dict(clip_norm=-1.0), dict(hidden=(1000,)),
    dict(params0=[{"w": np.zeros((3, 3)), "b": np.zeros(3)}]),
])
def test_bad_training_arguments(kwargs, digits):
    args = dict(dataset=digits, steps=100, learning_rate=1e-3)
    args.update(kwargs)
    with pytest.raises(ValueError):
        train(**args)


# --- traced hyperparameters ----------------------------------------------------------------------

def test_hyperparameters_do_not_recompile_architecture_does(digits):
    train(digits, HIDDEN, "relu", "adam", steps=50, eval_every=50, learning_rate=3e-3)  # warm
    traces, compiles = train_mod.trace_count(), train_mod.compile_count()
    for kw in [dict(learning_rate=1e-3), dict(learning_rate=5e-2, b1=0.5, b2=0.9, eps=1e-4),
               dict(learning_rate=1e-3, schedule="cosine", schedule_params={"decay_steps": 100}),
               dict(learning_rate=1e-3, seed=9, steps=170)]:
        r = train(digits, HIDDEN, "relu", "adam", **{"steps": 100, "eval_every": 50, **kw})
        assert r.compile_time == 0.0
    assert train_mod.trace_count() == traces and train_mod.compile_count() == compiles
    r = train(digits, (32,), "relu", "adam", steps=100, eval_every=50, learning_rate=1e-3)
    assert train_mod.trace_count() == traces + 1 and train_mod.compile_count() == compiles + 1
    assert r.compile_time > 0 and r.weights.shape[1] == 64 * 32 + 32 + 32 * 10 + 10


def test_other_datasets_and_activations():
    r = train("spirals", (32, 32), "gelu", "adam", steps=1500, eval_every=100, learning_rate=1e-2)
    assert r.val_acc[-1] >= 0.9, r.val_acc


# --- directions, projections and slices -----------------------------------------------------------

def test_filter_normalised_directions(adam_run):
    params = adam_run.params
    dirs = network.random_directions(params, seed=0)
    assert dirs.kind == "random" and dirs.explained_variance_ratio is None
    shapes = network.shapes_of(params)
    for d in (dirs.d1, dirs.d2):
        assert d.shape == (4810,) and d.dtype == np.float32
        for dl, pl in zip(network.unflatten(d, shapes), params):
            # each filter (column: one output neuron's incoming weights) has its weights' norm
            np.testing.assert_allclose(np.linalg.norm(dl["w"], axis=0),
                                       np.linalg.norm(pl["w"], axis=0), rtol=1e-5)
            assert (dl["b"] == 0).all()
    assert not np.allclose(dirs.d1, dirs.d2)
    np.testing.assert_array_equal(network.random_directions(params, seed=0).d1, dirs.d1)
    assert not np.array_equal(network.random_directions(params, seed=1).d1, dirs.d1)


def test_pca_directions(adam_run):
    dirs = network.pca_directions(adam_run.weights)
    assert dirs.kind == "pca"
    D = np.stack([dirs.d1, dirs.d2]).astype(np.float64)
    np.testing.assert_allclose(D @ D.T, np.eye(2), atol=1e-5)
    ev = dirs.explained_variance_ratio
    assert ev.shape == (2,) and 0 <= ev[1] <= ev[0] <= 1 and ev.sum() <= 1 + 1e-6
    # the first component carries most of a short Adam run (the paper's observation)
    assert ev[0] > 0.5


def test_pca_skips_rows_after_a_divergence(adam_run):
    traj = adam_run.weights.copy()
    clean = network.pca_directions(traj[:15])
    traj[15:] = np.nan
    dirs = network.pca_directions(traj)
    np.testing.assert_array_equal(dirs.d1, clean.d1)
    with pytest.raises(ValueError):
        network.pca_directions(traj[:2])


def test_pca_matches_sklearn(adam_run):
    from sklearn.decomposition import PCA
    diffs = adam_run.weights.astype(np.float64) - adam_run.weights[-1]
    ref = PCA(n_components=2).fit(diffs)
    dirs = network.pca_directions(adam_run.weights)
    np.testing.assert_allclose(dirs.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-4)
    for ours, theirs in zip((dirs.d1, dirs.d2), ref.components_):
        assert abs(float(ours @ theirs)) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("kind", ["pca", "random"])
def test_projection_ends_at_the_origin(kind, adam_run):
    traj = adam_run.weights
    dirs = (network.pca_directions(traj) if kind == "pca"
            else network.random_directions(adam_run.params, seed=0))
    xy = network.project(traj, adam_run.params, dirs.d1, dirs.d2)
    assert xy.shape == (len(traj), 2) and xy.dtype == np.float32
    np.testing.assert_allclose(xy[-1], 0.0, atol=1e-6)
    assert np.abs(xy[0]).max() > 1e-3


def test_projection_is_least_squares_for_non_orthogonal_directions(adam_run):
    dirs = network.random_directions(adam_run.params, seed=3)
    d1, d2 = dirs.d1.astype(np.float64), dirs.d2.astype(np.float64)
    d2 = d2 + 0.5 * d1  # far from orthogonal
    c = network.flatten(adam_run.params).astype(np.float64)
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(c.size)
    noise -= np.stack([d1, d2]).T @ np.linalg.lstsq(np.stack([d1, d2]).T, noise, rcond=None)[0]
    pts = np.stack([c + 0.3 * d1 - 0.7 * d2 + noise, c - 1.2 * d1 + 0.1 * d2])
    xy = network.project(pts, c, d1, d2)
    np.testing.assert_allclose(xy, [[0.3, -0.7], [-1.2, 0.1]], atol=2e-4)
    with pytest.raises(ValueError):
        network.project(pts, c, d1, 2 * d1)


def test_slice_centre_is_the_trained_loss(adam_run, digits):
    params = adam_run.params
    dirs = network.random_directions(params, seed=0)
    s = network.loss_slice(digits, HIDDEN, "relu", params, dirs.d1, dirs.d2, span=1.0, n=21)
    assert s.loss.shape == s.accuracy.shape == (21, 21) and s.alphas.shape == s.betas.shape == (21,)
    assert s.alphas[10] == 0 and s.betas[10] == 0
    ref_loss, ref_acc = numpy_loss(params, digits.x_train, digits.y_train)
    assert s.loss[10, 10] == pytest.approx(ref_loss, rel=1e-4, abs=1e-6)
    assert s.center_loss == pytest.approx(ref_loss, rel=1e-4, abs=1e-6)
    assert s.center_accuracy == pytest.approx(ref_acc)
    assert s.loss[10, 10] == pytest.approx(float(adam_run.train_loss[-1]), rel=1e-4, abs=1e-6)
    # the centre of a slice through the minimum found is its lowest point nearby
    assert s.loss[10, 10] <= np.nanmin(s.loss) + 1e-6
    # off-centre points: loss[i_beta, i_alpha] at centre + alpha d1 + beta d2
    shapes = network.shapes_of(params)
    c = network.flatten(params)
    for ib, ia in [(0, 20), (13, 4), (20, 11)]:
        theta = network.unflatten(c + s.alphas[ia] * dirs.d1 + s.betas[ib] * dirs.d2, shapes)
        want, acc = numpy_loss(theta, digits.x_train, digits.y_train)
        assert s.loss[ib, ia] == pytest.approx(want, rel=1e-4)
        assert s.accuracy[ib, ia] == pytest.approx(acc, abs=2 / digits.n_train)  # an argmax tie at most


def test_slice_on_pca_plane_frames_the_trajectory(adam_run, digits):
    dirs = network.pca_directions(adam_run.weights)
    xy = network.project(adam_run.weights, adam_run.weights[-1], dirs.d1, dirs.d2)
    bounds = network.span_around(xy, margin=0.1)
    assert bounds[0] < xy[:, 0].min() and bounds[1] > xy[:, 0].max()
    assert bounds[2] < xy[:, 1].min() and bounds[3] > xy[:, 1].max()
    s = network.loss_slice(digits, HIDDEN, "relu", adam_run.weights[-1], dirs.d1, dirs.d2,
                           span=bounds, n=21, split="val")
    assert s.alphas[0] == pytest.approx(bounds[0]) and s.betas[-1] == pytest.approx(bounds[3])
    assert s.center_loss == pytest.approx(float(adam_run.val_loss[-1]), rel=1e-4)
    assert np.isfinite(s.loss).all()
    # the start of the run lies high on this plane, the end low
    assert s.loss.max() > 2 * s.center_loss


@pytest.mark.parametrize("kwargs", [dict(n=2), dict(n=1001), dict(span=0.0), dict(span=(1, -1, 0, 1)),
                                    dict(span="big"), dict(split="test"), dict(hidden=(32,))])
def test_bad_slice_arguments(kwargs, adam_run, digits):
    dirs = network.random_directions(adam_run.params, seed=0)
    args = dict(dataset=digits, hidden=HIDDEN, activation="relu", center_params=adam_run.params,
                d1=dirs.d1, d2=dirs.d2)
    args.update(kwargs)
    with pytest.raises(ValueError):
        network.loss_slice(**args)
