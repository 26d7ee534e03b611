"""Loss-landscape explorer: the entry point (``streamlit run app.py``).

Page config, the JAX compilation cache, and the three pages, one file each under pages/:
the optimizer race (``/`` and ``/race``), sweeps (``/sweeps``) and a real network
(``/network``).  What each page shows is computed in viz/ (see viz/__init__.py)."""

import streamlit as st

from viz.common import bootstrap

bootstrap.setup()

st.set_page_config(page_title="Loss-landscape explorer", page_icon=":material/landscape:", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [st.Page("pages/race.py", title="Optimizer race", icon=":material/sports_score:", url_path="race",
                 default=True),
         st.Page("pages/sweeps.py", title="Sweeps", icon=":material/grid_on:", url_path="sweeps"),
         st.Page("pages/network.py", title="Real network", icon=":material/hub:", url_path="network")]

st.navigation(PAGES).run()
