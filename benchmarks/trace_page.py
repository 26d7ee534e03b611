"""Where a change's time goes in the browser: a CPU profile of the page per change.

Starts the app (as bench_page.py does: warm, no warm-up thread), opens the default race page in
headless Chromium and, for each change below, records Chromium's CPU profile (DevTools'
Profiler, 100 us samples) from the input event to the updated chart, then adds up the
samples' self time by whose code ran:

- **Streamlit's front end**: its bundle (``/static/js/...`` of the Streamlit package): React,
  the protobuf decoding of the server's messages, its widgets;
- **Plotly**: ``static/plotly-basic.min.js`` (our chart's drawing);
- **our chart**: viz/common/chart.js (the component's script, loaded from a ``blob:`` URL:
  patches, frames, legend, table);
- **browser (native)**: ``(program)``: style, layout, paint, the websocket, outside any script;
- **GC**: ``(garbage collector)``; **idle**: ``(idle)``: the page waited (for the server);
- **other**: the benchmark's own probe (a predicate run on every animation frame) and the root.

Only the samples between the input event and the drawn chart count: the profile's clock is
tied to performance.now() by the rerun request, seen both ways (the websocket's send, wrapped
by bench_page.JS_WS, and the first sample inside Streamlit's ``sendBackMsg``), or, for a change
the chart's own route answers, by its request (the mark "lle-direct-sent" and the first sample
inside chart.js's ``send``).

The server's own time for the same change comes from its log: the route's answer
(``race.direct: rerun N ms``) for a change it answered, else ``[timing] script``, ``race`` or
``chart`` lines (LANDSCAPE_TIMING=1: one line per rerun, its outermost part).  Writes
benchmarks/results/page_trace.json and page_trace.md.

    python benchmarks/trace_page.py [--reps 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_page import (ARGS, CHROMIUM, JS_PHASES, OUT, change_actions, open_pair, quiet,  # noqa: E402
                        start_pair, stop, timed)

KINDS = ("Streamlit's front end", "Plotly", "our chart", "browser (native)", "GC", "idle", "other")


def kind_of(url: str, name: str) -> str:
    if name == "(idle)":
        return "idle"
    if name == "(garbage collector)":
        return "GC"
    if name == "(program)":
        return "browser (native)"
    if not url:  # (root), the benchmark's own probes (evaluated scripts have no URL)
        return "other"
    if "plotly" in url:
        return "Plotly"
    if "/static/js/" in url or "/static/static/js/" in url:
        return "Streamlit's front end"
    return "our chart" if url.startswith("blob:") else "other"  # (the component's module is a blob)


def sample_times(profile: dict) -> list[float]:
    """Each sample's time (ms, the profile's clock)."""
    ts, t = [], profile["startTime"]
    for dt in profile.get("timeDeltas", []):
        t += dt
        ts.append(t / 1e3)
    return ts


# ms from the input event to the chart's route request ("lle-direct-sent"), or null (none)
JS_ROUTE_SENT = """() => { const m = performance.getEntriesByName('lle-direct-sent').map(e => e.startTime)
  .filter(x => x >= window.__t0); return m.length ? m[0] - window.__t0 : null; }"""


ROUTE_WITHIN_MS = 150  # the route's request comes this soon after the profile starts (then the action)


def sent_sample(profile: dict, route: bool = False) -> float | None:
    """When (the profile's clock) the page's first request left: the first sample inside
    Streamlit's ``sendBackMsg`` (the rerun request), or with ``route`` inside the chart's own
    ``send`` (chart.js: the route's request, marked "lle-direct-sent"); None if no sample fell
    in it."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    parent = {c: n["id"] for n in profile["nodes"] for c in n.get("children", [])}

    def hit(cf):
        if route:
            return cf.get("functionName") == "send" and kind_of(cf.get("url", ""), "send") == "our chart"
        return cf.get("functionName") == "sendBackMsg"
    times = sample_times(profile)
    for t, n in zip(times, profile.get("samples", [])):
        if route and times and t - times[0] > ROUTE_WITHIN_MS:  # (a later send: "drawn", a page's rerun)
            return None
        while n is not None:
            if hit(nodes[n]["callFrame"]):
                return t
            n = parent.get(n)
    return None


def by_kind(profile: dict, offset: float, t0: float, t1: float) -> dict[str, float]:
    """Self time (ms) per kind between ``t0`` and ``t1`` (performance.now(); the profile's clock
    minus ``offset``): each sample's node weighted by the time to the next sample."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    ts, samples = sample_times(profile), profile.get("samples", [])
    out = dict.fromkeys(KINDS, 0.0)
    for i in range(len(samples) - 1):
        if t0 <= ts[i] - offset <= t1:
            cf = nodes[samples[i]]["callFrame"]
            out[kind_of(cf.get("url", ""), cf.get("functionName", ""))] += ts[i + 1] - ts[i]
    return out


def by_function(profile: dict, offset: float, t0: float, t1: float) -> dict[tuple[str, str], float]:
    """Self time (ms) per (kind, function) between ``t0`` and ``t1`` (as :func:`by_kind`)."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    ts, samples = sample_times(profile), profile.get("samples", [])
    out: dict[tuple[str, str], float] = {}
    for i in range(len(samples) - 1):
        if t0 <= ts[i] - offset <= t1:
            cf = nodes[samples[i]]["callFrame"]
            kind = kind_of(cf.get("url", ""), cf.get("functionName", ""))
            key = (kind, f"{cf.get('functionName') or '(anonymous)'}:{cf.get('lineNumber', 0) + 1}")
            out[key] = out.get(key, 0.0) + ts[i + 1] - ts[i]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--top", type=int, default=0, help="print each change's N busiest functions")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    logs, app, url, mini, mini_url = start_pair("trace_page")
    traces = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            _, page, pm = open_pair(browser, url, mini_url)
            cdps = {}
            for pg in (page, pm):
                cdps[pg] = cdp = pg.context.new_cdp_session(pg)
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 100})
            todo = change_actions(page, pm)
            changes = [(name, *todo[kind]) for name, kind in (
                ("move a learning rate", "lr"), ("type a new start x", "start"), ("click a new start", "click"),
                ("change the steps", "steps"), ("remove a run", "remove"), ("add a run", "add"),
                ("the minimal page: its button", "minimal"))]
            for rep in range(-1, a.reps):
                for name, pg, prepare in changes:
                    quiet()
                    pg.bring_to_front()
                    pg.wait_for_timeout(300)
                    act, pred, arg = prepare(rep)
                    log0 = (logs / "app.log").stat().st_size
                    cdps[pg].send("Profiler.start")
                    ms, _ = timed(pg, act, pred, arg)
                    profile = cdps[pg].send("Profiler.stop")["profile"]
                    t0, t1 = pg.evaluate("() => [window.__t0, window.__t1]")
                    sent = pg.evaluate(JS_PHASES)["sent"]
                    route = sent is None and pg.evaluate(JS_ROUTE_SENT)
                    sent = route if route is not None and sent is None else sent
                    pg.wait_for_timeout(500)
                    with open(logs / "app.log", "rb") as f:
                        f.seek(log0)
                        text = f.read().decode(errors="replace")
                    # (a change the chart's route answered: the route's answer; the page's rerun
                    # that follows comes after the chart is drawn.  The minimal page logs none.)
                    routed = [int(m) for m in re.findall(r"race\.direct: rerun (\d+) ms", text)]
                    server = (sum(routed) if routed else
                              sum(int(m) for m in re.findall(r"\[timing\] (?:script|race|chart) (\d+) ms", text))
                              ) if pg is page else None
                    if rep >= 0:
                        traces.append((name, ms, server, profile, t0, t1, sent, pg is page, bool(route)))
            browser.close()
    finally:
        stop(app)
        stop(mini)
    # the two clocks: the websocket send (performance.now(), JS_WS) is the first sample in
    # Streamlit's sendBackMsg; a change where no sample fell there takes the median of the same
    # change's others (each page has a clock of its own), else of all
    # (a change the chart's route answers sends its rerun request after the chart is drawn: its
    # clock is tied by the route's request instead, chart.js's send)
    offsets = {i: sample - (t[4] + t[6]) for i, t in enumerate(traces)
               if t[6] is not None and (sample := sent_sample(t[3], route=t[8])) is not None}
    if not offsets:
        raise SystemExit("no sample in sendBackMsg: cannot tie the profile's clock to the page's")
    common = {name: statistics.median(offsets[i] for i, t in enumerate(traces) if t[0] == name and i in offsets)
              for name in {t[0] for i, t in enumerate(traces) if i in offsets}}
    by_page = {app: statistics.median(offsets[i] for i, t in enumerate(traces) if t[7] == app and i in offsets)
               for app in {t[7] for i, t in enumerate(traces) if i in offsets}}
    rows: dict[str, list[dict]] = {}
    tops: dict[str, collections.Counter] = {}
    for i, (name, ms, server, profile, t0, t1, _, app, _) in enumerate(traces):
        offset = offsets.get(i, common.get(name, by_page.get(app, statistics.median(offsets.values()))))
        rows.setdefault(name, []).append({"ms": ms, "server_ms": server, "anchored": i in offsets,
                                          **by_kind(profile, offset, t0, t1)})
        tops.setdefault(name, collections.Counter()).update(by_function(profile, offset, t0, t1))
    write(rows, a.reps)
    for name, c in tops.items():  # where each change's time goes, function by function
        print(f"\n{name}: the busiest functions (self ms over {a.reps} changes)")
        for (kind, fn), v in c.most_common(a.top):
            print(f"  {v:7.1f}  {kind:22s} {fn}")


def write(rows: dict, reps: int):
    med = {name: {k: (statistics.median(r[k] for r in rs) if rs[0][k] is not None else None)
                  for k in ("ms", "server_ms", *KINDS)} for name, rs in rows.items()}
    (OUT / "page_trace.json").write_text(json.dumps({"reps": reps, "median": med, "rows": rows}, indent=1))
    head = "| change | input -> drawn | server's script | " + " | ".join(KINDS) + " |"
    md = ["# Where a change's time goes in the browser (Chromium CPU profile)", "",
          f"`python benchmarks/trace_page.py --reps {reps}`: medians in ms over {reps} changes each, from the "
          "input event to the updated chart; the page's main-thread CPU time by whose code ran "
          "(self time of the profile's samples), and the server's script time for the same change "
          "(its log).  Idle: the page waited (for the server, or for the next frame).  Machine: "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}.", "",
          head, "|" + "---|" * (3 + len(KINDS))]
    for name, m in med.items():
        server = "–" if m["server_ms"] is None else f"{m['server_ms']:.0f}"
        md.append(f"| {name} | {m['ms']:.0f} | {server} | "
                  + " | ".join(f"{m[k]:.0f}" for k in KINDS) + " |")
    (OUT / "page_trace.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
