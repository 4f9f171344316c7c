"""Who may read the dashboard: never anyone by default.

Two ways in:
- **Sign in with GitHub** (the App's OAuth client, `GITHUB_CLIENT_ID`/`GITHUB_CLIENT_SECRET`,
  written by registration): `/auth/login` → GitHub → `/auth/callback`, which exchanges the code
  on GitHub's web host, lists the user's installations of this App with the user's token (the
  token is then dropped), and keeps only those installation ids in a signed cookie. Pages show
  only sessions of those installations.
- **`DASHBOARD_TOKEN`**: `Authorization: Bearer <token>`, or `?token=<token>` once, which sets
  the same signed cookie (for every installation) and redirects to the URL without the token.

Cookies are HMAC-signed with a key derived from the server's secrets (webhook secret, dashboard
token, OAuth client secret): changing any of them signs everybody out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.config import Settings
from webhooks.pages import Interrupt, PageError, public_url

log = logging.getLogger(__name__)
router = APIRouter()

SESSION_COOKIE = "component_bot_dashboard"
OAUTH_COOKIE = "component_bot_oauth"
SESSION_TTL_SECONDS = 12 * 3600
OAUTH_TTL_SECONDS = 10 * 60
MAX_INSTALLATIONS = 300  # keeps the cookie under browsers' 4 KB limit
MAX_INSTALLATION_PAGES = 5
CALLBACK_PATH = "/auth/callback"
DEFAULT_NEXT = "/sessions"
API_VERSION = "2022-11-28"
_PROCESS_KEY = secrets.token_bytes(32)  # only when no secret is configured at all (nothing can sign in then)


@dataclass(frozen=True)
class Viewer:
    login: str
    installation_ids: frozenset[int] | None  # None: every installation (the operator's token)

    @property
    def sees_everything(self) -> bool:
        return self.installation_ids is None


# -- signed cookies ------------------------------------------------------------------------------
def signing_key(settings: Settings) -> bytes:
    parts = [s.get_secret_value() for s in (settings.webhook_secret, settings.dashboard_token,
                                            settings.github_client_secret) if s is not None]
    if not parts:
        return _PROCESS_KEY
    return hmac.new("\0".join(parts).encode(), b"component-bot dashboard cookies v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(settings: Settings, purpose: str, payload: dict[str, Any], ttl: int) -> str:
    body = _b64(json.dumps({**payload, "exp": int(time.time()) + ttl}, separators=(",", ":")).encode())
    mac = hmac.new(signing_key(settings), f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(settings: Settings, purpose: str, value: str | None) -> dict[str, Any] | None:
    """The payload of a cookie we signed for `purpose`, if intact and unexpired."""
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    expected = hmac.new(signing_key(settings), f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        payload = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int) or payload["exp"] < time.time():
        return None
    return payload


def set_cookie(response: Response, request: Request, name: str, value: str, ttl: int, path: str = "/") -> None:
    response.set_cookie(name, value, max_age=ttl, path=path, httponly=True, samesite="lax",
                        secure=public_url(request).startswith("https://"))


def session_cookie(settings: Settings, viewer: Viewer) -> str:
    ids = None if viewer.installation_ids is None else sorted(viewer.installation_ids)
    return sign(settings, "session", {"login": viewer.login, "inst": ids}, SESSION_TTL_SECONDS)


# -- who is asking -------------------------------------------------------------------------------
def oauth_configured(settings: Settings) -> bool:
    return settings.github_client_id is not None and settings.github_client_secret is not None


def token_matches(settings: Settings, candidate: str) -> bool:
    token = settings.dashboard_token
    return token is not None and bool(candidate) and hmac.compare_digest(
        candidate.encode(), token.get_secret_value().encode())


def viewer_from_cookie(settings: Settings, value: str | None) -> Viewer | None:
    payload = unsign(settings, "session", value)
    if payload is None or not isinstance(payload.get("login"), str):
        return None
    ids = payload.get("inst")
    if ids is None:
        return Viewer(payload["login"], None)
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        return None
    return Viewer(payload["login"], frozenset(ids))


def authenticate(request: Request) -> Viewer | None:
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization")
    if header is not None:  # explicit credentials: right or refused, never a fallback to the cookie
        scheme, _, token = header.partition(" ")
        return Viewer("token", None) if scheme.lower() == "bearer" and token_matches(settings, token.strip()) else None
    return viewer_from_cookie(settings, request.cookies.get(SESSION_COOKIE))


def without_token(request: Request) -> str:
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "token"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def sign_in_required(request: Request) -> PageError:
    settings: Settings = request.app.state.settings
    how = ("Open this page with ?token=… (the DASHBOARD_TOKEN), or send Authorization: Bearer …."
           if settings.dashboard_token is not None else
           "The dashboard is not public. Set DASHBOARD_TOKEN and open it with ?token=…, or register the "
           "GitHub App so that you can sign in with GitHub.")
    return PageError(401, "Sign-in required", how, headers={"WWW-Authenticate": 'Bearer realm="component-bot"'})


async def require_viewer(request: Request) -> Viewer:
    """FastAPI dependency: the signed-in viewer, or the way to sign in."""
    viewer = authenticate(request)
    if viewer is not None:
        return viewer
    settings: Settings = request.app.state.settings
    token = request.query_params.get("token")
    if token is not None and "authorization" not in request.headers:
        if not token_matches(settings, token):
            raise sign_in_required(request)
        response = RedirectResponse(without_token(request), status_code=303)
        set_cookie(response, request, SESSION_COOKIE, session_cookie(settings, Viewer("token", None)),
                   SESSION_TTL_SECONDS)
        raise Interrupt(response)
    if oauth_configured(settings) and "authorization" not in request.headers:
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Interrupt(RedirectResponse(f"/auth/login?{urlencode({'next': next_url})}", status_code=303))
    raise sign_in_required(request)


# -- sign in with GitHub -------------------------------------------------------------------------
def safe_next(value: str | None) -> str:
    """Only a path on this server (no `//host`, no scheme): never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return DEFAULT_NEXT
    return value


def require_oauth(settings: Settings) -> None:
    if not oauth_configured(settings):
        raise PageError(404, "Sign-in with GitHub is not set up",
                        "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (written when the App is registered) are "
                        "missing. Use DASHBOARD_TOKEN instead, or register the App.")


@router.get("/auth/login")
async def login(request: Request, next: str = DEFAULT_NEXT) -> RedirectResponse:  # noqa: A002 - the query name
    settings: Settings = request.app.state.settings
    require_oauth(settings)
    state = secrets.token_urlsafe(32)
    query = urlencode({"client_id": settings.github_client_id, "redirect_uri": public_url(request) + CALLBACK_PATH,
                       "state": state, "allow_signup": "false"})
    response = RedirectResponse(f"{settings.html_url}/login/oauth/authorize?{query}", status_code=302)
    set_cookie(response, request, OAUTH_COOKIE,
               sign(settings, "oauth", {"state": state, "next": safe_next(next)}, OAUTH_TTL_SECONDS),
               OAUTH_TTL_SECONDS, path="/auth")
    return response


@router.get(CALLBACK_PATH)
async def callback(request: Request, code: str = "", state: str = "", error: str = "") -> RedirectResponse:
    settings: Settings = request.app.state.settings
    require_oauth(settings)
    pending = unsign(settings, "oauth", request.cookies.get(OAUTH_COOKIE))
    if pending is None or not state or not hmac.compare_digest(str(pending.get("state", "")).encode(), state.encode()):
        raise PageError(400, "This sign-in link is not valid", "It has expired, was used already, or was started "
                        "in another browser.", retry_url="/auth/login", retry_label="Sign in again")
    if error or not code:
        raise PageError(403, "Sign-in cancelled", "GitHub did not sign you in.", retry_url="/auth/login",
                        retry_label="Sign in again")
    async with httpx.AsyncClient(transport=request.app.state.oauth_transport, timeout=settings.github_timeout,
                                 headers={"User-Agent": "component-bot"}) as http:
        token = await exchange_code(http, settings, code, public_url(request) + CALLBACK_PATH)
        viewer = await viewer_for_token(http, settings, token)
    log.info("dashboard sign-in by %s (%d installations)", viewer.login, len(viewer.installation_ids or ()))
    response = RedirectResponse(safe_next(pending.get("next")), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, session_cookie(settings, viewer), SESSION_TTL_SECONDS)
    response.delete_cookie(OAUTH_COOKIE, path="/auth")
    return response


@router.post("/auth/logout")
async def logout() -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def unreachable() -> PageError:
    return PageError(502, "GitHub could not be reached", "Signing in with GitHub failed; try again.",
                     retry_url="/auth/login", retry_label="Sign in again")


async def exchange_code(http: httpx.AsyncClient, settings: Settings, code: str, redirect_uri: str) -> str:
    """The user's token for `code`, from GitHub's *web* host (not the API)."""
    try:
        response = await http.post(f"{settings.html_url}/login/oauth/access_token",
                                   headers={"Accept": "application/json"},
                                   data={"client_id": settings.github_client_id,
                                         "client_secret": settings.github_client_secret.get_secret_value(),
                                         "code": code, "redirect_uri": redirect_uri})
        response.raise_for_status()
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("OAuth code exchange failed: %s", type(exc).__name__)
        raise unreachable() from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:  # GitHub answers 200 with {"error": …}
        log.info("OAuth code exchange refused: %s", answer.get("error") if isinstance(answer, dict) else "?")
        raise PageError(400, "GitHub did not accept this sign-in", "The code expired or was used already.",
                        retry_url="/auth/login", retry_label="Sign in again")
    return token


async def viewer_for_token(http: httpx.AsyncClient, settings: Settings, token: str) -> Viewer:
    """The user, and the installations of this App they can access (GET /user, GET /user/installations)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": API_VERSION}
    api = settings.github_api_url
    try:
        user = await http.get(f"{api}/user", headers=headers)
        user.raise_for_status()
        ids: set[int] = set()
        for page in range(1, MAX_INSTALLATION_PAGES + 1):
            answer = await http.get(f"{api}/user/installations", headers=headers,
                                    params={"per_page": 100, "page": page})
            answer.raise_for_status()
            installations = answer.json().get("installations") or []
            ids.update(int(i["id"]) for i in installations
                       if settings.app_id is None or i.get("app_id") == settings.app_id)
            if len(installations) < 100:
                break
        login = str(user.json()["login"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.warning("listing the user's installations failed: %s", type(exc).__name__)
        raise unreachable() from None
    return Viewer(login, frozenset(sorted(ids)[:MAX_INSTALLATIONS]))
