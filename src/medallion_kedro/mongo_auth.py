"""MongoDB credentials in errors: telling a refused login from other driver errors, and
keeping credentials out of every URI the project writes (no Kedro import: the API uses it
too).

A URI's credentials are everything between ``://`` and its last ``@``: that is where the
driver's parser (:func:`pymongo.uri_parser.parse_uri`) splits them off, and it holds
whatever the password contains (``/``, ``@``, ``:``, ``%``, escaped or not). The hosts
are then read by that parser, so what is written is what the driver would connect to.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

#: A MongoDB URI with credentials in free text: the scheme, then everything up to the last
#: ``@`` before the next whitespace (a password may hold ``/``, ``@`` or ``:`` unescaped).
_WITH_CREDENTIALS = re.compile(r"(mongodb(?:\+srv)?://)(\S*)@")
MASK = "****"


def _masked(userinfo: str) -> str:
    """``user:****`` for ``user:password``; a user alone (X.509, no password) as it is."""
    user, colon, _ = userinfo.partition(":")
    return f"{user}:{MASK}" if colon else userinfo


def redact(text: str) -> str:
    """``text`` with the password of every MongoDB URI in it replaced by ``****``."""
    return _WITH_CREDENTIALS.sub(lambda m: f"{m[1]}{_masked(m[2])}@", text)


def _split(uri: str) -> tuple[str, str]:
    """(scheme, the rest without credentials) of ``uri``."""
    scheme, _, rest = uri.strip().partition("://")
    return scheme, rest.rpartition("@")[2]


def hosts(uri: str) -> str:
    """The ``host:port`` list of a MongoDB URI, without credentials (no DNS lookup).

    Read by the driver's parser; a URI it refuses gives what precedes the path.
    """
    from pymongo import uri_parser  # here: error texts redact without importing the driver
    from pymongo.errors import InvalidURI

    scheme, rest = _split(uri)
    if scheme == "mongodb":
        try:
            parsed = uri_parser.parse_uri(f"{scheme}://{rest}", validate=False)
        except (InvalidURI, ValueError):
            pass
        else:
            return ",".join(
                f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                for host, port in parsed["nodelist"]
            )
    # mongodb+srv names one DNS record, which the parser would resolve: keep it as given
    return unquote(re.split(r"[/?]", rest, maxsplit=1)[0]) or "?"


def without_credentials(uri: str) -> str:
    """``mongodb://user:pw@host:27017/db?x=y`` -> ``mongodb://host:27017`` (servers only)."""
    scheme = _split(uri)[0] or "mongodb"
    return f"{scheme}://{hosts(uri)}"


def raised_during_auth(exc: BaseException) -> bool:
    """Raised inside the driver's authentication code (the server broke off the handshake)."""
    tb = exc.__traceback__
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.name == "auth.py" and "pymongo" in path.parts:
            return True
        tb = tb.tb_next
    return False
