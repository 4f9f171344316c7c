"""ExUnit output: failure blocks and listed tests."""

from __future__ import annotations

from bot.cilogs import parse_log

from tests.cilogs.logs import by_id, ids, listed, read_log


def test_exunit_failure_blocks():
    parsed = parse_log(read_log("exunit_failures.log"))

    assert parsed.runner == "exunit"
    assert parsed.summary == "5 tests, 4 failures"
    assert ids(parsed) == [
        "StackExTest: test push then pop returns the last item",
        "StackExTest: test size counts items",
        "StackExTest: test peek on empty stack returns nil",
        "StackExTest: test pop/1 returns error tuple on empty stack",
    ]
    size = by_id(parsed)["StackExTest: test size counts items"]
    assert (size.file, size.line) == ("test/stack_ex_test.exs", 9)
    assert size.message.splitlines() == [
        "Assertion with == failed",
        "code:  assert StackEx.size(stack) == 1",
        "left:  2",
        "right: 1",
    ]
    assert size.traceback == "test/stack_ex_test.exs:11: (test)"
    pop = by_id(parsed)["StackExTest: test pop/1 returns error tuple on empty stack"]
    assert (pop.file, pop.line) == ("test/stack_ex_test.exs", 23)
    assert pop.message.splitlines()[0] == "** (ArgumentError) cannot pop"
    assert "(stack_ex 0.1.0) lib/stack_ex.ex:8: StackEx.pop/1" in pop.traceback


# --------------------------------------------------------------------------- listed tests


def test_exunit_trace_lists_each_test_under_its_module():
    parsed = parse_log(read_log("actions_job_exunit_trace.log"))

    assert parsed.summary == "6 tests, 2 failures, 1 skipped"
    stack_tests = "test/stack_ex_test.exs"
    assert listed(parsed) == [
        ("StackExTest: test peek on empty stack returns nil", stack_tests, "skipped"),
        ("StackExTest: test push then pop returns the last item", stack_tests, "failed"),
        ("StackExTest: test size counts items", stack_tests, "failed"),
        ("StackExTest: test push adds an item", stack_tests, "passed"),
        ("StackExTest: test pop/1 returns the top item", stack_tests, "passed"),
        ("QueueExTest: test new queue is empty", "test/queue_ex_test.exs", "passed"),
    ]


def test_exunit_trace_marks_excluded_tests_skipped_and_ignores_unfinished_ones():
    # `mix test --trace --exclude slow` (Elixir 1.14), plus a test that never finished.
    text = "\n".join(
        [
            "SlowTest [test/slow_test.exs]",
            "  * test a slow one [L#5]\r  * test a slow one (excluded) [L#5]",
            "  * test hangs forever [L#9]",
            "All tests have been excluded.",
            "",
            "Finished in 0.01 seconds (0.00s async, 0.01s sync)",
            "1 test, 0 failures, 1 excluded",
        ]
    )

    assert listed(parse_log(text)) == [
        ("SlowTest: test a slow one", "test/slow_test.exs", "skipped")
    ]


def test_exunit_without_trace_lists_the_failures():
    parsed = parse_log(read_log("exunit_failures.log"))

    assert listed(parsed) == [
        (test_id, "test/stack_ex_test.exs", "failed") for test_id in ids(parsed)
    ]
