"""Fixtures for the web pages: a server in setup mode, HTML form parsing, a live server for the browser."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings
from tests.fakes.agent import ScriptedAgent
from tests.fakes.github import FakeGitHub

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the pages in a real headless Chromium (/usr/bin/chromium)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = browser_unavailable()
    if reason:
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def browser_unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is absent (Debian: apt-get install chromium; .ci/run installs it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture
def env_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / ".env"


@pytest.fixture
def setup_settings(database_url: str, env_path: Path) -> Settings:
    """No GitHub App yet: the server starts in setup mode."""
    env_path.parent.mkdir(exist_ok=True)
    return Settings(_env_file=None, database_url=database_url, env_file=env_path,
                    anthropic_api_key="sk-ant-test-key-0123456789")


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
async def setup_app(setup_settings: Settings, fake: FakeGitHub):
    from webhooks.app import create_app

    application = create_app(setup_settings, github_transport=httpx.ASGITransport(app=fake.app),
                              agent=ScriptedAgent())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def browser_client(setup_app) -> AsyncIterator[httpx.AsyncClient]:
    """The operator's browser: it keeps cookies, and opened the setup link the server logged."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=setup_app), base_url="http://bot.test") as http:
        await present_setup_token(http, setup_app)
        yield http


@pytest.fixture
async def stranger(setup_app) -> AsyncIterator[httpx.AsyncClient]:
    """Someone else's browser, who can reach the server but not read its log."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=setup_app), base_url="http://bot.test") as http:
        yield http


def setup_token(app) -> str:
    """The token the server logged when it started in setup mode."""
    return app.state.modes.setup_token.value


async def present_setup_token(http: httpx.AsyncClient, app) -> None:
    """Open the logged setup link, as the operator does: the token becomes a cookie."""
    opened = await http.get("/", params={"token": setup_token(app)})
    assert opened.status_code == 303 and opened.headers["location"] == "/", opened.text


class Forms(HTMLParser):
    """The page's forms: action, method and their inputs' name → value."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"id": values.get("id"), "action": values.get("action"),
                               "method": (values.get("method") or "get").lower(), "fields": {}})
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value") or ""

    def by_id(self, form_id: str) -> dict[str, Any]:
        return next(f for f in self.forms if f["id"] == form_id)


def registration_form(html: str) -> tuple[str, dict[str, Any]]:
    """The form that POSTs the manifest to GitHub: its action and the parsed manifest."""
    form = Forms(html).by_id("register")
    assert form["method"] == "post"
    return form["action"], json.loads(form["fields"]["manifest"])


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a background thread."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_config=None, access_log=False, loop="asyncio"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
