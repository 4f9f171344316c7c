"""Vitest output: failure blocks, result lines and listed tests."""

from __future__ import annotations

from bot.cilogs import parse_log

from tests.cilogs.logs import by_id, ids, listed, read_log


VITEST_IDS = [
    "src/queue.test.ts",
    "Stack > pops the last pushed item",
    "Stack > size counts items",
    "Stack > peek on empty returns undefined",
    "Stack > toArray lists items top first",
]


def test_vitest_fail_blocks():
    parsed = parse_log(read_log("vitest_failures.log"))

    assert parsed.runner == "vitest"
    assert parsed.summary == "Test Files: 2 failed (2); Tests: 4 failed | 1 passed (5)"
    assert ids(parsed) == VITEST_IDS
    pops = by_id(parsed)["Stack > pops the last pushed item"]
    assert (pops.file, pops.line) == ("src/stack.test.ts", 9)
    assert (
        pops.message.splitlines()[0] == "AssertionError: expected 1 to be 2 // Object.is equality"
    )
    assert "- 2" in pops.message.splitlines() and "+ 1" in pops.message.splitlines()
    assert "9|     expect(s.pop()).toBe(2);" in pops.traceback
    peek = by_id(parsed)["Stack > peek on empty returns undefined"]
    assert (peek.file, peek.line, peek.message) == (
        "src/stack.ts",
        10,
        "Error: peek on empty stack",
    )
    suite = by_id(parsed)["src/queue.test.ts"]
    assert (suite.file, suite.line) == ("src/queue.test.ts", 2)
    assert suite.message.startswith("Error: Cannot find module './queue' imported from")


def test_vitest_cross_lines_when_the_error_details_are_missing():
    text = read_log("vitest_failures.log").split("Failed Suites")[0]

    parsed = parse_log(text + "\n Test Files  2 failed (2)\n      Tests  4 failed | 1 passed (5)\n")

    assert parsed.runner == "vitest"
    assert ids(parsed) == VITEST_IDS[1:]
    assert parsed.failures[0].file == "src/stack.test.ts"
    assert parsed.failures[0].message == "expected 1 to be 2 // Object.is equality"


def test_vitest_file_that_failed_to_load_is_a_build_failure():
    parsed = parse_log(read_log("vitest_failures.log"))

    assert [failure.kind for failure in parsed.failures] == ["build", *["test"] * 4]


# --------------------------------------------------------------------------- listed tests

VERBOSE_LISTING = [
    ("Stack > push adds an item", "src/stack.test.ts", "passed"),
    ("Stack > pops the last pushed item", "src/stack.test.ts", "failed"),
    ("Stack > peek returns the top item", "src/stack.test.ts", "skipped"),
    ("Stack > clear empties the stack", "src/stack.test.ts", "skipped"),
    ("Stack > when empty > size is zero", "src/stack.test.ts", "passed"),
    ("Stack > when empty > pop returns null", "src/stack.test.ts", "failed"),
]


def test_vitest_verbose_reporter_lists_every_test_with_its_file():
    parsed = parse_log(read_log("actions_job_vitest_verbose.log"))

    queue = ("queue placeholder", "src/queue.test.ts", "passed")
    assert listed(parsed) == [*VERBOSE_LISTING, queue]


def test_vitest_default_reporter_lists_the_tests_of_files_with_failures():
    # A passing file is one line, `✓ src/queue.test.ts (1 test) 2ms`: its tests are not named.
    parsed = parse_log(read_log("actions_job_vitest_default_reporter.log"))

    assert listed(parsed) == VERBOSE_LISTING


def test_vitest_fail_blocks_name_failed_tests_without_the_result_lines():
    text = read_log("vitest_failures.log")
    without_result_lines = "\n".join(
        line for line in text.splitlines() if "✓" not in line and "×" not in line
    )

    assert listed(parse_log(without_result_lines)) == [
        (test_id, "src/stack.test.ts", "failed") for test_id in VITEST_IDS[1:]
    ]
