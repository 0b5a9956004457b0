from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from medallion_kedro.pipelines.bronze.nodes import SourceLayoutError, ingest, start_batch

FR = {
    "file": "achats.csv",
    "column_map": {
        "id_achat": "order_id",
        "id_client": "customer_id",
        "date_achat": "order_ts",
        "montant": "amount",
        "produit": "product",
    },
}
BATCH = {"batch_id": "abc123", "ingested_at": "2026-11-27T10:00:00"}


def _raw(**overrides: list[str | None]) -> pl.DataFrame:
    data: dict[str, list[str | None]] = {
        "produit": ["laptop", None],
        "id_achat": ["1", "2"],
        "id_client": ["7", "x"],
        "date_achat": ["2026-01-01 00:00:00", "bad"],
        "montant": ["1.50", "-2"],
    }
    data.update(overrides)
    return pl.DataFrame(data)


def test_renames_orders_columns_keeps_text_and_adds_lineage() -> None:
    out = ingest(_raw(), FR, BATCH, "orders")
    assert out.columns == [
        "order_id",
        "customer_id",
        "order_ts",
        "amount",
        "product",
        "_ingested_at",
        "_source_file",
        "_batch_id",
        "_malformed",
    ]
    assert out["customer_id"].to_list() == ["7", "x"]
    assert out["amount"].to_list() == ["1.50", "-2"]
    assert out["product"].to_list() == ["laptop", None]
    assert out["_source_file"].to_list() == ["achats.csv"] * 2
    assert out["_batch_id"].to_list() == ["abc123"] * 2
    assert out["_ingested_at"][0] == dt.datetime(2026, 11, 27, 10)


def test_input_frame_is_not_mutated() -> None:
    raw = _raw()
    before = raw.clone()
    ingest(raw, FR, BATCH, "orders")
    assert raw.equals(before)


def test_missing_and_extra_columns_are_named() -> None:
    with pytest.raises(SourceLayoutError, match=r"achats.csv has no column \['montant'\]"):
        ingest(_raw().drop("montant"), FR, BATCH, "orders")
    with pytest.raises(SourceLayoutError, match=r"has column\(s\) \['remise'\]"):
        ingest(_raw(remise=["0", "1"]), FR, BATCH, "orders")


def test_column_map_must_cover_every_project_column() -> None:
    bad = {**FR, "column_map": {**FR["column_map"], "montant": "price"}}
    with pytest.raises(SourceLayoutError, match=r"needs exactly"):
        ingest(_raw(), bad, BATCH, "orders")


def test_batches_are_distinct() -> None:
    first, second = start_batch(), start_batch()
    assert first["batch_id"] != second["batch_id"]
    dt.datetime.fromisoformat(first["ingested_at"])


def test_a_huge_header_is_quoted_only_in_part() -> None:
    raw = _raw(**{f"col_{'x' * 5000}_{i}": ["a", "b"] for i in range(3)})
    with pytest.raises(
        SourceLayoutError, match=r"has column\(s\) \['col_x+\.\.\. \(\d+ more"
    ) as info:
        ingest(raw, FR, BATCH, "orders")
    assert len(str(info.value)) < 800
