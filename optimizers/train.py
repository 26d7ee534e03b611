"""Train the small MLP of ``landscapes.network`` with any update rule: the jitted loop.

    >>> from optimizers.train import train
    >>> r = train("digits", hidden=(64,), optimizer="adam", steps=2000, learning_rate=3e-3,
    ...           stopping={"patience": 20, "target": 0.97, "converge_after": 20})
    >>> r.stop_reason, r.steps_to_target, r.stopped_at, r.weights.shape
    ('converged', 500, 1450, (30, 4810))

The same rules as the 2-D landscapes, and the same step: ``optimizers.step.take_step``
(gradient, noise and clipping, ``optimizers.get(name, lookahead).update`` with the
scheduled learning rate, apply) on the parameter tree, with a minibatch loss in
place of the 2-D function.

How it runs.  Training is cut into chunks of ``eval_every`` steps.  One chunk
is one call of an ahead-of-time compiled function: ``lax.scan`` over its
steps, then the loss and accuracy on the full training and validation splits
and the flat weights.  Between chunks the host reads those four numbers, which
is where the stopping rules can end training early.  Parameter and optimiser
state buffers are donated from chunk to chunk.

What is compiled (static): the rule's update function (rules that share one,
like momentum and nesterov, share programs; lookahead is another function),
which gradient transforms are on, the activation, ``eval_every``,
``batch_size`` and the array shapes (architecture, dataset).  Traced: the
hyperparameters, the learning rates (so the schedule, its kind and numbers),
clipping and noise numbers, the seed, the minibatch indices, the data and the
step count.  ``compile_count()`` counts the compilations; compiling is timed
apart from training (``TrainResult.compile_time``).

Minibatches: a fresh permutation of the training set per epoch, cut into
``n_train // batch_size`` batches (``landscapes.network.batch_stream``; NumPy
PCG64 seeded by the run's seed, drawn on the host, passed to each chunk as an
``(eval_every, batch_size)`` index array).  ``seed`` also seeds the initial
weights (``network.init_params``) and the gradient noise; runs that differ only
in the optimizer start from the same weights and see the same batches.
"""

from __future__ import annotations

import math
import threading
import time
from functools import partial
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from cachetools import LRUCache

from landscapes import compiled as compiled_programs, network
from landscapes.params import number_in, whole
from optimizers import schedules
from optimizers.base import tmap
from optimizers.checks import gradient_transforms  # the same checks as optimizers.run
from optimizers.registry import get, resolve
from optimizers.step import schedule_factors, take_step
from optimizers.transforms import GradientSwitches

__all__ = ["train", "TrainResult", "compile_count", "trace_count", "DEFAULT_STOPPING",
           "MAX_STEPS", "MAX_TRAJECTORY_BYTES"]

MAX_STEPS = 200_000
MAX_BATCH = 4096
MAX_EVAL_EVERY = 10_000
# The weight trajectory keeps at most this many bytes: past it, every k-th evaluation's
# weights are kept (and always the last), see ``TrainResult.weight_steps``.
MAX_TRAJECTORY_BYTES = 64 * 2**20
# Seed 003's rules: stop after 20 validations without a lower validation loss; converged
# after 20 validations in a row at or above the target accuracy.
DEFAULT_STOPPING = {"patience": 20, "target": 0.97, "converge_after": 20}
# The columns of an evaluation's metrics (``_evaluate``), in order.
TRAIN_LOSS, VAL_LOSS, TRAIN_ACC, VAL_ACC = range(4)


@dataclass(frozen=True, eq=False)
class TrainResult:
    """One training run; arrays have one entry per evaluation (row 0: before any step).

    steps       (E,) int32    updates made at each evaluation: 0, eval_every, 2·eval_every, ...
                              (the last may be a partial chunk, or the step training stopped at)
    train_loss, val_loss (E,) float32  mean cross-entropy on the full training / validation split
    train_acc, val_acc   (E,) float32  accuracy on the same
    wall_time   (E,) float64  cumulative seconds of training at each evaluation, measured around
                              the compiled chunks (compilation excluded: see ``compile_time``)
    batch_loss  (S,) float32  the minibatch loss at each update (before it), S = steps[-1]
    lr          (S,) float32  the scheduled learning rate of each update
    steps_to_target  the first evaluated step with val_acc >= target (None: no target, or never)
    stopped_at, stop_reason  the step and why training ended early: "patience", "converged",
                              "diverged"; None and None when it ran all its steps
    diverged_at      the first update whose minibatch loss was not finite (or, if the losses
                     stayed finite, the evaluated step whose weights or metrics were not);
                     None if all stayed finite.  Training stops at the evaluation after it,
                     and non-finite values are returned as NaN
    params      final weights, a list of {"w", "b"} NumPy float32 dicts (the network's tree)
    weights     (R, n_params) float32: the flat weights (``network.flatten``) at each
                evaluation, R = E unless that would pass MAX_TRAJECTORY_BYTES
    weight_steps (R,) int32   the step of each row of ``weights``
    compile_time     seconds spent compiling for this call (0.0 when already compiled)
    """

    steps: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    wall_time: np.ndarray
    batch_loss: np.ndarray
    lr: np.ndarray
    steps_to_target: int | None
    stopped_at: int | None
    stop_reason: str | None
    diverged_at: int | None
    params: list
    weights: np.ndarray
    weight_steps: np.ndarray
    compile_time: float
    optimizer: str = ""
    hyperparams: dict[str, float] = field(default_factory=dict)
    dataset: str = ""
    hidden: tuple[int, ...] = ()
    activation: str = ""
    batch_size: int = 0
    seed: int = 0
    eval_every: int = 0

    @property
    def final_val_acc(self) -> float:
        return float(self.val_acc[-1])

    @property
    def best_val_acc(self) -> float:
        return float(np.nanmax(self.val_acc))


# --- compilation ---------------------------------------------------------------------------

_TRACES = 0
_COMPILES = 0
_CACHE_SIZE = 16  # compiled network programs (chunk + eval); ~2-6 MB each, measured
_CACHE: LRUCache = LRUCache(maxsize=_CACHE_SIZE)  # compiled programs by _ProgramKey
_LOCK = threading.Lock()  # the app serves several sessions from threads; LRUCache is not safe


def trace_count() -> int:
    """How many times the chunk function has been traced (each trace precedes a compile)."""
    return _TRACES


def compile_count() -> int:
    """How many chunk programs this process has compiled."""
    return _COMPILES


@dataclass(frozen=True)
class _Static:
    update: Any  # the rule's update function (rules sharing one, e.g. momentum and nesterov,
    #              share programs; their hyperparameters are traced)
    switches: GradientSwitches
    activation: str
    n_train: int  # rows of the data that are the training split (the rest: validation)


class _ProgramKey(NamedTuple):
    """What selects a compiled program in ``_CACHE``."""

    which: str  # "chunk" or "eval"
    static: _Static
    treedef: Any  # of the arguments
    shapes: tuple  # (shape, dtype) of each argument leaf


def _chunk(static: _Static, params, state, hp, numbers, key, lrs, ts, idx, n_total, x, y):
    """``len(ts)`` updates, then the evaluation: one compiled program.

    ``x, y``: the training split followed by the validation split; minibatch indices
    ``idx`` point into the first ``static.n_train`` rows.  Updates at steps
    ``t >= n_total`` (padding of the last chunk) leave the parameters alone (the
    optimiser state after the last chunk is not used).
    """
    global _TRACES
    _TRACES += 1  # runs only while tracing
    act = static.activation
    value_and_grad = jax.value_and_grad(network.loss)

    def step(carry, xs):
        params, state = carry
        lr_t, t, ib = xs
        xb = jnp.take(x, ib, axis=0, mode="clip")
        yb = jnp.take(y, ib, axis=0, mode="clip")
        s = take_step(lambda p: value_and_grad(p, xb, yb, act), static.update, static.switches,
                      hp, numbers, key, params, state, lr_t, t)
        live = t < n_total
        params = tmap(lambda p, new: jnp.where(live, new, p), params, s.params)
        return (params, s.state), s.loss

    (params, state), batch_loss = jax.lax.scan(step, (params, state), (lrs, ts, idx))
    metrics, flat = _evaluate(static, params, x, y)
    return params, state, metrics, flat, batch_loss


def _evaluate(static: _Static, params, x, y):
    """[train loss, val loss, train acc, val acc] (one forward pass over both splits; the
    columns TRAIN_LOSS, VAL_LOSS, TRAIN_ACC, VAL_ACC) and the flat weights."""
    logits = network.forward(params, x, static.activation)
    nll = -jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), y[:, None], axis=-1)[:, 0]
    ok = (jnp.argmax(logits, axis=-1) == y).astype(jnp.float32)
    n = static.n_train
    metrics = jnp.stack([nll[:n].mean(), nll[n:].mean(), ok[:n].mean(), ok[n:].mean()])
    return metrics, network.ravel(params)


def _jitted(which: str, static: _Static):
    """A fresh jitted function for one program: once it is compiled and dropped, the only
    reference to the executable is ``_CACHE``'s (a module-level ``jax.jit`` would keep every
    program it ever compiled)."""
    if which == "chunk":
        return jax.jit(partial(_chunk, static), donate_argnums=(0, 1))
    return jax.jit(partial(_evaluate, static))


def _program_key(which: str, static: _Static, args) -> _ProgramKey:
    leaves, treedef = jax.tree.flatten(args)
    shapes = tuple((np.shape(a), str(jnp.asarray(a).dtype) if isinstance(a, jax.Array)
                    else np.asarray(a).dtype.str) for a in leaves)
    return _ProgramKey(which, static, treedef, shapes)


def _compiled(which: str, static: _Static, args) -> tuple[Any, float]:
    """The compiled program for ``static`` and the shapes of ``args``, and the seconds spent
    compiling it now (0.0 from the cache)."""
    global _COMPILES
    key = _program_key(which, static, args)
    with _LOCK:
        hit = _CACHE.get(key)  # a hit also makes it the most recently used
        if hit is not None:
            return hit, 0.0
    compiled_programs.compiling(f"train.{which}")  # (a watcher may say so: landscapes.compiled.watch)
    t0 = time.perf_counter()
    compiled = _jitted(which, static).lower(*args).compile()
    seconds = time.perf_counter() - t0
    with _LOCK:
        if which == "chunk":
            _COMPILES += 1
        _CACHE[key] = compiled  # evicts the least recently used past _CACHE_SIZE
    return compiled, seconds


# --- validation ---------------------------------------------------------------------------

def _stopping(stopping) -> dict[str, Any]:
    out = {"patience": None, "target": None, "converge_after": None}
    if stopping is None:
        return out
    if not isinstance(stopping, Mapping):
        raise ValueError(f"stopping must be None or a dict with keys patience, target, "
                         f"converge_after; got {stopping!r:.60}")
    for k, v in stopping.items():
        if k not in out:
            raise ValueError(f"stopping has no rule {k!r:.40}; its keys: patience, target, converge_after")
        if v is None:
            continue
        if k == "target":
            out[k] = number_in(v, 0.0, 1.0, "stopping target")
        else:
            out[k] = whole(v, 1, 100_000, f"stopping {k}")
    if out["converge_after"] is not None and out["target"] is None:
        raise ValueError("stopping: converge_after needs a target accuracy")
    return out


def _initial_params(params0, ds, hidden, activation, seed):
    """``params0`` checked against the architecture, or fresh weights from ``seed``."""
    if params0 is None:
        return network.init_params(ds.n_features, hidden, ds.n_classes, activation, seed)
    params0 = network.as_tree(params0, ds, hidden)
    if not all(np.isfinite(v).all() for layer in params0 for v in layer.values()):
        raise ValueError("params0 has values that are not finite")
    return params0


def _f32(d: Mapping[str, float]) -> dict[str, np.float32]:
    return {k: np.float32(v) for k, v in d.items()}


# --- the loop -------------------------------------------------------------------------------

class _Stopper:
    """The stopping rules, fed one evaluation at a time."""

    def __init__(self, stop: Mapping[str, Any]):
        self.stop = stop
        self.best_val, self.since_best, self.in_target = math.inf, 0, 0
        self.steps_to_target: int | None = None

    def observe(self, step: int, m) -> str | None:
        """Update the counters with one evaluation's metrics; return the reason to stop, if any."""
        stop = self.stop
        val_loss, val_acc = float(m[VAL_LOSS]), float(m[VAL_ACC])
        if val_loss < self.best_val:
            self.best_val, self.since_best = val_loss, 0
        else:
            self.since_best += 1
        if stop["target"] is not None and val_acc >= stop["target"]:
            self.in_target += 1
            if self.steps_to_target is None:
                self.steps_to_target = step
        else:
            self.in_target = 0
        if stop["converge_after"] is not None and self.in_target >= stop["converge_after"]:
            return "converged"
        if stop["patience"] is not None and self.since_best >= stop["patience"]:
            return "patience"
        return None


@dataclass
class _Record:
    """What the loop keeps: one row per evaluation, the kept weights, the minibatch losses."""

    steps: list = field(default_factory=list)
    metrics: list = field(default_factory=list)
    times: list = field(default_factory=list)
    weights: list = field(default_factory=list)
    weight_steps: list = field(default_factory=list)
    batch_losses: list = field(default_factory=list)
    stopped_at: int | None = None
    stop_reason: str | None = None
    diverged_at: int | None = None

    def evaluation(self, step, metrics, elapsed, flat=None):
        self.steps.append(step)
        self.metrics.append(metrics)
        self.times.append(elapsed)
        if flat is not None:
            self.weights.append(np.asarray(flat, np.float32))
            self.weight_steps.append(step)


class _Batches:
    """The arguments of each chunk's call: minibatch indices drawn from ``batch_stream``."""

    def __init__(self, fixed, lrs, steps, eval_every, batch_size, n_train, seed):
        self.fixed = fixed  # (hp, numbers, key) then, after the step's arrays, (n_total, x, y)
        self.lrs, self.steps, self.eval_every, self.batch_size = lrs, steps, eval_every, batch_size
        self.stream = network.batch_stream(n_train, batch_size, seed)

    def args(self, c, params, state):
        eval_every, t0 = self.eval_every, c * self.eval_every
        ts = np.arange(t0, t0 + eval_every, dtype=np.int32)
        idx = np.stack([next(self.stream) for _ in range(min(eval_every, self.steps - t0))])
        if len(idx) < eval_every:  # padding of the last chunk (masked out inside)
            idx = np.concatenate([idx, np.zeros((eval_every - len(idx), self.batch_size), np.int32)])
        hp, numbers, key, n_total, x, y = self.fixed
        return (params, state, hp, numbers, key, self.lrs[t0:t0 + eval_every], ts, idx, n_total, x, y)


def _loop(run_chunk, first, batches: _Batches, n_chunks, stride, stopper: _Stopper, rec: _Record,
          on_progress=None):
    """Call the compiled chunks until the steps are done or a stopping rule fires; returns
    the last flat weights.  ``first``: the first chunk's arguments (already built);
    ``on_progress(steps done)`` after each chunk, if given."""
    eval_every, steps = batches.eval_every, batches.steps
    args, elapsed, flat = first, rec.times[-1], None
    for c in range(n_chunks):
        t0 = time.perf_counter()
        params, state, metrics, flat, bl = run_chunk(*args)
        metrics, flat, bl = jax.device_get((metrics, flat, bl))
        elapsed += time.perf_counter() - t0
        done = min((c + 1) * eval_every, steps)
        bl = np.asarray(bl[: done - c * eval_every], np.float32)
        rec.batch_losses.append(bl)
        rec.evaluation(done, metrics, elapsed, flat if (c + 1) % stride == 0 else None)
        if on_progress is not None:
            on_progress(done)
        bad = ~np.isfinite(bl)
        if bad.any() or not np.isfinite(metrics).all():
            rec.diverged_at = c * eval_every + int(np.argmax(bad)) if bad.any() else done
            rec.stopped_at, rec.stop_reason = done, "diverged"
            break
        reason = stopper.observe(done, metrics)
        if reason is not None:
            rec.stopped_at, rec.stop_reason = done, reason
            break
        if c + 1 < n_chunks:  # the next chunk's minibatches, drawn only if it runs
            args = batches.args(c + 1, params, state)
    return flat


def train(dataset="digits", hidden: Sequence[int] = (64,), activation: str = "relu",
          optimizer: str = "adam", steps: int = 2000, batch_size: int = 64, seed: int = 0,
          eval_every: int = 50, *, schedule: str = "constant", schedule_params: Mapping | None = None,
          clip_value: float | None = None, clip_norm: float | None = None, noise: float = 0.0,
          lookahead: bool = False, stopping: Mapping | None = None, params0=None,
          on_progress: Callable[[int], Any] | None = None, **hyperparams) -> TrainResult:
    """Train an MLP classifier on ``dataset`` with ``optimizer``; evaluate every ``eval_every`` steps.

    Args:
      dataset: a name from ``network.dataset_names()`` (its default split) or a ``network.Dataset``.
      hidden, activation: the MLP (1-4 hidden layers of 4-256 units; relu, tanh, gelu, sigmoid).
      optimizer: a name from ``optimizers.names()``; ``lookahead`` wraps it in Lookahead.
      steps: updates to make, 1 to 200,000 (fewer if a stopping rule ends training).
      batch_size: examples per update, 1 to min(4096, n_train).
      seed: initial weights, minibatch order and gradient noise.
      eval_every: updates between evaluations, 1 to 10,000.  It is the length of the compiled
        chunk, so changing it recompiles (changing ``steps`` does not: when ``steps`` is not a
        multiple, the last chunk's extra updates are computed and discarded).
      schedule, schedule_params: learning-rate schedule (``optimizers.schedule_names()``).
      clip_value, clip_norm, noise: gradient transforms, as in ``optimizers.run``.
      stopping: None (run all steps) or a dict with any of
        ``patience``: stop after that many evaluations in a row without a new lowest validation loss;
        ``target``: a validation accuracy; ``steps_to_target`` reports when it is first reached;
        ``converge_after``: stop after that many evaluations in a row with val_acc >= target.
        (``DEFAULT_STOPPING`` holds seed 003's numbers.)  If both rules fire at once, "converged".
      params0: initial weights (a tree of the right shapes) instead of ``init_params(seed)``.
      on_progress: optional ``callback(steps done)``, called after each evaluation (for a
        page's progress line); it changes no number.
      **hyperparams: the rule's hyperparameters by optax's names, checked by ``optimizers.resolve``.

    Non-finite losses stop training at the next evaluation (``stop_reason="diverged"``).
    """
    ds = network.as_dataset(dataset)
    hidden, activation = network.validate_architecture(hidden, activation)
    rule = get(optimizer, lookahead=lookahead)
    hp = resolve(rule, hyperparams)
    steps = whole(steps, 1, MAX_STEPS, "steps")
    batch_size = whole(batch_size, 1, min(MAX_BATCH, ds.n_train), "batch_size")
    seed = whole(seed, *network.SEED_RANGE, "seed")
    eval_every = whole(eval_every, 1, MAX_EVAL_EVERY, "eval_every")
    sched = schedules.validate(schedule, schedule_params)
    switches, numbers, _ = gradient_transforms(clip_value, clip_norm, noise, 0)
    stopper = _Stopper(_stopping(stopping))
    params0 = _initial_params(params0, ds, hidden, activation, seed)

    # the learning rate of every step: α · s(t), as optimizers.runner computes it
    n_chunks = -(-steps // eval_every)
    lrs = np.asarray(jnp.float32(hp["learning_rate"])
                     * schedule_factors(schedule, _f32(sched), np.arange(n_chunks * eval_every, dtype=np.int32)),
                     np.float32)

    data = (jax.device_put(np.concatenate([ds.x_train, ds.x_val])),
            jax.device_put(np.concatenate([ds.y_train, ds.y_val])))
    params = tmap(jnp.array, params0)  # copies: the chunks donate their buffers
    state = tmap(jnp.array, rule.init(params))  # copies: Lookahead's slow weights alias params
    fixed = (_f32(hp), _f32(numbers), jax.random.key(seed), np.int32(steps), *data)
    batches = _Batches(fixed, lrs, steps, eval_every, batch_size, ds.n_train, seed)

    evaluate, compile_time = _compiled("eval", _Static(None, GradientSwitches(), activation, ds.n_train),
                                       (params, *data))
    first = batches.args(0, params, state)
    run_chunk, ct = _compiled("chunk", _Static(rule.update, switches, activation, ds.n_train), first)
    compile_time += ct

    n_par = network.n_params(ds.n_features, hidden, ds.n_classes)
    stride = max(1, math.ceil((n_chunks + 1) * n_par * 4 / MAX_TRAJECTORY_BYTES))
    metrics0, flat0 = jax.device_get(evaluate(params, *data))
    rec = _Record()
    rec.evaluation(0, metrics0, 0.0, flat0)
    stopper.observe(0, metrics0)
    flat = _loop(run_chunk, first, batches, n_chunks, stride, stopper, rec, on_progress)
    if rec.weight_steps[-1] != rec.steps[-1]:
        rec.weights.append(np.asarray(flat, np.float32))
        rec.weight_steps.append(rec.steps[-1])
    return _result(rec, stopper, params0, lrs, compile_time, rule=rule.name, hp=hp, ds=ds.name,
                   hidden=hidden, activation=activation, batch_size=batch_size, seed=seed,
                   eval_every=eval_every)


def _result(rec: _Record, stopper: _Stopper, params0, lrs, compile_time, *, rule, hp, ds, hidden,
            activation, batch_size, seed, eval_every) -> TrainResult:
    """The TrainResult of a finished loop: non-finite values as NaN."""
    m = np.asarray(rec.metrics, np.float32)
    m[~np.isfinite(m)] = np.nan
    w = np.stack(rec.weights)
    w[~np.isfinite(w)] = np.nan
    final = network.unflatten(w[-1].copy(), network.shapes_of(params0))
    n_done = rec.steps[-1]
    bl = np.concatenate(rec.batch_losses) if rec.batch_losses else np.zeros(0, np.float32)
    bl[~np.isfinite(bl)] = np.nan
    return TrainResult(
        steps=np.asarray(rec.steps, np.int32), train_loss=m[:, TRAIN_LOSS], val_loss=m[:, VAL_LOSS],
        train_acc=m[:, TRAIN_ACC], val_acc=m[:, VAL_ACC], wall_time=np.asarray(rec.times, np.float64),
        batch_loss=bl, lr=lrs[:n_done].copy(), steps_to_target=stopper.steps_to_target,
        stopped_at=rec.stopped_at, stop_reason=rec.stop_reason, diverged_at=rec.diverged_at,
        params=final, weights=w, weight_steps=np.asarray(rec.weight_steps, np.int32),
        compile_time=compile_time, optimizer=rule, hyperparams=hp, dataset=ds,
        hidden=hidden, activation=activation, batch_size=batch_size, seed=seed,
        eval_every=eval_every)
