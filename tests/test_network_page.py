"""The "Real network" page (issue 6): NetScene and its URL, the compute and figure builders,
and the page itself driven by streamlit.testing.v1.AppTest.

AppTest runs ``app_pages/network.py`` (the page alone) in this process, and app.py for the
navigation test; Plotly is not drawn, the figure's JSON is ``at.get("plotly_chart")[i].proto.spec``.
Widgets are found by their ``key=`` (all start with ``net_``).  Every run shares the
default configuration (digits, 64 relu units, batch 64, eval every 25) wherever it can, so
the compiled programs are reused.
"""

from __future__ import annotations

import json
import math
import struct
import zlib

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from conftest import APP, PAGES, ok, open_page, texts, url_of

from optimizers import train as train_mod
from viz.network import compute as nc
from viz.network import figures as nf
from viz.network.scene import (MAX_RUNS, MAX_STEPS, NetScene, decode, default_run, encode,
                               from_query_string, to_query_string)
from viz.common.runs import Run

MAX_BYTES = 600_000  # both figures together, JSON


# ==========================================================================================
# NetScene and its URL
# ==========================================================================================

def rich_scene() -> NetScene:
    return NetScene(
        dataset="spirals", hidden=(32, 16), activation="tanh", batch_size=32, steps=900, eval_every=50,
        seed=7, runs=(Run("sgd", {"learning_rate": 0.2}, label="plain"),
                      Run("adam", {"learning_rate": 0.005, "b1": 0.8}, lookahead=True),
                      Run("rmsprop", {"learning_rate": 0.002}, raw=True)),
        schedule="cosine", schedule_params={"decay_steps": 900}, clip="norm", clip_at=2.0, noise=0.01,
        target=0.9, patience=10, converge_after=5, directions="random", center=1, span=2.5, grid=31)


def test_default_scene_and_its_url():
    s = NetScene()
    assert (s.dataset, s.hidden, s.activation, s.batch_size, s.steps, s.eval_every) == (
        "digits", (64,), "relu", 64, 600, 25)
    assert [r.optimizer for r in s.runs] == ["sgd", "momentum", "adam", "rmsprop"]
    q = encode(s)
    assert q == {"v": "1", "data": "digits", "steps": "600", "r0": "sgd:learning_rate=0.1",
                 "r1": "momentum:learning_rate=0.02", "r2": "adam:learning_rate=0.003",
                 "r3": "rmsprop:learning_rate=0.001"}
    assert decode(q) == (s, [])
    assert decode({}) == (s, [])
    assert hash(s) == hash(NetScene())  # frozen and hashable: a cache key


def test_every_field_round_trips_through_the_url():
    s = rich_scene()
    q = encode(s)
    assert q["hidden"] == "32,16" and q["act"] == "tanh" and q["r1"].startswith("adam~lookahead:")
    assert q["r2"].startswith("rmsprop~raw:") and q["l0"] == "plain" and q["dirs"] == "random"
    assert q["patience"] == "10" and q["converge"] == "5" and q["span"] == "2.5" and q["grid"] == "31"
    assert decode(q) == (s, [])
    assert from_query_string(to_query_string(s)) == (s, [])
    assert decode(encode(NetScene(runs=()))) == (NetScene(runs=()), [])


@pytest.mark.parametrize("kw", [
    dict(dataset="mnist"), dict(hidden=()), dict(hidden=(64,) * 5), dict(hidden=(300,)), dict(hidden=(3,)),
    dict(hidden="64"), dict(activation="swish"), dict(batch_size=0), dict(batch_size=1024),
    dict(steps=MAX_STEPS + 1), dict(steps=1.5), dict(steps=True), dict(eval_every=0), dict(seed=-1),
    dict(runs=(default_run("adam"),) * (MAX_RUNS + 1)), dict(runs=("adam",)), dict(schedule="nope"),
    dict(clip="maybe"), dict(noise=-1.0), dict(target=1.5), dict(target=float("nan")), dict(patience=0),
    dict(converge_after=10_000), dict(directions="up"), dict(center=4), dict(span=0.0),
    dict(span=float("inf")), dict(grid=7), dict(grid=101), dict(version=2),
    dict(schedule="warmup_cosine", schedule_params={"warmup_steps": 900, "decay_steps": 100}),
])
def test_netscene_refuses_invalid_values(kw):
    with pytest.raises(ValueError):
        NetScene(**kw)


MALFORMED = [
    {"junk": "x" * 10_000},  # 10 kB: ignored as a whole
    {"data": "mnist"},  # unknown dataset (and never a download)
    {"data": "../../etc/passwd"},
    {"r0": "sgdx:learning_rate=0.1", "r1": "adam"},  # unknown optimizer
    {"hidden": "100000,64", "r0": "adam"},  # huge layer (one run: fewer programs to compile)
    {"hidden": "64,64,64,64,64,64", "r0": "adam"},  # too many layers
    {"hidden": "abc"},
    {"steps": str(10 ** 12)},
    {"steps": "NaN"},
    {"steps": "-5", "eval": "0", "r0": "adam"},
    {"r0": "adam:learning_rate=nan"},
    {"r0": "adam:learning_rate=inf,b1=-inf"},
    {"r0": "adam:learning_rate=1e999"},
    {"batch": "1e9", "grid": "1000", "span": "abc", "r0": "sgd"},
    {"act": "<script>alert(1)</script>", "dirs": "sideways"},
    {"center": "9"},
    {"target": "NaN", "patience": "-3", "converge": "1e12"},
    {"sched": "cosine:decay_steps=-4", "clip": "norm:abc", "noise": "1e99", "r0": "adam"},
    {"steps": ["100", "200"]},  # duplicated key
    {"v": "2", "seed": "-7"},
    {f"k{i}": str(i) for i in range(80)},  # too many keys
    {"r0": "adam", "l0": "[click](javascript:alert(1))"},
    {"data": "moons", "r9": "adam", "l3": "orphan"},
    {"ls": "rosenbröck", "🙂": "∞"},
]


@pytest.mark.parametrize("query", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_decode_never_raises_and_warns(query):
    scene, warnings = decode(query)
    assert isinstance(scene, NetScene) and warnings
    assert all(isinstance(w, str) and len(w) < 400 for w in warnings)
    assert decode(encode(scene)) == (scene, [])  # the cleaned link is valid
    assert scene.steps <= MAX_STEPS and len(scene.hidden) <= 4 and max(scene.hidden) <= 256


def test_decode_clamps_and_says_so():
    s, w = decode({"steps": str(10 ** 12), "hidden": "100000,3", "grid": "1000"})
    assert s.steps == MAX_STEPS and s.hidden == (256, 4) and s.grid == 61
    assert any("steps" in x for x in w) and any("256" in x for x in w)
    s, w = decode({"r0": "adam:learning_rate=nan"})
    assert s.runs[0].learning_rate == 0.003 and "using 0.003" in w[0]  # the network's default
    s, w = decode({"center": "3", "runs": "none"})
    assert s.runs == () and s.center == 0 and w


def test_decode_survives_random_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    keys = st.sampled_from(["v", "data", "hidden", "act", "batch", "steps", "eval", "seed", "r0", "r1",
                            "l0", "runs", "sched", "clip", "noise", "target", "patience", "converge",
                            "dirs", "center", "span", "grid", "zz"])

    @settings(max_examples=300, deadline=None)
    @given(st.dictionaries(keys, st.text(max_size=60), max_size=12))
    def check(q):
        scene, warnings = decode(q)
        assert decode(encode(scene)) == (scene, [])

    check()


# ==========================================================================================
# Compute and figures (no Streamlit)
# ==========================================================================================

@pytest.fixture(scope="module")
def trained():
    s = NetScene()
    return s, [nc.train_run(s.train_key(i)) for i in range(len(s.runs))]


def test_train_run_matches_the_core(trained):
    s, res = trained
    r = res[2]  # adam
    ref = train_mod.train("digits", (64,), "relu", "adam", steps=600, batch_size=64, eval_every=25,
                          learning_rate=0.003, stopping=s.stopping())
    np.testing.assert_array_equal(r.val_acc, ref.val_acc)
    np.testing.assert_array_equal(r.weights[-1], ref.weights[-1])
    assert r.steps_to_target == ref.steps_to_target
    assert r.weights.shape == (25, r.n_params) and list(r.weight_steps) == list(range(0, 601, 25))
    assert all(x.val_acc[-1] > 0.95 for x in res)  # the defaults learn the digits


def test_weight_path_is_bounded():
    idx = nc._keep_rows(5001, 160)
    assert len(idx) <= 160 and idx[0] == 0 and idx[-1] == 5000


def test_pca_slice_centre_run_ends_at_the_origin(trained):
    s, res = trained
    sl = nc.slice_of(s.model_key(), res, "pca", 2, None, 41, s.seed)
    assert sl.kind == "pca" and sl.center == 2 and sl.note == ""
    np.testing.assert_allclose(sl.coords[2][-1], (0.0, 0.0), atol=1e-5)
    e = sl.explained
    assert 0 < e[1] <= e[0] <= 1 and e.sum() <= 1 + 1e-6
    assert sl.loss.shape == (41, 41) and np.isfinite(sl.loss).all()
    # the paths are framed: every run that did not diverge lies inside the grid
    for xy in sl.coords:
        assert sl.alphas[0] <= xy[:, 0].min() and xy[:, 0].max() <= sl.alphas[-1]
        assert sl.betas[0] <= xy[:, 1].min() and xy[:, 1].max() <= sl.betas[-1]
    # every run starts from the same weights (same seed): one projected start
    starts = np.stack([xy[0] for xy in sl.coords])
    np.testing.assert_allclose(starts, np.broadcast_to(starts[0], starts.shape), atol=1e-4)
    assert math.isclose(sl.center_loss, float(res[2].train_loss[-1]), rel_tol=1e-4)


def test_random_slice_and_explicit_span(trained):
    s, res = trained
    sl = nc.slice_of(s.model_key(), res, "random", 0, 0.5, 21, s.seed)
    assert sl.kind == "random" and sl.explained is None
    assert (sl.alphas[0], sl.alphas[-1], sl.betas[0], sl.betas[-1]) == (-0.5, 0.5, -0.5, 0.5)
    np.testing.assert_allclose(sl.coords[0][-1], (0, 0), atol=1e-5)
    auto = nc.slice_of(s.model_key(), res, "random", 0, None, 21, s.seed)
    assert auto.alphas[0] <= -1 and auto.alphas[-1] >= 1  # at least Li et al.'s [-1, 1]


def test_pca_needs_three_snapshots_else_random_with_a_note():
    s = NetScene(steps=25, eval_every=25, runs=(default_run("adam"),))
    res = [nc.train_run(s.train_key(0))]
    sl = nc.slice_of(s.model_key(), res, "pca", 0, None, 11, 0)
    assert sl.kind == "random" and "fewer than 3" in sl.note


def test_a_diverged_run_is_reported_and_kept_out_of_the_figures(trained):
    s = NetScene(runs=(default_run("adam"), Run("sgd", {"learning_rate": 10.0})))
    res = [nc.train_run(s.train_key(i)) for i in range(2)]
    assert res[1].stop_reason == "diverged" and res[1].diverged_at is not None
    rows = nc.summary_rows(res, s.labels(), s.target)
    assert "diverged" in rows[1]["stopped at"]
    sl = nc.slice_of(s.model_key(), res, "pca", 0, None, 21, 0)
    assert np.isfinite(sl.alphas).all() and abs(sl.alphas).max() < 1e3
    for fig in (nf.race_figure(res, s.labels(), s.target), nf.slice_figure(sl, s.labels())):
        text = json.dumps(fig.spec)
        assert "NaN" not in text and "Infinity" not in text


def test_stopping_rules_show_in_the_table():
    s = NetScene(runs=(default_run("adam"),), steps=2000, patience=3, converge_after=4, target=0.9)
    r = nc.train_run(s.train_key(0))
    assert r.stop_reason in ("converged", "patience") and r.stopped_at < 2000
    row = nc.summary_rows([r], s.labels(), s.target)[0]
    assert str(r.stopped_at) in row["stopped at"].replace(",", "")
    assert row["steps to 0.9 val acc"] == r.steps_to_target


def test_race_figure(trained):
    s, res = trained
    fig = nf.race_figure(res, s.labels(), s.target)
    go.Figure(fig.spec)  # valid Plotly
    lay = fig.spec["layout"]
    assert lay["yaxis"]["type"] == "log"  # loss, log y
    assert lay["yaxis2"]["tickformat"] == ".0%" and lay["yaxis2"]["range"][1] > 1
    assert "compiling excluded" in lay["xaxis3"]["title"]["text"]  # wall time
    names = [t["name"] for t in fig.spec["data"] if t.get("showlegend", True) is not False]
    assert names[:4] == s.labels()
    assert len(json.dumps(fig.spec)) < 100_000


def test_slice_figure_animation(trained):
    s, res = trained
    sl = nc.slice_of(s.model_key(), res, "pca", 0, None, 41, s.seed)
    fig = nf.slice_figure(sl, s.labels())
    spec = fig.spec
    go.Figure(spec)
    frames = spec["frames"]
    assert len(frames) == len(nf.frame_steps(sl)) == 25  # every evaluation, step 0 .. 600
    assert frames[-1]["name"] == "600" and frames[0]["name"] == "0"
    # the landscape is drawn once: a layout image, never in a frame; frames name only the
    # runs' path and head traces; redraw-free play on fixed axes
    assert spec["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
    assert not any(t.get("type") in ("contour", "heatmap") for t in spec["data"])
    ids = frames[0]["traces"]
    assert len(ids) == 2 * len(s.runs) and all(spec["data"][i]["type"] == "scatter" for i in ids)
    assert all(len(f["data"]) == len(ids) for f in frames)
    play = spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]
    assert play["frame"]["redraw"] is False
    assert "range" in spec["layout"]["xaxis"] and "range" in spec["layout"]["yaxis"]
    assert len(spec["layout"]["sliders"][0]["steps"]) == len(frames)
    # the share of variance is shown
    e1, e2 = (100 * float(v) for v in sl.explained)
    assert f"{e1:.1f} %" in spec["layout"]["xaxis"]["title"]["text"]
    assert f"{e2:.1f} %" in spec["layout"]["yaxis"]["title"]["text"]
    assert f"{e1 + e2:.1f} %" in nf.slice_caption(sl, s.labels()[0])
    # the centre run's last frame ends at the origin
    head = frames[-1]["data"][1]
    assert abs(head["x"][0]) < 1e-4 and abs(head["y"][0]) < 1e-4
    assert len(json.dumps(spec)) < 300_000


def test_frame_steps_are_thinned():
    sl = nc.NetSlice(alphas=np.zeros(3), betas=np.zeros(3), loss=np.zeros((3, 3)), accuracy=np.zeros((3, 3)),
                     coords=(np.zeros((5001, 2)),), steps=(np.arange(5001),), kind="random", explained=None,
                     center=0, center_loss=0.0, center_accuracy=0.0)
    f = nf.frame_steps(sl, 80)
    assert len(f) <= 80 and f[0] == 0 and f[-1] == 5000


def _png_pixels(uri: str) -> np.ndarray:
    """(h, w, 4) RGBA of a PNG data URI as viz.common.raster writes it (8-bit RGBA, no filters)."""
    import base64

    data = base64.b64decode(uri.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, kind = struct.unpack(">IIBB", data[16:26])
    assert (depth, kind) == (8, 6)
    pos, idat = 8, b""
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 4 * w)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 4)


def test_landscape_png_orientation_and_colours():
    vals = np.tile(np.linspace(0.0, 1.0, 11)[:, None], (1, 11))  # grows with beta (rows)
    img = _png_pixels(nf.landscape_png(vals, 0.0, 1.0, width=50))
    assert img.shape[1] == 50 and (img[..., 3] == 255).all()
    top, bottom = img[1, 25, :3].astype(int), img[-2, 25, :3].astype(int)
    assert top.sum() < bottom.sum()  # top row = largest beta = highest loss = darkest colour
    nan = vals.copy()
    nan[:, :3] = np.nan
    holes = _png_pixels(nf.landscape_png(nan, 0.0, 1.0, width=50))
    assert holes[20, 2, 3] == 0 and holes[20, 40, 3] == 255  # not finite: transparent


# ==========================================================================================
# The page (AppTest)
# ==========================================================================================

def page(query: dict | None = None) -> AppTest:
    """The network page alone (app_pages/network.py): a new visitor with ``query``."""
    return open_page(PAGES["network"], query, timeout=180)


def scene_of(at: AppTest) -> NetScene:
    return at.session_state["_net"]


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_default_page():
    at = page()
    s = scene_of(at)
    assert s == NetScene()
    race, sl = at.get("plotly_chart")
    assert len(race.proto.spec) + len(sl.proto.spec) < MAX_BYTES
    spec = json.loads(sl.proto.spec)
    assert len(spec["frames"]) == 25 and spec["layout"]["images"]
    assert not at.warning and not at.error
    assert url_of(at) == encode(s)
    df = at.table[0].value
    assert len(df) == 4 and "steps to 97 % val acc" in df.columns and "stopped at" in df.columns
    assert "training time (s)" in df.columns
    body = texts(at)
    assert "PC1 explains" in body and "Both together" in body
    assert any("v=1&data=digits" in c.value for c in at.code)  # the share link
    assert not at.button(key="net_add_run").disabled


def test_a_rerun_without_changes_keeps_everything():
    at = page()
    before = scene_of(at), [c.proto.spec for c in at.get("plotly_chart")]
    ok(at.run())
    assert (scene_of(at), [c.proto.spec for c in at.get("plotly_chart")]) == before


def test_data_and_model_controls():
    at = page({"runs": "none"})  # structure only: nothing to train
    ok(at.selectbox(key="net_data").set_value("moons").run())
    assert scene_of(at).dataset == "moons" and url_of(at)["data"] == "moons"
    ok(at.number_input(key="net_layers").set_value(2).run())
    assert scene_of(at).hidden == (64, 64) and url_of(at)["hidden"] == "64,64"
    ok(at.select_slider(key="net_h1").set_value(16).run())
    assert url_of(at)["hidden"] == "64,16"
    ok(at.selectbox(key="net_act").set_value("tanh").run())
    ok(at.select_slider(key="net_batch").set_value(32).run())
    ok(at.number_input(key="net_steps").set_value(300).run())
    ok(at.select_slider(key="net_eval").set_value(10).run())
    ok(at.number_input(key="net_seed").set_value(3).run())
    s = scene_of(at)
    assert (s.activation, s.batch_size, s.steps, s.eval_every, s.seed) == ("tanh", 32, 300, 10, 3)
    q = url_of(at)
    assert (q["act"], q["batch"], q["steps"], q["eval"], q["seed"]) == ("tanh", "32", "300", "10", "3")
    ok(at.number_input(key="net_layers").set_value(1).run())
    assert scene_of(at).hidden == (64,) and "hidden" not in url_of(at)
    assert any("No runs yet" in i.value for i in at.info)


def test_runs_add_edit_remove():
    at = page({"r0": "adam:learning_rate=0.003"})
    ok(at.button(key="net_add_run").click().run())
    s = scene_of(at)
    assert len(s.runs) == 2 and s.runs[1].optimizer == "sgd" and url_of(at)["r1"] == "sgd:learning_rate=0.1"
    ok(at.selectbox(key="net_run1_opt").set_value("nesterov").run())
    assert url_of(at)["r1"] == "nesterov:learning_rate=0.02"
    ok(at.select_slider(key="net_run1_nesterov_momentum").set_value(0.95).run())
    assert url_of(at)["r1"] == "nesterov:learning_rate=0.02,momentum=0.95"
    ok(at.toggle(key="net_run1_la").set_value(True).run())
    assert url_of(at)["r1"].startswith("nesterov~lookahead:")
    ok(at.number_input(key="net_run1_nesterov_sync_period").set_value(3).run())
    assert "sync_period=3" in url_of(at)["r1"]
    ok(at.toggle(key="net_run1_raw").set_value(True).run())
    assert url_of(at)["r1"].startswith("nesterov~lookahead~raw:")
    ok(at.text_input(key="net_run1_label").input("my <b>run</b>").run())
    assert scene_of(at).runs[1].label == "my brun/b" and url_of(at)["l1"] == "my brun/b"
    assert any(t.get("name") == "my brun/b" for t in charts(at)[0]["data"])
    ok(at.select_slider(key="net_run0_adam_learning_rate").set_value(0.01).run())
    assert url_of(at)["r0"] == "adam:learning_rate=0.01"
    ok(at.radio(key="net_edit").set_value(0).run())
    assert at.session_state["net_run0_adam_b1"] == 0.9
    ok(at.button(key="net_run0_remove").click().run())
    assert [r.optimizer for r in scene_of(at).runs] == ["nesterov"] and "r1" not in url_of(at)
    ok(at.button(key="net_run0_remove").click().run())
    assert scene_of(at).runs == () and url_of(at)["runs"] == "none"


def test_add_run_stops_at_the_maximum():
    at = page({"runs": "none"})
    for _ in range(MAX_RUNS):
        ok(at.button(key="net_add_run").click().run())
    assert len(scene_of(at).runs) == MAX_RUNS and at.button(key="net_add_run").disabled
    assert len({r.optimizer for r in scene_of(at).runs}) == MAX_RUNS  # each a new optimizer


def test_schedule_clipping_noise():
    at = page({"r0": "adam"})
    ok(at.selectbox(key="net_sched").set_value("cosine").run())
    assert url_of(at)["sched"] == "cosine"
    ok(at.number_input(key="net_sched_cosine_decay_steps").set_value(600).run())
    assert url_of(at)["sched"] == "cosine:decay_steps=600"
    ok(at.radio(key="net_clip_kind").set_value("norm").run())
    assert url_of(at)["clip"] == "norm:1"
    ok(at.select_slider(key="net_clip_at").set_value(0.5).run())
    assert url_of(at)["clip"] == "norm:0.5"
    ok(at.number_input(key="net_noise").set_value(0.01).run())
    assert url_of(at)["noise"] == "0.01" and scene_of(at).noise == 0.01
    ok(at.selectbox(key="net_sched").set_value("warmup_cosine").run())
    ok(at.number_input(key="net_sched_warmup_cosine_warmup_steps").set_value(6000).run())
    assert at.warning  # decay_steps must exceed warmup_steps: said, previous scene kept
    assert scene_of(at).schedule_params[0] == ("warmup_steps", 500.0)


def test_target_and_stopping_rules():
    at = page({"r0": "adam", "steps": "1500"})
    ok(at.select_slider(key="net_target").set_value(0.95).run())
    assert url_of(at)["target"] == "0.95" and "steps to 95 % val acc" in at.table[0].value.columns
    ok(at.toggle(key="net_pat_on").set_value(True).run())
    assert url_of(at)["patience"] == "20"
    ok(at.number_input(key="net_pat").set_value(5).run())
    ok(at.toggle(key="net_conv_on").set_value(True).run())
    ok(at.number_input(key="net_conv").set_value(3).run())
    s = scene_of(at)
    assert (s.patience, s.converge_after) == (5, 3) and url_of(at)["converge"] == "3"
    stopped = at.table[0].value["stopped at"].iloc[0]
    assert "converged" in stopped or "no better" in stopped
    ok(at.toggle(key="net_pat_on").set_value(False).run())
    assert "patience" not in url_of(at)


def test_slice_controls():
    at = page()
    ok(at.selectbox(key="net_center").set_value(2).run())
    assert url_of(at)["center"] == "2"
    spec = charts(at)[1]
    assert "Adam" in spec["data"][-1]["name"]  # the centre marker names the run
    ok(at.radio(key="net_dirs").set_value("random").run())
    assert url_of(at)["dirs"] == "random"
    assert "random direction 1" in charts(at)[1]["layout"]["xaxis"]["title"]["text"]
    ok(at.toggle(key="net_span_auto").set_value(False).run())
    assert url_of(at)["span"] == "1"
    ok(at.select_slider(key="net_span").set_value(0.5).run())
    assert url_of(at)["span"] == "0.5" and charts(at)[1]["layout"]["xaxis"]["range"] == [-0.5, 0.5]
    ok(at.select_slider(key="net_grid").set_value(21).run())
    assert url_of(at)["grid"] == "21"
    ok(at.button(key="net_restart").click().run())
    assert scene_of(at) == NetScene() and url_of(at) == encode(NetScene())


def test_removing_the_centre_run_moves_the_centre():
    at = page({"center": "3"})
    ok(at.radio(key="net_edit").set_value(3).run())
    ok(at.button(key="net_run3_remove").click().run())
    s = scene_of(at)
    assert len(s.runs) == 3 and s.center == 0 and "center" not in url_of(at)


def test_url_round_trip_through_a_new_session():
    at = page()
    ok(at.selectbox(key="net_act").set_value("tanh").run())
    ok(at.select_slider(key="net_run1_momentum_learning_rate").set_value(0.05).run())
    ok(at.radio(key="net_edit").set_value(3).run())
    ok(at.button(key="net_run3_remove").click().run())
    ok(at.number_input(key="net_steps").set_value(400).run())
    ok(at.radio(key="net_clip_kind").set_value("value").run())
    ok(at.toggle(key="net_conv_on").set_value(True).run())
    ok(at.selectbox(key="net_center").set_value(1).run())
    ok(at.radio(key="net_edit").set_value(0).run())
    ok(at.text_input(key="net_run0_label").input("slow one").run())
    first = scene_of(at)
    query = url_of(at)
    assert decode(query) == (first, [])

    other = page(query)  # a new visitor opens the link
    assert scene_of(other) == first and not other.warning
    assert url_of(other) == query
    assert other.selectbox(key="net_act").value == "tanh"
    assert other.selectbox(key="net_center").value == 1
    assert [c.proto.spec for c in other.get("plotly_chart")] == [c.proto.spec for c in at.get("plotly_chart")]


def test_changing_numbers_never_recompiles():
    at = page()
    for k in scene_of(at).train_keys():  # its programs (the page may have had its runs from the cache)
        nc.train_run(k)
    before = train_mod.compile_count()
    ok(at.select_slider(key="net_run2_adam_learning_rate").set_value(0.001).run())
    ok(at.number_input(key="net_steps").set_value(450).run())
    ok(at.number_input(key="net_seed").set_value(5).run())
    ok(at.select_slider(key="net_target").set_value(0.9).run())
    assert train_mod.compile_count() == before


def test_sessions_do_not_leak_into_each_other():
    a = page()
    b = page()
    ok(a.number_input(key="net_steps").set_value(300).run())
    ok(b.run())
    assert scene_of(b).steps == 600 and url_of(b)["steps"] == "600"


@pytest.mark.parametrize("query", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_url_warns_and_renders(query):
    at = page(query)
    assert at.warning, "a visible warning"
    assert "could not be used" in at.warning[0].value
    s = scene_of(at)
    assert decode(encode(s)) == (s, [])
    assert url_of(at) == encode(s)  # the cleaned link replaces the bad one
    if s.runs:
        assert len(at.get("plotly_chart")) == 2
        assert sum(len(c.proto.spec) for c in at.get("plotly_chart")) < MAX_BYTES
    assert "<script>" not in texts(at).replace("\\<script\\>", "")
    ok(at.run())  # and the page keeps working


def test_page_through_the_app_navigation():
    """app.py lists the page (url_path "network"): open it there (st.navigation, public API)."""
    at = ok(AppTest.from_file(str(APP), default_timeout=180).run())
    at.query_params.clear()  # a browser drops the old page's query when it changes pages
    ok(at.switch_page("app_pages/network.py").run())
    assert at.session_state["_net"] == NetScene()
    assert len(at.get("plotly_chart")) == 2 and url_of(at) == encode(NetScene())


def test_a_heavy_view_waits_for_a_click(monkeypatch):
    heavy = {"hidden": "256,256,256,256", "batch": "512", "steps": "5000", "eval": "1", "grid": "61"}
    assert nc.estimate_seconds(decode(heavy)[0]) > 100
    at = page(heavy)  # a link cannot make the server compute for minutes unasked
    assert not at.get("plotly_chart") and "s** of computing" in at.warning[0].value
    assert at.button(key="net_go") and url_of(at)["hidden"] == "256,256,256,256"

    from viz.network import state

    monkeypatch.setattr(state, "HEAVY_SECONDS", 0.0)
    at = page()
    assert not at.get("plotly_chart")
    ok(at.button(key="net_go").click().run())
    assert len(at.get("plotly_chart")) == 2
    ok(at.select_slider(key="net_run0_sgd_learning_rate").set_value(0.05).run())
    assert len(at.get("plotly_chart")) == 2  # as costly as what was confirmed: no new question


def test_estimate_grows_with_the_work():
    base = nc.estimate_seconds(NetScene())
    assert base < 2
    for kw in (dict(steps=1200), dict(batch_size=128), dict(eval_every=5), dict(grid=61),
               dict(hidden=(128,)), dict(runs=NetScene().runs + (default_run("nadam"),))):
        assert nc.estimate_seconds(NetScene(**kw)) > base


HOSTILE = {"hidden": ",".join(["9999"] * 100), "steps": "-1", "batch": "1e308", "act": "__import__",
           "grid": "1e9"}


def test_a_hostile_link_is_clamped_and_still_trains_and_draws():
    """Every value out of range: a warning names them, and the clamped scene (the smallest
    steps, the largest batch, the default activation, the largest grid) trains and draws both
    figures (or, if it is estimated heavy, offers the click and draws after it)."""
    at = page(HOSTILE)
    assert at.warning and "could not be used" in at.warning[0].value
    s = scene_of(at)
    assert s.steps == 1 and s.batch_size == 512 and s.activation == NetScene().activation
    assert 1 <= len(s.hidden) <= 4 and max(s.hidden) <= 256 and s.grid <= 61
    if not at.get("plotly_chart"):  # a heavy view: the visitor clicks "Compute it"
        ok(at.button(key="net_go").click().run())
    race, sl = charts(at)
    assert race["data"] and sl["data"]
    assert any(np.isfinite(np.asarray(t.get("y") or [], float)).any() for t in race["data"]
               if isinstance(t.get("y"), list)) or race["data"]
    assert not at.exception
