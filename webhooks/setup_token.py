"""The one-time token that guards setup mode, as Jupyter's guards a notebook server.

Whoever registers the App decides which GitHub App this server runs for, with the operator's
Anthropic key, so registering needs proof of being the operator: the token printed once in the
server's log at start (or `SETUP_TOKEN`). Opening `/?token=…` trades it for an HttpOnly cookie
holding a proof derived from it, which the browser also presents when GitHub sends it back to
`/setup/callback`. Once the App is registered the token is revoked, and every proof with it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from bot.config import Settings
from bot.telemetry.logs import redact, register_secret

log = logging.getLogger(__name__)

PARAMETER = "token"
ACCESS_COOKIE = "component_bot_setup_access"
ACCESS_TTL_SECONDS = 12 * 3600
DEFAULT_ADDRESS = "http://localhost:3000"  # `component-bot serve` without --port or PUBLIC_URL
_PROOF_PURPOSE = b"component-bot setup access v1"


class SetupToken:
    def __init__(self, value: str | None = None) -> None:
        self._value: str | None = value or showable_random_token()
        self.generated = value is None

    @property
    def value(self) -> str | None:
        """The token, until it is revoked."""
        return self._value

    def matches(self, candidate: str | None) -> bool:
        return self._value is not None and bool(candidate) and hmac.compare_digest(
            candidate.encode(), self._value.encode())

    def proof(self) -> str:
        """What the operator's browser keeps in its cookie: derived from the token, and useless once it is revoked."""
        if self._value is None:
            raise RuntimeError("the setup token was revoked")
        return hmac.new(self._value.encode(), _PROOF_PURPOSE, hashlib.sha256).hexdigest()

    def proven_by(self, cookie: str | None) -> bool:
        return self._value is not None and bool(cookie) and hmac.compare_digest(
            cookie.encode(), self.proof().encode())

    def revoke(self) -> None:
        self._value = None

    @classmethod
    def start(cls, settings: Settings) -> SetupToken:
        """This run's token (SETUP_TOKEN, else random), announced in the log; no later log line shows it."""
        configured = settings.setup_token.get_secret_value() if settings.setup_token is not None else None
        token = cls(configured)
        announce(token, settings)
        register_secret(token.value)  # after announcing: an access log's `GET /?token=…` shows [REDACTED]
        return token


def showable_random_token() -> str:
    """Random, and shown whole by the log's redaction (hex never has a known token's prefix; no secret inside)."""
    while True:
        value = secrets.token_hex(24)
        if redact(value) == value:
            return value


def announce(token: SetupToken, settings: Settings) -> None:
    base = settings.public_url or DEFAULT_ADDRESS
    shown = token.value if token.generated else "<SETUP_TOKEN>"
    elsewhere = "" if settings.public_url else " (with this server's address, if it is not that)"
    log.warning("setup mode: the GitHub App is not registered yet; webhooks are refused until it is. "
                "To register it, open %s/?%s=%s%s", base, PARAMETER, shown, elsewhere)
