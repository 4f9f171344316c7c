"""Who may read the dashboard: never anyone by default.

Two ways in:
- **Sign in with GitHub** (the App's OAuth client, `GITHUB_CLIENT_ID`/`GITHUB_CLIENT_SECRET`,
  written by registration): `/auth/login` → GitHub → `/auth/callback`, which exchanges the code
  on GitHub's web host and lists, with the user's token, the repositories they can access in
  this App's installations (webhooks/github_user.py). The token and that list stay in this
  process's memory (webhooks/signins.py), listed again every few minutes; the signed cookie
  carries a random id for them. Pages show only sessions of those repositories.
- **`DASHBOARD_TOKEN`**: `Authorization: Bearer <token>`, or `?token=<token>` once, which sets
  a signed cookie (for every repository) and redirects to the URL without the token.

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
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from bot.config import Settings
from webhooks.github_user import GitHubUnavailable, TokenRefused, accessible_repository_ids, login_of
from webhooks.http import oauth_client
from webhooks.pages import Interrupt, PageError, public_url, url_without
from webhooks.signins import SignIns
from webhooks.viewer import Viewer

log = logging.getLogger(__name__)
router = APIRouter()

SESSION_COOKIE = "component_bot_dashboard"
OAUTH_COOKIE = "component_bot_oauth"
SESSION_TTL_SECONDS = 12 * 3600
OAUTH_TTL_SECONDS = 10 * 60
CALLBACK_PATH = "/auth/callback"
DEFAULT_NEXT = "/sessions"
OPERATOR = "token"
_PROCESS_KEY = secrets.token_bytes(32)  # only when no secret is configured at all (nothing can sign in then)


def sign_ins(app: FastAPI) -> SignIns:
    if getattr(app.state, "sign_ins", None) is None:
        app.state.sign_ins = SignIns()
    return app.state.sign_ins


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


def operator_cookie(settings: Settings) -> str:
    return sign(settings, "session", {"login": OPERATOR, "all": True}, SESSION_TTL_SECONDS)


def sign_in_cookie(settings: Settings, login: str, sign_in_id: str) -> str:
    return sign(settings, "session", {"login": login, "sid": sign_in_id}, SESSION_TTL_SECONDS)


# -- who is asking -------------------------------------------------------------------------------
def oauth_configured(settings: Settings) -> bool:
    return settings.github_client_id is not None and settings.github_client_secret is not None


def token_matches(settings: Settings, candidate: str) -> bool:
    token = settings.dashboard_token
    return token is not None and bool(candidate) and hmac.compare_digest(
        candidate.encode(), token.get_secret_value().encode())


async def viewer_from_cookie(request: Request, value: str | None) -> Viewer | None:
    payload = unsign(request.app.state.settings, "session", value)
    if payload is None or not isinstance(payload.get("login"), str):
        return None
    if payload.get("all") is True:
        return Viewer(payload["login"], None)
    if not isinstance(payload.get("sid"), str):
        return None
    return await signed_in_viewer(request, payload["sid"])


async def signed_in_viewer(request: Request, sign_in_id: str) -> Viewer | None:
    """The GitHub-signed-in viewer, with their repositories listed again if the list is stale;
    None if this process does not know the sign-in (restarted, signed out) or GitHub refuses its token."""
    store = sign_ins(request.app)
    sign_in = store.get(sign_in_id)
    if sign_in is None:
        return None
    if store.stale(sign_in):
        async with sign_in.lock:
            if store.stale(sign_in):  # nobody relisted while we waited
                try:
                    store.relisted(sign_in, await list_repositories(request.app, sign_in.token))
                except TokenRefused:
                    store.drop(sign_in_id)
                    return None
    return Viewer(sign_in.login, sign_in.repository_ids)


async def list_repositories(app: FastAPI, token: str) -> frozenset[int]:
    """Which repositories the token's owner can access now; while GitHub cannot say, nothing is shown."""
    try:
        async with oauth_client(app) as http:
            return await accessible_repository_ids(http, app.state.settings, token)
    except GitHubUnavailable as exc:
        log.warning("listing a dashboard user's repositories failed: %s", exc)
        raise PageError(502, "GitHub could not be reached", "The dashboard asks GitHub every few minutes which "
                        "repositories you can access, and GitHub did not answer. Try again in a moment.",
                        retry_url="/sessions", retry_label="Try again") from None


async def authenticate(request: Request) -> Viewer | None:
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization")
    if header is not None:  # explicit credentials: right or refused, never a fallback to the cookie
        scheme, _, token = header.partition(" ")
        return Viewer(OPERATOR, None) if scheme.lower() == "bearer" and token_matches(settings, token.strip()) else None
    return await viewer_from_cookie(request, request.cookies.get(SESSION_COOKIE))


def sign_in_required(request: Request) -> PageError:
    settings: Settings = request.app.state.settings
    how = ("Open this page with ?token=… (the DASHBOARD_TOKEN), or send Authorization: Bearer …."
           if settings.dashboard_token is not None else
           "The dashboard is not public. Set DASHBOARD_TOKEN and open it with ?token=…, or register the "
           "GitHub App so that you can sign in with GitHub.")
    return PageError(401, "Sign-in required", how, headers={"WWW-Authenticate": 'Bearer realm="component-bot"'})


async def require_viewer(request: Request) -> Viewer:
    """FastAPI dependency: the signed-in viewer, or the way to sign in."""
    viewer = await authenticate(request)
    if viewer is not None:
        return viewer
    settings: Settings = request.app.state.settings
    token = request.query_params.get("token")
    if token is not None and "authorization" not in request.headers:
        if not token_matches(settings, token):
            raise sign_in_required(request)
        response = RedirectResponse(url_without(request, "token"), status_code=303)
        set_cookie(response, request, SESSION_COOKIE, operator_cookie(settings), SESSION_TTL_SECONDS)
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
    async with oauth_client(request.app) as http:
        token = await exchange_code(http, settings, code, public_url(request) + CALLBACK_PATH)
        user, repository_ids = await who_and_what(http, settings, token)
    sign_in_id = sign_ins(request.app).add(user, token, repository_ids, SESSION_TTL_SECONDS)
    log.info("dashboard sign-in by %s (%d repositories)", user, len(repository_ids))
    response = RedirectResponse(safe_next(pending.get("next")), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, sign_in_cookie(settings, user, sign_in_id), SESSION_TTL_SECONDS)
    response.delete_cookie(OAUTH_COOKIE, path="/auth")
    return response


@router.post("/auth/logout")
async def logout(request: Request) -> RedirectResponse:
    """Forget the sign-in (and with it the user's token) and its cookie."""
    payload = unsign(request.app.state.settings, "session", request.cookies.get(SESSION_COOKIE))
    if payload is not None and isinstance(payload.get("sid"), str):
        sign_ins(request.app).drop(payload["sid"])
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


async def who_and_what(http: httpx.AsyncClient, settings: Settings, token: str) -> tuple[str, frozenset[int]]:
    """The user's login and the repositories they can access in this App's installations."""
    try:
        return await login_of(http, settings, token), await accessible_repository_ids(http, settings, token)
    except (GitHubUnavailable, TokenRefused) as exc:
        log.warning("listing the user's repositories failed: %s", type(exc).__name__)
        raise unreachable() from None
