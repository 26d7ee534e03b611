"""Helpers shared by the tests: AppTest pages (each page file opens alone, or through app.py's
navigation) and the real-browser fixtures (a Streamlit server on a loopback port, Debian's
headless Chromium driven by Playwright; nothing is downloaded)."""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

os.environ["LANDSCAPE_NO_WARMUP"] = "1"  # no background compiles, no JAX configuration changed

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PAGES = {name: ROOT / "app_pages" / f"{name}.py" for name in ("race", "sweeps", "network")}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
READY_S = 60  # the server must answer /_stcore/health within this


# --- AppTest ----------------------------------------------------------------------------------

def ok(at: AppTest) -> AppTest:
    """``at`` after a run that raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(script: Path | str, query: dict | None = None, timeout: float = 120) -> AppTest:
    """A new visitor on ``script`` (app.py or a page file) with the URL query ``query``."""
    at = AppTest.from_file(str(script), default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return ok(at.run())


def url_of(at: AppTest) -> dict:
    """The page's URL query, one value a key."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def texts(at: AppTest) -> str:
    """Every text the page shows (Markdown, boxes, captions, metrics), joined."""
    parts = [m.value for m in at.markdown] + [i.value for i in at.info] + [w.value for w in at.warning]
    parts += [e.value for e in at.error] + [c.value for c in at.caption]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [_html_text(c.proto.bytes.decode()) for c in at.get("bidi_component")  # widgets.html_line
              if c.proto.component_name == "loss_landscape_html_line"]
    return "\n".join(str(p) for p in parts)


def _html_text(html_text: str) -> str:
    """The text of our own HTML (what widgets.html_line shows; MathML's tokens run together)."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


# --- the real browser -------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` on a free loopback port; its base URL (stopped afterwards)."""
    with streamlit_server(tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@contextlib.contextmanager
def streamlit_server(log: Path):
    """A fresh ``streamlit run app.py`` on a free loopback port: its base URL, then stopped."""
    port = _free_port()
    env = dict(os.environ, LANDSCAPE_NO_WARMUP="1")  # no background compiles competing with the test
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within {READY_S} s:\n"
                            f"{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM} (CI installs Debian's chromium: see .ci/run)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # a missing test requirement is a failure, not a skip
        pytest.fail(f"playwright is not installed: {err}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


# --- helpers ------------------------------------------------------------------------------
