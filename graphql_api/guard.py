"""Every MongoDB call of the API runs through :func:`guarded`: bounded, shielded, explained.

Bounded: the client sets ``timeoutMS`` (every operation, including server selection and
the wait for a pooled connection, ends by then) and each request runs under one
``pymongo.timeout`` budget. Shielded: when a request is cancelled (graphql-core cancels
the sibling fields of a field that failed; a client may go away), the driver call itself
is not cancelled half-way; it runs on to its own timeout and gives its connection back to
the pool. Cancelling the driver inside its pool and topology locks is what left the
process unable to reach the database after a stall. Explained: a timeout or an
unreachable server becomes :class:`ServiceUnavailable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from graphql_api.errors import ServiceUnavailable
from medallion_kedro.mongo_auth import raised_during_auth

T = TypeVar("T")

UNAVAILABLE = "The database did not answer in time; retry later (GET /health shows its state)."
LOGIN_FAILED = (
    "The API could not log in to the database: check the user, password and authSource in "
    "MONGO_URI (GET /health shows the reason)."
)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so an abandoned failure is not reported as lost


def during_login(exc: BaseException) -> bool:
    """Raised by the driver's authentication code (e.g. the server broke off the handshake)."""
    if isinstance(exc, OperationFailure) and exc.code in {13, 18}:
        return True
    return raised_during_auth(exc)


def is_unavailable(exc: BaseException) -> bool:
    """A timeout or an unreachable server (as opposed to a refused or invalid operation)."""
    return isinstance(exc, ConnectionFailure) or (
        isinstance(exc, PyMongoError) and bool(getattr(exc, "timeout", False))
    )


async def guarded(awaitable: Awaitable[T]) -> T:
    """Await a driver call, shielded from cancellation, with driver errors explained."""
    task = asyncio.ensure_future(awaitable)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(_retrieve)
        raise
    except Exception as exc:
        if is_unavailable(exc):
            raise ServiceUnavailable(UNAVAILABLE) from exc
        if during_login(exc):
            raise ServiceUnavailable(LOGIN_FAILED) from exc
        raise
