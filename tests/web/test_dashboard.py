"""The dashboard, in-process: what it shows, and that it shows nothing without sign-in."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from bot.runner import compress_transcript
from bot.sessions import store
from tests.fakes.agent import ScriptedAgent
from tests.harness import ISSUE_BODY, REPO, STACK_IMPL, BotHarness, make_fake, settings_for
from tests.web.fake_oauth import FakeOAuth
from webhooks.auth import SESSION_COOKIE

TOKEN = "dashboard-token-5f1c9a7e"
CLIENT_ID, CLIENT_SECRET = "Iv23litest", "oauth-client-secret-9b2d"


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def bot(settings):
    """A real session, started by a label, on the fake GitHub (waiting for checks, one commit, a PR)."""
    fake = make_fake()
    agent = ScriptedAgent({"widgets/stack.py": STACK_IMPL})
    configured = settings_for(fake, settings).model_copy(update={"dashboard_token": SecretStr(TOKEN)})
    async with BotHarness(configured, fake, agent) as harness:
        issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
        fake.label_issue(REPO, issue.number, "implement-component", by="maria")
        await harness.settle()
        yield harness


async def test_without_sign_in_every_page_is_refused(bot):
    for path in ("/sessions", "/sessions/1", "/sessions?status=running"):
        response = await bot.http.get(path)
        assert response.status_code == 401, path
        assert "Sign-in required" in response.text and "octo/widgets" not in response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert (await bot.http.get("/sessions", headers=bearer("wrong"))).status_code == 401
    assert (await bot.http.get("/sessions?token=wrong")).status_code == 401


async def test_list_shows_the_session(bot):
    session = await bot.session()
    response = await bot.http.get("/sessions", headers=bearer())
    assert response.status_code == 200
    row = re.search(rf'<tr>\s*<td class="num"><a href="/sessions/{session.id}">.*?</tr>', response.text, re.S).group()
    for text in (REPO, "#1", "Stack", "waiting for checks", "RunTests", f"{session.fix_iterations}"):
        assert text in row, text
    assert response.headers["cache-control"] == "no-store"


async def test_filters(bot):
    assert "Stack" in (await bot.http.get("/sessions?status=waiting_for_checks", headers=bearer())).text
    assert "Stack" not in (await bot.http.get("/sessions?status=completed", headers=bearer())).text
    assert "Stack" in (await bot.http.get(f"/sessions?repository={REPO}", headers=bearer())).text
    assert "Stack" not in (await bot.http.get("/sessions?repository=octo/other", headers=bearer())).text
    assert (await bot.http.get("/sessions?status=bogus", headers=bearer())).status_code == 400


async def test_detail_shows_steps_commits_checks_usage_and_transcript(bot):
    session = await bot.session()
    await store.append_interaction(
        bot.context.db, session.id, "RunTests", "succeeded", commit_sha=None,
        result={"state": "failed", "head_sha": session.head_sha, "failed_checks": ["tests"],
                "checks": [{"name": "tests", "conclusion": "failure", "passed": False, "id": 9,
                            "url": f"https://github.com/{REPO}/runs/9"},
                           {"name": "evil", "conclusion": "success", "passed": True, "id": 10,
                            "url": "javascript:alert(1)"}]})
    await store.append_interaction(
        bot.context.db, session.id, "FixTestFailures", "succeeded", commit_sha="ab" * 20, input_tokens=1200,
        output_tokens=300, cost_usd=0.0123,
        transcript=compress_transcript([{"role": "assistant", "content": "<script>alert('x')</script> fixed"}]))

    response = await bot.http.get(f"/sessions/{session.id}", headers=bearer())
    assert response.status_code == 200
    page = response.text
    for step in ("Initialize", "GenerateImplementation", "RunTests", "FixTestFailures"):
        assert f"<td>{step}</td>" in page
    assert f'href="https://github.com/{REPO}/commit/{session.head_sha}"' in page
    assert f'href="https://github.com/{REPO}/commit/{"ab" * 20}"' in page
    assert f'href="https://github.com/{REPO}/runs/9"' in page and 'href="javascript:' not in page
    assert f'href="https://github.com/{REPO}/pull/{session.pr_number}"' in page
    assert "1,200" in page and "$0.01" in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; fixed" in page and "<script>" not in page


async def test_unknown_session_is_404(bot):
    assert (await bot.http.get("/sessions/999", headers=bearer())).status_code == 404


async def test_token_in_the_url_sets_a_cookie_and_is_dropped(bot):
    response = await bot.http.get(f"/sessions?status=waiting_for_checks&token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["location"] == "/sessions?status=waiting_for_checks"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert TOKEN not in response.headers["set-cookie"]
    assert (await bot.http.get("/sessions")).status_code == 200, "the cookie signs the browser in"
    bot.http.cookies.set(SESSION_COOKIE, bot.http.cookies[SESSION_COOKIE][:-2] + "xx")
    assert (await bot.http.get("/sessions")).status_code == 401, "a tampered cookie is refused"


async def test_no_sign_in_method_configured_means_no_access(app, client):
    response = await client.get("/sessions")
    assert response.status_code == 401 and "DASHBOARD_TOKEN" in response.text
    assert (await client.get("/sessions?token=")).status_code == 401
    assert (await client.get("/sessions", headers=bearer(""))).status_code == 401


# -- sign in with GitHub ---------------------------------------------------------------------------
@pytest.fixture
def oauth() -> FakeOAuth:
    return FakeOAuth(CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
async def oauth_app(settings, oauth):
    from tests.fakes.github import FakeGitHub
    from webhooks.app import create_app

    configured = settings.model_copy(update={"github_client_id": CLIENT_ID,
                                             "github_client_secret": SecretStr(CLIENT_SECRET)})
    app = create_app(configured, github_transport=httpx.ASGITransport(app=FakeGitHub().app), agent=ScriptedAgent(),
                     oauth_transport=httpx.ASGITransport(app=oauth.app))
    async with app.router.lifespan_context(app):
        for installation_id, repo, issue in ((42, "octo/widgets", 1), (43, "acme/rockets", 2), (44, "other/x", 3)):
            scope = store.Scope(installation_id, installation_id * 100, repo)
            await store.create_session(app.state.context.db, scope, issue, trigger="label", triggered_by="maria")
        yield app


async def sign_in(http: httpx.AsyncClient, oauth: FakeOAuth, installations: list[tuple[int, int]],
                  next_path: str = "/sessions") -> httpx.Response:
    start = await http.get(next_path)
    assert start.status_code == 303 and start.headers["location"].startswith("/auth/login?next=")
    login = await http.get(start.headers["location"])
    assert login.status_code == 302
    authorize = urlsplit(login.headers["location"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == "https://github.com/login/oauth/authorize"
    query = parse_qs(authorize.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://bot.test/auth/callback"]
    code = oauth.code_for("maria", installations, redirect_uri="http://bot.test/auth/callback")
    return await http.get("/auth/callback", params={"code": code, "state": query["state"][0]})


async def test_github_sign_in_shows_only_the_users_installations(oauth_app, oauth, settings):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oauth_app), base_url="http://bot.test") as http:
        done = await sign_in(http, oauth, [(42, settings.app_id), (43, settings.app_id), (44, 999)], "/sessions?page=1")
        assert done.status_code == 303 and done.headers["location"] == "/sessions?page=1"
        [exchange] = oauth.exchanges
        assert exchange["client_secret"] == CLIENT_SECRET and "ghu_" not in done.headers["set-cookie"]
        page = (await http.get("/sessions")).text
        assert "octo/widgets" in page and "acme/rockets" in page
        assert "other/x" not in page, "installation 44 belongs to another App"
        assert "maria" in page
        sessions = {s: (await http.get(f"/sessions/{s}")).status_code for s in (1, 2, 3)}
        assert sessions == {1: 200, 2: 200, 3: 404}
        signed_out = await http.post("/auth/logout")
        assert signed_out.status_code == 303
        assert (await http.get("/sessions")).status_code == 303, "signed out: back to sign-in"


async def test_github_sign_in_with_a_forged_state_is_refused(oauth_app, oauth, settings):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oauth_app), base_url="http://bot.test") as http:
        await http.get("/auth/login")
        code = oauth.code_for("mallory", [(42, settings.app_id)])
        response = await http.get("/auth/callback", params={"code": code, "state": "forged"})
        assert response.status_code == 400 and "not valid" in response.text
        assert oauth.exchanges == [], "GitHub was not asked"
        assert (await http.get("/sessions")).status_code == 303


async def test_github_sign_in_with_a_used_code_is_refused(oauth_app, oauth, settings):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oauth_app), base_url="http://bot.test") as http:
        login = await http.get("/auth/login")
        state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
        response = await http.get("/auth/callback", params={"code": "used-code", "state": state})
        assert response.status_code == 400 and "did not accept" in response.text
        assert SESSION_COOKIE not in http.cookies


@pytest.mark.parametrize("next_path", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
async def test_sign_in_never_redirects_off_site(oauth_app, oauth, settings, next_path):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oauth_app), base_url="http://bot.test") as http:
        login = await http.get("/auth/login", params={"next": next_path})
        state = parse_qs(urlsplit(login.headers["location"]).query)["state"][0]
        code = oauth.code_for("maria", [(42, settings.app_id)])
        done = await http.get("/auth/callback", params={"code": code, "state": state})
        assert done.headers["location"] == "/sessions"


async def test_dashboard_works_in_setup_mode_with_a_token(setup_settings, fake):
    from webhooks.app import create_app

    app = create_app(setup_settings.model_copy(update={"dashboard_token": SecretStr(TOKEN)}),
                     github_transport=httpx.ASGITransport(app=fake.app), agent=ScriptedAgent())
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as http:
        response = await http.get("/sessions", headers=bearer())
        assert response.status_code == 200 and "register it" in response.text
        assert (await http.get("/auth/login")).status_code == 404
