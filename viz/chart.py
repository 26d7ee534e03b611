"""The race page's main chart: a small Streamlit component around Plotly's basic bundle.

Why not ``st.plotly_chart``: its front end loads the whole of Plotly.js (4.7 MB of script
with Streamlit's wrapper).  Measured here in headless Chromium, a page holding one tiny
``st.plotly_chart`` took 2.2 s to a drawn chart on first load, against 1.1 s for a page
without it; the same page with this component took 1.4 s.  The 2-D figure needs only
scatter traces, a layout image, buttons, a slider and frames, which the basic bundle
(1.2 MB, ``static/plotly-basic.min.js``, Plotly.js 4.1.1 as plotly.py 7.1.0 ships) has.
The 3-D view (surface, scatter3d) and the other pages keep ``st.plotly_chart``.

The bundle is served by Streamlit's static file serving (``enableStaticServing`` in
``.streamlit/config.toml``); ``viz/chart.js`` loads it once per page and draws with
``Plotly.react`` (a new figure updates the one drawn, keeping zoom through ``uirevision``),
or, when only some traces' numbers changed (one learning rate moved), re-plots just those
traces (``Plotly.animate`` without a redraw: ~45-60 ms instead of ~110 ms on the page).  The legend is HTML
above the plot (a run's name shows its rate; Plotly would redraw its own legend through a
restyle).  It reports a click on a point as the trigger value ``click`` = {x, y}, and its
first drawn figure as ``drawn`` (app.py shows a new visitor the chart first, the rest after).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

import orjson
import streamlit as st

NAME = "loss_landscape_chart"
_HERE = Path(__file__).parent
_LOADER = (_HERE / "plotly_loader.js").read_text(encoding="utf-8")
_JS = _LOADER + "\n" + (_HERE / "chart.js").read_text(encoding="utf-8")
_HTML = ('<div class="lle-chart-message" role="status"></div>'
         '<div class="lle-legend" aria-label="legend: click a run to hide or show it"></div>'
         '<div class="lle-chart"></div>')
_CSS = """
.lle-chart-message:empty { display: none; } .lle-chart-message { color: #a00; }
.lle-legend { display: flex; flex-wrap: wrap; gap: 0.1rem 1.1rem; padding: 0 0 0.3rem 3.5rem;
              font: 15px Arial, Helvetica, sans-serif; color: #111; min-height: 1.6rem; }
.lle-legend-item { display: inline-flex; align-items: center; gap: 0.35rem; border: 0; padding: 0;
                   background: none; font: inherit; color: inherit; cursor: pointer; }
.lle-legend-off { opacity: 0.4; }
"""

_component = st.components.v2.component(NAME, html=_HTML, css=_CSS, js=_JS, isolate_styles=False)


def payload(spec: Mapping[str, Any], rev: str, config: Mapping[str, Any] | None = None) -> bytes:
    """What the chart receives: ``spec`` (a Plotly figure as a dict: data, layout, frames), its
    name ``rev`` (the browser redraws only when it changes) and Plotly's ``config``, as JSON
    bytes.  Bytes, not a dict: Streamlit passes bytes through as they are, while a dict is
    walked (looking for data frames), dumped twice and hashed on every rerun (~30 ms for the
    default page's 0.6 MB figure)."""
    return orjson.dumps({"rev": rev, "config": dict(config or {}), "spec": spec})


def plotly_chart(data: bytes, *, key: str, on_click: Callable[[], None] | None = None,
                 on_drawn: Callable[[], None] | None = None):
    """Draw a figure (``data`` from :func:`payload`).  ``on_click`` runs (as a widget callback)
    after a click on a point; :func:`clicked` reads the point.  ``on_drawn`` runs once the
    chart has drawn its first figure (or failed to, or after 5 s: ``DRAWN_WAIT_MS`` in chart.js)."""
    callbacks = {"on_click_change": on_click, "on_drawn_change": on_drawn}
    return _component(key=key, data=data, **{k: v for k, v in callbacks.items() if v is not None})


def clicked(state: Any) -> list[dict]:
    """The clicked point of a chart's session-state value, as a list like Streamlit's
    ``selection.points`` (empty when there is none or it is malformed)."""
    try:
        click = state.get("click") if hasattr(state, "get") else None
    except Exception:  # noqa: BLE001 - an odd state object is no click
        return []
    return [click] if isinstance(click, Mapping) else []


# Streamlit's front end loads each widget's code when the first such widget arrives; the
# page then commits only when all of them have loaded.  These are the widget kinds the race
# page shows on load, preloaded (modulepreload) by the same early script.  Names are looked up
# in the installed Streamlit (hashed file names), and a missing one is simply not preloaded.
_CHUNKS = ("BidiComponent", "Slider", "Selectbox", "NumberInput", "Radio", "Checkbox", "TextInput",
           "DownloadButton", "rehype-katex")


def _chunk_files() -> list[str]:
    js = Path(st.__file__).parent / "static" / "static" / "js"
    return [min(found).name for stem in _CHUNKS if (found := list(js.glob(f"{stem}.*.js")))]


_PRELOAD_JS = _LOADER + """
(function (names) {
  for (const name of names) {
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = new URL("static/js/" + name, document.baseURI).href;
    document.head.appendChild(link);
  }
})(%s);
""" % orjson.dumps(_chunk_files()).decode()


def preload():
    """Start fetching Plotly's bundle now (call it first thing on the page).  The chart comes
    after the sidebar and the header; a component's code runs only once the page's widgets
    have loaded (measured: ~1 s after the first paint), a script in st.html at once."""
    st.html(f"<script>{_PRELOAD_JS}</script>", unsafe_allow_javascript=True)
