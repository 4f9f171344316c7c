"""Registering the GitHub App from its manifest (`app.yml`), as Probot does.

`GET /` (setup mode) renders a form that POSTs the manifest to GitHub's "new App" page.
GitHub creates the App and sends the browser back to `GET /setup/callback?code=…&state=…`;
the code is exchanged (unauthenticated, single use, valid one hour) for the App's id, private
key, webhook secret and OAuth client, which are written to `.env`, and the running server
switches to normal mode (webhooks/modes.py). `state` is random, single-use, expires, and must
match a cookie set on the browser that started the flow, so nobody can complete a registration
for someone else's browser nor replay one.
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
from fastapi.responses import HTMLResponse, RedirectResponse
from githubkit import GitHub
from githubkit.exception import GitHubException, RequestFailed

from bot.config import Settings
from bot.config.settings import describe_validation_error
from webhooks import envfile
from webhooks.pages import PageError, origin_of, public_url, render

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


# -- state: random, single use, short-lived, bound to the browser by a cookie ----------------------
class PendingStates:
    """The states this process handed out and not yet used (in memory: setup runs in one process)."""

    def __init__(self, ttl: float = STATE_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        now = time.monotonic()
        self._expiry = {s: t for s, t in self._expiry.items() if t > now}
        while len(self._expiry) >= MAX_PENDING_STATES:
            self._expiry.pop(next(iter(self._expiry)))  # the oldest
        state = secrets.token_urlsafe(32)
        self._expiry[state] = now + self.ttl
        return state

    def consume(self, state: str, cookie: str | None) -> bool:
        """True once for a state we issued, still fresh, and presented by the browser it was issued to."""
        if not state or not cookie or not hmac.compare_digest(state.encode(), cookie.encode()):
            return False
        expiry = self._expiry.pop(state, None)
        return expiry is not None and expiry > time.monotonic()


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


async def convert(settings: Settings, transport: httpx.AsyncBaseTransport | None, code: str) -> Registration:
    """`POST /app-manifests/{code}/conversions`, unauthenticated and never retried (the code is single use)."""
    github = GitHub(base_url=settings.github_api_url + "/", async_transport=transport, auto_retry=False,
                    http_cache=False, user_agent="component-bot",
                    timeout=httpx.Timeout(settings.github_timeout, connect=10.0))
    try:
        async with github:
            response = await github.rest.apps.async_create_from_manifest(code)
    except RequestFailed as exc:
        status = exc.response.status_code
        if status in (404, 422):
            raise PageError(400, "GitHub did not accept this registration",
                            "The code GitHub sent back has expired (they last one hour) or was used already. "
                            "Nothing was saved. Start the registration again.", retry_url=RETRY) from None
        raise PageError(502, "GitHub answered with an error",
                        f"GitHub answered {status} to the registration. Nothing was saved.", retry_url=RETRY) from None
    except GitHubException as exc:
        log.warning("manifest conversion failed: %s", type(exc).__name__)
        raise PageError(502, "GitHub could not be reached",
                        "The registration could not be completed. Nothing was saved.", retry_url=RETRY) from None
    return Registration.from_conversion(response.json())


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
async def home(request: Request, org: str = "", name: str = "") -> HTMLResponse:
    settings: Settings = request.app.state.settings
    if request.app.state.modes.ready:
        return render("home.html.j2", settings=settings, sign_in=settings.github_client_id is not None)
    org_name, app_name = checked_form_values(org, name)
    base = public_url(request)
    manifest = build_manifest(load_app_yml(), base, settings, app_name)
    state = pending_states(request).issue()
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
    modes = app.state.modes
    async with modes.lock:
        if modes.ready:
            raise PageError(409, "Already registered", "This server's GitHub App is registered already; nothing "
                            "was changed.", retry_url="/", retry_label="Back")
        if not pending_states(request).consume(state, request.cookies.get(STATE_COOKIE)):
            raise PageError(400, "This registration link is not valid",
                            "It has expired, was used already, or was started in another browser. Nothing was "
                            "saved. Start the registration again from this browser.", retry_url=RETRY)
        if not CODE.fullmatch(code):
            raise PageError(400, "No registration code", "GitHub's answer carried no valid code. Nothing was "
                            "saved.", retry_url=RETRY)
        settings: Settings = app.state.settings
        registration = await convert(settings, app.state.github_transport, code)
        registered = registration.settings(settings)
        save(settings.env_path, registration)
        await start_normal_mode(modes, registered, registration)
    response = RedirectResponse(f"{registration.html_url}/installations/new", status_code=303)
    response.delete_cookie(STATE_COOKIE, path="/setup")
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


async def start_normal_mode(modes: Any, settings: Settings, registration: Registration) -> None:
    try:
        await modes.activate(settings)
    except Exception as exc:  # noqa: BLE001 - whatever failed, the page must say what to do next
        log.error("could not start with the new App's settings: %s", type(exc).__name__)
        raise PageError(500, "Registered, but not started",
                        "The App's settings were saved, but the server could not switch to them. Restart "
                        "component-bot.", retry_url=f"{registration.html_url}/installations/new",
                        retry_label="Install the App") from None
