"""Who is asking: bearer tokens, verified by API keys (hashed) or JWTs (PyJWT).

Two kinds of token behind one interface, :class:`Authenticator`:

* **API keys** for services (the Gradio app, scripts): random secrets of which only the
  SHA-256 is configured, in ``API_KEYS_FILE`` or ``API_KEYS``, one per line::

      <sha256-hex> <client-name> <scope>[,<scope>...] [<expiry, ISO date or time>]

  A key has 256 bits of entropy, so a plain SHA-256 (not a password hash) is enough and
  costs microseconds per request. ``python -m graphql_api.auth new-key NAME`` makes one.
* **JWTs** for people, issued by an identity provider: verified with PyJWT against
  ``API_JWT_ISSUER``, ``API_JWT_AUDIENCE`` and the keys of ``API_JWT_JWKS_URL`` (or one
  PEM public key in ``API_JWT_PUBLIC_KEY_FILE``); scopes come from the ``scope`` (space
  separated) or ``scp`` (list) claim; ``exp`` is required.

No token means an anonymous client, who reads every aggregate; personal data needs the
scope :data:`PII_SCOPE`. With no authentication configured at all, which the API allows
only on a loopback address, every client is :data:`LOCAL_DEVELOPER` (development).
A token that is present but invalid is refused outright (401), never downgraded to
anonymous, so a client learns at once that its token is wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from graphql_api.errors import ClientFacingError
from graphql_api.settings import Settings, SettingsError

#: The scope that lets a client read customers' names and emails and filter or sort by them.
PII_SCOPE = "customers:pii"
KEY_PREFIX = "mk_"

_CONFIGURE = (
    "Set API_KEYS_FILE (or API_KEYS) to hashed API keys (`python -m graphql_api.auth "
    "new-key NAME` makes one), or API_JWT_ISSUER, API_JWT_AUDIENCE and API_JWT_JWKS_URL "
    "for JWTs"
)
#: Why the API, without authentication, does not start on an address others can reach.
EXPOSED_WITHOUT_AUTH = (
    "Refusing to serve customer data on {host}, an address other machines can reach, "
    f"without authentication. {_CONFIGURE}; or bind to 127.0.0.1 (API_HOST, or uvicorn's "
    "--host)."
)
#: Why the API, without authentication, refuses a request from elsewhere.
REMOTE_WITHOUT_AUTH = (
    "This API has no authentication configured, so it serves only clients on this machine "
    f"that reach it directly, and {{client}} is not one. {_CONFIGURE}."
)


class Unauthenticated(ClientFacingError):
    """No valid token came with a request that needs one."""

    code = "UNAUTHENTICATED"


class Forbidden(ClientFacingError):
    """The token is valid but lacks the scope the request needs."""

    code = "FORBIDDEN"


class InvalidToken(Exception):
    """A presented token is not valid; the message is safe to show (it holds no secret)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated client: a name for logs and rate limits, and its scopes."""

    subject: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    def has(self, scope: str) -> bool:
        return scope in self.scopes


#: Every client of an API started without authentication (only allowed on loopback).
LOCAL_DEVELOPER = Principal("local-developer", frozenset({PII_SCOPE}))


def pii_note(what: str = "Personal data") -> str:
    """The sentence that marks, in the schema's descriptions, what needs :data:`PII_SCOPE`."""
    return f"{what}: needs a bearer token with the scope `{PII_SCOPE}`."


def require_scope(principal: Principal | None, scope: str, what: str) -> Principal:
    """``principal`` if it holds ``scope``; else the error that says what to send."""
    if principal is None:
        raise Unauthenticated(
            f"{what} is personal data: send `Authorization: Bearer <token>` with a token "
            f"that has the scope `{scope}`."
        )
    if not principal.has(scope):
        raise Forbidden(f"{what} needs the scope `{scope}`, which this token does not have.")
    return principal


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _parse_expiry(raw: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{where}: expiry {raw!r} is not an ISO date or time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Key:
    digest: str
    principal: Principal
    expires: datetime | None


class ApiKeys:
    """Static keys, stored as SHA-256 digests only."""

    def __init__(self, keys: Iterable[_Key]) -> None:
        self._keys = list(keys)

    def __len__(self) -> int:
        return len(self._keys)

    @classmethod
    def parse(cls, text: str, source: str) -> ApiKeys:
        keys = []
        for number, line in enumerate(text.replace(";", "\n").splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            where = f"{source} entry {number}"
            parts = line.split()
            if len(parts) not in (3, 4):
                raise SettingsError(
                    f"{where}: expected '<sha256-hex> <name> <scopes> [<expiry>]', "
                    f"got {len(parts)} fields"
                )
            digest, name, scopes = parts[:3]
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise SettingsError(
                    f"{where}: the first field must be the key's SHA-256 in lower-case hex "
                    "(never the key itself); `python -m graphql_api.auth new-key` prints it"
                )
            expires = _parse_expiry(parts[3], where) if len(parts) == 4 else None
            scope_set = frozenset(s for s in scopes.split(",") if s and s != "-")
            keys.append(_Key(digest, Principal(f"key:{name}", scope_set), expires))
        return cls(keys)

    def verify(self, token: str) -> Principal:
        digest = hash_key(token)
        match = None
        for key in self._keys:  # constant time per entry, whichever matches
            if hmac.compare_digest(key.digest, digest):
                match = key
        if match is None:
            raise InvalidToken("unknown API key")
        if match.expires is not None and datetime.now(UTC) >= match.expires:
            raise InvalidToken("this API key has expired")
        return match.principal


class JwtVerifier:
    """JWTs signed by an identity provider, checked for signature, issuer, audience, expiry."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        algorithms: list[str],
        jwks_url: str | None = None,
        public_key: str | None = None,
        leeway: float = 30.0,
    ) -> None:
        self.issuer, self.audience, self.algorithms, self.leeway = (
            issuer,
            audience,
            algorithms,
            leeway,
        )
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, timeout=5) if jwks_url else None
        self._public_key = public_key

    def _key(self, token: str) -> Any:
        if self._jwks is not None:
            try:
                return self._jwks.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientError as exc:
                raise InvalidToken(f"no signing key for this token ({exc})") from None
        return self._public_key

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from None
        raw = claims.get("scope", claims.get("scp", ""))
        scopes = raw.split() if isinstance(raw, str) else [str(s) for s in raw]
        return Principal(f"jwt:{claims['sub']}", frozenset(scopes))


class Authenticator:
    """API keys and JWTs behind one ``verify``; a JWT is recognised by its three parts."""

    def __init__(self, keys: ApiKeys | None = None, jwt_verifier: JwtVerifier | None = None):
        self.keys, self.jwt = keys, jwt_verifier

    @property
    def configured(self) -> bool:
        return bool(self.keys) or self.jwt is not None

    def is_jwt(self, token: str) -> bool:
        return self.jwt is not None and token.count(".") == 2

    def verify(self, token: str) -> Principal:
        if self.jwt is not None and self.is_jwt(token):
            return self.jwt.verify(token)
        if self.keys:
            return self.keys.verify(token)
        raise InvalidToken("this API accepts no tokens of this kind (none are configured)")


def build_authenticator(settings: Settings) -> Authenticator:
    """The authenticator ``settings`` describe; SettingsError names what is wrong."""
    keys = ApiKeys([])
    if settings.api_keys_file:
        path = Path(settings.api_keys_file)
        try:
            text = path.read_text()
        except OSError as exc:
            raise SettingsError(f"API_KEYS_FILE={path} cannot be read: {exc}") from None
        keys = ApiKeys([*keys._keys, *ApiKeys.parse(text, "API_KEYS_FILE")._keys])
    if settings.api_keys:
        keys = ApiKeys([*keys._keys, *ApiKeys.parse(settings.api_keys, "API_KEYS")._keys])
    verifier = None
    if settings.jwt_issuer or settings.jwt_jwks_url or settings.jwt_public_key_file:
        missing = [
            name
            for name, value in (
                ("API_JWT_ISSUER", settings.jwt_issuer),
                ("API_JWT_AUDIENCE", settings.jwt_audience),
            )
            if not value
        ]
        if not (settings.jwt_jwks_url or settings.jwt_public_key_file):
            missing.append("API_JWT_JWKS_URL or API_JWT_PUBLIC_KEY_FILE")
        if missing:
            raise SettingsError(f"JWT authentication is half configured: set {', '.join(missing)}")
        public_key = None
        if settings.jwt_public_key_file:
            try:
                public_key = Path(settings.jwt_public_key_file).read_text()
            except OSError as exc:
                raise SettingsError(f"API_JWT_PUBLIC_KEY_FILE cannot be read: {exc}") from None
        verifier = JwtVerifier(
            settings.jwt_issuer,
            settings.jwt_audience,
            list(settings.jwt_algorithms),
            jwks_url=settings.jwt_jwks_url or None,
            public_key=public_key,
        )
    return Authenticator(keys, verifier)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m graphql_api.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("new-key", help="make an API key and its API_KEYS_FILE line")
    make.add_argument("name", help="who uses the key, e.g. ui")
    make.add_argument("--scopes", default=PII_SCOPE, help=f"comma-separated (default {PII_SCOPE})")
    make.add_argument("--expires", default="", help="ISO date or time after which it is refused")
    args = parser.parse_args(argv)
    key = new_key()
    line = f"{hash_key(key)} {args.name} {args.scopes or '-'} {args.expires}".rstrip()
    print(f"key (give it to the client, store it nowhere else): {key}")
    print(f"line for API_KEYS_FILE or API_KEYS: {line}")


if __name__ == "__main__":
    main()
