"""Setup mode: registering the GitHub App from its manifest, then serving without a restart."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from sqlalchemy import select

from bot.config import Settings
from bot.sessions.models import Delivery
from tests.fakes import github as fake_github
from tests.fakes.agent import ScriptedAgent
from tests.web.conftest import Forms, registration_form
from tests.webhook_helpers import WEBHOOK_PATH, delivery_headers, load_payload, post_delivery
from webhooks.setup import STATE_COOKIE, PendingStates

APP_YML = yaml.safe_load((Path(__file__).resolve().parents[2] / "app.yml").read_text())
OTHER_LINES = ("# my settings\n"
               "DATABASE_URL=sqlite:///./keep.sqlite3\n"
               "APP_ID=1\n"
               "export ANTHROPIC_API_KEY='sk-ant-keep-me'\n"
               'PRIVATE_KEY="-----BEGIN OLD KEY-----\n'
               "old\n"
               '-----END OLD KEY-----"\n'
               "\n"
               "LOG_LEVEL=debug  # trailing comment kept\n")
KEPT = ["# my settings\n", "DATABASE_URL=sqlite:///./keep.sqlite3\n", "export ANTHROPIC_API_KEY='sk-ant-keep-me'\n",
        "\n", "LOG_LEVEL=debug  # trailing comment kept\n"]


async def start_registration(http: httpx.AsyncClient, path: str = "/") -> tuple[str, dict, str]:
    """GET the setup page as a browser would: the form's action, its manifest and the state."""
    page = await http.get(path)
    assert page.status_code == 200, page.text
    action, manifest = registration_form(page.text)
    state = parse_qs(urlsplit(action).query)["state"][0]
    assert http.cookies.get(STATE_COOKIE) == state
    return action, manifest, state


async def post_ping(http: httpx.AsyncClient, secret: str) -> httpx.Response:
    body = json.dumps(load_payload("ping")).encode()
    return await http.post(WEBHOOK_PATH, content=body, headers=delivery_headers("ping", body, secret=secret))


# -- the page ------------------------------------------------------------------------------------
async def test_setup_page_offers_the_manifest_form(browser_client):
    action, manifest, state = await start_registration(browser_client)
    assert action == f"https://github.com/settings/apps/new?state={state}"
    assert len(state) >= 32
    assert manifest["default_events"] == APP_YML["default_events"]
    assert manifest["default_permissions"] == APP_YML["default_permissions"]
    for key in ("name", "url", "description", "public"):
        assert manifest[key] == APP_YML[key], key
    assert manifest["hook_attributes"] == {"url": "http://bot.test/api/github/webhooks", "active": True}
    assert manifest["redirect_url"] == "http://bot.test/setup/callback"
    assert manifest["callback_urls"] == ["http://bot.test/auth/callback"]


async def test_setup_page_explains_the_bot_and_sets_a_strict_policy(browser_client):
    page = await browser_client.get("/")
    assert "Register the GitHub App" in page.text
    assert "implement-component" in page.text and "design document" in page.text
    assert "form-action 'self' https://github.com" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/setup" in cookie


async def test_each_visit_gets_a_fresh_state(browser_client):
    first = (await start_registration(browser_client))[2]
    second = (await start_registration(browser_client))[2]
    assert first != second


async def test_organization_and_name(browser_client):
    action, manifest, state = await start_registration(browser_client, "/?org=octo-org&name=Our+bot")
    assert action == f"https://github.com/organizations/octo-org/settings/apps/new?state={state}"
    assert manifest["name"] == "Our bot"
    refused = await browser_client.get("/?org=evil/../x")
    assert refused.status_code == 400 and "organization" in refused.text


async def test_public_url_and_webhook_proxy(setup_settings, fake):
    from webhooks.app import create_app

    settings = setup_settings.model_copy(update={"public_url": "https://bot.example.com",
                                                 "webhook_proxy_url": "https://smee.io/abc"})
    app = create_app(settings, github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.5:3000") as http:
        page = await http.get("/")
    _, manifest = registration_form(page.text)
    assert manifest["hook_attributes"]["url"] == "https://smee.io/abc"
    assert manifest["redirect_url"] == "https://bot.example.com/setup/callback"
    assert manifest["callback_urls"] == ["https://bot.example.com/auth/callback"]
    assert "secure" in page.headers["set-cookie"].lower()


async def test_github_enterprise_server(setup_settings, fake):
    from webhooks.app import create_app

    settings = setup_settings.model_copy(update={"github_api_url": "https://ghe.example.com/api/v3"})
    app = create_app(settings, github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as http:
        action, _, state = await start_registration(http)
        org_action, _, org_state = await start_registration(http, "/?org=eng")
    assert action == f"https://ghe.example.com/settings/apps/new?state={state}"
    assert org_action == f"https://ghe.example.com/organizations/eng/settings/apps/new?state={org_state}"


# -- setup mode refuses webhooks --------------------------------------------------------------------
async def test_setup_mode_refuses_webhooks(setup_app, browser_client):
    response = await post_delivery(browser_client, "ping", load_payload("ping"))
    assert response.status_code == 503
    assert "not registered" in response.json()["error"]
    async with setup_app.state.context.db() as db:
        assert list(await db.scalars(select(Delivery))) == []
    health = await browser_client.get("/healthz")
    assert health.status_code == 200


# -- the callback ------------------------------------------------------------------------------------
async def test_registration_writes_env_and_switches_to_normal_mode(setup_app, browser_client, fake, env_path):
    env_path.write_text(OTHER_LINES)
    _, manifest, state = await start_registration(browser_client)
    code = fake.manifest_code(manifest)

    response = await browser_client.get("/setup/callback", params={"code": code, "state": state})

    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"https://github.com/apps/{fake.app_slug}/installations/new"
    assert STATE_COOKIE not in browser_client.cookies
    [conversion] = fake.calls_to("POST", f"/app-manifests/{code}/conversions")
    assert "authorization" not in conversion.headers

    assert stat.S_IMODE(env_path.stat().st_mode) == 0o600
    lines = env_path.read_text().splitlines(keepends=True)
    assert [line for line in lines if line in KEPT] == KEPT, "other lines are kept verbatim and in order"
    assert "OLD KEY" not in env_path.read_text() and "APP_ID=1\n" not in lines
    written = Settings(_env_file=env_path)
    assert written.app_id == fake.app_id
    assert written.private_key.get_secret_value().strip() == fake.private_key_pem.strip()
    assert written.webhook_secret.get_secret_value() == fake_github.WEBHOOK_SECRET
    assert written.github_client_id == fake.gh_app.client_id
    assert written.github_client_secret.get_secret_value().startswith("fake")
    assert written.log_level == "DEBUG" and written.database_url.endswith("keep.sqlite3")
    assert sum(line.startswith("PRIVATE_KEY=") for line in lines) == 1

    # The same server now accepts signed webhooks, with the new secret only.
    assert setup_app.state.modes.ready and setup_app.state.context.github is not None
    accepted = await post_ping(browser_client, fake_github.WEBHOOK_SECRET)
    assert accepted.status_code == 202, accepted.text
    assert (await post_ping(browser_client, "some-other-secret")).status_code == 401
    await setup_app.state.intake.drain()
    assert (await browser_client.get("/")).text.count("Register the GitHub App") == 0


async def test_replayed_state_is_refused_and_nothing_is_written(setup_app, browser_client, fake, env_path):
    _, manifest, state = await start_registration(browser_client)
    expired = await browser_client.get("/setup/callback", params={"code": "0123abcd", "state": state})
    assert expired.status_code == 400 and "expired" in expired.text  # GitHub answered 404: unknown code
    code = fake.manifest_code(manifest)
    replayed = await browser_client.get("/setup/callback", params={"code": code, "state": state})
    assert replayed.status_code == 400
    assert "not valid" in replayed.text and 'href="/"' in replayed.text
    assert code in fake.manifest_codes, "GitHub was not even asked"
    assert not env_path.exists()
    assert not setup_app.state.modes.ready


@pytest.mark.parametrize("case", ["wrong state", "no cookie", "no state", "expired state"])
async def test_forged_callbacks_are_refused(setup_app, browser_client, fake, env_path, case):
    if case == "expired state":
        setup_app.state.setup_states = PendingStates(ttl=-1)
    _, manifest, state = await start_registration(browser_client)
    code = fake.manifest_code(manifest)
    params = {"code": code, "state": "x" * 43 if case == "wrong state" else state}
    if case == "no state":
        del params["state"]
    if case == "no cookie":
        browser_client.cookies.clear()  # the callback opened in another browser
    response = await browser_client.get("/setup/callback", params=params)
    assert response.status_code == 400
    assert "not valid" in response.text and "Start the registration again" in response.text
    assert code in fake.manifest_codes
    assert not env_path.exists()
    assert (await post_ping(browser_client, fake_github.WEBHOOK_SECRET)).status_code == 503


async def test_used_code_is_refused_and_nothing_is_written(setup_app, browser_client, fake, env_path):
    env_path.write_text(OTHER_LINES)
    _, manifest, state = await start_registration(browser_client)
    code = fake.manifest_code(manifest)
    fake.manifest_codes.pop(code)  # used already, or older than an hour
    response = await browser_client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 400
    assert "GitHub did not accept this registration" in response.text and 'href="/"' in response.text
    assert env_path.read_text() == OTHER_LINES
    assert not setup_app.state.modes.ready


async def test_github_unavailable_writes_nothing(setup_app, browser_client, fake, env_path):
    _, manifest, state = await start_registration(browser_client)
    code = fake.manifest_code(manifest)
    fake.inject_error("POST", f"/app-manifests/{code}/conversions", 502, "Bad Gateway")
    response = await browser_client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 502 and "Nothing was saved" in response.text
    assert len(fake.calls_to("POST", f"/app-manifests/{code}/conversions")) == 1, "a single-use code is never retried"
    assert not env_path.exists()


async def test_unwritable_env_file_says_what_to_do(setup_app, browser_client, fake, env_path):
    env_path.mkdir()  # not writable as a file, even by root
    _, manifest, state = await start_registration(browser_client)
    code = fake.manifest_code(manifest)
    response = await browser_client.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 500
    assert "could not be saved" in response.text and f"apps/{fake.app_slug}" in response.text
    assert not setup_app.state.modes.ready


async def test_callback_once_registered_changes_nothing(app, client, env_path):
    response = await client.get("/setup/callback", params={"code": "abc", "state": "def"})
    assert response.status_code == 409
    home = await client.get("/")
    assert home.status_code == 200 and "is running" in home.text and "Register the GitHub App" not in home.text


async def test_pages_never_show_secrets(setup_app, browser_client, fake, env_path):
    _, manifest, state = await start_registration(browser_client)
    code = fake.manifest_code(manifest)
    await browser_client.get("/setup/callback", params={"code": code, "state": state})
    for path in ("/", "/setup/callback?code=x&state=y", "/sessions", "/healthz"):
        text = (await browser_client.get(path)).text
        assert fake_github.WEBHOOK_SECRET not in text and "PRIVATE KEY" not in text, path


# -- the command ---------------------------------------------------------------------------------------
def test_serve_without_app_settings_starts_in_setup_mode(tmp_path, monkeypatch):
    import uvicorn

    from bot.cli import main

    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    assert main(["serve", "--port", "3999"]) == 0
    [app] = served
    assert not app.state.settings.github_app_configured


def test_serve_reads_the_env_file_registration_writes(tmp_path, monkeypatch, private_key_pem):
    import uvicorn

    from bot.cli import main

    env = tmp_path / "secrets.env"
    one_line_pem = private_key_pem.strip().replace("\n", "\\n")
    env.write_text(f'APP_ID=7\nPRIVATE_KEY="{one_line_pem}"\nWEBHOOK_SECRET=serve-test-webhook-secret\n')
    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENV_FILE", str(env))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    assert main(["serve"]) == 0
    assert served[0].state.settings.app_id == 7


def test_invalid_app_settings_are_still_a_one_line_error(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_ID", "not-a-number")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "APP_ID" in err and "not-a-number" not in err
