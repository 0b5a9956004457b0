from __future__ import annotations

import pytest

from graphql_api.settings import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.mongo_uri, settings.mongo_db) == ("mongodb://127.0.0.1:27017", "medallion")
    assert (settings.host, settings.port, settings.cors_origins) == ("127.0.0.1", 8000, ())


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {"MONGO_DB": "gold", "API_PORT": "9001", "API_CORS_ORIGINS": "http://a, http://b"}
    )
    assert (settings.mongo_db, settings.port) == ("gold", 9001)
    assert settings.cors_origins == ("http://a", "http://b")


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(SettingsError, match="API_PORT must be an integer"):
        Settings.from_env({"API_PORT": "eighty"})
    with pytest.raises(SettingsError, match="API_MAX_DEPTH must be at least 1"):
        Settings.from_env({"API_MAX_DEPTH": "0"})


def test_repr_hides_the_password() -> None:
    settings = Settings.from_env({"MONGO_URI": "mongodb://admin:s3cret@db:27017/?authSource=admin"})
    assert "s3cret" not in repr(settings)
    assert "admin:****@db:27017" in repr(settings)
