"""The page, driven by streamlit.testing.v1.AppTest: every control path, every ready scene,
the URL round trip, and a corpus of malformed or hostile URLs.

AppTest runs app.py (its navigation opens app_pages/race.py) in this process (no browser, Plotly is not drawn).  The 2-D figure goes
out through the page's own chart component (viz/common/chart.py: AppTest lists it as a
"bidi_component" whose ``proto.bytes`` is JSON {"rev", "config", "spec"}); the 3-D view's through
``st.plotly_chart`` (``proto.spec``).  :func:`chart_jsons` reads both.  Widgets are found by
their ``key=``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import optimizers
from conftest import APP, ok, open_page, texts, url_of
from viz.common import chart
from viz.common.lru import Memo
from viz.race import cached, compute
from viz.race import figures
from viz.race import presets
from viz.race.link import decode, encode
from viz.race.scene import MAX_RUNS, MAX_STEPS, RESET, Scene, landscape_domain, start_from_input, steps_from_input

MAX_BYTES = 1_500_000


def page(query: dict | None = None, *, chart_first: bool = False) -> AppTest:
    """A new visitor's page (``query``: the URL's).  Its first run draws the chart alone; the
    browser's chart then reports "drawn" and the whole page follows (viz.race.state.CHART_FIRST).  AppTest
    runs no JavaScript: this does what the report does (``chart_first``: stop before)."""
    at = open_page(APP, query, timeout=60)
    if not chart_first and at.session_state["_chart_first"]:
        at.session_state["_chart_first"] = False  # what viz.race.state.on_drawn does
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def scene_of(at: AppTest) -> Scene:
    return at.session_state["_scene"]


def chart_jsons(at: AppTest) -> list[str]:
    """The JSON each chart sends to the browser: the chart component's data (its spec, its
    name for the figure and its Plotly config) or st.plotly_chart's figure."""
    out = [c.proto.bytes.decode() for c in at.get("bidi_component")
           if c.proto.component_name == chart.NAME and c.proto.WhichOneof("data") == "bytes"]
    return out + [c.proto.spec for c in at.get("plotly_chart")]


def charts(at: AppTest) -> list[dict]:
    """The figures (Plotly specs) on the page (the 3-D view's chart component has none)."""
    out = []
    for text in chart_jsons(at):
        d = json.loads(text)
        if d.get("patch") is not None:  # a patch from the figure sent before: the figure
            d = json.loads(json.dumps(sent_spec(at)))  # the server recorded
        elif "spec" in d and "data" not in d:
            d = d["spec"]
        if d is not None:
            out.append(figures.expand_frames(d))  # (the frames as the browser builds them)
    return out


SENT = "_chart_sent"  # viz.race.cached.SENT: the name of the figure the page's chart was sent last


def sent_spec(at: AppTest) -> dict:
    """The figure the page's chart was sent last (the session keeps its name; the figure is in
    the server's memo of figures, chart.SPECS)."""
    spec = chart.SPECS.peek(at.session_state[SENT])
    assert spec is not None
    return spec


def chart_data(at: AppTest) -> dict:
    """The main chart component's whole payload (figure, learning rates, table)."""
    (text,) = [c.proto.bytes.decode() for c in at.get("bidi_component") if c.proto.component_name == chart.NAME]
    return json.loads(text)


def table_rows(at: AppTest) -> list[list[str]]:
    """The results table under the chart: its header and one row per run (plain text cells,
    which chart.js shows with textContent)."""
    table = chart_data(at)["table"]
    return [table["header"]] + table["rows"]


def move_lr(at: AppTest, i: int, value: float) -> AppTest:
    """Move run ``i``'s learning rate as the chart's range input does: chart.js sends every
    run's rate as the trigger value "lr", and viz.race.state.on_lr keeps what viz.common.chart.lr_changes accepts.
    (AppTest cannot send a component's trigger; tests/test_browser.py moves the real input.)"""
    controls = chart_data(at)["controls"]
    assert value in controls[i]["values"]
    sent = {"keys": [c["key"] for c in controls], "values": [c["values"][c["at"]] for c in controls]}
    sent["values"][i] = value
    for key, v in chart.lr_changes(sent, scene_of(at)).items():
        at.session_state[key] = v
    return at.run()


def type_start(at: AppTest, value) -> AppTest:
    """Type a start under the chart (or reset it) as its inputs do: chart.js sends the trigger
    value "start" ({x, y}, or {reset: true}) and viz.race.state.on_start keeps what
    viz.race.scene.start_from_input accepts, writing the start's session state (AppTest cannot
    send a component's trigger; tests/test_browser.py types in the real inputs)."""
    scene = scene_of(at)
    start = start_from_input(value, landscape_domain(scene))
    if start is not None:
        x, y = compute.landscape_of(scene).start if start == RESET else start
        at.session_state["start_x"], at.session_state["start_y"] = float(x), float(y)
    return at.run()


def frame_step(frame: dict) -> int:
    """The step a frame shows: its runs' heads' (customdata [step, f]), the furthest one (frames
    are named by their place)."""
    return max(int(c[0]) for e in frame["data"] if e.get("customdata") for c in e["customdata"])


def type_steps(at: AppTest, n, sent=None) -> AppTest:
    """Type the steps ``n`` under the chart as its input does: chart.js sends the trigger value
    "steps" ({steps: n}; or ``sent``, as a hostile browser might) and viz.race.state.on_steps keeps what viz.race.scene.steps_from_input accepts,
    writing the steps' session state (tests/test_browser.py types in the real input)."""
    steps = steps_from_input({"steps": n} if sent is None else sent)
    if steps is not None:
        at.session_state["steps"] = steps
    return at.run()


def set_param(at: AppTest, sent) -> AppTest:
    """Change a landscape parameter under the chart as its control does: chart.js sends the
    trigger value "param" ({key, value}: ``sent``) and viz.race.state.on_param keeps what
    viz.common.chart.param_change accepts, writing the parameter's session state."""
    scene = scene_of(at)
    change = chart.param_change(sent, scene.landscape, *cached.params_of(scene))
    if change is not None:
        at.session_state[chart.param_key(scene.landscape, change[0])] = change[1]
    return at.run()


# --- the default page ----------------------------------------------------------------------

def test_default_page():
    at = page()
    scene = scene_of(at)
    assert len(scene.runs) == 8 and scene.steps == 10_000
    (main,) = chart_jsons(at)
    assert len(main) < MAX_BYTES
    (spec,) = charts(at)
    assert len(spec["frames"]) == figures.N_FRAMES and spec["layout"]["images"][0]["source"].startswith("data:image/png")
    assert spec["layout"]["yaxis2"]["type"] == "log"  # the side plots, in the same figure
    assert not at.warning
    assert url_of(at) == encode(scene)  # the URL encodes the page
    assert "The classic race" in texts(at)
    rows = table_rows(at)
    assert len(rows) == 1 + 8 and "steps to f − f* ≤ 0.001" in rows[0]
    assert [r[0] for r in rows[1:]] == scene.labels()
    controls = chart_data(at)["controls"]  # every run's learning rate, under the chart
    assert [c["values"][c["at"]] for c in controls] == [r.learning_rate for r in scene.runs]
    assert [c["name"] for c in controls][:3] == ["SGD", "Momentum", "Nesterov"]
    assert len(at.get("download_button")) == 2
    (link,) = [e.proto.body for e in at.get("html") if "lle-link" in e.proto.body]  # the share link
    assert "v=1&amp;ls=rosenbrock" in link
    assert at.button(key="add_run").disabled  # 8 runs: the maximum


def test_a_new_visitor_sees_the_chart_first():
    """The first run draws the header and the chart alone (the sidebar shows its title and
    "Loading the controls"); the browser's chart reports "drawn" and the page follows."""
    at = page({"scene": "ravine_momentum"}, chart_first=True)
    assert at.session_state["_chart_first"]
    (spec,) = charts(at)
    assert len(spec["frames"]) > 10 and presets.PRESETS["ravine_momentum"].title in texts(at)
    assert url_of(at) == encode(presets.PRESETS["ravine_momentum"].scene)  # the link is the page
    assert not at.selectbox and not at.slider and not at.number_input and not at.button
    assert not at.get("select_slider") and not at.get("download_button")
    assert len(chart_data(at)["controls"]) == 3 and len(table_rows(at)) == 1 + 3  # (in the chart)
    assert "Loading the controls" in " ".join(c.value for c in at.sidebar.caption)
    # no Markdown with maths or HTML, whose code the browser would load before it draws anything
    # (the header's formula is MathML in widgets.html_line)
    assert not any("$" in m.value or m.proto.allow_html for m in at.markdown)
    assert not any("$" in i.value for i in at.info)
    (line,) = [c for c in at.get("bidi_component") if c.proto.component_name == "loss_landscape_html_line"]
    assert "Ravine" in line.proto.bytes.decode() and "<math" in line.proto.bytes.decode()
    (main,) = [c for c in at.get("bidi_component") if c.proto.component_name == chart.NAME]
    assert '"drawn"' in main.proto.js_content and "DRAWN_WAIT_MS" in main.proto.js_content
    at.session_state["_chart_first"] = False  # what viz.race.state.on_drawn does when the chart reports
    ok(at.run())
    assert charts(at) == [spec] and at.selectbox(key="landscape").value == "ravine"
    assert len(table_rows(at)) == 1 + 3 and "Update rules" in texts(at)


def test_a_3d_link_shows_the_whole_page_at_once():
    """The 3-D view is drawn by st.plotly_chart, which reports nothing: no chart-first run."""
    at = page({"ls": "rosenbrock", "r0": "adam", "view": "3d"}, chart_first=True)
    assert not at.session_state["_chart_first"]
    assert at.selectbox(key="landscape").value == "rosenbrock" and charts(at)[0]["data"][0]["type"] == "surface"


def test_a_rerun_without_changes_keeps_everything():
    at = page()
    before = scene_of(at), chart_jsons(at)[0]
    ok(at.run())
    assert (scene_of(at), chart_jsons(at)[0]) == before


@pytest.mark.parametrize("key", list(presets.PRESETS))
def test_each_preset_from_its_link(key):
    at = page({"scene": key})
    p = presets.PRESETS[key]
    assert scene_of(at) == p.scene
    assert p.title in texts(at)
    assert p.claims and all(c.text(p.scene.labels()) in texts(at) for c in p.claims)  # what it shows, checked
    spec = charts(at)[0]
    assert len(chart_jsons(at)[0]) < MAX_BYTES
    assert "frames" in spec
    assert not at.warning


def test_preset_selectbox_replaces_the_scene_and_url():
    at = page()
    ok(at.selectbox(key="scene_preset").set_value("noise_escape").run())
    assert scene_of(at) == presets.PRESETS["noise_escape"].scene
    assert url_of(at)["noise"] == "6" and url_of(at)["ls"] == "two_basin"
    assert at.number_input(key="noise").value == 6.0
    assert at.selectbox(key="landscape").value == "two_basin"



def test_a_change_away_from_a_ready_scene_shows_in_its_box_and_header():
    """The ready scene's box and the header follow the change that left it (the box is drawn
    before the widgets it depends on: it is set from the scene they now hold)."""
    at = page()
    title = presets.PRESETS[presets.DEFAULT_PRESET].title
    assert at.selectbox(key="scene_preset").value == presets.DEFAULT_PRESET
    assert any(title in i.value for i in at.info)
    ok(at.number_input(key="seed").set_value(7).run())
    assert scene_of(at).seed == 7
    assert at.selectbox(key="scene_preset").value == "(yours)"
    assert not any(title in i.value for i in at.info)

# --- every control path ----------------------------------------------------------------------

def test_landscape_and_its_parameter():
    at = page()
    ok(at.selectbox(key="landscape").set_value("quadratic").run())
    s = scene_of(at)
    assert s.landscape == "quadratic" and s.start is None and len(s.runs) == 8
    assert url_of(at)["ls"] == "quadratic"
    condition, angle = chart_data(at)["params"]  # under the chart: a range of notches, a box
    assert (condition["key"], condition["kind"], condition["values"][condition["at"]]) == \
        ("lp_quadratic_condition", "notches", 10.0) and 100.0 in condition["values"]
    assert (angle["key"], angle["kind"], angle["min"], angle["max"]) == ("lp_quadratic_angle", "number", -90.0, 90.0)
    ok(set_param(at, {"key": "lp_quadratic_condition", "value": 100.0}))
    assert scene_of(at).landscape_params[0] == ("condition", 100.0)
    assert url_of(at)["ls"] == "quadratic:condition=100"
    ok(set_param(at, {"key": "lp_quadratic_angle", "value": -45.0}))
    assert url_of(at)["ls"] == "quadratic:condition=100,angle=-45"
    assert chart_data(at)["params"][1]["value"] == -45.0  # the chart's box shows it
    for hostile in ({"key": "lp_quadratic_condition", "value": 101.5},  # not a notch
                    {"key": "lp_quadratic_condition", "value": "100"}, {"key": "lp_quadratic_angle", "value": True},
                    {"key": "lp_quadratic_angle", "value": float("nan")}, {"key": "lp_rosenbrock_a", "value": 1.0},
                    {"value": 5.0}, [1, 2], None):
        ok(set_param(at, hostile))  # ignored
        assert url_of(at)["ls"] == "quadratic:condition=100,angle=-45"
    ok(set_param(at, {"key": "lp_quadratic_angle", "value": 1e9}))  # clamped
    assert url_of(at)["ls"] == "quadratic:condition=100,angle=90"
    assert "Quadratic bowl" in texts(at)


def test_custom_formula_valid_invalid_example_and_domain():
    at = page()
    ok(at.selectbox(key="landscape").set_value("custom").run())
    assert scene_of(at).landscape == "custom"
    ok(at.text_input(key="formula").input("x**2 + 3*y**2").run())
    assert scene_of(at).formula == "x**2 + 3*y**2" and url_of(at)["f"] == "x**2 + 3*y**2"
    ok(at.text_input(key="formula").input("x**2 + sin(").run())
    assert at.error and "column" in at.error[0].value  # position and reason
    assert scene_of(at).formula == "x**2 + 3*y**2"  # the last valid formula stays
    ok(at.text_input(key="formula").input("__import__('os').system('echo hi')").run())
    assert at.error and scene_of(at).formula == "x**2 + 3*y**2"
    example = at.selectbox(key="formula_example").options[1]
    ok(at.selectbox(key="formula_example").set_value(example).run())
    assert scene_of(at).formula != "x**2 + 3*y**2"
    ok(at.number_input(key="dom_x1").set_value(5.0).run())
    assert scene_of(at).domain[1] == 5.0 and url_of(at)["dom"].startswith("-3,5,")
    ok(at.number_input(key="dom_x0").set_value(6.0).run())  # xmin > xmax: refused, visible
    assert at.error and scene_of(at).domain[0] == -3.0


def test_add_remove_runs_and_change_optimizer():
    at = page({"scene": "nesterov_vs_momentum"})
    ok(at.button(key="add_run").click().run())
    assert len(scene_of(at).runs) == 3 and "r2" in url_of(at)
    ok(at.selectbox(key="run2_opt").set_value("adagrad").run())
    r = scene_of(at).runs[2]
    assert r.optimizer == "adagrad" and url_of(at)["r2"].startswith("adagrad:learning_rate=")
    ok(at.radio(key="edit_run").set_value(0).run())
    ok(at.button(key="run0_remove").click().run())
    s = scene_of(at)
    assert [r.optimizer for r in s.runs] == ["nesterov", "adagrad"] and "r2" not in url_of(at)
    ok(at.button(key="run0_remove").click().run())
    ok(at.button(key="run0_remove").click().run())
    assert scene_of(at).runs == () and url_of(at)["runs"] == "none"
    assert any("No runs yet" in i.value for i in at.info)


def test_hyperparameters_lookahead_raw_and_label():
    at = page({"scene": "nesterov_vs_momentum"})
    ok(move_lr(at, 0, 0.05))
    assert scene_of(at).runs[0].learning_rate == 0.05
    assert url_of(at)["r0"] == "momentum:learning_rate=0.05"
    ok(at.select_slider(key="run0_momentum_momentum").set_value(0.99).run())
    assert url_of(at)["r0"] == "momentum:learning_rate=0.05,momentum=0.99"
    ok(at.toggle(key="run0_momentum_nesterov").set_value(True).run())
    assert "nesterov=1" in url_of(at)["r0"]
    ok(at.radio(key="edit_run").set_value(1).run())  # open run 2's editor
    assert at.session_state["run1_nesterov_momentum"] == 0.9
    ok(at.toggle(key="run1_la").set_value(True).run())
    assert scene_of(at).runs[1].lookahead and url_of(at)["r1"].startswith("nesterov~lookahead:")
    ok(at.number_input(key="run1_nesterov_sync_period").set_value(3).run())
    assert "sync_period=3" in url_of(at)["r1"]
    ok(at.toggle(key="run1_raw").set_value(True).run())
    assert url_of(at)["r1"].startswith("nesterov~lookahead~raw:")
    ok(at.text_input(key="run1_label").input("my <b>run</b>").run())
    assert scene_of(at).runs[1].label == "my brun/b" and url_of(at)["l1"] == "my brun/b"
    spec = charts(at)[0]
    assert any(t.get("name") == "my brun/b" for t in spec["data"])


def test_steps_start_and_reset():
    at = page({"scene": "saddle_escape"})
    ok(type_steps(at, 2500))
    assert scene_of(at).steps == 2500 and url_of(at)["steps"] == "2500"
    assert frame_step(charts(at)[0]["frames"][-1]) == 2500
    assert chart_data(at)["steps"]["value"] == 2500  # the chart's input shows it
    assert at.slider(key="span").value == (0, 2500) and at.slider(key="span").max == 2500
    for hostile in ("3000", True, float("nan"), float("inf"), None, [3000], 3000, {"steps": "3000"}, {"n": 3000}):
        ok(type_steps(at, None, sent=hostile))  # ignored
        assert scene_of(at).steps == 2500
    ok(type_steps(at, 1e12))  # clamped
    assert scene_of(at).steps == MAX_STEPS and chart_data(at)["steps"]["value"] == MAX_STEPS
    ok(type_steps(at, 2500.4))  # rounded
    assert scene_of(at).steps == 2500 and url_of(at)["steps"] == "2500"
    ok(type_start(at, {"x": 1.0, "y": 0.5}))
    assert scene_of(at).start == (1.0, 0.5) and url_of(at)["start"] == "1,0.5"
    assert chart_data(at)["start"]["labels"] == ["1", "0.5"]  # the chart's inputs show it
    for hostile in ({"x": "1", "y": 0}, {"x": float("nan"), "y": 0}, {"x": 1}, [1, 2], None, {"reset": 1}):
        ok(type_start(at, hostile))  # ignored
        assert scene_of(at).start == (1.0, 0.5)
    ok(type_start(at, {"x": 1e9, "y": -1e9}))  # clamped to the domain
    (x0, x1), (y0, y1) = compute.landscape_of(scene_of(at)).domain
    assert scene_of(at).start == (x1, y0)
    ok(type_start(at, {"reset": True}))
    assert scene_of(at).start is None and "start" not in url_of(at)
    start = chart_data(at)["start"]
    assert (start["x"], start["labels"][0]) == (1.8, "1.8") and start["domain"] == [x0, x1, y0, y1]


def test_schedule_clipping_noise_and_seed():
    at = page({"scene": "adam_vs_sgd"})
    ok(at.selectbox(key="schedule").set_value("cosine").run())
    assert url_of(at)["sched"] == "cosine"
    ok(at.number_input(key="sched_cosine_decay_steps").set_value(2000).run())
    assert url_of(at)["sched"] == "cosine:decay_steps=2000"
    ok(at.radio(key="clip_kind").set_value("norm").run())
    assert url_of(at)["clip"] == "norm:1"
    ok(at.select_slider(key="clip_at").set_value(0.5).run())
    assert url_of(at)["clip"] == "norm:0.5"
    ok(at.number_input(key="noise").set_value(0.3).run())
    ok(at.number_input(key="seed").set_value(42).run())
    s = scene_of(at)
    assert (s.noise, s.seed) == (0.3, 42) and url_of(at)["noise"] == "0.3" and url_of(at)["seed"] == "42"
    ok(at.selectbox(key="schedule").set_value("warmup_cosine").run())
    ok(at.number_input(key="sched_warmup_cosine_warmup_steps").set_value(6000).run())
    assert at.warning  # decay_steps must exceed warmup_steps: shown, previous scene kept
    assert scene_of(at).schedule_params[0] == ("warmup_steps", 500.0)


def test_view_controls():
    at = page({"scene": "lr_too_large"})
    ok(at.radio(key="view").set_value("3d").run())
    assert url_of(at)["view"] == "3d"
    spec = charts(at)[0]
    assert spec["data"][0]["type"] == "surface"
    ok(at.multiselect(key="panels").select("elr").run())
    assert url_of(at)["panels"] == "loss,dist,elr"
    side = [t for t in charts(at)[0]["data"] if t.get("yaxis")]
    assert len(side) == 4 * 2 + 4 * 2  # loss, dist + elr's two coordinates
    ok(at.slider(key="span").set_value((0, 100)).run())
    assert url_of(at)["span"] == "0,100"
    ok(at.radio(key="view").set_value("2d").run())
    assert frame_step(charts(at)[0]["frames"][-1]) == 100
    ok(at.select_slider(key="tol").set_value(1e-6).run())
    assert url_of(at)["tol"] == "1e-06" and "steps to f − f* ≤ 1e-06" in table_rows(at)[0]
    ok(at.toggle(key="log_steps").set_value(True).run())
    assert url_of(at)["xlog"] == "1" and charts(at)[0]["layout"]["xaxis2"]["type"] == "log"


def test_the_plot_reports_clicks():
    """AppTest cannot click a Plotly chart (tests/test_browser.py does).  Here: the chart is
    the click-reporting component, with the click grid over the landscape (points Plotly finds
    on hover and click but does not draw), and its click value turns into a start point through
    viz.race.scene.start_from_click."""
    at = page()
    (main,) = [c for c in at.get("bidi_component") if c.proto.component_name == chart.NAME]
    assert "plotly_click" in main.proto.js_content and '"click"' in main.proto.js_content
    grid = charts(at)[0]["data"][1]
    assert grid["mode"] == "none" and grid["hoveron"] == "points" and "click" in grid["hovertemplate"]


@pytest.mark.parametrize("state, points", [
    ({"click": {"x": 0.5, "y": -1.0, "curve": 1}}, [{"x": 0.5, "y": -1.0, "curve": 1}]),
    ({"click": None}, []),
    ({"click": "0.5,1"}, []),
    ({}, []),
    (None, []),
    ("junk", []),
])
def test_a_click_value_is_read_defensively(state, points):
    assert chart.clicked(state) == points


def test_learning_rate_controls_follow_the_scene():
    scene = presets.PRESETS["adam_vs_sgd"].scene
    controls = chart.lr_controls(scene)
    assert [c["key"] for c in controls] == [chart.lr_key(i, r) for i, r in enumerate(scene.runs)]
    for c, run in zip(controls, scene.runs):
        p = run.rule.spec("learning_rate")
        assert c["values"] == sorted(c["values"]) and c["values"][c["at"]] == run.learning_rate
        assert p.low <= c["values"][0] and c["values"][-1] <= p.high
        assert len(c["labels"]) == len(c["values"]) and c["color"] in figures.PALETTE
    # an off-notch rate from a link is one of the positions, so the control shows it
    odd = scene.replace(runs=(scene.runs[0].with_hp(learning_rate=0.0123),) + scene.runs[1:])
    c0 = chart.lr_controls(odd)[0]
    assert c0["values"][c0["at"]] == 0.0123 and "0.0123" in c0["labels"]


def _lr_message(scene, **at):
    controls = chart.lr_controls(scene)
    values = [c["values"][c["at"]] for c in controls]
    for i, v in at.items():
        values[int(i[1:])] = v
    return {"keys": [c["key"] for c in controls], "values": values}


def test_a_moved_learning_rate_is_checked_against_the_scene():
    scene = presets.PRESETS["adam_vs_sgd"].scene
    k = [chart.lr_key(i, r) for i, r in enumerate(scene.runs)]
    up = chart.lr_controls(scene)[1]
    nxt = up["values"][up["at"] + 1]
    changes = chart.lr_changes(_lr_message(scene, r1=nxt), scene)
    assert changes[k[1]] == nxt and all(changes[key] == r.learning_rate
                                        for key, r in zip(k, scene.runs) if key != k[1])
    # what a browser could send instead: each bad entry is dropped, the good ones kept
    bad = _lr_message(scene, r0=1e300, r1=float("nan"), r2=True)
    assert chart.lr_changes(bad, scene) == {key: r.learning_rate for key, r in zip(k, scene.runs)
                                            if key not in k[:3]}
    assert chart.lr_changes(_lr_message(scene, r0=0.0101234), scene).get(k[0]) is None  # off-notch
    assert chart.lr_changes(_lr_message(scene, r0="0.1"), scene).get(k[0]) is None
    moved = _lr_message(scene, r1=nxt)
    moved["keys"][1] = "run1_sgd_learning_rate" if "adam" in k[1] else "run1_adam_learning_rate"
    assert k[1] not in chart.lr_changes(moved, scene)  # another run was there when it was sent
    for junk in (None, "x", [], {"keys": k}, {"keys": k, "values": [0.1]}, {"keys": "ab", "values": "ab"},
                 {"keys": None, "values": None}, {"keys": [[1]], "values": [{"a": 1}]}):
        assert chart.lr_changes(junk, scene) == {}
    long = _lr_message(scene)
    long = {"keys": long["keys"] + ["x"] * 10**4, "values": long["values"] + [0.1] * 10**4}
    assert chart.lr_changes(long, scene) == {key: r.learning_rate for key, r in zip(k, scene.runs)}


def _spec_of(scene: Scene, compact: bool = True, places: int = 0) -> dict:
    """The 2-D figure a page sends for ``scene`` (``compact``: its frames described, as the page
    sends them; else built), from scratch (viz.race.compute, no Streamlit)."""
    import numpy as np

    from viz.race import compute
    from viz.race import metrics

    L = compute.landscape_of(scene)
    grid = compute.grid_of(scene.landscape_key())
    results = compute.run_scene(scene, L)
    ref = metrics.reference(L, results, float(np.nanmin(grid[2])))
    return json.loads(json.dumps(figures.main_figure(scene, L, grid, results, scene.labels(), ref,
                                                     compact=compact, places=places).spec))


@pytest.mark.parametrize("compact", [True, False], ids=["frames described", "frames built"])
def test_a_patch_turns_one_figure_into_the_next(compact):
    a_scene = presets.PRESETS["race"].scene
    old = _spec_of(a_scene, compact)
    run1 = a_scene.runs[1]
    new_scene = a_scene.replace(runs=(a_scene.runs[0], run1.with_hp(learning_rate=run1.learning_rate * 2))
                                + a_scene.runs[2:])
    new = _spec_of(new_scene, compact)
    diff = chart.patch(old, new)
    assert chart.apply_patch(old, diff) == new and old == _spec_of(a_scene, compact)  # (old unchanged)
    changed = [int(j) for j in diff["data"]]
    assert {new["data"][j]["name"] for j in changed if not new["data"][j].get("meta")} == {new_scene.labels()[1]}
    marks = [j for j in changed if new["data"][j].get("meta")]  # only run 2's path and side curves, and
    assert len(marks) == 2  # the heads' and the crosses' traces, where only run 2's marker changed
    for j in marks:
        for key in ("x", "y", "customdata", "hovertemplate"):
            if key in new["data"][j]:
                a, b = old["data"][j][key], new["data"][j][key]
                assert [r for r in range(len(a)) if a[r] != b[r]] in ([1], []), key
        assert old["data"][j]["hovertemplate"][1] != new["data"][j]["hovertemplate"][1]  # (its label)
    if compact:  # only run 2's description of its frames
        assert list(diff["runs"]) == ["1"] and not diff["frames"] and "layout" not in diff
        assert figures.expand_frames(chart.apply_patch(old, diff)) == figures.expand_frames(new)
    else:
        assert len(diff["frames"]) == len(new["frames"]) - 1 and "layout" not in diff  # (not step 0)
    assert len(json.dumps(diff)) < 0.25 * len(json.dumps(new))
    assert chart.patch(new, new) == {"data": {}, "frames": {}, **({"runs": {}} if compact else {})}
    fewer = _spec_of(a_scene.replace(runs=a_scene.runs[:3]), compact)
    assert chart.patch(old, fewer) is None  # another shape: the whole figure goes
    other = _spec_of(a_scene, not compact)
    assert chart.patch(old, other) is None  # frames described / built: the whole figure goes


def test_a_patch_adds_or_removes_a_run_where_the_figure_has_its_place():
    """The page's figure has a place for every run (``places``): a run removed (the last, or one
    in the middle: the runs after it move up a place) or added is a patch, which says how many
    runs the frames describe now, and turns one figure into the other."""
    full = presets.PRESETS["race"].scene  # eight runs
    runs = full.runs
    scenes = [full, full.replace(runs=runs[:7]), full.replace(runs=runs[:3] + runs[4:7]), full.replace(runs=runs[:1])]
    specs = [_spec_of(s, True, places=MAX_RUNS) for s in scenes]
    for a, b in [(0, 1), (1, 0), (1, 2), (2, 1), (0, 3), (3, 0)]:
        diff = chart.patch(specs[a], specs[b])
        assert diff is not None and diff["run_count"] == len(scenes[b].runs), (a, b)
        assert chart.apply_patch(specs[a], diff) == specs[b]
        assert figures.expand_frames(chart.apply_patch(specs[a], diff)) == figures.expand_frames(specs[b])
    # the last run removed: only its place's traces and the heads' and crosses' traces change
    changed = {int(j) for j in chart.patch(specs[0], specs[1])["data"]}
    assert {specs[1]["data"][j].get("legendgroup") for j in changed} == {"run7", None}
    assert chart.patch(specs[0], specs[1])["runs"] == {}  # (the other runs' frames: the same)


def test_a_patch_names_the_traces_a_diverging_runs_frames_add():
    """The crosses' trace is named by the frames only while a run diverges: a patch between a
    figure where one diverges and one where none does carries the frames' new trace list and
    which trace they build the crosses of (none)."""
    scene = presets.PRESETS[presets.DEFAULT_PRESET].scene
    calm, wild = _spec_of(scene), _spec_of(scene.replace(start=(-2.0, -1.0)))  # (Nesterov diverges)
    assert len(wild["lle_frames"]["traces"]) == len(calm["lle_frames"]["traces"]) + 1
    for a, b in ((calm, wild), (wild, calm)):
        diff = chart.patch(a, b)
        assert diff["frame_traces"] == b["lle_frames"]["traces"]
        assert diff["frame_marks"] == {"crosses": b["lle_frames"]["crosses"]}
        assert figures.expand_frames(chart.apply_patch(a, diff)) == figures.expand_frames(b)


def test_described_frames_are_a_fraction_of_the_built_ones():
    """The page sends what the frames are made of (the browser builds them): the default
    figure is at most 40 % of its bytes with the frames built."""
    scene = presets.PRESETS["race"].scene
    described, built = _spec_of(scene), _spec_of(scene, compact=False)
    assert "frames" not in described and len(described["lle_frames"]["names"]) == len(built["frames"])
    assert figures.expand_frames(described) == built
    assert len(json.dumps(described)) < 0.4 * len(json.dumps(built))


def test_a_change_sends_a_patch_from_the_figure_sent_before():
    at = page()
    before = {"rev": at.session_state[SENT], "spec": sent_spec(at)}
    ok(move_lr(at, 3, chart_data(at)["controls"][3]["values"][chart_data(at)["controls"][3]["at"] + 1]))
    data = chart_data(at)
    assert data["spec"] is None and data["base"] == before["rev"] and data["rev"] != before["rev"]
    now = chart.apply_patch(before["spec"], data["patch"])
    assert now == sent_spec(at)
    assert json.loads(json.dumps(now)) == _spec_of(scene_of(at))  # what a new page would show
    fresh = page(url_of(at), chart_first=True)  # a new visitor's first run: the whole figure
    assert chart_data(fresh)["spec"] == json.loads(json.dumps(now))
    fresh.session_state["_chart_first"] = False  # (the chart reports "drawn": the whole page)
    ok(fresh.run())
    again = chart_data(fresh)  # the same figure again: an empty patch (the browser keeps it)
    assert again["patch"] == {"data": {}, "frames": {}, "runs": {}} and again["base"] == again["rev"] == data["rev"]


def test_figures_are_built_once_per_server_and_bounded():
    built = []
    shared = Memo("test.two", 10**6, max_entries=2)
    for name in ("a", "b", "a", "c", "a", "b"):
        shared.get(name, lambda name=name: built.append(name) or {"name": name})
    assert built == ["a", "b", "c", "b"] and len(shared) == 2  # "b" was the least recently used
    one, two = page({"scene": "saddle_escape"}), page({"scene": "saddle_escape"})  # two visitors, one figure
    assert sent_spec(one) is sent_spec(two)


def test_the_3d_view_keeps_the_learning_rates_and_table_under_its_plot():
    at = page({"ls": "rosenbrock", "r0": "adam", "r1": "sgd", "view": "3d"})
    data = chart_data(at)
    assert data["spec"] is None and charts(at)[0]["data"][0]["type"] == "surface"
    assert len(data["controls"]) == 2 and len(table_rows(at)) == 1 + 2
    ok(move_lr(at, 0, 0.025))
    assert url_of(at)["r0"] == "adam:learning_rate=0.025" and chart_data(at)["spec"] is None


def test_update_rules_are_shown():
    at = page({"scene": "adagrad_stalls"})
    body = texts(at)
    assert "Update rules" in body and body.count("<math") >= 5 and "$$" not in body  # 3 rules, 5 equations
    assert "AdaGrad" in body and "RMSProp" in body
    # one element holds every card (each element is applied on its own when the fragment reruns)
    (cards,) = [m.value for m in at.markdown if "Update rules" in m.value]
    rules = {r.rule.name: r.rule for r in scene_of(at).runs}.values()
    assert len(rules) == 3 and all(f"**{r.title}**" in cards for r in rules)
    assert cards.count("<div") == cards.count("</div>") == 1 + 2 * len(rules)


@pytest.mark.parametrize("name", optimizers.names())
def test_every_rules_equations_are_drawn_as_mathml(name):
    """The cards draw each equation as MathML (viz.common.text.block_math: no KaTeX): every
    equation converts, one <math> each, with every digit of the LaTeX among its numbers."""
    from viz.common.text import block_math, equations

    rule = optimizers.get(name)
    eqs = equations(rule.latex)
    assert eqs and "=" in eqs[0], eqs
    for eq in eqs:
        mathml = block_math(eq)
        assert mathml.startswith("<math") and mathml.endswith("</math>") and mathml.count("<math") == 1, eq
        assert "merror" not in mathml and "<code>" not in mathml, eq
        numbers = "".join(re.findall(r"<mn>([^<]*)</mn>", mathml))
        assert sorted(re.findall(r"\d", eq)) == sorted(re.findall(r"\d", numbers)), (eq, numbers)


# --- sharing: the URL round trip ---------------------------------------------------------------

def test_url_round_trip_through_a_new_session():
    at = page()
    ok(at.selectbox(key="landscape").set_value("ravine").run())
    ok(move_lr(at, 6, 0.1))
    ok(at.radio(key="edit_run").set_value(1).run())
    ok(at.button(key="run1_remove").click().run())
    ok(type_steps(at, 3000))
    ok(at.radio(key="clip_kind").set_value("value").run())
    ok(at.number_input(key="noise").set_value(0.5).run())
    ok(at.slider(key="span").set_value((10, 500)).run())
    ok(at.multiselect(key="panels").unselect("dist").run())
    ok(at.radio(key="edit_run").set_value(0).run())
    ok(at.text_input(key="run0_label").input("slow one").run())
    first = scene_of(at)
    query = url_of(at)

    other = page(query)  # a new visitor opens the link
    assert scene_of(other) == first
    assert not other.warning
    assert url_of(other) == query
    for key in ("landscape", "schedule"):
        assert other.selectbox(key=key).value == at.selectbox(key=key).value
    assert other.slider(key="span").value == (10, 500)
    assert charts(other) == charts(at)
    assert {k: v for k, v in chart_data(other).items() if k not in ("spec", "base", "patch")} == \
        {k: v for k, v in chart_data(at).items() if k not in ("spec", "base", "patch")}


def test_changing_numbers_never_recompiles():
    """A hyperparameter, the start or the step count within its size bucket: no new program."""
    from optimizers.runner import simulate

    from viz.race import compute

    at = page({"scene": "adam_vs_sgd"})
    for _ in range(2):  # its programs (the page may have had its runs from the cache); twice: if
        compute.run_scene(scene_of(at))  # making them cleared the store, the second run remakes them
    before = simulate.programs_made()
    ok(move_lr(at, 2, 0.025))
    ok(at.radio(key="edit_run").set_value(2).run())
    ok(at.select_slider(key="run2_adam_b1").set_value(0.8).run())
    ok(type_start(at, {"x": -1.0, "y": chart_data(at)["start"]["y"]}))
    ok(type_steps(at, 4500))  # 5000 and 4500: one bucket
    ok(at.number_input(key="seed").set_value(3).run())  # the seed is a number too
    assert simulate.programs_made() == before
    assert scene_of(at).runs[2].hp["b1"] == 0.8


def test_sessions_do_not_leak_into_each_other():
    a = page()
    b = page()
    ok(type_steps(a, 777))
    ok(b.run())
    assert scene_of(b).steps == 10_000 and url_of(b)["steps"] == "10000"


# --- malformed and hostile URLs -------------------------------------------------------------

MALFORMED = [
    {"junk": "x" * 10_000},
    {"ls": "nope"},
    {"ls": "rosenbrock", "r0": "sgdx:learning_rate=0.1", "r1": "adam"},
    {"r0": "adam:learning_rate=nan"},
    {"r0": "adam:learning_rate=inf,b1=-inf"},
    {"r0": "adam:learning_rate=-0.1"},
    {"r0": "adam:learning_rate=abc"},
    {"steps": "-5"},
    {"steps": str(10 ** 12)},
    {"steps": "NaN"},
    {"ls": "custom", "f": "__import__('os').system('touch /tmp/pwned')"},
    {"ls": "custom", "f": "().__class__.__bases__[0].__subclasses__()"},
    {"ls": "custom", "f": "9**9**9"},  # parses, but is not finite anywhere
    {"ls": "custom", "f": "x**2", "dom": "0,0,0,0"},
    {"steps": ["100", "200"]},  # duplicated key
    {"ls": "rosenbröck", "🙂": "∞"},  # unicode
    {"start": "1e308,-1e308"},
    {"sched": "cosine:decay_steps=-4"},
    {"clip": "norm:abc"},
    {"noise": "1e99", "seed": "-7"},
    {"span": "500,5"},
    {"view": "<script>"},
    {"v": "2", "scene": "../../etc/passwd"},
    {f"k{i}": str(i) for i in range(80)},
    {"r0": "adam", "l0": "[click](javascript:alert(1))"},
    {"panels": "loss,,,\x00"},
]


@pytest.mark.parametrize("query", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_url_warns_and_renders(query):
    at = page(query)
    assert at.warning, "a visible warning"
    assert "could not be used" in at.warning[0].value
    assert len(chart_jsons(at)) == 1
    assert len(chart_jsons(at)[0]) < MAX_BYTES
    s = scene_of(at)
    assert decode(encode(s)) == (s, [])  # the cleaned URL is valid
    assert url_of(at) == encode(s)  # ... and replaces the bad one
    assert not Path("/tmp/pwned").exists()
    ok(at.run())  # and the page keeps working


def test_a_typed_run_label_cannot_break_the_results_table():
    at = page({"scene": "adam_vs_sgd"})
    ok(at.radio(key="edit_run").set_value(0).run())
    ok(at.text_input(key="run0_label").input("a | b [x](javascript:1) <b>").run())
    rows = table_rows(at)
    assert len(rows) == 1 + len(scene_of(at).runs)
    label = scene_of(at).runs[0].label  # (viz.common.runs.clean_label keeps letters and some marks)
    assert "javascript" in label and rows[1][0] == label and len(rows[1]) == 6  # text, as kept
    assert chart_data(at)["controls"][0]["name"] == label
    # ... which the page shows as text: chart.js never writes HTML from the data
    (main,) = [c for c in at.get("bidi_component") if c.proto.component_name == chart.NAME]
    js = main.proto.js_content
    assert "textContent" in js and "innerHTML" not in js and "insertAdjacentHTML" not in js


def test_the_page_starts_loading_the_chart_library_and_widget_code_first():
    """viz/common/chart.py: the first element is a script that fetches Plotly's basic bundle (served
    from ./static) and preloads the widget code the page needs (names of the installed
    Streamlit's files)."""
    at = page()
    (script,) = [h.proto.body for h in at.sidebar.get("html")]  # (the share row's link box: main)
    assert script.startswith("<script>") and "app/static/plotly-basic.min.js" in script
    bundle = Path(APP).parent / "static" / "plotly-basic.min.js"
    from plotly.offline.offline import get_plotlyjs_version

    # the same Plotly.js as plotly.py's (the figures are written for it)
    head = f"plotly.js (basic - minified) v{get_plotlyjs_version()}".encode()
    assert bundle.stat().st_size > 1_000_000 and head in bundle.read_bytes()[:200]
    names = chart._chunk_files()
    assert any(n.startswith("Slider.") for n in names) and any(n.startswith("BidiComponent.") for n in names)
    js_dir = Path(chart.st.__file__).parent / "static" / "static" / "js"
    for name in names:
        assert (js_dir / name).is_file() and name in script
