"""Opaque, strictly checked cursors for keyset pagination of customers.

A cursor is ``base64url(json([version, order, sort_value, customer_id]))``. It is only
ever decoded into an ``(order, float | str | None, int)`` triple, so a forged cursor can
point at another position in the list but can never carry a Mongo operator into a query.
A cursor of an ordering by name carries a name: the API hands out and accepts those only
to clients allowed to read names (see :mod:`graphql_api.auth`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass

from graphql_api.errors import UserInputError

VERSION = "c1"
MAX_CURSOR_LENGTH = 600
MAX_TEXT_VALUE = 200
_INT64 = 2**63


@dataclass(frozen=True)
class CursorKey:
    """The position of one customer in one ordering."""

    order: str
    value: float | str | None
    customer_id: int


def encode_cursor(key: CursorKey) -> str:
    payload = json.dumps([VERSION, key.order, key.value, key.customer_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode("ascii")


def _invalid(reason: str, argument: str = "after") -> UserInputError:
    return UserInputError(
        f"`{argument}` is not a valid cursor: {reason}. Use an edge's `cursor`, or "
        "`pageInfo.endCursor` / `startCursor`, returned by this API, unchanged."
    )


def decode_cursor(
    cursor: str, order: str, *, value_type: type | None, argument: str = "after"
) -> CursorKey:
    """Decode ``cursor`` for a query ordered by ``order``; raise UserInputError otherwise.

    ``value_type`` is the type of the ordering's sort value: ``float``, ``str``, or None
    for an ordering by customer id alone.
    """
    try:
        return _decode(cursor, order, value_type)
    except UserInputError as exc:
        raise _invalid(exc.message, argument) from None


def _decode(cursor: str, order: str, value_type: type | None) -> CursorKey:
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise UserInputError(f"it must be 1 to {MAX_CURSOR_LENGTH} characters long")
    try:
        raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeError, binascii.Error, ValueError):
        raise UserInputError("it is not base64-encoded JSON") from None
    if not isinstance(data, list) or len(data) != 4 or data[0] != VERSION:
        raise UserInputError("its content does not have the expected shape")
    _, cursor_order, value, customer_id = data
    if cursor_order != order:
        # The order is one of our enum names or garbage: quote it only when it is ours.
        issued = repr(cursor_order) if _is_order_name(cursor_order) else "another ordering"
        raise UserInputError(f"it was issued for orderBy {issued}, not {order}")
    if type(customer_id) is not int or not -_INT64 <= customer_id < _INT64:
        raise UserInputError("its customer id is not an integer")
    if value_type is float:
        if type(value) not in (int, float) or not math.isfinite(value):
            raise UserInputError("its sort value is not a finite number")
        return CursorKey(order, float(value), customer_id)
    if value_type is str:
        if type(value) is not str or len(value) > MAX_TEXT_VALUE:
            raise UserInputError("its sort value is not a short text")
        return CursorKey(order, value, customer_id)
    if value is not None:
        raise UserInputError("it carries a sort value this ordering does not use")
    return CursorKey(order, None, customer_id)


def _is_order_name(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 40 and value.replace("_", "").isalpha()
