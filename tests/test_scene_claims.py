"""Every ready scene's claims (viz/race/presets.py, viz/race/claims.py), run and asserted.

One test per scene: its runs go through viz.race.compute (optimizers.run), and every
claim must hold.  A scene whose claim stops holding fails here.  The claim types
themselves are tested on small hand-made trajectories, so a claim that always
holds would be caught too.
"""

from __future__ import annotations

import numpy as np
import pytest

import landscapes
from optimizers.runner import Trajectory
from viz.race import claims as C
from viz.race import compute, presets
from viz.race.link import from_query_string, to_query_string


@pytest.fixture(scope="module")
def runs():
    cache = {}

    def get(key):
        if key not in cache:
            scene = presets.PRESETS[key].scene
            L = compute.landscape_of(scene)
            cache[key] = (L, compute.run_scene(scene, L))
        return cache[key]
    return get


@pytest.mark.parametrize("key", list(presets.PRESETS))
def test_every_claim_of_the_scene_holds(key, runs):
    p = presets.PRESETS[key]
    assert p.claims, f"scene {key} states no claim"
    L, res = runs(key)
    n = len(p.scene.runs)
    for c in p.claims:
        assert all(0 <= i < n for i in c.runs + getattr(c, "than", ())), (key, c)
    failed = [c.text(p.scene.labels()) for c in p.claims if not c.holds(res, L)]
    assert not failed, f"{key}: these claims no longer hold: {failed}"


@pytest.mark.parametrize("key", list(presets.PRESETS))
def test_the_page_text_is_rendered_from_the_claims(key):
    p = presets.PRESETS[key]
    text = p.claims_text()
    for c in p.claims:
        assert c.text(p.scene.labels()) in text
    # and the URL knows nothing of them: a shared link decodes to the same scene and URL
    qs = to_query_string(p.scene)
    back, warnings = from_query_string(qs)
    assert warnings == [] and back == p.scene and to_query_string(back) == qs


# --- the claim types on hand-made trajectories -----------------------------------------------

def _traj(xy, loss, diverged_at=None):
    xy = np.asarray(xy, np.float32)
    return Trajectory(xy=xy, loss=np.asarray(loss, np.float32), grad=np.zeros_like(xy),
                      lr=np.zeros(len(xy) - 1, np.float32), diverged_at=diverged_at)


L = landscapes.get("quadratic")  # f* = 0, minimum at (0, 0)
SLOW = _traj([[2, 0], [1, 0.2], [0.5, 0.6], [0.1, 0]], [1, 0.5, 0.1, 1e-4])
FAST = _traj([[2, 0], [0.01, 0], [0, 0], [0, 0]], [1, 1e-4, 0, 0])
BAD = _traj([[2, 0], [30, 0], [np.nan, np.nan], [np.nan, np.nan]], [1, 100, np.nan, np.nan], diverged_at=2)


def test_claim_types_hold_and_fail_where_they_should():
    res = [SLOW, FAST, BAD]
    cases = [  # (claim, holds?)
        (C.Reaches((1,), 1), True), (C.Reaches((0,), 2), False), (C.Reaches((0,), 3), True),
        (C.Misses((2,)), True), (C.Misses((1,)), False),
        (C.Faster((1,), (0,)), True), (C.Faster((0,), (1,)), False), (C.Faster((1,), (0,), factor=3), False),
        (C.Faster((1,), (0,), factor=2.9), True), (C.Faster((0,), (2,)), True),
        (C.Diverges((2,), 2), True), (C.Diverges((2,), 1), False), (C.Diverges((0,), 3), False),
        (C.Stays((0, 1)), True), (C.Stays((0, 2)), False),
        (C.Leaves((0,), 0.5, within=2), True), (C.Leaves((0,), 0.5, within=1), False),
        (C.Leaves((0,), 0.5, after=2), False), (C.Leaves((1,), 0.1), False),
        (C.Near((1,), 0.05, within=1), True), (C.Near((0,), 0.05, within=3), False),
        (C.Near((0,), 0.2), True), (C.Near((0,), 0.2, never=True), False),
        (C.Near((1,), 0.5, never=True), False), (C.Near((0,), 0.05, never=True), True),
        (C.Near((0,), 0.2, point=(0.1, 0.1)), True), (C.Near((0,), 0.05, point=(1.0, 0.0)), False),
        (C.Steps((1,), at_most=2.0), True), (C.Steps((1,), at_most=1.9), False),
        (C.Steps((0,), at_least=1.0), True), (C.Steps((0,), at_least=1.1), False),
    ]
    for claim, expected in cases:
        assert claim.holds(res, L) is expected, claim


def test_sentences_carry_the_claims_numbers():
    assert C.Diverges((3,), 200).sentence == "run 4 diverges within 200 steps"
    assert C.Reaches((0, 1), 1500).text(["SGD", "Adam"]) == "SGD and Adam reach f − f* ≤ 0.001 within 1,500 steps"
    assert "more than 3 times sooner than run 1" in C.Faster((2, 3), (0,), factor=3).sentence
    assert C.Steps((2,), at_most=0.3).sentence == "the largest step of run 3 is at most 0.3 long"
    assert C.Near((1,), 0.01, point=(1.347, 0.0)).sentence == "run 2 ends within 0.01 of (1.347, 0)"
    assert C.claims_markdown((), ["a"]) == ""


def test_a_changed_scene_breaks_its_claim():
    # lr_too_large: one notch lower, the last run no longer diverges, and the claim says so
    p = presets.PRESETS["lr_too_large"]
    runs = p.scene.runs[:3] + (p.scene.runs[2],)
    scene = p.scene.replace(runs=runs)
    res = compute.run_scene(scene)
    diverges = [c for c in p.claims if isinstance(c, C.Diverges)]
    assert diverges and not all(c.holds(res, compute.landscape_of(scene)) for c in diverges)


def test_ends_claim():
    res = [SLOW, FAST, BAD]
    assert C.Ends((0,), axis=0, above=0.05).holds(res, L) and not C.Ends((0,), axis=0, above=0.2).holds(res, L)
    assert C.Ends((2,), axis=0, above=20).holds(res, L)  # the last finite point
    assert C.Ends((0, 1), axis=1, below=0.1).holds(res, L) and not C.Ends((0,), axis=1, below=0.0).holds(res, L)
    assert C.Ends((2,), axis=1, below=2.0).sentence == "y ends below 2 for run 3"


def test_adamw_scene_is_not_an_l2_penalty():
    # the text's "an L2 penalty would have moved it towards 0": Booth + (lambda/2)|theta|^2 in closed form
    A, b = np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([7.0, 5.0])  # f = |A theta - b|^2
    l2 = np.linalg.solve(2 * A.T @ A + 0.1 * np.eye(2), 2 * A.T @ b)
    assert np.linalg.norm(l2 - np.array([1.0, 3.0])) > 0.05 and np.linalg.norm(l2) < np.linalg.norm([1.0, 3.0])
    p = presets.PRESETS["adamw_decay"]
    assert any(isinstance(c, C.Near) and c.radius <= 0.01 and 1 in c.runs for c in p.claims)
