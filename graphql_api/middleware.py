"""A pure ASGI guard that refuses oversized requests before anything parses them."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_QUERY_STRING_BYTES = 16_384
NOT_AN_OBJECT = (
    'A GraphQL request body must be a JSON object such as {"query": "{ kpis { totalRevenue } }"}'
    ', optionally with "variables" and "operationName".'
)


def _json_but_not_an_object(scope: Scope, body: bytes) -> bool:
    """A JSON POST whose body is valid-looking JSON but not an object or a batch (list).

    Strawberry expects a mapping and fails with a 500 on ``null``, ``123`` or ``"x"``.
    Only the first character is looked at; malformed JSON is Strawberry's to refuse.
    """
    if scope.get("method") != "POST":
        return False
    for name, value in scope.get("headers", []):
        if name == b"content-type" and b"json" in value.lower():
            start = body.lstrip()[:1]
            return start not in (b"{", b"[", b"")
    return False


class BodySizeLimit:
    """Answer 413 to a body (or 414 to a query string) over ``max_bytes``.

    The body is read (never more than ``max_bytes``) before the app runs, so a streamed
    body without ``Content-Length`` is refused as surely as a declared one.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # uvicorn itself answers a bare 400 to request lines near 64 KiB; stay well below.
        self.max_query_bytes = min(max_bytes, MAX_QUERY_STRING_BYTES)

    async def _refuse(self, send: Send, status: int, what: str, limit: int) -> None:
        message = (
            f"{what} is larger than {limit} bytes, the limit of this API "
            "(API_MAX_BODY_BYTES); send a smaller query, by POST, with values as variables."
        )
        await self._error(send, status, message, "TOO_LARGE")

    @staticmethod
    async def _error(send: Send, status: int, message: str, code: str) -> None:
        body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_bytes:
            await self._refuse(send, 414, "The query string", self.max_query_bytes)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send, 413, "The request body", self.max_bytes)
                return
        # Read the body here, at most max_bytes of it, then replay it to the app.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._refuse(send, 413, "The request body", self.max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _json_but_not_an_object(scope, body):
            await self._error(send, 400, NOT_AN_OBJECT, "BAD_REQUEST")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
