"""The "Sweeps" page: SweepScene's URL codec (round trip, hostile links), the figure
builders (cell values = the SweepResult's), the click -> main-scene conversion, and the
page itself through AppTest (app_pages/sweeps.py opens alone).

Small grids and few steps (one compiled program per optimizer and size bucket), so this
file runs in well under a minute.
"""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from conftest import APP, PAGES, ok, open_page, url_of

from viz.sweeps import compute as swc
from viz.sweeps import figures as swf
from viz.common.runs import Run
from viz.race.link import decode as decode_scene
from viz.race.scene import Scene
from viz.sweeps.scene import (MAX_N, SweepScene, basin_click_scene, cell_from_point, decode, encode,
                             hyper_click_scene, max_n, to_query_string, tuned_scene)

STEPS = 120


def scene(**kw) -> Scene:
    base = dict(landscape="himmelblau", steps=STEPS,
                runs=(Run("momentum", {"learning_rate": 0.002}), Run("sgd", {"learning_rate": 0.005})))
    base.update(kw)
    return Scene(**base)


@pytest.fixture(scope="module")
def hyper():
    ss = SweepScene(scene(), mode="hyper", n=16)
    return ss, swc.run_hyper(swc.hyper_key(ss))


@pytest.fixture(scope="module")
def basin():
    ss = SweepScene(scene(), mode="basin", n=16)
    return ss, swc.run_basin(swc.basin_key(ss))


def decode_arrays(spec_arr):
    """A figure's typed array back to NumPy (or a plain list as is)."""
    import base64

    if isinstance(spec_arr, dict) and "bdata" in spec_arr:
        a = np.frombuffer(base64.b64decode(spec_arr["bdata"]), dtype=np.dtype(spec_arr["dtype"]).newbyteorder("<"))
        if "shape" in spec_arr:
            a = a.reshape([int(s) for s in spec_arr["shape"].split(",")])
        return a
    return np.asarray(spec_arr, dtype=float)


# --- SweepScene and its URL -----------------------------------------------------------------

def test_defaults_resolved():
    ss = SweepScene(scene(), mode="hyper")
    assert (ss.x, ss.y, ss.n, ss.color) == ("learning_rate", "momentum", 32, "final_loss")
    assert ss.xr == (2e-05, 0.04) and ss.yr == (0.0, 0.99)
    assert ss.x_log() and not ss.y_log()
    xs = ss.x_values()
    assert np.isclose(xs[0], 2e-5) and np.isclose(xs[-1], 0.04) and np.all(np.diff(np.log(xs)) > 0)
    sgd = SweepScene(scene(), mode="hyper", run=1)
    assert sgd.y == "none" and sgd.y_values() is None


@pytest.mark.parametrize("ss", [
    SweepScene(scene(), mode="hyper"),
    SweepScene(scene(), mode="hyper", run=1, n=64, color="steps"),
    SweepScene(scene(), mode="hyper", y="none", xr=(1e-4, 0.1), color="diverged"),
    SweepScene(scene(), mode="hyper", x="momentum", y="learning_rate", xr=(0.5, 0.95), yr=(1e-4, 1e-2)),
    SweepScene(scene(), mode="basin", n=24, color="steps", xr=(-4, 0), yr=(0, 4)),
    SweepScene(scene(), mode="tune", obj="auc", extra="momentum", xr=(1e-4, 1.0), n=12),
    SweepScene(scene(runs=()), mode="tune"),
    SweepScene(scene(start=(1.5, -2.0), steps=90000), mode="basin"),
])
def test_round_trip(ss):
    back, warnings = decode(encode(ss))
    assert warnings == [] and back == ss
    from viz.race.link import from_query_string

    assert from_query_string is not None  # the main codec is reused unchanged
    assert to_query_string(ss).startswith("v=1&ls=")


def test_main_keys_untouched():
    ss = SweepScene(scene(), mode="basin")
    q = encode(ss)
    main = {k: v for k, v in q.items() if not k.startswith("sw_")}
    sc, w = decode_scene(main)
    assert w == [] and sc == ss.scene


HOSTILE = [
    {"sw_mode": "nuke"},
    {"sw_mode": "hyper", "sw_n": "1e9"},
    {"sw_mode": "hyper", "sw_n": "-5"},
    {"sw_mode": "hyper", "sw_n": "abc"},
    {"sw_mode": "hyper", "sw_n": "nan"},
    {"sw_mode": "hyper", "sw_x": "__class__"},
    {"sw_mode": "hyper", "sw_y": "learning_rate"},
    {"sw_mode": "hyper", "sw_xr": "1,0"},
    {"sw_mode": "hyper", "sw_xr": "0,1"},  # log axis from 0
    {"sw_mode": "hyper", "sw_xr": "1e-300,1e300"},
    {"sw_mode": "hyper", "sw_yr": "inf,nan"},
    {"sw_mode": "hyper", "sw_xr": "1,2,3"},
    {"sw_mode": "hyper", "sw_run": "99"},
    {"sw_mode": "hyper", "sw_run": "0.5"},
    {"sw_mode": "hyper", "sw_color": "basin"},
    {"sw_mode": "basin", "sw_color": "<script>"},
    {"sw_mode": "basin", "sw_xr": "-1e9,1e9"},
    {"sw_mode": "tune", "sw_obj": "eval(1)"},
    {"sw_mode": "tune", "sw_extra": "__import__"},
    {"sw_mode": "tune", "sw_xr": "1e-9,100"},
    {"sw_mode": "hyper", "sw_bogus": "1"},
    {"sw_mode": ["hyper", "basin"]},
    {"sw_mode": "hyper", "sw_x": "x" * 5000},
    {"sw_mode": "hyper", "steps": "100000", "sw_n": "128"},  # too much work: shrunk
    {"ls": "nope", "sw_mode": "basin"},
    {"r0": "nope:learning_rate=1", "sw_mode": "hyper"},
    {"runs": "none", "sw_mode": "hyper", "sw_run": "3"},
]


@pytest.mark.parametrize("extra", HOSTILE)
def test_hostile_links_warn_and_default(extra):
    q = {"v": "1", "ls": "himmelblau", "steps": str(STEPS), "r0": "momentum:learning_rate=0.002", **extra}
    ss, warnings = decode(q)
    assert isinstance(ss, SweepScene) and warnings, extra
    assert ss.n <= max_n(ss.scene.steps, ss.mode) and ss.n <= MAX_N
    back, w2 = decode(encode(ss))
    assert back == ss and w2 == []


def test_decode_never_raises_on_junk():
    for junk in (None, 42, "sw_mode=hyper", {"sw_mode": None}, {1: 2}, {"sw_n": ["1", "2"] * 5000}):
        ss, _ = decode(junk)  # type: ignore[arg-type]
        assert isinstance(ss, SweepScene)


def test_constructor_rejects_invalid():
    for kw in (dict(mode="x"), dict(n=1), dict(n=129), dict(x="nope"), dict(y="learning_rate"),
               dict(xr=(0.1, 0.01)), dict(run=5), dict(color="basin"), dict(obj="nope")):
        with pytest.raises(ValueError):
            SweepScene(scene(), **kw)


# --- figures --------------------------------------------------------------------------------

def test_hyper_figure_cells_equal_result(hyper):
    ss, res = hyper
    assert res.shape == (16, 16)
    spec = swf.hyper_figure(ss, res).spec
    go.Figure(spec)  # valid Plotly
    heat = spec["data"][0]
    z = decode_arrays(heat["z"])
    want = np.log10(np.maximum(res.final_loss.astype(np.float64) - res.f_min, 1e-12))
    want = np.where(res.diverged, np.nan, want).astype(np.float32)
    np.testing.assert_array_equal(z, want)
    np.testing.assert_allclose(decode_arrays(heat["x"]), ss.x_values(), rtol=1e-6)
    np.testing.assert_allclose(decode_arrays(heat["y"]), ss.y_values(), rtol=1e-6)
    assert spec["layout"]["xaxis"]["type"] == "log" and spec["layout"]["yaxis"]["type"] == "linear"
    grid = [t for t in spec["data"] if t.get("name") == "cells"][0]
    assert len(decode_arrays(grid["x"])) == 16 * 16
    cd = decode_arrays(grid["customdata"])
    assert cd.shape == (256, 4)
    np.testing.assert_array_equal(cd[:, 2], res.steps_to_tol.ravel())
    assert "learning_rate = %{x" in grid["hovertemplate"] and "momentum = %{y" in grid["hovertemplate"]
    assert "final loss %{customdata[0]" in grid["hovertemplate"]
    assert any(t.get("name") == "current setting" for t in spec["data"])


def test_hyper_colours(hyper):
    ss, res = hyper
    for color in ("steps", "diverged"):
        spec = swf.hyper_figure(ss.replace(color=color), res).spec
        go.Figure(spec)
        z = decode_arrays(spec["data"][0]["z"])
        if color == "steps":
            want = np.where(res.diverged | (res.steps_to_tol < 0), np.nan, res.steps_to_tol)
        else:
            want = swf.outcome(res)
        np.testing.assert_array_equal(z, want.astype(np.float32))


def test_diverged_cells_distinct():
    ss = SweepScene(scene(), mode="hyper", n=8, xr=(1e-3, 10.0))
    res = swc.run_hyper(swc.hyper_key(ss))
    assert res.diverged.any()
    spec = swf.hyper_figure(ss, res).spec
    names = [t.get("name") for t in spec["data"]]
    assert "diverged" in names
    over = [t for t in spec["data"] if t.get("type") == "heatmap"][1]
    np.testing.assert_array_equal(np.isfinite(decode_arrays(over["z"])), res.diverged)
    assert not np.isfinite(decode_arrays(spec["data"][0]["z"])[res.diverged]).any()


def test_one_d_sweep_figure():
    ss = SweepScene(scene(), mode="hyper", run=1, n=8)
    res = swc.run_hyper(swc.hyper_key(ss))
    assert res.shape == (1, 8)
    spec = swf.hyper_figure(ss, res).spec
    go.Figure(spec)
    assert spec["layout"]["xaxis"]["type"] == "log"


def test_basin_figure(basin):
    ss, res = basin
    spec = swf.basin_figure(ss, res, (0.0, 0.0)).spec
    go.Figure(spec)
    z = decode_arrays(spec["data"][0]["z"])
    np.testing.assert_array_equal(z, np.where(res.nearest_minimum < 0, np.nan, res.nearest_minimum))
    assert set(np.unique(res.nearest_minimum)) == {0, 1, 2, 3}  # Himmelblau's four basins
    stars = [t for t in spec["data"] if t.get("marker", {}).get("symbol") == "star"]
    assert len(stars) == 4 and all(t["showlegend"] for t in stars)
    grid = [t for t in spec["data"] if t.get("name") == "starts"][0]
    assert len(decode_arrays(grid["x"])) == 256
    # start (x, y) of cell [iy, ix] is (xs[ix], ys[iy])
    gx, gy = decode_arrays(grid["x"]).reshape(16, 16), decode_arrays(grid["y"]).reshape(16, 16)
    np.testing.assert_allclose(gx[3, 5], ss.x_values()[5], rtol=1e-6)
    np.testing.assert_allclose(gy[3, 5], ss.y_values()[3], rtol=1e-6)
    np.testing.assert_allclose(res.starts[3, 5], [ss.x_values()[5], ss.y_values()[3]])
    steps = swf.basin_figure(ss.replace(color="steps"), res).spec
    go.Figure(steps)


def test_tune_figure_and_race():
    sc = scene(runs=(Run("momentum", {"learning_rate": 0.002}), Run("momentum", {"learning_rate": 1e-4})))
    ss = SweepScene(sc, mode="tune", n=8, xr=(1e-4, 0.05))
    outs = [swc.run_tune(k) for k in swc.tune_keys(ss)]
    assert all(o.best is not None for o in outs)
    assert outs[0].best == outs[1].best  # same optimizer, same everything else
    spec = swf.tune_figure(ss, outs, sc.labels()).spec
    go.Figure(spec)
    assert spec["layout"]["xaxis"]["type"] == "log"
    raced = tuned_scene(ss, [o.best for o in outs])
    assert [r.learning_rate for r in raced.runs] == [outs[0].best["learning_rate"]] * 2
    assert raced.landscape == sc.landscape and raced.steps == sc.steps


# --- click -> main scene --------------------------------------------------------------------

def test_click_conversion():
    ss = SweepScene(scene(start=(1.0, 1.0)), mode="hyper", n=16)
    xs, ys = ss.x_values(), ss.y_values()
    cell = cell_from_point({"x": float(xs[5]) * 1.0001, "y": float(ys[9])}, xs, ys, True, False)
    assert cell == (9, 5)
    main = hyper_click_scene(ss, xs[5], ys[9])
    assert main.runs[0].hp["learning_rate"] == pytest.approx(xs[5]) and main.runs[0].hp["momentum"] == pytest.approx(ys[9])
    assert main.runs[1] == ss.scene.runs[1] and main.start == (1.0, 1.0)
    back, w = decode_scene({k: v for k, v in __import__("viz.race.link", fromlist=["encode"]).encode(main).items()})
    assert w == [] and back == main
    for bad in (None, {}, {"x": "1"}, {"x": float("nan"), "y": 1}, {"x": True, "y": 1}, [1, 2]):
        assert cell_from_point(bad, xs, ys) is None
    b = SweepScene(scene(), mode="basin", n=16)
    m = basin_click_scene(b, -2.5, 99.0)
    assert m.start == (-2.5, b.yr[1]) and m.runs == b.scene.runs


# --- the page (AppTest) ---------------------------------------------------------------------

def page(query: dict) -> AppTest:
    """The sweeps page alone (app_pages/sweeps.py): a new visitor with ``query``."""
    return open_page(PAGES["sweeps"], query)


url = url_of


BASE = {"v": "1", "ls": "himmelblau", "steps": str(STEPS), "r0": "momentum:learning_rate=0.002",
        "r1": "sgd:learning_rate=0.005"}


def test_page_modes_and_url():
    at = page({**BASE, "sw_mode": "hyper", "sw_n": "16"})
    assert not at.warning
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert url(at)["sw_mode"] == "hyper" and url(at)["sw_n"] == "16"
    at.radio(key="swp_color_hyper").set_value("steps").run()
    assert not at.exception and url(at)["sw_color"] == "steps"
    at.selectbox(key="swp_y").set_value("none").run()
    assert not at.exception and url(at)["sw_y"] == "none"
    at.radio(key="swp_mode").set_value("basin").run()
    assert not at.exception and url(at)["sw_mode"] == "basin"
    at.select_slider(key="swp_n").set_value(16).run()
    assert url(at)["sw_n"] == "16"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sum(1 for t in spec["data"] if t.get("marker", {}).get("symbol") == "star") == 4
    at.radio(key="swp_mode").set_value("tune").run()
    assert not at.exception and url(at)["sw_mode"] == "tune"
    assert any(b.label == "Race them at their best" for b in at.button)
    # URL round trip: a new visitor with this URL sees the same sweep
    again = page(url(at))
    assert again.session_state["_sweep"] == at.session_state["_sweep"]


def test_page_invalid_range_refused():
    at = page({**BASE, "sw_mode": "hyper", "sw_n": "16"})
    at.number_input(key="swp_xlo").set_value(1.0).run()  # lo above hi
    assert not at.exception
    assert any("settings" in w.value for w in at.warning)
    assert at.session_state["_sweep"].xr == (2e-05, 0.04)


def test_page_malformed_link_warns():
    at = page({**BASE, "sw_mode": "hyper", "sw_n": "abc", "sw_x": "__class__", "sw_zz": "1"})
    text = "\n".join(w.value for w in at.warning)
    assert "sw\\_n" in text and "sw\\_zz" in text
    assert url(at)["sw_mode"] == "hyper" and "sw_zz" not in url(at)


def test_a_clicked_cell_opens_on_the_race_page_through_the_navigation():
    """Through app.py's navigation, a chosen cell switches to the race page (st.switch_page,
    public API) with that scene's link; alone, the page shows the link instead."""
    at = ok(AppTest.from_file(str(APP), default_timeout=120).run())
    at.query_params.clear()
    at.switch_page("app_pages/sweeps.py")
    for k, v in {**BASE, "sw_mode": "hyper", "sw_n": "8"}.items():
        at.query_params[k] = v
    ok(at.run())
    assert isinstance(at.session_state["_sweep"], SweepScene)
    chosen = scene(start=(1.5, -0.5))
    at.session_state["_sweep_goto"] = chosen
    ok(at.run())
    assert at.session_state["_scene"] == chosen
    assert decode_scene(url_of(at))[0] == chosen
    alone = page({**BASE, "sw_mode": "hyper", "sw_n": "8"})
    alone.session_state["_sweep_goto"] = chosen
    ok(alone.run())
    assert any("Open this on the race page" in i.value for i in alone.info)
