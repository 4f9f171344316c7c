"""Helpers for the CI log tests: the fixtures in tests/fixtures/logs and job-log framing."""

from __future__ import annotations

from pathlib import Path

from bot.cilogs import Failure, ParsedLog

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def read_log(name: str) -> str:
    return (LOGS / name).read_bytes().decode("utf-8")


def by_id(parsed: ParsedLog) -> dict[str, Failure]:
    return {failure.test_id: failure for failure in parsed.failures}


def ids(parsed: ParsedLog) -> list[str]:
    return [failure.test_id for failure in parsed.failures]


def actions_log(lines: list[str]) -> str:
    """Lines in GitHub's job-log format, one timestamp each."""
    return "".join(
        f"2026-11-25T10:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}0000Z {line}\n"
        for n, line in enumerate(lines)
    )


def filler_log(filler, size: int) -> str:
    """At least `size` characters of job log made of `filler(n)` lines."""
    parts: list[str] = []
    total = n = 0
    while total < size:
        chunk = actions_log([filler(n + i) for i in range(10_000)])
        parts.append(chunk)
        total += len(chunk)
        n += 10_000
    return "".join(parts)


PYTEST_IDS = [
    "tests/test_stack.py::test_push_then_pop_returns_last_item",
    "tests/test_stack.py::test_pop_empty_raises_index_error",
    "tests/test_stack.py::test_len_counts_items",
    "tests/test_stack.py::test_peek_empty_raises_key_error",
    "tests/test_stack.py::TestStackIteration::test_iter_yields_top_first",
    "tests/test_stack.py::test_len_param[items0-0]",
    "tests/test_stack.py::test_len_param[items1-2]",
]


GO_IDS = [
    "TestPushPop",
    "TestLen",
    "TestLenTable/empty",
    "TestLenTable/two_items",
    "TestPopEmptyPanics",
]


def listed(parsed: ParsedLog) -> list[tuple[str, str | None, str]]:
    """(test id, file, outcome) of each listed test."""
    return [(test.test_id, test.file, test.outcome) for test in parsed.listed_tests]
