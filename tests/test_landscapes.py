"""The built-in landscapes: metadata, minima that are really (global) minima,
parameters that do what they say, and a constructor that refuses bad input."""

from __future__ import annotations

import itertools
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscapes
from landscapes import Landscape
from landscapes.base import value_at_minima
from viz.common.text import inline_math

NAMES = landscapes.names()
HEADLINE = ["quadratic", "rosenbrock", "saddle", "ravine"]


def f32(p):
    return jnp.asarray(p, jnp.float32)


def inside(point, domain) -> bool:
    (x0, x1), (y0, y1) = domain
    return x0 <= point[0] <= x1 and y0 <= point[1] <= y1


def gradient_scale(L: Landscape) -> float:
    """The landscape's typical slope: the 95th percentile of |grad f| over a 60x60 grid."""
    (x0, x1), (y0, y1) = L.domain
    X, Y = np.meshgrid(np.linspace(x0, x1, 60), np.linspace(y0, y1, 60))
    pts = f32(np.stack([X.ravel(), Y.ravel()], axis=1))
    g = np.asarray(jax.jit(jax.vmap(jax.grad(L.f)))(pts))
    return float(np.percentile(np.linalg.norm(g, axis=1), 95))


def test_names():
    assert NAMES[:4] == HEADLINE
    assert len(NAMES) >= 14 and len(set(NAMES)) == len(NAMES)
    for n in NAMES:
        assert landscapes.get(n).name == n


@pytest.mark.parametrize("name", NAMES)
def test_metadata(name):
    L = landscapes.get(name)
    assert L.title.strip() and L.latex.strip() and L.lesson.strip()
    # the race page's header draws the formula as MathML (viz.common.text.inline_math): all of it
    mathml = inline_math(L.latex)
    assert mathml.startswith("<math") and mathml.endswith("</math>"), mathml
    numbers = re.findall(r"<mn>([^<]*)</mn>", mathml)
    assert "".join(numbers) == "".join(re.findall(r"(?<![a-z_])\d+(?:\.\d+)?", L.latex.replace("tfrac12", "tfrac{1}{2}")))
    (x0, x1), (y0, y1) = L.domain
    assert x0 < x1 and y0 < y1
    assert inside(L.start, L.domain)
    assert np.isfinite(float(L.f(f32(L.start))))
    assert L.minima, "every built-in landscape lists its global minima"
    assert L.f_min is not None and math.isfinite(L.f_min)
    # the same landscape on every call (the runner's compile cache keys on it)
    assert landscapes.get(name) is L


STATED_F_MIN = [e["name"] for e in landscapes.catalog._ENTRIES if "f_min" in e]


@pytest.mark.parametrize("name", STATED_F_MIN)
def test_a_stated_f_min_is_what_evaluating_the_minima_gives(name):
    """Where the catalog states f* (sparing a server the evaluation's compiles: 11 surfaces, the
    default page's Rosenbrock among them), it is, bit for bit, what the op-by-op evaluation at
    the minima gives, for every parameter value tried: a shared link's f − f* is the same."""
    assert len(STATED_F_MIN) >= 11 and "rosenbrock" in STATED_F_MIN
    specs = landscapes.param_specs(name)
    values = itertools.product(*[np.linspace(p.low, p.high, 6) for p in specs])
    for params in [{}] + [dict(zip([p.name for p in specs], map(float, v))) for v in values]:
        L = landscapes.get(name, **params)
        got = value_at_minima(L.f, L.minima)
        assert np.float64(L.f_min).tobytes() == np.float64(got).tobytes(), (name, params, L.f_min, got)


@pytest.mark.parametrize("name", NAMES)
def test_listed_minima_are_minima(name):
    L = landscapes.get(name)
    scale = gradient_scale(L)
    width = min(L.domain[0][1] - L.domain[0][0], L.domain[1][1] - L.domain[1][0])
    for m in L.minima:
        assert inside(m, L.domain)
        value = float(L.f(f32(m)))
        # each listed minimum has the minimal value (f_min is their minimum; several
        # minima must tie): float32 rounding of f, relative to |f_min|
        assert value == pytest.approx(L.f_min, rel=1e-5, abs=1e-5)
        # stationary: the minima are listed to ~6 digits and evaluated in float32,
        # so the gradient there is tiny only relative to the landscape's own slope
        g = np.asarray(jax.grad(L.f)(f32(m)))
        assert np.linalg.norm(g) <= 1e-5 * scale, (m, g, scale)
        # a local minimum: no lower value on a small circle around it
        r = 1e-3 * width
        angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        ring = f32(np.asarray(m) + r * np.stack([np.cos(angles), np.sin(angles)], axis=1))
        assert np.min(np.asarray(jax.jit(jax.vmap(L.f))(ring))) >= value - 1e-6 * (1 + abs(value))


@pytest.mark.parametrize("name", NAMES)
def test_listed_minima_are_global(name):
    L = landscapes.get(name)
    xs, ys, z = L.grid(150)
    assert z.shape == (150, 150) and xs.shape == (150,) and ys.shape == (150,)
    assert xs[0] == pytest.approx(L.domain[0][0]) and xs[-1] == pytest.approx(L.domain[0][1])
    assert ys[0] == pytest.approx(L.domain[1][0]) and ys[-1] == pytest.approx(L.domain[1][1])
    assert np.isfinite(z).all()
    # no grid point lower than the listed global minimum (beyond float32 rounding)
    assert np.min(z) >= L.f_min - 1e-5 * (1 + abs(L.f_min))
    # z[iy, ix] = f(xs[ix], ys[iy])
    iy, ix = 17, 101
    assert z[iy, ix] == pytest.approx(float(L.f(f32([xs[ix], ys[iy]]))), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name, minima", sorted(landscapes.LOCAL_MINIMA.items()))
def test_local_minima_are_stationary_points(name, minima):
    L = landscapes.get(name)
    scale = gradient_scale(L)
    for m in minima:
        assert inside(m, L.domain)
        g = np.asarray(jax.grad(L.f)(f32(m)))
        assert np.linalg.norm(g) <= 1e-5 * scale, (m, g)
        # and minima, not saddles: the Hessian is positive definite
        H = np.asarray(jax.hessian(L.f)(f32(m)), np.float64)
        assert np.all(np.linalg.eigvalsh((H + H.T) / 2) > 0)
        # local, not global: higher than the listed global minimum
        assert float(L.f(f32(m))) > L.f_min
        assert min(np.hypot(m[0] - a, m[1] - b) for a, b in L.minima) > 0.1


# --- the quadratic's parameters -------------------------------------------------------------

def test_quadratic_parameters():
    specs = {p.name: p for p in landscapes.param_specs("quadratic")}
    assert set(specs) == {"condition", "angle"}
    default = landscapes.get("quadratic")
    assert default.params == {"condition": specs["condition"].default, "angle": specs["angle"].default}
    assert landscapes.param_specs("rosenbrock") == ()


@pytest.mark.parametrize("condition, angle", [(1.0, 0.0), (10.0, 30.0), (100.0, 45.0), (1000.0, -80.0), (3.5, 90.0)])
def test_quadratic_hessian_has_eigenvalues_one_and_kappa(condition, angle):
    L = landscapes.get("quadratic", condition=condition, angle=angle)
    assert L.params == {"condition": condition, "angle": angle}
    for point in [(0.0, 0.0), (1.3, -2.1)]:
        H = np.asarray(jax.hessian(L.f)(f32(point)), np.float64)
        eigenvalues, vectors = np.linalg.eigh((H + H.T) / 2)
        np.testing.assert_allclose(eigenvalues, sorted([1.0, condition]), rtol=1e-5)
        if condition > 1:
            # the flat direction (eigenvalue 1) is the long axis at `angle` degrees
            th = math.radians(angle)
            assert abs(vectors[:, 0] @ [math.cos(th), math.sin(th)]) == pytest.approx(1.0, abs=1e-5)
    # the minimum stays at the origin with value 0
    assert float(L.f(f32((0.0, 0.0)))) == 0.0 and L.f_min == 0.0


def test_quadratic_parameters_change_the_function():
    p = f32((1.0, 1.0))
    values = {float(landscapes.get("quadratic", condition=c, angle=a).f(p))
              for c, a in [(1.0, 0.0), (10.0, 0.0), (10.0, 30.0), (100.0, 30.0)]}
    assert len(values) == 4
    # the same parameters give the same landscape object
    assert landscapes.get("quadratic", condition=20, angle=10) is landscapes.get("quadratic", angle=10.0,
                                                                                 condition=20.0)


@pytest.mark.parametrize("name, params, fragments", [
    ("quadratic", dict(condition=0.5), ["condition", "[1, 1000]"]),
    ("quadratic", dict(condition=1e4), ["condition", "[1, 1000]"]),
    ("quadratic", dict(condition=float("nan")), ["condition", "[1, 1000]"]),
    ("quadratic", dict(condition="big"), ["condition", "number"]),
    ("quadratic", dict(condition=True), ["condition", "number"]),
    ("quadratic", dict(angle=100.0), ["angle", "[-90, 90]"]),
    ("quadratic", dict(angle=-91.0), ["angle", "[-90, 90]"]),
    ("quadratic", dict(kappa=10.0), ["'kappa'", "condition", "angle"]),
    ("rosenbrock", dict(condition=10.0), ["'condition'", "none"]),
    ("nope", {}, ["unknown landscape", "'nope'", "quadratic"]),
    (None, {}, ["unknown landscape"]),
    (3, {}, ["unknown landscape"]),
])
def test_bad_landscape_requests(name, params, fragments):
    with pytest.raises(ValueError) as info:
        landscapes.get(name, **params)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


# --- the constructor ------------------------------------------------------------------------

def bowl(p):
    return p[0] ** 2 + 3 * p[1] ** 2


def test_contract_landscape():
    L = Landscape(name="mine", f=lambda p: p[0] ** 2 + 3 * p[1] ** 2, domain=((-2, 2), (-2, 2)),
                  minima=[(0, 0)], start=(1.5, 1.5))
    assert L.domain == ((-2.0, 2.0), (-2.0, 2.0)) and L.start == (1.5, 1.5) and L.minima == ((0.0, 0.0),)
    assert L.f_min == 0.0 and L.title == "mine"
    assert float(L.f(f32((1.0, 1.0)))) == 4.0
    xs, ys, z = L.grid(21)
    assert z.shape == (21, 21) and np.min(z) == pytest.approx(0.0, abs=1e-12)  # float32 linspace
    assert L.nearest_minimum_distance(np.array([3.0, 4.0])) == pytest.approx(5.0)


def test_the_distance_to_the_nearest_of_several_minima():
    """Himmelblau's four minima: each row's distance is the smallest norm to any of them (NaN
    rows, after a divergence, stay NaN), for a path and for a grid of points."""
    L = landscapes.get("himmelblau")
    rng = np.random.default_rng(0)
    xy = (rng.standard_normal((2000, 2)) * 3).astype(np.float32)
    xy[1500:] = np.nan
    want = np.min([np.linalg.norm(xy.astype(np.float64) - m, axis=-1) for m in L.minima], axis=0)
    np.testing.assert_allclose(L.nearest_minimum_distance(xy), want, rtol=1e-15)
    assert np.isnan(L.nearest_minimum_distance(xy)[1500:]).all()
    g = xy[:100].reshape(10, 10, 2)
    np.testing.assert_allclose(L.nearest_minimum_distance(g), want[:100].reshape(10, 10), rtol=1e-15)


@pytest.mark.parametrize("kwargs, fragments", [
    (dict(domain=((2, -2), (-2, 2))), ["domain", "x", "min < max"]),
    (dict(domain=((-2, 2), (1, 1))), ["domain", "y", "min < max"]),
    (dict(domain=((-2, float("nan")), (-2, 2))), ["domain", "finite"]),
    (dict(domain=((-2, float("inf")), (-2, 2))), ["domain", "finite"]),
    (dict(domain=((-2, 2),)), ["domain"]),
    (dict(domain="everywhere"), ["domain"]),
    (dict(domain=((-2, 2, 3), (-2, 2))), ["domain"]),
    (dict(domain=(("a", 2), (-2, 2))), ["domain"]),
    (dict(start=(1.0,)), ["start", "pair"]),
    (dict(start=(1.0, 2.0, 3.0)), ["start", "pair"]),
    (dict(start="here"), ["start", "pair"]),
    (dict(start=(float("nan"), 0.0)), ["start", "finite"]),
    (dict(start=(0.0, float("inf"))), ["start", "finite"]),
    (dict(start=None), ["start"]),
    (dict(minima=[(0.0, float("nan"))]), ["minimum", "finite"]),
    (dict(minima=[(0.0,)]), ["minimum"]),
    (dict(name=""), ["name"]),
    (dict(name=None), ["name"]),
    (dict(f=None), ["function"]),
    (dict(f="x**2"), ["callable"]),
])
def test_constructor_rejects_bad_input(kwargs, fragments):
    args = dict(name="bad", f=bowl, domain=((-2, 2), (-2, 2)), minima=[(0, 0)], start=(1.0, 1.0))
    args.update(kwargs)
    with pytest.raises(ValueError) as info:
        Landscape(**args)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


@pytest.mark.parametrize("n", [0, 1, 2000, -5])
def test_grid_size_is_checked(n):
    with pytest.raises(ValueError, match="grid size"):
        landscapes.get("rosenbrock").grid(n)


# --- the numbers the lessons and comments quote, computed --------------------------------

def _hessian_eigs(L: Landscape, p) -> np.ndarray:
    return np.linalg.eigvalsh(np.asarray(jax.hessian(L.f)(f32(p)), np.float64))


def _grad_norm(L: Landscape, p) -> float:
    return float(np.linalg.norm(np.asarray(jax.grad(L.f)(f32(p)))))


def test_cliff_lesson_numbers():
    L = landscapes.get("cliff")
    start, floor = _grad_norm(L, L.start), _grad_norm(L, (-1.0, 0.0))
    xs = np.linspace(-0.5, 0.5, 2001)
    edge = max(_grad_norm(L, (x, 0.0)) for x in xs[::10])
    assert f"{start:.1f}" == "1.7" and f"{floor:.1f}" == "0.6" and round(edge) == 50
    assert L.start[0] < -1  # the start is on the plateau
    lo, hi = edge / start, edge / floor
    text = L.lesson  # "1.7 at the start ... 0.6 ... 50 ... 30 to 85 times" (85: 84 to the nearest 5)
    assert "1.7 at the start" in text and "0.6 on the plateau" in text and "50 at the cliff" in text
    assert f"{lo:.0f} to {5 * round(hi / 5)} times" in text


def test_booth_lesson_numbers():
    L = landscapes.get("booth")
    lo, hi = _hessian_eigs(L, (0.0, 0.0))  # a quadratic: the same everywhere
    assert (round(lo, 4), round(hi, 4)) == (2, 18)
    assert f"curvatures {lo:.0f} and {hi:.0f}, so κ = {hi / lo:.0f}" in L.lesson
    assert abs(hi / lo - landscapes.get("quadratic").params["condition"]) <= 1  # "like the default quadratic"


def test_ravine_comment_numbers():
    import inspect
    from landscapes import catalog
    L = landscapes.get("ravine")
    lo, hi = _hessian_eigs(L, (0.0, 0.0))
    ratios = []
    for x in np.linspace(*L.domain[0], 241):
        a, b = _hessian_eigs(L, (x, 0.5 * math.sin(x)))
        ratios.append(b / a)
    src = inspect.getsource(catalog.ravine)
    assert f"{lo:.2f} (along) and {hi:.2f}" in src
    assert f"ratio is {min(ratios):.0f} to {max(ratios):.0f}" in src


def test_styblinski_tang_lesson_two_local_minima_equally_deep():
    from landscapes.catalog import LOCAL_MINIMA
    L = landscapes.get("styblinski_tang")
    local = sorted(round(float(L.f(f32(m))), 3) for m in LOCAL_MINIMA["styblinski_tang"])
    assert len(local) == 3 and local[0] == local[1] < local[2] and local[0] > L.f_min + 1
    assert "three local minima, two of those equally deep" in L.lesson
