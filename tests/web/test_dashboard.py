"""The dashboard, in-process: what it shows, and that it shows nothing without sign-in."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from bot.engine.work import compress_transcript
from bot.store import sessions as store
from bot.store.models import utcnow
from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, STACK_IMPL, BotHarness, make_fake, settings_for
from tests.web.fake_oauth import FakeOAuth
from webhooks import github_user
from webhooks.auth import SESSION_COOKIE, sign_ins, unsign
from webhooks.signins import REFRESH_SECONDS, SignIns

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
        await harness.label_stack_issue()
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
        bot.db, session.id, "RunTests", "succeeded", commit_sha=None,
        result={"state": "failed", "head_sha": session.head_sha, "failed_checks": ["tests"],
                "checks": [{"name": "tests", "conclusion": "failure", "passed": False, "id": 9,
                            "url": f"https://github.com/{REPO}/runs/9"},
                           {"name": "evil", "conclusion": "success", "passed": True, "id": 10,
                            "url": "javascript:alert(1)"}]})
    await store.append_interaction(
        bot.db, session.id, "FixTestFailures", "succeeded", commit_sha="ab" * 20, input_tokens=1200,
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


async def test_the_timeline_has_one_row_per_attempt_coloured_by_what_it_meant(bot):
    session = await bot.session()
    for status, result in (("started", None), ("succeeded", {"state": "failed", "failed_checks": ["test"]})):
        await store.append_interaction(bot.db, session.id, "RunTests", status, result=result)
    page = (await bot.http.get(f"/sessions/{session.id}", headers=bearer())).text
    timeline = page[page.index('<table id="timeline">'):page.index("</table>", page.index('<table id="timeline">'))]
    rows = re.findall(r'<tr class="m-(\w+)">\s*<td class="num">(\d+)</td>\s*<td>(\w+)</td>', timeline)
    assert [(meaning, step) for meaning, _, step in rows] == [
        ("done", "Initialize"), ("done", "GenerateImplementation"), ("waiting", "RunTests"), ("failed", "RunTests")]
    last = timeline[timeline.rindex('<tr class="m-failed">'):]
    assert '<span class="badge m-failed">tests failed</span>' in last and "succeeded" not in last
    assert re.search(r'<td class="num">\d+\.\ds</td>', last), "with its duration"
    assert "2,000 of its token_budget of 2,000,000" in page
    listing = (await bot.http.get("/sessions", headers=bearer())).text
    assert 'RunTests <span class="m-failed">tests failed</span>' in listing


async def test_spend_per_repository_and_month_is_a_chart_of_what_the_viewer_may_see(oauth_app, oauth, settings,
                                                                                  browser):
    for session_id, cost in ((WIDGETS, 1.25), (ROCKETS, 2.5), (OTHER, 4.0), (GADGETS, 8.0)):
        await store.append_interaction(oauth_app.state.db, session_id, "GenerateImplementation", "started")
        await store.append_interaction(oauth_app.state.db, session_id, "GenerateImplementation", "succeeded",
                                       cost_usd=cost)
    everything = (await browser.get("/sessions", headers=bearer())).text
    chart = everything[everything.index('<section id="spend"'):everything.index("</section>")]
    assert "<svg" in chart and "<script" not in chart
    for repo, usd in (("octo/widgets", "$1.25"), ("acme/rockets", "$2.50"), ("other/x", "$4.00"),
                      ("octo/gadgets", "$8.00")):
        assert f"<title>{repo}, {utcnow():%Y-%m}: {usd}</title>" in chart
    assert f">{utcnow():%Y-%m}</th>" in chart and "$15.75" in chart, "the month's total"

    await sign_in(browser, oauth, [(42, settings.app_id), (43, settings.app_id)],
                  repositories={42: [(4200, "octo/widgets")], 43: [(4300, "acme/rockets")]})
    page = (await browser.get("/sessions")).text
    chart = page[page.index('<section id="spend"'):page.index("</section>")]
    assert "octo/widgets" in chart and "acme/rockets" in chart and "$3.75" in chart
    assert "octo/gadgets" not in chart and "other/x" not in chart and "$8.00" not in chart
    filtered = (await browser.get("/sessions?repository=acme/rockets")).text
    assert "octo/widgets" not in filtered[filtered.index('<section id="spend"'):filtered.index("</section>")]


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


# Sessions by (installation, repository id, repository, issue): installation 42 is organization-wide
# and holds two repositories; installation 44 belongs to another App.
SESSIONS = ((42, 4200, "octo/widgets", 1), (43, 4300, "acme/rockets", 2), (44, 4400, "other/x", 3),
            (42, 4201, "octo/gadgets", 4))
WIDGETS, ROCKETS, OTHER, GADGETS = 1, 2, 3, 4  # their session ids


@pytest.fixture
async def oauth_app(settings, oauth):
    from tests.fakes.github import FakeGitHub
    from webhooks.app import create_app

    configured = settings.model_copy(update={"github_client_id": CLIENT_ID, "dashboard_token": SecretStr(TOKEN),
                                             "github_client_secret": SecretStr(CLIENT_SECRET)})
    app = create_app(configured, github_transport=httpx.ASGITransport(app=FakeGitHub().app), agent=ScriptedAgent(),
                     oauth_transport=httpx.ASGITransport(app=oauth.app))
    async with app.router.lifespan_context(app):
        for installation_id, repository_id, repo, issue in SESSIONS:
            scope = store.Scope(installation_id, repository_id, repo)
            await store.create_session(app.state.db, scope, issue, trigger="label", triggered_by="maria")
        yield app


@pytest.fixture
async def browser(oauth_app) -> httpx.AsyncClient:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oauth_app), base_url="http://bot.test") as http:
        yield http


async def sign_in(http: httpx.AsyncClient, oauth: FakeOAuth, installations: list[tuple[int, int]],
                  next_path: str = "/sessions", repositories: dict[int, list[tuple[int, str]]] | None = None,
                  ) -> httpx.Response:
    start = await http.get(next_path)
    assert start.status_code == 303 and start.headers["location"].startswith("/auth/login?next=")
    login = await http.get(start.headers["location"])
    assert login.status_code == 302
    authorize = urlsplit(login.headers["location"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == "https://github.com/login/oauth/authorize"
    query = parse_qs(authorize.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://bot.test/auth/callback"]
    code = oauth.code_for("maria", installations, repositories, redirect_uri="http://bot.test/auth/callback")
    return await http.get("/auth/callback", params={"code": code, "state": query["state"][0]})


async def visible(http: httpx.AsyncClient, **headers: str) -> dict[int, int]:
    """Each session's page: its status code for this browser."""
    return {s: (await http.get(f"/sessions/{s}", headers=headers)).status_code
            for s in (WIDGETS, ROCKETS, OTHER, GADGETS)}


def later(app, seconds: float) -> None:
    """Move the sign-ins' clock forward."""
    store = sign_ins(app)
    now = store.clock
    store.clock = lambda: now() + seconds


async def test_github_sign_in_shows_only_the_users_repositories(oauth_app, oauth, settings, browser):
    done = await sign_in(browser, oauth, [(42, settings.app_id), (43, settings.app_id), (44, 999)], "/sessions?page=1",
                         {42: [(4200, "octo/widgets")], 43: [(4300, "acme/rockets")], 44: [(4400, "other/x")]})
    assert done.status_code == 303 and done.headers["location"] == "/sessions?page=1"
    [exchange] = oauth.exchanges
    assert exchange["client_secret"] == CLIENT_SECRET and "ghu_" not in done.headers["set-cookie"]
    page = (await browser.get("/sessions")).text
    assert "octo/widgets" in page and "acme/rockets" in page and "maria" in page
    assert "other/x" not in page, "installation 44 belongs to another App"
    assert "octo/gadgets" not in page, "installation 42 holds it, but maria cannot access that repository"
    assert await visible(browser) == {WIDGETS: 200, ROCKETS: 200, OTHER: 404, GADGETS: 404}
    guessed, absent = await browser.get(f"/sessions/{GADGETS}"), await browser.get("/sessions/999")
    same = guessed.text.replace(f"session {GADGETS} ", "session N ") == absent.text.replace("session 999", "session N")
    assert same, "as if it did not exist"
    for query in ("repository=octo/gadgets", "status=running&repository=octo/gadgets", "page=2"):
        assert "octo/gadgets" not in (await browser.get(f"/sessions?{query}")).text, query
    signed_out = await browser.post("/auth/logout")
    assert signed_out.status_code == 303
    assert (await browser.get("/sessions")).status_code == 303, "signed out: back to sign-in"


async def test_the_operator_token_still_sees_every_repository(oauth_app, browser):
    assert await visible(browser, **bearer()) == {WIDGETS: 200, ROCKETS: 200, OTHER: 200, GADGETS: 200}
    page = (await browser.get("/sessions", headers=bearer())).text
    assert all(repo in page for repo in ("octo/widgets", "acme/rockets", "other/x", "octo/gadgets"))


async def test_repositories_are_listed_through_every_link_page(oauth_app, oauth, settings, browser):
    many = [(5000 + n, f"octo/repo{n}") for n in range(249)] + [(4201, "octo/gadgets")]
    await sign_in(browser, oauth, [(42, settings.app_id)], repositories={42: many})
    assert await visible(browser) == {WIDGETS: 404, ROCKETS: 404, OTHER: 404, GADGETS: 200}
    listed = [call for call in oauth.api_calls if call.startswith("/user/installations/42/repositories")]
    assert listed == ["/user/installations/42/repositories?per_page=100",
                      "/user/installations/42/repositories?page=2&per_page=100",
                      "/user/installations/42/repositories?page=3&per_page=100"]


async def test_removed_access_is_gone_within_minutes(oauth_app, oauth, settings, browser):
    await sign_in(browser, oauth, [(42, settings.app_id)],
                  repositories={42: [(4200, "octo/widgets"), (4201, "octo/gadgets")]})
    assert (await browser.get(f"/sessions/{GADGETS}")).status_code == 200
    oauth.set_repositories("maria", 42, [(4200, "octo/widgets")])
    assert (await browser.get(f"/sessions/{GADGETS}")).status_code == 200, "listed a moment ago: not asked again"
    later(oauth_app, REFRESH_SECONDS)
    assert (await browser.get(f"/sessions/{GADGETS}")).status_code == 404
    assert "octo/gadgets" not in (await browser.get("/sessions")).text
    assert (await browser.get(f"/sessions/{WIDGETS}")).status_code == 200


async def test_a_revoked_token_signs_the_user_out(oauth_app, oauth, settings, browser):
    await sign_in(browser, oauth, [(42, settings.app_id)], repositories={42: [(4200, "octo/widgets")]})
    oauth.revoke_tokens("maria")
    later(oauth_app, REFRESH_SECONDS)
    again = await browser.get(f"/sessions/{WIDGETS}")
    assert again.status_code == 303 and again.headers["location"].startswith("/auth/login?next=")
    assert len(sign_ins(oauth_app)) == 0, "the refused token is forgotten"


async def test_github_unavailable_at_a_refresh_shows_nothing(oauth_app, oauth, settings, browser):
    await sign_in(browser, oauth, [(42, settings.app_id)], repositories={42: [(4200, "octo/widgets")]})
    oauth.outage = True
    later(oauth_app, REFRESH_SECONDS)
    failed = await browser.get(f"/sessions/{WIDGETS}")
    assert failed.status_code == 502 and "octo/widgets" not in failed.text
    oauth.outage = False
    assert (await browser.get(f"/sessions/{WIDGETS}")).status_code == 200


async def test_the_users_token_stays_in_memory_only(oauth_app, oauth, settings, browser):
    await sign_in(browser, oauth, [(42, settings.app_id)], repositories={42: [(4200, "octo/widgets")]})
    [token] = oauth.tokens
    cookie = browser.cookies[SESSION_COOKIE]
    assert set(unsign(oauth_app.state.settings, "session", cookie)) == {"login", "sid", "exp"}
    assert token not in cookie
    oauth_app.state.sign_ins = SignIns()  # a restart: memory is gone, and the token with it
    restarted = await browser.get("/sessions")
    assert restarted.status_code == 303 and restarted.headers["location"].startswith("/auth/login?next=")
    await sign_in(browser, oauth, [(42, settings.app_id)], repositories={42: [(4200, "octo/widgets")]})
    assert len(sign_ins(oauth_app)) == 1
    await browser.post("/auth/logout")
    assert len(sign_ins(oauth_app)) == 0, "signing out forgets the token"


def test_next_page_links_stay_on_the_api_host(settings):
    def next_of(link: str) -> str | None:
        return github_user.next_page(httpx.Response(200, headers={"Link": link}), settings)

    on_api = "https://api.github.com/user/installations/42/repositories?page=2"
    assert next_of(f'<{on_api}>; rel="next", <{on_api}>; rel="last"') == on_api
    assert next_of('<https://evil.example/user/installations?page=2>; rel="next"') is None
    assert next_of('<https://api.github.com.evil.example/x?page=2>; rel="next"') is None
    assert next_of(f'<{on_api}>; rel="last"') is None


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
        code = oauth.code_for("maria", [(42, settings.app_id)], {42: [(4200, "octo/widgets")]})
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
