"""Which lake this is: a random id stored in the lake itself (``<lake>/_lake_id``).

The MongoDB export records the id of the lake it published from in the manifest, so an
export can tell a database another lake (another checkout, another machine) publishes to
from its own. The id is made the first time it is asked for and never changes: creating it
is atomic where the lake is, so two processes that ask at once get the same id. On a local
folder the file is written aside, then hard-linked into place (a link fails when the name
exists); on S3 (through fsspec) it is put with ``If-None-Match: *``, which the store
refuses when the object exists. Copying a lake copies its id: the copy publishes as the
same lake.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from copy import deepcopy
from typing import Any

import fsspec
from fsspec import AbstractFileSystem
from kedro.io.core import AbstractDataset, DatasetError

#: The file (object) in the lake's root that holds the lake's id.
ID_FILE = "_lake_id"


def _is_local(fs: AbstractFileSystem) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in {"file", "local"}


def _read(fs: AbstractFileSystem, path: str) -> str | None:
    try:
        text = fs.cat_file(path).decode("utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def _create_local(folder: str, path: str, lake_id: str) -> None:
    """Write ``lake_id`` whole beside ``path``, then link it there unless it exists."""
    os.makedirs(folder, exist_ok=True)
    aside = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(aside, "w", encoding="utf-8") as file:
        file.write(lake_id + "\n")
        file.flush()
        os.fsync(file.fileno())
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # another process made it first: its id stands
    finally:
        os.unlink(aside)


def _create_remote(fs: AbstractFileSystem, path: str, lake_id: str) -> None:
    """Put ``lake_id`` at ``path`` unless an object is there (an exclusive create)."""
    try:
        with fs.open(path, "xb") as file:
            file.write((lake_id + "\n").encode())
    except FileExistsError:
        pass  # another process made it first: its id stands


def lake_id(root: str, storage_options: Mapping[str, Any] | None = None) -> str:
    """The id of the lake at ``root`` (a folder or ``s3://bucket/prefix``), made if absent."""
    fs, path = fsspec.core.url_to_fs(root, **dict(storage_options or {}))
    folder = os.path.abspath(path) if _is_local(fs) else path.rstrip("/")
    target = f"{folder}/{ID_FILE}"
    found = _read(fs, target)
    if found is not None:
        return found
    new = f"lake-{uuid.uuid4().hex}"
    if _is_local(fs):
        _create_local(folder, target, new)
    else:
        _create_remote(fs, target, new)
    found = _read(fs, target)
    if found is None:
        raise OSError(f"{target} was created but reads empty")
    return found


def lake_uri(root: str) -> str:
    """The lake root as it is named in messages and manifests: an absolute folder or URI."""
    return root.rstrip("/") if "://" in root else os.path.abspath(root)


class LakeIdentityDataset(AbstractDataset[None, dict[str, str]]):
    """Read-only: ``{"id": <the lake's id>, "uri": <the lake root>}`` (see the module).

    Loading makes the id when the lake has none yet. The export reads it to record which
    lake published a manifest.

    Example catalog entry::

        lake.identity:
          type: medallion_kedro.lake_identity.LakeIdentityDataset
          path: ${globals:lake}
          credentials: lake         # storage options; empty for a local folder
    """

    def __init__(
        self,
        *,
        path: str,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._path = path
        self._options = {**deepcopy(credentials or {}), **(fs_args or {})}
        self.metadata = metadata

    def load(self) -> dict[str, str]:
        try:
            return {"id": lake_id(self._path, self._options), "uri": lake_uri(self._path)}
        except OSError as exc:
            raise DatasetError(
                f"Cannot read or create the lake's id {lake_uri(self._path)}/{ID_FILE}: "
                f"{exc}. Check the lake path (conf/*/globals.yml `lake`) is writable."
            ) from exc

    def save(self, data: None) -> None:
        raise DatasetError(f"{lake_uri(self._path)}/{ID_FILE} is made by the lake, not saved.")

    def _describe(self) -> dict[str, Any]:
        return {"lake": lake_uri(self._path)}
