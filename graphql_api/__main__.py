"""``medallion-api`` / ``python -m graphql_api``: serve the API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from graphql_api.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
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
