"""Bad source files and configuration: a clear error naming the file, and the lake intact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from medallion_kedro.lake import read_table
from tests import handmade as hm
from tests.kedro_run import kedro_run

LAKEHOUSE = ["bronze", "silver", "gold"]


RUN_HISTORY = ("quality/runs", "quality/node_runs")  # a refused run adds its own record


def _fingerprint(lake: Path) -> dict[str, str]:
    """Every lake file but landing: versions, the commit record, and any leftover."""
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*"))
        if p.is_file()
        and p.relative_to(lake).parts[0] not in ("landing", "_lineage")
        and not str(p.parent.relative_to(lake)).startswith(RUN_HISTORY)
    }


@pytest.fixture(scope="module")
def built_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("built") / "lake"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKE_PATH", str(lake))
        hm.write_landing(lake)
        kedro_run(LAKEHOUSE)
    return lake


@pytest.fixture
def lake(built_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of a lake built from good data, which the test then damages."""
    import shutil

    copy = tmp_path / "lake"
    shutil.copytree(built_lake, copy)
    monkeypatch.setenv("LAKE_PATH", str(copy))
    return copy


def _run_fails(lake: Path, match: str, **kwargs: object) -> BaseException:
    before = _fingerprint(lake)
    with pytest.raises(Exception, match=match) as info:
        kedro_run(LAKEHOUSE, **kwargs)  # type: ignore[arg-type]
    assert _fingerprint(lake) == before, "a failed run changed the lake"
    return info.value


ORDERS = "orders.csv"


def _landing(lake: Path, name: str = ORDERS) -> Path:
    return lake / "landing" / name


def test_missing_column_names_file_and_fix(lake: Path) -> None:
    text = hm.ORDERS_CSV.replace(",product\n", "\n", 1)
    text = "\n".join(
        line.rsplit(",", 1)[0] if i else line for i, line in enumerate(text.splitlines())
    )
    _landing(lake).write_text(text + "\n")
    err = _run_fails(lake, r"orders\.csv has no column \['product'\]")
    assert "column_map" in str(err)


def test_unknown_extra_column(lake: Path) -> None:
    lines = hm.ORDERS_CSV.splitlines()
    text = "\n".join([lines[0] + ",coupon"] + [line + ",X" for line in lines[1:]])
    _landing(lake).write_text(text + "\n")
    _run_fails(lake, r"orders\.csv has column\(s\) \['coupon'\].*map each")


def test_empty_file(lake: Path) -> None:
    _landing(lake).write_text("")
    _run_fails(lake, r"landing/orders\.csv is empty")


def test_header_only_file(lake: Path) -> None:
    _landing(lake).write_text(hm.ORDERS_CSV.splitlines()[0] + "\n")
    _run_fails(lake, r"orders\.csv has a header but no data rows")


def test_file_that_is_not_csv(lake: Path) -> None:
    # a Parquet file dropped in place of the CSV export
    parquet = next((lake / "silver" / "orders").glob("*.parquet"))  # a Delta data file
    _landing(lake).write_bytes(parquet.read_bytes())
    _run_fails(lake, r"orders\.csv is (binary|not a UTF-8 CSV)")


def test_wrong_column_map(lake: Path) -> None:
    _run_fails(
        lake,
        r"bronze\.sources\.orders\.column_map maps to .*'price'.*needs exactly",
        # what `--params bronze.sources.orders.column_map.amount=price` passes
        params={"bronze": {"sources": {"orders": {"column_map": {"amount": "price"}}}}},
    )


def test_row_with_wrong_field_count_is_quarantined_as_malformed(lake: Path) -> None:
    lines = hm.ORDERS_CSV.splitlines()
    # one field short (its product missing) and one field too many: neither is guessed
    lines[1] = lines[1].rsplit(",", 1)[0]
    lines[2] = lines[2] + ",surplus"
    _landing(lake).write_text("\n".join(lines) + "\n")
    # the hand-made file already rejects 7 of its 16 rows; 2 more pass the default 50% limit
    kedro_run(LAKEHOUSE, params={"silver": {"max_reject_share": 0.75}})
    rejected = read_table(str(lake), "quality", "rejected_orders")
    malformed = rejected.filter(pl.col("_malformed"))
    assert malformed.get_column("reason").unique().to_list() == [
        "malformed row: wrong number of fields"
    ]
    assert sorted(malformed.get_column("order_id")) == sorted(
        [lines[1].split(",")[0], lines[2].split(",")[0]]
    )
    bronze = read_table(str(lake), "bronze", "orders")
    assert bronze.get_column("_malformed").sum() == 2


def test_unterminated_quote_is_reported_by_line_with_a_short_excerpt(lake: Path) -> None:
    lines = hm.ORDERS_CSV.splitlines()
    lines[3] = lines[3].replace(",", ',"', 1)
    filler = [f"{9000 + i},1,2026-01-01 10:00:00,1.00,{'x' * 50}@example.com" for i in range(20000)]
    _landing(lake).write_text("\n".join([*lines, *filler]) + "\n")
    err = _run_fails(lake, r"orders\.csv has an unterminated quote: .* opened on line 4 ")
    assert len(str(err)) < 1000, len(str(err))


def test_missing_landing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = tmp_path / "lake"
    monkeypatch.setenv("LAKE_PATH", str(lake))
    (hm.write_landing(lake) / "orders.csv").unlink()
    _run_fails(lake, r"orders\.csv does not exist: run `kedro run --pipelines generate`")


def test_landing_file_removed_after_ingestion_is_not_an_error(lake: Path) -> None:
    bronze = read_table(str(lake), "bronze", "orders")
    _landing(lake).unlink()
    kedro_run(LAKEHOUSE)
    assert read_table(str(lake), "bronze", "orders").equals(bronze)


def test_unwritable_lake_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the lake's parent folder should be")
    monkeypatch.setenv("LAKE_PATH", str(blocker / "lake"))
    with pytest.raises(Exception, match=r"lake folder .* cannot be created.*globals\.yml"):
        kedro_run(LAKEHOUSE)


def test_bad_generator_settings_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKE_PATH", str(tmp_path / "lake"))
    with pytest.raises(Exception, match="dirty_share must be between 0 and 0.5"):
        kedro_run(["generate"], params={"dirty_share": 2})
    with pytest.raises(Exception, match=r"generator.reference_date='yesterday' is not a date"):
        kedro_run(["generate"], params={"generator": {"reference_date": "yesterday"}})
