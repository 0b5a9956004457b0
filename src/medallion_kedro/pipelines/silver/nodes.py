"""Silver: type and validate bronze rows, deduplicate, quarantine what fails, reconcile.

A row's ``reason`` is the first *critical* rule it breaks (null when it passes every rule):
keys, amounts, timestamps, the customer reference, and the bounds (text length, amount
range, future dates). Duplicates are rows that pass every rule but have a later valid row
with the same key: the last ingested row wins (bronze keeps ingestion order). Nothing is
dropped: each live bronze row ends in ``silver.<table>``, in ``quality.rejected_<table>``
with its original text (cut to a short excerpt, see :func:`split_flagged`) and reason, or,
an order whose customer is not known yet, in ``quality.waiting_orders``
(:mod:`.incremental`).

A descriptive value gold can do without (an unknown country, a missing product) does not
reject its row: the value becomes null in silver and the row is listed in
``quality.warnings`` with the column, the raw value and the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import narwhals as nw
import polars as pl
from narwhals.typing import IntoFrame

from medallion_kedro import frames, parsing
from medallion_kedro.dates import AsOf, parse_as_of, parse_date
from medallion_kedro.errors import UserError
from medallion_kedro.frames import ROW_NUMBER
from medallion_kedro.parsing import Parse
from medallion_kedro.pipelines.silver import rules as r
from medallion_kedro.pipelines.silver.countries import EXACT, UNKNOWN, CountryMatcher
from medallion_kedro.pipelines.silver.incremental import (
    EXPIRED_REASON,
    Plan,
    live_rows,
    quarantine_schema,
)
from medallion_kedro.schemas import (
    BATCH_ID,
    BATCH_RECONCILIATION,
    COUNTRY_MAPPINGS,
    DUPLICATE_REASON,
    KEYS,
    MALFORMED,
    RAW_COLUMNS,
    REASON,
    RECONCILIATION,
    SILVER,
    SOURCES,
    Bound,
    ContractError,
    Frame,
    SourceColumn,
)

log = logging.getLogger(__name__)

TYPED = "_t_"
MALFORMED_REASON = "malformed row: wrong number of fields"
#: The columns that give bronze rows their ingestion order (and identify a row).
LINEAGE = frames.LINEAGE
#: A rule: true where the row breaks it, and the reason it then gets.
Check = tuple[nw.Expr, str]

#: Descriptive columns kept as null when their value is not recognised, per table, with
#: the reason of a value that is there but unrecognised (a blank one is "missing").
WARNED: dict[str, dict[str, str]] = {
    table: {c.name: c.invalid for c in columns if not c.required}
    for table, columns in SOURCES.items()
}


class ReconciliationError(UserError, RuntimeError):
    """Rows were lost or invented between bronze and silver."""


class RejectShareError(UserError, RuntimeError):
    """Too large a share of a table's rows was rejected: the input is probably wrong."""


def _typed(column: str) -> str:
    return TYPED + column


def _reasons(whys: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*whys, DUPLICATE_REASON]))


def _too_long(table: str, max_bytes: int) -> tuple[dict[str, Parse], list[Check]]:
    """One check per raw column: text longer than ``max_bytes`` rejects the row."""
    parses = {f"_long_{c}": r.too_long(c, max_bytes) for c in RAW_COLUMNS[table]}
    checks = [
        (
            nw.col(f"_long_{c}"),
            f"text too long: {c} over {max_bytes} bytes (silver.max_text_bytes)",
        )
        for c in RAW_COLUMNS[table]
    ]
    return parses, checks


def _flag(
    frame: nw.LazyFrame[Any],
    row: tuple[str, ...],
    typed: Sequence[str],
    checks: list[Check],
    table: str,
) -> Any:
    """Keep the row key, the typed columns and the ``reason`` of the first failed check,
    then flag duplicates; the result is computed once (polars) as the split reads it
    three times."""
    named = [(f"_check_{i}", failed, why) for i, (failed, why) in enumerate(checks)]
    checked = frame.with_columns(*(failed.alias(n) for n, failed, _ in named))
    reasons = _reasons([why for _, why in checks])
    flagged = frames.first_failure(
        checked, [(n, why) for n, _, why in named], REASON, reasons
    ).select(*row, *(_typed(c) for c in typed), REASON)
    return _mark_duplicates(frames.materialize(flagged), _typed(KEYS[table]), row)


def _mark_duplicates(flagged: nw.LazyFrame[Any], key: str, row: tuple[str, ...]) -> Any:
    """``flagged`` with the :func:`duplicate_losers` marked as duplicates (native).

    Where rows have a physical order (polars: ``row`` is the row number), the tuned
    :func:`_flag_duplicates` does it; elsewhere the losers are found by the lineage
    columns and marked with a join on them.
    """
    if row == (ROW_NUMBER,):
        return _flag_duplicates(flagged.collect().to_native(), key)
    losers = duplicate_losers(flagged.to_native(), key, row)
    losers = losers.with_columns(nw.lit(True).alias("_loser"))
    marked = flagged.join(losers, on=list(row), how="left")
    reason = nw.when(nw.col("_loser")).then(nw.lit(DUPLICATE_REASON)).otherwise(nw.col(REASON))
    return frames.to_native(marked.with_columns(reason.alias(REASON)).drop("_loser"))


def duplicate_losers(
    flagged: IntoFrame, key: str, order: Sequence[str] = LINEAGE
) -> nw.LazyFrame[Any]:
    """The ``order`` columns of the valid rows whose ``key`` has a later valid row (the
    last ingested row wins), on the engine of ``flagged``.

    ``order`` gives the ingestion order: the lineage columns on any engine, or a single
    column that follows them. The keys that repeat come from a group-by (few, as
    duplicates are rare); only their rows go through the window, partitioned by the key
    and ordered by ``order``. No step needs every row in one partition.
    """
    rows = frames.lazy(flagged).filter(nw.col(REASON).is_null())
    repeated = (
        rows.group_by(key).agg(nw.len().alias("_rows")).filter(nw.col("_rows") > 1).select(key)
    )
    return (
        rows.select(key, *order)
        .join(repeated, on=key, how="semi")
        .filter(~nw.col(key).is_last_distinct().over(order_by=list(order)))
        .select(*order)
    )


def _flag_duplicates(flagged: pl.DataFrame, key: str) -> pl.DataFrame:
    """Mark valid rows whose key has a later valid row as duplicates.

    Sorting the valid keys finds the few repeated ones cheaply; only their rows go through
    the (costly) hash-based "last distinct" check. ``flagged`` is in ingestion order
    (:func:`.incremental.new_rows` gives bronze rows in lineage order), so its row number
    stands for the lineage columns. This is :func:`duplicate_losers` tuned for polars: the
    losers are found by one row number instead of a window and a join on the lineage
    columns (measured in docs/design/arch.md).
    """
    valid = pl.col(REASON).is_null()
    keys = flagged.select(pl.col(key).filter(valid).sort()).to_series()
    repeated = keys.filter(keys == keys.shift(1)).unique()
    if repeated.is_empty():
        return flagged
    candidates = flagged.filter(valid & pl.col(key).is_in(repeated.implode())).select(
        ROW_NUMBER, key
    )
    losers = candidates.filter(~pl.col(key).is_last_distinct()).get_column(ROW_NUMBER)
    return flagged.with_columns(
        pl.when(pl.col(ROW_NUMBER).is_in(losers.implode()))
        .then(pl.lit(DUPLICATE_REASON, dtype=flagged.schema[REASON]))
        .otherwise(pl.col(REASON))
        .alias(REASON)
    )


def match_countries(bronze: Frame, rules: dict[str, Any]) -> pl.DataFrame:
    """Each distinct raw ``country`` of bronze customers, its canonical name and how it
    matched (see :mod:`.countries`), with its number of rows."""
    config = rules["countries"]
    matcher = CountryMatcher(
        config.get("aliases") or {},
        fuzzy_min_score=config["fuzzy_min_score"],
        fuzzy_min_length=config["fuzzy_min_length"],
    )
    counts = frames.collect(frames.lazy(bronze).group_by("country").agg(nw.len())).sort("country")
    matches = matcher.match_all(counts.get_column("country").to_list())
    out = pl.DataFrame(
        {
            "raw_value": counts.get_column("country"),
            "canonical": [matches[v].canonical for v in counts.get_column("country")],
            "how": [matches[v].how for v in counts.get_column("country")],
            "score": [matches[v].score for v in counts.get_column("country")],
            "rows": counts.get_column("len").cast(pl.Int64),
        },
        schema=COUNTRY_MAPPINGS,
    )
    how = dict(out.group_by("how").agg(pl.col("rows").sum()).iter_rows())
    log.info(
        "countries: %d spellings; rows matched %s (not exact ones: quality.country_mappings)",
        out.height,
        ", ".join(f"{k} {how[k]}" for k in sorted(how)),
    )
    return out


def _limit(column: SourceColumn, bound: Bound, rules: dict[str, Any], as_of: Any) -> Any:
    """The value ``bound`` compares ``column``'s typed values with, in the column's type."""
    if bound.kind == "positive":
        return 0
    if bound.kind == "not_after":
        latest = latest_allowed(as_of, rules["future_tolerance_days"])
        return latest.date() if column.dtype == pl.Date else latest
    parameter = str(bound.parameter)
    if parameter not in rules:
        raise ContractError(
            f"source column {column.name} is bounded by silver.{parameter}, which is not set: "
            "add it to conf/base/parameters_silver.yml"
        )
    value = rules[parameter]
    if bound.kind == "not_before":
        day = parse_date(value, f"silver.{parameter}", "conf/base/parameters_silver.yml")
        return day if column.dtype == pl.Date else dt.datetime.combine(day, dt.time())
    return Decimal(str(value)) if column.dtype.base_type() == pl.Decimal else value


def _bound_check(column: SourceColumn, bound: Bound, rules: dict[str, Any], as_of: Any) -> Check:
    """The check of one bound of ``column``: true where the typed value breaks it."""
    limit = _limit(column, bound, rules, as_of)
    dtype = nw.Schema.from_native(pl.Schema({column.name: column.dtype}))[column.name]
    value, bad = nw.col(_typed(column.name)), f"invalid {column.name}"
    if bound.kind == "positive":
        return value <= 0, f"{bad}: not above zero"
    where = f"silver.{bound.parameter}"
    if bound.kind == "at_most":
        return value > nw.lit(limit, dtype=dtype), f"{bad}: above {where} {limit}"
    if bound.kind == "not_before":
        given = rules[str(bound.parameter)]
        return value < nw.lit(limit, dtype=dtype), f"{bad}: before {given} ({where})"
    return (
        value > nw.lit(limit, dtype=dtype),
        f"{bad}: after {limit:%Y-%m-%d %H:%M} (as_of + silver.future_tolerance_days)",
    )


def _flag_source(
    bronze: IntoFrame,
    table: str,
    rules: dict[str, Any],
    *,
    countries: pl.DataFrame | None = None,
    references: dict[str, IntoFrame] | None = None,
    as_of: AsOf = None,
) -> Any:
    """Type and check ``table`` as its source contract (``schemas.SOURCES``) declares: per
    column its parse, then its invalid value's reason, then its bounds; references last.
    """
    columns = SOURCES[table]
    parses = {
        _typed(c.name): r.of(c, rules) for c in columns if c.parse not in ("title", "country")
    }
    long, long_checks = _too_long(table, int(rules["max_text_bytes"]))
    frame, row = frames.row_key(frames.lazy(bronze))
    frame = parsing.with_parsed(frame, {**parses, _typed(MALFORMED): r.column(MALFORMED), **long})
    for c in columns:
        if c.parse == "title":
            frame = _on_distinct(frame, c.name, r.title(c.name), _typed(c.name))
        elif c.parse == "country":
            if countries is None:
                raise ContractError(f"{table}.{c.name} is parsed as a country: pass countries")
            spelled = countries.filter(pl.col("raw_value").is_not_null())
            raw, canonical = spelled.get_column("raw_value"), spelled.get_column("canonical")
            frame = frames.lookup(frame, c.name, raw, canonical, _typed(c.name))
    checks: list[Check] = [(nw.col(_typed(MALFORMED)), MALFORMED_REASON), *long_checks]
    for c in columns:
        if c.required:
            checks.append((nw.col(_typed(c.name)).is_null(), r.invalid_reason(c, rules)))
        checks.extend(_bound_check(c, bound, rules, as_of) for bound in c.bounds)
    for c in (c for c in columns if c.references):
        known = (references or {}).get(str(c.references))
        if known is None:
            raise ContractError(f"{table}.{c.name} references {c.references}: pass its keys")
        flag = f"_known_{c.name}"
        frame = frames.is_in(frame, _typed(c.name), known, flag)
        checks.append(
            (
                ~nw.col(flag),
                f"unknown {str(c.references).removesuffix('s')}: {c.name} is not in "
                f"silver.{c.references}",
            )
        )
    return _flag(frame, row, [*(c.name for c in columns), MALFORMED], checks, table)


def flag_customers(bronze: IntoFrame, countries: pl.DataFrame, rules: dict[str, Any]) -> Any:
    """Type, normalise and check customers (email lower-cased, country from ``countries``).

    A country that matches no ISO 3166 country keeps its customer: it is null in silver
    and warned about. The result is on the engine of ``bronze``.
    """
    return _flag_source(bronze, "customers", rules, countries=countries)


def _on_distinct(
    frame: nw.LazyFrame[Any], column: str, parse: Parse, name: str
) -> nw.LazyFrame[Any]:
    """``frame`` with ``name``: ``parse`` of ``column`` computed once per distinct value
    (on the driver) and looked up per row.

    For low-cardinality text (products: tens of values in millions of rows) the cleaning
    runs once per value instead of once per row, and gives the same text on every engine.
    """
    values = frames.collect(frame.select(column).unique().filter(~nw.col(column).is_null()))
    keys = values.to_series()
    cleaned = parsing.parse_values(keys, parse).cast(pl.String)
    return frames.lookup(frame, column, keys, cleaned, name)


def latest_allowed(as_of: AsOf, tolerance_days: float) -> dt.datetime:
    """The latest order time silver accepts: ``as_of`` (or now, UTC) plus the tolerance."""
    if as_of:
        start = dt.datetime.combine(parse_as_of(as_of), dt.time())
    else:
        start = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if float(tolerance_days) < 0:
        raise ValueError(
            f"silver.future_tolerance_days must be >= 0, got {tolerance_days!r}: "
            "fix conf/base/parameters_silver.yml"
        )
    return start + dt.timedelta(days=float(tolerance_days))


def flag_orders(
    bronze: IntoFrame,
    customers: IntoFrame,
    rules: dict[str, Any],
    as_of: AsOf = None,
) -> Any:
    """Type and check orders; an order whose customer is not in ``customers`` (one column
    of customer ids) is an orphan.

    Amounts must be above zero and at most ``max_amount``; order times at most
    ``future_tolerance_days`` after ``as_of`` (after now when ``as_of`` is not set) and not
    before ``earliest_date``. The result is on the engine of ``bronze``.
    """
    return _flag_source(bronze, "orders", rules, references={"customers": customers}, as_of=as_of)


def _row_columns(flagged: nw.LazyFrame[Any]) -> tuple[str, ...]:
    """The row key :func:`_flag` kept: the row number on polars, else the lineage."""
    return (ROW_NUMBER,) if ROW_NUMBER in flagged.collect_schema().names() else LINEAGE


def _warnings(
    flagged: nw.LazyFrame[Any], raw: nw.LazyFrame[Any], row: tuple[str, ...], table: str
) -> nw.LazyFrame[Any]:
    """One row per kept row whose warned column is null in silver: key, raw value, reason
    (``missing <column>: kept as null`` when the raw text is blank), batch."""
    valid = nw.col(REASON).is_null()
    parts = []
    for column, unknown in WARNED[table].items():
        hits = flagged.filter(valid & nw.col(_typed(column)).is_null()).select(*row)
        found = parsing.with_parsed(frames.rows_of(raw, hits, row), {"_text": r.text(column)})
        parts.append(
            found.select(
                nw.lit(table, dtype=nw.String).alias("table"),
                nw.col(KEYS[table]).cast(nw.String).alias("key"),
                nw.lit(column, dtype=nw.String).alias("column"),
                nw.col(column).cast(nw.String).alias("raw_value"),
                nw.when(nw.col("_text").is_null())
                .then(nw.lit(f"missing {column}: kept as null", dtype=nw.String))
                .otherwise(nw.lit(unknown, dtype=nw.String))
                .alias("reason"),
                nw.col(BATCH_ID).cast(nw.String).alias("batch_id"),
            )
        )
    return nw.concat(parts)


def split_flagged(
    flagged: IntoFrame, bronze: IntoFrame, table: str, rules: dict[str, Any] | None = None
) -> tuple[Any, Any, Any]:
    """Valid rows as typed silver columns; the others as their bronze text plus ``reason``;
    and the warnings of the valid rows (each on the engine of ``flagged``).

    ``flagged`` holds only the row key, typed values and reasons; the few rejected rows
    take their original text back from bronze by that key, in bronze order. A
    rejected text longer than ``quarantine_excerpt_chars`` characters is cut to that many,
    followed by `` … [<size> bytes]``, so a huge field never reaches the quarantine whole.
    """
    chars = int((rules or {}).get("quarantine_excerpt_chars", 200))
    checked = frames.lazy(flagged)
    row = _row_columns(checked)
    raw, _ = frames.row_key(frames.lazy(bronze))
    valid = nw.col(REASON).is_null()
    silver = checked.filter(valid).select(nw.col(_typed(c)).alias(c) for c in SILVER[table].names())
    reasons = checked.filter(~valid).select(*row, nw.col(REASON).cast(nw.String))
    rejected = frames.excerpts(frames.rows_of(raw, reasons, row), RAW_COLUMNS[table], chars).select(
        quarantine_schema(table).names()
    )
    return (
        frames.to_native(silver),
        frames.to_native(rejected, streaming=True),
        frames.to_native(_warnings(checked, raw, row, table)),
    )


def _per_batch(
    live: nw.LazyFrame[Any], rejected: IntoFrame, waiting: IntoFrame | None
) -> pl.DataFrame:
    """Per live batch: its bronze rows, rejections (waited-too-long orders included),
    duplicates and waiting rows; silver holds the rest."""
    counts = frames.collect(live.group_by(BATCH_ID).agg(nw.len().alias("bronze_rows")))
    lost = frames.collect(
        frames.lazy(rejected)
        .group_by(BATCH_ID)
        .agg(
            (nw.col(REASON) != DUPLICATE_REASON).cast(nw.Int64).sum().alias("rejected_rows"),
            (nw.col(REASON) == DUPLICATE_REASON).cast(nw.Int64).sum().alias("duplicates_removed"),
            (~nw.col(REASON).is_in([DUPLICATE_REASON, EXPIRED_REASON]))
            .cast(nw.Int64)
            .sum()
            .alias("_refused"),
        )
    )
    held = pl.DataFrame(schema={BATCH_ID: pl.String, "waiting_rows": pl.UInt32})
    if waiting is not None:
        held = frames.collect(
            frames.lazy(waiting).group_by(BATCH_ID).agg(nw.len().alias("waiting_rows"))
        )
    out = (
        counts.join(lost, on=BATCH_ID, how="left").join(held, on=BATCH_ID, how="left").fill_null(0)
    )
    taken = pl.col("rejected_rows") + pl.col("duplicates_removed") + pl.col("waiting_rows")
    return out.select(
        pl.col(BATCH_ID).alias("batch_id"),
        pl.col("bronze_rows").cast(pl.Int64),
        (pl.col("bronze_rows") - taken).cast(pl.Int64).alias("silver_rows"),
        pl.col("rejected_rows").cast(pl.Int64),
        pl.col("duplicates_removed").cast(pl.Int64),
        pl.col("waiting_rows").cast(pl.Int64),
        pl.col("_refused").cast(pl.Int64),
    ).sort("batch_id")


def _check_reject_share(table: str, batch: dict[str, Any], top: str, max_share: float) -> None:
    share = batch["_refused"] / batch["bronze_rows"] if batch["bronze_rows"] else 0.0
    if share <= max_share:
        return
    raise RejectShareError(
        f"silver.{table}: {batch['_refused']} of {batch['bronze_rows']} rows of batch "
        f"{batch['batch_id']} ({share:.0%}) were rejected, above "
        f"silver.max_reject_share={max_share}. Main reasons: {top}. Nothing was published "
        "to silver or quality: fix the landing file (layout, column_map in "
        "parameters_bronze.yml, formats in parameters_silver.yml) and drop it again, or "
        f"take the batch back with `kedro lake retract {batch['batch_id']}`, or raise "
        "silver.max_reject_share."
    )


def _top_reasons(rejected: IntoFrame, batch_id: str) -> str:
    top = frames.collect(
        frames.lazy(rejected)
        .filter((nw.col(BATCH_ID) == batch_id) & (nw.col(REASON) != DUPLICATE_REASON))
        .group_by(REASON)
        .agg(nw.len())
        .sort(["len", REASON], descending=[True, False])
        .head(3)
    )
    return "; ".join(f"{n} x {why!r}" for why, n in top.iter_rows())


def count_table(  # noqa: PLR0913
    plan: Plan,
    bronze: IntoFrame,
    silver: IntoFrame,
    rejected: IntoFrame,
    warnings: IntoFrame,
    rules: dict[str, Any],
    waiting: IntoFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The counts of one table as written: ``counts`` (one row of
    ``quality.reconciliation``) and ``batches`` (one row per live batch).

    Refuses the run unless ``bronze = silver + rejected + duplicates + waiting`` holds,
    and when more than ``max_reject_share`` of a new batch's rows break a rule.
    """
    table = plan.table
    max_share = float(rules["max_reject_share"])
    if not 0 <= max_share <= 1:
        raise ValueError(
            f"silver.max_reject_share must be between 0 and 1, got {rules['max_reject_share']!r}"
        )
    batches = _per_batch(frames.lazy(live_rows(bronze, plan)), rejected, waiting)
    for batch in batches.filter(pl.col("batch_id").is_in(list(plan.new))).iter_rows(named=True):
        _check_reject_share(table, batch, _top_reasons(rejected, batch["batch_id"]), max_share)
    keys = frames.collect(
        frames.lazy(warnings).filter(nw.col("table") == table).select(nw.col("key").n_unique())
    ).item()
    total = {c: int(batches[c].sum()) for c in batches.columns if c.endswith("_rows")}
    total["duplicates_removed"] = int(batches["duplicates_removed"].sum())
    silver_rows = frames.rows(silver)
    row = {
        "table": table,
        "bronze_rows": total["bronze_rows"],
        "silver_rows": silver_rows,
        "rejected_rows": total["rejected_rows"],
        "duplicates_removed": total["duplicates_removed"],
        "waiting_rows": total["waiting_rows"],
        "warning_rows": int(keys or 0),
        "balanced": silver_rows == total["silver_rows"],
    }
    log.info("reconciliation %s", row)
    if not row["balanced"]:
        raise ReconciliationError(
            f"silver.{table} does not reconcile: bronze has {row['bronze_rows']} rows but "
            f"silver {silver_rows} + rejected {row['rejected_rows']} + duplicates "
            f"{row['duplicates_removed']} + waiting {row['waiting_rows']} = "
            f"{silver_rows + total['bronze_rows'] - total['silver_rows']}. Nothing was "
            "published; this is a bug in the silver rules."
        )
    return {
        "counts": pl.DataFrame([row], schema=RECONCILIATION, orient="row"),
        "batches": batches.drop("_refused").with_columns(pl.lit(table).alias("table")),
    }


def reconcile(
    customers: pl.DataFrame,
    orders: pl.DataFrame,
    customer_batches: pl.DataFrame,
    order_batches: pl.DataFrame,
    ledger: IntoFrame,
    applied: IntoFrame,
) -> dict[str, pl.DataFrame]:
    """``quality.reconciliation`` (one row per table) and ``quality.batch_reconciliation``
    (one row per live batch, with its landing file and when silver first applied it)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    files = frames.collect(ledger)
    names = (
        files.sort("ingested_at").group_by("batch_id").last().select("batch_id", "source_file")
        if files.width
        else pl.DataFrame(schema={"batch_id": pl.String, "source_file": pl.String})
    )
    before = frames.collect(applied)
    since = (
        before.group_by("batch_id").agg(pl.col("applied_at").min())
        if before.width
        else pl.DataFrame(schema={"batch_id": pl.String, "applied_at": pl.Datetime("us")})
    )
    per_batch = (
        pl.concat([customer_batches, order_batches])
        .join(names, on="batch_id", how="left")
        .join(since, on="batch_id", how="left")
        .with_columns(pl.col("applied_at").fill_null(now))
        .select(BATCH_RECONCILIATION.names())
        .cast(BATCH_RECONCILIATION)
        .sort("table", "source_file", "batch_id")
    )
    return {"reconciliation": pl.concat([customers, orders]), "batches": per_batch}


def country_mappings(countries: pl.DataFrame) -> pl.DataFrame:
    """``quality.country_mappings``: every spelling of the live customers that is not a
    country's canonical name as written, most rows first."""
    mappings = countries.filter(pl.col("how") != EXACT).sort(
        "rows", "raw_value", descending=[True, False]
    )
    unknown = mappings.filter(pl.col("how") == UNKNOWN).height
    if unknown:
        log.warning(
            "%d country spellings are unknown (kept as null, see quality.country_mappings); "
            "add aliases in parameters_silver.yml silver.countries.aliases",
            unknown,
        )
    return mappings
