"""aiohttp's HTTP server with the gateway's answer to a request it cannot parse.

aiohttp answers such a request (a control character in a header, a bad chunk size, a body after
an HTTP/1.0 head without a length, …) with a plain-text 400 that quotes the offending bytes: an
`Authorization` header with its token, a slice of the body. Senders such as Alertmanager write
a failed webhook's answer to their own logs, so the quote would carry the token there. Here the
answer is a short JSON reason naming what was wrong (`BadHttpLines` logs it the same way), and
never the bytes.
"""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from triage.ingest.gateway import SERVER, what_was_wrong


class GatewayRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer an unparsable request without quoting it."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp has no setting for the class of its connections: the server that makes them
        # becomes the subclass below, which differs only in the one it makes.
        server.__class__ = _Server
        return server


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Connection(self, loop=self._loop, **self._kwargs)


class _Connection(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp's own logs it (BadHttpLines turns that into one ingest.bad_http line) and
        # raises if an answer was already started; only its body is replaced.
        super().handle_error(request, status, exc, message)
        if status >= 500 or not isinstance(exc, HttpProcessingError):
            error = "internal error" if status >= 500 else "bad request"
        else:
            error = f"bad request: {what_was_wrong(exc)}"
        response = web.Response(
            status=status,
            text=json.dumps({"error": error}),
            content_type="application/json",
        )
        response.headers["Server"] = SERVER
        response.force_close()
        return response


__all__ = ["GatewayRunner"]
