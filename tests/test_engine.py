"""Contract tests of the core: what `optimizers.run` / `run_batch` promise.

Shapes and row 0, loss and gradient rows, landscapes by name or object, every
kind of bad input (ValueError naming the offending thing and its valid range),
divergence as data, no recompilation when a number changes, long runs, the
batched form, and the update rules on arbitrary pytrees (eagerly and under jit).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscapes
import optimizers
from landscapes import Landscape
from optimizers import runner

ALL_OPTIMIZERS = optimizers.names()


# --- the contract ---------------------------------------------------------------------------

def test_names():
    names = optimizers.names()
    assert len(names) == len(set(names))
    for n in ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "nadam", "adamax",
              "ftrl", "amsgrad", "radam", "adamw", "ranger"]:
        assert n in names
    for n in names:
        rule = optimizers.get(n)
        assert rule.name == n and rule.title and rule.latex and rule.explanation
        assert "learning_rate" in rule.defaults
        for p in rule.hyperparams:  # each default is inside its own range
            assert p.validate(p.default) == p.default


def test_contract_example():
    L = landscapes.get("rosenbrock")
    tr = optimizers.run("rosenbrock", "adam", start=(-1.5, 2.0), steps=10_000, learning_rate=1e-2, b1=0.9)
    assert tr.xy.shape == (10_001, 2) and tr.xy.dtype == np.float32
    assert tr.loss.shape == (10_001,) and tr.loss.dtype == np.float32
    assert tr.grad.shape == (10_001, 2)
    assert tr.lr.shape == (10_000,)
    assert tr.diverged_at is None
    np.testing.assert_array_equal(tr.xy[0], np.float32([-1.5, 2.0]))
    assert np.isfinite(tr.xy).all() and np.isfinite(tr.loss).all()
    np.testing.assert_array_equal(tr.lr, np.float32(1e-2))
    assert tr.hyperparams["b1"] == 0.9 and tr.hyperparams["learning_rate"] == 1e-2
    assert tr.optimizer == "adam" and tr.landscape == "rosenbrock" and tr.steps == 10_000
    # adam at 1e-2 reaches Rosenbrock's minimum
    assert L.nearest_minimum_distance(tr.xy[-1]) < 1e-2


def assert_rows_consistent(tr, L):
    """loss[k] == f(xy[k]) and grad[k] == grad f(xy[k]) (no noise or clipping)."""
    xy = jnp.asarray(tr.xy)
    f = np.asarray(jax.vmap(L.f)(xy))
    g = np.asarray(jax.vmap(jax.grad(L.f))(xy))
    # float32, evaluated in another compiled program: rounding differs by a few
    # ulps; the gradient's floor is relative to its scale over the run because
    # Rosenbrock's gradient is a difference of terms ~1e3 times larger.
    np.testing.assert_allclose(tr.loss, f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tr.grad, g, rtol=1e-5, atol=1e-5 * np.abs(g).max())


@pytest.mark.parametrize("lookahead", [False, True])
@pytest.mark.parametrize("name", ALL_OPTIMIZERS)
def test_every_optimizer_runs_with_its_defaults(name, lookahead):
    L = landscapes.get("quadratic")
    tr = optimizers.run(L, name, steps=300, lookahead=lookahead)
    assert tr.xy.shape == (301, 2) and tr.loss.shape == (301,) and tr.lr.shape == (300,)
    np.testing.assert_array_equal(tr.xy[0], np.float32(L.start))
    assert tr.diverged_at is None
    assert_rows_consistent(tr, L)
    assert tr.loss[-1] < tr.loss[0]  # every default makes progress on the bowl


@pytest.mark.parametrize("name", ["quadratic", "rosenbrock", "saddle", "beale"])
def test_loss_and_grad_rows(name):
    L = landscapes.get(name)
    tr = optimizers.run(name, "momentum", steps=700, learning_rate=1e-4, start=(0.5, -0.5))
    np.testing.assert_array_equal(tr.xy[0], np.float32([0.5, -0.5]))
    assert_rows_consistent(tr, L)
    # row k+1 = row k + update: momentum from rest, so the first step is -lr * g0
    np.testing.assert_allclose(tr.xy[1] - tr.xy[0], -1e-4 * tr.grad[0], rtol=1e-4, atol=1e-7)


def test_default_start_and_one_step():
    tr = optimizers.run("saddle", "sgd", steps=1)
    L = landscapes.get("saddle")
    np.testing.assert_array_equal(tr.xy[0], np.float32(L.start))
    assert tr.xy.shape == (2, 2) and tr.lr.shape == (1,)
    np.testing.assert_allclose(tr.xy[1], tr.xy[0] - 0.01 * tr.grad[0], rtol=1e-6)


def test_run_accepts_a_landscape_and_the_contract_example_landscape():
    L = Landscape(name="mine", f=lambda p: p[0] ** 2 + 3 * p[1] ** 2, domain=((-2, 2), (-2, 2)),
                  minima=[(0, 0)], start=(1.5, 1.5))
    assert L.f_min == 0.0 and L.minima == ((0.0, 0.0),) and L.start == (1.5, 1.5)
    tr = optimizers.run(L, "sgd", steps=100, learning_rate=0.1)
    np.testing.assert_array_equal(tr.xy[0], np.float32([1.5, 1.5]))
    # sgd on a separable quadratic: x_k = 1.5 (1 - 0.2)^k, y_k = 1.5 (1 - 0.6)^k
    k = np.arange(101)
    np.testing.assert_allclose(tr.xy[:, 0], 1.5 * 0.8 ** k, rtol=1e-5, atol=1e-30)
    np.testing.assert_allclose(tr.xy[:, 1], 1.5 * 0.4 ** k, rtol=1e-5, atol=1e-30)
    assert tr.landscape == "mine"
    # a built-in landscape passed as an object gives the same run as by name
    a = optimizers.run(landscapes.get("rosenbrock"), "adam", steps=200)
    b = optimizers.run("rosenbrock", "adam", steps=200)
    np.testing.assert_array_equal(a.xy, b.xy)


def test_landscape_parameters_reach_the_run():
    a = optimizers.run(landscapes.get("quadratic", condition=2.0), "sgd", steps=50, learning_rate=0.1)
    b = optimizers.run(landscapes.get("quadratic", condition=50.0), "sgd", steps=50, learning_rate=0.01)
    assert not np.allclose(a.xy[1:], b.xy[1:])
    assert_rows_consistent(b, landscapes.get("quadratic", condition=50.0))


def test_hyperparameters_take_effect():
    base = optimizers.run("rosenbrock", "adam", steps=100)
    for kw in [dict(learning_rate=0.02), dict(b1=0.5), dict(b2=0.9), dict(eps=0.1), dict(eps_root=0.1),
               dict(nesterov=True)]:
        other = optimizers.run("rosenbrock", "adam", steps=100, **kw)
        assert not np.array_equal(base.xy, other.xy), kw
        assert other.hyperparams[next(iter(kw))] == float(next(iter(kw.values())))


# --- bad input ----------------------------------------------------------------------------

RUN = dict(landscape="rosenbrock", optimizer="adam", steps=10)

# (what is changed, fragments that the message must contain)
BAD_RUNS = [
    (dict(optimizer="adamm"), ["unknown optimizer", "'adamm'", "adam", "sgd", "ranger"]),
    (dict(optimizer=None), ["unknown optimizer"]),
    (dict(optimizer=3), ["unknown optimizer"]),
    (dict(landscape="nope"), ["unknown landscape", "'nope'", "rosenbrock"]),
    (dict(landscape=None), ["unknown landscape"]),
    (dict(lr=0.1), ["'lr'", "learning_rate", "b1"]),
    (dict(sync_period=3), ["'sync_period'"]),  # only with lookahead=True
    (dict(learning_rate=100), ["learning_rate", "100", "[1e-06, 10]"]),
    (dict(learning_rate=0), ["learning_rate", "[1e-06, 10]"]),
    (dict(learning_rate=-0.1), ["learning_rate", "[1e-06, 10]"]),
    (dict(learning_rate=float("nan")), ["learning_rate", "[1e-06, 10]"]),
    (dict(learning_rate=float("inf")), ["learning_rate", "[1e-06, 10]"]),
    (dict(learning_rate="abc"), ["learning_rate", "number"]),
    (dict(learning_rate=True), ["learning_rate", "number"]),
    (dict(learning_rate=None), ["learning_rate", "number"]),
    (dict(learning_rate=[0.1, 0.2]), ["learning_rate", "number"]),
    (dict(b1=1.0), ["b1", "[0, 0.9999]"]),
    (dict(b1=-0.1), ["b1", "[0, 0.9999]"]),
    (dict(b2=1.5), ["b2", "[0, 0.99999]"]),
    (dict(eps=0.0), ["eps", "[1e-12, 1]"]),
    (dict(nesterov=2), ["nesterov", "true or false"]),
    (dict(nesterov="yes"), ["nesterov", "true or false"]),
    (dict(optimizer="ftrl", learning_rate_power=0.5), ["learning_rate_power", "[-2, 0]"]),
    (dict(optimizer="ftrl", initial_accumulator_value=0.0), ["initial_accumulator_value", "[1e-06, 10]"]),
    (dict(optimizer="ftrl", lr=0.1), ["'lr'", "l1_regularization_strength"]),
    (dict(optimizer="radam", threshold=3.0), ["threshold", "[4, 1000]"]),
    (dict(optimizer="momentum", momentum=1.0), ["momentum", "[0, 0.9999]"]),
    (dict(lookahead=True, sync_period=0), ["sync_period", "[1, 1000]"]),
    (dict(lookahead=True, sync_period=2.5), ["sync_period", "whole number"]),
    (dict(lookahead=True, slow_step_size=1.5), ["slow_step_size", "[0, 1]"]),
    # start
    (dict(start=(1,)), ["start", "pair of numbers"]),
    (dict(start="ab"), ["start", "pair of numbers"]),
    (dict(start=(1, 2, 3)), ["start", "pair of numbers"]),
    (dict(start=("a", 1)), ["start", "pair of numbers"]),
    (dict(start=5.0), ["start", "pair of numbers"]),
    (dict(start=(float("nan"), 0)), ["start", "finite"]),
    (dict(start=(0, float("inf"))), ["start", "finite"]),
    (dict(start=(1e7, 0)), ["start", "1e6"]),
    # steps
    (dict(steps=0), ["steps", "[1, 1000000]"]),
    (dict(steps=-1), ["steps", "[1, 1000000]"]),
    (dict(steps=10 ** 9), ["steps", "[1, 1000000]"]),
    (dict(steps=1.5), ["steps", "whole number"]),
    (dict(steps="10"), ["steps", "whole number"]),
    (dict(steps=True), ["steps", "whole number"]),
    (dict(steps=None), ["steps", "whole number"]),
    (dict(steps=float("inf")), ["steps", "whole number"]),
    (dict(steps=float("nan")), ["steps", "whole number"]),
    # schedules
    (dict(schedule="linear"), ["unknown schedule", "'linear'", "cosine", "warmup_cosine"]),
    (dict(schedule=None), ["unknown schedule"]),
    (dict(schedule="cosine", schedule_params=dict(foo=1)), ["'foo'", "decay_steps", "alpha"]),
    (dict(schedule="constant", schedule_params=dict(decay_steps=10)), ["'decay_steps'", "constant"]),
    (dict(schedule="cosine", schedule_params=dict(decay_steps=0)), ["decay_steps", "[1, 1e+06]"]),
    (dict(schedule="cosine", schedule_params=dict(decay_steps=1.5)), ["decay_steps", "whole number"]),
    (dict(schedule="cosine", schedule_params=dict(alpha=2.0)), ["alpha", "[0, 1]"]),
    (dict(schedule="exponential", schedule_params=dict(decay_rate=2.0)), ["decay_rate", "[0.0001, 1]"]),
    (dict(schedule="exponential", schedule_params=dict(decay_rate=float("nan"))), ["decay_rate", "[0.0001, 1]"]),
    (dict(schedule="piecewise", schedule_params=dict(scale1=0.0)), ["scale1", "[0.0001, 10]"]),
    (dict(schedule="polynomial", schedule_params=dict(power=0.0)), ["power", "[0.1, 10]"]),
    (dict(schedule="inverse_time", schedule_params=dict(decay_rate=-1)), ["decay_rate", "[0, 100]"]),
    (dict(schedule="warmup", schedule_params=dict(warmup_steps=-5)), ["warmup_steps", "[1, 1e+06]"]),
    (dict(schedule="warmup_cosine", schedule_params=dict(warmup_steps=100, decay_steps=50)),
     ["warmup_cosine", "decay_steps", "warmup_steps"]),
    (dict(schedule="cosine", schedule_params="abc"), ["schedule"]),
    (dict(schedule="cosine", schedule_params=[1, 2]), ["schedule"]),
    # clipping and noise
    (dict(clip_value=0), ["clip_value", "[1e-06, 1e+06]"]),
    (dict(clip_value=-1), ["clip_value", "[1e-06, 1e+06]"]),
    (dict(clip_value=float("inf")), ["clip_value", "[1e-06, 1e+06]"]),
    (dict(clip_value="big"), ["clip_value", "number"]),
    (dict(clip_norm=0.0), ["clip_norm", "[1e-06, 1e+06]"]),
    (dict(clip_norm=-2.0), ["clip_norm", "[1e-06, 1e+06]"]),
    (dict(clip_norm=float("nan")), ["clip_norm", "[1e-06, 1e+06]"]),
    (dict(noise=-1), ["noise", "[0, 10000]"]),
    (dict(noise=float("nan")), ["noise", "[0, 10000]"]),
    (dict(noise="lots"), ["noise", "number"]),
    (dict(noise=1.0, seed=-1), ["seed", "valid range"]),
    (dict(noise=1.0, seed=1.5), ["seed", "whole number"]),
    (dict(noise=1.0, seed=2 ** 40), ["seed", "valid range"]),
]


@pytest.mark.parametrize("change, fragments", BAD_RUNS, ids=[repr(c)[:60] for c, _ in BAD_RUNS])
def test_bad_input_raises_a_clear_value_error(change, fragments):
    kw = {**RUN, **change}
    with pytest.raises(ValueError) as info:
        optimizers.run(kw.pop("landscape"), kw.pop("optimizer"), **kw)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert len(message) < 400


def test_bad_input_is_rejected_before_anything_runs():
    # a valid run is unaffected by the rejected ones before it
    good = optimizers.run("rosenbrock", "adam", steps=10)
    with pytest.raises(ValueError):
        optimizers.run("rosenbrock", "adam", steps=10, learning_rate=-1)
    again = optimizers.run("rosenbrock", "adam", steps=10)
    np.testing.assert_array_equal(good.xy, again.xy)


def test_numpy_and_float_forms_of_valid_input_are_accepted():
    a = optimizers.run("rosenbrock", "adam", steps=np.int64(50), start=np.array([-1.0, 1.0]),
                       learning_rate=np.float32(0.01), b1=np.float64(0.8), nesterov=True)
    b = optimizers.run("rosenbrock", "adam", steps=50.0, start=[-1.0, 1.0], learning_rate=0.01, b1=0.8, nesterov=1)
    np.testing.assert_array_equal(a.xy, b.xy)
    assert a.xy.shape == (51, 2)


def test_numpy_booleans_are_accepted():
    # A NumPy boolean (from a mask, a widget's array) is a boolean: Param.validate
    # (landscapes/params.py) accepts bool, int and float but not np.bool_, and
    # answers "nesterov for adam must be true or false, got np.True_".
    a = optimizers.run("rosenbrock", "adam", steps=20, nesterov=np.bool_(True))
    b = optimizers.run("rosenbrock", "adam", steps=20, nesterov=True)
    np.testing.assert_array_equal(a.xy, b.xy)

def test_equal_values_of_different_types_are_checked_apart():
    # 1 == 1.0 == True in Python: an accepted `learning_rate=1` must not let
    # `learning_rate=True` through (nor a list after a number).
    optimizers.run("quadratic", "sgd", steps=2, learning_rate=1)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.run("quadratic", "sgd", steps=2, learning_rate=True)
    optimizers.run("quadratic", "sgd", steps=2, learning_rate=0.5)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.run("quadratic", "sgd", steps=2, learning_rate=[0.5])


def test_a_results_hyperparameters_are_its_own():
    a = optimizers.run("quadratic", "adam", steps=5, learning_rate=0.1)
    a.hyperparams["learning_rate"] = 123.0  # the caller's dict, not shared with later runs
    b = optimizers.run("quadratic", "adam", steps=5, learning_rate=0.1)
    assert b.hyperparams["learning_rate"] == pytest.approx(0.1)
    np.testing.assert_array_equal(a.xy, b.xy)



# --- divergence ---------------------------------------------------------------------------

def assert_divergence_is_data(tr):
    k = tr.diverged_at
    assert k is not None and 0 < k <= tr.steps
    assert np.isfinite(tr.xy[:k]).all() and np.isfinite(tr.loss[:k]).all() and np.isfinite(tr.grad[:k]).all()
    assert np.isnan(tr.xy[k:]).all() and np.isnan(tr.loss[k:]).all() and np.isnan(tr.grad[k:]).all()
    assert not np.isinf(tr.xy).any() and not np.isinf(tr.loss).any() and not np.isinf(tr.grad).any()
    assert np.isfinite(tr.lr).all()


def test_sgd_diverges_on_rosenbrock_at_the_first_non_finite_row():
    L = landscapes.get("rosenbrock")
    tr = optimizers.run("rosenbrock", "sgd", steps=100, learning_rate=0.1)
    assert_divergence_is_data(tr)
    # the first non-finite row of an independent float32 loop
    grad = jax.jit(jax.grad(L.f))
    x = np.float32(L.start)
    first = None
    for k in range(101):
        if not (np.isfinite(x).all() and np.isfinite(np.float32(L.f(jnp.asarray(x))))):
            first = k
            break
        np.testing.assert_allclose(tr.xy[k], x, rtol=1e-5)
        with np.errstate(all="ignore"):
            x = (x - np.float32(0.1) * np.asarray(grad(jnp.asarray(x)))).astype(np.float32)
    assert first is not None and tr.diverged_at == first


def test_infinite_loss_at_a_finite_point_counts_as_divergence():
    # a wall of +inf at x > 1, with a constant gradient (-1, 0): sgd walks into it
    wall = Landscape(name="wall", f=lambda p: 1.0 - p[0] + jnp.where(p[0] > 1.0, jnp.inf, 0.0) + 0.0 * p[1],
                     domain=((-2, 2), (-2, 2)), start=(0.0, 0.5))
    tr = optimizers.run(wall, "sgd", steps=40, learning_rate=0.1)
    assert_divergence_is_data(tr)
    x = np.float32(0.0)
    k = 0
    while not x > 1.0:  # the same float32 walk
        x = np.float32(x + np.float32(0.1))
        k += 1
    assert tr.diverged_at == k
    assert np.all(tr.xy[:k, 1] == np.float32(0.5))


def test_divergence_in_the_last_row():
    k = optimizers.run("rosenbrock", "sgd", steps=100, learning_rate=0.1).diverged_at
    last = optimizers.run("rosenbrock", "sgd", steps=k, learning_rate=0.1)
    assert last.diverged_at == k and np.isnan(last.xy[k]).all() and np.isfinite(last.xy[:k]).all()
    before = optimizers.run("rosenbrock", "sgd", steps=k - 1, learning_rate=0.1)
    assert before.diverged_at is None and np.isfinite(before.xy).all()


# --- compilation --------------------------------------------------------------------------

_BACKEND_COMPILES = []


def _on_duration(name, *args, **kwargs):
    if name == "/jax/core/compile/backend_compile_duration":
        _BACKEND_COMPILES.append(name)


jax.monitoring.register_event_duration_secs_listener(_on_duration)


def compilations():
    """(programs the runner has made, XLA compilations in this process)."""
    return (runner.simulate.programs_made() + runner.simulate_batch.programs_made(), len(_BACKEND_COMPILES))


def test_changing_numbers_never_recompiles():
    base = dict(steps=1100, learning_rate=1e-2, b1=0.9, start=(-1.5, 2.0), noise=0.5, seed=1,
                clip_value=50.0, clip_norm=80.0, schedule="warmup_cosine",
                schedule_params=dict(warmup_steps=100, decay_steps=900, alpha=0.1))
    first = optimizers.run("rosenbrock", "adam", **base)
    optimizers.run("rosenbrock", "adam", **base)  # anything lazily compiled on a second call
    before = compilations()
    changes = [
        dict(learning_rate=2e-2), dict(b1=0.8), dict(b2=0.99), dict(eps=1e-6), dict(nesterov=True),
        dict(start=(0.3, -0.4)), dict(seed=2), dict(noise=0.7), dict(clip_value=20.0), dict(clip_norm=30.0),
        dict(schedule_params=dict(warmup_steps=10, decay_steps=2000, alpha=0.5)),
        dict(steps=1500), dict(steps=2047),  # the same bucket of 2048 rows (1100 -> 1101 rows)
    ]
    for change in changes:
        tr = optimizers.run("rosenbrock", "adam", **{**base, **change})
        if "steps" in change:
            assert tr.xy.shape == (change["steps"] + 1, 2)
            np.testing.assert_array_equal(tr.xy[: len(first.xy)], first.xy)
        else:
            assert not np.array_equal(tr.xy, first.xy), change  # the change took effect
    assert compilations() == before


def test_changing_landscape_parameters_and_lookahead_numbers_never_recompiles():
    optimizers.run(landscapes.get("quadratic"), "momentum", steps=300, lookahead=True)
    before = compilations()
    optimizers.run(landscapes.get("quadratic", condition=300.0, angle=-10.0), "momentum", steps=300,
                   lookahead=True, sync_period=3, slow_step_size=0.2, momentum=0.5, ema=True)
    optimizers.run(landscapes.get("quadratic", condition=3.0), "momentum", steps=300, lookahead=True,
                   nesterov=True, start=(1.0, 1.0))
    assert compilations() == before


def test_the_compilation_counter_can_fail():
    # what is static does compile: a new rule, a schedule kind, a switch, a bucket.
    # A landscape made here is new to every cache, whatever ran before.
    L = Landscape(name="fresh", f=lambda p: (p[0] - 0.5) ** 2 + jnp.cosh(p[1]))
    optimizers.run(L, "adamax", steps=100)
    for change in [dict(optimizer="amsgrad"), dict(schedule="cosine"), dict(noise=0.1), dict(clip_norm=1.0),
                   dict(steps=5000)]:
        before = compilations()
        kw = {"optimizer": "adamax", "steps": 100, **change}
        optimizers.run(L, kw.pop("optimizer"), **kw)
        after = compilations()
        assert after[0] == before[0] + 1 and after[1] > before[1], change


def test_run_batch_never_recompiles_for_new_values():
    starts = np.array([[-1.0, 1.0], [0.5, 0.5], [1.5, -0.5]])
    optimizers.run_batch("rosenbrock", "adam", starts=starts, steps=300, learning_rate=[1e-3, 1e-2, 3e-2])
    before = compilations()
    optimizers.run_batch("rosenbrock", "adam", starts=starts + 0.1, steps=400, learning_rate=[2e-3, 2e-2, 4e-2],
                         b1=0.5)
    assert compilations() == before


# --- long runs ------------------------------------------------------------------------------

def test_one_hundred_thousand_steps():
    tr = optimizers.run("rosenbrock", "adam", steps=100_000, learning_rate=1e-3)
    assert tr.xy.shape == (100_001, 2) and tr.loss.shape == (100_001,) and tr.lr.shape == (100_000,)
    assert tr.diverged_at is None
    assert np.isfinite(tr.xy).all() and np.isfinite(tr.loss).all() and np.isfinite(tr.grad).all()
    np.testing.assert_array_equal(tr.xy[0], np.float32([-1.5, 2.0]))
    assert np.linalg.norm(tr.xy[-1] - [1.0, 1.0]) < 1e-3
    # every row is a real evaluation (not buffer padding), up to the last one
    assert_rows_consistent(tr, landscapes.get("rosenbrock"))
    assert len(np.unique(tr.xy[-10_000:], axis=0)) > 100
    np.testing.assert_array_equal(tr.lr, np.float32(1e-3))


def test_the_longest_run_follows_the_closed_form():
    # sgd on the quadratic: xy_k = R diag((1 - lr)^k, (1 - lr kappa)^k) R^T xy_0
    L = landscapes.get("quadratic")
    lr, n = 1e-5, runner.MAX_STEPS
    tr = optimizers.run(L, "sgd", steps=n, learning_rate=lr)
    assert tr.xy.shape == (n + 1, 2) and tr.diverged_at is None and np.isfinite(tr.xy).all()
    th, kappa = math.radians(L.params["angle"]), L.params["condition"]
    R = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    for k in [1, 1000, 100_000, 654_321, n]:
        expected = R @ np.diag([(1 - lr) ** k, (1 - lr * kappa) ** k]) @ R.T @ np.asarray(L.start)
        # float32 rounding of a million small steps accumulates to ~4e-4 relative
        np.testing.assert_allclose(tr.xy[k], expected, rtol=2e-3)


@pytest.mark.parametrize("steps", sorted({1, 2, runner.CHUNK - 2, runner.CHUNK - 1, runner.CHUNK,
                                          runner.CHUNK + 1, 2 * runner.CHUNK, 2 * runner.CHUNK + 1, 3000}))
def test_step_counts_at_chunk_and_bucket_edges(steps):
    long = optimizers.run("saddle", "adam", steps=3000)
    tr = optimizers.run("saddle", "adam", steps=steps)
    assert tr.xy.shape == (steps + 1, 2) and tr.lr.shape == (steps,)
    np.testing.assert_array_equal(tr.xy, long.xy[: steps + 1])
    np.testing.assert_array_equal(tr.loss, long.loss[: steps + 1])


# --- run_batch ------------------------------------------------------------------------------

BATCH_TOL = dict(rtol=1e-5, atol=1e-6)  # vmap may fuse the arithmetic differently


def test_run_batch_over_start_points():
    starts = np.array([[-1.5, 2.0], [0.5, -0.5], [1.2, 1.2], [-0.3, 0.1]], np.float32)
    batch = optimizers.run_batch("rosenbrock", "adam", starts=starts, steps=400, learning_rate=1e-2)
    assert len(batch) == 4
    assert batch.xy.shape == (4, 401, 2) and batch.loss.shape == (4, 401) and batch.grad.shape == (4, 401, 2)
    assert batch.diverged_at.shape == (4,) and np.all(batch.diverged_at == -1)
    for i, s in enumerate(starts):
        tr = optimizers.run("rosenbrock", "adam", start=s, steps=400, learning_rate=1e-2)
        np.testing.assert_array_equal(batch.xy[i, 0], s)
        np.testing.assert_allclose(batch.xy[i], tr.xy, **BATCH_TOL)
        np.testing.assert_allclose(batch.loss[i], tr.loss, rtol=1e-5, atol=1e-5)


def test_run_batch_over_hyperparameters_with_a_schedule_and_lookahead():
    lrs = np.array([1e-3, 5e-3, 2e-2])
    b1s = np.array([0.5, 0.9, 0.95])
    kw = dict(steps=300, schedule="cosine", schedule_params=dict(decay_steps=250), lookahead=True, sync_period=4)
    batch = optimizers.run_batch("saddle", "adam", learning_rate=lrs, b1=b1s, b2=0.99, **kw)
    assert batch.xy.shape == (3, 301, 2)
    for i in range(3):
        tr = optimizers.run("saddle", "adam", learning_rate=lrs[i], b1=b1s[i], b2=0.99, **kw)
        np.testing.assert_allclose(batch.xy[i], tr.xy, **BATCH_TOL)


def test_run_batch_over_seeds_and_starts_together():
    starts = np.array([[0.5, 0.5], [-1.0, 1.0], [1.0, 2.0]])
    seeds = [0, 1, 2]
    batch = optimizers.run_batch("quadratic", "momentum", starts=starts, seeds=seeds, steps=200,
                                 learning_rate=0.01, noise=2.0, clip_norm=5.0)
    for i in range(3):
        tr = optimizers.run("quadratic", "momentum", start=starts[i], seed=seeds[i], steps=200,
                            learning_rate=0.01, noise=2.0, clip_norm=5.0)
        np.testing.assert_allclose(batch.xy[i], tr.xy, **BATCH_TOL)
    assert not np.allclose(batch.xy[0, 1:], batch.xy[1, 1:])


def test_run_batch_with_one_run_and_shared_scalars():
    batch = optimizers.run_batch("rosenbrock", "rmsprop", steps=100, learning_rate=1e-3)
    tr = optimizers.run("rosenbrock", "rmsprop", steps=100, learning_rate=1e-3)
    assert batch.xy.shape == (1, 101, 2)
    np.testing.assert_allclose(batch.xy[0], tr.xy, **BATCH_TOL)


def test_run_batch_reports_divergence_per_run():
    lrs = [1e-4, 0.1, 1e-3]
    batch = optimizers.run_batch("rosenbrock", "sgd", learning_rate=lrs, steps=100)
    for i, lr in enumerate(lrs):
        tr = optimizers.run("rosenbrock", "sgd", learning_rate=lr, steps=100)
        expected = -1 if tr.diverged_at is None else tr.diverged_at
        assert batch.diverged_at[i] == expected
        if expected >= 0:
            assert np.isnan(batch.xy[i, expected:]).all() and np.isfinite(batch.xy[i, :expected]).all()
    assert batch.diverged_at[1] > 0 and batch.diverged_at[0] == -1


BAD_BATCHES = [
    (dict(starts=np.zeros((3, 2)), learning_rate=[0.1, 0.2]), ["different lengths", "2", "3"]),
    (dict(learning_rate=[0.1, 0.2], b1=[0.5, 0.6, 0.7]), ["different lengths"]),
    (dict(starts=np.zeros((2, 2)), seeds=[1, 2, 3], noise=1.0), ["different lengths"]),
    (dict(learning_rate=[0.01, 100.0]), ["learning_rate", "[1e-06, 10]"]),
    (dict(learning_rate=[0.01, float("nan")]), ["learning_rate"]),
    (dict(lr=[0.01, 0.02]), ["'lr'"]),
    (dict(starts=[[0.0, 0.0], [np.nan, 1.0]]), ["start"]),
    (dict(starts=[[0.0, 0.0], [1e9, 1.0]]), ["start"]),
    (dict(steps=0), ["steps"]),
    (dict(optimizer="nope"), ["unknown optimizer"]),
    (dict(schedule="nope"), ["unknown schedule"]),
    (dict(noise=-1.0), ["noise"]),
]


@pytest.mark.parametrize("change, fragments", BAD_BATCHES, ids=[repr(c)[:60] for c, _ in BAD_BATCHES])
def test_run_batch_bad_input(change, fragments):
    kw = {"optimizer": "adam", "steps": 10, **change}
    with pytest.raises(ValueError) as info:
        optimizers.run_batch("rosenbrock", kw.pop("optimizer"), **kw)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


# run_batch checks only the smallest and the largest value of each array, and
# converts seeds with a cast: values that `run` rejects slip through silently.
# (optimizers/__init__.py, run_batch; these tests fail until it validates each value.)
BAD_BATCH_VALUES = [
    # a non-integer between two valid integers: run(sync_period=2.5) is a ValueError
    (dict(lookahead=True, sync_period=[2, 2.5, 3]), ["sync_period"]),
    # a non-boolean between 0 and 1: run(nesterov=0.5) is a ValueError
    (dict(nesterov=[0, 0.5, 1]), ["nesterov"]),
    # negative / fractional / too large seeds are wrapped or truncated to other seeds
    (dict(noise=1.0, seeds=[-1, 2]), ["seed"]),
    (dict(noise=1.0, seeds=[1.5, 2.5]), ["seed"]),
    (dict(noise=1.0, seeds=[0, 2 ** 33]), ["seed"]),
    # (2, 4) is reshaped into four start points instead of being refused
    (dict(starts=np.zeros((2, 4))), ["start"]),
]


@pytest.mark.parametrize("change, fragments", BAD_BATCH_VALUES, ids=[repr(c)[:60] for c, _ in BAD_BATCH_VALUES])
def test_run_batch_checks_every_value(change, fragments):
    kw = {"optimizer": "adam", "steps": 10, **change}
    with pytest.raises(ValueError) as info:
        optimizers.run_batch("rosenbrock", kw.pop("optimizer"), **kw)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


# --- update rules on pytrees ------------------------------------------------------------------

def make_params():
    """A pytree of leaves of different shapes: a dict, nested tuples (one of 3 leaves), scalars.

    (Three distinct shapes only: eager JAX compiles each operation once per shape,
    which is most of this test's time.)
    """
    return {
        "w": jnp.asarray(np.linspace(-1.0, 1.2, 6).reshape(2, 3), jnp.float32),
        "b": jnp.asarray([0.5, -1.5, 0.25], jnp.float32),
        "nested": (jnp.float32(0.3), (jnp.asarray([1.0, -2.0, 0.5], jnp.float32), jnp.float32(-0.7),
                                       jnp.asarray([[2.0, -0.1, 0.0], [0.4, 1.1, -3.0]], jnp.float32))),
    }


def tree_grad(params):
    """A gradient that depends on the point, so every rule's state moves."""
    return jax.tree.map(lambda p: jnp.sin(3.0 * p) + 0.5 * p + 0.1, params)


def rule_hp(rule):
    hp = {k: jnp.float32(v) for k, v in rule.defaults.items()}
    hp["learning_rate"] = jnp.float32(min(rule.defaults["learning_rate"], 0.05))
    return hp


def run_rule(rule, params, hp, steps, update=None):
    update = update or rule.update
    state = rule.init(params)
    init_structure = jax.tree.structure(state)
    init_shapes = [(np.shape(x), jnp.asarray(x).dtype) for x in jax.tree.leaves(state)]
    out = []
    for _ in range(steps):
        updates, state = update(tree_grad(params), state, params, hp)
        assert jax.tree.structure(updates) == jax.tree.structure(params)
        for u, p in zip(jax.tree.leaves(updates), jax.tree.leaves(params)):
            assert u.shape == p.shape and u.dtype == jnp.float32
        # the state keeps its structure, shapes and dtypes (a lax.scan carry must)
        assert jax.tree.structure(state) == init_structure
        assert [(np.shape(x), jnp.asarray(x).dtype) for x in jax.tree.leaves(state)] == init_shapes
        params = jax.tree.map(lambda p, u: p + u, params, updates)
        out.append(params)
    return out


RULES = ([optimizers.get(n) for n in ALL_OPTIMIZERS]
         + [optimizers.get(n, lookahead=True) for n in ("sgd", "adam", "ftrl")])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rules_work_on_pytrees_eagerly_and_under_jit(rule):
    params = make_params()
    hp = rule_hp(rule)
    steps = 7  # past lookahead's default sync period of 6
    tree_run = run_rule(rule, params, hp, steps)
    jit_run = run_rule(rule, params, hp, steps, update=jax.jit(rule.update))

    # Under jit, XLA fuses (and may contract into FMAs) differently from eager
    # op-by-op execution: a few ulps.  RAdam's rho_t = rho_inf - 2t b2^t / (1 - b2^t)
    # cancels catastrophically at small t (2000 - 1994), which turns those ulps
    # into ~1e-4 relative in its rectification r_t, i.e. ~1e-6 on each rectified
    # step of size ~lr = 0.01 (measured 2.6e-6 after two of them).
    rectified = "radam" in rule.name or "ranger" in rule.name
    jit_rtol, jit_atol = (1e-4, 1e-5) if rectified else (1e-5, 1e-6)
    leaves, treedef = jax.tree.flatten(params)
    for i, leaf in enumerate(leaves):
        # the same rule on this leaf alone
        alone = run_rule(rule, leaf, hp, steps)
        for k in range(steps):
            np.testing.assert_allclose(jax.tree.leaves(tree_run[k])[i], alone[k], rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(jax.tree.leaves(jit_run[k])[i], alone[k], rtol=jit_rtol, atol=jit_atol)
    moved = [float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(tree_run[-1]), leaves)]
    assert min(moved) > 0.0


def test_rules_in_a_scan_over_a_pytree():
    # the way a training loop would use them: jit(scan) with traced hyperparameters
    rule = optimizers.get("adam", lookahead=True)
    params = make_params()

    @jax.jit
    def train(params, hp):
        def step(carry, _):
            p, s = carry
            u, s = rule.update(tree_grad(p), s, p, hp)
            return (jax.tree.map(jnp.add, p, u), s), None
        (p, _), _ = jax.lax.scan(step, (params, rule.init(params)), None, length=7)
        return p

    out = train(params, rule_hp(rule))
    eager = run_rule(rule, params, rule_hp(rule), 7)[-1]
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(eager)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
