"""Who may open the app: users and password hashes from configuration, checked by Gradio.

Users come from ``UI_USERS_FILE`` or ``UI_USERS`` (entries separated by ``;``), one per
line: ``<user> <scrypt hash>``. ``python -m ui.auth hash`` prints a line for a password;
only the hash is ever stored. Passwords are hashed with scrypt (standard library) and
compared in constant time. Without users the app serves this machine only: a non-loopback
address is refused at launch, and every request is checked (:func:`exposure_guard`).
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from graphql_api.exposure import LOCAL_HOSTS, LoopbackClientsOnly
from graphql_api.settings import is_loopback

# scrypt cost: 2**14 rounds, 8 blocks (about 16 MiB and a few tens of ms per login).
_N, _R, _P = 2**14, 8, 1


class AuthConfigError(ValueError):
    """The users configuration cannot be used; the message says how to fix it."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.urlsafe_b64encode
    # ':' separators, not '$': docker compose would read '$' in .env as a variable.
    return f"scrypt:{_N}:{_R}:{_P}:{encode(salt).decode()}:{encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split(":")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.urlsafe_b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def parse_users(text: str, source: str) -> dict[str, str]:
    users: dict[str, str] = {}
    for number, line in enumerate(text.replace(";", "\n").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith("scrypt:"):
            raise AuthConfigError(
                f"{source} entry {number}: expected '<user> <scrypt hash>'; "
                "`python -m ui.auth hash USER` prints one (never store the password itself)"
            )
        users[parts[0]] = parts[1]
    return users


def load_users(env: Mapping[str, str]) -> dict[str, str]:
    """The configured users (``UI_USERS_FILE`` then ``UI_USERS``); empty when none."""
    users: dict[str, str] = {}
    if path := env.get("UI_USERS_FILE", "").strip():
        try:
            text = open(path, encoding="utf-8").read()  # noqa: SIM115
        except OSError as exc:
            raise AuthConfigError(f"UI_USERS_FILE={path} cannot be read: {exc}") from None
        users |= parse_users(text, "UI_USERS_FILE")
    if inline := env.get("UI_USERS", "").strip():
        users |= parse_users(inline, "UI_USERS")
    return users


def login_check(users: Mapping[str, str]) -> Callable[[str, str], bool]:
    """The ``auth`` callable Gradio asks at login."""

    def check(username: str, password: str) -> bool:
        stored = users.get(username)
        return stored is not None and verify_password(password, stored)

    return check


_CONFIGURE = (
    "Set UI_USERS_FILE (or UI_USERS) to '<user> <scrypt hash>' lines (`python -m ui.auth "
    "hash USER` prints one)"
)
#: Why the app, without users, refuses a request from elsewhere.
REMOTE_WITHOUT_USERS = (
    "This app has no login configured, so it serves only clients on this machine that reach "
    f"it directly, and {{client}} is not one. {_CONFIGURE}."
)


def check_exposure(host: str, users: Mapping[str, str]) -> None:
    """Refuse to serve the app on a non-loopback address without users."""
    if not users and not is_loopback(host):
        raise AuthConfigError(
            f"Refusing to serve the app on {host}, an address other machines can reach, "
            f"without a login. {_CONFIGURE}, or bind to 127.0.0.1 (UI_HOST)."
        )


def exposure_guard(users: Mapping[str, str]) -> dict[str, Any]:
    """The ``app_kwargs`` of Gradio's ``launch`` that enforce the exposure rule per request:
    without users, only clients of this machine reached directly, named by a local ``Host``
    (:mod:`graphql_api.exposure`); with users, nothing (the login page guards the app)."""
    if users:
        return {}
    return {
        "middleware": [
            Middleware(TrustedHostMiddleware, allowed_hosts=list(LOCAL_HOSTS), www_redirect=False),
            Middleware(LoopbackClientsOnly, refusal=REMOTE_WITHOUT_USERS),
        ]
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ui.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("hash", help="print a UI_USERS line for a user's password")
    make.add_argument("user")
    args = parser.parse_args(argv)
    password = getpass.getpass(f"password for {args.user}: ")
    print(f"{args.user} {hash_password(password)}")


if __name__ == "__main__":
    main()
