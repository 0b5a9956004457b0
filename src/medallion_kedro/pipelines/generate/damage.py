"""The kinds of damage the generator injects into source rows on purpose.

Each row is damaged with probability ``dirty_share``; the kind is drawn uniformly among the
non-clean members of its enum, so every kind appears once the data set is big enough.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import polars as pl


class CustomerDamage(IntEnum):
    """What is wrong with a generated customer row."""

    CLEAN = 0
    #: re-exported later with a new email (the later row wins in silver)
    DUPLICATE = 1
    NULL_EMAIL = 2
    #: a date that does not exist (``2025-02-30``)
    IMPOSSIBLE_SIGNUP_DATE = 3
    #: a spelling silver must map back (``Deutschland``, ``U.K.``, ``Netherland``)
    ODD_COUNTRY = 4
    #: a country that does not exist (``Atlantis``)
    UNKNOWN_COUNTRY = 5
    NULL_NAME = 6


class OrderDamage(IntEnum):
    """What is wrong with a generated order row."""

    CLEAN = 0
    #: the same row exported twice
    DUPLICATE = 1
    NULL_AMOUNT = 2
    #: ``0.00`` or a negative amount
    NON_POSITIVE_AMOUNT = 3
    #: a timestamp that does not exist (``2026-13-45 25:61:00``)
    IMPOSSIBLE_ORDER_TS = 4
    #: a customer id that is not in the customers export
    UNKNOWN_CUSTOMER = 5
    NULL_CUSTOMER_ID = 6


def draw_damage(rng: np.random.Generator, n: int, share: float, kinds: type[IntEnum]) -> np.ndarray:
    """Per row: 0 (clean) with probability ``1 - share``, else a damage kind drawn uniformly."""
    hit = rng.random(n) < share
    return np.where(hit, rng.integers(1, len(kinds), n), 0).astype(np.int8)


def damaged(kind: IntEnum, column: str = "kind") -> pl.Expr:
    """True on the rows whose ``column`` holds damage ``kind``."""
    return pl.col(column) == int(kind)
