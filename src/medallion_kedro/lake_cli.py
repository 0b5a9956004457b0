"""``kedro lake ...``: history, time travel, restore and maintenance of the lake's Delta tables.

Every command reads the table through the project's catalog (``--env`` picks local or
MinIO), and every change goes through the lake's commit record under the lake lock, so a
restore or a compaction is published like a run's write: readers see the old version or
the new one, never a half.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
import polars as pl
from kedro.io.core import DatasetError

from medallion_kedro.datasets.delta_table import DeltaTableDataset, is_delta

LAYERS = ("bronze", "silver", "quality", "gold")


def _catalog(env: str | None) -> Any:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = Path.cwd()
    bootstrap_project(project)
    session = KedroSession.create(project_path=project, env=env)
    return session.load_context().catalog


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


def _tables(catalog: Any, names: tuple[str, ...]) -> list[DeltaTableDataset]:
    """The named tables, or every Delta table the commit record names."""
    if names:
        return [_table(catalog, n) for n in names]
    probe = _table(catalog, "gold.kpis")  # any lake table gives the lake and its record
    tables = probe.lake.read_record().get("tables", {})
    return [_table(catalog, key) for key, entry in sorted(tables.items()) if is_delta(entry)]


env_option = click.option("--env", "-e", default=None, help="Kedro environment (e.g. minio).")


@click.group(name="lake")
def lake() -> None:
    """History, time travel, restore and maintenance of the lake's tables."""


@lake.command()
@click.argument("table")
@env_option
@click.option("--limit", default=20, show_default=True, help="Newest versions to show.")
def history(table: str, env: str | None, limit: int) -> None:
    """The Delta versions of TABLE (e.g. silver.orders), newest first."""
    dataset = _table(_catalog(env), table)
    record = dataset.lake.read_record()
    current = record["tables"].get(dataset.key, {})
    previous = record.get("previous", {}).get(dataset.key, {})
    for item in dataset.table().history(limit):
        version = item.get("version")
        when = dt.datetime.fromtimestamp(item["timestamp"] / 1000, dt.UTC)
        mark = ""
        if is_delta(current) and current.get("version") == version:
            mark = "  <- published"
        elif is_delta(previous) and previous.get("version") == version:
            mark = "  <- previous"
        metrics = item.get("operationMetrics", {})
        rows = metrics.get("num_added_rows", metrics.get("num_output_rows", ""))
        click.echo(
            f"{version:>6}  {when.isoformat(timespec='seconds')}  "
            f"{item.get('operation', '?'):<10} rows written {rows}{mark}"
        )


@lake.command()
@click.argument("table")
@env_option
@click.option("--version", "version", type=int, default=None, help="Delta version to read.")
@click.option("--as-of", "as_of", default=None, help="ISO timestamp: the version then.")
@click.option("--rows", default=10, show_default=True, help="Rows to print.")
def show(table: str, env: str | None, version: int | None, as_of: str | None, rows: int) -> None:
    """Print TABLE as published, or as it was at --version N or --as-of TIMESTAMP."""
    dataset = _table(_catalog(env), table)
    try:
        frame = dataset.load_version(version=version, as_of=as_of).collect()
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


@lake.command()
@click.argument("table")
@click.option("--version", "version", type=int, required=True, help="Delta version to restore.")
@env_option
def restore(table: str, version: int, env: str | None) -> None:
    """Publish the rows of TABLE at --version N as its new version (one commit, locked)."""
    dataset = _table(_catalog(env), table)
    try:
        entry = dataset.restore_version(version)
    except Exception as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{dataset.key}: version {entry['version']} published with the {entry['rows']} rows "
        f"of version {version}. The other tables of its layer are unchanged: rebuild what "
        "reads it (e.g. `kedro run --pipeline gold`)."
    )


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
def compact(tables: tuple[str, ...], env: str | None) -> None:
    """Rewrite small data files into larger ones (same rows; a new published version)."""
    catalog = _catalog(env)
    for dataset in _tables(catalog, tables):
        done = dataset.compact()
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
