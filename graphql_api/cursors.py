"""Opaque, strictly checked cursors for keyset pagination of customers.

A cursor is ``base64url(json([version, order, sort_value, customer_id]))``. It is only
ever decoded into an ``(order, float | None, int)`` triple, so a forged cursor can point
at another position in the list but can never carry a Mongo operator into a query.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass

from graphql_api.errors import UserInputError

VERSION = "c1"
MAX_CURSOR_LENGTH = 200
_INT64 = 2**63


@dataclass(frozen=True)
class CursorKey:
    """The position of one customer in one ordering."""

    order: str
    value: float | None
    customer_id: int


def encode_cursor(key: CursorKey) -> str:
    payload = json.dumps([VERSION, key.order, key.value, key.customer_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode("ascii")


def _invalid(reason: str) -> UserInputError:
    return UserInputError(
        f"`after` is not a valid cursor: {reason}. Use a `cursor` or `pageInfo.endCursor` "
        "returned by this API, unchanged."
    )


def decode_cursor(cursor: str, order: str, *, needs_value: bool) -> CursorKey:
    """Decode ``cursor`` for a query ordered by ``order``; raise UserInputError otherwise."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid(f"it must be 1 to {MAX_CURSOR_LENGTH} characters long")
    try:
        raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeError, binascii.Error, ValueError):
        raise _invalid("it is not base64-encoded JSON") from None
    if not isinstance(data, list) or len(data) != 4 or data[0] != VERSION:
        raise _invalid("its content does not have the expected shape")
    _, cursor_order, value, customer_id = data
    if cursor_order != order:
        raise _invalid(f"it was issued for orderBy {cursor_order!r}, not {order}")
    if type(customer_id) is not int or not -_INT64 <= customer_id < _INT64:
        raise _invalid("its customer id is not an integer")
    if needs_value:
        if type(value) not in (int, float) or not math.isfinite(value):
            raise _invalid("its sort value is not a finite number")
        return CursorKey(order, float(value), customer_id)
    if value is not None:
        raise _invalid("it carries a sort value this ordering does not use")
    return CursorKey(order, None, customer_id)
