"""``medallion-api`` / ``python -m graphql_api``: serve the API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from graphql_api.auth import EXPOSED_WITHOUT_AUTH, build_authenticator
from graphql_api.exposure import check_startup
from graphql_api.settings import Settings, SettingsError


def check_exposure(settings: Settings) -> None:
    """Refuse a non-loopback address without authentication; check the auth settings.

    The app checks the same at startup and on every request (:mod:`graphql_api.exposure`);
    checked here too, the command stops before uvicorn starts.
    """
    if build_authenticator(settings).configured:
        return
    check_startup(settings.host, EXPOSED_WITHOUT_AUTH)
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
