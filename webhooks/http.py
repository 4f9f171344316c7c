"""The HTTP clients the web pages call GitHub with, built one way.

Tests inject fakes as transports: `app.state.github_transport` (the REST API, for setup's
manifest conversion) and `app.state.oauth_transport` (github.com's sign-in and the API with a
person's token). Production leaves both None: the real network.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from bot.config import Settings

USER_AGENT = "component-bot"
API_VERSION = "2022-11-28"
CONNECT_TIMEOUT = 10.0


def client(transport: httpx.AsyncBaseTransport | None, settings: Settings) -> httpx.AsyncClient:
    """A client that never retries nor follows redirects (a sign-in code or manifest code is single use)."""
    return httpx.AsyncClient(transport=transport, headers={"User-Agent": USER_AGENT}, follow_redirects=False,
                             timeout=httpx.Timeout(settings.github_timeout, connect=CONNECT_TIMEOUT))


def github_client(app: FastAPI) -> httpx.AsyncClient:
    """For GitHub's REST API on the App's behalf (unauthenticated calls such as the manifest conversion)."""
    return client(app.state.github_transport, app.state.settings)


def oauth_client(app: FastAPI) -> httpx.AsyncClient:
    """For signing a person in: github.com's OAuth endpoints, then the API with that person's token."""
    return client(app.state.oauth_transport, app.state.settings)


def api_headers(token: str | None = None) -> dict[str, str]:
    """The headers GitHub's REST API documents, with a bearer token when there is one."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers
