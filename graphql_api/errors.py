"""Errors a client may see, and the rule that hides every other one.

A client mistake raises :class:`UserInputError` with a message that says what was wrong;
an unreachable database raises :class:`ServiceUnavailable`. Anything else is a bug: the
client gets a generic message (see :func:`should_mask`) while the server logs the details.
"""

from __future__ import annotations

from graphql import GraphQLError


class ClientFacingError(Exception):
    """Base of the errors whose message is safe and useful to show to a client."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": self.code}


class UserInputError(ClientFacingError):
    """An argument the client sent is not acceptable; the message says why."""

    code = "BAD_USER_INPUT"


class ServiceUnavailable(ClientFacingError):
    """MongoDB did not answer in time; retrying later may succeed."""

    code = "SERVICE_UNAVAILABLE"


MASKED_MESSAGE = "Internal server error: the details were logged on the server."


def should_mask(error: GraphQLError) -> bool:
    """Hide unexpected exceptions; keep parse, validation, coercion and client-facing errors."""
    original = error.original_error
    return original is not None and not isinstance(original, (ClientFacingError, GraphQLError))


class DataNotExported(ClientFacingError):
    """A collection the query needs is empty: the export pipeline has not run yet."""

    code = "DATA_NOT_EXPORTED"
