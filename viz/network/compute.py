"""NetScene -> trained runs and a loss-landscape slice, as compact NumPy results.

Everything here takes the plain, hashable keys a ``NetScene`` hands out
(``train_key(i)``, ``slice_key()``), so the page can cache it with
``st.cache_data`` and a test or a notebook can call it directly.  Nothing is
jitted here: ``optimizers.train`` and ``landscapes.network`` own the compiled
programs (a new number never recompiles; a new optimizer, activation, batch
size, ``eval_every``, architecture or switch compiles once per process).

Results are kept small, because ``st.cache_data`` pickles them: a run keeps
its curves (one row per evaluation) and at most ``MAX_WEIGHT_ROWS`` rows /
``MAX_WEIGHT_BYTES`` of its weight path (evenly spaced evaluations, always
the first and the last finite), enough for the PCA plane and the animation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from landscapes import network
from optimizers.train import train

MAX_WEIGHT_ROWS = 160
MAX_WEIGHT_BYTES = 8 * 2**20
WARM_RETIME_SECONDS = 2.0  # a run that compiled and trained faster than this is timed again
MARGIN = 0.25  # auto span: the trajectories' extent, widened by this much on each side
MIN_ASPECT = 0.7  # auto span: the shorter side is at least this fraction of the longer


@dataclass(frozen=True, eq=False)
class NetRunResult:
    """One training run, compact.  Arrays have one entry per evaluation (row 0: step 0).

    steps (E,) int32; train_loss, val_loss, train_acc, val_acc (E,) float32 (NaN where
    not finite); wall_time (E,) float64 seconds of training (compiling excluded);
    weights (R, P) float32: the flat weights at ``weight_steps`` (R,) int32, finite rows
    only; final (P,) float32: the last finite weights.
    """

    steps: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    wall_time: np.ndarray
    steps_to_target: int | None
    stopped_at: int | None
    stop_reason: str | None
    diverged_at: int | None
    compile_time: float
    weights: np.ndarray
    weight_steps: np.ndarray
    final: np.ndarray
    n_params: int


def _keep_rows(n: int, limit: int) -> np.ndarray:
    """At most ``limit`` evenly spaced indices of ``range(n)``, always 0 and n-1."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(int))


def train_run(key: tuple, on_progress=None) -> NetRunResult:
    """Train the run that ``NetScene.train_key(i)`` describes (``on_progress(steps done)``
    after each evaluation of its training, if given: a page's progress card).

    ``wall_time`` is measured warm: when the run's program was compiled by this call and
    trained in under ``WARM_RETIME_SECONDS``, the (deterministic) run is repeated and each
    interval between two evaluations keeps the faster of its two timings, so a program's
    one-time first-execution cost (and some of a busy machine's noise) does not count.
    """
    ((dataset, hidden, activation), batch_size, steps, eval_every, seed, schedule, schedule_params,
     clip, clip_at, noise, target, patience, converge_after, run_key) = key
    optimizer, lookahead, raw, hyperparams = run_key
    shared = {}
    if not raw:
        shared = dict(clip_value=clip_at if clip == "value" else None,
                      clip_norm=clip_at if clip == "norm" else None, noise=noise)
    kwargs = dict(steps=steps, batch_size=batch_size, seed=seed, eval_every=eval_every,
                  schedule=schedule, schedule_params=dict(schedule_params),
                  lookahead=lookahead and optimizer != "ranger",
                  stopping={"patience": patience, "target": target, "converge_after": converge_after},
                  **shared, **dict(hyperparams))
    r = train(dataset, hidden, activation, optimizer, on_progress=on_progress, **kwargs)
    wall_time = np.asarray(r.wall_time, np.float64)
    if r.compile_time > 0 and wall_time[-1] < WARM_RETIME_SECONDS:
        # The first execution of a freshly compiled program carries one-time costs (tens of
        # ms, more than the whole training of a small run): time the run again, warm.  Same
        # seed, same batches: the same numbers, only the clock differs.
        again = np.asarray(train(dataset, hidden, activation, optimizer, **kwargs).wall_time, np.float64)
        if len(again) == len(wall_time):  # each evaluation interval at its faster of the two
            wall_time = np.concatenate([[0.0], np.cumsum(np.minimum(np.diff(wall_time), np.diff(again)))])
    w = np.asarray(r.weights, np.float32)
    ws = np.asarray(r.weight_steps, np.int32)
    finite = np.isfinite(w).all(axis=1)
    w, ws = w[finite], ws[finite]
    limit = int(max(3, min(MAX_WEIGHT_ROWS, MAX_WEIGHT_BYTES // max(4 * w.shape[1], 1))))
    keep = _keep_rows(len(w), limit)
    return NetRunResult(
        steps=np.asarray(r.steps, np.int32), train_loss=r.train_loss, val_loss=r.val_loss,
        train_acc=r.train_acc, val_acc=r.val_acc, wall_time=wall_time,
        steps_to_target=r.steps_to_target, stopped_at=r.stopped_at, stop_reason=r.stop_reason,
        diverged_at=r.diverged_at, compile_time=float(r.compile_time),
        weights=np.ascontiguousarray(w[keep]), weight_steps=ws[keep], final=w[-1].copy(),
        n_params=int(w.shape[1]))


# --- the slice ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class NetSlice:
    """The loss on the plane ``centre + α d1 + β d2`` and every run's path projected into it.

    alphas, betas (n,); loss, accuracy (n, n) ``[i_beta, i_alpha]`` on the training split;
    coords: one (R_i, 2) array of (α, β) per run, at ``steps[i]`` (R_i,);
    kind: "pca" or "random"; explained: PCA's share of variance of the two components (2,)
    (None for random); center: the centre run's index; center_loss, center_accuracy: at (0, 0);
    note: why the plane differs from the one asked for ("" if it does not).
    """

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    coords: tuple
    steps: tuple
    kind: str
    explained: np.ndarray | None
    center: int
    center_loss: float
    center_accuracy: float
    note: str = ""


def auto_bounds(coords: Sequence[np.ndarray], at_least: float = 0.0) -> tuple[float, float, float, float]:
    """``(α_min, α_max, β_min, β_max)`` framing ``coords`` and the origin (``span_around``),
    the shorter side widened to ``MIN_ASPECT`` of the longer, and covering
    ``[-at_least, at_least]`` on both axes."""
    a0, a1, b0, b1 = network.span_around(*coords, margin=MARGIN)
    wa, wb = a1 - a0, b1 - b0
    if wb < MIN_ASPECT * wa:
        mid, half = (b0 + b1) / 2, MIN_ASPECT * wa / 2
        b0, b1 = mid - half, mid + half
    elif wa < MIN_ASPECT * wb:
        mid, half = (a0 + a1) / 2, MIN_ASPECT * wb / 2
        a0, a1 = mid - half, mid + half
    a0, a1 = min(a0, -at_least), max(a1, at_least)
    b0, b1 = min(b0, -at_least), max(b1, at_least)
    lim = 1e4
    return (max(a0, -lim), min(a1, lim), max(b0, -lim), min(b1, lim))


def slice_of(model_key: tuple, results: Sequence[NetRunResult], directions: str, center: int,
             span: float | None, grid: int, seed: int) -> NetSlice:
    """The slice of the loss around run ``center``'s final weights (see ``NetScene``).

    PCA directions come from the centre run's weight path (at least 3 rows: otherwise random
    directions are used, and ``note`` says so).  Auto span: PCA frames every run's projected
    path that did not diverge; random covers at least [-1, 1] (Li et al.'s plots).
    """
    dataset, hidden, activation = model_key
    if not results:
        raise ValueError("a slice needs at least one run")
    center = min(max(int(center), 0), len(results) - 1)
    c = results[center]
    note = ""
    kind = directions
    if kind == "pca" and len(c.weights) < 3:
        note = (f"run {center + 1} has fewer than 3 weight snapshots (PCA needs at least two "
                "evaluations after step 0): random directions are shown instead")
        kind = "random"
    if kind == "pca":
        try:
            dirs = network.pca_directions(c.weights)
        except ValueError as err:  # e.g. weights that never moved (learning rate ~0)
            note = f"no principal directions ({err}): random directions are shown instead"
            kind = "random"
    if kind == "random":
        ds = network.as_dataset(dataset)
        tree = network.unflatten(c.final, network.param_shapes(ds.n_features, hidden, ds.n_classes))
        dirs = network.random_directions(tree, seed=seed)
    coords = tuple(network.project(r.weights, c.final, dirs.d1, dirs.d2) for r in results)
    steps = tuple(r.weight_steps for r in results)
    if span is not None:
        bounds = (-span, span, -span, span)
    else:
        framed = [xy for r, xy in zip(results, coords) if r.diverged_at is None] or [coords[center]]
        bounds = auto_bounds(framed, at_least=1.0 if kind == "random" else 0.0)
    s = network.loss_slice(dataset, hidden, activation, c.final, dirs.d1, dirs.d2, span=bounds, n=grid)
    return NetSlice(alphas=s.alphas, betas=s.betas, loss=s.loss, accuracy=s.accuracy, coords=coords,
                    steps=steps, kind=kind, explained=dirs.explained_variance_ratio, center=center,
                    center_loss=float(s.center_loss), center_accuracy=float(s.center_accuracy), note=note)


# --- what a view costs -------------------------------------------------------------------------

# Floating-point operations per second that a view's estimate assumes: about half what the
# 2-core development machine sustains (1e11 training the 4x256 MLP, 7e10 slicing it), so the
# estimate errs on the long side.
FLOPS_PER_SECOND = 5e10


def estimate_seconds(scene) -> float:
    """Seconds of computing (compiling excluded) that ``scene`` (a ``NetScene``) needs: every
    run's training (forward and backward passes of its minibatches, and a forward pass over
    both splits at every evaluation) and the slice (a forward pass over the training split
    at every grid point).  A rough, conservative count: it only has to tell a view of a
    second from a view of minutes."""
    ds = network.load_dataset(scene.dataset)
    p = network.n_params(ds.n_features, scene.hidden, ds.n_classes)
    n_all = ds.n_train + ds.n_val
    evals = math.ceil(scene.steps / scene.eval_every)
    per_run = 6.0 * scene.steps * scene.batch_size * p + 2.0 * evals * n_all * p
    slice_ = 2.0 * scene.grid**2 * ds.n_train * p if scene.runs else 0.0
    return (len(scene.runs) * per_run + slice_) / FLOPS_PER_SECOND


# --- the table ---------------------------------------------------------------------------------

STOP_TEXT = {"patience": "no better val loss", "converged": "converged", "diverged": "diverged"}


def _last(a: np.ndarray) -> float:
    finite = np.flatnonzero(np.isfinite(a))
    return float(a[finite[-1]]) if finite.size else math.nan


def summary_rows(results: Sequence[NetRunResult], labels: Sequence[str], target: float) -> list[dict]:
    """One dict per run: the numbers of the page's table (plain Python; None = nothing to say)."""
    rows = []
    for r, label in zip(results, labels):
        stopped = None
        if r.stop_reason is not None:
            stopped = f"{r.stopped_at:,} ({STOP_TEXT.get(r.stop_reason, r.stop_reason)})"
        rows.append({
            "run": label,
            "train loss": _last(r.train_loss), "val loss": _last(r.val_loss),
            "train acc": _last(r.train_acc), "val acc": _last(r.val_acc),
            "best val acc": float(np.nanmax(r.val_acc)) if np.isfinite(r.val_acc).any() else math.nan,
            f"steps to {target:.4g} val acc": r.steps_to_target,
            "stopped at": stopped,
            "wall time (s)": float(r.wall_time[-1]),
            "compile (s)": r.compile_time,
        })
    return rows


def _cell(v, kind: str = "num") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, str):
        return v
    return {"pct": lambda: f"{100 * v:.1f} %", "int": lambda: f"{int(v):,}",
            "sec": lambda: f"{v:.3f}"}.get(kind, lambda: f"{v:.4g}")()


def table_rows(results: Sequence[NetRunResult], labels: Sequence[str], target: float) -> list[dict]:
    """The page's table: :func:`summary_rows` as text cells, a dict per run."""
    rows = summary_rows(results, labels, target)
    tkey = f"steps to {target:.4g} val acc"
    return [{"run": r["run"], "train loss": _cell(r["train loss"]), "val loss": _cell(r["val loss"]),
             "train acc": _cell(r["train acc"], "pct"), "val acc": _cell(r["val acc"], "pct"),
             "best val acc": _cell(r["best val acc"], "pct"),
             f"steps to {100 * target:g} % val acc": _cell(r[tkey], "int"),
             "stopped at": _cell(r["stopped at"]),
             "training time (s)": _cell(r["wall time (s)"], "sec"),
             "compile (s)": _cell(r["compile (s)"], "sec")} for r in rows]


# --- what the page says (Markdown; the caller escapes visitors' labels) ---------------------

DATA_NAMES = {"digits": "8x8 digits", "moons": "two moons", "spirals": "three spirals"}


def intro_text(scene) -> str:
    """The sentence over the figures: data, model, steps, the shared start and batches."""
    arch = "–".join(str(h) for h in scene.hidden)
    return (f"A small MLP ({arch} {scene.activation} units) learns to classify "
            f"**{DATA_NAMES[scene.dataset]}**, {scene.steps:,} step{'s' * (scene.steps != 1)} of minibatches of {scene.batch_size}; "
            f"every run starts from the same weights (seed {scene.seed}) and sees the same batches.")


def _pca(sl: NetSlice) -> bool:
    return sl.kind == "pca" and sl.explained is not None


def plane_text(sl: NetSlice, center: str) -> str:
    """Which plane the slice is (``center``: the centre run's label, already escaped)."""
    if _pca(sl):
        return (f"**Plane:** the first two principal components of **{center}**'s weight path "
                "(Li et al., 2018, §7).")
    return (f"**Plane:** two filter-normalised random directions (Li et al., 2018, §4) around "
            f"the final weights of **{center}**.")


def plane_caption(sl: NetSlice) -> str:
    """How to read the paths in that plane."""
    if _pca(sl):
        return ("The path of the centre run lies almost in this plane and ends at the star. "
                "Other runs are projected into it: their true loss can be lower than the "
                "contour under them (they end outside the plane).")
    return ("Random directions in thousands of dimensions are almost orthogonal to any "
            "path, so the projected paths stay near the centre: the plane shows the "
            "shape of the basin, not the route to it.  Pick *principal components* to "
            "see the route.")
