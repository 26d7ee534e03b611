"""Sweeps: many runs of one rule as ONE vmapped, jit-compiled program that keeps only a summary.

Three pictures come out of it:

- a hyperparameter map: a 1-D or 2-D grid of hyperparameter values, one run per cell
  (``grid={"learning_rate": ..., "momentum": ...}``);
- a basin map: one run per start point (``starts=(n, 2)`` or ``(a, b, 2)``), with the
  index of the known minimum each run ends nearest to;
- a fair race: :func:`tune` picks each optimizer's best learning rate with one sweep.

    >>> res = sweep("rosenbrock", "momentum", start=(-1.5, 2.0), steps=2000,
    ...             grid={"learning_rate": np.logspace(-5, -2, 64),
    ...                   "momentum": np.linspace(0.0, 0.99, 64)})
    >>> res.final_loss.shape        # [i, j]: learning_rate[i], momentum[j]
    (64, 64)

Cell ``[i, j]`` equals ``optimizers.run`` with the same settings, to float32 rounding
(a vmapped program is vectorised differently from a single run, as ``run_batch`` is).
The update is the runner's own step (``optimizers.step.take_step``: gradient, transforms,
rule, apply), so there is no second implementation of any rule or of the step.  What differs is what is kept: instead of the ``steps + 1`` rows of a
trajectory, the loop carries per run only

    (xy, rule state, best loss, first row within tol, row of divergence, Σ log2-gap)

plus the losses of the current chunk of CHUNK steps, so a 256 x 256 grid of 10,000-step
runs needs no more memory than its summaries.

What is compiled (static): the landscape's function, the Program (rule, schedule kind,
gradient switches), the size bucket of the step count (as the runner's) and which names
are swept.  Everything else is traced: changing the grid's *values* (same shape), the
step count within its bucket, the fixed hyperparameters, the start, the seed or tol
reuses the compiled program.  Each axis is its own ``vmap`` and the arguments that are
not swept enter unbatched (``in_axes=None``): scalar work such as Adam's ``b1 ** t`` is
done once per step for the whole sweep, and when ``b1`` is swept, once per value of
``b1``, not once per cell.

``optimizers.sweep`` is this module's function (the package exports it); the module's
other names are reached with ``from optimizers.sweeping import ...``.

Definitions (row ``k`` is the point after ``k`` updates, rows 0..steps, as in a
Trajectory; arithmetic in float32, as the runner's):

- ``diverged_at``: the first row whose point or loss is not finite, -1 if none;
  ``diverged`` is ``diverged_at >= 0``.
- ``final_loss`` / ``final_xy``: row ``steps``; NaN where the run diverged.
- ``best_loss``: the lowest loss over the rows before divergence (NaN if there is none).
- ``steps_to_tol``: the first row ``k`` (before divergence) with ``loss_k - f_min <= tol``,
  -1 if none.  A run that gets within tol and diverges later keeps its ``k``, exactly
  as its trajectory would show; :func:`tune` never picks a diverged run.
- ``auc``: the mean over rows 0..steps of ``log10(max(loss_k - f_min, 0) + 1e-12)``:
  the area under the log-gap curve, lower is better, between -12 and ~log10(f(start));
  ``inf`` where the run diverged, so it ranks last.
- ``f_min``: the landscape's ``f_min``; for a landscape that has none, the lowest value
  of ``f`` on a 200 x 200 grid over its domain (an estimate; the result says which).
- ``tol``: 1e-3 by default, on ``loss - f_min``.
- ``nearest_minimum``: the index into ``result.minima`` of the known minimum closest to
  ``final_xy``; -1 where the run diverged or the landscape lists no minima.
  ``result.minima`` is ``landscape.minima`` (same indices), followed, for the built-in
  landscapes that have them, by their known local minima (``landscapes.LOCAL_MINIMA``):
  on ``two_basin`` index 1 is the shallow basin.  It is the nearest one however far:
  ``nearest_distance`` says how far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

import landscapes
from landscapes import LOCAL_MINIMA, compiled
from optimizers import schedules
from optimizers.checks import gradient_transforms, landscape_of, start_point, step_count
from optimizers.registry import get, resolve
from optimizers.runner import Program, as_f32, bucket_for
from optimizers.step import schedule_factors, take_step

__all__ = ["sweep", "SweepResult", "tune", "TOL", "MAX_CELLS", "MAX_AXIS", "MAX_WORK"]

TOL = 1e-3  # default tolerance on loss - f_min
MAX_AXIS = 256  # values along one grid axis
MAX_CELLS = 65_536  # runs in one sweep (256 x 256)
MAX_WORK = 2**30  # runs x steps in one sweep (~1e9 updates: a few seconds on 2 cores)
MAX_AXES = 2
START = "start"  # the name of the start-point axis in `axes`
AUC_FLOOR = 1e-12  # added to the gap before log10, so a run that hits f_min exactly is finite
CHUNK = 16  # steps per scan between two folds of the summary (measured: 16 ~ 32 > 8)
PROGRESS_WORK = 2**26  # run-steps (cells x step bucket) a chunk of a sweep reporting progress
#                        holds at least: ~0.2 s on 2 cores, so a chunk's fixed cost stays small
PROGRESS_CHUNKS = 8  # at most
LOG10_2 = math.log10(2.0)
OBJECTIVES = ("final_loss", "steps_to_tol", "auc")


# --- the compiled program --------------------------------------------------------------

def _log2(x):
    """``log2(x) = e + log2(m)`` split for a positive, finite, normal float32 ``x``:
    returns the exponent ``e`` (int32) and the mantissa ``m`` in [1, 2), by bit arithmetic."""
    bits = jax.lax.bitcast_convert_type(x, jnp.int32)
    e = (bits >> 23) - 127
    m = jax.lax.bitcast_convert_type((bits & 0x007FFFFF) | 0x3F800000, jnp.float32)
    return e, m


def _summarise(objective, program: Program, bucket: int, obj_params, hp, sched, numbers,
               xy0, seed, steps, f_min, tol):
    """One run, summarised: the runner's step in a loop that keeps only running summaries.

    Returns ``(final_xy (2,), final_loss, best_loss, steps_to_tol, diverged_at, auc)``,
    before the NaN/inf masking done on the host.

    How (each choice measured, see benchmarks/results/sweep.md):
      1. The steps run in chunks of CHUNK: a ``lax.scan`` whose only output per step is
         one number, ``r_k = f_k + 0·x_k + 0·y_k``: the loss while the row is finite,
         NaN or ±inf when its point or loss is not (``0·inf`` is NaN; XLA keeps it).
      2. After each chunk, its CHUNK numbers are folded into the summary by element-wise
         code written out row by row (one pass over the chunk per summary quantity,
         instead of four read-modify-writes of the summary in every step).
      3. The auc's logarithms: ``Σ_k log2 g_k = Σ_k e_k + log2 Π_k m_k`` with
         ``g_k = 2^e_k · m_k``, so one ``log2`` per chunk instead of one per step
         (the product of CHUNK mantissas in [1, 2) stays below 2^CHUNK).
      4. The last ``steps % CHUNK`` steps run one by one (a chunk of one), so no step is
         computed past ``steps`` and the step count stays a traced value.
    """
    xy0 = jnp.asarray(xy0, jnp.float32)
    step = _summary_step(objective, program, bucket, obj_params, hp, sched, numbers, seed)

    def fold(summary, k0, rows):
        return _fold(summary, k0, rows, f_min, tol)

    # jitted so that the loop-batching fixpoints reuse its batched form (trace time)
    fold_chunk = jax.jit(lambda summary, k0, r: fold(summary, k0, [r[j] for j in range(CHUNK)]))

    def chunk(c, carry):
        xy_state, summary = carry
        k0 = c * CHUNK
        xy_state, r = jax.lax.scan(step, xy_state, k0 + jnp.arange(CHUNK, dtype=jnp.int32))
        return xy_state, fold_chunk(summary, k0, r)

    def single(k, carry):
        xy_state, summary = carry
        xy_state, r = step(xy_state, k)
        return xy_state, fold(summary, k, [r])

    minus1 = jnp.int32(-1)
    summary = (jnp.float32(jnp.inf), minus1, minus1, jnp.float32(0.0))  # best, first, div, Σlog2
    carry = ((xy0, program.rule.init(xy0)), summary)
    n_chunks = steps // CHUNK
    carry = jax.lax.fori_loop(jnp.int32(0), n_chunks, chunk, carry)
    carry = jax.lax.fori_loop(n_chunks * CHUNK, steps, single, carry)
    (xy, _), summary = carry
    # row `steps`: its loss as the runner computes it (the value of value_and_grad)
    loss, _ = jax.value_and_grad(objective)(xy, obj_params)
    best, first, div_at, log_sum = fold(summary, steps, [_row_value(xy, loss)])
    auc = log_sum * (LOG10_2 / (steps + 1).astype(jnp.float32))  # mean of log10
    return xy, loss, best, first, div_at, auc


def _summary_step(objective, program: Program, bucket: int, obj_params, hp, sched, numbers, seed):
    """The scan body: ``take_step`` at step ``k``, keeping only the row's value (``_row_value``)."""
    # s(t) for the bucket, as the runner computes it; α_t = learning_rate · s(t)
    mult = schedule_factors(program.schedule, sched, jnp.arange(bucket))  # (bucket,), unbatched
    value_and_grad = jax.value_and_grad(objective)
    one_step = partial(take_step, lambda xy: value_and_grad(xy, obj_params), program.rule.update,
                       program.switches, hp, numbers, jax.random.key(seed))

    def step(carry, k):
        xy, state = carry
        lr_t = hp["learning_rate"] * jax.lax.dynamic_index_in_dim(mult, k, keepdims=False)
        s = one_step(xy, state, lr_t, k)
        return (s.params, s.state), _row_value(xy, s.loss)

    return step


def _fold(summary, k0, rows, f_min, tol):
    """Fold rows k0, k0+1, ... (their values ``rows``, a list) into the summary."""
    best, first, div_at, log_sum = summary
    n = len(rows)
    live = div_at < 0  # not diverged before this chunk
    first_bad = jnp.int32(n)  # index in the chunk of the first non-finite row, n if none
    for j in reversed(range(n)):
        first_bad = jnp.where(jnp.isfinite(rows[j]), first_bad, j)
    div_at = jnp.where(live & (first_bad < n), k0 + first_bad, div_at)
    hit = jnp.int32(n)  # index of the first row within tol
    e_sum, m_prod = jnp.int32(0), jnp.float32(1.0)
    for j in reversed(range(n)):
        alive = live & (j < first_bad)
        gap = rows[j] - f_min
        hit = jnp.where(alive & (gap <= tol), j, hit)
        best = jnp.where(alive & (rows[j] < best), rows[j], best)
        # log2 of max(gap, 0) + floor; rows past divergence give junk here, and the
        # host replaces the auc of a diverged run by inf
        e, m = _log2(jnp.maximum(gap, 0.0) + AUC_FLOOR)
        e_sum, m_prod = e_sum + e, m_prod * m
    first = jnp.where((first < 0) & (hit < n), k0 + hit, first)
    log_sum = log_sum + (e_sum.astype(jnp.float32) + jnp.log2(m_prod))
    return best, first, div_at, log_sum


def _row_value(xy, loss):
    """The loss, made NaN when the point is not finite (0·x is NaN only for a non-finite x)."""
    return loss + (0.0 * xy[0] + 0.0 * xy[1])


@compiled.jit(static_argnames=("objective", "program", "bucket", "axes"))
def _sweep_program(objective, program, bucket, axes, obj_params, hp, values, sched, numbers,
                   start, seed, steps, f_min, tol):
    """All cells at once: nested vmaps, one per axis; unswept arguments stay unbatched.

    ``axes`` names the swept things in order (a hyperparameter, or START for the start
    point); ``values[a]`` holds axis a's values (``(n_a,)``, or ``(n_a, 2)`` for starts).
    Outputs have shape ``(n_0, ..., n_{A-1})`` (+ ``(2,)`` for the point).
    """

    def cell(*vals):
        hp_c, xy0 = dict(hp), start
        for name, v in zip(axes, vals):
            if name == START:
                xy0 = v
            else:
                hp_c[name] = v
        return _summarise(objective, program, bucket, obj_params, hp_c, sched, numbers,
                          xy0, seed, steps, f_min, tol)

    fn = cell
    for a in reversed(range(len(axes))):  # innermost vmap = last axis
        fn = jax.vmap(fn, in_axes=tuple(0 if b == a else None for b in range(len(axes))))
    return fn(*values)


# --- the result ------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SweepResult:
    """Summaries of every run of a sweep; arrays have the sweep's ``shape``.

    ``shape`` is one length per axis in ``axes`` (a hyperparameter name, or ``"start"``).
    See the module docstring for the exact definition of each array.
    """

    final_loss: np.ndarray  # shape, float32; NaN where diverged
    final_xy: np.ndarray  # shape + (2,), float32; NaN where diverged
    best_loss: np.ndarray  # shape, float32
    steps_to_tol: np.ndarray  # shape, int; -1 where never within tol
    diverged: np.ndarray  # shape, bool
    diverged_at: np.ndarray  # shape, int; -1 where never
    auc: np.ndarray  # shape, float32; inf where diverged
    nearest_minimum: np.ndarray  # shape, int; index into `minima`, -1 where none / diverged
    nearest_distance: np.ndarray  # shape, float; distance to that minimum, NaN where -1
    grid: dict[str, np.ndarray]  # the swept hyperparameters' values, by name
    starts: np.ndarray | None  # the start points (shape + (2,)) when starts were swept
    axes: tuple[str, ...]  # the name of each axis, in order
    tol: float
    f_min: float
    f_min_estimated: bool  # True when f_min was estimated on a grid (landscape had none)
    steps: int
    minima: tuple[tuple[float, float], ...]  # global (landscape.minima) then known local ones
    landscape: str = ""
    optimizer: str = ""
    hyperparams: dict[str, float] = field(default_factory=dict)  # the fixed (unswept) ones

    @property
    def shape(self) -> tuple[int, ...]:
        return self.final_loss.shape


# --- validation ------------------------------------------------------------------------

def _axis_values(rule, name, values) -> np.ndarray:
    """One grid axis as a 1-D float array, every value checked against the spec's range."""
    try:
        spec = rule.spec(name)
    except KeyError:
        raise ValueError(f"grid: {rule.name} has no hyperparameter {name!r:.40}; its "
                         f"hyperparameters: {', '.join(p.name for p in rule.hyperparams)}") from None
    if isinstance(values, (str, bytes, Mapping)):
        raise ValueError(f"grid[{name!r}] must be a 1-D array of numbers, got {values!r:.60}")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"grid[{name!r}] must be a 1-D array of numbers, got {values!r:.60}") from None
    if arr.ndim != 1 or not 1 <= arr.size <= MAX_AXIS:
        raise ValueError(f"grid[{name!r}] must be 1-D with 1 to {MAX_AXIS} values, "
                         f"got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"grid[{name!r}] must hold finite numbers only")
    for v in arr:  # every value, so int / bool kinds are checked too; the message names the range
        try:
            spec.validate(v, rule.name)
        except ValueError as e:
            raise ValueError(f"grid[{name!r}]: {e}") from None
    return arr


def _starts(starts) -> np.ndarray:
    if isinstance(starts, (str, bytes)):
        raise ValueError("starts must be an (n, 2) array of points")
    try:
        arr = np.asarray(starts, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"starts must be an (n, 2) array of points, got {starts!r:.60}") from None
    if arr.ndim not in (2, 3) or arr.shape[-1] != 2 or arr.size == 0:
        raise ValueError(f"starts must be an (n, 2) or (a, b, 2) array of points, got shape {arr.shape}")
    if arr.size // 2 > MAX_CELLS:
        raise ValueError(f"{arr.size // 2} start points is too many: at most {MAX_CELLS}")
    if not np.isfinite(arr).all() or np.abs(arr).max() > 1e6:
        raise ValueError("starts must be finite with |x|, |y| <= 1e6")
    return arr


def _f_min(L) -> tuple[float, bool]:
    if L.f_min is not None and math.isfinite(L.f_min):
        return float(L.f_min), False
    _, _, z = L.grid(200)
    z = np.asarray(z, np.float64)
    if not np.isfinite(z).any():
        raise ValueError(f"landscape {L.name!r} has no finite value on its domain")
    return float(np.nanmin(np.where(np.isfinite(z), z, np.nan))), True


# --- the public calls ------------------------------------------------------------------

def sweep(landscape, optimizer: str, start: Sequence[float] | None = None, steps: int = 1000, *,
          grid: Mapping[str, Any] | None = None, starts=None, tol: float = TOL,
          schedule: str = "constant", schedule_params: Mapping | None = None,
          clip_value: float | None = None, clip_norm: float | None = None,
          noise: float = 0.0, seed: int = 0, lookahead: bool = False,
          on_progress: Callable[[float], Any] | None = None,
          **hyperparams) -> SweepResult:
    """Run ``optimizer`` once per cell of ``grid`` (or per point of ``starts``), summarised.

    Args:
      landscape, optimizer, start, steps, schedule, schedule_params, clip_value, clip_norm,
        noise, seed, lookahead, **hyperparams: as for ``optimizers.run`` (same names, same
        checks); they are shared by every cell.  Every cell uses the same noise seed.
      grid: up to two hyperparameters of the rule mapped to 1-D arrays of values
        (at most 256 each, each value within the hyperparameter's range).  Axis order is
        the mapping's order: ``result[i, j]`` uses the i-th value of the first key and
        the j-th of the second.  A swept name may not also be given as a keyword.
      starts: start points, ``(n, 2)`` or ``(a, b, 2)`` (a grid of starts for a basin
        map); it replaces ``start`` and is the first axis.  It may be combined with a
        grid as long as there are at most two axes in all.
      tol: tolerance on ``loss - f_min`` for ``steps_to_tol`` (default 1e-3).
      on_progress: optional ``callback(fraction)`` of the runs done, called at least once
        (1.0 at the end).  When given, a large sweep runs as equal chunks along its first
        axis, one per ``PROGRESS_WORK`` run-steps (cells x step bucket), at most
        ``PROGRESS_CHUNKS`` (one compiled program, called once per chunk; a call costs ~1 µs
        a step more, measured), and the callback is called after each; a smaller sweep, or
        one without a callback, is a single call.

    At most 65,536 runs and 2**30 run-steps per sweep.  Raises ValueError for anything
    out of range, naming the argument and its valid range.
    """
    L = landscape_of(landscape)
    rule = get(optimizer, lookahead=lookahead)
    steps = step_count(steps)

    # 1. the axes: starts first, then the grid in its order
    if starts is not None and start is not None:
        raise ValueError("give either start (one point) or starts (many), not both")
    starts_arr = None if starts is None else _starts(starts)
    grid_vals = _grid_values(rule, grid, hyperparams)
    axes, shape = _axes_and_shape(starts_arr, grid_vals, steps)

    # 2. everything else, exactly as optimizers.run checks it
    hp = resolve(rule, {**hyperparams, **{k: v[0] for k, v in grid_vals.items()}})
    fixed = {k: v for k, v in hp.items() if k not in grid_vals}
    xy0 = L.start if starts_arr is not None else start_point(start, L)
    sched = schedules.validate(schedule, schedule_params)
    switches, numbers, seed = gradient_transforms(clip_value, clip_norm, noise, seed)
    tol = _tol(tol)
    f_min, f_min_estimated = _f_min(L)

    # 3. one program; the flattened start grid is a single vmapped axis
    program = Program(rule=rule, schedule=schedule, switches=switches)
    flat_axes, flat_values = [], []
    if starts_arr is not None:
        flat_axes.append(START)
        flat_values.append(starts_arr.reshape(-1, 2).astype(np.float32))
    for k, v in grid_vals.items():
        flat_axes.append(k)
        flat_values.append(v.astype(np.float32))
    call = partial(_sweep_program, L.objective, program, bucket_for(steps), tuple(flat_axes),
                   as_f32(L.objective_params), as_f32(fixed))
    rest = (as_f32(sched), as_f32(numbers), np.asarray(xy0, np.float32), np.uint32(seed),
            np.int32(steps), np.float32(f_min), np.float32(tol))
    n_chunks = 1 if on_progress is None else _chunk_count(len(flat_values[0]) if flat_values else 1,
                                                          int(np.prod(shape, dtype=np.int64)), bucket_for(steps))
    outs = _run_chunks(call, flat_values, rest, on_progress, n_chunks)

    # 4. what a person reads: nothing non-finite where a number is expected
    minima = _known_minima(L)
    return SweepResult(
        **_summaries(outs, shape, minima),
        grid={k: v.copy() for k, v in grid_vals.items()},
        starts=None if starts_arr is None else starts_arr.copy(), axes=tuple(axes), tol=tol,
        f_min=f_min, f_min_estimated=f_min_estimated, steps=steps, minima=minima,
        landscape=L.name, optimizer=rule.name, hyperparams=fixed)


def _grid_values(rule, grid, hyperparams) -> dict[str, np.ndarray]:
    """The grid's axes, checked (``_axis_values``), in the mapping's order."""
    if grid is None:
        grid = {}
    if not isinstance(grid, Mapping):
        raise ValueError("grid must map hyperparameter names to 1-D arrays of values")
    grid_vals = {}
    for name, vals in grid.items():
        grid_vals[name] = _axis_values(rule, name, vals)
        if name in hyperparams:
            raise ValueError(f"{name!r} is both swept (in grid) and fixed (as a keyword); give it once")
    return grid_vals


def _axes_and_shape(starts_arr, grid_vals, steps) -> tuple[list[str], tuple[int, ...]]:
    """The name of each axis and the sweep's shape, checked against the size limits."""
    axes = [START] * (starts_arr.ndim - 1) if starts_arr is not None else []
    axes += list(grid_vals)
    if len(axes) > MAX_AXES:
        raise ValueError(f"a sweep has at most {MAX_AXES} axes (a grid of starts counts as two), "
                         f"got {len(axes)}")
    shape = (tuple(starts_arr.shape[:-1]) if starts_arr is not None else ()) + tuple(
        len(v) for v in grid_vals.values())
    cells = int(np.prod(shape, dtype=np.int64))
    if cells > MAX_CELLS:
        raise ValueError(f"a sweep of {cells} runs is too large: at most {MAX_CELLS}")
    if cells * steps > MAX_WORK:
        raise ValueError(f"{cells} runs x {steps} steps is too much work for one sweep: "
                         f"at most {MAX_WORK:,} run-steps in all")
    return axes, shape


def _tol(tol) -> float:
    try:
        tol = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a number, got {tol!r:.40}") from None
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be finite and >= 0, got {tol}")
    return tol


def _summaries(outs, shape, minima) -> dict[str, np.ndarray]:
    """The program's outputs in the sweep's shape, masked: NaN / inf where a run diverged."""
    xy, loss, best, first, div_at, auc = (np.asarray(o) for o in outs)
    xy = xy.reshape(shape + (2,)).astype(np.float32)
    loss, best, auc = (a.reshape(shape).astype(np.float32) for a in (loss, best, auc))
    first, div_at = (a.reshape(shape).astype(np.int64) for a in (first, div_at))
    diverged = div_at >= 0
    loss = np.where(diverged, np.float32(np.nan), loss)
    xy = np.where(diverged[..., None], np.float32(np.nan), xy)
    best = np.where(np.isfinite(best), best, np.float32(np.nan))
    auc = np.where(diverged, np.float32(np.inf), auc)
    nearest, distance = _nearest(minima, xy, diverged)
    return dict(final_loss=loss, final_xy=xy, best_loss=best, steps_to_tol=first,
                diverged=diverged, diverged_at=div_at, auc=auc, nearest_minimum=nearest,
                nearest_distance=distance)


def _chunk_count(n_first: int, cells: int, bucket: int) -> int:
    """How many chunks a sweep that reports progress runs as (1: a single call)."""
    return int(max(1, min(n_first, PROGRESS_CHUNKS, cells * bucket // PROGRESS_WORK)))


def _run_chunks(call, values, rest, on_progress, n_chunks: int = 1):
    """One call; or ``n_chunks`` equal chunks along the first axis, ``on_progress`` after each."""
    if n_chunks <= 1 or not values:
        out = call(tuple(values), *rest)
        if on_progress is not None:
            on_progress(1.0)
        return out
    n = len(values[0])
    size = -(-n // n_chunks)  # every chunk this long (the last padded), so one compile
    pieces = []
    for c in range(0, n, size):
        first = values[0][c: c + size]
        pad = size - len(first)
        if pad:
            first = np.concatenate([first, np.repeat(first[-1:], pad, axis=0)])
        out = call((first, *values[1:]), *rest)
        pieces.append([np.asarray(o)[: size - pad] for o in out])
        on_progress(min(1.0, (c + size) / n))
    return [np.concatenate(parts) for parts in zip(*pieces)]


def _known_minima(L) -> tuple[tuple[float, float], ...]:
    """The landscape's minima, then (built-in landscapes only) its listed local minima."""
    local = ()
    if L.name in LOCAL_MINIMA and L.name in landscapes.names() and landscapes.get(L.name) is L:
        local = tuple((float(x), float(y)) for x, y in LOCAL_MINIMA[L.name])
    return tuple(L.minima) + local


def _nearest(minima, xy, diverged):
    if not minima:
        return np.full(diverged.shape, -1, np.int64), np.full(diverged.shape, np.nan)
    m = np.asarray(minima, np.float64)  # (M, 2)
    d = np.linalg.norm(np.asarray(xy, np.float64)[..., None, :] - m, axis=-1)  # shape + (M,)
    d = np.where(np.isfinite(d), d, np.inf)
    idx = d.argmin(axis=-1)
    dist = np.take_along_axis(d, idx[..., None], axis=-1)[..., 0]
    bad = diverged | ~np.isfinite(dist)
    return np.where(bad, -1, idx).astype(np.int64), np.where(bad, np.nan, dist)


# --- a fair race: each optimizer at its best learning rate -----------------------------

def tune(landscape, optimizer: str, start: Sequence[float] | None = None, steps: int = 1000,
         objective: str = "final_loss", lr_grid=None, extra: Mapping[str, Any] | None = None,
         **fixed) -> dict[str, Any]:
    """The learning rate (and optionally a second hyperparameter) that does best, by one sweep.

    Args:
      objective: what "best" means, lower is better: ``"final_loss"``, ``"steps_to_tol"``
        (first row within ``tol`` of f_min) or ``"auc"`` (mean log10 gap over the run).
      lr_grid: learning rates to try (default ``np.logspace(-5, 1, 61)``).
      extra: optionally one more hyperparameter, ``{"momentum": values}``, swept jointly
        (the grid is learning_rate x extra).
      **fixed: everything else ``sweep`` takes (hyperparameters, schedule, tol...).

    Diverged runs never win (their objective counts as +inf, also for ``steps_to_tol``
    when they reached tol before diverging); neither does a run that never got within
    tol when the objective is ``steps_to_tol`` — unless no run did, in which case
    ``value`` is inf and the tie among them is broken as below.  Ties are broken by the
    lower ``auc``, then by the lower final loss, then by the first cell in ``lr_grid``
    order (the smaller rate for an ascending grid).  If every run diverged, raises
    ValueError saying so.

    Returns a dict: ``learning_rate``, the extra hyperparameter's value under its name
    (if any), ``objective``, ``value`` (the winner's objective; an int step for
    steps_to_tol, inf if no run reached tol), ``index`` (its cell) and ``result`` (the
    SweepResult).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r:.40}; choose one of: {', '.join(OBJECTIVES)}")
    lr_grid = np.logspace(-5, 1, 61) if lr_grid is None else lr_grid
    grid = {"learning_rate": lr_grid}
    if extra is not None:
        if not isinstance(extra, Mapping) or len(extra) != 1:
            raise ValueError("extra must map one hyperparameter name to its values, "
                             "e.g. {'momentum': [0.0, 0.9, 0.99]}")
        (name, vals), = extra.items()
        if name == "learning_rate":
            raise ValueError("extra must name a hyperparameter other than learning_rate")
        grid[name] = vals
    for k in ("grid", "starts"):
        if k in fixed:
            raise ValueError(f"tune sweeps the grid itself; {k}= is not accepted")
    res = sweep(landscape, optimizer, start, steps, grid=grid, **fixed)
    if res.diverged.all():
        also = f" and every {name} value" if extra is not None else ""
        raise ValueError(f"{res.optimizer} diverged on {res.landscape} for every learning rate "
                         f"tried ({float(np.min(res.grid['learning_rate'])):g} to "
                         f"{float(np.max(res.grid['learning_rate'])):g}){also}; try smaller rates")
    primary = {
        "final_loss": res.final_loss.astype(np.float64),
        "steps_to_tol": np.where(res.steps_to_tol >= 0, res.steps_to_tol, np.inf).astype(np.float64),
        "auc": res.auc.astype(np.float64),
    }[objective]
    primary = np.where(res.diverged | np.isnan(primary), np.inf, primary)
    auc = np.where(res.diverged, np.inf, res.auc.astype(np.float64))
    loss = np.where(res.diverged, np.inf, res.final_loss.astype(np.float64))
    order = np.lexsort((np.arange(primary.size), loss.ravel(), auc.ravel(), primary.ravel()))
    index = np.unravel_index(order[0], res.shape)
    value = float(primary[index])
    out = {"learning_rate": float(res.grid["learning_rate"][index[0]]), "objective": objective,
           "value": int(value) if objective == "steps_to_tol" and math.isfinite(value) else value,
           "index": tuple(int(i) for i in index), "result": res}
    if extra is not None:
        out[name] = float(res.grid[name][index[1]])
    return out
