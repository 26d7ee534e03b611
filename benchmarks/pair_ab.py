"""The page's changes on this code against an older commit's, paired change by change.

``page_ab.py`` runs the old and the new code in turns, a fresh server each; the machine's load
moves between the turns, which hides differences of ~10-20 ms.  Here both servers run at once,
each in its own browser context, and every change is done on one page and then on the other
(which goes first alternates), so each pair sees the same load: the result is the median of
the paired differences (new - old) and how many pairs the new code won.  The changes are
bench_page.py's.  Writes benchmarks/results/<name>.json and .md.

    git worktree add /tmp/old <commit>
    python benchmarks/pair_ab.py --old /tmp/old --name pair_ab [--reps 12] [--kinds lr,start,click]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_page  # noqa: E402
from bench_page import ARGS, CHROMIUM, OUT, change_actions, one_change, open_pair, start_server, stop  # noqa: E402
from page_ab import CHANGES, commit_of  # noqa: E402

NEW = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="the older commit's tree (git worktree)")
    ap.add_argument("--name", default="pair_ab", help="results file name (benchmarks/results/<name>.md)")
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--kinds", default="lr,start,click")
    a = ap.parse_args()
    kinds = a.kinds.split(",")
    from playwright.sync_api import sync_playwright

    env = dict(os.environ, LANDSCAPE_NO_WARMUP="1", LANDSCAPE_TIMING="1")
    logs = Path("/tmp") / f"pair_ab_{os.getpid()}"
    logs.mkdir(exist_ok=True)
    trees = {"old": a.old.resolve(), "new": NEW}
    procs, urls = [], {}
    got = {t: {k: [] for k in kinds} for t in trees}
    try:
        for tag, root in trees.items():
            bench_page.ROOT = root
            proc, urls[tag] = start_server(root / "app.py", logs / f"{tag}.log", env)
            procs.append(proc)
        mini, mini_url = start_server(NEW / "benchmarks" / "minimal_page.py", logs / "minimal.log", env)
        procs.append(mini)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            todo = {tag: change_actions(*open_pair(browser, urls[tag], mini_url)[1:]) for tag in trees}
            for rep in range(-1, a.reps):  # (one untimed try of each first)
                for kind in kinds:
                    for tag in (("old", "new") if rep % 2 == 0 else ("new", "old")):
                        ms = one_change(*todo[tag][kind], rep)
                        if rep >= 0:
                            got[tag][kind].append(ms)
                print(rep, {t: {k: round(v[-1]) for k, v in r.items() if v} for t, r in got.items()}, flush=True)
            browser.close()
    finally:
        for proc in procs:
            stop(proc)
    rows = {}
    for k in kinds:
        diffs = [n - o for o, n in zip(got["old"][k], got["new"][k])]
        rows[k] = {"old_median": statistics.median(got["old"][k]), "new_median": statistics.median(got["new"][k]),
                   "paired_diff_median": statistics.median(diffs), "new_faster": sum(d < 0 for d in diffs),
                   "pairs": len(diffs), "old": got["old"][k], "new": got["new"][k]}
    head = f"commit {commit_of(NEW)} against {commit_of(a.old)}"
    (OUT / f"{a.name}.json").write_text(json.dumps({"commits": head, "reps": a.reps, "rows": rows}, indent=1))
    lines = [f"# The page's changes, paired: {head}", "",
             f"`python benchmarks/pair_ab.py --old {a.old} --name {a.name} --reps {a.reps} --kinds {a.kinds}`: "
             "both servers up at once, each change done on one page then the other (alternating which goes first); "
             "in-page ms from the input event to the updated chart.  See the script's docstring.", "",
             "| change | old median | new median | paired difference (median, new - old) | new faster in |",
             "|---|---|---|---|---|"]
    for k, r in rows.items():
        lines.append(f"| {CHANGES[k]} | {r['old_median']:.0f} | {r['new_median']:.0f} | "
                     f"{r['paired_diff_median']:+.0f} ms | {r['new_faster']} of {r['pairs']} |")
    (OUT / f"{a.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
