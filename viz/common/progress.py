"""What cannot be instant says so (Streamlit): a line that tells what a long piece of work is
doing and how far it is, drawn only once the work has lasted ``DELAY_S``.

    with Progress("sweep") as p:            # its place: where the result will be drawn
        p.update("Compiling Adam for Rosenbrock…")
        ...
        p.update("Sweeping: 2,048 of 4,096 runs done", 0.5)
    st.plotly_chart(...)                    # the line is gone: the result replaces it

Work that ends sooner (a cached result, a small change) shows nothing at all: no flicker, and
until the first :meth:`Progress.update` not even a thread is started.  The place is an
``st.empty`` made on every run, so the page's elements keep their places; once shown, the
line is a card that floats over the top of what it replaces (a stale chart: nothing below it
moves) and stays in view when the page is scrolled.

:meth:`Progress.update` may be called from any thread (the race page computes its runs two at
a time in worker threads).  The card is drawn by a ticker thread that carries the script's run
context (Streamlit's public ``add_script_run_ctx``, as ``st.spinner``'s timer does), since the
script thread is busy computing; it draws at most every ``TICK_S``, and never after
:meth:`Progress.close`.  Every text a caller gives must be true for as long as it stands (say
"compiling" only when :func:`landscapes.compiled.watch` heard of a compile)."""

from __future__ import annotations

import logging
import threading

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from viz.common.rerun_log import LOGGER

DELAY_S = 0.4  # work shorter than this shows nothing (st.spinner waits 0.5 s)
TICK_S = 0.15  # the card follows the work this often
KEY = "lle_progress"  # the card's container: st-key-lle_progress_<name> (the CSS below)
CSS = """<style>
div:has(> [class*="st-key-lle_progress_"]) {
  position: sticky; top: 3.9rem; z-index: 99; height: 0; overflow: visible;
  margin-bottom: -1rem;  /* with the column's 1rem gap: no room taken, nothing moves */
}
[class*="st-key-lle_progress_"] {
  width: min(44rem, 100%); padding: .55rem .95rem .75rem; background: #ffffff;
  border: 1px solid #d5dbe3; border-radius: .6rem; box-shadow: 0 .3rem 1.1rem rgba(17, 17, 17, .14);
}
</style>"""


class Progress:
    """A progress card at this place of the page (see the module's docstring); a context
    manager that closes it on the way out."""

    def __init__(self, name: str, delay: float = DELAY_S):
        self.key = f"{KEY}_{name}"
        self.delay = delay
        self.shown = False  # whether the card was drawn (then it is emptied on close)
        self._slot = st.empty()
        self._ctx = get_script_run_ctx(suppress_warning=True)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._text, self._fraction, self._version = "", 0.0, 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._bar = None

    def update(self, text: str, fraction: float | None = None):
        """What the work is doing now, and the fraction done (kept when None); any thread."""
        with self._lock:
            self._text = text
            if fraction is not None:
                self._fraction = min(max(float(fraction), 0.0), 1.0)
            self._version += 1
            if self._thread is None and not self._closed and self._ctx is not None:
                self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)
                add_script_run_ctx(self._thread, self._ctx)
                self._thread.start()

    def _tick(self):
        if self._stop.wait(self.delay):
            return
        drawn = None
        while True:
            with self._lock:  # (close waits for a draw in progress, and none follows it)
                if self._closed:
                    return
                if drawn != self._version:
                    drawn = self._version
                    self._draw(self._text, self._fraction)
            if self._stop.wait(TICK_S):
                return

    def _draw(self, text: str, fraction: float):
        try:
            if self._bar is None:
                st.html(CSS)
                self._bar = self._slot.container(key=self.key).progress(fraction, text=text)
            else:
                self._bar.progress(fraction, text=text)
            self.shown = True
        except Exception:  # noqa: BLE001  (e.g. the session went away: nobody to tell)
            logging.getLogger(LOGGER).debug("progress card not drawn", exc_info=True)
            self._closed = True

    def close(self):
        """Stop drawing, and take the card away if it was drawn (script thread)."""
        with self._lock:
            self._closed = True
            self._stop.set()
            shown = self.shown
        if shown:
            self._slot.empty()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc):
        self.close()
        return False
