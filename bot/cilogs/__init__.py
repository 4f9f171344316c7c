"""Reading CI job logs: the failing tests (or build errors) in them, and their text for Claude.

One module per test runner (`pytest`, `exunit`, `jest`, `vitest`, `gotest`, `cargo`), build
errors in `builds`, what they share in `common`, the report in `report`, and `parse`, which
detects the runner and puts it together.
"""

from bot.cilogs.parse import failure_signature, parse_log
from bot.cilogs.report import (
    DEFAULT_MAX_BYTES,
    Failure,
    ListedTest,
    ParsedLog,
    render,
    truncate_utf8,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Failure",
    "ListedTest",
    "ParsedLog",
    "failure_signature",
    "parse_log",
    "render",
    "truncate_utf8",
]
