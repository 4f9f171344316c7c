"""Watch every log record of the test run, as our JSON formatter would write it, for credentials.

`LogScanner.installed()` wraps `logging.Logger.callHandlers`, so it sees each record that any
logger emits, whatever handlers are attached at the time (the CLI's `configure_logging` replaces
the root handlers, pytest swaps its own per test). The run's `bot` and `webhooks` loggers are
opened down to DEBUG and the root to INFO, so the lines an operator may enable are checked too.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pytest

from bot.telemetry.logs import ContextFilter, JSONFormatter

TOKEN_PATTERNS = {
    "an installation token (ghs_…)": re.compile(r"ghs_[A-Za-z0-9]{8,}"),
    "an Anthropic API key (sk-ant-…)": re.compile(r"sk-ant-[A-Za-z0-9_\-]{4,}"),
    "a private key block": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a GitHub App JWT (eyJ….eyJ….…)": re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\."),
}

OPENED_LEVELS = {"": logging.INFO, "bot": logging.DEBUG, "webhooks": logging.DEBUG}


def pem_body_lines(pem: str) -> list[str]:
    """The base64 lines of a PEM: any one of them in a log line is a leak of the key."""
    return [line.strip() for line in pem.splitlines() if line.strip() and not line.startswith("-----")]


@dataclass
class Leak:
    what: str
    logger: str
    line: str

    def __str__(self) -> str:
        return f"{self.what} in a log line of {self.logger!r}: {self.line[:300]}"


@dataclass
class LogScanner:
    literals: dict[str, str] = field(default_factory=dict)  # secret value → what it is
    formatter: logging.Formatter = field(default_factory=JSONFormatter)
    leaks: list[Leak] = field(default_factory=list)
    lines_seen: int = 0

    def add_secret(self, what: str, value: str) -> None:
        self.literals[value] = what

    def add_private_key(self, what: str, pem: str) -> None:
        for line in pem_body_lines(pem):
            self.add_secret(what, line)

    def findings(self, line: str) -> Iterable[str]:
        for value, what in self.literals.items():
            if value in line:
                yield what
        for what, pattern in TOKEN_PATTERNS.items():
            if pattern.search(line):
                yield what

    def check(self, record: logging.LogRecord) -> None:
        ContextFilter().filter(record)
        try:
            line = self.formatter.format(record)
        except Exception as exc:  # noqa: BLE001 - a record that cannot be formatted is its own bug
            line = f"<unformattable record {record.msg!r}: {exc}>"
        self.lines_seen += 1
        self.leaks.extend(Leak(what, record.name, self.mask(line)) for what in dict.fromkeys(self.findings(line)))

    def mask(self, line: str) -> str:
        """The line as reported: where each credential was, not the credential itself."""
        for value, what in self.literals.items():
            line = line.replace(value, f"<{what}>")
        for what, pattern in TOKEN_PATTERNS.items():
            line = pattern.sub(f"<{what}>", line)
        return line

    @contextlib.contextmanager
    def installed(self) -> Iterator[LogScanner]:
        original = logging.Logger.callHandlers
        scanner = self

        def call_handlers(logger: logging.Logger, record: logging.LogRecord) -> None:
            scanner.check(record)
            original(logger, record)

        loggers = {logging.getLogger(name): level for name, level in OPENED_LEVELS.items()}
        before = {logger: logger.level for logger in loggers}
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(logging.Logger, "callHandlers", call_handlers)
            for logger, level in loggers.items():
                logger.setLevel(level)
            try:
                yield self
            finally:
                for logger, level in before.items():
                    logger.setLevel(level)

    def assert_clean(self) -> None:
        if self.leaks:
            shown = "\n".join(f"  - {leak}" for leak in self.leaks[:20])
            raise AssertionError(f"{len(self.leaks)} log line(s) of the test run carry a credential:\n{shown}")
