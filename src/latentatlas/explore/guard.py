"""What the explorer's server refuses before any handler runs, each refusal JSON like every other
answer of its API: requests addressed to another machine's name (DNS rebinding), API requests
from another site (an ``Origin`` that is not the server's own, or ``Sec-Fetch-Site:
cross-site``), POSTs whose body is not ``application/json`` (a browser sends those cross-site
without asking), and requests malformed below HTTP's semantics (a duplicate ``Host``, a
``Content-Length`` of -1), which uvicorn answers itself, in plain text, unless served by
:class:`JsonErrorsH11`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import h11
import uvicorn
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

SAFE_SITES = ("same-origin", "none")  # Sec-Fetch-Site of the page's own requests, of a typed URL


def _host_name(host: str) -> str:
    """The name part of a Host header value (``[::1]:8765`` -> ``[::1]``)."""
    host = host.lower()
    return host[: host.find("]") + 1] if host.startswith("[") else host.split(":")[0]


async def _refuse(status: int, message: str, scope: Any, receive: Any, send: Any) -> None:
    await JSONResponse({"error": message}, status_code=status)(scope, receive, send)


# Not Starlette's TrustedHostMiddleware: it refuses in plain text ("Invalid host header"), where
# every refusal of this API is JSON; and up to Starlette 1.3 at least (pyproject allows >= 0.37)
# it cut the Host header at its first ':', so "[::1]:8765" became "[" and the IPv6 loopback could
# not be allowed (later releases parse the brackets, starlette issue #3357).
class AllowedHosts:
    """Refuse requests whose Host header names another machine (JSON 400): a web page that
    rebinds its own domain to 127.0.0.1 must not read the explorer's answers."""

    def __init__(self, app: Any, hosts: Sequence[str]) -> None:
        self.app, self.hosts = app, {h.lower() for h in hosts}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = _host_name(Headers(scope=scope).get("host", ""))
            if host not in self.hosts:
                await _refuse(400, f"unexpected Host {host!r}", scope, receive, send)
                return
        await self.app(scope, receive, send)


def cross_site(headers: Headers) -> str | None:
    """Why a request comes from another site, or None: its ``Sec-Fetch-Site`` says so, or its
    ``Origin`` is not the Host it is sent to (requests without either, curl's, pass)."""
    site = headers.get("sec-fetch-site")
    if site is not None and site.lower() not in SAFE_SITES:
        return f"a request from another site (Sec-Fetch-Site: {site})"
    origin = headers.get("origin")
    if origin is None:
        return None
    try:
        parts = urlsplit(origin)
        netloc = parts.netloc.lower()
        if parts.scheme == "http" and netloc.endswith(":80"):
            netloc = netloc[:-3]
    except ValueError:
        netloc = ""
    host = headers.get("host", "").lower().removesuffix(":80")
    if not netloc or netloc != host:
        return f"a request from another origin ({origin[:100]!r})"
    return None


class SameSiteApi:
    """Refuse API requests from other sites (JSON 403), and POSTs whose body is not declared
    ``application/json`` (JSON 415): a page elsewhere may send a ``text/plain`` POST to
    127.0.0.1 without the browser asking first, never an ``application/json`` one."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            headers = Headers(scope=scope)
            why = cross_site(headers)
            if why is not None:
                await _refuse(403, f"refused {why}", scope, receive, send)
                return
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if scope["method"] == "POST" and media != "application/json":
                got = repr(media) if media else "no Content-Type"
                message = f"a POST body must be application/json, got {got}"
                await _refuse(415, message, scope, receive, send)
                return
        await self.app(scope, receive, send)


class JsonErrorsH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol (h11) answering a request it cannot parse in JSON, as the
    app answers every other error."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"error": f"malformed HTTP request ({msg.rstrip('.')})"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()


def server_config(app: Any) -> uvicorn.Config:
    """uvicorn's settings for the explorer: h11 with JSON errors (never httptools, whose errors
    are plain text), no access log."""
    return uvicorn.Config(app, http=JsonErrorsH11, log_level="warning", access_log=False)
