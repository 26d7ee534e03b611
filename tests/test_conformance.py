"""Step-by-step conformance of the update rules against independent implementations.

Every trajectory our runner produces is compared row by row (500 steps, on the
quadratic, Rosenbrock and saddle landscapes) with:

- optax: the optax optimizer driven by ``jax.value_and_grad`` and
  ``optax.apply_updates`` in a ``lax.scan``, float32 (the project's reference);
- torch.optim, where PyTorch uses the same convention (the gradient is computed
  with JAX at the torch parameter's value, so only the update rule differs);
- FTRL: Keras's published ``Ftrl.update_step``, re-written here in float64 NumPy
  with analytic float64 gradients;
- learning-rate schedules: optax's schedules (``inverse_time``: Keras's
  ``InverseTimeDecay`` formula written here), the trajectory and ``tr.lr``;
- clipping: ``optax.clip`` / ``optax.clip_by_global_norm`` chained before the rule;
- gradient noise: reproducibility and its statistics on a flat landscape.

"The same hyperparameters": optax folds Python-float constants in float64
(``1 - 0.9`` computed in double) while our hyperparameters are traced float32
values, so every number handed to optax is a ``jnp.float32`` (and to torch the
float32-rounded value).  Learning rates are chosen per landscape in a stable,
non-chaotic regime: where a method jitters chaotically (RMSProp at a large rate
in Rosenbrock's valley, say) a 1-ulp difference (two rsqrt implementations) is
amplified exponentially and no tolerance is meaningful.  Each test also checks
that the reference stayed finite and actually moved, so none passes vacuously.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

import landscapes
import optimizers
from landscapes import Landscape

STEPS = 500
LANDSCAPES = ("quadratic", "rosenbrock", "saddle")

# Tolerances (float32 trajectories).
RTOL = 1e-5
# Absolute floor: coordinates that converge to 0 (the quadratic's minimum, the
# saddle's x) have no meaningful relative error -- near 1e-20 a single rounding
# difference earlier in the run is a relative error of order 1.  1e-6 is about
# 8 float32 ulps of a coordinate of size 1, far below anything visible.
ATOL = 1e-6

f32 = jnp.float32


def r32(x: float) -> float:
    """``x`` rounded to float32, as a Python float (what torch gets)."""
    return float(np.float32(x))


def obj_params(L: Landscape) -> dict:
    return {k: jnp.float32(v) for k, v in L.objective_params.items()}


def optax_trajectory(L: Landscape, tx, steps: int = STEPS, start=None, lookahead: bool = False):
    """Rows 0..steps of the points visited by optax transformation ``tx`` (float32).

    The landscape's numeric parameters are passed as traced float32 arguments,
    exactly as the runner passes them (``L.objective(xy, params)`` is ``L.f``);
    baking them in as constants would let XLA constant-fold cos/sin of the
    quadratic's angle with a different rounding than at run time.
    """
    start = L.start if start is None else start

    def run(x0, params):
        value_and_grad = jax.value_and_grad(L.objective)
        p0 = optax.LookaheadParams.init_synced(x0) if lookahead else x0

        def step(carry, _):
            p, state = carry
            fast = p.fast if lookahead else p  # lookahead: gradients at the fast weights
            loss, g = value_and_grad(fast, params)
            updates, state = tx.update(g, state, p)
            return (optax.apply_updates(p, updates), state), fast

        _, xs = jax.lax.scan(step, (p0, tx.init(p0)), None, length=steps + 1)
        return xs

    return np.asarray(jax.jit(run)(jnp.asarray(start, jnp.float32), obj_params(L)))


def assert_trajectory(ours, ref, rtol=RTOL, atol=ATOL):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape
    # a meaningful comparison: the reference stayed finite and went somewhere
    assert np.isfinite(ref).all(), "reference diverged: pick a stable learning rate"
    assert np.linalg.norm(ref[-1] - ref[0]) > 1e-2, "reference did not move"
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol)


def pick(value, landscape: str):
    """A hyperparameter may be given per landscape as a dict."""
    return value[landscape] if isinstance(value, dict) else value


# --- optax -------------------------------------------------------------------------------

@dataclass
class OptaxCase:
    id: str
    optimizer: str
    hp: dict  # our hyperparameters (values may be {landscape: value})
    make: Callable[[dict], optax.GradientTransformation]  # hp (resolved floats) -> optax
    run_kwargs: dict = field(default_factory=dict)
    lookahead: bool = False  # compare our (fast) weights with optax's LookaheadParams.fast


def _adam_args(h):
    return f32(h["learning_rate"]), f32(h.get("b1", 0.9)), f32(h.get("b2", 0.999)), f32(h.get("eps", 1e-8))


# Rosenbrock's curvature at the start is ~2000, so plain gradient steps must stay
# below ~1e-3; along these runs the other two landscapes' curvatures stay below ~10.
SGD_LR = {"quadratic": 0.05, "rosenbrock": 5e-4, "saddle": 0.05}
MOMENTUM_LR = {"quadratic": 0.02, "rosenbrock": 1e-4, "saddle": 0.02}
# RAdam's first 5 steps are un-rectified momentum steps of size lr * |g|.
RADAM_LR = {"quadratic": 0.01, "rosenbrock": 1e-3, "saddle": 0.01}

OPTAX_CASES = [
    OptaxCase("sgd", "sgd", dict(learning_rate=SGD_LR),
              lambda h: optax.sgd(f32(h["learning_rate"]))),
    OptaxCase("momentum", "momentum", dict(learning_rate=MOMENTUM_LR, momentum=0.8),
              lambda h: optax.sgd(f32(h["learning_rate"]), momentum=f32(h["momentum"]))),
    OptaxCase("momentum-nesterov", "momentum", dict(learning_rate=MOMENTUM_LR, momentum=0.7, nesterov=True),
              lambda h: optax.sgd(f32(h["learning_rate"]), momentum=f32(h["momentum"]), nesterov=True)),
    # the average form v <- mu v + (1 - mu) g from v_0 = 0: optax.ema without debiasing
    OptaxCase("momentum-ema", "momentum", dict(learning_rate=SGD_LR, momentum=0.8, ema=True),
              lambda h: optax.chain(optax.ema(f32(h["momentum"]), debias=False),
                                    optax.scale(-f32(h["learning_rate"])))),
    OptaxCase("nesterov", "nesterov", dict(learning_rate=MOMENTUM_LR, momentum=0.8),
              lambda h: optax.sgd(f32(h["learning_rate"]), momentum=f32(h["momentum"]), nesterov=True)),
    # eps values large enough that where eps sits (inside or outside the root,
    # inside the max) changes the trajectory far beyond the tolerance
    OptaxCase("adagrad", "adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.2, eps=0.1),
              lambda h: optax.adagrad(f32(h["learning_rate"]), f32(h["initial_accumulator_value"]), f32(h["eps"]))),
    OptaxCase("adagrad-defaults", "adagrad", dict(learning_rate=0.1),
              lambda h: optax.adagrad(f32(h["learning_rate"]), f32(0.1), f32(1e-7))),
    OptaxCase("rmsprop", "rmsprop", dict(learning_rate=1e-3, decay=0.95, eps=0.1),
              lambda h: optax.rmsprop(f32(h["learning_rate"]), f32(h["decay"]), f32(h["eps"]))),
    # Centered RMSProp divides by sqrt(nu - m^2 + eps).  Where the gradient barely
    # changes from step to step (the quadratic's straight descent), nu - m^2 decays
    # like decay^t relative to nu: after ~150 steps at decay = 0.9 it is rounding
    # noise (a catastrophic cancellation) and the step is decided by 1-ulp
    # differences in how XLA fuses the arithmetic (our step and optax's are
    # bitwise equal when compiled alone).  decay = 0.999 keeps nu / (nu - m^2)
    # below ~2 over 500 steps of a slowly turning gradient.
    OptaxCase("rmsprop-centered", "rmsprop", dict(learning_rate=1e-3, decay=0.999, centered=True),
              lambda h: optax.rmsprop(f32(h["learning_rate"]), f32(h["decay"]), f32(1e-8), centered=True)),
    OptaxCase("rmsprop-eps-outside", "rmsprop", dict(learning_rate=1e-3, eps=0.1, eps_in_sqrt=False),
              lambda h: optax.rmsprop(f32(h["learning_rate"]), f32(0.9), f32(h["eps"]), eps_in_sqrt=False)),
    OptaxCase("rmsprop-momentum", "rmsprop", dict(learning_rate=1e-3, momentum=0.5),
              lambda h: optax.rmsprop(f32(h["learning_rate"]), f32(0.9), f32(1e-8), momentum=f32(h["momentum"]))),
    OptaxCase("rmsprop-nesterov", "rmsprop", dict(learning_rate=1e-3, momentum=0.5, nesterov=True),
              lambda h: optax.rmsprop(f32(h["learning_rate"]), f32(0.9), f32(1e-8), momentum=f32(h["momentum"]),
                                      nesterov=True)),
    # AdaDelta's steps scale themselves; at rho >= 0.95 it starts zig-zagging
    # across Rosenbrock's valley after ~200 steps, and 1-ulp differences grow
    # 1000-fold while the zig-zag sets in (optax against itself, eager against
    # scan, shows it too): rho = 0.85 stays on the smooth side.
    OptaxCase("adadelta", "adadelta", dict(learning_rate=1.0, rho=0.85, eps=1e-6),
              lambda h: optax.adadelta(f32(h["learning_rate"]), f32(h["rho"]), f32(h["eps"]))),
    OptaxCase("adam", "adam", dict(learning_rate=1e-2, b1=0.8, b2=0.99, eps=0.1),
              lambda h: optax.adam(*_adam_args(h), f32(0.0))),
    OptaxCase("adam-eps-root", "adam", dict(learning_rate=1e-2, eps_root=0.01),
              lambda h: optax.adam(*_adam_args(h), f32(h["eps_root"]))),
    OptaxCase("nadam", "nadam", dict(learning_rate=1e-2, b1=0.8, eps=0.05),
              lambda h: optax.nadam(*_adam_args(h), f32(0.0))),
    OptaxCase("adamax", "adamax", dict(learning_rate=1e-2, b1=0.8, b2=0.99, eps=0.1),
              lambda h: optax.adamax(*_adam_args(h))),
    OptaxCase("amsgrad", "amsgrad", dict(learning_rate=1e-2, b2=0.99, eps_root=0.01),
              lambda h: optax.amsgrad(*_adam_args(h), f32(h["eps_root"]))),
    OptaxCase("radam", "radam", dict(learning_rate=RADAM_LR),
              lambda h: optax.radam(*_adam_args(h), f32(0.0), f32(5.0))),
    OptaxCase("radam-nesterov", "radam", dict(learning_rate=RADAM_LR, nesterov=True, threshold=6.0),
              lambda h: optax.radam(*_adam_args(h), f32(0.0), f32(h["threshold"]), nesterov=True)),
    OptaxCase("adamw", "adamw", dict(learning_rate=1e-2, weight_decay=0.1),
              lambda h: optax.adamw(*_adam_args(h), f32(0.0), weight_decay=f32(h["weight_decay"]))),
    OptaxCase("lookahead-adam", "adam", dict(learning_rate=1e-2, sync_period=5, slow_step_size=0.6),
              lambda h: optax.lookahead(optax.adam(*_adam_args(h), f32(0.0)), 5, f32(h["slow_step_size"])),
              run_kwargs=dict(lookahead=True), lookahead=True),
    OptaxCase("lookahead-momentum", "momentum", dict(learning_rate=MOMENTUM_LR, momentum=0.8, sync_period=3),
              lambda h: optax.lookahead(optax.sgd(f32(h["learning_rate"]), momentum=f32(h["momentum"])), 3,
                                        f32(0.5)),
              run_kwargs=dict(lookahead=True), lookahead=True),
    OptaxCase("ranger", "ranger", dict(learning_rate=RADAM_LR),
              lambda h: optax.lookahead(optax.radam(*_adam_args(h), f32(0.0), f32(5.0)), 6, f32(0.5)),
              lookahead=True),
]


@pytest.mark.parametrize("landscape", LANDSCAPES)
@pytest.mark.parametrize("case", OPTAX_CASES, ids=lambda c: c.id)
def test_matches_optax(case: OptaxCase, landscape: str):
    L = landscapes.get(landscape)
    hp = {k: pick(v, landscape) for k, v in case.hp.items()}
    tr = optimizers.run(landscape, case.optimizer, steps=STEPS, **case.run_kwargs, **hp)
    ref = optax_trajectory(L, case.make(hp), lookahead=case.lookahead)
    assert tr.diverged_at is None
    assert_trajectory(tr.xy, ref)


def test_optax_every_optimizer_that_optax_has_is_covered():
    covered = {c.optimizer for c in OPTAX_CASES}
    # ftrl: optax has none (Keras reference below)
    assert set(optimizers.names()) - {"ftrl"} <= covered


def test_matches_optax_from_other_start_points():
    L = landscapes.get("rosenbrock")
    for start in [(0.5, -0.5), (-1.0, 1.0)]:
        tr = optimizers.run(L, "adam", start=start, steps=STEPS, learning_rate=0.01)
        ref = optax_trajectory(L, optax.adam(f32(0.01), f32(0.9), f32(0.999), f32(1e-8), f32(0.0)), start=start)
        assert_trajectory(tr.xy, ref)


def test_matches_optax_on_a_custom_landscape():
    # the contract's example landscape, through both paths
    L = Landscape(name="mine", f=lambda p: p[0] ** 2 + 3 * p[1] ** 2, domain=((-2, 2), (-2, 2)),
                  minima=[(0, 0)], start=(1.5, 1.5))
    tr = optimizers.run(L, "nadam", steps=STEPS, learning_rate=0.02)
    ref = optax_trajectory(L, optax.nadam(f32(0.02), f32(0.9), f32(0.999), f32(1e-8), f32(0.0)))
    assert_trajectory(tr.xy, ref)


def test_quadratic_parameters_match_optax():
    L = landscapes.get("quadratic", condition=100.0, angle=-60.0)
    tr = optimizers.run(L, "momentum", steps=STEPS, learning_rate=0.005, momentum=0.9)
    ref = optax_trajectory(L, optax.sgd(f32(0.005), momentum=f32(0.9)))
    assert_trajectory(tr.xy, ref)


# --- torch.optim -------------------------------------------------------------------------

def torch_trajectory(L: Landscape, make, steps: int = STEPS, start=None, prepare=None):
    """Rows 0..steps of a torch.optim optimizer; gradients from JAX at torch's point."""
    start = L.start if start is None else start
    params = obj_params(L)
    grad = jax.jit(jax.grad(L.objective))
    p = torch.nn.Parameter(torch.tensor(np.asarray(start, np.float32)))
    opt = make([p])
    if prepare is not None:
        prepare(opt, p)
    rows = [p.detach().numpy().copy()]
    for _ in range(steps):
        g = np.asarray(grad(jnp.asarray(p.detach().numpy()), params))
        p.grad = torch.from_numpy(np.array(g, np.float32))
        opt.step()
        rows.append(p.detach().numpy().copy())
    return np.stack(rows)


def _zero_momentum_buffer(opt, p):
    # PyTorch starts its momentum buffer at the first gradient (buf_1 = g_1, no
    # dampening), while the average form v <- mu v + (1 - mu) g of the seeds and
    # TF docs, which is ours, starts from v_0 = 0.  With the buffer seeded at 0,
    # torch's update buf <- mu buf + (1 - dampening) g is exactly that form.
    opt.state[p]["momentum_buffer"] = torch.zeros_like(p)


@dataclass
class TorchCase:
    id: str
    optimizer: str
    hp: dict
    make: Callable  # hp -> (params -> torch optimizer)
    rtol: float = RTOL
    prepare: Callable | None = None


T = torch.optim
ADAMAX_LR = {"quadratic": 0.01, "rosenbrock": 1e-3, "saddle": 0.01}

TORCH_CASES = [
    TorchCase("sgd-momentum", "momentum", dict(learning_rate=MOMENTUM_LR, momentum=0.8),
              lambda h: lambda ps: T.SGD(ps, lr=r32(h["learning_rate"]), momentum=r32(h["momentum"]), foreach=False)),
    TorchCase("sgd-nesterov", "nesterov", dict(learning_rate=MOMENTUM_LR, momentum=0.8),
              lambda h: lambda ps: T.SGD(ps, lr=r32(h["learning_rate"]), momentum=r32(h["momentum"]), nesterov=True,
                                         foreach=False)),
    TorchCase("sgd-dampening-ema", "momentum", dict(learning_rate=SGD_LR, momentum=0.8, ema=True),
              lambda h: lambda ps: T.SGD(ps, lr=r32(h["learning_rate"]), momentum=r32(h["momentum"]),
                                         dampening=r32(h["momentum"]), foreach=False),
              prepare=_zero_momentum_buffer),
    TorchCase("adagrad", "adagrad",
              dict(learning_rate=0.1, initial_accumulator_value=0.0, eps=1e-10, eps_in_sqrt=False),
              lambda h: lambda ps: T.Adagrad(ps, lr=r32(h["learning_rate"]), initial_accumulator_value=0.0,
                                             eps=r32(h["eps"]), foreach=False)),
    TorchCase("rmsprop", "rmsprop", dict(learning_rate=1e-3, decay=0.99, eps=0.01, eps_in_sqrt=False),
              lambda h: lambda ps: T.RMSprop(ps, lr=r32(h["learning_rate"]), alpha=r32(h["decay"]), eps=r32(h["eps"]),
                                             foreach=False)),
    TorchCase("rmsprop-centered", "rmsprop", dict(learning_rate=1e-3, decay=0.99, eps_in_sqrt=False, centered=True),
              lambda h: lambda ps: T.RMSprop(ps, lr=r32(h["learning_rate"]), alpha=r32(h["decay"]), eps=r32(1e-8),
                                             centered=True, foreach=False)),
    TorchCase("rmsprop-momentum", "rmsprop", dict(learning_rate=1e-3, decay=0.99, eps_in_sqrt=False, momentum=0.5),
              lambda h: lambda ps: T.RMSprop(ps, lr=r32(h["learning_rate"]), alpha=r32(h["decay"]), eps=r32(1e-8),
                                             momentum=r32(h["momentum"]), foreach=False)),
    TorchCase("adam", "adam", dict(learning_rate=1e-2, b1=0.8, b2=0.99, eps=0.01),
              lambda h: lambda ps: T.Adam(ps, lr=r32(h["learning_rate"]), betas=(r32(h["b1"]), r32(h["b2"])),
                                          eps=r32(h["eps"]), foreach=False)),
    # torch applies AdamW's decay first, p <- p (1 - lr wd), then the Adam step;
    # optax (and we) subtract lr (adam + wd p) from the old p: the same number,
    # rounded differently.  Over 500 steps that drifts to just under 1e-5
    # relative (94% of the RTOL budget on Rosenbrock), so this one comparison
    # uses rtol = 3e-5.
    TorchCase("adamw", "adamw", dict(learning_rate=1e-2, weight_decay=0.1),
              lambda h: lambda ps: T.AdamW(ps, lr=r32(h["learning_rate"]), betas=(r32(0.9), r32(0.999)),
                                           eps=r32(1e-8), weight_decay=r32(h["weight_decay"]), foreach=False),
              rtol=3e-5),
    TorchCase("adamax", "adamax", dict(learning_rate=ADAMAX_LR, b1=0.8, b2=0.99, eps=0.01),
              lambda h: lambda ps: T.Adamax(ps, lr=r32(h["learning_rate"]), betas=(r32(h["b1"]), r32(h["b2"])),
                                            eps=r32(h["eps"]), foreach=False)),
    TorchCase("adadelta", "adadelta", dict(learning_rate=1.0, rho=0.85, eps=1e-6),
              lambda h: lambda ps: T.Adadelta(ps, lr=1.0, rho=r32(h["rho"]), eps=r32(h["eps"]), foreach=False)),
    # torch's RAdam adds eps to sqrt(v) before the bias correction (ours and
    # optax's: to sqrt(v_hat)) and computes rho_t and the rectification r_t in
    # float64 with a strict `> 5`.  In float32, rho_t = rho_inf - 2t b2^t/(1-b2^t)
    # cancels (2000 - 1994 at t = 6), so the first rectified steps differ by
    # ~1e-3 relative (on coordinates of size 1e-3, inside ATOL); over 500 steps
    # the worst element used ~65% of the RTOL = 1e-5 budget.
    TorchCase("radam", "radam", dict(learning_rate=RADAM_LR),
              lambda h: lambda ps: T.RAdam(ps, lr=r32(h["learning_rate"]), betas=(r32(0.9), r32(0.999)),
                                           eps=r32(1e-8), foreach=False)),
]


@pytest.mark.parametrize("landscape", LANDSCAPES)
@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.id)
def test_matches_torch(case: TorchCase, landscape: str):
    L = landscapes.get(landscape)
    hp = {k: pick(v, landscape) for k, v in case.hp.items()}
    tr = optimizers.run(landscape, case.optimizer, steps=STEPS, **hp)
    ref = torch_trajectory(L, case.make(hp), prepare=case.prepare)
    assert tr.diverged_at is None
    # torch computes sqrt / division in its own order (addcdiv, lerp, a double
    # bias correction): rounding differs per step, yet RTOL = 1e-5 holds for all
    # but AdamW (see above), the tightest that passes with a margin.
    assert_trajectory(tr.xy, ref, rtol=case.rtol)


# --- FTRL: Keras's update_step in float64 ------------------------------------------------

def grad64(L: Landscape):
    """Analytic float64 gradient of the three conformance landscapes."""
    if L.name == "quadratic":
        th, kappa = math.radians(L.params["angle"]), L.params["condition"]
        R = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
        H = R @ np.diag([1.0, kappa]) @ R.T  # f = 1/2 p^T H p
        return lambda p: H @ p
    if L.name == "rosenbrock":
        return lambda p: np.array([-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] ** 2), 200 * (p[1] - p[0] ** 2)])
    if L.name == "saddle":
        return lambda p: np.array([2 * p[0], -2 * p[1] + 2 * p[1] ** 3])
    raise AssertionError(L.name)


def keras_ftrl(grad, start, steps, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
               l1_regularization_strength=0.0, l2_regularization_strength=0.0,
               l2_shrinkage_regularization_strength=0.0, beta=0.0, linear0=None):
    """keras/src/optimizers/ftrl.py, Ftrl.update_step, line by line (float64); Keras starts
    ``linear`` at 0, ``linear0`` overrides that (our start_centred)."""
    lr, lr_power = learning_rate, learning_rate_power
    l1 = l1_regularization_strength
    variable = np.array(start, np.float64)
    accum = np.full(2, initial_accumulator_value, np.float64)
    linear = np.zeros(2) if linear0 is None else np.array(linear0, np.float64)
    rows = [variable.copy()]
    for _ in range(steps):
        gradient = grad(variable)
        l2_reg = l2_regularization_strength + beta / (2.0 * lr)
        grad_to_use = gradient + 2 * l2_shrinkage_regularization_strength * variable
        new_accum = accum + gradient ** 2
        linear = linear + grad_to_use - (new_accum ** (-lr_power) - accum ** (-lr_power)) / lr * variable
        quadratic = new_accum ** (-lr_power) / lr + 2 * l2_reg
        variable = (np.clip(linear, -l1, l1) - linear) / quadratic
        accum = new_accum
        rows.append(variable.copy())
    return np.stack(rows)


FTRL_SETTINGS = {
    "defaults": dict(learning_rate=0.1),
    "small-lr": dict(learning_rate=0.05),
    "all-terms": dict(learning_rate=0.1, learning_rate_power=-0.3, initial_accumulator_value=0.5,
                      l1_regularization_strength=0.01, l2_regularization_strength=0.01,
                      l2_shrinkage_regularization_strength=0.01, beta=0.1),
    # power 0: a fixed step, dual averaging with l1 (Rosenbrock needs a small rate)
    "fixed-rate-l1": dict(learning_rate={"quadratic": 0.02, "rosenbrock": 5e-4, "saddle": 0.02},
                          learning_rate_power=0.0, l1_regularization_strength=0.05),
}


@pytest.mark.parametrize("landscape", LANDSCAPES)
@pytest.mark.parametrize("setting", list(FTRL_SETTINGS))
def test_ftrl_matches_keras_formula(setting: str, landscape: str):
    L = landscapes.get(landscape)
    hp = {k: pick(v, landscape) for k, v in FTRL_SETTINGS[setting].items()}
    tr = optimizers.run(landscape, "ftrl", steps=STEPS, **hp)
    defaults = {k: v for k, v in optimizers.get("ftrl").defaults.items()
                if k not in ("learning_rate", "start_centred")}
    ref = keras_ftrl(grad64(L), L.start, STEPS, **{**defaults, **hp})
    assert tr.diverged_at is None
    # float32 against float64: each step rounds at ~6e-8 relative and the
    # accumulators (sums of g^2, the linear term) carry those errors along;
    # measured up to ~3e-5 relative over 500 steps, so rtol = 1e-4.
    assert_trajectory(tr.xy, ref, rtol=1e-4, atol=ATOL)


def test_ftrl_l1_gives_exact_zeros():
    # the point of FTRL's l1 term: coordinates with |z| <= l1 are exactly 0
    tr = optimizers.run("saddle", "ftrl", steps=200, learning_rate=0.1, l1_regularization_strength=0.01)
    assert np.all(tr.xy[1:, 1] == 0.0)


# --- learning-rate schedules ---------------------------------------------------------------

def keras_inverse_time(initial_learning_rate, decay_steps, decay_rate, staircase=False):
    """keras.optimizers.schedules.InverseTimeDecay.__call__."""
    def schedule(step):
        p = jnp.asarray(step, jnp.float32) / f32(decay_steps)
        if staircase:
            p = jnp.floor(p)
        return initial_learning_rate / (1 + f32(decay_rate) * p)
    return schedule


# kind, our schedule_params, optax schedule given init value lr (a float32)
SCHEDULE_CASES = {
    "constant": ("constant", {}, lambda lr: optax.constant_schedule(lr)),
    "exponential": ("exponential", dict(transition_steps=100, decay_rate=0.5),
                    lambda lr: optax.exponential_decay(lr, 100, f32(0.5))),
    "exponential-staircase": ("exponential", dict(transition_steps=75, decay_rate=0.7, staircase=True),
                              lambda lr: optax.exponential_decay(lr, 75, f32(0.7), staircase=True)),
    "piecewise": ("piecewise", dict(boundary1=100, scale1=0.5, boundary2=300, scale2=0.2),
                  lambda lr: optax.piecewise_constant_schedule(lr, {100: f32(0.5), 300: f32(0.2)})),
    "polynomial": ("polynomial", dict(transition_steps=400, end_factor=0.1, power=2.0),
                   lambda lr: optax.polynomial_schedule(lr, lr * f32(0.1), f32(2.0), 400)),
    "inverse_time": ("inverse_time", dict(decay_steps=100, decay_rate=0.5),
                     lambda lr: keras_inverse_time(lr, 100, 0.5)),
    "inverse_time-staircase": ("inverse_time", dict(decay_steps=60, decay_rate=2.0, staircase=True),
                               lambda lr: keras_inverse_time(lr, 60, 2.0, staircase=True)),
    "cosine": ("cosine", dict(decay_steps=400, alpha=0.1),
               lambda lr: optax.cosine_decay_schedule(lr, 400, f32(0.1))),
    "warmup": ("warmup", dict(warmup_steps=100),
               lambda lr: optax.linear_schedule(f32(0.0), lr, 100)),
    "warmup_cosine": ("warmup_cosine", dict(warmup_steps=100, decay_steps=400, alpha=0.1),
                      lambda lr: optax.warmup_cosine_decay_schedule(f32(0.0), lr, 100, 400, end_value=lr * f32(0.1))),
}

# (optimizer, landscape, learning rate, optax optimizer from a schedule)
SCHEDULED_RUNS = {
    "sgd-quadratic": ("sgd", "quadratic", 0.05, lambda s: optax.sgd(s)),
    "adam-rosenbrock": ("adam", "rosenbrock", 0.02,
                        lambda s: optax.adam(s, f32(0.9), f32(0.999), f32(1e-8), f32(0.0))),
}


def test_every_schedule_kind_is_covered():
    assert {kind for kind, _, _ in SCHEDULE_CASES.values()} == set(optimizers.schedule_names())


@pytest.mark.parametrize("run", list(SCHEDULED_RUNS))
@pytest.mark.parametrize("sched", list(SCHEDULE_CASES))
def test_schedule_matches_reference(sched: str, run: str):
    kind, params, make_schedule = SCHEDULE_CASES[sched]
    opt, landscape, lr, make_opt = SCHEDULED_RUNS[run]
    L = landscapes.get(landscape)
    schedule = make_schedule(f32(lr))
    tr = optimizers.run(landscape, opt, steps=STEPS, learning_rate=lr, schedule=kind, schedule_params=params)

    # the learning rate of update t (t = 0 .. steps-1), as optax counts
    ref_lr = np.asarray(jax.vmap(schedule)(jnp.arange(STEPS, dtype=jnp.int32)), np.float32)
    assert tr.lr.shape == (STEPS,)
    # optax's warm-up is lr - lr (1 - t/W), whose rounding error is ~1 ulp of lr
    # (not of lr_t, which starts at 0): hence an absolute floor of 1e-6 lr.
    np.testing.assert_allclose(tr.lr, ref_lr, rtol=RTOL, atol=1e-6 * lr)
    if kind != "constant":
        assert ref_lr.min() < 0.9 * lr or ref_lr[0] < 0.1 * lr  # the schedule did something in 500 steps

    ref = optax_trajectory(L, make_opt(schedule))
    assert tr.diverged_at is None
    assert_trajectory(tr.xy, ref)


# --- gradient clipping -------------------------------------------------------------------

CLIP_RUNS = [
    # (optimizer, landscape, hyperparameters, optax rule)
    ("adam", "rosenbrock", dict(learning_rate=0.01),
     lambda: optax.adam(f32(0.01), f32(0.9), f32(0.999), f32(1e-8), f32(0.0))),
    ("momentum", "quadratic", dict(learning_rate=0.02, momentum=0.8), lambda: optax.sgd(f32(0.02), momentum=f32(0.8))),
    ("sgd", "saddle", dict(learning_rate=0.05), lambda: optax.sgd(f32(0.05))),
    ("sgd", "rosenbrock", dict(learning_rate=1e-3), lambda: optax.sgd(f32(1e-3))),
]


@pytest.mark.parametrize("how", ["clip_value", "clip_norm"])
@pytest.mark.parametrize("run", CLIP_RUNS, ids=lambda r: f"{r[0]}-{r[1]}")
def test_clipping_matches_optax(run, how):
    opt, landscape, hp, make = run
    L = landscapes.get(landscape)
    c = 1.5
    clip = optax.clip(f32(c)) if how == "clip_value" else optax.clip_by_global_norm(f32(c))
    tr = optimizers.run(landscape, opt, steps=STEPS, **{how: c}, **hp)
    ref = optax_trajectory(L, optax.chain(clip, make()))
    assert tr.diverged_at is None
    assert_trajectory(tr.xy, ref)
    # clipping was active at the start and the recorded gradients respect it
    g0 = np.asarray(jax.grad(L.f)(jnp.asarray(L.start, jnp.float32)))
    assert np.linalg.norm(g0) > c
    size = np.abs(tr.grad).max(axis=1) if how == "clip_value" else np.linalg.norm(tr.grad, axis=1)
    assert size.max() <= c * (1 + 1e-6)


def test_clipping_schedule_and_lookahead_together_match_optax():
    # ranger with a warm-up-cosine schedule and clipping by norm, all at once
    L = landscapes.get("rosenbrock")
    lr = f32(0.01)
    sched = optax.warmup_cosine_decay_schedule(f32(0.0), lr, 50, 400, end_value=lr * f32(0.05))
    tx = optax.lookahead(optax.chain(optax.clip_by_global_norm(f32(10.0)),
                                     optax.radam(sched, f32(0.9), f32(0.999), f32(1e-8), f32(0.0), f32(5.0))),
                         4, f32(0.7))
    tr = optimizers.run(L, "ranger", steps=STEPS, learning_rate=0.01, sync_period=4, slow_step_size=0.7,
                        schedule="warmup_cosine",
                        schedule_params=dict(warmup_steps=50, decay_steps=400, alpha=0.05), clip_norm=10.0)
    ref = optax_trajectory(L, tx, lookahead=True)
    assert_trajectory(tr.xy, ref)


# --- gradient noise ----------------------------------------------------------------------

FLAT = Landscape(name="flat", f=lambda p: 0.0 * (p[0] + p[1]), domain=((-1, 1), (-1, 1)), start=(0.0, 0.0))


def test_noise_is_reproducible_and_depends_on_the_seed():
    kw = dict(steps=300, learning_rate=1e-3, noise=5.0)
    a = optimizers.run("rosenbrock", "adam", seed=7, **kw)
    b = optimizers.run("rosenbrock", "adam", seed=7, **kw)
    c = optimizers.run("rosenbrock", "adam", seed=8, **kw)
    np.testing.assert_array_equal(a.xy, b.xy)
    np.testing.assert_array_equal(a.grad, b.grad)
    assert not np.allclose(a.xy[1:], c.xy[1:])
    # and noise actually changed the run
    clean = optimizers.run("rosenbrock", "adam", **{**kw, "noise": 0.0})
    assert not np.allclose(a.xy[1:], clean.xy[1:])


def test_zero_noise_is_exactly_noise_free():
    a = optimizers.run("quadratic", "sgd", steps=200, learning_rate=0.05, noise=0.0, seed=3)
    b = optimizers.run("quadratic", "sgd", steps=200, learning_rate=0.05)
    np.testing.assert_array_equal(a.xy, b.xy)


def test_noise_statistics_on_a_flat_landscape():
    # f = 0: the gradient is pure noise sigma * xi, so sgd's xy is a random walk
    # whose increments are -lr * sigma * xi: mean 0, variance (lr sigma)^2,
    # independent across coordinates and steps.
    lr, sigma, n = 0.01, 3.0, 20_000
    tr = optimizers.run(FLAT, "sgd", steps=n, learning_rate=lr, noise=sigma, seed=123)
    assert tr.diverged_at is None
    inc = np.diff(tr.xy.astype(np.float64), axis=0)  # (n, 2)
    sd = lr * sigma
    # variance within 10% (the sampling error of a variance from 20,000 normal
    # samples is 1%), per coordinate
    np.testing.assert_allclose(inc.var(axis=0), sd ** 2, rtol=0.1)
    # mean within 5 standard errors of 0
    assert np.all(np.abs(inc.mean(axis=0)) < 5 * sd / math.sqrt(n))
    # the recorded gradients are the noise itself
    np.testing.assert_allclose(tr.grad[:-1].std(axis=0), sigma, rtol=0.1)
    # no correlation between the coordinates or from one step to the next
    assert abs(np.corrcoef(inc[:, 0], inc[:, 1])[0, 1]) < 0.05
    for k in range(2):
        assert abs(np.corrcoef(inc[:-1, k], inc[1:, k])[0, 1]) < 0.05


def test_ftrl_start_centred_first_step_is_adagrads():
    # Keras's z_0 = 0 is the origin: on the plateau, where |g_0| ~ 0.003 << sqrt(n_0),
    # the first step lands next to (0, 0) ...
    L = landscapes.get("plateau")
    x0 = np.array(L.start, np.float64)
    g0 = 2 * x0 * math.exp(-float(x0 @ x0))  # f = 1 - exp(-|x|^2), written out here
    n0, lr = 0.1, 0.1
    keras = keras_ftrl(lambda p: 2 * p * math.exp(-float(p @ p)), x0, 1, lr)
    np.testing.assert_allclose(keras[1], x0 * (1 - math.sqrt(n0) / np.sqrt(n0 + g0**2)) - lr * g0 / np.sqrt(n0 + g0**2))
    assert np.abs(keras[1]).max() < 1e-3
    tr = optimizers.run(L, "ftrl", steps=1, learning_rate=lr)
    np.testing.assert_allclose(tr.xy, keras, rtol=1e-3, atol=1e-6)
    # ... while start_centred=1 takes AdaGrad's first step from the start:
    # theta_1 = theta_0 - lr g_0 / sqrt(n_0 + g_0^2)
    adagrad_step = x0 - lr * g0 / np.sqrt(n0 + g0**2)
    tr = optimizers.run(L, "ftrl", steps=1, learning_rate=lr, start_centred=True)
    np.testing.assert_allclose(tr.xy[1], adagrad_step, rtol=1e-6)
    # on Rosenbrock too (a large gradient), and with p != -1/2: theta_0 - g_0 / (n_1^{-p} / lr)
    R = landscapes.get("rosenbrock")
    x0, g0 = np.array(R.start, np.float64), grad64(R)(np.array(R.start, np.float64))
    for p in (-0.5, -0.3):
        tr = optimizers.run(R, "ftrl", steps=1, learning_rate=lr, learning_rate_power=p, start_centred=True)
        np.testing.assert_allclose(tr.xy[1], x0 - lr * g0 / (n0 + g0**2) ** (-p), rtol=1e-5)


@pytest.mark.parametrize("setting", list(FTRL_SETTINGS))
def test_ftrl_start_centred_is_keras_from_a_centred_accumulator(setting: str):
    # start_centred only changes z_0: Keras's update step from linear_0 = -q_0 theta_0
    # (q_0 = n_0^{-p}/lr + 2 (l2 + beta/(2 lr)), the z whose point is theta_0)
    L = landscapes.get("quadratic")
    hp = {k: pick(v, "quadratic") for k, v in FTRL_SETTINGS[setting].items()}
    tr = optimizers.run(L, "ftrl", steps=STEPS, start_centred=True, **hp)
    h = {**optimizers.get("ftrl").defaults, **hp}
    del h["start_centred"]
    q0 = (h["initial_accumulator_value"] ** (-h["learning_rate_power"]) / h["learning_rate"]
          + 2 * (h["l2_regularization_strength"] + h["beta"] / (2 * h["learning_rate"])))
    ref = keras_ftrl(grad64(L), L.start, STEPS, linear0=-q0 * np.array(L.start), **h)
    assert tr.diverged_at is None
    assert_trajectory(tr.xy, ref, rtol=1e-4, atol=ATOL)


# --- documented differences: AMSGrad's max, Keras's epsilons ---------------------------------

def beale_grad64(p):
    x, y = p
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    return np.array([2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1),
                     2 * a * x + 4 * b * x * y + 6 * c * x * y**2])


def torch_amsgrad_numpy(grad, start, steps, lr, b1, b2, eps):
    """torch/optim/adam.py, _single_tensor_adam with amsgrad=True, in float64: the max is
    taken of the raw v, then divided by the current sqrt(1 - b2^t)."""
    p = np.array(start, np.float64)
    m, v, vmax = np.zeros(2), np.zeros(2), np.zeros(2)
    rows = [p.copy()]
    for t in range(1, steps + 1):
        g = grad(p)
        m = m + (g - m) * (1 - b1)
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax) / math.sqrt(1 - b2**t) + eps
        p = p - lr / (1 - b1**t) * m / denom
        rows.append(p.copy())
    return np.stack(rows)


def test_amsgrad_differs_from_torch_as_documented():
    # optax (and we) take the max of v_hat; torch the max of v: a documented difference.
    L = landscapes.get("beale")
    hp = dict(learning_rate=0.01, b1=0.5, b2=0.9, eps=1e-8)
    start, steps = (1.0, 1.0), 10
    ours = optimizers.run(L, "amsgrad", start=start, steps=steps, **hp).xy
    ref = torch_trajectory(L, lambda ps: torch.optim.Adam(ps, lr=r32(0.01), betas=(r32(0.5), r32(0.9)),
                                                          eps=r32(1e-8), amsgrad=True, foreach=False),
                           steps=steps, start=start)
    transcription = torch_amsgrad_numpy(beale_grad64, start, steps, 0.01, 0.5, 0.9, 1e-8)
    np.testing.assert_allclose(ref, transcription, rtol=1e-5)  # torch is what the card says it is
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-6)  # the same first step ...
    assert np.abs(ours[-1] - ref[-1]).max() > 1e-3  # ... then measurably different
    # and ours is optax's max of v_hat
    opt = optax_trajectory(L, optax.amsgrad(f32(0.01), b1=f32(0.5), b2=f32(0.9), eps=f32(1e-8)),
                           steps=steps, start=start)
    np.testing.assert_allclose(ours, opt, rtol=1e-5, atol=ATOL)


def keras_update(rule, grad, start, steps, lr, eps, rho=0.9, b1=0.9, b2=0.999):
    """keras/src/optimizers/{rmsprop,adam,adamax}.py update_step (no momentum, not
    centered, amsgrad off), in float64."""
    p = np.array(start, np.float64)
    a, b = np.zeros(2), np.zeros(2)  # rmsprop: velocity; adam: m, v; adamax: m, u
    rows = [p.copy()]
    for t in range(1, steps + 1):
        g = grad(p)
        if rule == "rmsprop":
            a = rho * a + (1 - rho) * g * g
            p = p - lr * g / np.sqrt(a + eps)
        elif rule == "adam":
            alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            a = a + (g - a) * (1 - b1)
            b = b + (g * g - b) * (1 - b2)
            p = p - a * alpha / (np.sqrt(b) + eps)
        else:  # adamax
            a = a + (g - a) * (1 - b1)
            b = np.maximum(b2 * b, np.abs(g))
            p = p - lr * a / ((1 - b1**t) * (b + eps))
        rows.append(p.copy())
    return np.stack(rows)


def test_keras_conventions_are_what_the_cards_say():
    L = landscapes.get("quadratic")
    grad, steps = grad64(L), 50
    # RMSProp: Keras 3 divides by sqrt(nu + eps), our default (eps_in_sqrt=1), even at a large eps
    ours = optimizers.run(L, "rmsprop", steps=steps, learning_rate=0.01, eps=0.1).xy
    np.testing.assert_allclose(ours, keras_update("rmsprop", grad, L.start, steps, 0.01, 0.1), rtol=1e-5)
    off = optimizers.run(L, "rmsprop", steps=steps, learning_rate=0.01, eps=0.1, eps_in_sqrt=False).xy
    assert np.abs(off[-1] - ours[-1]).max() > 1e-3
    # Adam: Keras's eps acts as eps / sqrt(1 - b2^t); no single eps of ours matches it
    keras = keras_update("adam", grad, L.start, steps, 0.01, 0.01)
    ours = optimizers.run(L, "adam", steps=steps, learning_rate=0.01, eps=0.01).xy
    assert np.abs(ours[-1] - keras[-1]).max() > 1e-3
    p, m, v = np.array(L.start, np.float64), np.zeros(2), np.zeros(2)
    for t in range(1, steps + 1):  # Adam with the effective eps_t, written with m_hat, v_hat
        g = grad(p)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        p = p - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 0.01 / math.sqrt(1 - 0.999**t))
        np.testing.assert_allclose(p, keras[t], rtol=1e-9)
    # with a negligible eps the two agree
    np.testing.assert_allclose(optimizers.run(L, "adam", steps=steps, learning_rate=0.01, eps=1e-12).xy,
                               keras_update("adam", grad, L.start, steps, 0.01, 1e-12), rtol=1e-5, atol=ATOL)
    # AdaMax: Keras divides by u + eps (eps outside the max), we (optax, torch) by max(b2 u, |g| + eps)
    # (they differ only on steps where the old maximum beta2 u wins, hence a large eps and 200 steps)
    keras = keras_update("adamax", grad, L.start, 200, 0.01, 1.0)
    ours = optimizers.run(L, "adamax", steps=200, learning_rate=0.01, eps=1.0).xy
    assert np.abs(ours - keras).max() > 2e-3
    np.testing.assert_allclose(optimizers.run(L, "adamax", steps=steps, learning_rate=0.01, eps=1e-12).xy,
                               keras_update("adamax", grad, L.start, steps, 0.01, 1e-12), rtol=1e-5, atol=ATOL)


def test_adadelta_first_step_is_what_the_card_says():
    # E[g^2]_1 = (1 - rho) g^2, so the first step is sqrt(eps) g / sqrt((1 - rho) g^2 + eps),
    # about sqrt(eps / (1 - rho)) per coordinate when g^2 >> eps: 3.2x sqrt(eps), "0.0032" on the card
    rule = optimizers.get("adadelta")
    d = rule.defaults
    tr = optimizers.run("rosenbrock", "adadelta", steps=1)
    expected = math.sqrt(d["eps"] / (1 - d["rho"]))
    np.testing.assert_allclose(np.abs(tr.xy[1] - tr.xy[0]), expected, rtol=1e-3)
    assert f"{expected:.4f}" in rule.explanation and "√(ε/(1-ρ))" in rule.explanation
