"""The exposure rule, inside the ASGI applications: without authentication, this machine only.

An app without authentication configured (the API without keys or JWTs, the Gradio app
without users) treats every client as the local developer, who reads personal data. So it
serves only clients on this machine, reached directly, whatever serves it (``medallion-api``,
``uvicorn graphql_api.app:app --host 0.0.0.0``, gunicorn, a reverse proxy on this host):

* at startup (the app's lifespan): a non-loopback configured address (``API_HOST``,
  ``UI_HOST``) is refused, and so is a non-loopback address the process listens on (read
  with psutil: the sockets a server bound before the lifespan; a server that binds after
  it, as uvicorn does, is stopped as soon as its socket shows, see :func:`watch_binds`);
* per request (:func:`local_only`): a client whose address is not loopback, or a request
  relayed by a proxy (``Forwarded``, ``X-Forwarded-For``, ``X-Real-IP``), is answered
  403, and the ``Host`` header must name this machine (Starlette's
  ``TrustedHostMiddleware``), which defeats DNS rebinding: a page of another site whose
  name resolves to 127.0.0.1 sends its own name as ``Host``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal

import psutil
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.settings import SettingsError, is_loopback

log = logging.getLogger(__name__)

#: ``Host`` header names of this machine, the only ones served without authentication.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Headers a reverse proxy adds: their presence means the client is somewhere else.
FORWARDING_HEADERS = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})


class ExposedError(SettingsError):
    """The app, without authentication, would be reachable from other machines."""


def listening_addresses(pid: int | None = None) -> set[str]:
    """The addresses the process listens on (empty when psutil cannot tell)."""
    try:
        connections = psutil.Process(pid or os.getpid()).net_connections(kind="inet")
    except psutil.Error:
        return set()
    return {str(c.laddr.ip) for c in connections if c.status == psutil.CONN_LISTEN}


def exposed_listeners(pid: int | None = None) -> list[str]:
    """The non-loopback addresses (``0.0.0.0`` included) the process listens on."""
    return sorted(a for a in listening_addresses(pid) if not is_loopback(a))


def check_startup(host: str, refusal: str) -> None:
    """Raise :class:`ExposedError` (``refusal`` formatted with the address) when the app is
    configured for, or already listens on, an address other machines can reach."""
    if not is_loopback(host):
        raise ExposedError(refusal.format(host=host))
    exposed = exposed_listeners()
    if exposed:
        raise ExposedError(refusal.format(host=", ".join(exposed)))


async def watch_binds(refusal: str, seconds: float = 30.0, every: float = 0.1) -> None:
    """Stop the process (SIGTERM, the server's own clean shutdown) if, within ``seconds``
    of startup, it listens on an address other machines can reach: the servers that bind
    their socket after the lifespan (uvicorn) are refused too. Returns once the process
    listens on loopback only."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        listening = await asyncio.to_thread(listening_addresses)
        exposed = sorted(a for a in listening if not is_loopback(a))
        if exposed:
            log.error(refusal.format(host=", ".join(exposed)))
            signal.raise_signal(signal.SIGTERM)
            return
        if listening:  # on loopback only
            return
        await asyncio.sleep(every)


class LoopbackClientsOnly:
    """Answer 403 to a client that is not on this machine or that came through a proxy."""

    def __init__(self, app: ASGIApp, refusal: str) -> None:
        self.app = app
        self.refusal = refusal

    def _refused(self, scope: Scope) -> str | None:
        client = scope.get("client")
        address = str(client[0]) if client else None
        if address is not None and not is_loopback(address):
            return address
        if any(name in FORWARDING_HEADERS for name, _ in scope.get("headers", [])):
            return "a client behind a proxy"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = self._refused(scope) if scope["type"] in ("http", "websocket") else None
        if refused is None:
            await self.app(scope, receive, send)
            return
        message = self.refusal.format(client=refused)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        body = {"errors": [{"message": message, "extensions": {"code": "FORBIDDEN"}}]}
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def local_only(app: ASGIApp, refusal: str) -> ASGIApp:
    """``app`` served to clients of this machine only, named by a local ``Host``."""
    return TrustedHostMiddleware(
        LoopbackClientsOnly(app, refusal), allowed_hosts=list(LOCAL_HOSTS), www_redirect=False
    )
