"""Loss-landscape explorer: the entry point (``streamlit run app.py``).

Streamlit runs this file as every page's script (``__name__ == "__main__"``): page config,
the JAX compilation cache, and the three pages, one file each under app_pages/ (not
``pages/``: Streamlit treats a folder of that name as its older multipage layout, and a fresh
server whose first visitor opens /race or /sweeps would show that layout's navigation): the
optimizer race (``/`` and ``/race``), sweeps (``/sweeps``) and a real network (``/network``).
What each page shows is computed in viz/ (see viz/__init__.py).

Imported as a module (``streamlit run`` finds ``app`` below and serves it: Streamlit's
``st.App``), it is the server: Streamlit's own routes and one of ours, the race chart's direct
route (``POST /api/race/chart``, viz/race/direct.py)."""

import streamlit as st

from viz.common import bootstrap

if __name__ == "__main__":  # a page's script run
    bootstrap.setup()
    st.set_page_config(page_title="Loss-landscape explorer", page_icon=":material/landscape:", layout="wide",
                       initial_sidebar_state="expanded")
    RACE = dict(title="Optimizer race", icon=":material/sports_score:")
    PAGES = [st.Page("app_pages/race.py", **RACE, url_path="home", default=True),  # served at /
             st.Page("app_pages/race.py", **RACE, url_path="race", visibility="hidden"),  # and at /race
             st.Page("app_pages/sweeps.py", title="Sweeps", icon=":material/grid_on:", url_path="sweeps"),
             st.Page("app_pages/network.py", title="Real network", icon=":material/hub:", url_path="network")]
    st.navigation(PAGES).run()
else:  # the server
    from viz.common.routes import route_for

    app = st.App(__file__, routes=[route_for("/api/race/chart", "viz.race.direct")])
