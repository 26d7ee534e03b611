"""The page's changes on this code against an older commit's, run alternately (A/B).

The machine is shared and its load moves over minutes, so a change to the page is judged by
running the old and the new code in turns: old, new, old, new (``--rounds``), each a fresh app
server and a fresh minimal page (bench_page.py's, started from that tree), each change
repeated ``--reps`` times after one untimed try.  The changes are bench_page.py's, done the same
way on both trees (a typed start goes into the chart's start inputs where the page has them,
else into the sidebar's; a click lands right of the typed starts, on a point of the click grid
not chosen before).  Writes benchmarks/results/<name>.json and .md: in-page medians in ms per
round, and each round's ratio to its minimal page.

    git worktree add /tmp/old <commit>
    python benchmarks/page_ab.py --old /tmp/old --name page_ab_split [--reps 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_page  # noqa: E402
from bench_page import ARGS, CHROMIUM, OUT, change_actions, one_change, open_pair, start_pair, stop  # noqa: E402

CHANGES = {"lr": "move a learning rate (one run)", "start": "type a new start x (8 runs)",
           "click": "click a new start on the plot (8 runs)", "steps": "change the steps (8 runs)",
           "remove": "remove a run", "add": "add a run (one new run)",
           "minimal": "the minimal page's button"}


def run_tree(root: Path, kinds: list[str], reps: int) -> dict[str, float]:
    """Medians (ms) of each change on a fresh server of the tree at ``root``."""
    bench_page.ROOT = root  # (start_pair starts both servers in this folder)
    from playwright.sync_api import sync_playwright

    logs, app, url, mini, mini_url = start_pair("page_ab")
    got: dict[str, list[float]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            _, page, pm = open_pair(browser, url, mini_url)
            todo = change_actions(page, pm)
            for rep in range(-1, reps):  # (one untimed try of each first)
                for kind in kinds + ["minimal"]:
                    ms = one_change(*todo[kind], rep)
                    if rep >= 0:
                        got.setdefault(kind, []).append(ms)
            browser.close()
    finally:
        stop(app)
        stop(mini)
    return {k: statistics.median(v) for k, v in got.items()}


def commit_of(tree: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return tree.name


def write(name: str, old: Path, runs: dict[str, list[dict]], reps: int, kinds: list[str]):
    commits = {"old": commit_of(old), "new": commit_of(Path(__file__).resolve().parents[1])}
    (OUT / f"{name}.json").write_text(json.dumps({"old": str(old), "commits": commits, "reps": reps,
                                                  "runs": runs}, indent=1))
    fmt = lambda vs: ", ".join(f"{v:.0f}" for v in vs)  # noqa: E731
    ratio = lambda tree, k: ", ".join(f"{r[k] / r['minimal']:.2f}x" for r in runs[tree])  # noqa: E731
    md = [f"# The page's changes, commit {commits['new']} against {commits['old']} (A/B)", "",
          f"`python benchmarks/page_ab.py --old {old} --name {name} --reps {reps} --rounds {len(runs['new'])}`: "
          "old and new run in turns (old, new, old, new), each a fresh server; in-page medians in ms "
          f"over {reps} changes each, from the input event to the updated chart; the minimal page "
          "measured in the same run.  See the script's docstring.", "",
          "| change | old (per round) | new (per round) | old / minimal | new / minimal |", "|---|---|---|---|---|"]
    for k in kinds + ["minimal"]:
        md.append(f"| {CHANGES[k]} | {fmt(r[k] for r in runs['old'])} | {fmt(r[k] for r in runs['new'])} | "
                  f"{ratio('old', k)} | {ratio('new', k)} |")
    (OUT / f"{name}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="the older commit's tree (git worktree)")
    ap.add_argument("--name", default="page_ab", help="results file name (benchmarks/results/<name>.md)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--kinds", default="lr,start,click,steps,remove,add")
    a = ap.parse_args()
    kinds = [k for k in a.kinds.split(",") if k in CHANGES and k != "minimal"]
    new = Path(__file__).resolve().parents[1]
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for rnd in range(a.rounds):
        for tree, root in (("old", a.old.resolve()), ("new", new)):
            runs[tree].append(run_tree(root, kinds, a.reps))
            print(rnd, tree, {k: round(v) for k, v in runs[tree][-1].items()}, flush=True)
    write(a.name, a.old.resolve(), runs, a.reps, kinds)


if __name__ == "__main__":
    main()
