"""Shared v=1 links keep opening to the same view: a corpus of links (presets, edited scenes,
custom formulas, sweeps, networks, malformed and hostile ones) with the canonical query each
decoded to, recorded on main before the page move (tests/data/v1_links.json).  A link that
warned then still warns, and one that did not still does not."""

import json
import pathlib
import urllib.parse

import pytest

from viz.network import scene as network_scene
from viz.race import link
from viz.sweeps import scene as sweep_scene

CORPUS = json.loads((pathlib.Path(__file__).parent / "data" / "v1_links.json").read_text())
CODECS = {"race": link, "sweeps": sweep_scene, "network": network_scene}
CASES = [(page, i, link) for page in CODECS for i, link in enumerate(CORPUS[page])]


@pytest.mark.parametrize("page,i,link", CASES, ids=[f"{p}-{i}" for p, i, _ in CASES])
def test_v1_link_opens_to_the_recorded_view(page, i, link):
    codec = CODECS[page]
    q = link["query"]
    params = urllib.parse.parse_qs(q, keep_blank_values=True) if q else {}
    obj, warnings = codec.decode(params)
    assert codec.to_query_string(obj) == link["canonical"], q
    assert bool(warnings) == link["warns"], (q, warnings)


def test_corpus_covers_every_page_and_hostile_links():
    assert all(len(CORPUS[p]) >= 10 for p in CODECS)
    assert all(any(link["warns"] for link in CORPUS[p]) for p in CODECS)
