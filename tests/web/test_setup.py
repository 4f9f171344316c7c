"""Setup mode: registering the GitHub App from its manifest, then serving without a restart."""

from __future__ import annotations

import io
import json
import logging
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from sqlalchemy import select

from pydantic import SecretStr

from bot.config import Settings
from bot.telemetry.logs import TextFormatter, redact
from bot.store.models import Delivery
from tests.fakes import github as fake_github
from tests.fakes.agent import ScriptedAgent
from tests.web.conftest import present_setup_token, registration_form, setup_token
from tests.webhook_helpers import WEBHOOK_PATH, delivery_headers, load_payload, post_delivery
from webhooks.setup import STATE_COOKIE, PendingStates
from webhooks.setup_token import ACCESS_COOKIE

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
        token_link = await http.get("/", params={"token": setup_token(app)})
        assert "secure" in token_link.headers["set-cookie"].lower()
        http.cookies.set(ACCESS_COOKIE, token_link.cookies[ACCESS_COOKIE])  # as a browser would over https
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
        await present_setup_token(http, app)
        action, _, state = await start_registration(http)
        org_action, _, org_state = await start_registration(http, "/?org=eng")
    assert action == f"https://ghe.example.com/settings/apps/new?state={state}"
    assert org_action == f"https://ghe.example.com/organizations/eng/settings/apps/new?state={org_state}"


# -- setup mode refuses webhooks --------------------------------------------------------------------
async def test_setup_mode_refuses_webhooks(setup_app, browser_client):
    response = await post_delivery(browser_client, "ping", load_payload("ping"))
    assert response.status_code == 503
    assert "not registered" in response.json()["error"]
    async with setup_app.state.db() as db:
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
    assert setup_app.state.modes.ready and setup_app.state.apps is not None
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
        browser_client.cookies.delete(STATE_COOKIE)
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


# -- the one-time setup token -------------------------------------------------------------------------
async def test_setup_pages_refuse_requests_without_the_token(setup_app, stranger, fake, env_path):
    wrong = "0" * 48
    for path in ("/", "/?org=octo-org", f"/?token={wrong}", "/?token=", "/setup/callback?code=abc&state=def"):
        refused = await stranger.get(path)
        assert refused.status_code == 403, path
        assert "server printed in its log" in refused.text and "/?token=" in refused.text, path
        assert 'id="register"' not in refused.text and refused.headers["cache-control"] == "no-store"
        assert "set-cookie" not in refused.headers, path
    stranger.cookies.set(ACCESS_COOKIE, "0" * 64)
    assert (await stranger.get("/")).status_code == 403, "a made-up proof"
    assert fake.calls_to("POST", "/app-manifests/abc/conversions") == []
    assert not env_path.exists() and not setup_app.state.modes.ready


async def test_the_logged_link_lets_the_operator_in(setup_app, stranger):
    token = setup_token(setup_app)
    opened = await stranger.get("/", params={"org": "octo-org", "token": token})
    assert opened.status_code == 303 and opened.headers["location"] == "/?org=octo-org", "the token leaves the URL"
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"{ACCESS_COOKIE}=") and token not in cookie
    assert all(part in cookie.lower() for part in ("httponly", "samesite=lax", "path=/;"))
    action, _, _ = await start_registration(stranger, opened.headers["location"])
    assert action.startswith("https://github.com/organizations/octo-org/settings/apps/new?state=")


async def test_a_callback_in_a_browser_without_the_token_is_refused(setup_app, browser_client, stranger, fake,
                                                                    env_path):
    _, manifest, state = await start_registration(browser_client)
    code = fake.manifest_code(manifest)
    stranger.cookies.set(STATE_COOKIE, state, path="/setup")  # even with the state's cookie copied over
    response = await stranger.get("/setup/callback", params={"code": code, "state": state})
    assert response.status_code == 403 and "server printed in its log" in response.text
    assert code in fake.manifest_codes, "GitHub was not asked"
    assert not env_path.exists() and not setup_app.state.modes.ready
    done = await browser_client.get("/setup/callback", params={"code": code, "state": state})
    assert done.status_code == 303, "the refusal did not use up the operator's state"


def test_a_state_is_only_good_with_the_proof_it_was_issued_to():
    states = PendingStates()
    state = states.issue("proof-a")
    assert not states.consume(state, state, "proof-b")
    other = states.issue("proof-a")
    assert states.consume(other, other, "proof-a") and not states.consume(other, other, "proof-a")


async def test_the_token_stops_working_once_the_app_is_registered(setup_app, browser_client, stranger, fake):
    token = setup_token(setup_app)
    _, manifest, state = await start_registration(browser_client)
    done = await browser_client.get("/setup/callback", params={"code": fake.manifest_code(manifest), "state": state})
    assert done.status_code == 303 and ACCESS_COOKIE not in browser_client.cookies
    assert setup_app.state.modes.setup_token.value is None
    home = await stranger.get("/", params={"token": token})
    assert home.status_code == 200 and "is running" in home.text and "set-cookie" not in home.headers
    again = await stranger.get("/setup/callback", params={"code": "abc", "state": "def"})
    assert again.status_code == 409


@pytest.fixture
def captured_log():
    """What the server's log shows, through the project's own (redacting) formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


async def test_the_token_is_logged_once_as_a_link_to_open(setup_settings, fake, captured_log):
    from webhooks.app import create_app

    settings = setup_settings.model_copy(update={"public_url": "https://bot.example.com"})
    app = create_app(settings, github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://bot.example.com") as http:
        token = setup_token(app)
        assert f"open https://bot.example.com/?token={token}\n" in captured_log.getvalue()
        logging.getLogger("an.access.log").warning('"GET /?token=%s HTTP/1.1" 303', token)  # as with --access-log
        assert (await http.get("/", params={"token": token})).status_code == 303
    assert captured_log.getvalue().count(token) == 1, "shown once, and in no later line"
    assert '"GET /?token=[REDACTED] HTTP/1.1" 303' in captured_log.getvalue()
    assert redact(token) != token


async def test_setup_token_setting_replaces_the_logged_one(setup_settings, fake, captured_log):
    from webhooks.app import create_app

    chosen = "operator-chosen-setup-token-7c1e"
    app = create_app(setup_settings.model_copy(update={"setup_token": SecretStr(chosen)}),
                     github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as http:
        assert "/?token=<SETUP_TOKEN>" in captured_log.getvalue() and chosen not in captured_log.getvalue()
        assert (await http.get("/", params={"token": "0" * 48})).status_code == 403
        assert (await http.get("/", params={"token": chosen})).status_code == 303
        assert (await http.get("/")).status_code == 200
    with pytest.raises(ValueError, match="setup_token"):
        Settings(_env_file=None, setup_token="too-short")


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
