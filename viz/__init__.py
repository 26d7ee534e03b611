"""The plotting module: everything the page shows, computable without Streamlit.

    scene     the Scene (one hashable description of the view) and its URL form (schema v1)
    defaults  each (landscape, optimizer)'s default learning rate, default runs and scene
    presets   the ready teaching scenes
    compute   Scene -> landscape and trajectories (calls optimizers.run)
    sampling  which steps and points go into figures (shape-preserving)
    metrics   the per-run table numbers
    raster    the landscape as a PNG of filled contour bands
    figures   pure Plotly figure builders (no streamlit import)
    export    CSV and standalone HTML
    _tune     offline: how defaults.DEFAULT_LR was computed

Only app.py and the page modules (``*_page.py``) import streamlit.
"""
