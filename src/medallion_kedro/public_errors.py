"""The public form of an error: what of it may leave the run's console.

The console (the log of the run) shows an error whole. Everything that is persisted or
published (run and node records in ``quality.runs``/``quality.node_runs``, OpenLineage
events, the run history exported to MongoDB, the API, the app) holds only its public
form, which names the file, line, column and rule, never a value read from a landing file
or a personal field:

* an exception that carries a ``public`` text (set by :func:`publishable`) is published
  as that text: errors that quote data build both forms where they are raised;
* an exception of a class known to build its message from names, counts and settings
  only (:data:`SAFE_CLASSES`) is published as its message;
* any other exception as its class name and :data:`WITHHELD`, never its message.

Causes are followed (Kedro wraps a dataset's error in its own ``DatasetError``), so the
first exception of the chain with a public form gives it. Every text is passed through
:func:`medallion_kedro.mongo_auth.redact`, so no MongoDB password is published either.
This module imports no Kedro: the API and the app use it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from medallion_kedro.mongo_auth import redact

E = TypeVar("E", bound=BaseException)

#: What is published instead of the message of an error that may quote data.
WITHHELD = "details are in the run's console log only (they may quote data)"

#: Classes (module.qualname) whose messages hold names, counts and settings, never a value
#: read from a landing file: published as they are.
SAFE_CLASSES = frozenset(
    {
        "medallion_kedro.lake.checks.LakeMixedError",
        "medallion_kedro.lake.checks.LakeUnavailableError",
        "medallion_kedro.lake.history.LakeHistoryError",
        "medallion_kedro.lake.lock.LakeLockedError",
        "medallion_kedro.pipelines.gold.nodes.UnreconciledSilverError",
        "medallion_kedro.pipelines.silver.nodes.ReconciliationError",
        "medallion_kedro.pipelines.silver.nodes.RejectShareError",
        "medallion_kedro.schemas.SchemaError",
    }
)


def publishable(exc: E, public: str | None = None) -> E:
    """``exc`` with its public form: ``public``, or its own message when that quotes no
    data (``public`` left out). Returns ``exc``, so ``raise publishable(Error(...), ...)``."""
    exc.public = str(exc) if public is None else public  # type: ignore[attr-defined]
    return exc


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )


def _is_safe(exc: BaseException) -> bool:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}" in SAFE_CLASSES


def public_text(exc: BaseException) -> str:
    """``<class>: <public form>`` of ``exc`` (see the module docstring)."""
    for link in _chain(exc):
        public = getattr(link, "public", None)
        if isinstance(public, str):
            return f"{type(link).__name__}: {redact(public)}"
        if _is_safe(link):
            return f"{type(link).__name__}: {redact(str(link))}"
    return f"{type(exc).__name__}: {WITHHELD}"
