r"""The race page's URL: a Scene as query parameters and back.

URL schema, version 1
=====================

A view is the query string of the page's URL.  Keys, in the order they are
written (only ``v``, ``ls``, ``steps`` and the runs are always present; every
other key is written only when it differs from its default)::

    v=1                                   schema version
    scene=ravine_momentum                 (read only) start from a ready scene; other keys override it
    ls=rosenbrock                         landscape: a built-in name ...
    ls=quadratic:condition=100,angle=30   ... with its parameters (those not at their default)
    ls=custom&f=x**2+10*sin(y)            ... or your own formula (the formula language of
    dom=-3,3,-3,3                             landscapes.expression) on xmin,xmax,ymin,ymax
    start=-1.5,2                          start point x,y (default: the landscape's)
    steps=10000                           number of updates, 1 to 100000
    r0=adam:learning_rate=0.01,b1=0.95    run 0: optimizer, then hyperparameters by optax's names;
    r1=sgd~lookahead:learning_rate=0.001      learning_rate is always written, the others only when
    r2=sgd~raw:learning_rate=0.1              not at the rule's default.  Flags after the name:
    ...  up to r7                             ~lookahead wraps the rule in Lookahead, ~raw makes the
                                              run ignore the shared clipping and noise
    l0=Fast%20Adam                        run 0's legend label (default: title and learning rate)
    runs=none                             a scene without runs (only the landscape)
    sched=cosine:decay_steps=5000,alpha=0 learning-rate schedule and its numbers (default: constant)
    clip=norm:1                           clip gradients by global norm (or value:0.5) at that size
    noise=0.5&seed=3                      Gaussian gradient noise sigma and its seed
    span=0,500                            the animation's step range (default: all steps)
    view=3d                               3-D surface instead of the contour
    panels=loss,dist,elr                  side plots, from: loss, dist, step, elr
    tol=0.0001                            tolerance of the "steps to tolerance" column
    xlog=1                                logarithmic step axis in the side plots

Numbers are plain decimals (``0.01``, ``1e-05``), written with 6 significant
digits; booleans are ``1``/``0`` (``true``/``false`` are read too).  A link
without runs gets the default scene's runs, tuned for its landscape.

Reading a link never fails.  Unknown keys, landscapes, optimizers,
hyperparameters and schedules, out-of-range, non-numeric or non-finite values,
duplicated keys and invalid formulas each produce a warning and a safe default
(an unknown optimizer drops its run; an out-of-range number is clamped; steps
are clamped to 1..100000).  A query longer than 4,096 characters or with more
than 48 keys is ignored as a whole.  Reading is linear in the query's length
and evaluates nothing: a formula is only checked by the allowlist parser.
"""

from __future__ import annotations

from typing import Any, Mapping

import landscapes
from landscapes import expression
from optimizers.transforms import SEED
from viz.common.runs import encode_runs_and_switches, pairs_text, read_runs, read_switches
from viz.common.url import (MAX_QUERY_CHARS, Problems, Schema, decode_with, fmt, parse_float, parse_pair, query_lists,
                            query_string, read_number, read_pairs, show)
from viz.race import defaults, presets
from viz.race.scene import (CUSTOM, DEFAULT_DOMAIN, DEFAULT_PANELS, DEFAULT_STEPS, MAX_RUNS, MAX_STEPS, PANELS,
                            SCHEMA_VERSION, TOL, VIEWS, Scene, _domain, landscape_domain)

# --- encoding ---------------------------------------------------------------------------


def encode(scene: Scene) -> dict[str, str]:
    """The scene as query parameters (an ordered dict of strings)."""
    q: dict[str, str] = {"v": str(SCHEMA_VERSION)}
    if scene.landscape == CUSTOM:
        q["ls"] = CUSTOM
        q["f"] = scene.formula
        if scene.domain != DEFAULT_DOMAIN:
            q["dom"] = ",".join(fmt(v) for v in scene.domain)
    else:
        text = pairs_text(landscapes.param_specs(scene.landscape), scene.landscape_params)
        q["ls"] = scene.landscape + (":" + text if text else "")
    if scene.start is not None:
        q["start"] = ",".join(fmt(v) for v in scene.start)
    q["steps"] = str(scene.steps)
    encode_runs_and_switches(q, scene)
    if scene.seed != 0:
        q["seed"] = str(scene.seed)
    if scene.span is not None:
        q["span"] = f"{scene.span[0]},{scene.span[1]}"
    if scene.view != "2d":
        q["view"] = scene.view
    if scene.panels != DEFAULT_PANELS:
        q["panels"] = ",".join(scene.panels) or "none"
    if scene.tol != TOL.default:
        q["tol"] = fmt(scene.tol)
    if scene.log_steps:
        q["xlog"] = "1"
    return q


def to_query_string(scene: Scene) -> str:
    """``v=1&ls=rosenbrock&...``: readable (``, : = ~`` are not escaped)."""
    return query_string(encode(scene))


# --- decoding -----------------------------------------------------------------------------

SCHEMA = Schema(known=frozenset({"v", "scene", "ls", "f", "dom", "start", "steps", "runs", "sched", "clip",
                                 "noise", "seed", "span", "view", "panels", "tol", "xlog"}),
                max_keys=48, max_chars=MAX_QUERY_CHARS, run_digits=2, version=SCHEMA_VERSION)


def decode(params: Mapping[str, Any]) -> tuple[Scene, list[str]]:
    """Read a (possibly hostile) query: ``(scene, warnings)``.  Never raises."""
    return decode_with(_read, params, SCHEMA, defaults.default_scene, "the default scene")


def from_query_string(qs: str) -> tuple[Scene, list[str]]:
    """:func:`decode` of a raw query string (``?`` optional)."""
    return decode(query_lists(qs))


def _read(q: dict[str, str], problems: Problems) -> Scene:
    base = _base(q, problems)
    kw = _read_where(q, base, problems)
    landscape = kw["landscape"]
    runs = read_runs(q, problems, MAX_RUNS, SCHEMA.is_run_key, lambda name: defaults.default_lr(landscape, name),
                     lambda: defaults.default_runs(landscape))
    if runs is None:
        runs = base.runs if landscape == base.landscape else defaults.default_runs(landscape)
    kw["runs"] = tuple(runs)
    kw.update({"schedule": base.schedule, "schedule_params": base.schedule_params, "clip": base.clip,
               "clip_at": base.clip_at, "noise": base.noise, **read_switches(q, problems)})
    kw["seed"] = int(read_number(q["seed"], SEED, "seed", problems)) if "seed" in q else base.seed
    kw.update(_read_view(q, base, kw["steps"], problems))
    return Scene(**kw)


def _base(q: dict[str, str], problems: Problems) -> Scene:
    """What the link starts from: a ready scene (``scene=``), or the default."""
    if "scene" in q:
        name = q["scene"].strip()
        if name in presets.PRESETS:
            return presets.PRESETS[name].scene
        problems.add(f"unknown scene {show(name)}; starting from the default scene")
    return defaults.default_scene()


def _read_where(q: dict[str, str], base: Scene, problems: Problems) -> dict[str, Any]:
    """The landscape (or formula and domain), the start and the steps."""
    kw: dict[str, Any] = {}
    if "ls" in q:
        _read_landscape(q, kw, problems)
    else:
        kw.update(landscape=base.landscape, landscape_params=base.landscape_params,
                  formula=base.formula, domain=base.domain)
        if "f" in q or "dom" in q:
            problems.add("'f' and 'dom' need ls=custom; ignored")
    kw["start"] = None if kw["landscape"] != base.landscape or "start" in q else base.start
    if "start" in q:
        kw["start"] = _read_start(q["start"], kw, problems)
    kw["steps"] = _read_steps(q["steps"], problems) if "steps" in q else base.steps
    return kw


def _read_view(q: dict[str, str], base: Scene, steps: int, problems: Problems) -> dict[str, Any]:
    """The animation's span, 2-D or 3-D, the side plots, the tolerance, the step axis."""
    kw: dict[str, Any] = {"span": base.span if steps == base.steps else None, "view": base.view,
                          "panels": base.panels, "tol": base.tol, "log_steps": base.log_steps}
    if "span" in q:
        kw["span"] = _read_span(q["span"], steps, problems)
    if "view" in q:
        kw["view"] = q["view"].strip().lower()
        if kw["view"] not in VIEWS:
            problems.add(f"unknown view {show(q['view'])}; showing 2d")
            kw["view"] = "2d"
    if "panels" in q:
        kw["panels"] = _read_panels(q["panels"], problems)
    if "tol" in q:
        kw["tol"] = read_number(q["tol"], TOL, "tol", problems)
    if "xlog" in q:
        t = q["xlog"].strip().lower()
        if t in ("1", "true", "0", "false"):
            kw["log_steps"] = t in ("1", "true")
        else:
            problems.add(f"xlog={show(q['xlog'])} is not 0 or 1; ignored")
    return kw


def _read_landscape(q, kw, problems):
    head, _, rest = q["ls"].partition(":")
    name = head.strip()
    if name == CUSTOM:
        formula = q.get("f", "")
        ok, msg, col = expression.check(formula) if formula else (False, "no formula (f=...) given", None)
        if ok:
            kw.update(landscape=CUSTOM, landscape_params=(), formula=formula, domain=DEFAULT_DOMAIN)
            if "dom" in q:
                try:
                    kw["domain"] = _domain(parse_float(t) for t in q["dom"].split(","))
                except ValueError as err:
                    problems.add(f"domain {show(q['dom'])} is not valid ({err}); using -3,3,-3,3")
            return
        where = f" at column {col}" if col else ""
        problems.add(f"the formula{where} is not valid: {msg}; showing the default landscape")
    elif name in landscapes.names():
        params = read_pairs(rest, landscapes.param_specs(name), f"landscape {name}", problems)
        kw.update(landscape=name, landscape_params=params, formula="", domain=None)
        if "f" in q or "dom" in q:
            problems.add("'f' and 'dom' need ls=custom; ignored")
        return
    else:
        problems.add(f"unknown landscape {show(name)}; showing the default landscape")
    d = defaults.default_scene()
    kw.update(landscape=d.landscape, landscape_params=d.landscape_params, formula="", domain=None)


def _read_start(text, kw, problems):
    try:
        x, y = parse_pair(text)
    except (ValueError, OverflowError):
        problems.add(f"start={show(text)} is not a point x,y; using the landscape's start")
        return None
    x0, x1, y0, y1 = landscape_domain(kw)
    cx, cy = min(max(x, x0), x1), min(max(y, y0), y1)
    if (cx, cy) != (x, y):
        problems.add(f"start {fmt(x)},{fmt(y)} is outside the plotted domain; moved to "
                     f"{fmt(cx)},{fmt(cy)}")
    return (cx, cy)


def _read_steps(text, problems) -> int:
    try:
        v = parse_float(text)
    except (ValueError, OverflowError):
        problems.add(f"steps={show(text)} is not a number; using {DEFAULT_STEPS}")
        return DEFAULT_STEPS
    if v < 1:
        problems.add(f"steps={fmt(v)} is not positive; using {DEFAULT_STEPS}")
        return DEFAULT_STEPS
    if v > MAX_STEPS:
        problems.add(f"steps={fmt(v)} is more than {MAX_STEPS:,}; using {MAX_STEPS:,}")
        return MAX_STEPS
    if v != int(v):
        problems.add(f"steps={fmt(v)} is not a whole number; using {int(round(v))}")
    return max(1, int(round(v)))


def _read_span(text, steps, problems):
    try:
        a, b = parse_pair(text)
    except (ValueError, OverflowError):
        problems.add(f"span={show(text)} is not two steps a,b; animating all steps")
        return None
    a2, b2 = int(min(max(round(a), 0), steps)), int(min(max(round(b), 0), steps))
    if a2 >= b2:
        problems.add(f"span={show(text)} is empty; animating all steps")
        return None
    if (a2, b2) != (a, b):
        problems.add(f"span {fmt(a)},{fmt(b)} clamped to {a2},{b2}")
    return (a2, b2)


def _read_panels(text, problems):
    if text.strip() == "none":
        return ()
    out = []
    for p in text.split(","):
        p = p.strip()
        if p in PANELS:
            out.append(p)
        elif p:
            problems.add(f"unknown side plot {show(p)} ignored")
    return tuple(out)
