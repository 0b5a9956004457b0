"""The project's catalog outside a ``kedro run``: the one builder for the checks ``kedro run``
makes first, ``kedro lake`` and the app's lake source.

Only the configuration a catalog needs is read (catalog, credentials and, in an environment
with a ``spark.yml``, the Spark settings its datasets start a session from): no session,
context, parameters (whose validation imports and inspects every pipeline) or hooks.
Kedro's catalog creates a dataset on first ``get``, so building it opens no file or socket.
The environment is chosen as ``KedroSession.create`` chooses it (``env``, else
``KEDRO_ENV``, else the loader's default run environment over ``base``).

:class:`ProjectCatalog` is the catalog class of these checks and of every ``kedro run``
(``DATA_CATALOG_CLASS`` in ``settings.py``): Kedro's ``DataCatalog`` holding parameters
and intermediate outputs in the project's :class:`~medallion_kedro.datasets.memory.MemoryDataset`,
which does not import pandas to choose how to copy them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlparse

from kedro.config import AbstractConfigLoader, MissingConfigException
from kedro.framework import project
from kedro.framework.startup import bootstrap_project
from kedro.io import AbstractDataset, DataCatalog
from kedro.utils import find_kedro_project

#: Keys of a catalog entry holding a path: a relative local one is under the project root.
PATH_KEYS = ("filepath", "folder", "path", "filename")


def project_root(start: Path | None = None) -> Path:
    """The Kedro project holding ``start`` (the working directory by default)."""
    here = (start or Path.cwd()).resolve()
    return Path(find_kedro_project(here) or here)


def config_loader(root: Path, env: str | None = None) -> AbstractConfigLoader:
    """The project's configuration loader for ``env``, as a session would make it."""
    if project.PACKAGE_NAME is None:  # not started by Kedro's CLI: configure the project
        bootstrap_project(root)
    settings = project.settings
    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(root / settings.CONF_SOURCE),
        env=env or os.getenv("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )


def absolute_paths(conf: Any, root: Path) -> Any:
    """``conf`` with every relative local path under :data:`PATH_KEYS` made absolute under
    ``root``, so the catalog reads the same files from any working directory (a URL such
    as ``s3://...`` and an absolute path stay as they are)."""
    if isinstance(conf, Mapping):
        return {
            key: (root / value).as_posix()
            if key in PATH_KEYS and isinstance(value, str) and _relative_local(value)
            else absolute_paths(value, root)
            for key, value in conf.items()
        }
    return conf


def _relative_local(path: str) -> bool:
    return not urlparse(path).scheme and not PurePosixPath(path).is_absolute()


class ProjectCatalog(DataCatalog):
    """Kedro's ``DataCatalog`` whose in-memory datasets are the project's ``MemoryDataset``:
    the runtime pattern (a pipeline's intermediate outputs) and raw values registered by
    name (``catalog[name] = value``: Kedro registers every parameter this way)."""

    default_runtime_patterns: ClassVar = {
        "{default}": {"type": "medallion_kedro.datasets.MemoryDataset"}
    }

    def __setitem__(self, key: str, value: Any) -> None:
        from medallion_kedro.datasets.memory import MemoryDataset

        # a dataset, or the not yet created dataset of a catalog entry (``materialize``),
        # is registered as Kedro registers it; anything else is data to hold in memory
        dataset = isinstance(value, AbstractDataset) or hasattr(value, "materialize")
        super().__setitem__(key, value if dataset else MemoryDataset(data=value))


def build_catalog(env: str | None = None, root: Path | None = None) -> DataCatalog:
    """The project's catalog for ``env`` (from the project holding the working directory
    unless ``root`` is given), with the environment's Spark settings applied."""
    from medallion_kedro.spark.session import configure_from

    root = project_root(root)
    loader = config_loader(root, env)
    configure_from(loader)
    try:
        credentials = loader["credentials"]
    except MissingConfigException:
        credentials = {}
    return ProjectCatalog.from_config(
        catalog=absolute_paths(loader["catalog"], root), credentials=credentials
    )
