"""The app's side of access control: its token to the API, its login, its exposure rule."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port
from tests.ui.conftest import SERVICE_KEY, start_ui
from ui.auth import (
    AuthConfigError,
    check_exposure,
    hash_password,
    load_users,
    login_check,
    parse_users,
)
from ui.config import Settings
from ui.sources import SourceError
from ui.sources.graphql import GraphQLSource

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
USER, PASSWORD = "ana", "correct horse battery staple"


def test_passwords_are_stored_hashed_and_checked() -> None:
    stored = hash_password(PASSWORD)
    assert PASSWORD not in stored
    check = login_check(parse_users(f"{USER} {stored}", "UI_USERS"))
    assert check(USER, PASSWORD)
    assert not check(USER, PASSWORD + " ")
    assert not check("bob", PASSWORD)


def test_the_hash_command_prints_a_users_line() -> None:
    """`python -m ui.auth hash USER` asks for the password and prints a `<user> <hash>` line."""
    result = subprocess.run(
        [sys.executable, "-m", "ui.auth", "hash", USER],
        input=f"{PASSWORD}\n", capture_output=True, text=True, timeout=60,
        start_new_session=True,  # no terminal: the password is read from stdin
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith(f"{USER} ") and PASSWORD not in line
    check = login_check(parse_users(line, "UI_USERS"))
    assert check(USER, PASSWORD) and not check(USER, PASSWORD + "!")


def test_a_plain_password_in_the_users_is_refused() -> None:
    with pytest.raises(AuthConfigError, match="python -m ui.auth hash"):
        parse_users(f"{USER} {PASSWORD}", "UI_USERS")


def test_users_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "users").write_text(f"# app users\n{USER} {hash_password(PASSWORD)}\n")
    users = load_users({"UI_USERS_FILE": str(tmp_path / "users")})
    assert login_check(users)(USER, PASSWORD)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "ui.example.com"])
def test_an_exposed_app_without_users_is_refused(host: str) -> None:
    with pytest.raises(AuthConfigError, match="UI_USERS_FILE"):
        check_exposure(host, {})
    check_exposure(host, {USER: hash_password(PASSWORD)})
    check_exposure("127.0.0.1", {})


def test_the_app_refuses_to_start_exposed_without_users() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UI_")}
    env |= {"UI_HOST": "0.0.0.0", "UI_PORT": str(free_port()), "GRADIO_ANALYTICS_ENABLED": "False"}
    result = subprocess.run(
        [sys.executable, "-m", "ui"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "Refusing to serve the app on 0.0.0.0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_source_sends_its_token(api: str) -> None:
    anonymous, service = GraphQLSource(api), GraphQLSource(api, token=SERVICE_KEY)
    wrong = GraphQLSource(api, token="mk_wrong")
    try:
        assert anonymous.kpis().total_orders == service.kpis().total_orders  # public
        with pytest.raises(SourceError, match="API_TOKEN"):
            anonymous.customer_by_id(1)
        with pytest.raises(SourceError, match="API_TOKEN"):
            wrong.kpis()
        customer = service.customer_by_id(1)
        assert customer is not None and "@" in customer.email
        assert service.top_customers(3, segment="Champions")["segment"].to_list() == [
            "Champions"
        ] * len(service.top_customers(3, segment="Champions"))
    finally:
        for source in (anonymous, service, wrong):
            source.close()


@pytest.fixture(scope="module")
def guarded_app(lake_project: Path, api: str) -> Iterator[str]:
    users = f"{USER} {hash_password(PASSWORD)}"
    server = start_ui(
        lake_project, api, lake_project / "ui-login.log", API_TOKEN=SERVICE_KEY, UI_USERS=users
    )
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_login_in_chromium(guarded_app: str, project_root: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = project_root / "test-artifacts" / "ui"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(guarded_app)
            expect(page.get_by_label("username")).to_be_visible(timeout=30_000)
            assert page.locator(".kpi-card").count() == 0  # nothing before the login
            page.get_by_label("username").fill(USER)
            page.get_by_label("password").fill("wrong password")
            page.get_by_role("button", name="Login").click()
            expect(page.get_by_text("Incorrect Credentials")).to_be_visible(timeout=15_000)
            assert page.locator(".kpi-card").count() == 0
            page.get_by_label("username").fill(USER)
            page.get_by_label("password").fill(PASSWORD)
            page.get_by_role("button", name="Login").click()
            expect(page.locator(".kpi-card").first).to_be_visible(timeout=30_000)
            page.screenshot(path=shots / "login-then-kpis.png", full_page=True)
        finally:
            browser.close()


def test_the_served_app_without_users_answers_this_machine_only(broken_app_url: str) -> None:
    """A real Gradio server without users: a direct local client is served; a client relayed
    by a proxy on this host, or a page naming another host (DNS rebinding), is refused."""
    with httpx.Client(base_url=broken_app_url, timeout=30) as client:
        assert client.get("/").status_code == 200
        proxied = client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 403 and "UI_USERS_FILE" in proxied.text
        assert client.get("/", headers={"Host": "rebind.attacker.example"}).status_code == 400


@pytest.mark.timeout(60)  # an app that did launch would serve until stopped
def test_launching_the_app_exposed_without_users_is_refused_whoever_launches_it() -> None:
    from ui.app import launch

    settings = Settings(
        host="0.0.0.0",  # noqa: S104 - what launch must refuse
        port=free_port(),
        api_url="http://127.0.0.1:1/graphql",
        kedro_env=None,
        project_path=Path.cwd(),
        currency="€",
    )
    with pytest.raises(AuthConfigError, match="Refusing to serve the app on 0.0.0.0"):
        launch(settings)
