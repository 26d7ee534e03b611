"""The page in a real browser: Streamlit serves app.py, headless Chromium (Debian's, driven by
Playwright; nothing is downloaded) draws it.

What AppTest cannot see: Plotly really draws the figure, the Play button really animates it,
a learning-rate slider moved with the keyboard really reruns the page and redraws the chart,
the URL really follows, and that URL opened by a new visitor shows the same view.

Screenshots of each stage go to artifacts/screenshots/ (gitignored).  This test fails (it does
not skip) when Chromium or Playwright is missing: CI installs both (.ci/run).
"""

from __future__ import annotations

import math
import time
from urllib.parse import parse_qs, urlsplit

import pytest

import landscapes
from conftest import ROOT, streamlit_server
from viz.race import presets

SHOTS = ROOT / "artifacts" / "screenshots"
DRAW_MS = 180_000  # a cold server compiles the default scene's programs (JAX) on the first visit

# --- JS run in the page -------------------------------------------------------------------

# The main chart (Streamlit gives its container the widget key's class).
CHART = ".st-key-main_chart .lle-chart"  # (the main figure; the side plots: .lle-side)
FIRST_RUN = 2  # the first run's path trace (after the colour bar's and the click grid's)

# The main plot's trajectories: the line traces of the runs on the contour's axes (the side
# plots' traces share the runs' legend groups but sit on other axes).
JS_PATHS = """(sel) => {
  const g = document.querySelector(sel);
  if (!g || !g._fullData) return null;
  return g._fullData
    .filter(t => t.xaxis === 'x' && t.mode === 'lines' && String(t.legendgroup || '').startsWith('run') && t.name)
    .map(t => ({name: t.name, group: t.legendgroup, n: t.x.length,
                last: [Number(t.x[t.x.length - 1]), Number(t.y[t.y.length - 1])]}));
}"""

# Drawn: the landscape picture (filled contour bands, a layout image) and every run's path.
JS_DRAWN = """(sel) => {
  const g = document.querySelector(sel);
  if (!g || !g._fullData || !g._fullLayout) return false;
  const paths = g._fullData.filter(t => t.xaxis === 'x' && t.mode === 'lines'  // (an empty run place: no name)
                                   && String(t.legendgroup || '').startsWith('run') && t.name);
  const image = g.querySelector('.imagelayer image, .layer-below image');
  const lines = g.querySelectorAll('.scatterlayer .trace path.js-line').length;
  return paths.length > 0 && !!image && lines >= paths.length;
}"""

# What the chart shows, as drawn: every line's SVG path, every marker's place, the legend's
# and the axes' texts (two pages that show the same figure at the same size draw the same).
JS_DRAWING = """(sel) => {
  const g = document.querySelector(sel);  // (the side plots: a second figure beside it, chart.js)
  const all = (q, f) => [...g.parentElement.querySelectorAll('.js-plotly-plot')].flatMap(
    p => [...p.querySelectorAll(q)].map(f));
  return {lines: all('.scatterlayer .trace path.js-line', e => e.getAttribute('d')),
          points: all('.scatterlayer .trace .points path', e => e.getAttribute('transform')),
          legend: [...g.parentElement.querySelectorAll('.lle-legend-item')].map(e => e.textContent),
          ticks: all('.xtick text, .ytick text', e => e.textContent)};
}"""

# Every trace's array attributes as the chart remembers them (chart.js, rememberArrayAttributes: by
# trace object, and by the trace's shape for a figure drawn anew) and as Plotly finds them: the
# traces where the two differ, and how many were compared.
JS_ARRAY_ATTRS = """() => window.llePlotly.then((P) => {
  const find = P.PlotSchema.findArrayAttributes.__lleOriginal;
  const out = {n: 0, differ: []};
  for (const sel of ['.st-key-main_chart .lle-chart', '.st-key-main_chart .lle-side'])
    for (const t of document.querySelector(sel)._fullData) {
      out.n++;
      if (JSON.stringify(find(t)) !== JSON.stringify(t._arrayAttrs)) out.differ.push(t.name);
    }
  return out; })"""
# How many updates the chart drew by the quick path (viz/common/chart.js: plan()) and in full.
JS_UPDATES = """() => ({quick: performance.getEntriesByName('lle-chart-quick').length,
                      full: performance.getEntriesByName('lle-chart-react').length})"""
# The last main figure's and side plots' draws (ms): a figure drawn anew paints the main figure
# first, the side plots a frame later; a quick update draws both at once (chart.js, drawRest)
JS_ORDER = """() => {
  const last = (n) => { const m = performance.getEntriesByName(n); return m.length ? m[m.length - 1].startTime : null; };
  return {main: last('lle-chart-main'), side: last('lle-chart-side')}; }"""

# Hover at the centres of the click grid's cells (the farthest places from its points), in the
# plot's empty top right: how many found none of the grid's points (Plotly's hover is throttled:
# one probe every 60 ms)
JS_GRID_MISSES = """async (sel) => {
  const gd = document.querySelector(sel);
  const Plotly = await window.llePlotly;
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, n = 18;
  let missed = 0;
  for (let i = 12; i < n - 1; i++) for (let j = 12; j < n - 1; j++) {
    gd._hoverdata = null;
    Plotly.Fx.hover(gd, {xpx: (i + 0.5) / (n - 1) * xa._length, ypx: (1 - (j + 0.5) / (n - 1)) * ya._length}, 'xy');
    await new Promise((r) => setTimeout(r, 60));
    if (!(gd._hoverdata || []).some((p) => p.data.name === 'click to start here')) missed++;
  }
  Plotly.Fx.unhover(gd);
  return missed;
}"""

JS_ANIM = """(sel) => {
  const g = document.querySelector(sel);
  const t = g._fullData.find(t => t.xaxis === 'x' && t.mode === 'lines');
  const s = g._fullLayout.sliders && g._fullLayout.sliders[0];
  return {n: t.x.length, active: s ? s.active : null, steps: s ? s.steps.length : null,
          frames: (g._transitionData && g._transitionData._frames || []).length};
}"""

# The animation's steps: the slider's (label, frame) and the frames the Play button plays.
JS_STEPS = """(sel) => { const g = document.querySelector(sel), s = g._fullLayout.sliders[0];
  return {slider: s.steps.map(t => [t.label, t.value, t.args[0]]), active: s.active,
          play: g._fullLayout.updatemenus[0].buttons[0].args[0]}; }"""


# The landscape's colour bar (its texts and where they are drawn), its picture and the axes'
# ranges (a new landscape parameter redraws the first two alone: chart.js, plan's bars).
JS_BAR = """(sel) => { const g = document.querySelector(sel);
  const image = g.querySelector('.layer-below image, .imagelayer image');
  return {bar: [...g.querySelectorAll('.colorbar text')].map(e => [e.textContent,
            e.getAttribute('transform'), e.closest('g').getAttribute('transform')]),
          image: image && image.getAttribute('href'),
          ranges: [g.layout.xaxis.range, g.layout.yaxis.range]}; }"""


# The frames Plotly holds (built in the page from what Python describes: chart.js buildFrames),
# their numbers as plain lists.
JS_FRAMES = """(sel) => (document.querySelector(sel)._transitionData._frames || []).map(f => ({
  name: f.name, traces: f.traces,
  data: f.data.map(e => Object.fromEntries(Object.entries(e).map(([k, v]) =>
    [k, ArrayBuffer.isView(v) ? Array.from(v) : v])))}))"""


def _numbers(frames) -> list:
    """Frames (JS_FRAMES, or a spec's built in Python: typed arrays as base64) as plain floats."""
    import base64

    import numpy as np

    def plain(v):
        if isinstance(v, dict) and "bdata" in v:
            return np.frombuffer(base64.b64decode(v["bdata"]), "<f4").astype(float).tolist()
        if isinstance(v, dict):
            return {k: plain(u) for k, u in v.items()}
        if isinstance(v, list):
            return [plain(u) for u in v]
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    return [dict(name=f["name"], traces=[int(t) for t in f["traces"]], data=plain(f["data"])) for f in frames]


def _frames_of(url: str) -> list:
    """The main figure's frames for the scene at ``url`` as the page holds them, built in Python
    (no Streamlit)."""
    import numpy as np

    from viz.race import compute, figures, metrics
    from viz.race.link import from_query_string

    scene, _ = from_query_string(urlsplit(url).query)
    L = compute.landscape_of(scene)
    grid = compute.grid_of(scene.landscape_key())
    results = compute.run_scene(scene, L)
    ref = metrics.reference(L, results, float(np.nanmin(grid[2])))
    spec = figures.main_figure(scene, L, grid, results, scene.labels(), ref).spec
    # the page draws the side plots as a figure of their own (chart.js splitSpec): its frames
    # leave out their traces (named, unchanged, in Python's)
    n = next((j for j, t in enumerate(spec["data"]) if t.get("xaxis", "x") != "x"), len(spec["data"]))
    return [dict(f, traces=[t for t in f["traces"] if t < n], data=[e for t, e in zip(f["traces"], f["data"]) if t < n])
            for f in spec["frames"]]


# The data coordinates of a pixel (relative to the main plot area), and the main plot's span.
JS_DATA_AT = """([sel, px, py]) => {
  const L = document.querySelector(sel)._fullLayout;
  return [L.xaxis.p2l(px), L.yaxis.p2l(py)];
}"""
JS_SPAN = """(sel) => { const L = document.querySelector(sel)._fullLayout;
  return [L.xaxis.range[1] - L.xaxis.range[0], L.yaxis.range[1] - L.yaxis.range[0]]; }"""


# --- the server ---------------------------------------------------------------------------

def _open(browser, url: str):
    """A new visitor (fresh context: no cache, no cookies) on ``url``, the chart drawn."""
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = ctx.new_page()
    page.errors = []  # uncaught script errors (none expected)
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.goto(url)
    page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
    return ctx, page


def _shot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def _paths(page):
    return page.evaluate(JS_PATHS, CHART)


LRS = ".st-key-main_chart .lle-lr input[type=range]"  # the learning rates (viz/common/chart.js)
START = ".st-key-main_chart .lle-start input[name={}]"  # the start point's inputs (chart.js)
STEPS = ".st-key-main_chart .lle-steps input"  # the steps' input (chart.js)


def _settled(page) -> dict:
    """``_shown`` once the whole page is in (the sidebar follows the chart) and it holds still:
    Streamlit draws a new widget with its default first and its value a render later."""
    page.wait_for_function("() => document.querySelector('.st-key-landscape input') && "
                           "document.querySelector('.st-key-dl_html button')", timeout=DRAW_MS)
    last = None
    for _ in range(40):
        now = _shown(page)
        if now == last:
            return now
        last = now
        page.wait_for_timeout(250)
    return last


def _shown(page) -> dict:
    """The values the sidebar, the learning-rate controls and the results table show."""
    def text(sel):
        return page.locator(sel).first.inner_text().strip()

    def value(sel):
        return page.locator(sel).first.input_value().strip()

    out = {"landscape": text('.st-key-landscape [data-testid="stSelectbox"]'),  # label + choice
           "steps": value(STEPS),
           "start_x": value(START.format("x")),
           "start_y": value(START.format("y"))}
    for el in page.locator(".st-key-main_chart .lle-lr").all():
        out[el.get_attribute("data-key")] = el.locator("input").get_attribute("aria-valuetext")
    out["table"] = page.locator(".st-key-main_chart .lle-table").inner_text()
    return out


def _share_row_holds(page, query: str):
    """The share row's link (in its popover) and its CSV download are the view with ``query``."""
    page.locator(".stPopover button").filter(has_text="Copy the link").click()
    box = page.locator(".lle-link textarea")
    box.wait_for(timeout=10_000)
    link = box.input_value()
    assert parse_qs(urlsplit(link).query) == parse_qs(query) and "%3A" not in link, (link, query)
    page.locator(".lle-link button").click()  # (copies: the box says whether it could)
    page.wait_for_function("() => document.querySelector('.lle-link span').textContent !== ''", timeout=10_000)
    page.keyboard.press("Escape")
    with page.expect_download(timeout=60_000) as got:
        page.locator(".st-key-dl_csv button").click()
    with open(got.value.path(), encoding="utf-8") as f:
        line = f.readline().strip()
    assert line.startswith("# ") and parse_qs(line[2:]) == parse_qs(query), (line, query)


def _close(a, b, rel=1e-5, abs_=1e-6) -> bool:
    if all(math.isnan(v) for v in (a, b)):
        return True
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# --- the test -----------------------------------------------------------------------------

@pytest.mark.timeout(300)
def test_draw_play_change_and_share(server, browser):
    t_start = time.monotonic()
    # 1. the default page: the landscape and the eight runs' paths are drawn
    ctx, page = _open(browser, server)
    before = _paths(page)
    assert len(before) >= 2, before
    assert page.locator(f"{CHART} .imagelayer image").count() == 1  # the contour bands
    frames = page.evaluate(JS_ANIM, CHART)["frames"]
    assert frames > 10
    url0 = page.url
    assert "ls=rosenbrock" in url0 and "r0=" in url0, url0
    first = page.evaluate(JS_ORDER)
    assert first["main"] is not None and first["side"] > first["main"], first  # drawn anew: main first
    # the click grid's points are not drawn, yet a hover (and a click) anywhere finds one
    assert page.evaluate(JS_GRID_MISSES, CHART) == 0
    _shot(page, "1_default")

    # 2. Play animates: the first path's point count and the slider's step move, then the
    # animation ends on the full picture again
    start = page.evaluate(JS_ANIM, CHART)
    page.locator(f"{CHART} .updatemenu-button").filter(has_text="Play").first.click()
    seen, deadline = set(), time.monotonic() + 60
    while time.monotonic() < deadline and len(seen) < 3:
        s = page.evaluate(JS_ANIM, CHART)
        if (s["n"], s["active"]) != (start["n"], start["active"]):
            seen.add((s["n"], s["active"]))
        page.wait_for_timeout(50)
    assert len(seen) >= 3, f"the animation did not advance: {start} -> {seen}"
    _shot(page, "2_playing")
    # Pause (on this machine the software-drawn animation takes ~30 s to the end; the next
    # figure replaces the frames anyway)
    page.locator(f"{CHART} .updatemenu-button").filter(has_text="Pause").first.click()

    # 3. one notch up on run 1's learning rate (keyboard on its range input under the chart):
    # the chart, the table and the URL follow
    table0 = page.locator(".st-key-main_chart .lle-table").inner_text()
    lr = page.locator(LRS).nth(0)
    lr.focus()
    lr.press("ArrowRight")
    page.wait_for_function("(u) => window.location.href !== u", arg=url0, timeout=60_000)
    page.wait_for_function(f"([sel, name]) => {{ const p = ({JS_PATHS})(sel); "
                           "return p && p.length && p[0].name !== name; }",
                           arg=[CHART, before[0]["name"]], timeout=DRAW_MS)
    page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
    page.wait_for_timeout(500)  # the script's last messages (the URL is written after the chart)
    after = _paths(page)
    table1 = page.locator(".st-key-main_chart .lle-table").inner_text()
    assert table1 != table0 and table1.splitlines()[2:] == table0.splitlines()[2:]  # run 1's row
    assert len(after) == len(before)
    assert after[0]["last"] != before[0]["last"] or after[0]["n"] != before[0]["n"], (before[0], after[0])
    assert [a["last"] for a in after[1:]] == [b["last"] for b in before[1:]]  # only run 1 changed
    q0, q1 = parse_qs(urlsplit(page.url).query), parse_qs(urlsplit(url0).query)
    assert q0 != q1 and q0["r0"] != q1["r0"], (q1, q0)
    assert {k: v for k, v in q0.items() if k != "r0"} == {k: v for k, v in q1.items() if k != "r0"}
    # ... and run 2's learning rate: with the animation untouched since the last figure, the
    # chart updates only run 2's traces (the quick path); the next step checks the drawing
    updates = page.evaluate(JS_UPDATES)
    url_mid, mid = page.url, after
    lr = page.locator(LRS).nth(1)
    lr.focus()
    lr.press("ArrowRight")
    page.wait_for_function("(u) => window.location.href !== u", arg=url_mid, timeout=60_000)
    page.wait_for_function(f"([sel, name]) => {{ const p = ({JS_PATHS})(sel); "
                           "return p && p.length > 1 && p[1].name !== name; }",
                           arg=[CHART, mid[1]["name"]], timeout=DRAW_MS)
    page.wait_for_timeout(1000)  # the quick path's last steps (names, frames)
    after = _paths(page)
    assert [a["last"] for i, a in enumerate(after) if i != 1] == [b["last"] for i, b in enumerate(mid) if i != 1]
    now = page.evaluate(JS_UPDATES)
    assert now["quick"] == updates["quick"] + 1 and now["full"] == updates["full"], (updates, now)
    order = page.evaluate(JS_ORDER)
    assert order["side"] > first["side"] and order["side"] < order["main"], (first, order)  # at once
    assert after[1]["name"] in page.evaluate(JS_DRAWING, CHART)["legend"]
    url1 = page.url
    q1 = parse_qs(urlsplit(url1).query)
    assert {k: v for k, v in q1.items() if k != "r1"} == {k: v for k, v in q0.items() if k != "r1"}
    shown = _shown(page)
    drawing = page.evaluate(JS_DRAWING, CHART)
    _shot(page, "3_changed")
    # the share row is drawn with the page, not with the chart's fragment: after these changes
    # its link box and its CSV hold the view now shown
    _share_row_holds(page, urlsplit(url1).query)

    # 4. the URL opened by a new visitor shows the same view
    ctx2, page2 = _open(browser, url1)
    try:
        assert _settled(page2) == shown
        again = _paths(page2)
        assert [(p["name"], p["n"]) for p in again] == [(p["name"], p["n"]) for p in after]
        for a, b in zip(after, again):
            assert all(_close(u, v) for u, v in zip(a["last"], b["last"])), (a, b)
        assert parse_qs(urlsplit(page2.url).query) == q1
        page2.wait_for_timeout(1000)  # (the page below the chart follows it)
        assert page2.evaluate(JS_DRAWING, CHART) == drawing  # the quick update drew the same
        for pg in (page, page2):  # (remembered by shape: the 8 runs' traces of page2's first figure)
            attrs = pg.evaluate(JS_ARRAY_ATTRS)
            assert attrs["n"] >= 38 and attrs["differ"] == [], attrs  # (14 traces, 24 side curves)
        # ... and holds the same frames (built in each page from what Python described): those
        # Python builds for that scene
        frames = _numbers(page.evaluate(JS_FRAMES, CHART))
        assert len(frames) > 10 and _numbers(page2.evaluate(JS_FRAMES, CHART)) == frames
        assert _numbers(_frames_of(url1)) == frames
        _shot(page2, "4_shared_link")

        # 5. a click on the landscape starts every run there: the URL's start and the
        # start marker move to (near) the clicked point
        page.bring_to_front()
        page.locator(CHART).scroll_into_view_if_needed()  # (the sliders below were focused)
        box = page.locator(f"{CHART} .draglayer .xy .nsewdrag").first.bounding_box()
        at = (box["x"] + 0.3 * box["width"], box["y"] + 0.7 * box["height"])
        want = page.evaluate(JS_DATA_AT, [CHART, at[0] - box["x"], at[1] - box["y"]])
        page.mouse.move(*at)
        page.wait_for_timeout(300)
        page.mouse.click(*at)
        page.wait_for_function("(u) => window.location.href !== u", arg=url1, timeout=60_000)
        page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
        page.wait_for_timeout(500)
        start = [float(v) for v in parse_qs(urlsplit(page.url).query)["start"][0].split(",")]
        span = page.evaluate(JS_SPAN, CHART)
        # the click grid is 18 x 18 over the domain: the start is the grid point under the mouse
        assert abs(start[0] - want[0]) <= span[0] / 17 and abs(start[1] - want[1]) <= span[1] / 17, (start, want)
        _shot(page, "5_clicked_start")
        # 6. the legend (HTML, viz/common/chart.js) still toggles a run after all this (a click hides
        # run 1, another shows it), its curves in the side plots (a figure of their own) too
        item = page.locator(".st-key-main_chart .lle-legend-item").first
        run1 = """([sel, want]) => { const t = document.querySelector(sel)._fullData[%d];
          const side = document.querySelector('.st-key-main_chart .lle-side')._fullData
            .filter(u => u.legendgroup === t.legendgroup);
          return side.length === 3 && [t, ...side].every(u => u.visible === want); }""" % FIRST_RUN
        # ... and its marker in the trace of every run's head: a point not drawn (null), in the
        # figure and in every frame (the animation plays without it), the other runs' drawn
        head1 = """([sel, hidden]) => { const gd = document.querySelector(sel);
          const k = gd.data.findIndex((t) => Array.isArray(t.meta) && t.marker.symbol !== 'x');
          const at = (f) => f.data[f.traces.indexOf(k)];
          return k > 0 && (gd.data[k].x[0] === null) === hidden && gd.data[k].x.slice(1).every((v) => v !== null)
            && gd._transitionData._frames.every((f) => (at(f).x[0] === null) === hidden && at(f).x[1] !== null); }"""
        assert page.evaluate(head1, [CHART, False])
        item.click()
        page.wait_for_function(run1, arg=[CHART, "legendonly"], timeout=10_000)
        page.wait_for_function(head1, arg=[CHART, True], timeout=10_000)
        item.click()
        page.wait_for_function(run1, arg=[CHART, True], timeout=10_000)
        page.wait_for_function(head1, arg=[CHART, False], timeout=10_000)
        # 7. two quick moves of run 3's learning rate: the page ends on the second (each
        # message carries every run's rate), and the control is not reset on the way
        # (the page's rerun for the first can reach the chart after the route drew the second: its
        # data, a patch from a figure the chart no longer has, is let go, not asked for again)
        lr = page.locator(LRS).nth(2)
        want = lr.evaluate("(el) => el.__lleLabels[+el.value + 2]")
        url2 = page.url
        asked = "() => performance.getEntriesByName('lle-chart-resync').length"
        resyncs = page.evaluate(asked)
        lr.focus()
        lr.press("ArrowRight")
        lr.press("ArrowRight")
        page.wait_for_function("(want) => new RegExp('learning_rate=' + want.replace('.', '\\\\.') + '(,|$)')"
                               ".test(new URLSearchParams(location.search).get('r2') || '')",
                               arg=want, timeout=60_000)
        page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
        page.wait_for_timeout(1000)
        assert lr.get_attribute("aria-valuetext") == f"α = {want}"
        assert page.evaluate(asked) == resyncs
        q2, q1 = parse_qs(urlsplit(page.url).query), parse_qs(urlsplit(url2).query)
        assert {k: v for k, v in q2.items() if k != "r2"} == {k: v for k, v in q1.items() if k != "r2"}
        # 8. a chart that lost the figure a patch is for asks for the whole figure, and draws it
        page.evaluate("(sel) => { document.querySelector(sel).__llePristine = null; }", CHART)
        before = page.evaluate(asked)
        names = [p["name"] for p in _paths(page)]
        lr = page.locator(LRS).nth(3)
        lr.focus()
        lr.press("ArrowRight")
        page.wait_for_function(f"([sel, name]) => {{ const p = ({JS_PATHS})(sel); "
                               "return p && p.length > 3 && p[3].name !== name; }",
                               arg=[CHART, names[3]], timeout=DRAW_MS)
        page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
        assert page.evaluate(asked) >= before + 1
        assert [p["name"] for p in _paths(page)][:3] == names[:3]
        # (Pause interrupts Play's Plotly.animate, whose promise Plotly's own button leaves
        # rejected, reason undefined: Plotly's, and harmless)
        errors = [e for e in page.errors + page2.errors if e != "undefined"]
        assert errors == [], errors
    finally:
        ctx2.close()
        ctx.close()
    print(f"browser test: {time.monotonic() - t_start:.1f} s")


@pytest.mark.parametrize("path,shows", [("race?scene=saddle_escape", "Escaping a saddle"), ("sweeps", "Hyperparameter map"),
                                        ("network?steps=50", "Race the optimizers on a real network")])
def test_every_page_has_its_address(server, browser, path, shows):
    """/race (and /, above), /sweeps and /network each open their page with its link, and no
    "Page not found" (app.py serves the race page at / and, hidden, at /race)."""
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(server + path)
        page.wait_for_function("(t) => document.body.innerText.includes(t)", arg=shows, timeout=DRAW_MS)
        page.wait_for_timeout(1500)
        assert "Page not found" not in page.inner_text("body")
        assert urlsplit(page.url).path == "/" + path.split("?")[0]
        _shot(page, "address-" + path.split("?")[0])
    finally:
        ctx.close()


@pytest.mark.parametrize("path", ["sweeps", "race"])
def test_a_fresh_servers_first_visitor_on_a_page_gets_the_apps_navigation(browser, tmp_path, path):
    """The first visitor of a new server opens /sweeps or /race directly: the sidebar lists the
    three pages by their titles (Streamlit's older multipage layout, which a folder named
    ``pages/`` would trigger, lists file names: app, network, race, sweeps)."""
    with streamlit_server(tmp_path / "server.log") as url:
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        try:
            page = ctx.new_page()
            page.goto(url + path)
            nav = page.locator('[data-testid="stSidebarNav"]')
            nav.wait_for(timeout=DRAW_MS)
            page.wait_for_timeout(3000)
            text = nav.inner_text()
            assert "Optimizer race" in text and "Real network" in text, text
            assert "app" not in text.split(), text
        finally:
            ctx.close()


# --- what cannot be instant says so (viz/common/progress.py) ------------------------------

PROGRESS = '[class*="st-key-lle_progress_"]'  # the progress card (one keyed container a place)
# Every progress card this page ever showed, recorded as it appears (an init script: it runs
# before the page's own scripts, so nothing shown, however briefly, goes unseen).
JS_WATCH_PROGRESS = """() => {
  window.__lleProgress = [];
  const look = () => {
    for (const e of document.querySelectorAll('%s')) {
      const t = (e.innerText || '').trim();
      if (t && window.__lleProgress[window.__lleProgress.length - 1] !== t) window.__lleProgress.push(t);
    }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
}""" % PROGRESS
SWEEP_CHART = ".st-key-swp_chart_hyper .js-plotly-plot"
JS_TOP = "(sel) => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().top : null; }"
# The page's script is done: Streamlit's status widget no longer says it is running.
JS_IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


def _idle(page):
    page.wait_for_function(JS_IDLE, timeout=DRAW_MS)
    page.wait_for_timeout(500)


@pytest.mark.timeout(240)
def test_slow_work_says_what_it_does_and_fast_work_shows_nothing(server, browser):
    """A sweep never computed on this server (Adam, 96 x 96 runs of 20,000 steps: a new program,
    and work enough to run in chunks) shows a card that says so, which is gone when the map is
    drawn; a smaller grid over the stale map shows one too, floating: the map does not move.
    A change the cache answers (another colouring) and the same link opened by a second
    visitor show none, not even briefly."""
    url = server + "sweeps?steps=20000&sw_mode=hyper&sw_run=6&sw_n=96"
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    ctx.add_init_script(f"({JS_WATCH_PROGRESS})()")
    try:
        page = ctx.new_page()
        page.goto(url)
        card = page.locator(PROGRESS)
        card.wait_for(timeout=DRAW_MS)
        page.wait_for_timeout(600)  # (the bar's component loads)
        _shot(page, "progress_1_new_sweep")
        card.wait_for(state="detached", timeout=DRAW_MS)
        page.wait_for_selector(SWEEP_CHART, timeout=DRAW_MS)
        _idle(page)
        seen = page.evaluate("() => window.__lleProgress")
        assert seen and all("Adam" in t and "Rosenbrock" in t for t in seen), seen
        # what it does: a new program compiled, or how far the chunks are (whichever lasted)
        assert any(t.startswith("Compiling the Adam sweep") or " of 9,216 runs of 20,000 steps done" in t
                   for t in seen), seen

        # a smaller grid: the card floats over the stale map, which stays where it is
        top = page.evaluate(JS_TOP, SWEEP_CHART)
        page.evaluate("() => { window.__lleProgress = []; }")
        page.locator(".st-key-swp_n input[type=range]").focus()
        page.keyboard.press("ArrowLeft")  # 96 -> 64
        card.wait_for(timeout=DRAW_MS)
        assert page.evaluate(JS_TOP, SWEEP_CHART) == top
        page.wait_for_timeout(600)
        _shot(page, "progress_2_over_the_stale_map")
        card.wait_for(state="detached", timeout=DRAW_MS)
        _idle(page)
        assert "sw_n=64" in page.url and page.evaluate(JS_TOP, SWEEP_CHART) == top
        assert any("4,096 runs of 20,000 steps" in t for t in page.evaluate("() => window.__lleProgress"))

        # a change the cache answers: no card
        page.evaluate("() => { window.__lleProgress = []; }")
        page.locator(".st-key-swp_color_hyper label").filter(has_text="steps to tolerance").click()
        page.wait_for_function("() => location.search.includes('sw_color=steps')", timeout=60_000)
        _idle(page)
        assert page.evaluate("() => window.__lleProgress") == []

        # the first link, opened by a second visitor: served from the cache, no card
        page2 = ctx.new_page()
        page2.goto(url)
        page2.wait_for_selector(SWEEP_CHART, timeout=DRAW_MS)
        _idle(page2)
        assert page2.evaluate("() => window.__lleProgress") == []
        assert page2.locator(PROGRESS).count() == 0
    finally:
        ctx.close()


def _reruns(log) -> tuple[int, int, int]:
    """The server log's rerun lines so far: (the whole race page, its controls' fragment, its
    chart's fragment alone)."""
    text = log.read_text(errors="replace")
    return tuple(text.count(f" landscape.{page}: rerun") for page in ("race", "race.controls", "race.chart"))


def _direct(log) -> tuple[list[str], str]:
    """The server log's lines of the race chart's direct route (viz/race/direct.py), each an
    answer it drew before the page's rerun, and the last chart line of the page's own reruns."""
    lines = log.read_text(errors="replace").splitlines()
    page = [ln for ln in lines if " landscape.race" in ln and " chart " in ln and ".direct:" not in ln]
    return [ln for ln in lines if " landscape.race.direct: rerun" in ln], page[-1] if page else ""


def _as_a_new_visitor_sees(browser, page):
    """The chart draws what a new visitor of the page's URL sees: traces, frames, the slider."""
    ctx2, page2 = _open(browser, page.url)
    try:
        page2.wait_for_timeout(1000)
        for js in (JS_DRAWING, JS_FRAMES, JS_STEPS):
            assert page.evaluate(js, CHART) == page2.evaluate(js, CHART), js
    finally:
        ctx2.close()


@pytest.mark.timeout(300)
def test_a_landscape_parameter_is_a_quick_update_that_draws_what_a_new_visitor_sees(server, browser):
    """The quadratic's condition number one notch up (the chart's own control, answered by its
    route): a new picture, colour bar ticks and every run, by the quick path (no Plotly.react: the colour bar is on 0..1 and only its ticks
    move); the person's zoom goes back to the figure's ranges, as for any new landscape; the
    chart then draws what a new visitor of the new link sees, colour bar and picture included."""
    from viz.race.defaults import default_run
    from viz.race.link import to_query_string

    race = presets.PRESETS["race"].scene
    quad = race.replace(landscape="quadratic", landscape_params=(), start=None,
                        runs=tuple(default_run("quadratic", r.optimizer) for r in race.runs))
    ctx, page = _open(browser, server + "?" + to_query_string(quad))
    try:
        _settled(page)
        before, updates = page.evaluate(JS_BAR, CHART), page.evaluate(JS_UPDATES)
        page.evaluate("(sel) => window.llePlotly.then((P) => P.relayout(document.querySelector(sel), "
                      "{'xaxis.range': [-1, 1], 'yaxis.range': [-1, 1]}))", CHART)  # a zoom
        url = page.url
        asked = page.evaluate("() => performance.getEntriesByName('lle-direct-sent').length")
        thumb = page.locator(".st-key-main_chart .lle-params input[data-key=lp_quadratic_condition]")
        assert page.locator(".st-key-main_chart .lle-param").count() == 2  # the condition and the angle
        thumb.focus()
        thumb.press("ArrowRight")
        page.wait_for_function("(u) => window.location.href !== u", arg=url, timeout=60_000)
        page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
        _idle(page)
        assert "condition" in page.url and page.url != url
        # the chart's own route answered it (the page's rerun then sent nothing to draw)
        assert page.evaluate("() => performance.getEntriesByName('lle-direct-sent').length") == asked + 1
        assert page.locator(".st-key-main_chart .lle-param-value").first.inner_text() == "12.5"
        now = page.evaluate(JS_UPDATES)
        assert now == {"quick": updates["quick"] + 1, "full": updates["full"]}, (updates, now)
        after = page.evaluate(JS_BAR, CHART)
        assert after["image"] != before["image"] and after["bar"] != before["bar"]
        assert after["ranges"] == before["ranges"]  # (the zoom let go)
        ctx2, page2 = _open(browser, page.url)
        try:
            page2.wait_for_timeout(1000)
            for js in (JS_DRAWING, JS_FRAMES, JS_STEPS):
                assert page.evaluate(js, CHART) == page2.evaluate(js, CHART), js
            # (Plotly's first drawing of a page's colour bar is 1 px longer than any later one of
            # the same bar, on the same page: a no-op restyle shows it; drawn again, the two match)
            fresh = page2.evaluate(JS_BAR, CHART)
            assert [t[0] for t in fresh["bar"]] == [t[0] for t in after["bar"]] and fresh["image"] == after["image"]
            page2.evaluate("(sel) => window.llePlotly.then((P) => { const g = document.querySelector(sel); "
                           "return P.restyle(g, {'marker.colorbar.len': [g._fullData[0].marker.colorbar.len]}, [0]); })",
                           CHART)
            assert page2.evaluate(JS_BAR, CHART) == after
        finally:
            ctx2.close()
        errors = [e for e in page.errors if e != "undefined"]
        assert errors == [], errors
    finally:
        ctx.close()


def _type(page, key: str, value: str):
    box = page.locator(STEPS if key == "steps" else START.format(key[-1]))
    box.fill(value)
    box.press("Enter")


@pytest.mark.timeout(300)
def test_the_charts_own_controls_rerun_the_chart_alone(browser, tmp_path):
    """The start (typed in the chart's own inputs, or a click on the plot) and the steps (the
    chart's own input too) belong to the chart's fragment, the run editor to the fragment around it: a change
    reruns that fragment alone (the server's log says which ran), the inputs show the new values,
    and the chart and URL follow.  Leaving the ready scene changes the header too: that reruns
    the page, once.  The start's Reset button goes back to the landscape's own start."""
    log = tmp_path / "server.log"
    with streamlit_server(log) as url:
        ctx, page = _open(browser, url)
        try:
            page.wait_for_selector(".st-key-landscape input", timeout=DRAW_MS)  # (after the chart)
            _idle(page)
            title = presets.PRESETS[presets.DEFAULT_PRESET].title
            main = page.locator('[data-testid="stMain"]')
            assert title in main.inner_text()
            # 1. a typed start x leaves the ready scene: the header changes (the whole page reruns)
            paths = _paths(page)
            _type(page, "start_x", "-1.25")
            page.wait_for_function("() => location.search.includes('start=-1.25')", timeout=60_000)
            page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
            _idle(page)
            assert _paths(page) != paths and title not in main.inner_text()
            assert "your own scene" in page.locator(".st-key-scene_preset input").input_value()
            # 2. a typed start y: the chart's fragment alone, after the direct route drew the
            # chart (the server's log has its line); the fragment's chart data is then an
            # empty patch from what the chart shows (nothing is drawn again)
            full, controls, alone = _reruns(log)
            answered = len(_direct(log)[0])
            _type(page, "start_y", "1.75")
            page.wait_for_function("() => location.search.includes('start=-1.25%2C1.75')", timeout=60_000)
            _idle(page)
            assert _reruns(log) == (full, controls, alone + 1)
            direct, last = _direct(log)
            assert len(direct) == answered + 1 and " whole " in direct[-1], direct[-1:]
            assert " patch " in last and int(last.split(" chart ")[1].split(" kB")[0]) < 20, last
            assert page.evaluate("() => performance.getEntriesByName('lle-chart-resync').length") == 0
            # 3. a click on the plot: the chart's fragment alone, and the sidebar shows the new start;
            # the route is asked when the button goes down (the hovered point), and the click uses
            # that answer (one request: the route answered once)
            box = page.locator(f"{CHART} .draglayer .xy .nsewdrag").first.bounding_box()
            before = page.url
            early = "() => ['lle-direct-early', 'lle-direct-early-used'].map((n) => performance.getEntriesByName(n).length)"
            asked = page.evaluate(early)
            page.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.3 * box["height"])
            page.wait_for_timeout(300)
            page.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + 0.3 * box["height"])
            page.wait_for_function("(u) => window.location.href !== u", arg=before, timeout=60_000)
            page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
            _idle(page)
            start = [float(v) for v in parse_qs(urlsplit(page.url).query)["start"][0].split(",")]
            shown = [float(page.locator(START.format(c)).input_value()) for c in "xy"]
            assert all(_close(a, b, rel=1e-4) for a, b in zip(shown, start)), (shown, start)
            assert start[0] > 0 and _reruns(log) == (full, controls, alone + 2)
            assert len(_direct(log)[0]) == answered + 2
            assert page.evaluate(early) == [asked[0] + 1, asked[1] + 1]
            _as_a_new_visitor_sees(browser, page)
            # 3b. a start from which a run diverges (Nesterov, from this corner): its cross
            # appears, still by a quick update (every run has a cross trace, empty until it
            # diverges), and the chart is what a new visitor of the link sees
            updates = page.evaluate(JS_UPDATES)
            crosses = """(sel) => document.querySelector(sel)._fullData.filter((t) => t.marker &&
              t.marker.symbol === 'x' && t.x).flatMap((t) => Array.from(t.x)).filter((v) => v !== null && v !== undefined).length"""
            assert page.evaluate(crosses, CHART) == 0
            _type(page, "start_x", "-2")
            page.wait_for_function("() => location.search.includes('start=-2%2C')", timeout=60_000)
            _idle(page)
            _type(page, "start_y", "-1")
            page.wait_for_function("() => location.search.includes('start=-2%2C-1')", timeout=60_000)
            page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
            _idle(page)
            assert page.evaluate(crosses, CHART) == 1
            assert page.evaluate(JS_UPDATES) == {"quick": updates["quick"] + 2, "full": updates["full"]}
            _as_a_new_visitor_sees(browser, page)
            shown = [float(page.locator(START.format(c)).input_value()) for c in "xy"]
            full, controls, alone = _reruns(log)  # (the new visitor's page ran too)
            # 4. the steps (within their programs' size: no compiler): the route draws them
            # first, then the page's rerun of the chart's fragment alone (an empty patch); the
            # chart's slider ends at the new count.  New frame names, the same traces: the quick path
            # (the old frames replaced, not kept), and it draws what a new visitor of the same
            # link sees: traces, ticks, frames, the slider's and the Play button's steps
            updates, n_frames = page.evaluate(JS_UPDATES), page.evaluate(JS_ANIM, CHART)["frames"]
            _type(page, "steps", "9000")
            page.wait_for_function("() => location.search.includes('steps=9000')", timeout=60_000)
            page.wait_for_function(JS_DRAWN, arg=CHART, timeout=DRAW_MS)
            _idle(page)
            assert _reruns(log) == (full, controls, alone + 1)
            direct, last = _direct(log)
            assert len(direct) == answered + 5 and " chart " in direct[-1] and " patch " in last, direct[-1:]
            assert page.locator(STEPS).input_value() == "9000"
            last = page.evaluate("(sel) => Math.max(...document.querySelector(sel)._transitionData._frames.at(-1)"
                                 ".data.filter((e) => e.customdata).flatMap((e) => e.customdata.map((c) => c[0])))", CHART)
            assert last == 9000  # (the frames are named by place: the last one shows step 9,000)
            now = page.evaluate(JS_UPDATES)
            assert now == {"quick": updates["quick"] + 1, "full": updates["full"]}, (updates, now)
            assert page.evaluate(JS_ANIM, CHART)["frames"] == n_frames
            assert page.evaluate("() => performance.getEntriesByName('lle-chart-quick').length") > 0
            _as_a_new_visitor_sees(browser, page)
            full, controls, alone = _reruns(log)  # (the new visitor's page ran too)
            # 5. a learning rate: the chart's fragment alone; the start inputs are still there
            crosses_before = page.evaluate(crosses, CHART)
            lr = page.locator(LRS).nth(0)
            before = page.url
            lr.focus()
            lr.press("ArrowRight")
            page.wait_for_function("(u) => window.location.href !== u", arg=before, timeout=60_000)
            _idle(page)
            assert _reruns(log) == (full, controls, alone + 1)
            assert len(_direct(log)[0]) == answered + 6 and " patch " in _direct(log)[0][-1], _direct(log)[-1:]
            assert [float(page.locator(START.format(c)).input_value()) for c in "xy"] == shown
            _shot(page, "fragment_controls")
            # (from this start, SGD one notch up diverges: its cross appears, and the patch names
            # the frames' new traces; drawn in its place among the traces, as a new visitor sees)
            assert page.evaluate(crosses, CHART) == crosses_before + 1
            _as_a_new_visitor_sees(browser, page)
            full, controls, alone = _reruns(log)
            # 6. the start's Reset: the landscape's own start, the chart's fragment alone
            page.locator(".st-key-main_chart .lle-start button").click()
            page.wait_for_function("() => !location.search.includes('start=')", timeout=60_000)
            _idle(page)
            assert _reruns(log) == (full, controls, alone + 1)
            own = landscapes.get(presets.PRESETS[presets.DEFAULT_PRESET].scene.landscape).start
            assert [float(page.locator(START.format(c)).input_value()) for c in "xy"] == list(own)
            # 7. a run removed (the open editor's): the fragment around the chart's, not the page
            full, controls, alone = _reruns(log)
            n = len(_paths(page))
            page.locator('div[class*="st-key-run"][class*="_remove"] button').first.click()
            page.wait_for_function(f"(sel) => {{ const p = ({JS_PATHS})(sel); return p && p.length === {n - 1}; }}",
                                   arg=CHART, timeout=DRAW_MS)
            _idle(page)
            assert _reruns(log) == (full, controls + 1, alone)
            assert f"{n - 1} of " in page.locator('[data-testid="stSidebar"]').inner_text()
            # 8. the chart's own buttons: a run's remove button and "Add a run", each drawn by
            # the route first (a quick update: the figure has a place for every run), then the
            # whole page once (the run editor is outside the chart's fragment: it opens the run
            # before the removed one, or the added one)
            for remove, count in ((True, n - 2), (False, n - 1)):
                full, answered = _reruns(log)[0], len(_direct(log)[0])
                updates = page.evaluate(JS_UPDATES)
                button = page.locator(".st-key-main_chart " + (".lle-lr-remove" if remove else ".lle-add button"))
                (button.last if remove else button).click()
                page.wait_for_function(f"(sel) => {{ const p = ({JS_PATHS})(sel); return p && p.length === {count}; }}",
                                       arg=CHART, timeout=DRAW_MS)
                page.wait_for_function(f"() => location.search.includes('r{count - 1}=') && "
                                       f"!location.search.includes('r{count}=')", timeout=60_000)
                _idle(page)
                direct = _direct(log)[0]
                assert len(direct) == answered + 1 and " chart " in direct[-1], direct[-1:]
                assert _reruns(log)[0] == full + 1
                sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
                assert f"{count} of " in sidebar and page.locator(".st-key-main_chart .lle-lr").count() == count
                edited = page.locator(".st-key-edit_run label:has(input:checked)").inner_text().strip()
                assert edited == str(count), (edited, count)  # (the radio shows runs from 1)
                assert page.evaluate("() => performance.getEntriesByName('lle-chart-resync').length") == 0
                assert page.evaluate(JS_UPDATES) == dict(updates, quick=updates["quick"] + 1)
                _as_a_new_visitor_sees(browser, page)
            errors = [e for e in page.errors if e != "undefined"]
            assert errors == [], errors
        finally:
            ctx.close()


def _post(url: str, body: bytes, headers: dict | None = None, meta: dict | None = None) -> tuple[int, bytes]:
    """POST to the chart's route: (status, body as sent); ``meta`` gets the answer's headers."""
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url + "api/race/chart", data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            if meta is not None:
                meta.update({k.lower(): v for k, v in r.headers.items()})
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_chart_route_answers_over_http_and_refuses_plainly(server, browser):
    """The race chart's route on a real server (app.py's st.App): a start for the default scene
    is answered with the chart's data, named as the page names it; a body it cannot read, one
    too large, or a link the page must read itself gets a status and no traceback."""
    import gzip
    import json

    import orjson

    from viz.race import direct, link

    scene = presets.PRESETS[presets.DEFAULT_PRESET].scene
    q = link.to_query_string(scene)
    ask = {"q": q, "kind": "start", "value": {"x": 0.75, "y": 2.25}}
    status, data = _post(server, orjson.dumps(ask))
    if status == 409:  # the programs are not compiled (yet, or no longer: the server keeps a
        # bounded number): a visitor of another start compiles them (the default page's results
        # may be held, its programs not)
        ctx, _ = _open(browser, server + "?" + link.to_query_string(scene.replace(start=(0.7, 2.2))))
        ctx.close()
        status, data = _post(server, orjson.dumps(ask))
    assert status == 200, data[:200]
    got = json.loads(data)
    assert got["rev"] == link.to_query_string(scene.replace(start=(0.75, 2.25))) and got["spec"]["data"]
    # a browser takes gzip: the same bytes, gzipped once (the route's level 1, not Streamlit's 9)
    meta = {}
    status, packed = _post(server, orjson.dumps(ask), {"Accept-Encoding": "gzip, deflate, br"}, meta)
    assert status == 200 and meta.get("content-encoding") == "gzip" and len(packed) < len(data) / 1.5
    assert gzip.decompress(packed) == data
    assert _post(server, b"{not json")[0] == 400
    assert _post(server, orjson.dumps(dict(ask, kind="__import__('os')")))[0] == 400
    assert _post(server, b" " * (direct.MAX_BODY + 1))[0] == 413
    assert _post(server, orjson.dumps(dict(ask, q=q + "&bogus=1")))[0] == 409
