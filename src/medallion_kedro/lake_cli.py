"""``kedro lake ...``: history, time travel, restore and maintenance of the lake's Delta tables.

Every command reads the tables through the project's catalog (``--env`` picks local or
MinIO) and first puts back any table a killed run left an unpublished version in. Every
change goes through the lake's commit record under the lake lock, so a restore, a rollback
or a compaction is published like a run's write: readers see the old lake or the new one,
never a half. Time travel and restores resolve through the published history only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
import polars as pl
from kedro.io.core import DatasetError

import medallion_kedro.lake as lakes
from medallion_kedro.datasets.delta_table import DeltaTableDataset, is_delta
from medallion_kedro.project_catalog import build_catalog

LAYERS = ("bronze", "silver", "quality", "gold")


def _catalog(env: str | None) -> Any:
    return build_catalog(env)


def _table(catalog: Any, name: str) -> DeltaTableDataset:
    if "." not in name or name.split(".", 1)[0] not in LAYERS:
        raise click.ClickException(
            f"'{name}' is not a lake table: name it <layer>.<table> with layer one of "
            f"{', '.join(LAYERS)} (e.g. silver.orders)."
        )
    try:
        dataset = catalog.get(name)
    except Exception as exc:  # Kedro raises several types for an unknown name
        raise click.ClickException(f"{name}: {exc}") from exc
    if not isinstance(dataset, DeltaTableDataset):
        raise click.ClickException(f"{name} is not a Delta table in this environment's catalog.")
    return dataset


def _lake(catalog: Any) -> lakes.Lake:
    """The lake of the catalog's tables, with any killed run's versions put back first."""
    lake = _table(catalog, "gold.kpis").lake  # any lake table gives the lake
    realigned = lakes.realign_if_needed(lake)
    if realigned:
        click.echo(f"Put back to their published versions: {', '.join(realigned)}.")
    return lake


def _tables(catalog: Any, names: tuple[str, ...]) -> list[DeltaTableDataset]:
    """The named tables, or every Delta table the commit record names."""
    if names:
        return [_table(catalog, n) for n in names]
    tables = _lake(catalog).read_record().get("tables", {})
    return [_table(catalog, key) for key, entry in sorted(tables.items()) if is_delta(entry)]


env_option = click.option("--env", "-e", default=None, help="Kedro environment (e.g. minio).")


@click.group(name="lake")
def lake() -> None:
    """History, time travel, restore and maintenance of the lake's tables."""


def _rows_written(dataset: DeltaTableDataset, version: int, metrics: dict[str, Any]) -> int:
    """Rows the Delta ``version`` added: from its metrics, else from its add actions (the
    files it has that the version before did not)."""
    for name in ("num_added_rows", "num_output_rows"):
        if name in metrics:
            return int(metrics[name])

    def files(v: int) -> dict[str, int]:
        actions = pl.DataFrame(dataset.table(v).get_add_actions(flatten=True))
        if actions.is_empty():
            return {}
        return dict(zip(actions["path"], actions["num_records"], strict=True))

    before = files(version - 1) if version > 0 else {}
    return sum(int(n or 0) for path, n in files(version).items() if path not in before)


@lake.command()
@click.argument("table", required=False)
@env_option
@click.option("--limit", default=20, show_default=True, help="Newest entries to show.")
def history(table: str | None, env: str | None, limit: int) -> None:
    """The lake's commits (or TABLE's Delta versions, e.g. silver.orders), newest first."""
    catalog = _catalog(env)
    if table is None:
        _lake_history(_lake(catalog), limit)
        return
    dataset = _table(catalog, table)
    record = _lake(catalog).read_record()
    current = record["tables"].get(dataset.key, {})
    previous = record.get("previous", {}).get(dataset.key, {})
    published = set(lakes.history.published_versions(record, dataset.key))
    click.echo(f"{'version':>7}  {'written (UTC)':<25}  {'operation':<10}  {'rows written':>12}  "
               "published")  # fmt: skip
    for item in dataset.table().history(limit):
        version = int(item["version"])
        when = dt.datetime.fromtimestamp(item["timestamp"] / 1000, dt.UTC)
        if is_delta(current) and current.get("version") == version:
            mark = "now"
        elif is_delta(previous) and previous.get("version") == version:
            mark = "previous"
        else:
            mark = "before" if version in published else "never"
        rows = _rows_written(dataset, version, item.get("operationMetrics", {}))
        click.echo(
            f"{version:>7}  {when.isoformat(timespec='seconds'):<25}  "
            f"{item.get('operation', '?'):<10}  {rows:>12,}  {mark}"
        )


def _lake_history(lake: lakes.Lake, limit: int) -> None:
    commits = lakes.history.commits(lake.read_record())[:limit]
    click.echo(f"{'run id':<24}  {'committed (UTC)':<25}  {'change':<9}  tables")
    for item in commits:
        when = lakes.record.utc(item["at"]).isoformat(timespec="seconds")
        tables = ", ".join(
            f"{k} v{e['version']}" if e is not None else f"{k} withdrawn"
            for k, e in sorted(item["tables"].items())
        )
        click.echo(f"{item['run_id']:<24}  {when:<25}  {item.get('op', 'run'):<9}  {tables}")


@lake.command()
@click.argument("table")
@env_option
@click.option("--version", "version", type=int, default=None, help="Published Delta version.")
@click.option("--as-of", "as_of", default=None, help="ISO timestamp: the version published then.")
@click.option("--rows", default=10, show_default=True, help="Rows to print.")
def show(table: str, env: str | None, version: int | None, as_of: str | None, rows: int) -> None:
    """Print TABLE as published now, or at a published --version N or --as-of TIMESTAMP."""
    catalog = _catalog(env)
    dataset = _table(catalog, table)
    _lake(catalog)
    try:
        if version is None and as_of is None:
            frame = dataset.load().collect()
        else:
            used = dataset.published_version(version=version, as_of=as_of)
            click.echo(f"{dataset.key}: published Delta version {used}")
            frame = dataset.scan_version(used).collect()
    except DatasetError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # the version's files are gone (vacuumed) or unreadable
        raise click.ClickException(
            f"Cannot read {dataset.key} at that version ({type(exc).__name__}: "
            f"{str(exc)[:300]}); a vacuum removes the files of old versions."
        ) from exc
    with pl.Config(tbl_rows=rows, tbl_cols=-1, tbl_width_chars=200):
        click.echo(f"{dataset.key}: {frame.height} rows")
        click.echo(str(frame.head(rows)))


def _env_flag(env: str | None) -> str:
    return f" --env {env}" if env else ""


@lake.command()
@click.argument("table", required=False)
@click.option("--run", "run_id", default=None, help="Run id of a commit (`kedro lake history`).")
@click.option("--as-of", "as_of", default=None, help="ISO timestamp: the lake published then.")
@click.option("--version", "version", type=int, default=None, help="(with TABLE) refused: "
              "names the --run that published that version.")  # fmt: skip
@env_option
def restore(
    table: str | None, run_id: str | None, as_of: str | None, version: int | None,
    env: str | None,
) -> None:  # fmt: skip
    """Publish the whole lake as commit --run RUN_ID left it (or as it was --as-of TIME):
    every table together, in one commit. A lone table is not restored: that would mix it
    with tables of other runs; the message names the --run that restores its version."""
    catalog = _catalog(env)
    lake_ = _lake(catalog)
    if table is not None or version is not None:
        raise click.ClickException(_one_table_refusal(lake_, catalog, table, version, env))
    if (run_id is None) == (as_of is None):
        raise click.ClickException(
            "Name the commit to restore: --run <run id> (see `kedro lake history`) or "
            "--as-of <ISO time>."
        )
    try:
        done = lakes.restore(lake_, run_id=run_id, as_of=as_of)
    except lakes.LakeHistoryError as exc:
        raise click.ClickException(str(exc)) from exc
    _report(done, f"the lake as {'run ' + run_id if run_id else 'of ' + str(as_of)} left it", env)


def _one_table_refusal(
    lake_: lakes.Lake, catalog: Any, table: str | None, version: int | None, env: str | None
) -> str:
    if table is None or version is None:
        return (
            "Restore the whole lake: `kedro lake restore --run <run id>` (see `kedro lake "
            "history`)."
        )
    key = _table(catalog, table).key
    run = lakes.history.run_of_version(lake_.read_record(), key, version)
    if run is None:
        return (
            f"Version {version} of {key} was never published: nothing restores it. See "
            f"`kedro lake history {key}` for its published versions."
        )
    return (
        f"Restoring {key} alone would mix it with tables of other runs, which no run can "
        f"build on. Version {version} of {key} was published by run {run}: restore the whole "
        f"lake as that run left it with `kedro lake restore --run {run}{_env_flag(env)}`."
    )


def _report(done: lakes.Restored, what: str, env: str | None) -> None:
    if not done.published and not done.withdrawn:
        click.echo(f"The lake already is {what}: nothing changed.")
        return
    tables = ", ".join(f"{k} v{v}" for k, v in sorted(done.published.items()))
    click.echo(f"Published {what} in one commit ({done.run_id}): {tables or 'no table'}.")
    if done.withdrawn:
        click.echo(f"Not built then, now reading as not built: {', '.join(done.withdrawn)}.")
    click.echo(
        f"Landing files that are not in the restored bronze are ingested again by the next "
        f"`kedro run{_env_flag(env)}`; `kedro lake rollback{_env_flag(env)}` undoes this."
    )


@lake.command()
@env_option
def rollback(env: str | None) -> None:
    """Publish the whole lake as it was before its last change (run, restore or rollback;
    a second rollback undoes the first)."""
    catalog = _catalog(env)
    lake_ = _lake(catalog)
    try:
        done = lakes.rollback(lake_)
    except lakes.LakeHistoryError as exc:
        raise click.ClickException(str(exc)) from exc
    _report(done, "the lake before its last change", env)


@lake.command()
@click.argument("tables", nargs=-1)
@env_option
@click.option(
    "--retention-hours",
    type=float,
    default=168.0,
    show_default=True,
    help="Keep the files of versions newer than this.",
)
@click.option("--dry-run", is_flag=True, help="List the files without removing them.")
def vacuum(tables: tuple[str, ...], env: str | None, retention_hours: float, dry_run: bool) -> None:
    """Remove data files no version newer than --retention-hours needs (all tables if none)."""
    catalog = _catalog(env)
    for dataset in _tables(catalog, tables):
        removed = dataset.vacuum(retention_hours, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        click.echo(f"{dataset.key}: {verb} {len(removed)} files")


@lake.command()
@click.argument("tables", nargs=-1)
@env_option
@click.option(
    "--z-order",
    is_flag=True,
    help="Sort each table again by its save_args.cluster_by (rewrites it whole).",
)
def compact(tables: tuple[str, ...], env: str | None, z_order: bool) -> None:
    """Rewrite small data files into files of save_args.target_file_rows rows (same rows;
    a new published version)."""
    catalog = _catalog(env)
    for dataset in _tables(catalog, tables):
        done = dataset.compact(z_order=z_order)
        click.echo(f"{dataset.key}: {done}")


@lake.command()
@click.argument("batch")
@click.option("--undo", is_flag=True, help="Bring a retracted batch back.")
@env_option
def retract(batch: str, undo: bool, env: str | None) -> None:
    """Take BATCH (a batch id or landing file name) back: silver and gold without it."""
    from medallion_kedro.retract import retract as run_retraction

    try:
        click.echo(run_retraction(batch, undo=undo, env=env))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
