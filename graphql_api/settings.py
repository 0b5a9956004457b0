"""Settings of the API process, read once from the environment."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit


class SettingsError(ValueError):
    """An environment variable holds a value the API cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {value}")
    return value


DEFAULT_RATE_LIMIT = "300/minute"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable only from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redact_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``****``, safe for logs and reprs."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults of the local embedded setup.

    ``MONGO_URI``, ``MONGO_DB``, ``API_HOST``, ``API_PORT`` are the shared names;
    the ``API_*`` limits below are specific to this service.
    """

    mongo_uri: str = field(default="mongodb://127.0.0.1:27017", repr=False)
    mongo_db: str = "medallion"
    host: str = "127.0.0.1"
    port: int = 8000
    #: Browser origins allowed by CORS (``API_CORS_ORIGINS``, comma-separated, ``*`` for any).
    cors_origins: tuple[str, ...] = ()
    #: Largest accepted request body or query string, in bytes.
    max_body_bytes: int = 65_536
    max_depth: int = 8
    max_aliases: int = 20
    max_tokens: int = 2_000
    #: How long ``kpis`` and ``segments`` are cached in the process (0 disables).
    cache_ttl_seconds: float = 5.0
    #: Timeout of every MongoDB operation (``timeoutMS``: server selection, the wait for a
    #: pooled connection, the round trip) and of connecting.
    mongo_timeout_ms: int = 2_000
    #: Most connections to MongoDB the process opens.
    mongo_pool_size: int = 100
    #: Budget of all MongoDB work of one GraphQL request; past it, its reads fail fast.
    request_timeout_seconds: float = 5.0
    #: How long the export manifest (which run is live) is cached; a new export is served
    #: at most this long after it lands.
    manifest_ttl_seconds: float = 0.5
    #: Budget of the MongoDB ping behind ``GET /health``.
    health_timeout_seconds: float = 1.5
    #: Hashed API keys (see :mod:`graphql_api.auth`): a file, and/or entries separated by ``;``.
    api_keys_file: str = ""
    api_keys: str = field(default="", repr=False)
    #: JWT verification: issuer, audience, and a JWKS URL or a PEM public key file.
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_jwks_url: str = ""
    jwt_public_key_file: str = ""
    jwt_algorithms: tuple[str, ...] = ("RS256", "ES256")
    #: Requests per client, in the ``limits`` notation (``120/minute``); None: off on a
    #: loopback address, :data:`DEFAULT_RATE_LIMIT` elsewhere; ``off`` disables it.
    rate_limit: str | None = None

    @property
    def on_loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def auth_configured(self) -> bool:
        return bool(self.api_keys_file or self.api_keys or self.jwt_issuer or self.jwt_jwks_url)

    @property
    def effective_rate_limit(self) -> str | None:
        if self.rate_limit is None:
            return None if self.on_loopback else DEFAULT_RATE_LIMIT
        return None if self.rate_limit.lower() in {"off", "0", "none"} else self.rate_limit

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__dataclass_fields__
            if name != "mongo_uri"
        )
        return f"Settings(mongo_uri={redact_uri(self.mongo_uri)!r}, {fields})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        origins = tuple(o.strip() for o in env.get("API_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            mongo_uri=env.get("MONGO_URI", "").strip() or defaults.mongo_uri,
            mongo_db=env.get("MONGO_DB", "").strip() or defaults.mongo_db,
            host=env.get("API_HOST", "").strip() or defaults.host,
            port=_int(env, "API_PORT", defaults.port, minimum=1),
            cors_origins=origins,
            max_body_bytes=_int(env, "API_MAX_BODY_BYTES", defaults.max_body_bytes, 1_024),
            max_depth=_int(env, "API_MAX_DEPTH", defaults.max_depth, 1),
            max_aliases=_int(env, "API_MAX_ALIASES", defaults.max_aliases, 0),
            max_tokens=_int(env, "API_MAX_TOKENS", defaults.max_tokens, 100),
            cache_ttl_seconds=_float(env, "API_CACHE_TTL", defaults.cache_ttl_seconds),
            mongo_timeout_ms=_int(env, "API_MONGO_TIMEOUT_MS", defaults.mongo_timeout_ms, 100),
            mongo_pool_size=_int(env, "API_MONGO_POOL_SIZE", defaults.mongo_pool_size, 1),
            request_timeout_seconds=_float(
                env, "API_REQUEST_TIMEOUT", defaults.request_timeout_seconds
            ),
            manifest_ttl_seconds=_float(env, "API_MANIFEST_TTL", defaults.manifest_ttl_seconds),
            health_timeout_seconds=_float(
                env, "API_HEALTH_TIMEOUT", defaults.health_timeout_seconds
            ),
            api_keys_file=env.get("API_KEYS_FILE", "").strip(),
            api_keys=env.get("API_KEYS", "").strip(),
            jwt_issuer=env.get("API_JWT_ISSUER", "").strip(),
            jwt_audience=env.get("API_JWT_AUDIENCE", "").strip(),
            jwt_jwks_url=env.get("API_JWT_JWKS_URL", "").strip(),
            jwt_public_key_file=env.get("API_JWT_PUBLIC_KEY_FILE", "").strip(),
            jwt_algorithms=tuple(
                a.strip() for a in env.get("API_JWT_ALGORITHMS", "").split(",") if a.strip()
            )
            or defaults.jwt_algorithms,
            rate_limit=env.get("API_RATE_LIMIT", "").strip() or None,
        )
