"""Telling a refused MongoDB login from other driver errors (no Kedro import: the API uses it)."""

from __future__ import annotations

from pathlib import Path


def raised_during_auth(exc: BaseException) -> bool:
    """Raised inside the driver's authentication code (the server broke off the handshake)."""
    tb = exc.__traceback__
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.name == "auth.py" and "pymongo" in path.parts:
            return True
        tb = tb.tb_next
    return False
