"""Unit tests of the authenticators, the exposure rule and the rate-limit defaults."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from graphql_api.__main__ import check_exposure
from graphql_api.auth import (
    PII_SCOPE,
    ApiKeys,
    Forbidden,
    InvalidToken,
    Principal,
    Unauthenticated,
    build_authenticator,
    hash_key,
    require_scope,
)
from graphql_api.settings import DEFAULT_RATE_LIMIT, Settings, SettingsError


def test_api_keys_are_checked_by_hash_with_scopes_and_expiry() -> None:
    keys = ApiKeys.parse(
        f"# comment\n{hash_key('mk_a')} ui {PII_SCOPE}\n"
        f"{hash_key('mk_b')} report - \n{hash_key('mk_c')} old {PII_SCOPE} 2020-01-01",
        "test",
    )
    assert keys.verify("mk_a") == Principal("key:ui", frozenset({PII_SCOPE}))
    assert keys.verify("mk_b").scopes == frozenset()
    with pytest.raises(InvalidToken, match="expired"):
        keys.verify("mk_c")
    with pytest.raises(InvalidToken, match="unknown"):
        keys.verify("mk_a ")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("mk_plain-key ui customers:pii", "SHA-256"),
        (f"{hash_key('x')} ui", "expected"),
        (f"{hash_key('x')} ui {PII_SCOPE} next-tuesday", "not an ISO date"),
    ],
)
def test_bad_key_lines_say_what_is_expected(line: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ApiKeys.parse(line, "API_KEYS")


def test_the_new_key_command_prints_a_key_and_its_line() -> None:
    """`python -m graphql_api.auth new-key ui`, run as the README shows it."""
    result = subprocess.run(
        [sys.executable, "-m", "graphql_api.auth", "new-key", "ui"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    key = out[0].rsplit(" ", 1)[1]
    line = out[1].split(": ", 1)[1]
    assert key not in line
    assert ApiKeys.parse(line, "API_KEYS").verify(key).subject == "key:ui"


def test_jwt_from_a_public_key_file(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "idp.pem").write_bytes(pem)
    settings = Settings.from_env(
        {
            "API_JWT_ISSUER": "https://idp/",
            "API_JWT_AUDIENCE": "api",
            "API_JWT_PUBLIC_KEY_FILE": str(tmp_path / "idp.pem"),
        }
    )
    auth = build_authenticator(settings)
    now = int(time.time())
    claims = {"iss": "https://idp/", "aud": "api", "sub": "ana", "exp": now + 60}
    token = jwt.encode({**claims, "scp": [PII_SCOPE]}, private, algorithm="ES256")
    assert auth.verify(token) == Principal("jwt:ana", frozenset({PII_SCOPE}))
    for bad in (
        {**claims, "exp": now - 3600},
        {**claims, "iss": "https://evil/"},
        {k: v for k, v in claims.items() if k != "exp"},
    ):
        with pytest.raises(InvalidToken):
            auth.verify(jwt.encode(bad, private, algorithm="ES256"))
    # HMAC tokens are refused whatever they claim: only the configured algorithms pass.
    with pytest.raises(InvalidToken):
        auth.verify(jwt.encode(claims, "s" * 32, algorithm="HS256"))


def test_half_configured_jwt_names_what_is_missing() -> None:
    with pytest.raises(SettingsError, match="API_JWT_AUDIENCE, API_JWT_JWKS_URL"):
        build_authenticator(Settings.from_env({"API_JWT_ISSUER": "https://idp/"}))


def test_scope_rule() -> None:
    with pytest.raises(Unauthenticated, match="Authorization: Bearer"):
        require_scope(None, PII_SCOPE, "`Customer.name`")
    with pytest.raises(Forbidden, match=PII_SCOPE):
        require_scope(Principal("key:x"), PII_SCOPE, "`Customer.name`")
    reader = Principal("key:y", frozenset({PII_SCOPE}))
    assert require_scope(reader, PII_SCOPE, "`Customer.name`") is reader


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "api.example.com"])
def test_an_exposed_address_without_auth_is_refused(host: str) -> None:
    with pytest.raises(SettingsError, match="API_KEYS_FILE"):
        check_exposure(Settings.from_env({"API_HOST": host}))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_without_auth_runs(host: str) -> None:
    check_exposure(Settings.from_env({"API_HOST": host}))


def test_an_exposed_address_with_keys_runs() -> None:
    check_exposure(Settings.from_env({"API_HOST": "0.0.0.0", "API_KEYS": f"{hash_key('k')} a -"}))


def test_rate_limit_defaults() -> None:
    assert Settings.from_env({}).effective_rate_limit is None
    assert Settings.from_env({"API_HOST": "0.0.0.0"}).effective_rate_limit == DEFAULT_RATE_LIMIT
    exposed_off = Settings.from_env({"API_HOST": "0.0.0.0", "API_RATE_LIMIT": "off"})
    assert exposed_off.effective_rate_limit is None
    assert Settings.from_env({"API_RATE_LIMIT": "5/second"}).effective_rate_limit == "5/second"
