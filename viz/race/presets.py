"""Ready teaching scenes: each a shareable view with a title and what to watch for.

Each scene states what it shows as data, ``claims`` (viz/race/claims.py), whose
sentences the page shows under the text; tests/test_scene_claims.py runs every
scene and asserts every claim, and tests/test_scene.py checks the rest of the
text with ``optimizers.run`` (no Streamlit), so a change in the core that breaks
a lesson fails a test.  Claims belong to the preset, not to its Scene: they
never reach the URL.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from viz.common.text import inline_math
from viz.race.claims import (Claim, Diverges, Ends, Faster, Leaves, Misses, Near, Reaches, Stays, Steps,
                             claims_markdown)
from viz.race.scene import CUSTOM, Run, Scene


@dataclass(frozen=True)
class Preset:
    key: str  # the URL's scene=...
    title: str
    text: str  # 2-4 sentences: what to watch for
    scene: Scene
    claims: tuple[Claim, ...] = ()  # what it shows, checked (runs by index in scene.runs)

    def claims_text(self) -> str:
        """The claims' sentences for the page, runs named by their labels."""
        return claims_markdown(self.claims, self.scene.labels())


def _sgd(lr, **kw):
    return Run("sgd", {"learning_rate": lr}, **kw)


_PRESETS = [
    Preset(
        "race", "The classic race on Rosenbrock's banana",
        "Eight optimizers start at the same point, each at a learning rate that suits it. All of "
        "them find the curved valley within a few steps; what separates them is how fast they "
        "follow its flat, bending floor to the minimum at (1, 1). Watch the loss plot: the "
        "momentum and Adam families get there first, AdaGrad and AdaDelta slow down as they go.",
        Scene(landscape="rosenbrock", steps=10_000, runs=(
            _sgd(0.001),
            Run("momentum", {"learning_rate": 0.0005}),
            Run("nesterov", {"learning_rate": 0.0005}),
            Run("adagrad", {"learning_rate": 0.2}),
            Run("rmsprop", {"learning_rate": 0.002}),
            Run("adadelta", {"learning_rate": 0.05}),
            Run("adam", {"learning_rate": 0.02}),
            Run("nadam", {"learning_rate": 0.02}),
        )),
        (Stays(tuple(range(8))), Faster((1, 2, 6, 7), (0, 3, 5))),
    ),
    Preset(
        "ravine_momentum", "SGD zig-zags in the ravine, momentum glides",
        "The valley is 100 to 160 times steeper across than along its floor. At α = 0.085 SGD "
        "overshoots across the valley on every step: it bounces from wall to wall and never "
        "settles. At α = 0.02 it stops bouncing but crawls along the floor. Momentum at that "
        "same small α averages the bounces into one smooth swing while its velocity builds up "
        "along the floor: it is at the minimum in under 80 steps.",
        Scene(landscape="ravine", start=(-5.0, 1.0), steps=600, runs=(
            _sgd(0.02), _sgd(0.085),
            Run("momentum", {"learning_rate": 0.02, "momentum": 0.9}),
        )),
        (Misses((1,), tol=1.0), Near((0,), 0.1, never=True), Near((2,), 0.1, within=80)),
    ),
    Preset(
        "saddle_escape", "Escaping a saddle point",
        "The start is a hair's breadth off the ridge of a saddle: the gradient along the escape "
        "direction is almost zero. SGD multiplies that tiny slope by α and lingers for over 300 "
        "steps; momentum builds up speed; RMSProp and Adam divide by the gradient's size, so "
        "even a tiny slope gives a full-sized step and they leave within 70 steps (watch the "
        "distance and step-length plots).",
        Scene(landscape="saddle", steps=600, panels=("loss", "dist", "step"), runs=(
            _sgd(0.01),
            Run("momentum", {"learning_rate": 0.01}),
            Run("rmsprop", {"learning_rate": 0.01}),
            Run("adam", {"learning_rate": 0.01}),
        )),
        (Leaves((0,), 0.5, after=300), Leaves((1, 2, 3), 0.5, within=70)),
    ),
    Preset(
        "adagrad_stalls", "AdaGrad stalls as its steps shrink",
        "All three use the same α. AdaGrad divides by the root of the sum of all past squared "
        "gradients; that sum only grows, so its effective learning rate keeps falling (bottom "
        "plot) and it stops far from the minimum. RMSProp and Adam average the squares with a "
        "decay instead, forget the steep start, and keep walking down the valley.",
        Scene(landscape="rosenbrock", steps=5000, panels=("loss", "step", "elr"), runs=(
            Run("adagrad", {"learning_rate": 0.01}),
            Run("rmsprop", {"learning_rate": 0.01}),
            Run("adam", {"learning_rate": 0.01}),
        )),
        (Misses((0,), tol=1.0), Near((0,), 2.0, never=True), Near((1, 2), 0.05)),
    ),
    Preset(
        "lr_too_large", "One notch too large diverges",
        "Plain SGD on a bowl whose steepest curvature is 10: each step multiplies the error along "
        "that axis by 1 - 10α. At α = 0.1 and 0.16 it shrinks, at α = 0.2 it only flips sign, "
        "so the run bounces forever, and one notch higher, at α = 0.25, it grows by 1.5 a step "
        "until the numbers overflow (the cross marks where it diverged).",
        Scene(landscape="quadratic", landscape_params={"condition": 10.0, "angle": 30.0}, steps=500,
              panels=("loss", "dist"), runs=(_sgd(0.1), _sgd(0.16), _sgd(0.2), _sgd(0.25))),
        (Reaches((0, 1), 100, tol=1e-6), Stays((0, 1, 2)), Misses((2,), tol=1.0), Diverges((3,), 200)),
    ),
    Preset(
        "nesterov_vs_momentum", "Nesterov overshoots less than momentum",
        "Same rate, same momentum μ = 0.9. Heavy-ball momentum computes its step from where it "
        "is and swings far past the valley floor; Nesterov evaluates the gradient where the "
        "velocity is about to take it, so it brakes before the floor and gets there sooner. "
        "Compare how far each swings out and the bumps in the loss curves.",
        Scene(landscape="quadratic", steps=300, panels=("loss", "dist"), runs=(
            Run("momentum", {"learning_rate": 0.02, "momentum": 0.9}),
            Run("nesterov", {"learning_rate": 0.02, "momentum": 0.9}),
        )),
        (Faster((1,), (0,), factor=1.5),),
    ),
    Preset(
        "noise_escape", "Noise lets SGD leave a poor local minimum",
        "Both runs start in the shallow basin on the right. Without noise SGD settles there. "
        "With gradient noise (σ = 6, a stand-in for minibatch noise) it jitters, hops the ridge, "
        "and, as the cosine schedule cools the step size, it freezes in the deeper basin on the "
        "left. Change the seed: most seeds end there too.",
        Scene(landscape="two_basin", steps=3000, schedule="cosine",
              schedule_params={"decay_steps": 3000, "alpha": 0.0}, noise=6.0, seed=0,
              panels=("loss",), runs=(
                  _sgd(0.05, label="SGD with noise"),
                  _sgd(0.05, raw=True, label="SGD without noise"),
              )),
        (Near((0,), 0.3, point=(-1.473, 0.0)), Near((1,), 0.01, point=(1.347, 0.0))),
    ),
    Preset(
        "clipping_cliff", "Clipping tames the cliff",
        "Stepping off the plateau's edge, the gradient's length grows from 1.7 at the start to "
        "about 50. Without clipping, SGD at α = 0.5 turns that into a jump of over 15 units and "
        "is flung far out of view (momentum too) before the bowl pulls it back. Clipping the "
        "gradient's norm to 1 caps SGD's step at α; momentum's steps still add up, to at most "
        "α/(1 − μ) = 10α (here under 6α), so the clipped runs walk down the cliff into the minimum.",
        Scene(landscape="cliff", steps=1000, clip="norm", clip_at=1.0, panels=("loss", "step"), runs=(
            _sgd(0.5, label="SGD clipped"),
            _sgd(0.5, raw=True, label="SGD not clipped"),
            Run("momentum", {"learning_rate": 0.05}, label="Momentum clipped"),
            Run("momentum", {"learning_rate": 0.05}, raw=True, label="Momentum not clipped"),
        )),
        (Steps((1,), at_least=15.0), Leaves((1, 3), 10.0, axis=0), Steps((0,), at_most=0.5),
         Steps((2,), at_most=0.3), Near((0, 2), 0.01)),
    ),
    Preset(
        "adam_vs_sgd", "Adam vs SGD on Rosenbrock",
        "SGD's step is α times the gradient, so α must suit the steepest wall: at 0.001 it "
        "crawls along the flat floor and at 0.0025 it diverges within 6 steps. Adam's step is "
        "about α whatever the slope, so rates ten times apart (0.01 and 0.1) both reach the "
        "minimum: it is far less sensitive to its learning rate.",
        Scene(landscape="rosenbrock", steps=5000, runs=(
            _sgd(0.001), _sgd(0.0025),
            Run("adam", {"learning_rate": 0.01}), Run("adam", {"learning_rate": 0.1}),
        )),
        (Diverges((1,), 6), Stays((0, 2, 3)), Misses((0,)), Reaches((2, 3), 5000)),
    ),
    Preset(
        "adam_races_itself", "The same optimizer races itself",
        "Adam at three learning rates on Beale's function, whose flat plains sit next to walls "
        "of 10⁵. Adam's step is about α long whatever the slope, so the time to cross the plain "
        "scales like 1/α: at 0.1 it reaches the minimum within 500 steps, at 0.01 it is nearly "
        "there after 3,000, and at 0.001 it is still more than 2.5 units from the minimum when "
        "the 3,000 steps are up.",
        Scene(landscape="beale", steps=3000, runs=(
            Run("adam", {"learning_rate": 0.1}), Run("adam", {"learning_rate": 0.01}),
            Run("adam", {"learning_rate": 0.001}),
        )),
        (Reaches((0,), 500), Reaches((1,), 3000, tol=0.01), Misses((1,)), Misses((2,), tol=1.0),
         Near((2,), 2.5, never=True)),
    ),
    Preset(
        "adamw_decay", "AdamW's decay is not an L2 penalty",
        "Adam and AdamW on Booth's bowl (minimum at (1, 3)), with a cosine schedule that lets them "
        "settle. AdamW subtracts αλθ on every step, but Adam's own step is about α per coordinate "
        "whatever the slope, so it wins while λ|θᵢ| < 1: at λ = 0.1 the run still ends at the plain "
        "minimum, where an L2 penalty in the loss would have moved it towards 0. At λ = 0.5 the "
        "minimum's y = 3 is beyond 1/λ = 2: y is held below 2, and x moves away from 0 to where "
        "the loss is lowest given that.",
        Scene(landscape="booth", steps=20_000, schedule="cosine",
              schedule_params={"decay_steps": 20_000, "alpha": 0.0}, panels=("loss", "dist"), runs=(
                  Run("adam", {"learning_rate": 0.1}),
                  Run("adamw", {"learning_rate": 0.1, "weight_decay": 0.1}),
                  Run("adamw", {"learning_rate": 0.1, "weight_decay": 0.5}),
              )),
        (Near((0, 1), 0.01), Ends((2,), axis=1, below=2.0), Ends((2,), axis=0, above=1.5)),
    ),
    Preset(
        "plateau", "Vanishing gradients on a plateau",
        "Far from the well in the middle the surface is almost flat: the gradient is tiny, so "
        "SGD's steps are tiny too and it creeps in. Adam and RMSProp normalise the step by the "
        "gradient's size and walk straight in at full speed.",
        Scene(landscape="plateau", steps=1500, panels=("loss", "step"), runs=(
            _sgd(0.1), Run("momentum", {"learning_rate": 0.05}),
            Run("rmsprop", {"learning_rate": 0.01}), Run("adam", {"learning_rate": 0.01}),
        )),
        (Reaches((0, 1, 2, 3), 1500), Faster((2, 3), (0,), factor=3)),
    ),
]

PRESETS: dict[str, Preset] = {p.key: p for p in _PRESETS}
DEFAULT_PRESET = "race"


def matching(scene: Scene) -> Preset | None:
    """The preset this scene shows, ignoring view options (which side plots, 2-D/3-D, span)."""
    strip = dict(span=None, view="2d", panels=(), tol=1e-3, log_steps=False)
    s = scene.replace(**strip)
    for p in _PRESETS:
        if p.scene.replace(**strip) == s:
            return p
    return None


def header(scene: Scene, L) -> tuple[str | None, str]:
    """What the header shows: the ready scene's title and what to watch (if it is one; Markdown),
    and the landscape's name, formula and lesson (HTML, the formula as MathML: ``inline_math``)."""
    match = matching(scene)
    name = "Your own function" if scene.landscape == CUSTOM else L.title
    formula = inline_math(L.latex.replace("$", "")) if L.latex else ""
    return (f"**{match.title}.** {match.text}{match.claims_text()}" if match else None,
            f"<strong>{html.escape(name, quote=False)}</strong> &nbsp; {formula} &nbsp; — "
            f"{html.escape(L.lesson, quote=False)}")
