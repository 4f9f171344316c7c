"""Registering the GitHub App from its manifest (`app.yml`), as Probot does.

`GET /` (setup mode) renders a form that POSTs the manifest to GitHub's "new App" page.
GitHub creates the App and sends the browser back to `GET /setup/callback?code=…&state=…`;
the code is exchanged (unauthenticated, single use, valid one hour) for the App's id, private
key, webhook secret and OAuth client, which are written to `.env`, and the running server
switches to normal mode (webhooks/modes.py). `state` is random, single-use, expires, and must
match a cookie set on the browser that started the flow, so nobody can complete a registration
for someone else's browser nor replay one.

Both pages need the operator's proof (webhooks/setup_token.py): `/?token=…` with the token the
server logged at start, which leaves a cookie that the callback needs too; each state is issued
to, and only accepted with, that proof.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.config import Settings
from bot.config.settings import describe_validation_error
from webhooks import envfile
from webhooks.http import api_headers, github_client
from webhooks.modes import Modes
from webhooks.pages import PageError, origin_of, public_url, render, url_without
from webhooks.setup_token import ACCESS_COOKIE, ACCESS_TTL_SECONDS, PARAMETER, SetupToken

log = logging.getLogger(__name__)
router = APIRouter()

WEBHOOK_PATH = "/api/github/webhooks"
CALLBACK_PATH = "/setup/callback"
SIGN_IN_CALLBACK_PATH = "/auth/callback"
STATE_COOKIE = "component_bot_setup"
STATE_TTL_SECONDS = 30 * 60  # GitHub wants the whole flow done within an hour
MAX_PENDING_STATES = 1000
ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
CODE = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_NAME_LENGTH = 34  # GitHub's limit on App names
RETRY = "/"


# -- the manifest -------------------------------------------------------------------------------
def app_yml_candidates() -> list[Path]:
    """Probot reads `app.yml` in the working directory; we also know the source tree's and the image's."""
    return [Path.cwd() / "app.yml", Path(__file__).resolve().parents[1] / "app.yml", Path("/app/app.yml")]


@cache
def _read_yaml(path: Path, mtime: float) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_app_yml() -> dict[str, Any]:
    for path in app_yml_candidates():
        if path.is_file():
            return dict(_read_yaml(path, path.stat().st_mtime))
    raise PageError(500, "app.yml not found", "The App's manifest (app.yml) is missing: put it in the working "
                    "directory, as the project ships it.")


def build_manifest(app_yml: dict[str, Any], base_url: str, settings: Settings,
                   name: str | None = None) -> dict[str, Any]:
    """app.yml, with the addresses of this server filled in."""
    manifest = dict(app_yml)
    manifest["hook_attributes"] = {**(app_yml.get("hook_attributes") or {}),
                                   "url": settings.webhook_proxy_url or base_url + WEBHOOK_PATH}
    manifest["hook_attributes"].setdefault("active", True)
    manifest["redirect_url"] = base_url + CALLBACK_PATH
    manifest["callback_urls"] = [base_url + SIGN_IN_CALLBACK_PATH]
    manifest.setdefault("url", base_url)
    manifest.setdefault("public", False)
    if name:
        manifest["name"] = name
    return manifest


def new_app_url(settings: Settings, org: str | None) -> str:
    """GitHub's "register a new App" page: personal or an organization's, on github.com or GHES."""
    if org:
        return f"{settings.html_url}/organizations/{org}/settings/apps/new"
    return f"{settings.html_url}/settings/apps/new"


# -- the operator's proof: the setup token, then a cookie derived from it ----------------------------
def setup_token_of(request: Request) -> SetupToken:
    token = request.app.state.modes.setup_token
    if token is None:  # never in setup mode; a server started registered has none
        raise setup_token_required()
    return token


def setup_token_required() -> PageError:
    return PageError(403, "Setup needs its one-time link",
                     "Registering this server's GitHub App is only for its operator. Open the link the server "
                     "printed in its log when it started (the line with /?token=…); it works until "
                     "the App is registered, and restarting the server prints a new one. Operators who set "
                     "SETUP_TOKEN open /?token= followed by that value.")


def proven_operator(request: Request) -> str:
    """The proof in this browser's cookie, if it is the current one; else the page saying where the token is."""
    proof = request.cookies.get(ACCESS_COOKIE)
    if not setup_token_of(request).proven_by(proof):
        raise setup_token_required()
    return proof


def trade_token_for_cookie(request: Request, candidate: str) -> RedirectResponse:
    """`/?token=…`: remember the proof in an HttpOnly cookie and drop the token from the address bar."""
    token = setup_token_of(request)
    if not token.matches(candidate):
        raise setup_token_required()
    response = RedirectResponse(url_without(request, PARAMETER), status_code=303)
    response.set_cookie(ACCESS_COOKIE, token.proof(), max_age=ACCESS_TTL_SECONDS, path="/", httponly=True,
                        samesite="lax", secure=public_url(request).startswith("https://"))
    return response


# -- state: random, single use, short-lived, bound to the browser and its proof by cookies ------------
@dataclass(frozen=True)
class Pending:
    expiry: float
    proof: str


class PendingStates:
    """The states this process handed out and not yet used (in memory: setup runs in one process)."""

    def __init__(self, ttl: float = STATE_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._pending: dict[str, Pending] = {}

    def issue(self, proof: str) -> str:
        now = time.monotonic()
        self._pending = {s: p for s, p in self._pending.items() if p.expiry > now}
        while len(self._pending) >= MAX_PENDING_STATES:
            self._pending.pop(next(iter(self._pending)))  # the oldest
        state = secrets.token_urlsafe(32)
        self._pending[state] = Pending(now + self.ttl, proof)
        return state

    def consume(self, state: str, cookie: str | None, proof: str) -> bool:
        """True once for a state we issued, still fresh, and presented by the browser and proof it was issued to."""
        if not state or not cookie or not hmac.compare_digest(state.encode(), cookie.encode()):
            return False
        pending = self._pending.pop(state, None)
        return (pending is not None and pending.expiry > time.monotonic()
                and hmac.compare_digest(pending.proof.encode(), proof.encode()))


def pending_states(request: Request) -> PendingStates:
    state = request.app.state
    if getattr(state, "setup_states", None) is None:
        state.setup_states = PendingStates()
    return state.setup_states


# -- the code → the App's credentials ----------------------------------------------------------
@dataclass(frozen=True)
class Registration:
    app_id: int
    slug: str
    html_url: str
    pem: str
    webhook_secret: str
    client_id: str
    client_secret: str

    @classmethod
    def from_conversion(cls, data: dict[str, Any]) -> Registration:
        try:
            registration = cls(int(data["id"]), str(data["slug"]), str(data["html_url"]).rstrip("/"),
                               str(data["pem"]), str(data["webhook_secret"]), str(data["client_id"]),
                               str(data["client_secret"]))
        except (KeyError, TypeError, ValueError):
            raise PageError(502, "Unexpected answer from GitHub", "GitHub's answer to the registration lacked "
                            "the App's credentials. Nothing was saved.", retry_url=RETRY) from None
        if not registration.html_url.startswith(("https://", "http://")):
            raise PageError(502, "Unexpected answer from GitHub", "GitHub's answer named no valid App page.",
                            retry_url=RETRY)
        return registration

    def env_values(self) -> dict[str, str]:
        return {"APP_ID": str(self.app_id), "PRIVATE_KEY": self.pem, "WEBHOOK_SECRET": self.webhook_secret,
                "GITHUB_CLIENT_ID": self.client_id, "GITHUB_CLIENT_SECRET": self.client_secret}

    def settings(self, current: Settings) -> Settings:
        """The running settings with the App's added, validated as at start-up."""
        values = current.model_dump()
        values.update(app_id=self.app_id, private_key=self.pem, webhook_secret=self.webhook_secret,
                      github_client_id=self.client_id, github_client_secret=self.client_secret)
        try:
            return type(current)(_env_file=None, **values)
        except ValueError as exc:  # pydantic's ValidationError
            raise PageError(502, "Unusable credentials from GitHub",
                            f"{describe_validation_error(exc)}. Nothing was saved.", retry_url=RETRY) from None


async def convert(http: httpx.AsyncClient, settings: Settings, code: str) -> Registration:
    """`POST /app-manifests/{code}/conversions`, unauthenticated and never retried (the code is single use)."""
    try:
        response = await http.post(f"{settings.github_api_url}/app-manifests/{code}/conversions",
                                   headers=api_headers())
        answer = response.json() if response.is_success else None
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("manifest conversion failed: %s", type(exc).__name__)
        raise PageError(502, "GitHub could not be reached",
                        "The registration could not be completed. Nothing was saved.", retry_url=RETRY) from None
    if response.status_code in (404, 422):
        raise PageError(400, "GitHub did not accept this registration",
                        "The code GitHub sent back has expired (they last one hour) or was used already. "
                        "Nothing was saved. Start the registration again.", retry_url=RETRY)
    if not isinstance(answer, dict):
        raise PageError(502, "GitHub answered with an error",
                        f"GitHub answered {response.status_code} to the registration. Nothing was saved.",
                        retry_url=RETRY)
    return Registration.from_conversion(answer)


# -- routes --------------------------------------------------------------------------------------
def checked_form_values(org: str, name: str) -> tuple[str | None, str | None]:
    org, name = org.strip(), " ".join(name.split())
    if org and not ORG.fullmatch(org):
        raise PageError(400, "Not an organization name", "An organization's login is letters, digits and "
                        "hyphens, at most 39 characters.", retry_url=RETRY)
    if len(name) > MAX_NAME_LENGTH:
        raise PageError(400, "Name too long", f"GitHub App names are at most {MAX_NAME_LENGTH} characters.",
                        retry_url=RETRY)
    return org or None, name or None


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, org: str = "", name: str = "") -> Response:
    settings: Settings = request.app.state.settings
    if request.app.state.modes.ready:
        return render("home.html.j2", settings=settings, sign_in=settings.github_client_id is not None)
    token = request.query_params.get(PARAMETER)
    if token is not None:
        return trade_token_for_cookie(request, token)
    proof = proven_operator(request)
    org_name, app_name = checked_form_values(org, name)
    base = public_url(request)
    manifest = build_manifest(load_app_yml(), base, settings, app_name)
    state = pending_states(request).issue(proof)
    response = render(
        "setup.html.j2", form_targets=(origin_of(settings.html_url),),
        manifest=manifest, manifest_json=json.dumps(manifest, separators=(",", ":")),
        action=f"{new_app_url(settings, org_name)}?state={state}", org=org_name or "", name=app_name or "",
        base_url=base, derived=settings.public_url is None, settings=settings,
        env_path=str(settings.env_path),
    )
    response.set_cookie(STATE_COOKIE, state, max_age=STATE_TTL_SECONDS, path="/setup", httponly=True,
                        samesite="lax", secure=base.startswith("https://"))
    return response


@router.get(CALLBACK_PATH)
async def setup_callback(request: Request, code: str = "", state: str = "") -> RedirectResponse:
    app = request.app
    modes: Modes = app.state.modes
    async with modes.lock:
        if modes.ready:
            raise PageError(409, "Already registered", "This server's GitHub App is registered already; nothing "
                            "was changed.", retry_url="/", retry_label="Back")
        proof = proven_operator(request)
        if not pending_states(request).consume(state, request.cookies.get(STATE_COOKIE), proof):
            raise PageError(400, "This registration link is not valid",
                            "It has expired, was used already, or was started in another browser. Nothing was "
                            "saved. Start the registration again from this browser.", retry_url=RETRY)
        if not CODE.fullmatch(code):
            raise PageError(400, "No registration code", "GitHub's answer carried no valid code. Nothing was "
                            "saved.", retry_url=RETRY)
        settings: Settings = app.state.settings
        async with github_client(app) as http:
            registration = await convert(http, settings, code)
        registered = registration.settings(settings)
        save(settings.env_path, registration)
        await start_normal_mode(modes, registered, registration)
    response = RedirectResponse(f"{registration.html_url}/installations/new", status_code=303)
    response.delete_cookie(STATE_COOKIE, path="/setup")
    response.delete_cookie(ACCESS_COOKIE, path="/")
    return response


def save(path: Path, registration: Registration) -> None:
    try:
        envfile.set_values(path, registration.env_values())
    except OSError as exc:
        log.error("could not write %s: %s", path, exc.strerror)
        raise PageError(500, "The App's settings could not be saved",
                        f"GitHub created the App ({registration.html_url}), but writing {path} failed "
                        f"({exc.strerror}). Delete that App in GitHub's settings, make the file writable, and "
                        f"start again.", retry_url=RETRY) from None
    log.info("GitHub App %s (id %s) registered; its settings are in %s", registration.slug, registration.app_id,
             path)


async def start_normal_mode(modes: Modes, settings: Settings, registration: Registration) -> None:
    try:
        await modes.activate(settings)
    except Exception as exc:  # noqa: BLE001 - whatever failed, the page must say what to do next
        log.error("could not start with the new App's settings: %s", type(exc).__name__)
        raise PageError(500, "Registered, but not started",
                        "The App's settings were saved, but the server could not switch to them. Restart "
                        "component-bot.", retry_url=f"{registration.html_url}/installations/new",
                        retry_label="Install the App") from None
