"""Writing a whole local file, or nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def replace_whole(target: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``target``, then rename it into place.

    A failed or interrupted write leaves ``target`` as it was. (On S3 this is not needed:
    an object only appears once its upload completes.)
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
