r"""The SweepScene: what the "Sweeps" page shows, as one plain, hashable, validated value.

A sweep is always *of* a main-page Scene (landscape, start, steps, shared switches,
runs): the SweepScene holds that Scene and the sweep's own choices.  Its URL is the
main Scene's query (viz.race.scene's codec, unchanged) plus keys that start with ``sw_``::

    sw_mode=hyper        hyper (hyperparameter map) | basin (basin map) | tune (fair race)
    sw_run=0             which run of the scene is swept (hyper, basin); default 0
    sw_x=learning_rate   hyper: the hyperparameter along x (default learning_rate)
    sw_y=momentum        hyper: the one along y, or none for a 1-D sweep
                         (default: the rule's first other float hyperparameter, e.g. momentum, b1)
    sw_xr=1e-05,0.01     range along x: hyper: values of sw_x; basin: start x; tune: learning rates
    sw_yr=0,0.99         range along y: hyper: values of sw_y; basin: start y
    sw_n=32              grid size per axis (hyper, basin: n x n; tune: n learning rates), 2..128
    sw_color=final_loss  hyper: final_loss | steps | diverged; basin: basin | steps | final_loss
    sw_obj=final_loss    tune: final_loss | steps_to_tol | auc (what "best" means)
    sw_extra=momentum    tune: one more hyperparameter swept jointly with the rate (8 values)

Each key is written only when it differs from its default (``sw_mode`` always).  A
log-scaled hyperparameter (learning_rate, eps...) gets a logarithmic axis; the defaults
around the run's own value (learning_rate: 1/100 to 20 times it).  Grid values are
rounded to 6 significant digits, so a clicked cell is written to the URL exactly.

Reading a link never raises (:func:`decode`): unknown ``sw_`` keys, names, modes and
colours, out-of-range or non-numeric numbers become a warning and a safe default; the
grid is shrunk when ``n x n x steps`` would exceed MAX_WORK run-steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from landscapes.params import Param
from viz.common.runs import Run
from viz.common.url import Problems, fmt, num, parse_float, query_string, safely, show
from viz.race import link
from viz.race.defaults import default_scene
from viz.race.scene import Scene, landscape_domain

MODES = ("hyper", "basin", "tune")
MODE_TITLES = {"hyper": "Hyperparameter map", "basin": "Basin map", "tune": "Fair race (tune)"}
HYPER_COLORS = ("final_loss", "steps", "diverged")
BASIN_COLORS = ("basin", "steps", "final_loss")
COLOR_TITLES = {"final_loss": "final loss (log10)", "steps": "steps to tolerance",
                "diverged": "diverged?", "basin": "minimum reached"}
OBJECTIVES = ("final_loss", "steps_to_tol", "auc")
OBJECTIVE_TITLES = {"final_loss": "final loss", "steps_to_tol": "steps to tolerance",
                    "auc": "area under the log-loss curve"}
MIN_N, MAX_N = 2, 128
DEFAULT_N = {"hyper": 32, "basin": 48, "tune": 31}
EXTRA_N = 8  # values of the tune's extra hyperparameter
MAX_WORK = 2**28  # run-steps per sweep from the page (~2.7e8; 128 x 128 x 16,000)
TUNE_LR = (1e-5, 10.0)  # the default learning-rate range of a fair race
NONE = "none"
MAX_SW_CHARS = 80  # the longest sw_ value read
DECAY_HIGH = 0.99  # default upper end of a [0, 1) decay (momentum, b1, rho)


# --- hyperparameter axes ---------------------------------------------------------------

def sweepable(run: Run) -> list[str]:
    """The run's hyperparameters that a map can sweep: the real-valued ones."""
    return [p.name for p in run.rule.hyperparams if p.kind == "float"]


def _spec(run: Run, name: str) -> Param:
    return run.rule.spec(name)


def is_log(p: Param) -> bool:
    return bool(p.log) and p.low > 0


def default_y(run: Run, x: str) -> str:
    others = [n for n in sweepable(run) if n != x]
    return others[0] if others else NONE


def default_range(run: Run, name: str) -> tuple[float, float]:
    """A range that shows something: around the run's value for a log one, else the spec's."""
    p = _spec(run, name)
    v = run.hp.get(name, p.default)
    if is_log(p):
        if name == "learning_rate":
            lo, hi = v / 100, v * 20
        else:
            lo, hi = p.low, p.high
        lo, hi = max(lo, p.low), min(hi, p.high)
    else:
        lo, hi = p.low, p.high
        if p.high <= 1 and p.low >= 0:  # a decay in [0, 1): stop short of 1
            hi = min(hi, DECAY_HIGH)
            if v > hi:  # e.g. b2 = 0.999
                lo, hi = 0.9, p.high
    lo, hi = num(lo), num(hi)
    if not lo < hi:
        lo, hi = p.low, p.high
    return (lo, hi)


def axis_values(p: Param, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` values from lo to hi (log-spaced for a log hyperparameter), 6 digits, in range."""
    if n == 1:
        vals = np.array([lo])
    elif is_log(p) and lo > 0:
        vals = np.geomspace(lo, hi, n)
    else:
        vals = np.linspace(lo, hi, n)
    vals = np.array([num(v) for v in vals], np.float64)
    return np.clip(vals, p.low, p.high)


def _check_range(p: Param, r, what: str) -> tuple[float, float]:
    try:
        lo, hi = (num(v) for v in r)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be two numbers lo,hi") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{what} needs finite lo < hi")
    if lo < p.low or hi > p.high:
        raise ValueError(f"{what} must lie within [{p.low:g}, {p.high:g}]")
    if is_log(p) and lo <= 0:
        raise ValueError(f"{what}: a log axis needs lo > 0")
    return (lo, hi)


def _basin_range(r, bounds: tuple[float, float], what: str) -> tuple[float, float]:
    try:
        lo, hi = (num(v) for v in r)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be two numbers lo,hi") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and max(abs(lo), abs(hi)) <= 1e6):
        raise ValueError(f"{what} needs finite lo < hi with |value| <= 1e6")
    return (lo, hi)


def max_n(steps: int, mode: str) -> int:
    """The largest grid size whose work stays within MAX_WORK for ``steps``."""
    per = EXTRA_N if mode == "tune" else None
    if per is not None:  # n learning rates x EXTRA_N extra values (at most)
        return int(max(MIN_N, min(MAX_N, MAX_WORK // (EXTRA_N * steps))))
    return int(max(MIN_N, min(MAX_N, math.isqrt(MAX_WORK // steps))))


def default_n(steps: int, mode: str) -> int:
    return min(DEFAULT_N[mode], max_n(steps, mode))


# --- the sweep scene --------------------------------------------------------------------

@dataclass(frozen=True)
class SweepScene:
    """A sweep of ``scene``.  ``None`` fields get their defaults (stored resolved, so two
    SweepScenes that show the same thing are equal).  Raises ValueError when invalid."""

    scene: Scene
    mode: str = "hyper"
    run: int = 0
    x: str | None = None
    y: str | None = None
    xr: tuple[float, float] | None = None
    yr: tuple[float, float] | None = None
    n: int | None = None
    color: str | None = None
    obj: str = "final_loss"
    extra: str = ""

    def __post_init__(self):
        put = object.__setattr__
        if not isinstance(self.scene, Scene):
            raise ValueError("scene must be a Scene")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        runs = self.scene.runs
        if isinstance(self.run, bool) or not isinstance(self.run, (int, np.integer)):
            raise ValueError("run must be a whole number")
        put(self, "run", int(self.run))
        if runs and not 0 <= self.run < len(runs):
            raise ValueError(f"run must be in [0, {len(runs) - 1}]")
        if not runs and self.run != 0:
            raise ValueError("the scene has no runs")
        # grid size
        n = default_n(self.scene.steps, self.mode) if self.n is None else self.n
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not MIN_N <= n <= MAX_N:
            raise ValueError(f"n must be a whole number in [{MIN_N}, {MAX_N}]")
        if n > max_n(self.scene.steps, self.mode):
            raise ValueError(f"n={n} with {self.scene.steps} steps is too much work: at most "
                             f"n={max_n(self.scene.steps, self.mode)}")
        put(self, "n", int(n))
        # colour
        colors = BASIN_COLORS if self.mode == "basin" else HYPER_COLORS
        color = colors[0] if self.color is None else self.color
        if color not in colors:
            raise ValueError(f"color must be one of {colors} in {self.mode} mode")
        put(self, "color", color if self.mode != "tune" else HYPER_COLORS[0])
        if self.obj not in OBJECTIVES:
            raise ValueError(f"obj must be one of {OBJECTIVES}")
        # mode-specific fields; those a mode does not use are canonical (None / "")
        run = runs[self.run] if runs else None
        x, y, xr, yr, extra = None, None, None, None, ""
        if self.mode == "hyper" and run is not None:
            names = sweepable(run)
            x = "learning_rate" if self.x is None else self.x
            if x not in names:
                raise ValueError(f"x must be one of {names}")
            y = default_y(run, x) if self.y is None else self.y
            if y != NONE and (y not in names or y == x):
                raise ValueError(f"y must be 'none' or one of {[k for k in names if k != x]}")
            xr = default_range(run, x) if self.xr is None else _check_range(_spec(run, x), self.xr, "x range")
            if y != NONE:
                yr = default_range(run, y) if self.yr is None else _check_range(_spec(run, y), self.yr, "y range")
        elif self.mode == "basin":
            x0, x1, y0, y1 = landscape_domain(self.scene)
            xr = (x0, x1) if self.xr is None else _basin_range(self.xr, (x0, x1), "x range")
            yr = (y0, y1) if self.yr is None else _basin_range(self.yr, (y0, y1), "y range")
        elif self.mode == "tune":
            lr = Param("learning_rate", 0.01, 1e-6, 10.0, log=True)
            xr = TUNE_LR if self.xr is None else _check_range(lr, self.xr, "learning-rate range")
            extra = self.extra or ""
            if extra and extra not in tune_extras(self.scene):
                raise ValueError(f"extra must be '' or one of {tune_extras(self.scene)}")
        put(self, "x", x)
        put(self, "y", y)
        put(self, "xr", xr)
        put(self, "yr", yr)
        put(self, "extra", extra)

    # --- derived, plain values -------------------------------------------------------
    @property
    def run_obj(self) -> Run | None:
        return self.scene.runs[self.run] if self.scene.runs else None

    def replace(self, **changes) -> "SweepScene":
        return replace(self, **changes)

    def x_values(self) -> np.ndarray:
        """hyper: values of x; basin: start xs; tune: learning rates."""
        if self.mode == "hyper":
            return axis_values(_spec(self.run_obj, self.x), *self.xr, self.n)
        if self.mode == "basin":
            return np.array([num(v) for v in np.linspace(*self.xr, self.n)])
        return axis_values(Param("learning_rate", 0.01, 1e-6, 10.0, log=True), *self.xr, self.n)

    def y_values(self) -> np.ndarray | None:
        if self.mode == "hyper":
            return None if self.y == NONE else axis_values(_spec(self.run_obj, self.y), *self.yr, self.n)
        if self.mode == "basin":
            return np.array([num(v) for v in np.linspace(*self.yr, self.n)])
        return None

    def x_log(self) -> bool:
        if self.mode == "hyper":
            return is_log(_spec(self.run_obj, self.x))
        return self.mode == "tune"

    def y_log(self) -> bool:
        return self.mode == "hyper" and self.y != NONE and is_log(_spec(self.run_obj, self.y))

    def extra_values(self, run: Run) -> np.ndarray | None:
        """tune: the extra hyperparameter's EXTRA_N values for ``run`` (None if it has none)."""
        if not self.extra or self.extra not in sweepable(run):
            return None
        p = _spec(run, self.extra)
        return axis_values(p, *default_range(run, self.extra), EXTRA_N)


def tune_extras(scene: Scene) -> list[str]:
    """Hyperparameters (besides the rate) that at least one run of ``scene`` has."""
    out: list[str] = []
    for r in scene.runs:
        for name in sweepable(r):
            if name != "learning_rate" and name not in out:
                out.append(name)
    return out


# --- clicks and "race at their best": the main-page Scene to load ----------------------

def hyper_click_scene(ss: SweepScene, xv: float, yv: float | None = None) -> Scene:
    """The main Scene with the swept run's hyperparameters set to a cell's values."""
    run = ss.run_obj
    changes = {ss.x: fit(_spec(run, ss.x), xv)}
    if ss.y not in (None, NONE) and yv is not None:
        changes[ss.y] = fit(_spec(run, ss.y), yv)
    runs = list(ss.scene.runs)
    runs[ss.run] = run.with_hp(**changes)
    return ss.scene.replace(runs=tuple(runs), span=None)


def basin_click_scene(ss: SweepScene, x: float, y: float) -> Scene:
    """The main Scene started from a clicked start point (clamped to the sweep's region)."""
    x = min(max(float(x), ss.xr[0]), ss.xr[1])
    y = min(max(float(y), ss.yr[0]), ss.yr[1])
    return ss.scene.replace(start=(num(x), num(y)), span=None)


def tuned_scene(ss: SweepScene, best: Sequence[Mapping[str, float] | None]) -> Scene:
    """The main Scene with each run at its tuned values (``best[i]``: name -> value, or None
    to keep run i as it is)."""
    runs = []
    for run, b in zip(ss.scene.runs, best):
        if b:
            ok = {k: fit(_spec(run, k), v) for k, v in b.items() if k in run.hp}
            run = run.with_hp(**ok)
        runs.append(run)
    return ss.scene.replace(runs=tuple(runs) + tuple(ss.scene.runs[len(runs):]), span=None)


def cell_from_point(point: Any, xs: np.ndarray, ys: np.ndarray | None, x_log: bool = False,
                    y_log: bool = False) -> tuple[int, int] | None:
    """A plot selection's point -> the nearest grid cell ``(i_y, i_x)`` (``(0, i_x)`` for a
    1-D sweep); None if the point is not usable.  Uses the numbers, never trusts an index."""
    if not isinstance(point, Mapping):
        return None
    px, py = point.get("x"), point.get("y")

    def ok(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if not ok(px):
        return None

    def nearest(vals, v, log):
        vals = np.asarray(vals, np.float64)
        if log and v > 0 and (vals > 0).all():
            return int(np.argmin(np.abs(np.log(vals) - math.log(v))))
        return int(np.argmin(np.abs(vals - v)))

    ix = nearest(xs, px, x_log)
    if ys is None:
        return (0, ix)
    if not ok(py):
        return None
    return (nearest(ys, py, y_log), ix)


def fit(p: Param, v: float) -> float:
    v = num(v)
    return min(max(v, p.low), p.high)


# --- the URL ----------------------------------------------------------------------------

def encode(ss: SweepScene) -> dict[str, str]:
    """The main Scene's query, then the ``sw_`` keys that differ from their defaults."""
    q = link.encode(ss.scene)
    q["sw_mode"] = ss.mode
    d = SweepScene(ss.scene, mode=ss.mode, run=ss.run, x=ss.x, extra=ss.extra)  # defaults
    if ss.run != 0:
        q["sw_run"] = str(ss.run)
    if ss.mode == "hyper" and ss.run_obj is not None:
        if ss.x != "learning_rate":
            q["sw_x"] = ss.x
        if ss.y != d.y:
            q["sw_y"] = ss.y
    if ss.xr != d.xr:
        q["sw_xr"] = ",".join(fmt(v) for v in ss.xr)
    if ss.yr != d.yr and ss.yr is not None:
        q["sw_yr"] = ",".join(fmt(v) for v in ss.yr)
    if ss.n != default_n(ss.scene.steps, ss.mode):
        q["sw_n"] = str(ss.n)
    if ss.mode != "tune" and ss.color != d.color:
        q["sw_color"] = ss.color
    if ss.mode == "tune":
        if ss.obj != "final_loss":
            q["sw_obj"] = ss.obj
        if ss.extra:
            q["sw_extra"] = ss.extra
    return q


def to_query_string(ss: SweepScene) -> str:
    return query_string(encode(ss))


SW_KEYS = ("sw_mode", "sw_run", "sw_x", "sw_y", "sw_xr", "sw_yr", "sw_n", "sw_color", "sw_obj",
           "sw_extra")


def _last(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        v = v[-1] if v else ""
    return str(v)


def decode(params: Mapping[str, Any]) -> tuple[SweepScene, list[str]]:
    """Read a (possibly hostile) query: ``(sweep scene, warnings)``.  Never raises."""
    return safely(_read, params, lambda: SweepScene(default_scene()), "the default sweep")


def _split(params: Mapping[str, Any], problems: Problems) -> tuple[dict[str, Any], dict[str, str]]:
    """The race Scene's keys (as given) and the checked ``sw_`` keys (one value each)."""
    main: dict[str, Any] = {}
    sw: dict[str, str] = {}
    n_sw = 0
    for k, v in list(params.items() if isinstance(params, Mapping) else ())[: 4 * link.SCHEMA.max_keys]:
        k = str(k)[:200]
        if not k.startswith("sw_"):
            main[k] = v
            continue
        n_sw += 1
        if n_sw > 2 * len(SW_KEYS):
            continue
        if k not in SW_KEYS:
            problems.add(f"unknown sweep key {show(k)} ignored")
            continue
        if isinstance(v, (list, tuple)) and len(set(map(str, v))) > 1:
            problems.add(f"{k} appears more than once; using the last value")
        text = _last(v)
        if len(text) > MAX_SW_CHARS:
            problems.add(f"the value of {k} is too long and was ignored")
            continue
        sw[k] = text.strip()
    return main, sw


def _read(params: Mapping[str, Any], problems: Problems) -> SweepScene:
    main, sw = _split(params, problems)
    scene, main_warnings = link.decode(main)
    for w in main_warnings:
        problems.add(w)
    mode = sw.get("sw_mode", "hyper").lower()
    if mode not in MODES:
        problems.add(f"unknown sweep mode {show(mode)}; showing the hyperparameter map")
        mode = "hyper"
    kw: dict[str, Any] = {"mode": mode, **_read_run_and_n(sw, scene, mode, problems)}
    run = scene.runs[kw.get("run", 0)] if scene.runs else None
    kw.update(_read_axes(sw, scene, mode, run, problems))
    kw.update(_read_colour(sw, mode, problems))
    try:
        return SweepScene(scene, **kw)
    except ValueError as err:  # a combination the checks above missed: drop the sweep's extras
        problems.add(f"the sweep settings could not be used ({err}); using the defaults")
        return SweepScene(scene, mode=mode)


def _read_run_and_n(sw: Mapping[str, str], scene: Scene, mode: str, problems: Problems) -> dict[str, Any]:
    """Which run is swept, and the grid size (clamped to the work budget)."""
    kw: dict[str, Any] = {}
    runs = scene.runs
    r = _int(sw["sw_run"], "sw_run", problems) if "sw_run" in sw else None
    if r is not None:
        if runs and not 0 <= r < len(runs):
            problems.add(f"sw_run={r} is not a run of the scene (0..{len(runs) - 1}); using 0")
        kw["run"] = r if runs and 0 <= r < len(runs) else 0
    n = default_n(scene.steps, mode)
    v = _int(sw["sw_n"], "sw_n", problems) if "sw_n" in sw else None
    if v is not None:
        if not MIN_N <= v <= MAX_N:
            problems.add(f"sw_n={v} is out of range [{MIN_N}, {MAX_N}]; using {min(max(v, MIN_N), MAX_N)}")
        n = min(max(v, MIN_N), MAX_N)
    cap = max_n(scene.steps, mode)
    if n > cap:
        problems.add(f"a {n}-point grid with {scene.steps:,} steps is too much work; using {cap}")
        n = cap
    kw["n"] = n
    return kw


def _read_axes(sw: Mapping[str, str], scene: Scene, mode: str, run: Run | None,
               problems: Problems) -> dict[str, Any]:
    """The swept hyperparameters (a map), the starts' box (basins) or the rates (a fair race)."""
    kw: dict[str, Any] = {}
    if mode == "hyper" and run is not None:
        names = sweepable(run)
        x = sw.get("sw_x", "learning_rate")
        if x not in names:
            problems.add(f"sw_x: {run.optimizer} has no hyperparameter {show(x)} to sweep; "
                         f"using learning_rate (choose from {', '.join(names)})")
            x = "learning_rate"
        kw["x"] = x
        y = default_y(run, x)
        if "sw_y" in sw:
            if sw["sw_y"] != NONE and (sw["sw_y"] not in names or sw["sw_y"] == x):
                problems.add(f"sw_y: {show(sw['sw_y'])} cannot be swept against {x}; using {y}")
            else:
                kw["y"] = y = sw["sw_y"]
        kw["xr"] = _range(sw, "sw_xr", lambda r: _check_range(_spec(run, x), r, "sw_xr"), problems)
        if y != NONE:
            kw["yr"] = _range(sw, "sw_yr", lambda r: _check_range(_spec(run, y), r, "sw_yr"), problems)
    elif mode == "basin":
        dom = landscape_domain(scene)
        kw["xr"] = _range(sw, "sw_xr", lambda r: _basin_range(r, dom[:2], "sw_xr"), problems)
        kw["yr"] = _range(sw, "sw_yr", lambda r: _basin_range(r, dom[2:], "sw_yr"), problems)
    elif mode == "tune":
        lr = Param("learning_rate", 0.01, 1e-6, 10.0, log=True)
        kw["xr"] = _range(sw, "sw_xr", lambda r: _check_range(lr, r, "sw_xr"), problems)
        kw["extra"] = sw.get("sw_extra", "")
        if kw["extra"] and kw["extra"] not in tune_extras(scene):
            problems.add(f"sw_extra: no run has a hyperparameter {show(kw['extra'])}; tuning the "
                         "learning rate only")
            kw["extra"] = ""
    return kw


def _read_colour(sw: Mapping[str, str], mode: str, problems: Problems) -> dict[str, Any]:
    """What the map's colour shows, and what a fair race minimises."""
    kw: dict[str, Any] = {}
    if "sw_color" in sw and mode != "tune":
        colors = BASIN_COLORS if mode == "basin" else HYPER_COLORS
        if sw["sw_color"] in colors:
            kw["color"] = sw["sw_color"]
        else:
            problems.add(f"sw_color: {show(sw['sw_color'])} is not one of {', '.join(colors)}; "
                         f"using {colors[0]}")
    if "sw_obj" in sw:
        if sw["sw_obj"] in OBJECTIVES:
            kw["obj"] = sw["sw_obj"]
        else:
            problems.add(f"sw_obj: {show(sw['sw_obj'])} is not one of {', '.join(OBJECTIVES)}; "
                         "using final_loss")
    return kw


def _int(text: str, key: str, problems: Problems) -> int | None:
    try:
        v = parse_float(text)
    except (ValueError, OverflowError):
        problems.add(f"{key}={show(text)} is not a number; ignored")
        return None
    if v != int(v):
        problems.add(f"{key}={fmt(v)} is not a whole number; using {int(round(v))}")
    return int(round(max(min(v, 1e9), -1e9)))


def _range(sw: Mapping[str, str], key: str, check, problems: Problems):
    if key not in sw:
        return None
    text = sw[key]
    try:
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError(f"{key} must be two numbers lo,hi")
        return check(tuple(parse_float(t) for t in parts))
    except (ValueError, OverflowError) as err:
        msg = str(err) if str(err) and "could not convert" not in str(err) else "not two numbers"
        problems.add(f"{key}={show(text)} is not valid ({msg}); using the default range")
        return None
