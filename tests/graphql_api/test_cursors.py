from __future__ import annotations

import base64

import pytest

from graphql_api.cursors import CursorKey, decode_cursor, encode_cursor
from graphql_api.errors import UserInputError


@pytest.mark.parametrize(
    "key",
    [CursorKey("TOTAL_SPENT_DESC", 12.5, 7), CursorKey("TOTAL_SPENT_ASC", 0.0, 2**40)],
)
def test_round_trip(key: CursorKey) -> None:
    assert decode_cursor(encode_cursor(key), key.order, value_type=float) == key


def test_round_trip_without_value() -> None:
    key = CursorKey("CUSTOMER_ID_ASC", None, 3)
    assert decode_cursor(encode_cursor(key), "CUSTOMER_ID_ASC", value_type=None) == key


def test_round_trip_with_a_name() -> None:
    key = CursorKey("NAME_ASC", "Günter Öz", 8)
    assert decode_cursor(encode_cursor(key), "NAME_ASC", value_type=str) == key


@pytest.mark.parametrize("value", [1.5, None, {"$gt": ""}, ["a"], "x" * 201])
def test_a_name_cursor_holds_a_short_text(value: object) -> None:
    import json

    payload = json.dumps(["c1", "NAME_ASC", value, 1])
    with pytest.raises(UserInputError, match="short text"):
        decode_cursor(
            base64.urlsafe_b64encode(payload.encode()).decode(), "NAME_ASC", value_type=str
        )


def test_a_forged_order_is_not_quoted_back() -> None:
    payload = '["c1","<script>alert(1)</script>",1.0,1]'
    cursor = base64.urlsafe_b64encode(payload.encode()).decode()
    with pytest.raises(UserInputError, match="another ordering") as error:
        decode_cursor(cursor, "TOTAL_SPENT_DESC", value_type=float)
    assert "script" not in str(error.value)


@pytest.mark.parametrize("bad", ["", "%%%", "bm90IGpzb24=", "W10=", "WyJjMSJd", "a" * 300])
def test_garbage_is_refused(bad: str) -> None:
    with pytest.raises(UserInputError, match="not a valid cursor"):
        decode_cursor(bad, "TOTAL_SPENT_DESC", value_type=float)


def test_booleans_and_infinities_are_not_numbers() -> None:
    for payload in (
        '["c1","TOTAL_SPENT_DESC",true,1]',
        '["c1","TOTAL_SPENT_DESC",1e999,1]',
        '["c1","TOTAL_SPENT_DESC",1.0,true]',
    ):
        import base64

        cursor = base64.urlsafe_b64encode(payload.encode()).decode()
        with pytest.raises(UserInputError):
            decode_cursor(cursor, "TOTAL_SPENT_DESC", value_type=float)
