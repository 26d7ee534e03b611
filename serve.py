"""The server with a warm start: ``streamlit run serve.py`` serves app.py (the same pages) and,
as the server starts, before any visitor connects, imports JAX and computes the default page's
runs, grid and figure in a background thread (viz/race/warm_start.py).  A visitor arriving
meanwhile waits for those computations instead of repeating them.  ``streamlit run app.py``
still works: it only skips this head start."""

from contextlib import asynccontextmanager

import streamlit as st


@asynccontextmanager
async def lifespan(_app):
    from viz.race import warm_start

    warm_start.start()
    yield


app = st.App("app.py", lifespan=lifespan)
