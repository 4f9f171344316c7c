"""Structured logs: every line of a session says which delivery, installation, repository,
session and step it belongs to, and no credential ever reaches a line."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.telemetry.logs import ContextFilter, JSONFormatter, TextFormatter, register_secret
from tests.harness import REPO
from tests.ops.logscan import LogScanner
from tests.webhook_helpers import WEBHOOK_SECRET


class JSONLines(logging.Handler):
    """What `configure_logging` writes when stderr is not a terminal, kept in memory."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JSONFormatter())
        self.addFilter(ContextFilter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_lines() -> Iterator[JSONLines]:
    handler = JSONLines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


async def test_session_lines_carry_their_context(bot, fake, json_lines):
    await bot.label_stack_issue()
    session = await bot.session()

    handling = [line for line in json_lines.lines if line["logger"].startswith("bot.handlers.")]
    assert handling and all(line.get("delivery_id") for line in handling)
    labeled = next(d for d in await bot.deliveries() if (d.event, d.action) == ("issues", "labeled"))
    assert any(line.get("delivery_id") == labeled.delivery_id for line in json_lines.lines)

    steps = [line for line in json_lines.lines
             if line["logger"] == "bot.engine.work" and line["message"].startswith(("running ", "Initialize", "Generate",
                                                                                "RunTests"))]
    assert {line["step"] for line in steps} == {"Initialize", "GenerateImplementation", "RunTests"}
    for line in steps:
        assert (line["session_id"], line["installation_id"], line["repository"]) == (session.id, 42, REPO), line
    settled = next(line for line in json_lines.lines if line["message"].startswith("session is now"))
    assert (settled["session_id"], settled["installation_id"], settled["repository"]) == (session.id, 42, REPO)
    assert "step" not in settled


async def test_no_line_of_a_session_carries_a_credential(bot, fake, json_lines, bot_settings):
    await bot.label_stack_issue()
    minted = [token for token in fake.tokens if token.startswith("ghs_")]
    assert minted, "the session ran on a real installation token"
    text = "\n".join(json.dumps(line) for line in json_lines.lines)
    for secret in (*minted, WEBHOOK_SECRET, "BEGIN", "sk-ant-",
                   *bot_settings.private_key.get_secret_value().splitlines()[1:-1]):
        assert secret not in text


def test_installation_tokens_and_keys_are_redacted_wherever_they_appear(private_key_pem):
    register_secret("a-registered-webhook-secret-value")
    token = "ghs_" + "A1b2C3d4" * 4 + "xyzw"
    message = (f"GitHub said no to token {token}, key sk-ant-api03-{'z' * 24}, "
               f"secret a-registered-webhook-secret-value, pem {private_key_pem}")
    record = logging.LogRecord("bot.test", logging.ERROR, __file__, 1, message, None, None)
    line = JSONFormatter().format(record)
    assert token not in line and "sk-ant-" not in line and "a-registered-webhook-secret-value" not in line
    assert "PRIVATE KEY" not in line and private_key_pem.splitlines()[1] not in line
    assert "GitHub said no" in line


def spellings(secret: str) -> list[str]:
    """How a secret can appear in a line: raw, JSON-escaped (ASCII-only or not), inside a repr."""
    return [secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], repr(secret)[1:-1]]


def record_carrying(secret: str) -> logging.LogRecord:
    """A record with `secret` in its message (raw, as JSON, as a repr), its exception and a context field."""
    try:
        raise RuntimeError(f"GitHub refused {secret}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("bot.test", logging.ERROR, __file__, 1, "sent %s, then the body %s, then %r",
                               (secret, json.dumps({"token": secret}), secret), exc_info)
    record.repository = f"octo/{secret}"
    return record


@pytest.mark.parametrize("shape", ['with a "quote', "with a back\\slash", 'with both \\"', "with ünïcödé"])
@pytest.mark.parametrize("formatter", [JSONFormatter(), TextFormatter()], ids=["json", "text"])
def test_a_secret_that_json_escapes_never_reaches_a_line(shape, formatter):
    secret = f"{shape}-{uuid.uuid4().hex}"  # unique: registration is process-wide
    register_secret(secret)
    line = formatter.format(record_carrying(secret))
    for spelling in spellings(secret):
        assert spelling not in line
    assert uuid.UUID(secret[-32:]).hex not in line, "no part of the secret is left"
    assert line.count("[REDACTED]") >= 5 and "GitHub refused" in line
    if isinstance(formatter, JSONFormatter):
        fields = json.loads(line)
        assert fields["repository"] == "octo/[REDACTED]" and "[REDACTED]" in fields["exception"]


def test_github_app_jwts_are_redacted(private_key_pem):
    now = int(time.time())
    token = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": "4242"}, private_key_pem, algorithm="RS256")
    header, claims, signature = token.split(".")
    assert header.startswith("eyJ") and claims.startswith("eyJ") and len(signature) > 300
    record = logging.LogRecord("bot.test", logging.WARNING, __file__, 1, "GitHub answered 401 to Bearer %s", (token,),
                               None)
    line = JSONFormatter().format(record)
    assert json.loads(line)["message"] == "GitHub answered 401 to Bearer [REDACTED]"
    for segment in (header, claims, signature):
        assert segment not in line


def test_the_suite_wide_scanner_is_watching(request):
    scanner = request.getfixturevalue("_no_credential_in_any_log_line")
    assert logging.Logger.callHandlers.__name__ == "call_handlers"
    logging.getLogger("bot.ops.test").debug("a debug line of ours is seen too")
    assert scanner.lines_seen > 0
    assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)


def test_the_scanner_finds_what_redaction_cannot_know():
    # Fresh credentials, never given to bot.telemetry.logs.register_secret by any test (redaction is process-wide).
    unregistered = f"secret-{uuid.uuid4().hex}"
    private_key_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    scanner = LogScanner()
    scanner.add_private_key("the key", private_key_pem)
    scanner.add_secret("the fake's webhook secret", unregistered)

    def leaks_of(message: str) -> list[str]:
        scanner.leaks.clear()
        scanner.check(logging.LogRecord("bot.x", logging.INFO, __file__, 1, message, None, None))
        return [leak.what for leak in scanner.leaks]

    assert leaks_of("all quiet") == []
    # A whole PEM block and known token shapes are redacted by the formatter before the scan…
    assert leaks_of(f"pem {private_key_pem} token ghs_{'q' * 36}") == []
    # …but an unregistered secret or one line of a key would reach the log: the scan says so.
    assert leaks_of(f"verifying with {unregistered}") == ["the fake's webhook secret"]
    assert leaks_of(f"key line {private_key_pem.splitlines()[3]}") == ["the key"]
    assert leaks_of("short token ghs_abcdefgh1") == ["an installation token (ghs_…)"]
