"""Jest output: failure blocks, the test tree and listed tests."""

from __future__ import annotations

from bot.cilogs import parse_log

from tests.cilogs.logs import by_id, ids, listed, read_log


def test_jest_blocks_and_suite_that_failed_to_run():
    parsed = parse_log(read_log("jest_failures.log"))

    assert parsed.runner == "jest"
    assert parsed.summary == "Test Suites: 2 failed, 2 total; Tests: 4 failed, 1 passed, 5 total"
    assert ids(parsed) == [
        "Stack > pops the last pushed item",
        "Stack > size counts items",
        "Stack > peek on empty returns undefined",
        "Stack > toArray lists items top first",
        "src/queue.test.js",
    ]
    pops = by_id(parsed)["Stack > pops the last pushed item"]
    assert (pops.file, pops.line) == ("src/stack.test.js", 8)
    assert pops.message.splitlines() == [
        "expect(received).toBe(expected) // Object.is equality",
        "",
        "Expected: 2",
        "Received: 1",
    ]
    assert "at Object.toBe (src/stack.test.js:8:21)" in pops.traceback
    peek = by_id(parsed)["Stack > peek on empty returns undefined"]
    assert (peek.file, peek.line, peek.message) == ("src/stack.js", 12, "peek on empty stack")
    suite = by_id(parsed)["src/queue.test.js"]
    assert (suite.file, suite.line) == ("src/queue.test.js", 1)
    assert suite.message.startswith("Cannot find module './queue' from 'src/queue.test.js'")


def test_jest_tree_lines_when_the_error_details_are_missing():
    # Jest 30.5.2's own output for a single test file, cut before its `●` blocks.
    text = "\n".join(
        [
            "FAIL src/stack.test.js",
            "  Stack",
            "    ✕ pops the last pushed item (3 ms)",
            "    ✕ size counts items (1 ms)",
            "    ✓ push adds an item (1 ms)",
            "    nested",
            "      ✕ peeks (2 ms)",
            "",
            "Test Suites: 1 failed, 1 total",
            "Tests:       3 failed, 1 passed, 4 total",
        ]
    )

    parsed = parse_log(text)

    assert parsed.runner == "jest"
    assert ids(parsed) == [
        "Stack > pops the last pushed item",
        "Stack > size counts items",
        "Stack > nested > peeks",
    ]
    assert {failure.file for failure in parsed.failures} == {"src/stack.test.js"}


def test_jest_suite_that_failed_to_run_is_a_build_failure():
    parsed = parse_log(read_log("jest_failures.log"))

    assert by_id(parsed)["src/queue.test.js"].kind == "build"
    assert {f.kind for f in parsed.failures if f.test_id != "src/queue.test.js"} == {"test"}


# --------------------------------------------------------------------------- listed tests


def test_jest_verbose_lists_the_test_tree():
    parsed = parse_log(read_log("actions_job_jest_verbose.log"))

    assert listed(parsed) == [
        ("Stack > push adds an item", "src/stack.test.js", "passed"),
        ("Stack > pops the last pushed item", "src/stack.test.js", "failed"),
        ("Stack > peek returns the top item", "src/stack.test.js", "skipped"),
        ("Stack > clear empties the stack", "src/stack.test.js", "skipped"),
        ("Stack > when empty > size is zero", "src/stack.test.js", "passed"),
        ("Stack > when empty > pop returns undefined", "src/stack.test.js", "failed"),
        ("queue placeholder", "src/queue.test.js", "passed"),
    ]
    assert {test.test_id for test in parsed.listed_tests if test.outcome == "failed"} == set(
        ids(parsed)
    )


def test_jest_without_a_tree_lists_the_failure_blocks():
    parsed = parse_log(read_log("jest_failures.log"))

    assert listed(parsed) == [
        ("Stack > pops the last pushed item", "src/stack.test.js", "failed"),
        ("Stack > size counts items", "src/stack.test.js", "failed"),
        ("Stack > peek on empty returns undefined", "src/stack.test.js", "failed"),
        ("Stack > toArray lists items top first", "src/stack.test.js", "failed"),
    ]
