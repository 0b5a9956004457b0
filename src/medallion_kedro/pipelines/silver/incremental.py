"""Incremental silver that equals a rebuild: only the rows a run can change are checked
again, by the silver rules of :mod:`.nodes` unchanged.

Silver, quarantine, warnings and the waiting orders are a function of the live bronze
batches (:mod:`..bronze.ledger`) in export order. A row's outcome depends on the row, on
the other rows of its business key (the last valid row in export order wins) and, for an
order, on whether its customer is known. So a run re-checks every live row of the keys it
*touches* (the keys of the new batches' rows, and the orders whose waiting customer is now
known) and keeps every other key as the previous run left it. When a batch silver applied
is no longer live (retracted, or replaced by a changed file), the table is checked again
whole (``Scope.full``), and orders with it when customers are.

An order whose customer is not known yet waits (``quality.waiting_orders``) and is checked
again in the run its customer arrives. Once its order time is more than
``silver.unknown_customer_wait_days`` before the lake's data clock (``as_of`` when set,
else the latest order time in silver and the waiting orders), it is counted as rejected
(:data:`EXPIRED_REASON`) and kept in the quarantine, and still enters silver if its
customer arrives later: a rebuild would put it there. See ``docs/design/incremental.md``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import polars as pl
from narwhals.typing import IntoFrame

from medallion_kedro import frames, parsing
from medallion_kedro.dates import AsOf, parse_as_of
from medallion_kedro.lake.changes import KeyedChanges
from medallion_kedro.pipelines.bronze.batches import bronze_schema
from medallion_kedro.pipelines.bronze.ledger import live_batches
from medallion_kedro.pipelines.silver import rules as r
from medallion_kedro.schemas import (
    BATCH_ID,
    BRONZE_META,
    INGESTED_AT,
    KEYS,
    RAW_COLUMNS,
    REASON,
    SILVER,
    SOURCE_FILE,
    SOURCE_ROW,
    WARNINGS,
)

log = logging.getLogger(__name__)

#: Export order of bronze rows: the landing file's name, then the row in the file.
EXPORT_ORDER = (SOURCE_FILE, SOURCE_ROW)
#: The reason :func:`.nodes.flag_orders` gives an order whose customer is not known.
UNKNOWN_CUSTOMER = "unknown customer"
EXPIRED_REASON = (
    "unknown customer: still not in silver.customers after silver.unknown_customer_wait_days"
)
_KEY = "_key"
#: A bronze row's identity, which its quarantine row keeps: its batch (one landing file's
#: content) and its row in the file. The quarantine tables are saved by it.
ROW_IDENTITY = (BATCH_ID, SOURCE_ROW)


@dataclass(frozen=True)
class Plan:
    """What a run applies to one silver table: the live batches (export order), those not
    applied yet, and whether the table is checked again whole."""

    table: str
    live: tuple[str, ...]
    new: tuple[str, ...]
    full: bool


@dataclass(frozen=True)
class Scope:
    """The rows a run checks again: every live row of ``keys`` and of the new batches
    (every live row when ``plan.full``)."""

    plan: Plan
    keys: pl.DataFrame


def quarantine_schema(table: str) -> pl.Schema:
    """The columns of ``quality.rejected_<table>``: bronze text, lineage (with the row in
    the file), reason."""
    return pl.Schema([*waiting_schema(table).items(), (REASON, pl.String())])


def waiting_schema(table: str = "orders") -> pl.Schema:
    """The columns of ``quality.waiting_orders``: bronze text and lineage (with the row in
    the file)."""
    bronze = bronze_schema(table)
    return pl.Schema({c: bronze[c] for c in (*RAW_COLUMNS[table], *BRONZE_META, SOURCE_ROW)})


def _or_empty(frame: IntoFrame, schema: pl.Schema) -> nw.LazyFrame[Any]:
    """A lake table as read, or no rows of ``schema`` when it is not built yet."""
    lazy = frames.lazy(frame)
    if lazy.collect_schema().names():
        return lazy
    return nw.from_native(pl.LazyFrame(schema=schema))


def _previous(frame: IntoFrame, like: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """A lake table as read, or, when it is not built yet, no rows of ``like`` (the run's
    rows of that table, so every frame of a step is on one engine)."""
    lazy = frames.lazy(frame)
    return lazy if lazy.collect_schema().names() else like.head(0)


def _applied(applied: IntoFrame) -> dict[str, set[str]]:
    rows = frames.collect(applied)
    out: dict[str, set[str]] = {}
    if rows.width:
        for table, batch_id in rows.select("table", "batch_id").iter_rows():
            out.setdefault(table, set()).add(batch_id)
    return out


def _bronze_batches(bronze: IntoFrame) -> list[str]:
    """The batch ids of bronze rows written before the ledger existed, by file name."""
    rows = frames.lazy(bronze)
    if BATCH_ID not in rows.collect_schema().names():
        return []
    found = (
        rows.filter(~nw.col(BATCH_ID).is_null())
        .group_by(BATCH_ID)
        .agg(nw.col(SOURCE_FILE).min())
        .sort(SOURCE_FILE, BATCH_ID)
    )
    return frames.collect(found).get_column(BATCH_ID).to_list()


def plan_batches(  # noqa: PLR0913
    ledger: IntoFrame,
    retractions: IntoFrame,
    applied: IntoFrame,
    previous_reconciliation: IntoFrame,
    bronze_customers: IntoFrame,
    bronze_orders: IntoFrame,
) -> dict[str, Plan]:
    """Per table, the live batches, those silver has not applied, and whether the table is
    checked again whole: when an applied batch is no longer live, on a first run, and
    when the quality tables were written by a release that did not keep waiting orders."""
    live = live_batches(ledger, retractions)
    done = _applied(applied)
    counted = frames.lazy(previous_reconciliation).collect_schema().names()
    stale = "waiting_rows" not in counted
    bronze = {"customers": bronze_customers, "orders": bronze_orders}
    plans: dict[str, Plan] = {}
    for table in KEYS:
        batches = live.get(table) or ([] if live else _bronze_batches(bronze[table]))
        applied_here = done.get(table, set())
        full = stale or not applied_here or bool(applied_here - set(batches))
        if table == "orders":
            full = full or plans["customers"].full  # known customers may have shrunk
        new = tuple(b for b in batches if b not in applied_here or full)
        plans[table] = Plan(table, tuple(batches), new, full)
    for plan in plans.values():
        log.info("silver.%s: %d live batches, %d to apply%s", plan.table, len(plan.live),
                 len(plan.new), " (checked again whole)" if plan.full else "")  # fmt: skip
    return plans


def live_rows(bronze: IntoFrame, plan: Plan) -> Any:
    """The bronze rows of the live batches (lazy; native)."""
    rows = frames.lazy(bronze)
    if not rows.collect_schema().names():
        return pl.LazyFrame(schema=bronze_schema(plan.table))
    return rows.filter(nw.col(BATCH_ID).is_in(list(plan.live))).to_native()


def _keyed(rows: nw.LazyFrame[Any], table: str) -> nw.LazyFrame[Any]:
    return parsing.with_parsed(rows, {_KEY: r.parse_int(KEYS[table])})


def _key_frame(rows: nw.LazyFrame[Any], table: str) -> pl.DataFrame:
    keys = _keyed(rows, table).select(_KEY).filter(~nw.col(_KEY).is_null()).unique()
    return frames.collect(keys).rename({_KEY: KEYS[table]})


def _new(bronze: IntoFrame, plan: Plan) -> nw.LazyFrame[Any]:
    return frames.lazy(live_rows(bronze, plan)).filter(nw.col(BATCH_ID).is_in(list(plan.new)))


def customers_scope(bronze: IntoFrame, plan: Plan) -> Scope:
    """The customers to check again: the keys of the new batches' rows."""
    if plan.full or not plan.new:
        return Scope(plan, pl.DataFrame(schema={"customer_id": pl.Int64}))
    return Scope(plan, _key_frame(_new(bronze, plan), "customers"))


def _unresolved(waiting: IntoFrame, rejected: IntoFrame) -> nw.LazyFrame[Any]:
    """The orders whose customer was not known: waiting, and waited too long."""
    expired = _or_empty(rejected, quarantine_schema("orders")).filter(
        nw.col(REASON) == EXPIRED_REASON
    )
    columns = list(waiting_schema().names())
    return nw.concat(
        [_or_empty(waiting, waiting_schema()).select(columns), expired.select(columns)]
    )


def orders_scope(
    bronze: IntoFrame, plan: Plan, waiting: IntoFrame, rejected: IntoFrame, known: IntoFrame
) -> Scope:
    """The orders to check again: the keys of the new batches' rows, and of the orders
    whose customer was not known and now is (``known``: one column of customer ids)."""
    if plan.full:
        return Scope(plan, pl.DataFrame(schema={"order_id": pl.Int64}))
    parsed = parsing.with_parsed(
        _unresolved(waiting, rejected), {"_customer": r.parse_int("customer_id")}
    )
    arrived = frames.is_in(parsed, "_customer", known, "_arrived").filter(nw.col("_arrived"))
    keys = [_key_frame(arrived, "orders")]
    if plan.new:
        keys.append(_key_frame(_new(bronze, plan), "orders"))
    found = pl.concat(keys).unique().sort("order_id")
    log.info("silver.orders: %d keys to check again", found.height)
    return Scope(plan, found)


def candidate_rows(bronze: IntoFrame, scope: Scope) -> Any:
    """The live bronze rows the run checks, in export order (native; lazy where the scan
    is already in that order): every live row of the scope's keys and of the new
    batches, or every live row."""
    plan = scope.plan
    rows = frames.lazy(live_rows(bronze, plan))
    if not plan.full:
        keyed = frames.is_in(_keyed(rows, plan.table), _KEY, scope.keys, "_touched")
        touched = nw.col("_touched").fill_null(False) | nw.col(BATCH_ID).is_in(list(plan.new))
        rows = keyed.filter(touched).drop(_KEY, "_touched")
    order = [c for c in EXPORT_ORDER if c in rows.collect_schema().names()]
    return frames.in_order(rows, order).to_native()


def _untouched(previous: nw.LazyFrame[Any], scope: Scope, column: str) -> nw.LazyFrame[Any]:
    """The previous rows whose key (``column``, typed) the run does not check again."""
    if scope.plan.full:
        return previous.head(0)
    marked = frames.is_in(previous, column, scope.keys, "_touched")
    return marked.filter(~nw.col("_touched").fill_null(False)).drop("_touched")


def known_customers(silver: IntoFrame) -> Any:
    """The customers an order may reference: silver's (one column, native)."""
    return frames.to_native(frames.lazy(silver).select("customer_id").unique())


def _on_engine_of(keys: pl.DataFrame, like: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """``keys`` (a small polars frame) as a frame of ``like``'s engine."""
    if frames.is_polars(like):
        return nw.from_native(keys.lazy())
    session = like.to_native().sparkSession
    return nw.from_native(session.createDataFrame(keys.to_arrow())).lazy()


def _changed_silver(previous: IntoFrame, valid: IntoFrame, scope: Scope) -> KeyedChanges:
    """Silver's change of this run: the valid rows of this run's check (each key at most
    once) replace or add their keys, and every other key in scope (now rejected, waiting,
    or no longer live) is deleted. A whole check has every key of the table in scope."""
    table = scope.plan.table
    key = KEYS[table]
    now = frames.lazy(valid).select(SILVER[table].names())
    if scope.plan.full:
        was = _previous(previous, now).select(key)
        keys = nw.concat([was, now.select(key)]).unique()
    else:
        keys = _on_engine_of(scope.keys.select(pl.col(key).cast(pl.Int64)), now)
    return KeyedChanges(rows=frames.to_native(now), keys=frames.to_native(keys))


def _marked(previous: IntoFrame, like: nw.LazyFrame[Any], scope: Scope) -> nw.LazyFrame[Any]:
    """The previous quarantine or waiting rows (columns of ``like``, this run's rows) with
    ``_touched``: whether their parsed key is checked again (every row in a whole check)."""
    table = scope.plan.table
    rows = _previous(previous, like).select(like.collect_schema().names())
    if scope.plan.full:
        return rows.with_columns(nw.lit(True).alias("_touched"))
    keyed = _keyed(rows, table)
    marked = frames.is_in(keyed, _KEY, scope.keys.rename({KEYS[table]: _KEY}), "_touched")
    return marked.with_columns(nw.col("_touched").fill_null(False)).drop(_KEY)


def _rows_untouched(
    previous: IntoFrame, like: nw.LazyFrame[Any], scope: Scope
) -> nw.LazyFrame[Any]:
    """The previous quarantine or waiting rows (columns of ``like``, this run's rows)
    whose parsed key is not checked again."""
    if scope.plan.full:
        return like.head(0)
    return _marked(previous, like, scope).filter(~nw.col("_touched")).drop("_touched")


def _changed_quarantine(rows: nw.LazyFrame[Any], gone: nw.LazyFrame[Any]) -> KeyedChanges:
    """A quarantine's change, by row identity: ``rows`` replace or add their rows, and the
    rows of ``gone`` (previous rows, of the keys checked again and any other the run
    decided again) that are not in ``rows`` are deleted."""
    identities = [gone.select(*ROW_IDENTITY), rows.select(*ROW_IDENTITY)]
    keys = nw.concat(identities).unique()
    return KeyedChanges(rows=frames.to_native(rows), keys=frames.to_native(keys))


def merge_customers(
    previous_silver: IntoFrame, previous_rejected: IntoFrame, valid: IntoFrame,
    rejected: IntoFrame, scope: Scope,
) -> dict[str, Any]:  # fmt: skip
    """The changes of ``silver.customers`` and ``quality.rejected_customers`` after this
    run's check (:class:`KeyedChanges`): the rows of the keys in scope."""
    now = frames.lazy(rejected).select(quarantine_schema("customers").names())
    gone = _marked(previous_rejected, now, scope).filter(nw.col("_touched"))
    return {
        "silver": _changed_silver(previous_silver, valid, scope),
        "rejected": _changed_quarantine(now, gone),
    }


@dataclass(frozen=True)
class Expiry:
    """How long an order waits for its customer, against which clock."""

    days: float
    as_of: AsOf
    timestamp_format: str


def order_expiry(rules: dict[str, Any], as_of: AsOf = None) -> Expiry:
    """``silver.unknown_customer_wait_days`` and the data clock's ``as_of``, checked."""
    days = float(rules.get("unknown_customer_wait_days", 90))
    if days < 0:
        raise ValueError(
            f"silver.unknown_customer_wait_days must be >= 0, got {days!r}: fix "
            "conf/base/parameters_silver.yml"
        )
    return Expiry(days, as_of, str(rules["timestamp_format"]))


def _clock(
    expiry: Expiry, latest: nw.LazyFrame[Any], unresolved: nw.LazyFrame[Any]
) -> dt.datetime | None:
    """The lake's data clock: ``as_of`` when set, else the latest order time of silver
    (``latest``: its order times after this run) and of the orders whose customer is not
    known."""
    if expiry.as_of:
        return dt.datetime.combine(parse_as_of(expiry.as_of), dt.time())
    newest = frames.collect(latest.select(nw.col("order_ts").max())).item()
    waiting = frames.collect(unresolved.select(nw.col("_ts").max())).item()
    found = [  # Spark gives its times in UTC, with the zone: silver's times have none
        t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t
        for t in (newest, waiting)
        if isinstance(t, dt.datetime)
    ]
    return max(found) if found else None


def _order_times(previous: IntoFrame, valid: IntoFrame, scope: Scope) -> nw.LazyFrame[Any]:
    """The order times silver holds after this run: of the previous rows of the keys not
    checked again, and of this run's valid rows."""
    now = frames.lazy(valid).select("order_id", "order_ts")
    kept = _untouched(_previous(previous, now).select("order_id", "order_ts"), scope, "order_id")
    return nw.concat([kept, now]).select("order_ts")


def merge_orders(  # noqa: PLR0913
    previous_silver: IntoFrame,
    previous_rejected: IntoFrame,
    previous_waiting: IntoFrame,
    valid: IntoFrame,
    rejected: IntoFrame,
    scope: Scope,
    expiry: Expiry,
) -> dict[str, Any]:
    """The changes of ``silver.orders`` and ``quality.rejected_orders`` after this run's
    check (:class:`KeyedChanges`), and ``quality.waiting_orders`` (whole).

    The orders whose customer is not known (waiting before, waited too long, or found by
    this check) wait, or, once their order time is more than ``expiry.days`` before the
    data clock, are rejected with :data:`EXPIRED_REASON`. As the clock moves they are all
    decided again, in scope or not; the quarantine's change holds those whose state
    changed (newly expired, no longer expired) and the rows of the keys in scope.
    """
    columns = list(waiting_schema().names())
    now = frames.lazy(rejected).select(quarantine_schema("orders").names())
    unknown = nw.col(REASON).str.starts_with(UNKNOWN_CUSTOMER) | (nw.col(REASON) == EXPIRED_REASON)
    before = frames.materialize(
        _marked(previous_rejected, now, scope).filter(nw.col("_touched") | unknown)
    )  # the previous rows the run decides again: of the keys in scope, and expired ones
    was_expired, was_not = (nw.lit(v).alias("_was_expired") for v in (True, False))
    unresolved = nw.concat(
        [
            _rows_untouched(previous_waiting, now.select(columns), scope).with_columns(was_not),
            before.filter(~nw.col("_touched")).select(*columns, was_expired),
            now.filter(unknown).select(*columns, was_not),
        ]
    )
    timed = frames.materialize(
        parsing.with_parsed(
            unresolved, {"_ts": r.parse_timestamp("order_ts", expiry.timestamp_format)}
        )
    )
    clock = _clock(expiry, _order_times(previous_silver, valid, scope), timed)
    limit = None if clock is None else clock - dt.timedelta(days=expiry.days)
    late = nw.col("_ts") < nw.lit(limit, dtype=nw.Datetime("us")) if limit else nw.lit(False)
    timed = timed.with_columns(late.alias("_expired"))
    newly = timed.filter(nw.col("_expired") & ~nw.col("_was_expired")).select(
        *columns, nw.lit(EXPIRED_REASON, dtype=nw.String).alias(REASON)
    )
    gone = nw.concat(
        [
            before.filter(nw.col("_touched")).select(*ROW_IDENTITY),
            timed.filter(~nw.col("_expired") & nw.col("_was_expired")).select(*ROW_IDENTITY),
        ]
    )
    waiting = timed.filter(~nw.col("_expired")).select(columns)
    return {
        "silver": _changed_silver(previous_silver, valid, scope),
        "rejected": _changed_quarantine(nw.concat([now.filter(~unknown), newly]), gone),
        "waiting": frames.to_native(waiting.sort(EXPORT_ORDER[0], INGESTED_AT)),
    }


def merge_warnings(
    previous: IntoFrame, customers: IntoFrame, orders: IntoFrame,
    customers_scope: Scope, orders_scope: Scope,
) -> Any:  # fmt: skip
    """``quality.warnings``: the previous warnings of the keys not checked again, and this
    run's, of both tables."""
    columns = WARNINGS.names()
    rows = _previous(previous, frames.lazy(customers).select(columns))
    kept = []
    for scope in (customers_scope, orders_scope):
        table = scope.plan.table
        mine = rows.filter(nw.col("table") == table).with_columns(
            nw.col("key").cast(nw.Int64).alias(_KEY)
        )
        keys = scope.keys.rename({KEYS[table]: _KEY})
        kept.append(_untouched(mine, Scope(scope.plan, keys), _KEY).drop(_KEY))
    merged = nw.concat(
        [*(k.select(columns) for k in kept),
         frames.lazy(customers).select(columns), frames.lazy(orders).select(columns)]
    )  # fmt: skip
    return frames.to_native(merged.sort("table", "key", "column"))
