"""What every page uses.

Pure: ``url`` (reading and writing links: Problems, Schema, decode_with, query_string),
``runs`` (a Run and its URL form, the shared schedule/clipping/noise keys), ``plotting``
(palette, font, toolbar, SpecFigure, typed arrays), ``lru`` (the bounded memo), ``text``
(Markdown escaping, link sentences), ``raster`` (landscape pictures), ``sampling`` (which
steps and points a figure shows), ``bootstrap`` (the JAX compile cache).

Streamlit: ``widgets`` (a widget per Param, the run editor, the shared switches, the URL),
``caching`` (``cached_by_key``), ``chart`` (+ chart.js, plotly_loader.js: the race chart).
"""
