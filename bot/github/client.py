"""githubkit clients: one App client, and one installation client reused per installation.

githubkit retries every request on 5xx by default, POSTs included, so a comment or commit
could land twice. Here only safe methods are retried on server errors; a rate-limited request
was never performed, so it is retried whatever its method, when the wait is short.
"""

from __future__ import annotations

import functools
import logging
import ssl
from datetime import timedelta

import httpx
from githubkit import AppAuthStrategy, GitHub
from githubkit.exception import GitHubException, RateLimitExceeded, RequestFailed, RequestTimeout
from githubkit.typing import RetryOption

from bot.config import Settings
from bot.github.guard import refuse_writes_without_lease
from bot.github.labels import LabelIds
from bot.github.repository import Repository
from bot.telemetry.metrics import github_event_hooks

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_SERVER_ERROR_RETRIES = 2
MAX_INLINE_RATE_LIMIT_WAIT = timedelta(seconds=10)


def retry_safely(exc: GitHubException, retry_count: int) -> RetryOption:
    """A short rate-limit wait is waited out in place; a longer one pauses the session instead
    (bot/outages.py), so no worker sits in a request for minutes."""
    if isinstance(exc, RateLimitExceeded) and retry_count < 1 and exc.retry_after <= MAX_INLINE_RATE_LIMIT_WAIT:
        return RetryOption(True, exc.retry_after)
    if retry_count >= MAX_SERVER_ERROR_RETRIES:
        return RetryOption(False)
    if isinstance(exc, RequestFailed) and exc.response.status_code >= 500 and exc.request.method in SAFE_METHODS:
        return RetryOption(True, timedelta(seconds=0.5 * (retry_count + 1)))
    if isinstance(exc, RequestTimeout) and exc.request.method in SAFE_METHODS:
        return RetryOption(True, timedelta(seconds=0.5 * (retry_count + 1)))
    return RetryOption(False)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every GitHub client of the process (contexts are made to be shared).
    httpx otherwise loads the CA bundle into a new one for each client, and githubkit makes a client
    per wake and per request made outside one: about a quarter of a worker's CPU in
    benchmarks/sessions_scale. `SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured, as httpx does."""
    return httpx.create_ssl_context()


class GitHubApps:
    """The App's clients. `transport` replaces the network (tests pass the fake GitHub's)."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        settings.require_github_app()
        self._settings = settings
        self.app_id = settings.app_id
        self._transport = transport
        self.app = GitHub(
            AppAuthStrategy(str(settings.app_id), settings.private_key.get_secret_value()),
            **self._options(),
        )
        self._installations: dict[int, GitHub] = {}
        self.label_ids = LabelIds()  # the state labels' GraphQL ids, per repository
        self._slug: str | None = None

    def _options(self) -> dict:
        return {
            "base_url": self._settings.github_api_url + "/",
            "timeout": httpx.Timeout(self._settings.github_timeout, connect=10.0),
            "auto_retry": retry_safely,
            "http_cache": False,
            "ssl_verify": tls_context(),
            "user_agent": "component-bot",
            "async_transport": self._transport,
            "async_event_hooks": self._event_hooks(),
        }

    @staticmethod
    def _event_hooks() -> dict:
        """Count every response for /metrics; refuse a session's writes once its lease is lost."""
        hooks = github_event_hooks()
        hooks["request"].append(refuse_writes_without_lease)
        return hooks

    def installation(self, installation_id: int) -> GitHub:
        client = self._installations.get(installation_id)
        if client is None:
            client = self.app.with_auth(self.app.auth.as_installation(installation_id))
            self._installations[installation_id] = client
        return client

    def repository(self, installation_id: int, full_name: str) -> Repository:
        """One repository through its installation's client (bot/github/repository.py)."""
        return Repository(self.installation(installation_id), full_name, self.bot_login, self.label_ids)

    async def slug(self) -> str:
        """The App's slug (its bot user is `<slug>[bot]`), read once from `GET /app`."""
        if self._slug is None:
            response = await self.app.rest.apps.async_get_authenticated()
            self._slug = response.json()["slug"]
        return self._slug

    async def bot_login(self) -> str:
        return f"{await self.slug()}[bot]"
