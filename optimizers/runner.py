"""Run an update rule on a landscape: one jit-compiled program per kind of run.

What is compiled (static): the landscape's function, the rule, the schedule's
kind, which gradient transforms are on, and a size bucket for the number of
steps.  Everything else (hyperparameters, schedule numbers, clipping and noise
numbers, the start point, the seed, the exact step count) is a traced
argument, so changing it reuses the compiled program.

The loop is ``lax.scan`` over chunks of ``CHUNK`` steps inside a
``fori_loop`` over as many chunks as the step count needs: the step count can
change within its bucket without recompiling, and at most ``CHUNK - 1``
extra steps are computed.  Outputs go into buffers of the bucket's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landscapes import compiled
from optimizers.base import Rule
from optimizers.step import schedule_factors, take_step
from optimizers.transforms import GradientSwitches

CHUNK = 512
UNROLL = 2  # measured: 2 is ~1.6x faster than 1 here; 4 and 8 are much slower on XLA:CPU
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class Program:
    """The static part of a run: everything that selects a compiled program."""

    rule: Rule
    schedule: str = "constant"
    switches: GradientSwitches = GradientSwitches()


def bucket_for(steps: int) -> int:
    """Buffer length for ``steps`` updates (rows 0..steps): a power of two, at least CHUNK."""
    rows = steps + 1
    return max(CHUNK, 1 << (rows - 1).bit_length())


def make_step(objective, program: Program, obj_params, hp, numbers, key):
    """The scan body: one update (``optimizers.step.take_step``),
    ``(xy, state), (lr_t, t) -> (xy', state'), row``.

    ``row`` packs ``(x, y, f(x, y), g_x, g_y, α_t)`` for the point the step starts from
    (one array, so the whole trajectory leaves the device in one transfer); ``g``
    is the gradient as the rule saw it (after noise and clipping).
    """
    value_and_grad = jax.value_and_grad(objective)
    one_step = partial(take_step, lambda xy: value_and_grad(xy, obj_params), program.rule.update,
                       program.switches, hp, numbers, key)

    def step(carry, xs):
        xy, state = carry
        lr_t, t = xs
        s = one_step(xy, state, lr_t, t)
        return (s.params, s.state), jnp.concatenate([xy, s.loss[None], s.grad, lr_t[None]])

    return step


ROW = 6  # columns of the packed output: x, y, f, g_x, g_y, learning rate


def _simulate(objective, program: Program, bucket: int, params, unpack, start, seed, steps):
    """A (bucket, ROW) float32 array: row k = (x, y, f, g_x, g_y, α_k); rows > steps are junk.

    ``params`` holds every traced number; ``unpack(params)`` (static) turns it into the four
    dicts ``(obj_params, hp, sched, numbers)``.  It is unpacked inside the loop body and each
    chunk computes its own learning rates: the same program with the unpacking and a
    bucket-long array of rates outside the loop measured 1.5-2x slower on XLA:CPU.
    """
    xy0 = jnp.asarray(start, jnp.float32)  # (2,)
    key = jax.random.key(seed)

    def chunk(i, carry):
        (xy, state), rows, params = carry
        obj_params, hp, sched, numbers = unpack(params)
        step = make_step(objective, program, obj_params, hp, numbers, key)
        t0 = i * CHUNK
        t_c = t0 + jnp.arange(CHUNK, dtype=jnp.int32)
        lr_c = hp["learning_rate"] * schedule_factors(program.schedule, sched, t_c)
        (xy, state), rows_c = jax.lax.scan(step, (xy, state), (lr_c, t_c), unroll=UNROLL)  # (CHUNK, ROW)
        rows = jax.lax.dynamic_update_slice(rows, rows_c, (t0, 0))
        return (xy, state), rows, params

    rows = jnp.zeros((bucket, ROW), jnp.float32)
    n_chunks = (steps + 1 + CHUNK - 1) // CHUNK  # enough chunks to record row `steps`
    init = ((xy0, program.rule.init(xy0)), rows, params)
    _, rows, _ = jax.lax.fori_loop(0, n_chunks, chunk, init)
    return rows


_STATIC = ("objective", "program", "bucket")


# One run.  Each argument leaf costs ~2 µs of dispatch, so every traced number travels in
# two arrays: the floats (the landscape's, the rule's, the schedule's and the transforms'
# numbers, then the start) and the uint32 pair (seed, steps).  ``layout`` (static) names
# the floats; ``pack`` builds all three.
def pack(obj_params, hp, sched, numbers, start, seed, steps):
    """The arguments of ``simulate`` after ``bucket``: (layout, floats, ints)."""
    groups = (obj_params, hp, sched, numbers)
    layout = tuple(tuple(g) for g in groups)
    values = [v for g in groups for v in g.values()]
    floats = np.array(values + [start[0], start[1]], np.float32)
    return layout, floats, np.array([seed, steps], np.uint32)


def _unpack(layout, floats):
    groups, i = [], 0
    for keys in layout:
        groups.append({k: floats[i + j] for j, k in enumerate(keys)})
        i += len(keys)
    return tuple(groups)


@compiled.jit(static_argnames=_STATIC + ("layout",))
def simulate(objective, program, bucket, layout, floats, ints):
    """``_simulate`` on the packed arguments of ``pack``."""
    start = floats[-2:]
    return _simulate(objective, program, bucket, floats, partial(_unpack, layout), start,
                     ints[0], ints[1].astype(jnp.int32))


def _identity(params):
    return params


# Many runs at once: `axes` says which arguments carry a leading batch axis.
@compiled.jit(static_argnames=_STATIC + ("axes",))
def simulate_batch(objective, program, bucket, obj_params, hp, sched, numbers, start, seed, steps, axes):
    def sim(obj_params, hp, sched, numbers, start, seed, steps):
        return _simulate(objective, program, bucket, (obj_params, hp, sched, numbers), _identity,
                         start, seed, steps)
    return jax.vmap(sim, in_axes=axes)(obj_params, hp, sched, numbers, start, seed, steps)


# --- results -------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Trajectory:
    """One run.  Row ``k`` is the point after ``k`` updates (row 0 is the start).

    xy:          (steps + 1, 2) float32
    loss:        (steps + 1,)   f at each row
    grad:        (steps + 1, 2) the gradient used for the update from row k (after noise
                 and clipping); the last row's is the gradient there
    lr:          (steps,)       the scheduled learning rate of each update
    diverged_at: None, or the first row whose point or loss is not finite; rows from it
                 on are NaN in xy, loss and grad

    The arrays are read-only views of the program's output (copying them would cost more
    than a short run); ``np.array(tr.xy)`` gives a copy to modify.
    """

    xy: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    lr: np.ndarray
    diverged_at: int | None
    landscape: str = ""
    optimizer: str = ""
    hyperparams: dict[str, float] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.xy) - 1

    @property
    def step_length(self) -> np.ndarray:
        """(steps,) Euclidean length of each update; NaN after divergence."""
        d = np.diff(self.xy, axis=0)  # (norm's own sum, written out: the same numbers, ~5x sooner)
        return np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])

    @property
    def effective_lr(self) -> np.ndarray:
        """(steps, 2) per-coordinate |Δθ_i / g_i|; NaN where g_i = 0.

        A step size only for rules whose step is a multiple of the current gradient: for
        SGD it is the (scheduled) learning rate, for AdaGrad and RMSProp without momentum
        α/√(...), which shrinks or adapts.  For momentum, Adam and the like the step also
        carries past gradients, so this is a ratio, not a step size: it reads 0 where the
        step is tiny and huge where g_i is tiny but the step is not (near rest, say).
        """
        dx = np.diff(self.xy, axis=0)
        g = self.grad[:-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.abs(dx / g)
        out[~np.isfinite(out)] = np.nan
        return out


def finish(rows, steps):
    """Unpack rows 0..steps, find the first non-finite row and blank what follows."""
    r = np.asarray(rows)[: steps + 1]  # a read-only view of the device buffer
    diverged_at = None
    if not np.isfinite(r).all():  # fast path: one flat check when everything is finite
        r = np.array(r)  # writable copy, only when something needs blanking
        bad = ~np.isfinite(r[:, :3]).all(axis=1)  # point or loss not finite
        if bad.any():
            diverged_at = int(np.argmax(bad))
            r[diverged_at:, :5] = np.nan
        g = r[:, 3:5]
        g[~np.isfinite(g)] = np.nan
        r.flags.writeable = False  # like the fast path's view: results are read-only
    return r[:, 0:2], r[:, 2], r[:, 3:5], r[:steps, 5], diverged_at


def as_f32(d: dict) -> dict[str, Any]:
    # NumPy scalars, not jnp ones: creating a device array per value costs ~25 µs each.
    return {k: np.float32(v) for k, v in d.items()}
