"""Settings of the app, from the environment (and ``medallion-ui`` options)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ui.auth import AuthConfigError, load_users

DEFAULT_API_URL = "http://127.0.0.1:8000/graphql"


def _is_kedro_project(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        return "kedro" in tomllib.loads(pyproject.read_text()).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def find_project_path() -> Path:
    """``KEDRO_PROJECT_PATH``, else the current folder, else the folder this app lives in."""
    if configured := os.environ.get("KEDRO_PROJECT_PATH"):
        return Path(configured).resolve()
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[1]):
        if _is_kedro_project(candidate):
            return candidate
    return Path.cwd()


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a port number, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    api_url: str
    kedro_env: str | None
    project_path: Path
    currency: str
    #: Token the app sends to the API (``API_TOKEN``): an API key or a JWT.
    api_token: str | None = field(default=None, repr=False)
    #: Users allowed to log in, name -> scrypt hash (``UI_USERS_FILE`` / ``UI_USERS``).
    users: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls) -> Settings:
        try:
            users = load_users(os.environ)
        except AuthConfigError as exc:
            raise SystemExit(str(exc)) from None
        return cls(
            host=os.environ.get("UI_HOST") or "127.0.0.1",
            port=_port("UI_PORT", 7860),
            api_url=os.environ.get("API_URL") or DEFAULT_API_URL,
            kedro_env=os.environ.get("KEDRO_ENV") or None,
            project_path=find_project_path(),
            currency=os.environ.get("UI_CURRENCY", "€"),
            api_token=os.environ.get("API_TOKEN", "").strip() or None,
            users=users,
        )
