"""Tests for optimizers.sweep and optimizers.tune: many runs as one summarised program.

Every cell must be what ``optimizers.run`` gives for the same settings (final loss,
divergence, first step within tol, final point, best loss, auc); changing the grid's
values must not recompile; bad input gets a ValueError that names the problem; and
``tune`` must pick what a plain loop over ``optimizers.run`` picks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import landscapes
import optimizers
from landscapes import Landscape
from optimizers import sweeping
from optimizers.sweeping import MAX_CELLS, _sweep_program  # the module; optimizers.sweep is the function

ROSEN_START = (-1.5, 2.0)
STEPS = 1500  # not a multiple of the summary chunk: the one-by-one tail runs too
LOSS_FLOOR = 1e-10  # losses this small are float32 noise (e.g. Himmelblau's (x² + y - 11)²)


# --- what optimizers.run says about one cell ----------------------------------------------

def expected(tr, f_min, tol):
    """The summary of one trajectory, computed the obvious way (float32 like the engine)."""
    loss = tr.loss.astype(np.float32)
    gap = loss - np.float32(f_min)
    hit = np.nonzero(gap <= np.float32(tol))[0]  # NaN rows (after divergence) never hit
    div = -1 if tr.diverged_at is None else tr.diverged_at
    alive = loss if div < 0 else loss[:div]
    return dict(
        final_loss=np.nan if div >= 0 else float(loss[-1]),
        final_xy=tr.xy[-1],
        steps_to_tol=int(hit[0]) if len(hit) else -1,
        diverged_at=div,
        best_loss=float(np.min(alive)) if len(alive) else np.nan,
        auc=math.inf if div >= 0 else float(np.mean(np.log10(np.maximum(gap.astype(np.float64), 0) + 1e-12))),
    )


def assert_cell(res, idx, want, what):
    got_loss = float(res.final_loss[idx])
    assert res.diverged_at[idx] == want["diverged_at"], what
    assert bool(res.diverged[idx]) == (want["diverged_at"] >= 0), what
    assert res.steps_to_tol[idx] == want["steps_to_tol"], what
    if math.isnan(want["final_loss"]):
        assert math.isnan(got_loss), what
        assert np.isnan(res.final_xy[idx]).all(), what
        assert res.auc[idx] == math.inf, what
    else:
        # atol: a loss of 1e-13 at a minimum is float32 rounding noise of the residuals
        np.testing.assert_allclose(got_loss, want["final_loss"], rtol=1e-5, atol=LOSS_FLOOR, err_msg=what)
        np.testing.assert_allclose(res.final_xy[idx], want["final_xy"], rtol=1e-5, atol=1e-6, err_msg=what)
        # the auc averages log10 of the gap, which once a run has converged is float32
        # rounding noise (1e-12 vs 1e-13): equal to a few hundredths of a decade
        np.testing.assert_allclose(res.auc[idx], want["auc"], rtol=1e-3, atol=2e-2, err_msg=what)
    if math.isnan(want["best_loss"]):
        assert math.isnan(res.best_loss[idx]), what
    else:
        np.testing.assert_allclose(res.best_loss[idx], want["best_loss"], rtol=1e-5, atol=LOSS_FLOOR, err_msg=what)


def pick_cells(res, n, seed):
    """n random cells plus, when there are any, one diverged, one within tol, one neither."""
    rng = np.random.default_rng(seed)
    cells = [tuple(int(i) for i in rng.integers(0, res.shape)) for _ in range(n)]
    for mask in (res.diverged, res.steps_to_tol >= 0, ~res.diverged & (res.steps_to_tol < 0)):
        where = np.argwhere(mask)
        if len(where):
            cells.append(tuple(int(i) for i in where[rng.integers(len(where))]))
    return cells


# --- hyperparameter maps --------------------------------------------------------------------

@pytest.fixture(scope="module")
def momentum_map():
    grid = {"learning_rate": np.logspace(-4.5, -2.5, 12), "momentum": np.linspace(0.0, 0.99, 10)}
    return grid, optimizers.sweep("rosenbrock", "momentum", start=ROSEN_START, steps=STEPS, grid=grid)


# Cell-for-cell equality holds to float32 rounding, not bit for bit: a vmapped program
# and a single run are vectorised differently by XLA (FMA contraction, vector body vs
# remainder), as run_batch and run are.  Where the dynamics are chaotic (Adam with a
# large constant rate, rattling around the minimum) an ulp becomes O(1) within a
# thousand steps for any two implementations, so the maps below stay where runs are
# stable: there, rtol 1e-5 on the final loss and exact step counts hold.

@pytest.fixture(scope="module")
def adam_map():
    grid = {"learning_rate": np.logspace(-3.5, -2.3, 10), "b1": np.linspace(0.0, 0.99, 8)}
    return grid, optimizers.sweep("rosenbrock", "adam", start=ROSEN_START, steps=STEPS, grid=grid)


def test_momentum_map_cells_equal_run(momentum_map):
    grid, res = momentum_map
    assert res.shape == (12, 10) and res.axes == ("learning_rate", "momentum")
    assert res.final_xy.shape == (12, 10, 2)
    # the map has all three kinds of cell, so each kind gets checked against run
    assert res.diverged.any() and (res.steps_to_tol >= 0).any() and (~res.diverged & (res.steps_to_tol < 0)).any()
    np.testing.assert_array_equal(res.grid["learning_rate"], grid["learning_rate"])
    for i, j in pick_cells(res, 6, seed=1):
        tr = optimizers.run("rosenbrock", "momentum", start=ROSEN_START, steps=STEPS,
                            learning_rate=grid["learning_rate"][i], momentum=grid["momentum"][j])
        assert_cell(res, (i, j), expected(tr, res.f_min, res.tol), f"cell {(i, j)}")


def test_adam_map_cells_equal_run(adam_map):
    grid, res = adam_map
    assert res.shape == (10, 8) and not res.diverged.any()
    assert (res.final_loss.max() > 5.0) and (res.final_loss.min() < 2.0)  # slow and fast cells
    for i, j in pick_cells(res, 6, seed=2):
        tr = optimizers.run("rosenbrock", "adam", start=ROSEN_START, steps=STEPS,
                            learning_rate=grid["learning_rate"][i], b1=grid["b1"][j])
        assert_cell(res, (i, j), expected(tr, res.f_min, res.tol), f"cell {(i, j)}")


def test_diverged_cells_are_blanked(momentum_map):
    _, res = momentum_map
    d = res.diverged
    assert d.any()
    assert np.isnan(res.final_loss[d]).all() and np.isnan(res.final_xy[d]).all()
    assert (res.steps_to_tol[d] == -1).all()  # on this map no run gets within tol before diverging
    assert (res.diverged_at[d] >= 0).all() and (res.diverged_at[~d] == -1).all()
    assert np.isinf(res.auc[d]).all() and np.isfinite(res.auc[~d]).all()
    assert (res.nearest_minimum[d] == -1).all() and (res.nearest_minimum[~d] == 0).all()
    assert np.isfinite(res.final_loss[~d]).all()


def test_extras_match_run_schedule_clip_noise_lookahead():
    # every extra is active here (the gradient starts 30x above the clip); larger rates
    # make clipped momentum on Rosenbrock chaotic (see above), so they are left out
    grid = {"learning_rate": np.array([1e-4, 1e-3, 2e-3, 3e-3])}
    kw = dict(start=ROSEN_START, steps=300, schedule="warmup_cosine",
              schedule_params={"warmup_steps": 50, "decay_steps": 300}, clip_norm=5.0,
              noise=0.5, seed=7, lookahead=True, sync_period=5, momentum=0.8)
    res = optimizers.sweep("rosenbrock", "momentum", grid=grid, tol=4.0, **kw)
    assert res.optimizer == "momentum+lookahead" and res.tol == 4.0
    assert (res.steps_to_tol[2:] > 0).all() and res.steps_to_tol[0] == -1
    for i, lr in enumerate(grid["learning_rate"]):
        tr = optimizers.run("rosenbrock", "momentum", learning_rate=lr, **kw)
        assert_cell(res, (i,), expected(tr, res.f_min, 4.0), f"lr={lr}")


# --- basin maps ------------------------------------------------------------------------------

def test_himmelblau_basin_map():
    L = landscapes.get("himmelblau")
    minima = np.array(L.minima)
    rng = np.random.default_rng(3)
    near = minima + rng.uniform(-0.4, 0.4, size=minima.shape)  # one start beside each minimum
    spread = rng.uniform(-4.5, 4.5, size=(12, 2))
    starts = np.concatenate([near, spread])
    res = optimizers.sweep("himmelblau", "adam", starts=starts, steps=600, learning_rate=0.05)
    assert res.shape == (16,) and res.axes == ("start",) and res.final_xy.shape == (16, 2)
    np.testing.assert_array_equal(res.nearest_minimum[:4], np.arange(4))
    np.testing.assert_array_equal(res.starts, starts)
    for k in [0, 1, 2, 3, 5, 9, 14]:
        tr = optimizers.run("himmelblau", "adam", start=starts[k], steps=600, learning_rate=0.05)
        assert_cell(res, (k,), expected(tr, res.f_min, res.tol), f"start {starts[k]}")
        d = np.linalg.norm(minima - tr.xy[-1], axis=1)
        assert res.nearest_minimum[k] == int(np.argmin(d))
        np.testing.assert_allclose(res.nearest_distance[k], d.min(), rtol=1e-4, atol=1e-6)
    converged = res.final_loss < 1e-6
    assert converged.sum() >= 10 and (res.nearest_distance[converged] < 1e-3).all()


def test_basin_map_knows_local_minima():
    starts = np.stack(np.meshgrid([-2.0, -1.0, 1.0, 2.0], [-1.0, 1.0], indexing="ij"), axis=-1)  # (4, 2, 2)
    res = optimizers.sweep("two_basin", "momentum", starts=starts, steps=400, learning_rate=0.01)
    assert res.minima[0] == landscapes.get("two_basin").minima[0] and len(res.minima) == 2
    np.testing.assert_array_equal(res.nearest_minimum, [[0, 0], [0, 0], [1, 1], [1, 1]])  # the shallow one is 1
    assert (res.nearest_distance < 1e-3).all()


def test_grid_of_starts_keeps_its_shape_and_combines_with_nothing_else():
    xs, ys = np.linspace(-4, 4, 3), np.linspace(-4, 4, 2)
    starts = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)  # (3, 2, 2)
    res = optimizers.sweep("himmelblau", "adam", starts=starts, steps=600, learning_rate=0.05)
    assert res.shape == (3, 2) and res.axes == ("start", "start")
    flat = optimizers.sweep("himmelblau", "adam", starts=starts.reshape(-1, 2), steps=600, learning_rate=0.05)
    np.testing.assert_array_equal(res.final_loss.ravel(), flat.final_loss)
    with pytest.raises(ValueError, match="at most 2 axes"):
        optimizers.sweep("himmelblau", "adam", starts=starts, steps=10, grid={"b1": [0.9, 0.5]})


def test_landscape_without_minima_estimates_f_min():
    L = Landscape(name="tilted_bowl", f=lambda xy: (xy[0] - 0.5) ** 2 + 2.0 * xy[1] ** 2 + 1.0,
                  domain=((-2, 2), (-2, 2)), start=(1.5, 1.5))
    assert L.f_min is None
    res = optimizers.sweep(L, "sgd", steps=200, grid={"learning_rate": [0.01, 0.1, 0.2]})
    assert res.f_min_estimated and abs(res.f_min - 1.0) < 1e-3
    assert (res.nearest_minimum == -1).all() and res.minima == ()
    assert (res.steps_to_tol[1:] >= 0).all()


# --- one program per kind of sweep ----------------------------------------------------------

def test_changing_grid_values_does_not_recompile(momentum_map):
    grid, _ = momentum_map
    optimizers.sweep("rosenbrock", "momentum", start=ROSEN_START, steps=STEPS, grid=grid)  # (held, or made
    before = _sweep_program.programs_made()  # again if the tests before pushed it out of the bounded store)
    for scale in (0.5, 0.25):
        other = {"learning_rate": grid["learning_rate"] * scale, "momentum": grid["momentum"][::-1] * 0.9}
        optimizers.sweep("rosenbrock", "momentum", start=(0.5, -0.5), steps=STEPS - 7, grid=other,
                         nesterov=True, tol=1e-2)  # start, steps (same bucket), fixed hp, tol: all traced
    assert _sweep_program.programs_made() == before
    # ...while a different rule is a different program: the counter does count
    optimizers.sweep("rosenbrock", "nesterov", start=ROSEN_START, steps=STEPS, grid=grid)
    assert _sweep_program.programs_made() == before + 1


def test_progress_callback_runs_in_chunks_with_the_same_numbers(momentum_map, monkeypatch):
    grid, res = momentum_map
    seen = []
    one = []
    optimizers.sweep("rosenbrock", "momentum", start=ROSEN_START, steps=STEPS, grid=grid, on_progress=one.append)
    assert one == [1.0]  # a small sweep: one call, one report
    monkeypatch.setattr(sweeping, "PROGRESS_WORK", 1)  # every sweep is large: chunks
    chunked = optimizers.sweep("rosenbrock", "momentum", start=ROSEN_START, steps=STEPS, grid=grid,
                               on_progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 1
    for name in ("steps_to_tol", "diverged_at"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(res, name), err_msg=name)
    for name in ("final_loss", "best_loss", "auc"):  # another batch size: float32 rounding may differ
        np.testing.assert_allclose(getattr(chunked, name), getattr(res, name), rtol=1e-5, err_msg=name)


# --- the fair race --------------------------------------------------------------------------

def brute_force_best(objective, lrs, **kw):
    """The lr a loop over optimizers.run picks: lowest objective, diverged runs never win."""
    values = []
    for lr in lrs:
        tr = optimizers.run(learning_rate=lr, **kw)
        e = expected(tr, landscapes.get(kw["landscape"]).f_min, 1e-3)
        v = {"final_loss": e["final_loss"], "auc": e["auc"],
             "steps_to_tol": e["steps_to_tol"] if e["steps_to_tol"] >= 0 else math.inf}[objective]
        values.append(math.inf if e["diverged_at"] >= 0 or math.isnan(v) else v)
    return lrs[int(np.argmin(values))], min(values)


@pytest.mark.parametrize("objective", ["final_loss", "steps_to_tol", "auc"])
def test_tune_picks_what_a_loop_over_run_picks(objective):
    lrs = np.logspace(-4, -1.5, 8)
    kw = dict(landscape="rosenbrock", optimizer="momentum", start=ROSEN_START, steps=800)
    out = optimizers.tune(kw["landscape"], kw["optimizer"], kw["start"], kw["steps"],
                          objective=objective, lr_grid=lrs)
    lr, value = brute_force_best(objective, lrs, **kw)
    assert out["learning_rate"] == lr and out["objective"] == objective
    if objective == "auc":
        np.testing.assert_allclose(out["value"], value, rtol=1e-4)
    else:
        assert out["value"] == pytest.approx(value, rel=1e-5)
    assert out["result"].shape == (8,) and out["result"].diverged.any()


def test_tune_with_a_second_hyperparameter_and_defaults():
    out = optimizers.tune("rosenbrock", "momentum", ROSEN_START, 400, extra={"momentum": [0.0, 0.9]},
                          lr_grid=np.logspace(-4, -2, 5))
    res = out["result"]
    assert res.shape == (5, 2) and set(out) >= {"learning_rate", "momentum", "value", "index", "result"}
    i, j = out["index"]
    assert out["momentum"] == res.grid["momentum"][j] and out["learning_rate"] == res.grid["learning_rate"][i]
    assert out["value"] == np.nanmin(res.final_loss)


def test_tune_all_diverged_is_a_clear_error():
    with pytest.raises(ValueError, match="diverged .* every learning rate"):
        optimizers.tune("rosenbrock", "sgd", ROSEN_START, 100, lr_grid=[1.0, 3.0, 10.0])


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(grid={"beta": [0.1, 0.2]}), "momentum has no hyperparameter 'beta'"),
    (dict(grid={"momentum": [0.5, 1.5]}), r"momentum.*valid range is \[0, 0.9999\]"),
    (dict(grid={"learning_rate": [1e-3, 0.0]}), r"learning_rate.*valid range is \[1e-06, 10\]"),
    (dict(grid={"learning_rate": [[1e-3, 1e-2]]}), "1-D"),
    (dict(grid={"learning_rate": []}), "1-D with 1 to 256 values"),
    (dict(grid={"learning_rate": np.full(257, 1e-3)}), "1-D with 1 to 256 values"),
    (dict(grid={"learning_rate": [1e-3, np.nan]}), "finite"),
    (dict(grid={"learning_rate": "0.1"}), "1-D array of numbers"),
    (dict(grid={"nesterov": [0.0, 0.5]}), "true or false"),
    (dict(grid={"learning_rate": [1e-3], "momentum": [0.9], "ema": [0.0]}), "at most 2 axes"),
    (dict(grid={"momentum": [0.5]}, momentum=0.9), "both swept"),
    (dict(grid=[("learning_rate", [0.1])]), "grid must map"),
    (dict(starts=[1.0, 2.0]), r"\(n, 2\)"),
    (dict(starts=np.zeros((3, 3))), r"\(n, 2\)"),
    (dict(starts=[[0.0, np.inf]]), "finite"),
    (dict(starts=np.zeros((MAX_CELLS + 1, 2))), "too many"),
    (dict(starts=[[0.0, 0.0]], start=(1.0, 1.0)), "not both"),
    (dict(grid={"learning_rate": [0.1]}, tol=-1.0), "tol"),
    (dict(grid={"learning_rate": [0.1]}, steps=0), "steps"),
    (dict(grid={"learning_rate": [0.1]}, schedule="sideways"), "unknown schedule"),
    (dict(grid={"learning_rate": [0.1]}, noise=-1.0), "noise"),
    (dict(grid={"learning_rate": np.full(256, 1e-3), "momentum": np.full(256, 0.5)}, steps=100_000),
     "too much work"),
])
def test_bad_input_is_a_clear_value_error(kwargs, message):
    kwargs = {"steps": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        optimizers.sweep("rosenbrock", "momentum", **kwargs)


def test_bad_names_and_tune_arguments():
    with pytest.raises(ValueError, match="unknown optimizer"):
        optimizers.sweep("rosenbrock", "adamz", grid={"learning_rate": [0.1]})
    with pytest.raises(ValueError, match="unknown landscape"):
        optimizers.sweep("nowhere", "adam", grid={"learning_rate": [0.1]})
    with pytest.raises(ValueError, match="unknown objective"):
        optimizers.tune("rosenbrock", "adam", objective="speed")
    with pytest.raises(ValueError, match="extra must"):
        optimizers.tune("rosenbrock", "adam", extra={"b1": [0.9], "b2": [0.99]})
    with pytest.raises(ValueError, match="b3"):
        optimizers.tune("rosenbrock", "adam", extra={"b3": [0.9]})
