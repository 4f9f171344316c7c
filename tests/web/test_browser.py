"""The pages in a real headless Chromium, served by uvicorn on a loopback port.

Screenshots go to test-artifacts/ (kept by CI as artifacts, ignored by git).
"""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, STACK_IMPL, BotHarness, make_fake, settings_for
from tests.web.conftest import CHROMIUM, live_server, setup_token

pytestmark = pytest.mark.browser

TOKEN = "browser-dashboard-token-31d7"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@pytest.fixture
async def chromium():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def dashboard_settings(settings):
    """Settings of a bot that has run one real session (label → commit → draft PR → waiting for checks)."""
    fake = make_fake()
    configured = settings_for(fake, settings).model_copy(update={"dashboard_token": SecretStr(TOKEN)})
    async with BotHarness(configured, fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as harness:
        await harness.label_stack_issue()
        session = await harness.session()
    return configured, fake, session


async def test_dashboard_in_chromium(dashboard_settings, chromium, artifacts):
    from webhooks.app import create_app

    settings, fake, session = dashboard_settings
    app = create_app(settings, github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    with live_server(app) as base:
        anonymous = await chromium.new_page()
        refused = await anonymous.goto(f"{base}/sessions")
        assert refused.status == 401
        assert "Sign-in required" in await anonymous.inner_text("h1")
        assert (await anonymous.goto(f"{base}/sessions/{session.id}")).status == 401
        await anonymous.close()

        page = await chromium.new_page(viewport={"width": 1280, "height": 800})
        listed = await page.goto(f"{base}/sessions?token={TOKEN}")
        assert listed.status == 200 and page.url == f"{base}/sessions", "the token is dropped from the URL"
        row = page.locator("#sessions tbody tr").first
        cells = await row.locator("td").all_inner_texts()
        assert cells[:5] == [str(session.id), REPO, "#1", "Stack", "waiting for checks"]
        assert cells[5].startswith("RunTests")
        await page.screenshot(path=artifacts / "dashboard-sessions.png", full_page=True)

        await page.click(f"#sessions a[href='/sessions/{session.id}']")
        await page.wait_for_url(f"{base}/sessions/{session.id}")
        steps = await page.locator("#timeline tbody tr td:nth-child(2)").all_inner_texts()
        assert steps == ["Initialize", "GenerateImplementation", "RunTests"], "one row per step attempt"
        outcomes = await page.locator("#timeline tbody tr td:nth-child(3)").all_inner_texts()
        assert outcomes == ["done", "done", "waiting for the checks"]
        assert await page.locator("#timeline tbody tr.m-waiting").count() == 1
        commit = page.locator("#commits a").first
        assert await commit.get_attribute("href") == f"https://github.com/{REPO}/commit/{session.head_sha}"
        assert await page.locator("#usage tbody tr").count() == 3
        await page.screenshot(path=artifacts / "dashboard-session.png", full_page=True)
    assert (artifacts / "dashboard-session.png").stat().st_size > 10_000


async def test_setup_page_in_chromium(setup_settings, fake, chromium, artifacts):
    from webhooks.app import create_app

    app = create_app(setup_settings, github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    with live_server(app) as base:
        page = await chromium.new_page(viewport={"width": 1100, "height": 900})
        refused = await page.goto(f"{base}/")
        assert refused.status == 403 and "server printed in its log" in await page.inner_text("main")
        await page.goto(f"{base}/?token={setup_token(app)}")
        assert page.url == f"{base}/", "the token is dropped from the URL"
        button = page.get_by_role("button", name="Register the GitHub App")
        assert await button.is_visible()
        action = await page.locator("#register").get_attribute("action")
        assert action.startswith("https://github.com/settings/apps/new?state=")
        manifest = json.loads(await page.locator("#register input[name=manifest]").get_attribute("value"))
        assert manifest["hook_attributes"]["url"] == f"{base}/api/github/webhooks"

        await page.fill("input[name=org]", "octo-org")
        await page.click("text=Update")
        await page.wait_for_url(f"{base}/?org=octo-org&name=")
        action = await page.locator("#register").get_attribute("action")
        assert action.startswith("https://github.com/organizations/octo-org/settings/apps/new?state=")
        cookies = {c["name"]: c for c in await page.context.cookies()}
        assert cookies["component_bot_setup"]["value"] == action.split("state=")[1]
        assert cookies["component_bot_setup"]["httpOnly"]
        access = cookies["component_bot_setup_access"]
        assert access["httpOnly"] and access["sameSite"] == "Lax"
        await page.screenshot(path=artifacts / "setup.png", full_page=True)


async def test_registration_end_to_end_in_chromium(setup_settings, fake, env_path, chromium, artifacts):
    """Click "Register", let (a stand-in for) github.com create the App and send the browser back, then
    the same server takes webhooks signed with the new secret."""
    from urllib.parse import parse_qs, urlsplit

    from tests.fakes.github import WEBHOOK_SECRET
    from tests.webhook_helpers import WEBHOOK_PATH, delivery_headers, load_payload
    from webhooks.app import create_app

    github_pages: list[str] = []

    async def github_com(route, request):
        """github.com's side of the manifest flow: create the App, redirect back with a code."""
        github_pages.append(request.url)
        if request.method == "POST" and urlsplit(request.url).path == "/settings/apps/new":
            manifest = json.loads(parse_qs(request.post_data)["manifest"][0])
            state = parse_qs(urlsplit(request.url).query)["state"][0]
            back = f"{manifest['redirect_url']}?code={fake.manifest_code(manifest)}&state={state}"
            await route.fulfill(status=302, headers={"Location": back})
        else:
            await route.fulfill(status=200, content_type="text/html", body="<h1>Install component-bot</h1>")

    app = create_app(setup_settings, github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    with live_server(app) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            body = json.dumps(load_payload("ping")).encode()
            headers = delivery_headers("ping", body, secret=WEBHOOK_SECRET)
            assert (await http.post(WEBHOOK_PATH, content=body, headers=headers)).status_code == 503

            page = await chromium.new_page()
            await page.route("https://github.com/**", github_com)
            await page.goto(f"{base}/?token={setup_token(app)}")
            await page.click("text=Register the GitHub App")
            await page.wait_for_url(f"https://github.com/apps/{fake.app_slug}/installations/new")
            assert await page.inner_text("h1") == "Install component-bot"
            await page.screenshot(path=artifacts / "registered.png")

            assert env_path.exists() and "APP_ID=" in env_path.read_text()
            headers = delivery_headers("ping", body, secret=WEBHOOK_SECRET)
            assert (await http.post(WEBHOOK_PATH, content=body, headers=headers)).status_code == 202
    assert github_pages[0].startswith("https://github.com/settings/apps/new?state=")
