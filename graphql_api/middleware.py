"""Pure ASGI guards: oversized requests, bearer authentication, rate limiting, and the
exposure rule of an API without authentication (:mod:`graphql_api.exposure`)."""

from __future__ import annotations

import json
import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.auth import (
    LOCAL_DEVELOPER,
    REMOTE_WITHOUT_AUTH,
    Authenticator,
    InvalidToken,
    Principal,
    build_authenticator,
)
from graphql_api.exposure import local_only
from graphql_api.settings import Settings, SettingsError

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


async def _send_json(
    send: Send, status: int, payload: dict[str, object], headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


def _error(message: str, code: str) -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class BearerAuth:
    """Verify ``Authorization: Bearer <token>`` and put the client in ``state.principal``.

    No header: an anonymous client (``None``). A header that is not a valid bearer token:
    401 with ``UNAUTHENTICATED`` before anything runs, whatever the query asks for.
    With no authentication configured (allowed for clients of this machine only, see
    :mod:`graphql_api.exposure`) every client is :data:`LOCAL_DEVELOPER`, as in development.
    """

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def _verify(self, token: str) -> Principal:
        """API keys inline (a hash); JWTs in a thread: a JWKS refresh is a blocking fetch."""
        if self.authenticator.is_jwt(token):
            return await run_in_threadpool(self.authenticator.verify, token)
        return self.authenticator.verify(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.authenticator.configured:
            scope.setdefault("state", {})["principal"] = LOCAL_DEVELOPER
            await self.app(scope, receive, send)
            return
        principal: Principal | None = None
        header = next((v for k, v in scope.get("headers", []) if k == b"authorization"), None)
        if header is not None:
            scheme, _, token = header.decode("latin-1").partition(" ")
            try:
                if scheme.lower() != "bearer" or not token.strip():
                    raise InvalidToken("send `Authorization: Bearer <token>`")
                principal = await self._verify(token.strip())
            except InvalidToken as exc:
                await _send_json(
                    send,
                    401,
                    _error(f"Authentication failed: {exc}.", "UNAUTHENTICATED"),
                    [(b"www-authenticate", b'Bearer error="invalid_token"')],
                )
                return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def client_address(scope: Scope) -> str:
    """The peer address (uvicorn puts the proxy's client there with ``--proxy-headers``)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_key(scope: Scope) -> str:
    """Who a request counts against: its authenticated client, else its address.

    Keyed by client, an app that serves many people through one service key has one budget
    however many addresses it uses, and people behind one address do not share theirs
    with it.
    """
    principal = scope.get("state", {}).get("principal")
    if isinstance(principal, Principal) and principal is not LOCAL_DEVELOPER:
        return principal.subject
    return f"address:{client_address(scope)}"


class RateLimit:
    """At most ``limit`` requests per client (``limits`` moving window), else 429.

    Runs after :class:`BearerAuth`, which names the client. ``GET /health`` is exempt so
    orchestrators can always probe the process.
    """

    def __init__(self, app: ASGIApp, limit: str) -> None:
        self.app = app
        try:
            self.item = parse(limit)
        except ValueError:
            raise SettingsError(
                f"API_RATE_LIMIT={limit!r} is not a rate such as '120/minute' or 'off'"
            ) from None
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/health":
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        if self.limiter.hit(self.item, client):
            await self.app(scope, receive, send)
            return
        reset, _ = self.limiter.get_window_stats(self.item, client)
        retry_after = max(1, math.ceil(reset - time.time()))
        message = (
            f"Too many requests: this API allows {self.item.amount} per "
            f"{self.item.multiples} {self.item.GRANULARITY.name}(s) per client; "
            f"retry in {retry_after} s."
        )
        await _send_json(
            send,
            429,
            _error(message, "RATE_LIMITED"),
            [(b"retry-after", str(retry_after).encode())],
        )


def protect(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` behind bearer authentication, then the rate limit (if any), of ``settings``;
    without authentication configured, for clients of this machine only
    (:func:`graphql_api.exposure.local_only`)."""
    limit = settings.effective_rate_limit
    if limit:
        app = RateLimit(app, limit)
    authenticator = build_authenticator(settings)
    app = BearerAuth(app, authenticator)
    return app if authenticator.configured else local_only(app, REMOTE_WITHOUT_AUTH)
