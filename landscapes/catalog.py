"""The built-in landscapes, each chosen to show one thing.

Every function takes ``xy`` (a ``(2,)`` array) and returns a scalar; the
parametrised ones take ``(xy, params)`` so their numbers are traced, not
compiled in.  Formulas are the standard ones (Surjanovic & Bingham, "Virtual
Library of Simulation Experiments"), except the five teaching surfaces
(saddle, ravine, cliff, plateau, two_basin) which are ours and documented here.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from landscapes.params import Param

PI = math.pi


# --- the four the app is known for -------------------------------------------------

def quadratic(xy, params):
    r"""Rotated elongated bowl  f = ½ (u² + κ v²),  (u, v) = R(θ)ᵀ (x, y)."""
    x, y = xy[0], xy[1]
    theta = params["angle"] * (PI / 180.0)
    c, s = jnp.cos(theta), jnp.sin(theta)
    u = c * x + s * y  # coordinate along the long (flat) axis
    v = -s * x + c * y  # coordinate along the short (steep) axis
    return 0.5 * (u**2 + params["condition"] * v**2)


def rosenbrock(xy):
    x, y = xy[0], xy[1]
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def saddle(xy):
    # Locally x² - y² at the origin; the quartic term bends the y-direction back
    # up so the escape ends in a minimum at (0, ±1) instead of at -inf.
    x, y = xy[0], xy[1]
    return x**2 - y**2 + 0.5 * y**4


def ravine(xy):
    # A narrow valley whose floor y = ½ sin x curves and slopes gently towards the
    # origin: at the origin the Hessian's eigenvalues are 0.16 (along) and 25.04
    # (across); along the floor the ratio is 100 to 157 (tests/test_landscapes.py).
    x, y = xy[0], xy[1]
    return 0.1 * x**2 + 10.0 * (y - 0.5 * jnp.sin(x)) ** 2


# --- classics ------------------------------------------------------------------------

def beale(xy):
    x, y = xy[0], xy[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def himmelblau(xy):
    x, y = xy[0], xy[1]
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def rastrigin(xy):
    return 20.0 + jnp.sum(xy**2 - 10.0 * jnp.cos(2.0 * PI * xy))


def ackley(xy):
    x, y = xy[0], xy[1]
    # +1e-12 keeps the gradient of the square root finite at the minimum itself.
    r = jnp.sqrt(0.5 * (x**2 + y**2) + 1e-12)
    return (-20.0 * jnp.exp(-0.2 * r)
            - jnp.exp(0.5 * (jnp.cos(2.0 * PI * x) + jnp.cos(2.0 * PI * y)))
            + math.e + 20.0)


def booth(xy):
    x, y = xy[0], xy[1]
    return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2


def matyas(xy):
    x, y = xy[0], xy[1]
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def six_hump_camel(xy):
    x, y = xy[0], xy[1]
    return (4.0 - 2.1 * x**2 + x**4 / 3.0) * x**2 + x * y + (-4.0 + 4.0 * y**2) * y**2


def styblinski_tang(xy):
    return 0.5 * jnp.sum(xy**4 - 16.0 * xy**2 + 5.0 * xy)


def goldstein_price(xy):
    x, y = xy[0], xy[1]
    a = 1.0 + (x + y + 1.0) ** 2 * (19.0 - 14.0 * x + 3.0 * x**2 - 14.0 * y + 6.0 * x * y + 3.0 * y**2)
    b = 30.0 + (2.0 * x - 3.0 * y) ** 2 * (18.0 - 32.0 * x + 12.0 * x**2 + 48.0 * y - 36.0 * x * y + 27.0 * y**2)
    return a * b


# --- the "challenges" of optimisation -------------------------------------------------

def cliff(xy):
    # A high plateau (x < 0) drops by 10 over a width of ~0.1 onto a gentle bowl
    # centred at (2, 0): |∇f| is 1.70 at the start, 0.60 at (-1, 0) and 50.4 at the
    # edge x = 0 (tests/test_landscapes.py computes them).
    x, y = xy[0], xy[1]
    return 0.1 * (x - 2.0) ** 2 + 0.5 * y**2 + 5.0 * (1.0 - jnp.tanh(10.0 * x))


def plateau(xy):
    # A narrow well in a flat plain: far from the origin the gradient vanishes.
    return 1.0 - jnp.exp(-jnp.sum(xy**2))


def two_basin(xy):
    # A shallow basin at x ≈ 1.35 (f ≈ -2.62) and a deeper one at x ≈ -1.47 (f ≈ -5.44).
    x, y = xy[0], xy[1]
    return x**4 - 4.0 * x**2 + x + y**2


# --- metadata --------------------------------------------------------------------------

QUADRATIC_PARAMS = (
    Param("condition", 10.0, 1.0, 1000.0, log=True,
          doc="condition number κ: ratio of the steepest to the flattest curvature"),
    Param("angle", 30.0, -90.0, 90.0,
          doc="rotation of the long axis, in degrees (0 = along x)"),
)

_HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131313), (-3.779310, -3.283186), (3.584428, -1.848127))

_ENTRIES = [
    dict(name="quadratic", fn=quadratic, param_specs=QUADRATIC_PARAMS,
         title="Quadratic bowl",
         latex=r"f = \tfrac12\,(u^2 + \kappa\, v^2),\quad \binom{u}{v} = R(-\theta)\binom{x}{y}",
         domain=((-3, 3), (-3, 3)), minima=[(0, 0)], f_min=0.0, start=(-2.5, 2.0),
         lesson="Ill-conditioning: the larger κ, the more plain gradient descent zig-zags "
                "across the steep axis while crawling along the flat one."),
    dict(name="rosenbrock", f=rosenbrock, title="Rosenbrock's banana",
         latex=r"f = (1 - x)^2 + 100\,(y - x^2)^2",
         domain=((-2, 2), (-1, 3)), minima=[(1, 1)], f_min=0.0, start=(-1.5, 2.0),
         lesson="Finding the curved valley is easy; following its flat, bending floor to "
                "the minimum is what separates optimizers."),
    dict(name="saddle", f=saddle, title="Saddle point",
         latex=r"f = x^2 - y^2 + \tfrac12 y^4",
         domain=((-2, 2), (-2, 2)), minima=[(0, -1), (0, 1)], f_min=-0.5, start=(1.8, 0.001),
         lesson="At a saddle the gradient vanishes without a minimum: methods that wait for "
                "a large gradient linger, momentum and adaptive steps escape sooner."),
    dict(name="ravine", f=ravine, title="Ravine",
         latex=r"f = 0.1\,x^2 + 10\,\bigl(y - \tfrac12 \sin x\bigr)^2",
         domain=((-6, 6), (-3, 3)), minima=[(0, 0)], f_min=0.0, start=(-5.0, 2.0),
         lesson="A narrow curved valley with a gentle floor: SGD bounces between the walls, "
                "momentum averages the bounces away and glides along the floor."),
    dict(name="beale", f=beale, title="Beale",
         latex=r"f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
         domain=((-4.5, 4.5), (-4.5, 4.5)), minima=[(3, 0.5)], f_min=0.0, start=(-1.0, -1.5),
         lesson="Flat regions next to walls of 10⁵: a single learning rate is too small in "
                "one place and explosive in the other."),
    dict(name="himmelblau", f=himmelblau, title="Himmelblau",
         latex=r"f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
         domain=((-5, 5), (-5, 5)), minima=_HIMMELBLAU_MINIMA, f_min=0.0, start=(0.0, 0.0),
         lesson="Four equally good minima: which one you reach depends on where you start "
                "and on the optimizer's path, not only on the landscape."),
    dict(name="rastrigin", f=rastrigin, title="Rastrigin",
         latex=r"f = 20 + \sum_{i} \bigl(x_i^2 - 10\cos 2\pi x_i\bigr)",
         domain=((-5.12, 5.12), (-5.12, 5.12)), minima=[(0, 0)], f_min=0.0, start=(3.2, 4.1),
         lesson="An egg-crate of local minima on a bowl: gradient methods stop in the nearest "
                "dimple unless noise or big steps carry them over the ridges."),
    dict(name="ackley", f=ackley, title="Ackley",
         latex=r"f = -20\,e^{-0.2\sqrt{(x^2+y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2} + e + 20",
         domain=((-5, 5), (-5, 5)), minima=[(0, 0)], start=(3.5, -3.8),
         lesson="A nearly flat, bumpy plain around one deep funnel: the global trend is only "
                "visible to a method that averages over the bumps."),
    dict(name="booth", f=booth, title="Booth",
         latex=r"f = (x + 2y - 7)^2 + (2x + y - 5)^2",
         domain=((-10, 10), (-10, 10)), minima=[(1, 3)], f_min=0.0, start=(-8.0, -8.0),
         lesson="A plain, tilted bowl (curvatures 2 and 18, so κ = 9, like the default quadratic): "
                "every reasonable optimizer gets there, a baseline to compare the hard cases with."),
    dict(name="matyas", f=matyas, title="Matyas",
         latex=r"f = 0.26\,(x^2 + y^2) - 0.48\,xy",
         domain=((-10, 10), (-10, 10)), minima=[(0, 0)], f_min=0.0, start=(-8.0, 6.0),
         lesson="A flat, diagonal valley: the gradient is small along it, so steps shrink just "
                "where the path is longest."),
    dict(name="six_hump_camel", f=six_hump_camel, title="Six-hump camel",
         latex=r"f = \bigl(4 - 2.1x^2 + \tfrac{x^4}{3}\bigr)x^2 + xy + (-4 + 4y^2)\,y^2",
         domain=((-3, 3), (-2, 2)), minima=[(0.089842, -0.712656), (-0.089842, 0.712656)],
         start=(-1.5, 1.2),
         lesson="Six local minima, two of them global: a small landscape with many ways to "
                "end up in the wrong place."),
    dict(name="styblinski_tang", f=styblinski_tang, title="Styblinski-Tang",
         latex=r"f = \tfrac12 \sum_i \bigl(x_i^4 - 16x_i^2 + 5x_i\bigr)",
         domain=((-5, 5), (-5, 5)), minima=[(-2.903534, -2.903534)], start=(4.5, 4.5),
         lesson="One global and three local minima, two of those equally deep: starting in the "
                "wrong quadrant, descent settles for a worse answer."),
    dict(name="goldstein_price", f=goldstein_price, title="Goldstein-Price",
         latex=r"f = [1 + (x+y+1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2)]\,"
               r"[30 + (2x-3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2)]",
         domain=((-2, 2), (-2, 2)), minima=[(0, -1)], f_min=3.0, start=(-1.5, 1.5),
         lesson="Values spanning six decades: without a log colour scale you see nothing, "
                "and without adaptive steps the gradient's size swings as wildly."),
    dict(name="cliff", f=cliff, title="Cliff",
         latex=r"f = 0.1\,(x - 2)^2 + \tfrac12 y^2 + 5\,\bigl(1 - \tanh 10x\bigr)",
         domain=((-3, 5), (-2.5, 2.5)), minima=[(2.0, 0.0)], start=(-2.0, 1.5),
         lesson="Exploding gradients: |∇f| is 1.7 at the start and 0.6 on the plateau at (-1, 0), "
                "but 50 at the cliff's edge, 30 to 85 times larger: one step there throws the "
                "iterate away unless the gradient is clipped."),
    dict(name="plateau", f=plateau, title="Plateau",
         latex=r"f = 1 - e^{-(x^2 + y^2)}",
         domain=((-3, 3), (-3, 3)), minima=[(0, 0)], f_min=0.0, start=(2.2, 1.6),
         lesson="Vanishing gradients: on the plain the slope is almost zero, so plain SGD "
                "barely moves while methods that normalise the step walk straight in."),
    dict(name="two_basin", f=two_basin, title="Two basins",
         latex=r"f = x^4 - 4x^2 + x + y^2",
         domain=((-2.5, 2.5), (-2, 2)), minima=[(-1.472998, 0.0)], start=(2.2, 1.5),
         lesson="A shallow local minimum beside a deeper global one: descent keeps whichever "
                "basin it starts in, unless noise or momentum carries it over the ridge."),
]

# The teaching surfaces' local minima, for basin maps and the text.
LOCAL_MINIMA = {
    "two_basin": [(1.346997, 0.0)],
    "styblinski_tang": [(2.746803, -2.903534), (-2.903534, 2.746803), (2.746803, 2.746803)],
}
