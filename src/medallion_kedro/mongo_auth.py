"""MongoDB credentials in errors: telling a refused login from other driver errors, and
keeping passwords out of messages (no Kedro import: the API uses it too)."""

from __future__ import annotations

import re
from pathlib import Path

_PASSWORD = re.compile(r"(mongodb(?:\+srv)?://[^:@/\s]*):[^@/\s]*@")


def redact(text: str) -> str:
    """``text`` with the password of any MongoDB URI in it replaced by ``****``."""
    return _PASSWORD.sub(r"\1:****@", text)


def raised_during_auth(exc: BaseException) -> bool:
    """Raised inside the driver's authentication code (the server broke off the handshake)."""
    tb = exc.__traceback__
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.name == "auth.py" and "pymongo" in path.parts:
            return True
        tb = tb.tb_next
    return False
