"""Tests for viz.race.figures and viz.race.export: the figures are valid Plotly, small, animated the
fast way (frames name only the run traces, redraw off, fixed axes), and never carry a
non-finite number; the exports hold every step and play offline."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from viz.race import compute
from viz.race import export
from viz.race import figures
from viz.race import metrics
from viz.race import presets
from viz.race.compute import RunResult
from viz.race.scene import CUSTOM, PANELS, Run, Scene

MAX_BYTES = 1_500_000


def _build(scene: Scene, **kw):
    L = compute.landscape_of(scene)
    results = compute.run_scene(scene, L)
    grid = compute.grid_of(scene.landscape_key())
    ref = metrics.reference(L, results, float(np.nanmin(grid[2])))
    return L, results, grid, ref


def _decode(arr):
    """A typed array (or plain list) from a spec, as a float64 NumPy array."""
    if isinstance(arr, dict):
        dtype = {"f4": np.float32, "f8": np.float64, "i4": np.int32}[arr["dtype"]]
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=dtype).astype(np.float64)
    return np.asarray([np.nan if v is None else v for v in arr], np.float64)


@pytest.fixture(scope="module")
def default_fig():
    scene = presets.PRESETS["race"].scene
    L, results, grid, ref = _build(scene)
    return scene, L, results, figures.main_figure(scene, L, grid, results, scene.labels(), ref)


def test_default_figure_is_valid_plotly(default_fig):
    *_, fig = default_fig
    checked = go.Figure(fig.spec)  # full graph_objects validation: raises on any invalid property
    assert len(checked.frames) == len(fig.spec["frames"])
    assert isinstance(fig, go.Figure)  # st.plotly_chart gets a Figure, not a dict
    assert fig.to_dict()["data"] is fig.spec["data"]


def frame_step(frame: dict) -> int:
    """The step a frame shows: its runs' heads' (customdata [step, f] a run), the furthest one."""
    return max(int(c[0]) for e in frame["data"] if e.get("customdata") for c in e["customdata"])


def test_default_figure_size_and_animation(default_fig):
    scene, L, results, fig = default_fig
    text = pio.to_json(fig, validate=False)
    assert len(text.encode()) < MAX_BYTES
    spec = fig.spec
    frames = spec["frames"]
    assert 50 <= len(frames) <= 100
    assert [f["name"] for f in frames] == [str(k) for k in range(len(frames))]  # (by place, not step)
    assert frame_step(frames[-1]) == scene.steps and frame_step(frames[0]) == 0
    paths = [i for i, t in enumerate(spec["data"]) if t.get("legendgroup", "").startswith("run") and "xaxis" not in t]
    (heads,) = [i for i, t in enumerate(spec["data"]) if t.get("meta") and t["marker"]["symbol"] != "x"]
    anchors = [i for i, t in enumerate(spec["data"]) if "xaxis" in t]
    assert len(paths) == len(results) and spec["data"][heads]["meta"] == [f"run{i}" for i in range(len(results))]
    for f in frames:  # the runs' paths and their heads (no run diverges: no crosses), never the landscape
        assert [t for t in f["traces"] if t not in anchors] == paths + [heads]
        assert len(f["traces"]) == len(f["data"])
        assert len(f["data"][len(paths)]["x"]) == len(results)  # a head a run
    (image,) = spec["layout"]["images"]  # the landscape is a picture, drawn once
    assert image["source"].startswith("data:image/png;base64,") and image["layer"] == "below"
    assert (image["x"], image["y"], image["sizex"], image["sizey"]) == (-2.0, 3.0, 4.0, 4.0)
    lay = spec["layout"]
    assert lay["xaxis"]["range"] == [-2.0, 2.0] and lay["yaxis"]["range"] == [-1.0, 3.0]
    play = lay["updatemenus"][0]["buttons"][0]
    assert play["args"][1]["frame"]["redraw"] is False
    assert all(s["args"][1]["frame"]["redraw"] is False for s in lay["sliders"][0]["steps"])
    steps = lay["sliders"][0]["steps"]
    assert lay["sliders"][0]["active"] == len(steps) - 1  # opens on the full path
    assert steps[-1]["args"][0] == [frames[-1]["name"]] and steps[0]["args"][0] == [frames[0]["name"]]
    # no text on the slider (Plotly measures each new one): the frame's name is the step's value
    assert all(s["label"] == "" and s["args"][0] == [s["value"]] for s in steps)
    assert lay["sliders"][0]["currentvalue"]["visible"] is False


def test_one_trace_per_run_in_the_legend_with_distinct_colours(default_fig):
    scene, *_, fig = default_fig
    paths = [t for t in fig.spec["data"] if t.get("mode") == "lines" and "xaxis" not in t]
    assert [t["name"] for t in paths] == scene.labels()
    assert len({t["line"]["color"] for t in paths}) == len(paths)


def test_full_path_resolution_in_the_final_picture(default_fig):
    *_, fig = default_fig
    spec = fig.spec
    last = spec["frames"][-1]["data"]
    mid = spec["frames"][len(spec["frames"]) // 2]["data"]
    final_path = _decode(spec["data"][2]["x"])
    assert len(final_path) >= 500
    assert len(_decode(last[0]["x"])) == len(final_path)  # the last frame is the full path
    assert len(_decode(mid[0]["x"])) < len(final_path)


def test_arrays_are_float32_and_finite(default_fig):
    *_, fig = default_fig
    for trace in fig.spec["data"]:
        for k in ("x", "y"):
            v = trace.get(k)
            if isinstance(v, dict):
                assert v["dtype"] in ("f4", "i4")
    for frame in fig.spec["frames"]:
        for d in frame["data"]:
            for k in ("x", "y"):
                if k in d:
                    assert np.all(np.isfinite(_decode(d[k])))


def test_every_frame_names_every_subplot(default_fig):
    """Plotly drops the drawing of a subplot (and of a trace type) a redraw-free frame does not
    name: each frame names one trace of every subplot, the side plots' unchanged ({})."""
    *_, fig = default_fig
    data = fig.spec["data"]
    subplots = {t.get("yaxis", "y") for t in data}
    for frame in fig.spec["frames"]:
        named = {data[i].get("yaxis", "y") for i in frame["traces"]}
        assert named == subplots
        assert all(d == {} for i, d in zip(frame["traces"], frame["data"]) if data[i].get("yaxis"))
    assert {t["type"] for t in data} == {"scatter"}  # only scatter traces: all redraw-free


def test_divergence_is_marked_in_view():
    scene = presets.PRESETS["lr_too_large"].scene
    L, results, grid, ref = _build(scene)
    fig = figures.main_figure(scene, L, grid, results, scene.labels(), ref)
    go.Figure(fig.spec)
    (crosses,) = [t for t in fig.spec["data"] if t.get("marker", {}).get("symbol") == "x"]
    # every run has its point in the crosses' trace (the same traces whatever the start: a quick
    # update in the browser), not drawn (null) but for the run that diverges
    assert len(crosses["x"]) == len(results) and sum(r.diverged_at is not None for r in results) == 1
    (i,) = [i for i, x in enumerate(crosses["x"]) if x is not None]
    assert results[i].diverged_at is not None and "diverged at step" in crosses["hovertemplate"][i]
    assert all("diverged" not in h for j, h in enumerate(crosses["hovertemplate"]) if j != i)
    x, y = crosses["x"][i], crosses["y"][i]
    assert -3 <= x <= 3 and -3 <= y <= 3  # in view, where it left
    for t in fig.spec["data"]:
        for k in ("x", "y"):
            if k in t and t is not crosses and t[k]:
                assert np.all(np.isfinite(_decode(t[k])))


def test_worst_case_size_eight_runs_of_100k_steps():
    """Synthetic zig-zagging walks: the figure stays under budget at the largest scene."""
    rng = np.random.default_rng(0)
    n = 100_000
    runs = tuple(Run("sgd", {"learning_rate": 0.001 * (i + 1)}) for i in range(8))
    scene = Scene(landscape="rosenbrock", steps=n, runs=runs)
    L = compute.landscape_of(scene)
    results = []
    for i in range(8):
        walk = np.cumsum(rng.normal(0, 0.01, size=(n + 1, 2)), axis=0).astype(np.float32)
        walk[:, 1] += np.where(np.arange(n + 1) % 2, 0.05, -0.05)
        loss = (1 + np.abs(walk).sum(axis=1)).astype(np.float32)
        results.append(RunResult(xy=walk, loss=loss, grad=walk, lr=np.full(n, 0.01, np.float32),
                                 diverged_at=None))
    grid = compute.grid_of(scene.landscape_key())
    ref = metrics.reference(L, results)
    fig = figures.main_figure(scene, L, grid, results, scene.labels(), ref)
    assert len(pio.to_json(fig, validate=False)) < MAX_BYTES
    side = figures.side_figure(scene.replace(panels=PANELS), L, results, scene.labels(), ref)
    assert len(pio.to_json(side, validate=False)) < 400_000


def test_span_limits_the_animation():
    scene = presets.PRESETS["race"].scene.replace(span=(0, 300))
    L, results, grid, ref = _build(scene)
    fig = figures.main_figure(scene, L, grid, results, scene.labels(), ref)
    shown = [frame_step(f) for f in fig.spec["frames"]]
    assert shown[0] == 0 and shown[-1] == 300 and len(shown) == figures.N_FRAMES
    assert shown == sorted(set(shown))  # one step a frame, in order


def test_colorbar_is_labelled_in_real_units(default_fig):
    *_, fig = default_fig
    cbar = fig.spec["data"][0]["marker"]["colorbar"]
    assert "f − f*" in cbar["title"]["text"]
    assert "1" in cbar["ticktext"] and any("e" in t or "0.0" in t for t in cbar["ticktext"])
    vals, text = figures.log_colorbar_ticks(-2.2, 3.1)
    assert text[0] in ("0.01", "0.03") and "1000" in text


def test_side_plots_sit_beside_the_landscape(default_fig):
    scene, *_, fig = default_fig
    lay = fig.spec["layout"]
    side = [t for t in fig.spec["data"] if t.get("xaxis")]
    assert len(side) == 3 * len(scene.runs)  # loss, distance, step length
    assert {t["yaxis"] for t in side} == {"y2", "y3", "y4"}
    assert [lay[f"yaxis{k}"]["type"] for k in (2, 3, 4)] == ["log"] * 3
    assert lay["xaxis"]["domain"][1] < lay["xaxis2"]["domain"][0]
    named = fig.spec["frames"][0]
    for i, d in zip(named["traces"], named["data"]):
        if fig.spec["data"][i].get("xaxis"):
            assert d == {}  # the side plots are static: named, unchanged


def test_surface_and_side_figures_are_valid():
    scene = presets.PRESETS["adagrad_stalls"].scene.replace(view="3d", panels=PANELS)
    L, results, grid, ref = _build(scene)
    surf = figures.surface_figure(scene, L, grid, results, scene.labels(), ref)
    go.Figure(surf.spec)
    assert surf.spec["data"][0]["type"] == "surface" and "frames" not in surf.spec
    side = figures.side_figure(scene, L, results, scene.labels(), ref)
    go.Figure(side.spec)
    lay = side.spec["layout"]
    assert [lay[k]["type"] for k in ("yaxis", "yaxis2", "yaxis3", "yaxis4")] == ["log"] * 4
    assert len(side.spec["data"]) == 3 * 3 + 3 * 2  # elr: two coordinates per run
    assert figures.side_figure(scene.replace(panels=()), L, results, scene.labels(), ref).spec["data"] == []


def test_custom_formula_and_no_runs():
    scene = Scene(landscape=CUSTOM, formula="log(x) + y**2", domain=(-1, 3, -2, 2), runs=())
    L, results, grid, ref = _build(scene)
    fig = figures.main_figure(scene, L, grid, results, scene.labels(), ref)
    go.Figure(fig.spec)
    assert "frames" not in fig.spec and "sliders" not in fig.spec["layout"]


def test_export_csv_has_every_step():
    scene = presets.PRESETS["lr_too_large"].scene
    L, results, _, _ = _build(scene)
    text = export.trajectories_csv(scene, results, scene.labels())
    lines = text.splitlines()
    assert lines[0].startswith("# v=1&ls=quadratic")
    assert lines[1] == ",".join(export.CSV_COLUMNS)
    assert len(lines) == 2 + sum(len(r.xy) for r in results)
    first = lines[2].split(",")
    assert first[0] == "0" and first[3] == "0" and float(first[4]) == pytest.approx(-2.5)
    assert "nan" in text  # after the divergence
    assert export._csv_field("=cmd()") == "\"'=cmd()\""


def test_export_html_plays_offline(default_fig):
    scene, L, results, fig = default_fig
    html = export.standalone_html(fig, "The race", subtitle="8 runs", link="https://x.test/?v=1")
    assert html.startswith("<html>") or html.lstrip().lower().startswith("<!doctype") or "<html" in html[:200]
    assert not re.findall(r"<script[^>]*\bsrc=", html)  # no external script: plotly.js is embedded
    assert "Plotly.newPlot" in html
    assert len(html) > 3_000_000
    assert '"frames"' in html or "frames" in html
    assert "The race" in html and "https://x.test/?v=1" in html
    assert fig.spec["layout"].get("title") is None  # the page's figure is untouched


def test_the_export_has_a_marker_trace_per_run_in_its_legend_group():
    """The HTML export keeps Plotly's own legend, which hides a run's legend group: there each
    run's head and cross are traces of their own, in the group, in the figure and in every
    frame, showing what the page's one trace of heads shows."""
    base = presets.PRESETS["lr_too_large"].scene  # (a run diverges: the crosses are in the frames)
    L, results, grid, ref = _build(base)
    spec = figures.main_figure(base, L, grid, results, base.labels(), ref).spec
    split = figures.marks_per_run(spec)
    n = len(results)
    assert len(split["data"]) == len(spec["data"]) + 2 * (n - 1)
    assert not any(t.get("meta") for t in split["data"])
    go.Figure(split)  # valid
    (h,) = [k for k, t in enumerate(spec["data"]) if t.get("meta") and t["marker"]["symbol"] != "x"]
    heads = [t for t in split["data"] if t["mode"] == "markers" and t.get("legendgroup") and t.get("customdata")]
    assert [t["legendgroup"] for t in heads] == [f"run{i}" for i in range(n)]
    assert [t["marker"]["color"] for t in heads] == spec["data"][h]["marker"]["color"]
    assert [t["hovertemplate"] for t in heads] == spec["data"][h]["hovertemplate"]
    ids = {id(t): k for k, t in enumerate(split["data"])}
    for f, g in zip(spec["frames"], split["frames"]):
        assert len(g["traces"]) == len(g["data"]) == len(f["traces"]) + 2 * (n - 1)
        (e,) = [d for k, d in zip(f["traces"], f["data"]) if k == h]
        mine = {k: d for k, d in zip(g["traces"], g["data"])}
        assert [mine[ids[id(t)]]["x"][0] for t in heads] == e["x"]
        assert [mine[ids[id(t)]]["customdata"][0] for t in heads] == e["customdata"]
    assert all(split["data"][k] is spec["data"][k] for k in range(h))  # the paths: the same traces


def test_figures_module_does_not_import_streamlit():
    import viz.race.figures
    src = open(viz.race.figures.__file__).read() + open(export.__file__).read()
    assert "import streamlit" not in src
    json.dumps(figures.PALETTE)


def test_frames_name_the_right_traces_when_an_early_run_diverges():
    """Every run has a cross trace, shown only if it diverges: every frame must update the
    right traces (its last frame is the figure's final state)."""
    base = presets.PRESETS["lr_too_large"].scene
    scene = base.replace(runs=tuple(reversed(base.runs)))  # the diverging run first
    L, results, grid, ref = _build(scene)
    assert results[0].diverged_at is not None and all(r.diverged_at is None for r in results[1:])
    fig = figures.main_figure(scene, L, grid, results, scene.labels(), ref)
    data, frames = fig.spec["data"], fig.spec["frames"]
    (c,) = [k for k, t in enumerate(data) if t.get("meta") and t["marker"]["symbol"] == "x"]
    assert [x is not None for x in data[c]["x"]] == [True] + [False] * (len(results) - 1)  # the first run's
    for i, d in zip(frames[-1]["traces"], frames[-1]["data"]):
        for k in ("x", "y"):
            if k in d:
                np.testing.assert_array_equal(_decode(d[k]), _decode(data[i][k]))
    steps = [frame_step(f) for f in frames]
    for f, step in zip(frames, steps):  # the cross shows from the step the run diverged at on
        (cross,) = [d for i, d in zip(f["traces"], f["data"]) if i == c]
        assert cross["x"][1:] == [None] * (len(results) - 1)
        assert (cross["x"][0] is not None) == (step >= results[0].diverged_at), step


def test_a_runs_pieces_are_found_by_its_numbers_not_by_the_object():
    """The figure's memoised pieces are keyed by a digest of a run's arrays (made once per run):
    a copy of the same numbers draws the same figure, another run's numbers another one."""
    import dataclasses

    scene = presets.PRESETS["race"].scene
    L, results, grid, ref = _build(scene)
    first = figures.main_figure(scene, L, grid, results, scene.labels(), ref).spec
    copies = [dataclasses.replace(r, xy=np.array(r.xy), loss=np.array(r.loss)) for r in results]
    assert [figures._content(c) for c in copies] == [figures._content(r) for r in results]
    again = figures.main_figure(scene, L, grid, copies, scene.labels(), ref).spec
    assert json.dumps(again, sort_keys=True, default=str) == json.dumps(first, sort_keys=True, default=str)
    moved = dataclasses.replace(results[0], xy=np.array(results[0].xy) + np.float32(0.25))
    assert figures._content(moved) != figures._content(results[0])
    other = figures.main_figure(scene, L, grid, [moved] + list(results[1:]), scene.labels(), ref).spec
    assert other["data"][2]["x"] != first["data"][2]["x"]  # (trace 2: the first run's path)


def test_a_figure_with_a_place_for_every_run_differs_from_another_in_numbers_alone():
    """The page's figure keeps a place for every run (``places``): a scene of fewer runs has the
    same traces, but for their numbers, names and hover texts (what the page's chart updates
    without drawing the figure anew: viz/common/chart.js plan), and the same layout but for the
    side plots' ranges; among 5-8 runs the runs that stay keep their traces (their points'
    budgets are the same); the export leaves the empty places out (what a figure without them
    shows)."""
    from viz.race.scene import MAX_RUNS

    scene = presets.PRESETS["race"].scene  # eight runs
    L, results, grid, ref = _build(scene)

    def spec_of(n, places=MAX_RUNS, compact=True):
        s = scene.replace(runs=scene.runs[:n])
        return figures.main_figure(s, L, grid, results[:n], s.labels(), ref, places=places, compact=compact).spec

    numbers = {"x", "y", "customdata", "name", "hovertemplate"}
    bare = lambda spec: [{k: v for k, v in t.items() if k not in numbers} for t in spec["data"]]  # noqa: E731
    no_ranges = lambda spec: {k: ({a: b for a, b in v.items() if a != "range"} if k[1:5] == "axis" else v)  # noqa: E731
                              for k, v in spec["layout"].items()}
    full = spec_of(8)
    first = next(k for k, t in enumerate(full["data"]) if t.get("legendgroup") == "run0")
    for n in (7, 5, 4, 1):
        fewer = spec_of(n)
        assert bare(fewer) == bare(full) and no_ranges(fewer) == no_ranges(full), n
        empty = [t for t in fewer["data"] if t.get("legendgroup", "run0") not in {f"run{i}" for i in range(n)}]
        assert len(empty) == (MAX_RUNS - n) * (1 + len(scene.panels)), n  # a path, a curve per side plot
        assert all(t["name"] == "" and np.isnan(_decode(t["y"])).all() and len(_decode(t["y"])) == 1 for t in empty)
        same = [fewer["data"][first + i] == full["data"][first + i] for i in range(n)]
        assert all(same) == (n > 4), n  # (4 runs or fewer: more points each)
        built = figures.expand_frames(fewer)
        assert json.dumps(figures.marks_per_run(built)) == \
            json.dumps(figures.marks_per_run(figures.expand_frames(spec_of(n, places=0))))
    go.Figure(figures.marks_per_run(figures.expand_frames(spec_of(5))))  # (valid)


def test_side_axes_go_down_to_the_floor_a_float32_run_reaches():
    """The loss's and the distance's axes start at their floor (what a float32 run resolves)
    whenever a curve comes within NEAR_FLOOR of it: runs that converged end anywhere in the few
    decades above it, and neighbouring starts of the default race keep the same ranges (each
    move redraws the side plots' axes in the page)."""
    assert figures.decade_range(3e-14, 50.0) == figures.decade_range(1e-14, 50.0)
    assert figures.decade_range(3e-14, 50.0, floor=1e-15) == figures.decade_range(1e-15, 50.0)
    assert figures.decade_range(3e-11, 50.0, floor=1e-15) == figures.decade_range(3e-11, 50.0)  # (far above)
    scene = presets.PRESETS["race"].scene
    L, results, grid, ref = _build(scene)
    assert [tuple(m) for m in L.minima] == [(1.0, 1.0)]
    assert figures.side_floor("dist", L, ref) == 2.0**-24  # (half of float32's step at 1.0)
    assert figures.side_floor("loss", L, ref) == 1e-15 and figures.side_floor("step", L, ref) is None
    quad = compute.landscape_of(scene.replace(landscape="quadratic", landscape_params=(), start=None))
    assert figures.side_floor("dist", quad, ref) == 1e-12  # (a minimum at 0: float32 goes far below)
    seen = set()
    for k in range(4):
        s = scene.replace(start=(-1.46 + 0.01 * k, 2.0))
        L, results, grid, ref = _build(s)
        traces, axes, _ = figures.side_panels(s, L, results, s.labels(), ref, first_axis=2)
        for p, want in (("loss", -15), ("dist", -8)):
            y = f"y{2 + s.panels.index(p)}"
            lowest = min(np.nanmin(_decode(t["y"])) for t in traces if t["yaxis"] == y)
            assert lowest < figures.side_floor(p, L, ref) * figures.NEAR_FLOOR  # (converged runs)
            r0, r1 = axes["yaxis" + y[1:]]["range"]  # (the decades, 4 % wider each side)
            assert r0 + 0.04 * (r1 - r0) / 1.08 == pytest.approx(want), (p, k)
        seen.add(tuple(tuple(a["range"]) for name, a in sorted(axes.items()) if name.startswith("yaxis")))
    assert len(seen) == 1  # (the tops too)


def test_side_axes_tops_come_from_the_landscape_not_the_runs():
    """The loss's axis goes up to the decade of the largest f - f* on the landscape's grid, the
    distance's to that of the domain's diagonal, whatever the runs do: starts far apart keep
    the same tops, and a run that diverges goes off the top instead of squashing every other
    curve into the bottom of the plot."""
    import math

    base = presets.PRESETS["race"].scene
    tops = set()
    for start in [(-1.48, 2.0), (0.5, -0.5), (1.8, 2.8)]:
        s = base.replace(start=start)
        L, results, grid, ref = _build(s)
        _, axes, _ = figures.side_panels(s, L, results, s.labels(), ref, first_axis=2, z=grid[2])
        r1 = {p: axes[f"yaxis{2 + s.panels.index(p)}"]["range"][1] for p in ("loss", "dist")}
        (x0, x1), (y0, y1) = L.domain
        want = {"loss": math.ceil(math.log10(float(np.nanmax(grid[2])) - ref.f_star)),
                "dist": math.ceil(math.log10(math.hypot(x1 - x0, y1 - y0)))}
        for p, top in r1.items():
            r0 = axes[f"yaxis{2 + s.panels.index(p)}"]["range"][0]
            assert top - 0.04 * (top - r0) / 1.08 == pytest.approx(want[p]), (start, p)
        tops.add(tuple(sorted(r1.items())))
    assert len(tops) <= 2  # (the top is fixed; the padding follows the bottom, which may move)
    wild = presets.PRESETS["lr_too_large"].scene  # (a run diverges)
    L, results, grid, ref = _build(wild)
    assert any(r.diverged_at is not None for r in results)
    _, axes, _ = figures.side_panels(wild, L, results, wild.labels(), ref, first_axis=2, z=grid[2])
    _, free, _ = figures.side_panels(wild, L, results, wild.labels(), ref, first_axis=2)  # (no grid)
    k = f"yaxis{2 + wild.panels.index('loss')}"
    assert axes[k]["range"][1] <= math.ceil(math.log10(float(np.nanmax(grid[2])) - ref.f_star)) + 1
    assert free[k]["range"][1] >= axes[k]["range"][1]
