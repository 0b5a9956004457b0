"""Writing a whole local file, or nothing; removing what interrupted writes left behind."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medallion_kedro.processes import alive

log = logging.getLogger(__name__)

#: ``.<name>.<pid>.tmp``: the temporary file of an unfinished write by process ``pid``.
_TEMP = re.compile(r"^\..+\.(\d+)\.tmp$")


def temp_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def replace_whole(target: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``target``, then rename it into place.

    A failed or interrupted write leaves ``target`` as it was; a failed write removes its
    temporary file, and one left by a killed process is removed by
    :func:`remove_stale_temps`. (On S3, see :func:`upload_whole`.)
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def upload_whole(fs: Any, path: str, write: Callable[[Any], object]) -> None:
    """``write`` into a new object at ``path`` on an object store, or leave it as it was.

    An object only appears once its upload completes, but a file object closed after an
    error completes the upload of what was written so far; here an error aborts it.
    """
    f = fs.open(path, "wb")
    try:
        write(f)
    except BaseException:
        f.discard()  # abort the multipart upload, drop the buffer
        f.closed = True  # so that nothing is uploaded on close
        raise
    f.close()


def remove_stale_temps(root: Path) -> list[Path]:
    """Remove temporary files under ``root`` whose writing process is gone; return them."""
    removed = []
    for path in root.rglob(".*.tmp"):
        match = _TEMP.match(path.name)
        if match and not alive(int(match.group(1))):
            log.info("lake: removing %s left by a killed run", path)
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
