"""What the pages show, a folder a page and one shared part.  Each folder's ``__init__`` says
which of its modules use Streamlit; every other module is pure (testable without Streamlit).

    common/   what every page uses: URL primitives, runs, Plotly style, memo, text; widgets,
              the race chart component and the progress card (Streamlit); the server's own
              HTTP routes (Starlette, routes.py)
    race/     the optimizer race: Scene, its URL, defaults, ready scenes, compute, metrics, figures
    sweeps/   hyperparameter maps, basin maps, fair races: SweepScene, compute, figures
    network/  a real network: NetScene, training and slices, figures

The page files themselves (app_pages/*.py) are layout only.
"""

# The modules that import Streamlit; tests/test_layering.py imports every other one and checks
# that Streamlit stays out.  (viz.race.direct calls no Streamlit function: it answers the race
# chart's route from the page's caches, viz.race.cached.)
STREAMLIT_MODULES = frozenset({
    "viz.common.widgets", "viz.common.chart", "viz.common.progress",
    "viz.race.state", "viz.race.cached", "viz.race.direct", "viz.sweeps.state", "viz.network.state",
})
