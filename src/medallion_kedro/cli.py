"""Project commands: Kedro's ``run``, refusing an unknown pipeline name in one line, and
``kedro lake`` (history, time travel, restore, vacuum, compact: see ``lake_cli``).

Kedro merges this ``cli`` group over its own commands, so ``kedro run`` is this command:
the same options, checked first, then handed to Kedro's ``run`` unchanged. A plain run of
the lakehouse (no slice, no ``--params``) with no new landing file, no batch left to apply
and gold up to date prints one line and runs nothing; when it includes the export and
MongoDB does not publish that gold yet (its export failed or was killed), it says so in
one line and runs the export alone.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from medallion_kedro.lake_cli import lake


@click.group(name="medallion-kedro")
def cli() -> None:
    """Commands of the medallion-kedro project."""


def pipeline_names() -> list[str]:
    """The names of the registered pipelines, without building them.

    ``register_pipelines`` registers one pipeline per package under ``pipelines/`` (Kedro's
    ``find_pipelines``, which fails the run if one has no ``create_pipeline``) plus
    ``__default__``; listing the packages gives the names without importing every node
    module (numpy, narwhals, pymongo...) before a run that may have nothing to do.
    """
    found = importlib.resources.files(f"{__package__}.pipelines").iterdir()
    return sorted(d.name for d in found if d.is_dir() and d.name[0] not in "_.")


def unknown_pipelines_message(requested: list[str]) -> str | None:
    """The one-line error for names that are not registered, or ``None`` if all are."""
    known = pipeline_names()
    unknown = [name for name in requested if name not in known]
    if not unknown:
        return None
    names = ", ".join(repr(name) for name in unknown)
    noun = "pipeline" if len(unknown) == 1 else "pipelines"
    return (
        f"unknown {noun} {names}; registered pipelines: {', '.join(known)} "
        "(without --pipelines, `kedro run` runs bronze, silver, gold and export)"
    )


@cli.command(name="run", params=kedro_run.params, help=kedro_run.help)
@click.pass_context
def run(ctx: click.Context, **kwargs: Any) -> Any:
    requested = [*([kwargs["pipeline"]] if kwargs.get("pipeline") else []), *kwargs["pipelines"]]
    message = unknown_pipelines_message(requested) if requested else None
    if message:
        raise click.ClickException(message)
    if _incremental_default_run(requested, kwargs):
        catalog = _catalog(kwargs.get("env"))
        line = _nothing_new(catalog)
        behind = _export_behind(catalog) if line and _exports(requested) else None
        if behind:  # only the export has work to do
            click.echo(behind)
            return ctx.invoke(kedro_run, **{**kwargs, "pipeline": None, "pipelines": ["export"]})
        if line:
            click.echo(line)
            return None
    return ctx.invoke(kedro_run, **kwargs)


#: Options that make a run something else than "apply what is new" (a slice, other params).
_SLICING = ("from_inputs", "to_outputs", "from_nodes", "to_nodes", "node_names", "tags",
            "load_versions", "params", "namespaces", "only_missing_outputs", "runner",
            "is_async", "runner_params")  # fmt: skip


def _incremental_default_run(requested: list[str], kwargs: dict[str, Any]) -> bool:
    """A plain run of the lakehouse pipelines from bronze on: the one a run with nothing new
    may skip (``--pipelines gold`` or ``export`` alone always runs)."""
    from medallion_kedro.pipeline_registry import DEFAULT_PIPELINES

    if any(kwargs.get(option) for option in _SLICING):
        return False
    pipelines = set(requested or DEFAULT_PIPELINES)
    return "bronze" in pipelines and pipelines <= set(DEFAULT_PIPELINES)


def _catalog(env: str | None) -> Any:
    """The project's catalog for the checks made before a run, without a Kedro session.

    Only the catalog and credentials configuration is read: no session, context,
    parameters (whose validation imports and inspects every pipeline) or hooks. Kedro's
    catalog creates a dataset on first ``get``, so the checks build only the entries they
    read. The run that may follow builds its own session as usual.
    """
    from kedro.config import MissingConfigException
    from kedro.framework import project
    from kedro.framework.context.context import _convert_paths_to_absolute_posix
    from kedro.io import DataCatalog
    from kedro.utils import find_kedro_project

    root = Path(find_kedro_project(Path.cwd()) or Path.cwd())
    if project.PACKAGE_NAME is None:  # not started by Kedro's CLI: configure it
        from kedro.framework.startup import bootstrap_project

        bootstrap_project(root)
    settings = project.settings
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(root / settings.CONF_SOURCE),
        env=env or os.getenv("KEDRO_ENV"),  # as KedroSession.create chooses it
        **settings.CONFIG_LOADER_ARGS,
    )
    # relative paths made absolute as a session's context does (Kedro's own helper)
    conf = _convert_paths_to_absolute_posix(project_path=root, conf_dictionary=loader["catalog"])
    try:
        credentials = loader["credentials"]
    except MissingConfigException:
        credentials = {}
    return DataCatalog.from_config(catalog=conf, credentials=credentials)


def _nothing_new(catalog: Any) -> str | None:
    """The one-line "nothing new" message, or None when the run has work to do."""
    from medallion_kedro.pipelines.silver.nothing_new import nothing_new

    return nothing_new(catalog)


def _exports(requested: list[str]) -> bool:
    from medallion_kedro.pipeline_registry import DEFAULT_PIPELINES

    return "export" in (requested or DEFAULT_PIPELINES)


def _export_behind(catalog: Any) -> str | None:
    """The line saying MongoDB does not publish the lake's gold yet, else None."""
    from kedro.io.core import DatasetError

    from medallion_kedro.pipelines.export.up_to_date import export_behind

    try:
        return export_behind(catalog)
    except DatasetError as exc:  # e.g. MongoDB unreachable: the export could not run either
        raise click.ClickException(
            f"Nothing new in landing, but whether MongoDB publishes the lake's gold could not "
            f"be checked: {exc}"
        ) from exc


cli.add_command(lake)
