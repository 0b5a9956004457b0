from __future__ import annotations

from enum import Enum

import strawberry

from graphql_api.store import Document
from graphql_api.types.convert import opt_float
from graphql_api.types.gold import column, table_description

TABLE = "segments"


@strawberry.enum(description="RFM segment of a customer; `INACTIVE` for customers without orders.")
class Segment(Enum):
    """The values are the names stored in gold (its ``rfm.SEGMENTS``; a test keeps them equal)."""

    CHAMPIONS = "Champions"
    LOYAL = "Loyal"
    NEW = "New"
    AT_RISK = "At Risk"
    HIBERNATING = "Hibernating"
    NEEDS_ATTENTION = "Needs Attention"
    INACTIVE = "Inactive"


@strawberry.type(description=table_description(TABLE))
class SegmentSummary:
    segment: Segment = column(TABLE, "segment")
    customers: int = column(TABLE, "customers")
    total_spent: float = column(TABLE, "total_spent")
    avg_basket: float | None = column(TABLE, "avg_basket")

    @classmethod
    def from_document(cls, doc: Document) -> SegmentSummary:
        return cls(
            segment=Segment(str(doc["segment"])),
            customers=int(doc["customers"]),
            total_spent=float(doc["total_spent"]),
            avg_basket=opt_float(doc.get("avg_basket")),
        )
