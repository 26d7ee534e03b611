"""The server's own HTTP routes (Starlette, which Streamlit 1.67 serves with: ``st.App``).

A route here wraps a pure function ``answer(body: bytes) -> (status, bytes)``: the request's
body is read up to a limit (a larger one is refused before it is read whole), the function
runs in a worker thread (it may compute: the event loop that serves every page's websocket
must not wait for it), and its bytes go back as JSON."""

from __future__ import annotations

from typing import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TOO_LARGE = 413


def route_for(path: str, answer: Callable[[bytes], tuple[int, bytes]], max_body: int) -> Route:
    """``POST path``: ``answer(body)``'s status and bytes (application/json)."""
    async def endpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                return Response(status_code=TOO_LARGE)
        status, data = await run_in_threadpool(answer, bytes(body))
        return Response(data, status_code=status, media_type="application/json",
                        headers={"Cache-Control": "no-store"})
    return Route(path, endpoint, methods=["POST"])
