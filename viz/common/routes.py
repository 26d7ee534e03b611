"""The server's own HTTP routes (Starlette, which Streamlit 1.67 serves with: ``st.App``).

A route here hands a POST's body to a module's pure function ``answer(body: bytes) ->
(status, bytes)``: the body is read up to the module's ``MAX_BODY`` bytes (a larger one is
refused before it is read whole), the function runs in a worker thread (it may compute: the
event loop that serves every page's websocket must not wait for it), and its bytes go back as
JSON.  The module is imported at the first request, not when the server starts: by then the
page that sends it has imported it (the server answers its health check, and a woken app its
first visitor, without JAX's imports in front).

An answer is gzipped here, at level 1, when the client takes gzip: Streamlit's own GZip layer
(Starlette's, at level 9) leaves a body that says its encoding alone.  The chart's answers are
mostly base64 float32 (~190 kB for 8 new runs): level 9 took ~6 ms of the answer's ~25 for 97
kB, level 1 ~3 ms for 101 kB."""

from __future__ import annotations

import gzip
import importlib

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TOO_LARGE = 413
GZIP_LEVEL = 1
GZIP_MIN_BYTES = 1000  # (smaller: sent as it is)


def _answered(answer, body: bytes, gzip_ok: bool) -> tuple[int, bytes, dict]:
    """``answer(body)``'s status and bytes, gzipped when the client takes it (and they are long)."""
    status, data = answer(body)
    if gzip_ok and len(data) >= GZIP_MIN_BYTES:
        return status, gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0), {"Content-Encoding": "gzip"}
    return status, data, {}


def route_for(path: str, module: str) -> Route:
    """``POST path``: ``module.answer(body)``'s status and bytes (application/json)."""
    imported = []

    async def endpoint(request: Request) -> Response:
        if not imported:  # (in a worker thread: it waits for a half-done import, and JAX's take long)
            imported.append(await run_in_threadpool(importlib.import_module, module))
        got = imported[0]
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > got.MAX_BODY:
                return Response(status_code=TOO_LARGE)
        gzip_ok = "gzip" in request.headers.get("accept-encoding", "").lower()
        status, data, encoding = await run_in_threadpool(_answered, got.answer, bytes(body), gzip_ok)
        return Response(data, status_code=status, media_type="application/json",
                        headers={"Cache-Control": "no-store", "Vary": "Accept-Encoding", **encoding})
    return Route(path, endpoint, methods=["POST"])
