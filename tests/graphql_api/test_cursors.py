from __future__ import annotations

import pytest

from graphql_api.cursors import CursorKey, decode_cursor, encode_cursor
from graphql_api.errors import UserInputError


@pytest.mark.parametrize(
    "key",
    [CursorKey("TOTAL_SPENT_DESC", 12.5, 7), CursorKey("TOTAL_SPENT_ASC", 0.0, 2**40)],
)
def test_round_trip(key: CursorKey) -> None:
    assert decode_cursor(encode_cursor(key), key.order, needs_value=True) == key


def test_round_trip_without_value() -> None:
    key = CursorKey("ID_ASC", None, 3)
    assert decode_cursor(encode_cursor(key), "ID_ASC", needs_value=False) == key


@pytest.mark.parametrize("bad", ["", "%%%", "bm90IGpzb24=", "W10=", "WyJjMSJd", "a" * 300])
def test_garbage_is_refused(bad: str) -> None:
    with pytest.raises(UserInputError, match="not a valid cursor"):
        decode_cursor(bad, "TOTAL_SPENT_DESC", needs_value=True)


def test_booleans_and_infinities_are_not_numbers() -> None:
    for payload in (
        '["c1","TOTAL_SPENT_DESC",true,1]',
        '["c1","TOTAL_SPENT_DESC",1e999,1]',
        '["c1","TOTAL_SPENT_DESC",1.0,true]',
    ):
        import base64

        cursor = base64.urlsafe_b64encode(payload.encode()).decode()
        with pytest.raises(UserInputError):
            decode_cursor(cursor, "TOTAL_SPENT_DESC", needs_value=True)
