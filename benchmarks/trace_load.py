"""Where a shared link's first load goes in the browser: a CPU profile of the page per load.

The load bench_page.py times as "first load of a shared link" (the ravine preset, its results
cached on a warm server, a new browser context each time), cut at the page's own marks: the
chart's main figure drawn (``lle-chart-main``: the chart row), the last websocket message of
the page's second script run (the controls, share row and rules follow the chart:
viz.race.state.CHART_FIRST), the whole page there (bench_page's ``JS_COMPLETE``: the "whole
page" row).  Each part's main-thread CPU time by whose code ran, as trace_page.py counts it
(self time of the profile's samples: Streamlit's front end, Plotly, our chart, the browser's own
work, GC, idle).  The profile's clock is tied to performance.now() by the page's first rerun
request, seen both ways (the websocket's send, wrapped by bench_page.JS_WS, and the first sample
inside Streamlit's ``sendBackMsg``).  Writes benchmarks/results/page_load_trace.json and .md.

    python benchmarks/trace_load.py [--loads 6]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_page import (ARGS, CHART, CHROMIUM, JS_COMPLETE, JS_DRAWN, JS_WS, OUT, ROOT, VIEWPORT,  # noqa: E402
                        quiet, start_server, stop)
from trace_page import KINDS, by_kind, sent_sample  # noqa: E402

PARTS = ("to the chart", "chart -> last message", "last message -> whole page")
JS_MARKS = """() => { const m = (n) => { const e = performance.getEntriesByName(n); return e.length ? e[0].startTime : null; };
  const ws = window.__ws || [];
  return {main: m('lle-chart-main'), complete: window.__t2, first_send: (ws.find(w => w[1] === 0) || [null])[0],
          last_message: Math.max(...ws.filter(w => w[1] === 1 && w[0] <= window.__t2).map(w => w[0]))}; }"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loads", type=int, default=6)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from viz.race import presets
    from viz.race.link import to_query_string

    proc, url = start_server(ROOT / "app.py", Path("/tmp") / f"trace_load_{os.getpid()}.log",
                             dict(os.environ, LANDSCAPE_NO_WARMUP="1"))
    shared = url + "?" + to_query_string(presets.PRESETS["ravine_momentum"].scene)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for k in range(-1, a.loads):  # (the first: the server computes and caches)
                quiet()
                ctx = browser.new_context(viewport=VIEWPORT)
                ctx.add_init_script(JS_WS)
                page = ctx.new_page()
                cdp = ctx.new_cdp_session(page)
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 100})
                cdp.send("Profiler.start")
                page.goto(shared, wait_until="commit")
                page.wait_for_function(JS_DRAWN, arg=CHART, polling="raf", timeout=180_000)
                page.wait_for_function(JS_COMPLETE, polling="raf", timeout=60_000)
                profile = cdp.send("Profiler.stop")["profile"]
                m = page.evaluate(JS_MARKS)
                ctx.close()
                sample = sent_sample(profile)
                if k < 0 or sample is None or m["first_send"] is None:
                    continue
                offset = sample - m["first_send"]
                cuts = (0.0, m["main"], m["last_message"], m["complete"])
                rows.append({"ms": {"chart": m["main"], "last message": m["last_message"], "whole page": m["complete"]},
                             **{part: by_kind(profile, offset, t0, t1) for part, t0, t1 in zip(PARTS, cuts, cuts[1:])}})
            browser.close()
    finally:
        stop(proc)
    write(rows)


def write(rows: list[dict]):
    med = {part: {k: statistics.median(r[part][k] for r in rows) for k in KINDS} for part in PARTS}
    at = {k: statistics.median(r["ms"][k] for r in rows) for k in rows[0]["ms"]}
    (OUT / "page_load_trace.json").write_text(json.dumps({"loads": len(rows), "median": med, "at": at, "rows": rows}, indent=1))
    md = ["# Where a shared link's first load goes in the browser (Chromium CPU profile)", "",
          f"`python benchmarks/trace_load.py`: medians over {len(rows)} loads of the ravine preset (cached results), "
          f"ms of the page's main thread by whose code ran, in three parts: to the chart's main figure drawn "
          f"(median {at['chart']:.0f} ms), to the last websocket message of the page's second script run (the "
          f"controls, {at['last message']:.0f} ms), to the whole page ({at['whole page']:.0f} ms).  Machine: "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}.", "",
          "| part | " + " | ".join(KINDS) + " |", "|" + "---|" * (1 + len(KINDS))]
    md += [f"| {part} | " + " | ".join(f"{med[part][k]:.0f}" for k in KINDS) + " |" for part in PARTS]
    (OUT / "page_load_trace.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
