"""Tests for viz.race.scene (the Scene and its URL form), viz.race.defaults, viz.race.presets, viz.race.metrics,
viz.common.sampling and viz.race.compute: everything the page shows, without Streamlit.

The ready scenes' claims (what their text says the class will see) are checked here
with optimizers.run, so a change in the core that breaks a lesson fails a test.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import landscapes
import optimizers
from viz.race import compute
from viz.race import defaults
from viz.race import metrics
from viz.race import presets
from viz.common import sampling
from viz.common.runs import Run, clean_label, run_token
from viz.race.link import decode, encode, from_query_string, to_query_string
from viz.race.scene import CUSTOM, DEFAULT_DOMAIN, MAX_RUNS, MAX_STEPS, Scene, start_from_click


# --- Scene: construction and validation ------------------------------------------------

def test_run_is_canonical_and_complete():
    r = Run("adam", {"learning_rate": 0.01})
    names = [n for n, _ in r.hyperparams]
    assert names == [p.name for p in optimizers.get("adam").hyperparams]
    assert r.hp["b1"] == 0.9 and r.learning_rate == 0.01
    assert Run("adam", {"learning_rate": 0.01}) == Run("adam", (("learning_rate", 0.01),))
    assert hash(r) == hash(Run("adam", {"learning_rate": 0.01}))
    # values are stored with 6 significant digits (what the URL writes)
    assert Run("sgd", {"learning_rate": 0.0123456789}).learning_rate == 0.0123457


def test_run_lookahead_adds_its_hyperparameters():
    r = Run("sgd", {"learning_rate": 0.1}, lookahead=True)
    assert {"sync_period", "slow_step_size"} <= set(r.hp)
    assert Run("ranger", {}, lookahead=True).lookahead is False  # ranger is Lookahead already


@pytest.mark.parametrize("bad", [
    dict(optimizer="nope"),
    dict(optimizer="adam", hyperparams={"learning_rate": -1.0}),
    dict(optimizer="adam", hyperparams={"learning_rate": float("nan")}),
    dict(optimizer="adam", hyperparams={"beta": 0.5}),
    dict(optimizer="sgd", hyperparams={"learning_rate": 100.0}),
])
def test_run_rejects_invalid(bad):
    with pytest.raises(ValueError):
        Run(**bad)


def test_labels_are_cleaned():
    assert clean_label("<script>alert(1)</script>") == "scriptalert(1)/script"
    assert clean_label("[x](javascript:y)") == "x(javascript:y)"
    assert len(clean_label("a" * 500)) == 40
    assert clean_label(None) == ""
    assert clean_label("Adam α=0.1") == "Adam α=0.1"


@pytest.mark.parametrize("bad", [
    dict(landscape="nope"),
    dict(landscape=CUSTOM, formula="__import__('os')"),
    dict(landscape=CUSTOM, formula="x**2", domain=(1, 0, -1, 1)),
    dict(landscape="rosenbrock", formula="x"),
    dict(steps=0), dict(steps=MAX_STEPS + 1), dict(steps=1.5), dict(steps=True),
    dict(runs=tuple(Run("sgd", {}) for _ in range(MAX_RUNS + 1))),
    dict(schedule="nope"), dict(schedule="warmup_cosine",
                                schedule_params={"warmup_steps": 500, "decay_steps": 100}),
    dict(clip="sometimes"), dict(clip="norm", clip_at=0.0), dict(noise=-1.0), dict(seed=-1),
    dict(span=(5, 5)), dict(span=(0, 10 ** 6)), dict(view="4d"), dict(panels=("nope",)),
    dict(tol=0.0), dict(start=(float("inf"), 0.0)), dict(landscape="quadratic",
                                                         landscape_params={"condition": 0.5}),
    dict(version=2),
])
def test_scene_rejects_invalid(bad):
    with pytest.raises(ValueError):
        Scene(**bad)


def test_scene_canonical_forms():
    s = Scene(landscape="quadratic", landscape_params={"condition": 100}, span=(0, 10_000),
              panels=("elr", "loss"))
    assert s.landscape_params == (("condition", 100.0), ("angle", 30.0))
    assert s.span is None  # the full range is the default
    assert s.panels == ("loss", "elr")  # canonical order
    c = Scene(landscape=CUSTOM, formula="  x**2 + y**2 ")
    assert c.formula == "x**2 + y**2" and c.domain == DEFAULT_DOMAIN


# --- the URL form ------------------------------------------------------------------------

def _variety():
    yield from (p.scene for p in presets.PRESETS.values())
    yield Scene(landscape="quadratic", landscape_params={"condition": 316.0, "angle": -12.5},
                start=(0.5, -1.25), steps=1234, schedule="warmup_cosine",
                schedule_params={"warmup_steps": 100, "decay_steps": 1000, "alpha": 0.1},
                clip="value", clip_at=0.5, noise=0.25, seed=7, span=(10, 900), view="3d",
                panels=("elr",), tol=1e-5, log_steps=True,
                runs=(Run("adam", {"learning_rate": 0.1, "b1": 0.95}, label="fast Adam"),
                      Run("sgd", {"learning_rate": 0.001}, lookahead=True, raw=True),
                      Run("rmsprop", {"learning_rate": 0.01, "centered": 1.0}),
                      Run("ranger", {"learning_rate": 0.003, "sync_period": 5})))
    yield Scene(landscape=CUSTOM, formula="x^2 + 10*sin(y) + (x*y)/3", domain=(-4, 4, -2.5, 2.5),
                runs=(Run("nesterov", {"learning_rate": 0.05}),), panels=())
    yield Scene(runs=())


@pytest.mark.parametrize("scene", list(_variety()), ids=lambda s: s.landscape)
def test_url_round_trip(scene):
    q = encode(scene)
    assert q["v"] == "1"
    back, warnings = decode(q)
    assert warnings == [] and back == scene
    back2, warnings2 = from_query_string(to_query_string(scene))
    assert warnings2 == [] and back2 == scene


def test_url_is_compact_and_readable():
    qs = to_query_string(presets.PRESETS["adam_vs_sgd"].scene)
    assert qs.startswith("v=1&ls=rosenbrock&steps=5000&r0=sgd:learning_rate=0.001&")
    assert "%" not in qs  # nothing escaped
    assert run_token(Run("sgd", {"learning_rate": 0.1}, lookahead=True, raw=True)) == \
        "sgd~lookahead~raw:learning_rate=0.1"  # hyperparameters at their default are left out


def test_url_scene_shorthand_and_overrides():
    s, w = decode({"scene": "saddle_escape"})
    assert w == [] and s == presets.PRESETS["saddle_escape"].scene
    s, w = decode({"scene": "saddle_escape", "steps": "100"})
    assert w == [] and s.steps == 100 and s.runs == presets.PRESETS["saddle_escape"].scene.runs


def test_url_without_runs_gets_default_runs_for_its_landscape():
    s, w = decode({"ls": "saddle"})
    assert w == [] and len(s.runs) == 8
    assert s.runs[0].learning_rate == defaults.default_lr("saddle", "sgd")
    s, w = decode({"ls": "saddle", "r0": "adam"})
    assert s.runs == (Run("adam", {"learning_rate": defaults.default_lr("saddle", "adam")}),)


# A corpus of malformed and hostile queries: (query, a piece of a warning it must produce).
MALFORMED = [
    ({"junk": "x" * 10_000}, "too long"),
    ({"ls": "x" * 10_000}, "too long"),
    ({f"k{i}": "1" for i in range(60)}, "too many"),
    ({"ls": "nope"}, "unknown landscape"),
    ({"ls": "rosenbrock", "r0": "sgdx:learning_rate=0.1"}, "unknown optimizer"),
    ({"r0": "adam:learning_rate=nan"}, "not a valid value"),
    ({"r0": "adam:learning_rate=inf"}, "not a valid value"),
    ({"r0": "adam:learning_rate=-1"}, "out of range"),
    ({"r0": "adam:learning_rate=1e300"}, "out of range"),
    ({"r0": "adam:learning_rate=abc"}, "not a valid value"),
    ({"r0": "adam:bogus=1"}, "unknown parameter"),
    ({"r0": "adam~turbo"}, "unknown flag"),
    ({"steps": "-5"}, "not positive"),
    ({"steps": str(10 ** 12)}, "more than"),
    ({"steps": "1e999"}, "not a number"),
    ({"steps": "10**12"}, "not a number"),
    ({"steps": "ten"}, "not a number"),
    ({"ls": "custom", "f": "__import__('os').system('ls')"}, "formula"),
    ({"ls": "custom", "f": "x" * 700}, "too long"),
    ({"ls": "custom"}, "no formula"),
    ({"ls": "custom", "f": "x**2", "dom": "1,0,0,1"}, "domain"),
    ({"ls": "quadratic:condition=1e9"}, "out of range"),
    ({"start": "1,2,3"}, "not a point"),
    ({"start": "1e9,1e9"}, "outside"),
    ({"start": "nan,0"}, "not a point"),
    ({"sched": "sometimes"}, "unknown schedule"),
    ({"sched": "warmup_cosine:warmup_steps=900,decay_steps=100"}, "schedule warmup_cosine"),
    ({"clip": "maybe:1"}, "unknown clipping"),
    ({"clip": "norm:0"}, "out of range"),
    ({"noise": "-3"}, "out of range"),
    ({"seed": "1.5e99"}, "out of range"),
    ({"span": "10,5"}, "empty"),
    ({"view": "4d"}, "unknown view"),
    ({"panels": "loss,pie"}, "unknown side plot"),
    ({"v": "99"}, "version"),
    ({"scene": "nope"}, "unknown scene"),
    ({"r9": "adam"}, "at most 8 runs"),
    ({"r0": ["adam", "sgd"]}, "more than once"),
    ({"ls": "rosenbrock\u202e", "l0": "x"}, "unknown landscape"),
    ({"ls": "rоsenbrock"}, "unknown landscape"),  # Cyrillic о
    ({"🙂": "🙂"}, "unknown key"),
    ({"r0": "adam", "l0": "<img src=x onerror=alert(1)>"}, "label"),
    ({"xlog": "maybe"}, "xlog"),
    ({"tol": "0"}, "out of range"),
]


@pytest.mark.parametrize("query,expect", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_urls_warn_and_fall_back(query, expect):
    t = time.perf_counter()
    scene, warnings = decode(query)
    assert time.perf_counter() - t < 1.0
    assert isinstance(scene, Scene)
    assert warnings, query
    assert any(expect in w for w in warnings), warnings
    assert all(len(w) < 400 for w in warnings)
    # whatever was read is a valid scene that encodes and reads back without warnings
    back, again = decode(encode(scene))
    assert again == [] and back == scene


def test_decoding_is_linear_and_never_raises():
    for qs in ["", "?", "&&&", "=", "a=b=c", "%ff%fe", "r0=:::", "r0=adam:=,=,=", "ls=:",
               "x" * 50_000, "&".join(f"r{i}=adam" for i in range(100)), "steps=" + "9" * 5000,
               "f=" + "(" * 400 + "x" + ")" * 400 + "&ls=custom"]:
        t = time.perf_counter()
        scene, warnings = from_query_string(qs)
        assert isinstance(scene, Scene)
        assert time.perf_counter() - t < 1.0
    scene, warnings = decode(None)  # type: ignore[arg-type]
    assert scene == defaults.default_scene() and warnings


def test_start_from_click():
    dom = (-2.0, 2.0, -1.0, 3.0)
    assert start_from_click([{"x": 0.5, "y": 1.0, "curve_number": 1}], dom) == (0.5, 1.0)
    assert start_from_click([{"x": 9.0, "y": -9.0}], dom) == (2.0, -1.0)
    assert start_from_click([{"x": "1", "y": 0}, {"x": float("nan"), "y": 0}], dom) is None
    assert start_from_click("junk", dom) is None and start_from_click([], dom) is None


# --- defaults ------------------------------------------------------------------------------

def test_default_page_is_eight_runs_of_ten_thousand_steps():
    s = defaults.default_scene()
    assert len(s.runs) == 8 and s.steps == 10_000
    assert len({r.optimizer for r in s.runs}) == 8


def test_every_landscape_and_rule_gets_a_valid_default_learning_rate(monkeypatch):
    """The table's rates are valid; a landscape or rule without a row (a new entry) still gets
    one: the geometric mean over similar landscapes, else the rule's own default."""
    for row in defaults.DEFAULT_LR.values():
        for name, lr in row.items():
            optimizers.get(name).spec("learning_rate").validate(lr)
    for landscape in landscapes.names() + [CUSTOM]:
        for name in optimizers.names():
            optimizers.get(name).spec("learning_rate").validate(defaults.default_lr(landscape, name))
    assert defaults.default_lr(CUSTOM, "adam") > 0
    monkeypatch.delitem(defaults.DEFAULT_LR, "rosenbrock")  # a landscape without a row
    assert defaults.default_lr("rosenbrock", "adam") == defaults.default_lr(CUSTOM, "adam")
    for row in defaults.DEFAULT_LR.values():  # a rule without a column
        monkeypatch.delitem(row, "nadam")
    assert defaults.default_lr("beale", "nadam") == optimizers.get("nadam").spec("learning_rate").default
    assert defaults.default_run("beale", "nadam").learning_rate == optimizers.get("nadam").spec("learning_rate").default


@pytest.mark.parametrize("landscape", landscapes.names())
def test_default_learning_rates_do_not_diverge(landscape):
    """Every default run, on every built-in landscape, stays finite for 2,000 steps."""
    L = landscapes.get(landscape)
    for opt in optimizers.names():
        tr = optimizers.run(L, opt, steps=2000, learning_rate=defaults.default_lr(landscape, opt))
        assert tr.diverged_at is None, (landscape, opt)


def test_rescale_runs_keeps_ratios():
    runs = (Run("adam", {"learning_rate": defaults.default_lr("rosenbrock", "adam") * 10}),)
    moved = defaults.rescale_runs(runs, "rosenbrock", "quadratic")
    assert moved[0].learning_rate == pytest.approx(defaults.default_lr("quadratic", "adam") * 10, rel=1e-2)
    s = defaults.landscape_change(presets.PRESETS["race"].scene, "saddle")
    assert s.landscape == "saddle" and s.start is None and len(s.runs) == 8


# --- the ready scenes ---------------------------------------------------------------------

def test_at_least_eight_presets_with_titles_and_short_texts():
    assert len(presets.PRESETS) >= 8
    for p in presets.PRESETS.values():
        assert p.title and 2 <= p.text.count(". ") + 1 <= 5, p.key
        assert 1 <= len(p.scene.runs) <= MAX_RUNS
        assert presets.matching(p.scene) is p
        assert presets.matching(p.scene.replace(view="3d")) is p


def _run(scene):
    L = compute.landscape_of(scene)
    return L, compute.run_scene(scene, L)


def _by_label(scene, results):
    return dict(zip(scene.labels(), results))


def test_preset_race():
    scene = presets.PRESETS["race"].scene
    L, res = _run(scene)
    ref = metrics.reference(L, res)
    rows = {r["run"]: r for r in metrics.table(res, scene.labels(), L, ref, 1e-3)}
    assert all(r["diverged at"] is None for r in rows.values())
    fast = [rows[k]["steps to tol"] for k in rows if k.split()[0] in ("Momentum", "Nesterov", "Adam", "Nadam")]
    slow = [rows[k]["steps to tol"] or 10 ** 9 for k in rows if k.split()[0] in ("AdaGrad", "AdaDelta", "SGD")]
    assert max(fast) < min(slow)


def test_preset_ravine_sgd_zigzags_momentum_glides():
    scene = presets.PRESETS["ravine_momentum"].scene
    L, res = _run(scene)
    sgd_small, sgd_big, mom = res

    def flips(r):  # direction reversals across the valley in the first 60 steps
        across = r.xy[:, 1] - 0.5 * np.sin(r.xy[:, 0])
        d = np.diff(across)[:61]
        return int(np.sum(np.sign(d[1:]) != np.sign(d[:-1])))

    assert flips(sgd_big) >= 50 and flips(mom) <= 15
    assert sgd_big.loss[-1] > 1e-2  # never settles
    reach = lambda r: int(np.argmax(L.nearest_minimum_distance(r.xy) < 0.1))  # noqa: E731
    assert L.nearest_minimum_distance(sgd_small.xy).min() > 0.1  # still crawling
    assert 0 < reach(mom) <= 100


def test_preset_saddle_escape():
    scene = presets.PRESETS["saddle_escape"].scene
    _, res = _run(scene)
    escape = {label: int(np.argmax(np.abs(r.xy[:, 1]) > 0.5)) for label, r in _by_label(scene, res).items()}
    sgd = escape["SGD α=0.01"]
    assert sgd > 200
    for label in ("Momentum α=0.01", "RMSProp α=0.01", "Adam α=0.01"):
        assert 0 < escape[label] < sgd / 3, escape


def test_preset_adagrad_stalls():
    scene = presets.PRESETS["adagrad_stalls"].scene
    _, res = _run(scene)
    ada, rms, adam = res
    assert ada.loss[-1] > 100 * rms.loss[-1] and ada.loss[-1] > 100 * adam.loss[-1]
    assert ada.step_length[-100:].mean() < 0.1 * rms.step_length[-100:].mean()
    elr = np.nanmean(ada.effective_lr, axis=1)
    checkpoints = elr[[1, 10, 100, 1000, len(elr) - 1]]
    assert np.all(np.diff(checkpoints) < 0)  # its effective learning rate keeps falling ...
    assert np.nanmean(rms.effective_lr, axis=1)[-1] > 10 * elr[-1]  # ... RMSProp's does not


def test_preset_one_notch_too_large_diverges_exactly_one():
    scene = presets.PRESETS["lr_too_large"].scene
    _, res = _run(scene)
    diverged = [r.diverged_at is not None for r in res]
    assert diverged == [False, False, False, True]
    assert res[2].loss[-1] > 1.0  # alpha = 0.2 bounces forever
    assert res[0].loss[-1] < 1e-6 and res[1].loss[-1] < 1e-6
    lrs = [r.learning_rate for r in scene.runs]
    assert lrs[3] / lrs[2] <= 1.3  # one notch of the slider (ten per decade)


def test_preset_nesterov_overshoots_less():
    scene = presets.PRESETS["nesterov_vs_momentum"].scene
    L, res = _run(scene)

    def overshoot(r):
        d = L.nearest_minimum_distance(r.xy)
        k = int(np.argmax(d < d[0] / 4))
        return d[k:].max()

    def uphill(r):
        return np.clip(np.diff(r.loss), 0, None).sum()

    mom, nes = res
    assert overshoot(nes) < 0.7 * overshoot(mom)
    assert uphill(nes) < 0.5 * uphill(mom)


def test_preset_noise_lets_sgd_leave_the_local_minimum():
    scene = presets.PRESETS["noise_escape"].scene
    L, res = _run(scene)
    noisy, plain = res
    assert L.start[0] > 0  # both start in the shallow basin (x > 0)
    assert noisy.xy[-1, 0] < 0 < plain.xy[-1, 0]
    # and most seeds agree (the text says so)
    ends = [compute.run_one(scene.landscape_key(), scene.runs[0].key(),
                            scene.replace(seed=s).shared_key(), L.start, scene.steps).xy[-1, 0] < 0
            for s in range(1, 9)]
    assert sum(ends) >= 6
    # without the shared noise, the noisy run would stay too
    quiet = compute.run_scene(scene.replace(noise=0.0), L)
    assert quiet[0].xy[-1, 0] > 0


def test_preset_clipping_tames_the_cliff():
    scene = presets.PRESETS["clipping_cliff"].scene
    L, res = _run(scene)
    (x0, x1), (y0, y1) = L.domain
    sgd_c, sgd_raw, mom_c, mom_raw = res
    for r in (sgd_raw, mom_raw):  # flung far out of the view (or diverged)
        assert r.diverged_at is not None or np.nanmax(np.abs(r.xy[:, 0])) > 2 * x1
    for r in (sgd_c, mom_c):  # clipped: stays in view and reaches the minimum
        assert np.nanmax(r.xy[:, 0]) <= x1 and L.nearest_minimum_distance(r.xy[-1]) < 1e-2


def test_preset_adam_vs_sgd():
    scene = presets.PRESETS["adam_vs_sgd"].scene
    L, res = _run(scene)
    sgd_slow, sgd_big, adam_small, adam_big = res
    assert sgd_big.diverged_at is not None and sgd_big.diverged_at <= 10
    assert sgd_slow.diverged_at is None and sgd_slow.loss[-1] > 1e-3
    for r in (adam_small, adam_big):
        assert metrics.steps_to_tol(r.loss, 0.0, 1e-3) is not None


def test_preset_adam_races_itself():
    scene = presets.PRESETS["adam_races_itself"].scene
    L, res = _run(scene)
    fast, mid, slow = res
    assert metrics.steps_to_tol(fast.loss, 0.0, 1e-3) <= 500
    assert fast.loss[-1] < mid.loss[-1] < 0.01 < slow.loss[-1]


def test_preset_plateau():
    scene = presets.PRESETS["plateau"].scene
    L, res = _run(scene)
    t = [metrics.steps_to_tol(r.loss, 0.0, 1e-3) for r in res]
    assert all(v is not None for v in t)
    assert t[0] > 3 * max(t[2], t[3])  # SGD creeps, RMSProp and Adam walk in


# --- metrics and sampling -----------------------------------------------------------------

def test_metrics_table():
    scene = presets.PRESETS["lr_too_large"].scene
    L, res = _run(scene)
    ref = metrics.reference(L, res)
    assert ref.known and ref.f_star == 0.0
    rows = metrics.table(res, scene.labels(), L, ref, 1e-3)
    assert rows[3]["diverged at"] == res[3].diverged_at
    assert math.isfinite(rows[3]["final loss"])  # the last finite value
    assert rows[0]["steps to tol"] == metrics.steps_to_tol(res[0].loss, 0.0, 1e-3)
    assert rows[0]["best loss"] <= rows[0]["final loss"]
    assert metrics.fmt_cell(None) == "—" and metrics.fmt_cell(1234) == "1,234"


def test_reference_for_estimated_minima():
    scene = Scene(landscape=CUSTOM, formula="(x-1)**2 + y**2 - 3", runs=(Run("adam", {"learning_rate": 0.05}),))
    L, res = _run(scene)
    ref = metrics.reference(L, res, grid_min=-2.9)
    assert not ref.known and ref.f_star <= -2.999


def test_frame_steps():
    f = sampling.frame_steps(0, 10_000, 100)
    assert len(f) == 100 and f[0] == 0 and f[-1] == 10_000 and np.all(np.diff(f) > 0)
    assert np.sum(f < 1000) >= 30  # early steps get many frames
    assert list(sampling.frame_steps(0, 10)) == list(range(11))
    assert len(sampling.frame_steps(5, 100_000, 100)) == 100


def test_path_indices_keep_shape_and_budget():
    t = np.linspace(0, 20 * np.pi, 100_001)
    xy = np.stack([t, np.sin(t)], axis=1).astype(np.float32)
    idx = sampling.path_indices(xy, 100_000, 2000, head=200)
    assert len(idx) <= 2000 and idx[0] == 0 and idx[-1] == 100_000
    # the sampled path stays close to the real one (every peak is represented)
    assert np.abs(xy[idx, 1]).max() > 0.99
    assert sampling.path_indices(xy, 500, 2000).tolist() == list(range(501))


def test_series_indices_keep_the_envelope():
    y = np.where(np.arange(100_000) % 2 == 0, 1.0, 1e-6)
    idx = sampling.series_indices(y, 800)
    assert len(idx) <= 900 and y[idx].min() == 1e-6 and y[idx].max() == 1.0


def _bucket_extremes(values: np.ndarray, budget: int) -> set[int]:
    """What series_indices must find, written plainly: per bucket of the series, the first row
    of its smallest and of its largest finite value (NaN ignored), with the log-spaced rows
    and both ends."""
    n = len(values)
    logs = sampling._log_uniform(0, n - 1, budget // 4)
    width = -(-n // max((budget - len(logs)) // 2, 1))
    out = {0, n - 1} | {int(i) for i in logs}
    for lo in range(0, n, width):
        chunk = np.where(np.isfinite(values[lo:lo + width]), values[lo:lo + width], np.nan)
        if np.isfinite(chunk).any():
            out |= {lo + int(np.nanargmin(chunk)), lo + int(np.nanargmax(chunk))}
    return out


@pytest.mark.parametrize("seed", range(6))
def test_series_indices_are_each_buckets_extremes(seed):
    """Finite series (the quick path) and series with NaN or inf (after a divergence) alike;
    ties (rounded values) find the first of equal values."""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n, budget = int(rng.integers(2, 20_000)), int(rng.choice([50, 200, 400, 800]))
        y = rng.standard_normal(n).cumsum() if seed % 2 else np.round(rng.standard_normal(n), 1)
        if seed >= 3:  # a tail that diverged, and a hole
            y[int(rng.integers(0, n)):] = np.nan
            y[int(rng.integers(0, n))] = np.inf
        idx = sampling.series_indices(y, budget)
        assert list(idx) == sorted(set(idx.tolist()))
        assert set(idx.tolist()) == (set(range(n)) if n <= budget else _bucket_extremes(y, budget))


def test_path_indices_with_the_arc_length_given_are_the_same():
    rng = np.random.default_rng(3)
    xy = rng.standard_normal((5001, 2)).cumsum(axis=0).astype(np.float32)
    xy[4000:] = np.nan
    cum = sampling.arc_length(xy, 4500)
    for budget, head in ((200, 40), (1000, 200)):
        np.testing.assert_array_equal(sampling.path_indices(xy, 4500, budget, head=head, cum=cum),
                                      sampling.path_indices(xy, 4500, budget, head=head))


def test_slider_notches():
    from viz.common.runs import is_decay, notches

    lr = optimizers.get("sgd").spec("learning_rate")
    n = notches(lr)
    assert 0.2 in n and 0.25 in n and n.index(0.25) == n.index(0.2) + 1  # one notch
    assert n[0] == 1e-6 and n[-1] == 10.0 and len(n) == 71
    assert 0.0123 in notches(lr, 0.0123)  # a value from a link keeps its exact position
    b2 = optimizers.get("adam").spec("b2")
    assert is_decay(b2) and {0.9, 0.99, 0.999, 0.9999} <= set(notches(b2))
    assert max(notches(b2)) <= b2.high


def test_distance_is_to_the_global_minima_and_says_so():
    # SGD resting exactly at two_basin's local minimum: the distance shown is to the
    # global one, about 2.82 away, and every title says "global"
    from landscapes.catalog import LOCAL_MINIMA
    from viz.race.scene import PANEL_TITLES
    local = LOCAL_MINIMA["two_basin"][0]
    scene = Scene(landscape="two_basin", start=local, steps=50, runs=(Run("sgd", {"learning_rate": 0.01}),))
    L, res = _run(scene)
    assert np.abs(res[0].xy[-1] - np.array(local)).max() < 1e-4  # it stays put
    row = metrics.table(res, scene.labels(), L, metrics.reference(L, res), 1e-3)[0]
    glob = np.array(L.minima[0])
    assert row["final distance"] == pytest.approx(np.linalg.norm(res[0].xy[-1] - glob), rel=1e-5)
    assert row["final distance"] > 2.8
    assert "global" in PANEL_TITLES["dist"]
