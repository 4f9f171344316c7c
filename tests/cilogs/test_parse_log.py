"""parse_log on GitHub Actions job logs, unknown formats and empty logs."""

from __future__ import annotations

import pytest

from bot.cilogs import ParsedLog, failure_signature, parse_log, render
from bot.cilogs.common import clean_log

from tests.cilogs.logs import LOGS, PYTEST_IDS, actions_log, ids, read_log


def test_clean_log_strips_timestamps_colours_and_group_markers():
    raw = (
        "\ufeff2026-11-25T10:00:00.0000000Z ##[group]Run pytest\r\n"
        "2026-11-25T10:00:00.1000000Z shell: /usr/bin/bash -e {0}\r\n"
        "2026-11-25T10:00:00.2000000Z ##[endgroup]\r\n"
        "2026-11-25T10:00:01.1234567Z \x1b[31m\x1b[1mFAILED\x1b[0m tests/test_a.py::test_x\r\n"
        "2026-11-25T10:00:01.2000000Z ##[debug]Evaluating condition\r\n"
        "2026-11-25T10:00:02.0000000Z ##[error]Process completed with exit code 1.\r\n"
    )

    assert clean_log(raw).splitlines() == [
        "Run pytest",
        "shell: /usr/bin/bash -e {0}",
        "FAILED tests/test_a.py::test_x",
        "Error: Process completed with exit code 1.",
    ]


def test_clean_log_drops_hyperlink_escapes():
    text = "\x1b]8;;file:///home/runner/work/a/a/src/x.ts\x07src/x.ts\x1b]8;;\x07:3:1"

    assert clean_log(text) == "src/x.ts:3:1"


@pytest.mark.parametrize(
    ("job_log", "raw_log"),
    [
        ("actions_job_pytest.log", "pytest_failures.log"),
        ("actions_job_vitest.log", "vitest_failures.log"),
    ],
)
def test_a_job_log_parses_like_the_raw_output(job_log, raw_log):
    job = parse_log(read_log(job_log))
    raw = parse_log(read_log(raw_log))

    assert job.runner == raw.runner
    assert job.failures == raw.failures
    assert job.summary == raw.summary
    assert failure_signature(job) == failure_signature(raw)


def test_bytes_are_accepted():
    parsed = parse_log((LOGS / "actions_job_pytest.log").read_bytes())

    assert ids(parsed) == PYTEST_IDS


def test_unknown_format_falls_back_to_an_excerpt_around_errors():
    parsed = parse_log(read_log("actions_job_make_error.log"))

    assert parsed.runner == "unknown"
    assert parsed.failures == ()
    assert parsed.summary is None
    lines = parsed.excerpt.splitlines()
    assert "stack.c:6:24: error: ‘Stack’ has no member named ‘lenght’" in lines
    assert "make: *** [<builtin>: stack.o] Error 1" in lines
    assert lines[-1] == "Error: Process completed with exit code 2."
    assert "Current runner version: '2.329.0'" not in parsed.excerpt
    assert "Post job cleanup." not in parsed.excerpt
    assert "has no member named ‘lenght’" in render(parsed)


def test_unknown_format_excerpt_is_deduplicated_and_capped():
    lines = [f"step {n}: compiling module_{n}.c" for n in range(5000)]
    for n in range(0, 5000, 10):
        lines.insert(n, "ld: warning: Error-prone flag -fcommon ignored")
    lines += ["make: *** [Makefile:12: all] Error 2", "FAILED to build stack"]

    parsed = parse_log(actions_log(lines))

    excerpt = parsed.excerpt.splitlines()
    assert parsed.runner == "unknown"
    assert excerpt.count("ld: warning: Error-prone flag -fcommon ignored") == 1
    assert excerpt[-2:] == ["make: *** [Makefile:12: all] Error 2", "FAILED to build stack"]
    assert len(excerpt) <= 160


def test_a_known_runner_with_no_parsed_failure_still_gets_an_excerpt():
    text = "\n".join(
        [
            "============================= test session starts ==============================",
            "collected 0 items",
            "INTERNALERROR> Traceback (most recent call last):",
            "INTERNALERROR> ValueError: bad config",
            "============================ no tests ran in 0.01s =============================",
        ]
    )

    parsed = parse_log(text)

    assert parsed.runner == "pytest"
    assert parsed.failures == ()
    assert parsed.summary == "no tests ran in 0.01s"
    assert "INTERNALERROR> ValueError: bad config" in parsed.excerpt


def test_empty_log():
    parsed = parse_log("")

    assert parsed == ParsedLog(runner="unknown", failures=(), summary=None, excerpt="")
    assert (
        render(parsed)
        == "Test runner: unknown\nNo failing tests or error lines were found in the log."
    )
    assert failure_signature(parsed) == failure_signature(parse_log("\n\n"))
