"""The optimizer race.

Pure: ``scene`` (the Scene), ``link`` (its URL, schema v1), ``defaults`` (default learning
rates, runs and scene), ``presets`` (the ready scenes) and ``claims`` (what each one shows, as
checkable data), ``compute`` (Scene -> optimizers.run), ``metrics`` (the table), ``figures``,
``export`` (CSV, standalone HTML), ``_tune`` (offline: how the default learning rates were found).

Streamlit: ``state`` (this visitor's Scene, widgets, callbacks), ``cached`` (shared results and
the chart's data), ``direct`` (the chart's own route: a change in the chart answered before the
page's rerun, from ``cached``).
"""
