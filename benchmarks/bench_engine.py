"""Engine speed: 10,000 Adam steps on Rosenbrock, against references measured in the same run.

    python benchmarks/bench_engine.py [--reps 201]

Compared, each returning the whole trajectory (points and losses) as NumPy:
  ours      optimizers.run(...)                       (validation, jit program, slicing, divergence scan)
  optax     optax.adam in a jitted lax.scan           (the same trajectory, bit for bit on this problem)
  numpy     a plain NumPy loop of the same rule        (the seeds' style)
  torch     a torch.optim.Adam loop with autograd     (for context)

Warm timings are medians over interleaved repetitions (the machines are shared
and noisy: read the ratios).  "first call" is the compile-and-run time of a
program not seen before in this process.  Results go to
benchmarks/results/engine.json and engine.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import landscapes  # noqa: E402
import optimizers  # noqa: E402

STEPS = 10_000
LR, B1, B2, EPS = 1e-2, 0.9, 0.999, 1e-8
START = (-1.5, 2.0)


def ours():
    tr = optimizers.run("rosenbrock", "adam", start=START, steps=STEPS, learning_rate=LR, b1=B1)
    return tr.xy, tr.loss


def make_optax():
    import optax

    f = landscapes.get("rosenbrock").f

    @jax.jit
    def trajectory(start, lr, b1, b2, eps):
        opt = optax.adam(lr, b1, b2, eps)

        def body(carry, _):
            p, s = carry
            loss, g = jax.value_and_grad(f)(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), (p, loss)

        p0 = jnp.asarray(start, jnp.float32)
        (p, _), (ps, ls) = jax.lax.scan(body, (p0, opt.init(p0)), None, length=STEPS)
        return jnp.concatenate([ps, p[None]]), jnp.concatenate([ls, f(p)[None]])

    args = (np.asarray(START, np.float32),) + tuple(np.float32(v) for v in (LR, B1, B2, EPS))

    def call():
        xy, loss = trajectory(*args)
        return np.asarray(xy), np.asarray(loss)

    return call


def numpy_loop():
    """The seeds' style: a Python loop over NumPy arrays (float32), gradient written out."""
    p = np.asarray(START, np.float32)
    m = np.zeros(2, np.float32)
    v = np.zeros(2, np.float32)
    xy = np.empty((STEPS + 1, 2), np.float32)
    loss = np.empty(STEPS + 1, np.float32)
    for t in range(1, STEPS + 2):
        x, y = p
        xy[t - 1] = p
        loss[t - 1] = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        if t == STEPS + 1:
            break
        g = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], np.float32)
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        m_hat = m / (1 - B1**t)
        v_hat = v / (1 - B2**t)
        p = p - LR * m_hat / (np.sqrt(v_hat) + EPS)
    return xy, loss


def torch_loop():
    import torch

    p = torch.tensor(START, dtype=torch.float32, requires_grad=True)
    opt = torch.optim.Adam([p], lr=LR, betas=(B1, B2), eps=EPS)
    xy = np.empty((STEPS + 1, 2), np.float32)
    loss = np.empty(STEPS + 1, np.float32)
    for k in range(STEPS + 1):
        opt.zero_grad()
        f = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        xy[k] = p.detach().numpy()
        loss[k] = f.item()
        if k == STEPS:
            break
        f.backward()
        opt.step()
    return xy, loss


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=201)
    ap.add_argument("--slow-reps", type=int, default=3, help="repetitions of the NumPy and torch loops")
    args = ap.parse_args()

    optax_call = make_optax()
    first = {"ours": timed(ours), "optax": timed(optax_call)}

    # sanity: same trajectory as optax
    (a_xy, _), (b_xy, _) = ours(), optax_call()
    max_diff = float(np.max(np.abs(a_xy - b_xy)))

    warm = {"ours": [], "optax": []}
    for _ in range(args.reps):  # interleaved
        warm["ours"].append(timed(ours))
        warm["optax"].append(timed(optax_call))
    slow = {"numpy": [timed(numpy_loop) for _ in range(args.slow_reps)]}
    try:
        import torch

        torch.set_num_threads(2)
        slow["torch"] = [timed(torch_loop) for _ in range(args.slow_reps)]
    except ImportError:  # torch is a test-only dependency
        pass

    med = {k: statistics.median(v) for k, v in {**warm, **slow}.items()}
    result = {
        "what": f"{STEPS} Adam steps on Rosenbrock from {START}, whole trajectory returned as NumPy",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__} on {jax.default_backend()}",
        "reps": {k: len(v) for k, v in {**warm, **slow}.items()},
        "median_s": med,
        "min_s": {k: min(v) for k, v in {**warm, **slow}.items()},
        "first_call_s": first,
        "ratio_ours_to_optax": med["ours"] / med["optax"],
        "speedup_vs_numpy": med["numpy"] / med["ours"],
        "speedup_vs_torch": med["torch"] / med["ours"] if "torch" in med else None,
        "max_abs_diff_vs_optax": max_diff,
        "budget": "ours <= 1.2x optax; >= 100x faster than the NumPy loop",
    }
    result["pass"] = bool(result["ratio_ours_to_optax"] <= 1.2 and result["speedup_vs_numpy"] >= 100)

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine.json").write_text(json.dumps(result, indent=2))
    rows = [f"| {k} | {med[k] * 1e3:.2f} | {result['min_s'][k] * 1e3:.2f} | "
            f"{(first[k] * 1e3) if k in first else float('nan'):.0f} |" for k in med]
    md = "\n".join([
        f"# Engine benchmark\n\n{result['what']}; {result['machine']}.\n",
        "| implementation | median ms | min ms | first call ms |", "|---|---|---|---|", *rows, "",
        f"- ours / optax (medians): **{result['ratio_ours_to_optax']:.2f}x** (budget <= 1.2x)",
        f"- NumPy loop / ours: **{result['speedup_vs_numpy']:.0f}x** faster (budget >= 100x)",
        f"- torch.optim loop / ours: {result['speedup_vs_torch']:.0f}x" if result["speedup_vs_torch"] else "",
        f"- largest |ours - optax| over the trajectory: {max_diff:.2e}",
        f"- budget met: {result['pass']}", ""])
    (out / "engine.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
