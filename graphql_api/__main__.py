"""``medallion-api`` / ``python -m graphql_api``: serve the API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from graphql_api.auth import build_authenticator
from graphql_api.settings import Settings, SettingsError

EXPOSED_WITHOUT_AUTH = (
    "Refusing to serve customer data on {host}, an address other machines can reach, "
    "without authentication. Set API_KEYS_FILE (or API_KEYS) to hashed API keys "
    "(`python -m graphql_api.auth new-key NAME` makes one), or API_JWT_ISSUER, "
    "API_JWT_AUDIENCE and API_JWT_JWKS_URL for JWTs; or bind to 127.0.0.1 (API_HOST)."
)


def check_exposure(settings: Settings) -> None:
    """Refuse a non-loopback address without authentication; check the auth settings."""
    if build_authenticator(settings).configured:
        return
    if not settings.on_loopback:
        raise SettingsError(EXPOSED_WITHOUT_AUTH.format(host=settings.host))
    logging.getLogger("graphql_api").warning(
        "no authentication configured: every client on this machine reads personal data "
        "(development mode, loopback only)"
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        check_exposure(settings)
    except SettingsError as exc:
        raise SystemExit(f"medallion-api: {exc}") from None
    logging.getLogger("graphql_api").info("starting with %r", settings)
    print(f"GraphQL API on http://{settings.host}:{settings.port}/graphql", flush=True)
    uvicorn.run(
        "graphql_api.app:app",
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
