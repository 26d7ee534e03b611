"""The race chart's direct route (viz/race/direct.py): a learning rate, a typed start, a click or
the steps answered over HTTP before the page's rerun.  Its answer must be what the page would draw after
the same change, named as the page names it; everything else goes the page's way (409), and
an untrusted body gets a clear refusal, never an exception.  (The real route in a real browser:
tests/test_browser.py.)"""

from __future__ import annotations

import itertools
import json

import orjson
import pytest

from conftest import ok, url_of
from test_app import SENT, _spec_of, chart_data, move_lr, page, scene_of, set_param, type_start, type_steps
from viz.common import chart
from viz.race import cached, defaults, direct, figures, link, presets
from viz.race.scene import MAX_RUNS, Run, Scene

OK, BAD, PAGES_WAY, TOO_LARGE = 200, 400, 409, 413


def ask(q: str, kind: str, value) -> tuple[int, dict | None]:
    status, data = direct.answer(orjson.dumps({"q": q, "kind": kind, "value": value}))
    return status, (json.loads(data) if status == OK else None)


_FRESH = itertools.count()


def compiled(scene: Scene) -> Scene:
    """``scene``, its runs' programs compiled in this process: its runs from a start no one asked
    before (results the process holds, e.g. a page's, or the shipped default scene's, say
    nothing of its programs, which the server keeps a bounded number of)."""
    start = (0.1 + 1e-3 * next(_FRESH), 0.5)
    cached.scene_results(scene.replace(start=start), cached.landscape(scene.landscape_key()))
    return scene


def drawn(base_spec: dict, data: dict) -> dict:
    """What the chart draws from the answer ``data`` when it shows ``base_spec``."""
    spec = chart.apply_patch(base_spec, data["patch"]) if data.get("patch") is not None else data["spec"]
    return figures.expand_frames(json.loads(json.dumps(spec)))


def test_a_learning_rate_draws_what_the_page_draws_after_it_and_the_page_sends_nothing_again():
    at = page()
    compiled(scene_of(at))
    q, shown = at.session_state[SENT], chart.SPECS.peek(at.session_state[SENT])
    controls = chart_data(at)["controls"]
    value = controls[2]["values"][controls[2]["at"] + 1]
    sent = {"keys": [c["key"] for c in controls], "values": [c["values"][c["at"]] for c in controls]}
    sent["values"][2] = value
    status, data = ask(q, "lr", sent)
    assert status == OK and data["base"] == q and len(data["patch"]["data"]) < len(shown["data"]) / 2
    # the page after the same change: the same name (the URL) and the same figure
    at.session_state[SENT] = data["rev"]  # what cached.took does with the trigger's "have"
    ok(move_lr(at, 2, value))
    assert link.to_query_string(scene_of(at)) == data["rev"]
    assert drawn(shown, data) == figures.expand_frames(_spec_of(scene_of(at)))
    again = chart_data(at)  # the chart has it: an empty patch, nothing drawn again
    assert again["rev"] == again["base"] == data["rev"] and again["patch"]["data"] == {}
    assert data["table"] == again["table"] and data["controls"] == again["controls"]


@pytest.mark.parametrize("kind", ["start", "click"])
def test_a_start_typed_or_clicked_draws_what_a_new_visitor_of_the_link_sees(kind):
    at = page()
    compiled(scene_of(at))
    q, shown = at.session_state[SENT], chart.SPECS.peek(at.session_state[SENT])
    value = {"x": -1.25, "y": 1.75} | ({"curve": 0} if kind == "click" else {})
    status, data = ask(q, kind, value)
    assert status == OK
    ok(type_start(at, {"x": -1.25, "y": 1.75}))
    assert link.to_query_string(scene_of(at)) == data["rev"] and "start=-1.25,1.75" in data["rev"]
    assert drawn(shown, data) == drawn(shown, chart_data(at)) == drawn({}, chart_data(page(url_of(at), chart_first=True)))
    # and back to the landscape's own start (the Reset button)
    status, back = ask(data["rev"], "start", {"reset": True})
    assert status == OK and back["rev"] == q


def test_the_steps_draw_what_a_new_visitor_of_the_link_sees():
    """New steps (within the programs' size bucket: no compiler) go the route's way; the
    animation's range goes back to every step, as on the page."""
    at = page({"scene": "adam_vs_sgd"})
    compiled(scene_of(at))
    at.slider(key="span").set_value((10, 500))
    ok(at.run())
    q, shown = at.session_state[SENT], chart.SPECS.peek(at.session_state[SENT])
    new = scene_of(at).steps - 100
    status, data = ask(q, "steps", {"steps": new + 0.2})  # (rounded, as the page rounds it)
    assert status == OK and data["steps"]["value"] == new
    ok(type_steps(at, new))
    assert link.to_query_string(scene_of(at)) == data["rev"] and f"steps={new}" in data["rev"]
    assert scene_of(at).span is None and at.slider(key="span").value == (0, new)
    assert drawn(shown, data) == drawn(shown, chart_data(at)) == drawn({}, chart_data(page(url_of(at), chart_first=True)))
    for ignored in ({"steps": "9"}, None, {"steps": True}, {"steps": float("nan")}, [new], new,
                    {"steps": new}):  # (the last: the same, no change)
        assert ask(data["rev"], "steps", ignored)[0] == PAGES_WAY, ignored


def test_a_run_added_or_removed_by_the_charts_buttons_draws_what_a_new_visitor_of_the_link_sees():
    """The chart's "Add a run" and a run's remove button: answered like the sidebar's buttons
    (state.on_add_run, on_remove_run: the same scene), as a new visitor of the link sees it; a
    button on a page one behind (another count, a key no run has now) goes the page's way."""
    at = page({"scene": "adam_vs_sgd"})
    compiled(scene_of(at))
    q, shown = at.session_state[SENT], chart.SPECS.peek(at.session_state[SENT])
    n, keys = len(scene_of(at).runs), [c["key"] for c in chart_data(at)["controls"]]
    assert chart_data(at)["add"] == {"n": n, "max": MAX_RUNS}
    status, gone = ask(q, "remove", {"key": keys[0], "n": n})
    assert status == OK
    ok(at.radio(key="edit_run").set_value(0).run())
    ok(at.button(key="run0_remove").click().run())  # the sidebar's way: the same scene
    assert link.to_query_string(scene_of(at)) == gone["rev"]
    assert drawn(shown, gone) == drawn({}, chart_data(page(url_of(at), chart_first=True)))
    compiled(defaults.with_run_added(scene_of(at)))  # (its new optimizer: else the page's way)
    status, back = ask(gone["rev"], "add", {"n": n - 1})
    assert status == OK and gone["add"] == {"n": n - 1, "max": MAX_RUNS}
    ok(at.button(key="add_run").click().run())
    assert link.to_query_string(scene_of(at)) == back["rev"] and len(scene_of(at).runs) == n
    assert drawn(chart.apply_patch(shown, gone["patch"]), back) == drawn({}, chart_data(page(url_of(at), chart_first=True)))
    # (the figure keeps a place for every run: a run added or removed is a patch, not a new figure)
    assert gone["patch"]["run_count"] == n - 1 and back["patch"]["run_count"] == n
    for stale in ({"n": n}, {"n": True}, {"n": "1"}, None, [n - 1], n - 1):
        assert ask(gone["rev"], "add", stale)[0] == PAGES_WAY, stale
    # a second click on a page one behind (the run in that place now is another of the same
    # optimizer), no such run, a malformed value
    for stale in ({"key": keys[0], "n": n}, {"key": keys[-1], "n": n - 1}, {"key": keys[1]},
                  {"key": 0, "n": n - 1}, {"key": keys[1], "n": True}, keys[1], None):
        assert ask(gone["rev"], "remove", stale)[0] == PAGES_WAY, stale
    full = link.to_query_string(presets.PRESETS[presets.DEFAULT_PRESET].scene)  # eight runs: the most
    assert ask(full, "add", {"n": MAX_RUNS})[0] == PAGES_WAY


def test_a_landscape_parameter_draws_what_a_new_visitor_of_the_link_sees():
    at = page({"ls": "quadratic", "r0": "adam", "r1": "sgd"})
    compiled(scene_of(at))  # (and the landscape's grid program: a grid this process may hold says nothing of it)
    cached.cached_grid(scene_of(at).replace(landscape_params={"condition": 7.0 + 1e-3 * next(_FRESH)}).landscape_key())
    q, shown = at.session_state[SENT], chart.SPECS.peek(at.session_state[SENT])
    status, data = ask(q, "param", {"key": "lp_quadratic_condition", "value": 12.5})
    assert status == OK and data["params"][0]["values"][data["params"][0]["at"]] == 12.5
    ok(set_param(at, {"key": "lp_quadratic_condition", "value": 12.5}))
    assert link.to_query_string(scene_of(at)) == data["rev"] and "quadratic:condition=12.5" in url_of(at)["ls"]
    assert drawn(shown, data) == drawn(shown, chart_data(at)) == drawn({}, chart_data(page(url_of(at), chart_first=True)))
    for ignored in ({"key": "lp_quadratic_condition", "value": 12.6}, {"key": "lp_quadratic_angle", "value": "5"},
                    {"key": "lp_quadratic_condition", "value": 12.5}, None):  # (the last: no change)
        assert ask(data["rev"], "param", ignored)[0] == PAGES_WAY, ignored
    custom = link.to_query_string(Scene(landscape="custom", formula="x**2 + y**2", runs=(Run("sgd", {"learning_rate": 0.1}),)))
    assert ask(custom, "param", {"key": "lp_custom_a", "value": 1.0})[0] == PAGES_WAY


def test_the_chart_says_which_figure_it_has_in_the_trigger():
    assert chart.had({"x": 1, "y": 2, "have": "ls=rosenbrock"}) == "ls=rosenbrock"
    for value in (None, "ls=x", [], {"x": 1}, {"have": 3}, {"have": ""}, {"have": ["a"]},
                  {"have": "q" * 100_000}):
        assert chart.had(value) is None, value


def _default_query() -> str:
    """The default scene's query, its programs compiled (as a page that drew it has them)."""
    scene = compiled(presets.PRESETS[presets.DEFAULT_PRESET].scene)
    cached.cached_grid(scene.landscape_key())
    return link.to_query_string(scene)


def test_what_it_cannot_read_is_refused_plainly():
    q = _default_query()
    assert direct.answer(b"")[0] == BAD
    assert direct.answer(b"{not json")[0] == BAD
    assert direct.answer(b"[1, 2]")[0] == BAD
    assert direct.answer(orjson.dumps({"q": 3, "kind": "lr"}))[0] == BAD
    assert direct.answer(orjson.dumps({"q": q, "kind": "__import__('os')"}))[0] == BAD
    assert direct.answer(b" " * (direct.MAX_BODY + 1))[0] == TOO_LARGE
    assert direct.answer(orjson.dumps({"q": q + "&x=" + "9" * direct.MAX_BODY, "kind": "lr"}))[0] == TOO_LARGE


def test_what_the_page_must_decide_goes_the_pages_way():
    q = _default_query()
    start = {"x": 0.5, "y": 0.5}
    assert ask(q, "start", start)[0] == OK
    # a link with warnings, one not in its canonical form, the 3-D view
    assert ask(q + "&bogus=1", "start", start)[0] == PAGES_WAY
    assert ask("&".join(reversed(q.split("&"))), "start", start)[0] == PAGES_WAY
    assert ask(q.replace("ls=", "zz="), "start", start)[0] == PAGES_WAY
    three_d = link.to_query_string(link.decode(q)[0].replace(view="3d"))
    assert ask(three_d, "start", start)[0] == PAGES_WAY
    # a change the page's checks ignore, or one that changes nothing
    assert ask(q, "start", {"x": "1", "y": 2})[0] == PAGES_WAY
    assert ask(q, "start", {"x": float("nan"), "y": 2})[0] == PAGES_WAY
    assert ask(q, "click", [1, 2])[0] == PAGES_WAY
    assert ask(q, "lr", {"keys": ["nope"], "values": [0.1]})[0] == PAGES_WAY
    assert link.decode(q)[0].start is None and ask(q, "start", {"reset": True})[0] == PAGES_WAY


def test_a_change_that_needs_a_compiler_goes_the_pages_way_and_then_comes_back():
    """A program not compiled yet (a formula only this test draws): the page shows that wait
    with its progress card, so the route says no; once compiled, yes."""
    scene = Scene(landscape="custom", formula="x**2 + 3.0625*y**2 + 0.0625*x*y + 0.25*x", steps=300,
                  runs=(Run("adam", {"learning_rate": 0.05}),))
    q = link.to_query_string(scene)
    with cached.no_compiler(), pytest.raises(cached.Slow):
        cached.cached_grid(scene.landscape_key())
    assert ask(q, "start", {"x": 1.5, "y": -1.0})[0] == PAGES_WAY
    L = cached.landscape(scene.landscape_key())
    cached.scene_results(scene.replace(start=(1.5, -1.0)), L)  # the page's way: compiled here
    cached.cached_grid(scene.landscape_key())
    status, data = ask(q, "start", {"x": 1.5, "y": -1.0})
    assert status == OK and data["rev"] == link.to_query_string(scene.replace(start=(1.5, -1.0)))
