"""``medallion-ui`` / ``python -m ui``: serve the app.

Settings come from the environment (``UI_HOST``, ``UI_PORT``, ``API_URL``, ``API_TOKEN``,
``UI_USERS_FILE``/``UI_USERS``, ``KEDRO_ENV``, ``KEDRO_PROJECT_PATH``); the options below
override them. On an address other than loopback the app needs users (see ``ui.auth``).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from ui.auth import AuthConfigError, check_exposure
from ui.config import Settings


def parse_args(argv: list[str] | None = None) -> Settings:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="medallion-ui", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.host, help="UI_HOST (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=settings.port, help="UI_PORT (default 7860)")
    parser.add_argument("--api-url", default=settings.api_url, help="API_URL of the GraphQL API")
    parser.add_argument(
        "--env",
        default=settings.kedro_env,
        help="Kedro environment of the lake, e.g. minio (KEDRO_ENV)",
    )
    parser.add_argument(
        "--project-path",
        type=Path,
        default=settings.project_path,
        help="the Kedro project whose catalog reads the lake (KEDRO_PROJECT_PATH)",
    )
    args = parser.parse_args(argv)
    return replace(
        settings,
        host=args.host,
        port=args.port,
        api_url=args.api_url,
        kedro_env=args.env,
        project_path=args.project_path.resolve(),
    )


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    settings = parse_args(argv)
    try:
        check_exposure(settings.host, settings.users)
    except AuthConfigError as exc:
        raise SystemExit(f"medallion-ui: {exc}") from None
    from ui.app import launch  # after the environment is set: gradio reads it on import

    launch(settings)


if __name__ == "__main__":
    main()
