"""Project commands: Kedro's ``run``, refusing an unknown pipeline name in one line and
printing an error the user caused as its one message (``errors.py``), and ``kedro lake``
(history, time travel, restore, vacuum, compact: see ``lake_cli``).

Kedro merges this ``cli`` group over its own commands, so ``kedro run`` is this command:
the same options, checked first, then handed to Kedro's ``run`` unchanged. A plain run of
the lakehouse (no slice, no ``--params``) with no new landing file, no batch left to apply
and gold up to date prints one line and runs nothing; when it includes the export and
MongoDB does not publish that gold yet (its export failed or was killed), it says so in
one line and runs the export alone.
"""

from __future__ import annotations

import atexit
import gc
import importlib.resources
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from medallion_kedro.errors import expected_error, one_message, show_traceback
from medallion_kedro.lake_cli import lake
from medallion_kedro.project_catalog import build_catalog


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
    # At exit, after the atexit handlers (logging's flush among them), the interpreter's
    # final garbage collections would walk every object the run created, and free in
    # Python the frames, tables and runtimes they hold, only for the operating system to
    # take the memory back anyway: objects alive at exit are left out of them.
    atexit.register(gc.freeze)
    try:
        return _run(ctx, **kwargs)
    except Exception as exc:
        expected = expected_error(exc)
        if expected is None or show_traceback():
            raise
        raise click.ClickException(one_message(expected)) from None


def _run(ctx: click.Context, **kwargs: Any) -> Any:
    """Kedro's ``run`` after the checks of this module (see the module docstring)."""
    requested = [*([kwargs["pipeline"]] if kwargs.get("pipeline") else []), *kwargs["pipelines"]]
    message = unknown_pipelines_message(requested) if requested else None
    if message:
        raise click.ClickException(message)
    if _incremental_default_run(requested, kwargs):
        catalog = build_catalog(kwargs.get("env"))
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


def _nothing_new(catalog: Any) -> str | None:
    """The one-line "nothing new" message, or None when the run has work to do.

    None too when the lake cannot be read here (an S3 endpoint down, say): the run goes
    on, and its preflight check (``LakePreflightHooks``) refuses it with the reason and
    the fix.
    """
    from kedro.io.core import DatasetError

    from medallion_kedro.pipelines.silver.nothing_new import nothing_new

    try:
        return nothing_new(catalog)
    except DatasetError:
        return None


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
        if expected_error(exc) is not None:  # e.g. another lake's export: its message says it
            raise
        raise click.ClickException(
            f"Nothing new in landing, but whether MongoDB publishes the lake's gold could not "
            f"be checked: {exc}"
        ) from exc


cli.add_command(lake)
