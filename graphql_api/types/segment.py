from __future__ import annotations

from enum import Enum

import strawberry

from graphql_api.store import Document


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


@strawberry.type(description="Customers of one RFM segment, counted and summed.")
class SegmentSummary:
    segment: Segment = strawberry.field(description="The segment.")
    customers: int = strawberry.field(description="Number of customers in the segment.")
    total_spent: float = strawberry.field(description="Sum of the segment's total spent.")
    avg_basket: float | None = strawberry.field(
        description="Average order amount in the segment; null when it has no orders."
    )
    document: strawberry.Private[Document]

    @classmethod
    def from_document(cls, doc: Document) -> SegmentSummary:
        spent, orders = float(doc["total_spent"]), int(doc["order_count"])
        return cls(
            segment=Segment(str(doc["_id"])),
            customers=int(doc["customers"]),
            total_spent=round(spent, 2),
            avg_basket=round(spent / orders, 2) if orders else None,
            document=doc,
        )
