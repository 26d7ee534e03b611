"""A season on one server: does its memory stay bounded?

Starts a real server (``streamlit run app.py`` on a loopback port, its warm-up on, an empty
JAX compile cache in a temporary folder, as a new Cloud container) and has headless Chromium
open many distinct heavy links, one visitor after another, then the same links again:

- race (about 3 in 4): 8 runs of ``--steps`` steps (default 100,000) on a mix of landscapes,
  every link with other learning rates; a fifth of them on a custom formula of their own;
- sweeps: a hyperparameter map of its own (rule, range, steps);
- network: a small network of its own (width, seed, learning rate).

After every 10 links it reads the server's resident memory (``VmRSS`` of /proc/<pid>/status)
and writes the curve to benchmarks/results/soak.json and soak.md.  The budget: under 1 GB
all season, and flat: the second half of the visits adds < 5 % to the RSS.

    python benchmarks/bench_soak.py                      # 200 distinct links, then all again
    python benchmarks/bench_soak.py --links 40 --steps 20000 --again 20 --out /tmp/soak
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
BUDGET_MB = 1024
FLAT = 0.05

LANDSCAPES = ["rosenbrock", "quadratic", "saddle", "ravine", "himmelblau", "beale", "rastrigin",
              "ackley", "booth", "matyas", "cliff", "six_hump_camel"]
RULES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "nadam", "amsgrad",
         "radam", "adamw", "adamax", "adadelta"]


def race_link(i: int, steps: int) -> str:
    import landscapes
    names = [n for n in LANDSCAPES if n in landscapes.names()] or landscapes.names()
    parts = ["v=1", f"steps={steps}"]
    if i % 5 == 4:  # a custom formula of its own
        a, b = 1 + (i % 7), 0.5 + 0.01 * i
        parts += ["ls=custom", f"f=x**2%2B{a}*y**2%2B{b:.2f}*sin(3*x)*cos(2*y)", "dom=-3,3,-3,3"]
    else:
        parts.append(f"ls={names[i % len(names)]}")
    lr = 10 ** (-3 + (i % 17) / 8)
    for k in range(8):
        rule = RULES[(i + k) % len(RULES)]
        parts.append(f"r{k}={rule}:learning_rate={lr * (1 + k / 10):.6g}")
    return "race?" + "&".join(parts)


def sweeps_link(i: int, steps: int) -> str:
    rule = RULES[i % len(RULES)]
    lo = 10 ** (-4 + (i % 11) / 10)
    return (f"sweeps?v=1&ls={LANDSCAPES[i % 4]}&steps={min(steps, 2000)}&r0={rule}&sw_mode=hyper"
            f"&sw_y=none&sw_xr={lo:.6g},{lo * 100:.6g}&sw_n={16 + i % 17}")


def network_link(i: int, steps: int) -> str:
    rule = ["adam", "sgd", "momentum", "rmsprop"][i % 4]
    width = 8 + 4 * (i % 9)
    return (f"network?v=1&data={['moons', 'spirals', 'digits'][i % 3]}&hidden={width}&steps={200 + 10 * (i % 20)}"
            f"&seed={i}&r0={rule}:learning_rate={0.01 * (1 + i % 13) / 4:.5g}")


def links(n: int, steps: int) -> list[str]:
    out = []
    for i in range(n):
        kind = i % 8
        out.append(sweeps_link(i, steps) if kind == 3 else network_link(i, steps) if kind == 6
                   else race_link(i, steps))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


def start_server(log: Path, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    out = open(log, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                             "--server.headless", "true", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the server did not start:\n" + log.read_text()[-3000:])


JS_DONE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  const chart = document.querySelector('.js-plotly-plot');
  return !!(app && chart && chart._fullData && app.dataset.testScriptState === 'notRunning'); }"""


def visit(browser, url: str, timeout_s: float = 240) -> dict:
    """A new visitor on ``url``: until a chart is drawn and the script has stayed idle 1 s."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    t0 = time.perf_counter()
    ok, stable = False, 0
    try:
        page.goto(url, wait_until="commit", timeout=60_000)
        while time.perf_counter() - t0 < timeout_s:
            done = page.evaluate(JS_DONE)
            stable = stable + 1 if done else 0
            if stable >= 4:
                ok = True
                break
            page.wait_for_timeout(250)
    except Exception as err:  # noqa: BLE001 - a failed visit is counted, the season goes on
        print(f"  visit failed: {err!s:.200}", file=sys.stderr)
    finally:
        ctx.close()
    return {"ok": ok, "s": round(time.perf_counter() - t0, 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", type=int, default=200, help="distinct links")
    ap.add_argument("--again", type=int, default=None, help="links opened again (default: all)")
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--out", default=str(RESULTS / "soak"))
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server (experiments)")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    season = links(a.links, a.steps)
    season += season[: a.links if a.again is None else a.again]
    tmp = Path(tempfile.mkdtemp(prefix="soak_"))
    env = dict(os.environ, LANDSCAPE_JAX_CACHE_DIR=str(tmp / "jax-cache"), LANDSCAPE_LOG_LEVEL="DEBUG")
    env.pop("LANDSCAPE_NO_WARMUP", None)
    env.update(kv.split("=", 1) for kv in a.env)
    proc, base = start_server(tmp / "server.log", env)
    curve, visits, t_start = [], [], time.perf_counter()
    curve.append({"visits": 0, "rss_mb": round(rss_mb(proc.pid), 1), "s": 0.0})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i, link in enumerate(season, 1):
                v = visit(browser, base + link)
                visits.append({"link": link, **v, "rss_mb": round(rss_mb(proc.pid), 1)})
                if i % a.every == 0 or i == len(season):
                    row = {"visits": i, "rss_mb": round(rss_mb(proc.pid), 1),
                           "s": round(time.perf_counter() - t_start, 1),
                           "failed": sum(not x["ok"] for x in visits)}
                    curve.append(row)
                    print(row, flush=True)
                    write(a, curve, visits, tmp / "server.log", partial=i < len(season))
            browser.close()
        curve[-1]["rss_mb_idle_end"] = round(rss_mb(proc.pid), 1)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    write(a, curve, visits, tmp / "server.log", partial=False)


def write(a, curve, visits, log: Path, partial: bool):
    peak = max(r["rss_mb"] for r in curve)
    mid = min(curve, key=lambda r: abs(r["visits"] - curve[-1]["visits"] / 2))
    growth = (curve[-1]["rss_mb"] - mid["rss_mb"]) / mid["rss_mb"] if mid["rss_mb"] else 0.0
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    info = [ln for ln in lines if " INFO landscape." in ln]
    warn = [ln for ln in lines if " WARNING landscape." in ln]
    trims = [float(m.group(1)) for m in map(re.compile(r"malloc_trim (\d+) ms").search, lines) if m]
    after = [v["rss_mb"] for v in visits if "rss_mb" in v]
    peak_any = max(after, default=peak)
    out = {"links_distinct": a.links, "visits": len(visits), "steps": a.steps, "partial": partial,
           "peak_rss_mb": peak, "final_rss_mb": curve[-1]["rss_mb"],
           "mid_rss_mb": mid["rss_mb"], "second_half_growth": round(growth, 4),
           "peak_rss_mb_after_any_visit": peak_any, "visits_over_budget": sum(x >= BUDGET_MB for x in after),
           "trims": len(trims), "trim_ms_median": sorted(trims)[len(trims) // 2] if trims else None,
           "trim_ms_max": max(trims, default=None),
           "under_budget": peak < BUDGET_MB, "flat": growth < FLAT,
           "failed_visits": sum(not v["ok"] for v in visits),
           "median_visit_s": sorted(v["s"] for v in visits)[len(visits) // 2] if visits else None,
           "log_info_lines": len(info), "log_warning_lines": len(warn),
           "log_sample": info[-3:], "curve": curve, "visits_detail": visits,
           "cpu_count": os.cpu_count(), "loadavg_end": os.getloadavg()}
    Path(a.out + ".json").write_text(json.dumps(out, indent=1))
    md = [f"# Soak: {len(visits)} visits ({a.links} distinct links, then again), one server",
          "", f"Steps per race run: {a.steps:,}.  Peak RSS **{peak:.0f} MB** (budget {BUDGET_MB} MB); "
          f"final {curve[-1]['rss_mb']:.0f} MB; the second half of the visits grew it "
          f"**{100 * growth:+.1f} %** (budget < {100 * FLAT:.0f} %).  Failed visits: {out['failed_visits']}; "
          f"median visit {out['median_visit_s']} s.  {'(partial: still running)' if partial else ''}",
          "", f"RSS read after every visit too (1 s after its chart was drawn): at most **{peak_any:.0f} MB**; "
          f"{out['visits_over_budget']} of {len(after)} visits at or over {BUDGET_MB} MB.  "
          + (f"malloc_trim ran {len(trims)} times (median {out['trim_ms_median']:.0f} ms, "
             f"at most {out['trim_ms_max']:.0f} ms, off the script's thread)." if trims else ""),
          "", f"Server log: {len(info)} INFO lines (one per rerun), {len(warn)} WARNING lines.  Last lines:",
          "", "```", *[ln[:400] for ln in info[-3:]], "```", "", "| visits | RSS (MB) | elapsed (s) |",
          "|---|---|---|", *[f"| {r['visits']} | {r['rss_mb']:.0f} | {r['s']:.0f} |" for r in curve],
          "", f"Machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f}."]
    Path(a.out + ".md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
