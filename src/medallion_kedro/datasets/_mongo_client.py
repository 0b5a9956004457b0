"""Shared MongoDB clients (one per connection string) and driver errors turned into advice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kedro.io.core import DatasetError
from pymongo import MongoClient
from pymongo.errors import (
    BulkWriteError,
    ConfigurationError,
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
)

from medallion_kedro.mongo_auth import hosts, raised_during_auth, redact
from medallion_kedro.public_errors import publishable

#: Applied unless the URI or the credentials set them: a server that is down or a wrong
#: host fails within seconds instead of hanging.
DEFAULT_CLIENT_ARGS: dict[str, int] = {
    "serverSelectionTimeoutMS": 5000,
    "connectTimeoutMS": 5000,
    "socketTimeoutMS": 60000,
}
_AUTH_CODES = {13, 18}  # Unauthorized, AuthenticationFailed
_DUPLICATE_KEY = 11000
_START_HINT = (
    "is the server running? Locally start one with `medallion-mongo start`; otherwise "
    "check MONGO_URI (credentials `mongo.uri`) and the network"
)

_clients: dict[str, MongoClient[dict[str, Any]]] = {}
_lock = threading.Lock()


def hosts_of(uri: str) -> str:
    """The ``host:port`` list of a MongoDB URI, without credentials (no DNS lookup)."""
    return hosts(uri)


def split_credentials(credentials: dict[str, Any] | None, what: str) -> tuple[str, dict[str, Any]]:
    """The ``uri`` of a dataset's credentials and the other client options; ``what`` (the
    dataset) is named in the error when the ``uri`` is missing."""
    options = dict(credentials or {})
    uri = options.pop("uri", None)
    if not uri or not isinstance(uri, str):
        raise DatasetError(
            f"{what} needs credentials with a `uri`, e.g. `credentials: mongo` and in "
            "credentials.yml `mongo: {uri: mongodb://127.0.0.1:27017}`."
        )
    return uri, options


def _client_args(uri: str, extra: dict[str, Any]) -> dict[str, Any]:
    query = uri.split("?", 1)[1].lower() if "?" in uri else ""
    given = {k.lower() for k in extra} | {p.split("=", 1)[0] for p in query.split("&") if p}
    defaults = {k: v for k, v in DEFAULT_CLIENT_ARGS.items() if k.lower() not in given}
    return {**defaults, **extra}


def get_client(uri: str, extra: dict[str, Any] | None = None) -> MongoClient[dict[str, Any]]:
    """The process-wide client for ``uri`` (and client options), created on first use.

    Creating a client opens no socket until the first operation, so building a catalog
    never touches the network.
    """
    kwargs = _client_args(uri, extra or {})
    key = uri + "|" + json.dumps(kwargs, sort_keys=True, default=str)
    with _lock:
        client = _clients.get(key)
        if client is None:
            try:
                client = MongoClient(uri, **kwargs)
            except (ConfigurationError, ValueError, TypeError) as exc:
                raise _invalid_settings(uri, exc) from exc
            _clients[key] = client
        return client


def _invalid_settings(uri: str, exc: BaseException) -> DatasetError:
    """The error for settings the driver refuses. With credentials in the URI the driver's
    text is left out: it may quote a piece of a password it could not split off."""
    said = "" if "@" in uri else f": {redact(str(exc))}"
    return publishable(
        DatasetError(
            f"Invalid MongoDB connection settings{said}. Check the credentials `mongo.uri` "
            "(MONGO_URI), e.g. mongodb://127.0.0.1:27017, with the user and password "
            "percent-escaped (urllib.parse.quote_plus) when they hold any of : / @ %."
        )
    )


def close_clients() -> None:
    """Close every cached client (a process that forks, or one done with MongoDB)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


@contextmanager
def driver_errors(uri: str, action: str) -> Iterator[None]:
    """Turn a driver error raised while doing ``action`` into the :func:`explain` error."""
    try:
        yield
    except DatasetError:
        raise
    except Exception as exc:
        error = explain(exc, uri, action)
        if error is None:
            raise
        raise error from exc


def explain(exc: BaseException, uri: str, action: str) -> DatasetError | None:
    """A ``DatasetError`` that says what went wrong doing ``action`` and what to check.

    Returns ``None`` for an exception that is not a driver error, so callers re-raise it.
    Its public form (:mod:`medallion_kedro.public_errors`) is its message, with passwords
    redacted, except for duplicate keys, whose values it leaves out.
    """
    host = hosts_of(uri)
    if isinstance(exc, OperationFailure) and (
        exc.code in _AUTH_CODES or "auth" in str(exc).lower()
    ):
        return publishable(
            DatasetError(
                f"MongoDB at {host} refused the credentials while {action}: authentication "
                "failed. Check the user, password and authSource in MONGO_URI (credentials "
                f"`mongo.uri`). Server said: {redact(str(exc))}"
            )
        )
    if not isinstance(exc, PyMongoError) and raised_during_auth(exc):
        return publishable(
            DatasetError(
                f"MongoDB at {host}: authentication failed while {action} (the server "
                f"broke off the login handshake: {type(exc).__name__}: {redact(str(exc))}). "
                "Check the user, password and authSource in MONGO_URI (credentials "
                "`mongo.uri`), or remove them if the server has no users (nx-27017 has none)."
            )
        )
    if isinstance(exc, ConnectionFailure):
        return publishable(
            DatasetError(
                f"Cannot reach MongoDB at {host} while {action}: {_START_HINT}. "
                f"Driver said: {redact(str(exc)).split(', Timeout:')[0]}"
            )
        )
    if isinstance(exc, BulkWriteError | OperationFailure) and (
        exc.code == _DUPLICATE_KEY or "UNIQUE constraint" in str(exc)
    ):
        details = exc.details or {}
        first = (details.get("writeErrors") or [details])[0]
        advice = (
            "Check the key column has no duplicates and the unique indexes in "
            "save_args.indexes match the data."
        )
        return publishable(
            DatasetError(
                f"MongoDB at {host} found duplicate keys while {action}: "
                f"{first.get('errmsg', exc)}. {advice}"
            ),
            f"MongoDB at {host} found duplicate keys while {action} (rule: unique index). "
            + advice,
        )
    if isinstance(exc, PyMongoError):
        return publishable(
            DatasetError(f"MongoDB at {host} failed while {action}: {redact(str(exc))}")
        )
    return None
