"""What GitHub says a signed-in person may see, asked with that person's OAuth token.

`GET /user` names them; `GET /user/installations` lists the installations they can access, and
for each of this App's, `GET /user/installations/{id}/repositories` lists the repositories in it
they can access (an organization-wide installation does not mean every repository for everyone).
Listings follow GitHub's `Link: <…>; rel="next"` headers, only ever to GitHub's API host.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from bot.config import Settings
from webhooks.http import api_headers

log = logging.getLogger(__name__)

PER_PAGE = 100
MAX_PAGES = 50  # per listing: 5,000 installations, or 5,000 repositories of one installation


class TokenRefused(Exception):
    """GitHub no longer accepts the person's token (revoked or expired): they must sign in again."""


class GitHubUnavailable(Exception):
    """GitHub did not give a usable answer just now."""


async def login_of(http: httpx.AsyncClient, settings: Settings, token: str) -> str:
    response = await get(http, f"{settings.github_api_url}/user", token)
    try:
        return str(response.json()["login"])
    except (ValueError, KeyError, TypeError):
        raise GitHubUnavailable("GET /user: no login") from None


async def accessible_repository_ids(http: httpx.AsyncClient, settings: Settings, token: str) -> frozenset[int]:
    """The ids of the repositories the person can access in this App's installations."""
    ids: set[int] = set()
    api = settings.github_api_url
    try:
        async for installation in listing(http, settings, token, f"{api}/user/installations", "installations"):
            if settings.app_id is not None and installation.get("app_id") != settings.app_id:
                continue
            url = f"{api}/user/installations/{int(installation['id'])}/repositories"
            ids.update([int(repository["id"]) async for repository in listing(http, settings, token, url,
                                                                               "repositories", gone_ok=True)])
    except (KeyError, TypeError, ValueError):
        raise GitHubUnavailable("an installation or repository without an id") from None
    return frozenset(ids)


async def listing(http: httpx.AsyncClient, settings: Settings, token: str, url: str, key: str, *,
                  gone_ok: bool = False) -> AsyncIterator[dict[str, Any]]:
    """The items under `key` on every page; with `gone_ok`, none when GitHub says 403 or 404 (no access now)."""
    next_url: str | None = url
    params: dict[str, int] | None = {"per_page": PER_PAGE}
    for _ in range(MAX_PAGES):
        response = await get(http, next_url, token, params, gone_ok=gone_ok)
        if response is None:
            return
        for item in items_of(response, key):
            yield item
        next_url, params = next_page(response, settings), None  # the next link carries the query
        if next_url is None:
            return
    log.warning("listing %s stopped after %d pages; the dashboard shows what those named", url, MAX_PAGES)


def items_of(response: httpx.Response, key: str) -> list[dict[str, Any]]:
    try:
        items = response.json()[key]
    except (ValueError, KeyError, TypeError):
        raise GitHubUnavailable(f"no {key} in GitHub's answer") from None
    if not isinstance(items, list):
        raise GitHubUnavailable(f"no list of {key} in GitHub's answer")
    return [item for item in items if isinstance(item, dict)]


def next_page(response: httpx.Response, settings: Settings) -> str | None:
    """The Link header's next page, if it is on GitHub's API: the person's token goes nowhere else."""
    url = response.links.get("next", {}).get("url")
    if url and url.startswith(settings.github_api_url + "/"):
        return url
    return None


async def get(http: httpx.AsyncClient, url: str, token: str, params: dict[str, int] | None = None, *,
              gone_ok: bool = False) -> httpx.Response | None:
    try:
        response = await http.get(url, headers=api_headers(token), params=params)
    except httpx.HTTPError as exc:
        raise GitHubUnavailable(type(exc).__name__) from None
    if response.status_code == 401:
        raise TokenRefused()
    if gone_ok and response.status_code in (403, 404) and not rate_limited(response):
        return None
    if response.status_code != 200:
        raise GitHubUnavailable(f"GitHub answered {response.status_code}")
    return response


def rate_limited(response: httpx.Response) -> bool:
    return response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
