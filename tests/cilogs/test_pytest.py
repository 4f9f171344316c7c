"""pytest output: failures, build failures and listed tests."""

from __future__ import annotations

from bot.cilogs import parse_log

from tests.cilogs.logs import PYTEST_IDS, by_id, ids, listed, read_log


def test_pytest_full_output_gives_node_ids_locations_and_messages():
    parsed = parse_log(read_log("pytest_failures.log"))

    assert parsed.runner == "pytest"
    assert parsed.summary == "7 failed, 1 passed in 0.03s"
    assert ids(parsed) == PYTEST_IDS
    failures = by_id(parsed)
    push_pop = failures["tests/test_stack.py::test_push_then_pop_returns_last_item"]
    assert (push_pop.file, push_pop.line) == ("tests/test_stack.py", 10)
    assert push_pop.message.splitlines()[0] == "assert 1 == 2"
    assert ">       assert s.pop() == 2" in push_pop.traceback
    raises = failures["tests/test_stack.py::test_pop_empty_raises_index_error"]
    assert raises.message.splitlines() == [
        "AssertionError: Regex pattern did not match.",
        "  Expected regex: 'empty stack'",
        "  Actual message: 'pop from empty list'",
    ]
    assert parsed.excerpt == ""


def test_pytest_failure_inside_the_implementation_points_at_the_crash_line():
    parsed = parse_log(read_log("pytest_failures.log"))

    peek = by_id(parsed)["tests/test_stack.py::test_peek_empty_raises_key_error"]
    assert (peek.file, peek.line) == ("stack.py", 12)
    assert peek.message == "IndexError: list index out of range"
    assert peek.traceback.splitlines() == [
        ">           s.peek()",
        "tests/test_stack.py:34:",
        ">       return self._items[-1]",
        "stack.py:12: IndexError",
    ]
    iteration = by_id(parsed)["tests/test_stack.py::TestStackIteration::test_iter_yields_top_first"]
    assert (iteration.line, iteration.message) == (42, "TypeError: 'Stack' object is not iterable")


def test_pytest_short_summary_only():
    parsed = parse_log(read_log("pytest_short_summary.log"))

    assert parsed.runner == "pytest"
    assert parsed.summary == "7 failed, 1 passed in 0.01s"
    assert ids(parsed) == PYTEST_IDS
    first = parsed.failures[0]
    assert (first.file, first.line, first.message) == ("tests/test_stack.py", None, "assert 1 == 2")
    assert by_id(parsed)["tests/test_stack.py::test_len_param[items1-2]"].message == "assert 3 == 2"


def test_pytest_sections_without_short_summary_rebuild_node_ids():
    text = read_log("pytest_failures.log").split("= short test summary info =")[0]

    parsed = parse_log(text)

    assert ids(parsed) == PYTEST_IDS
    assert by_id(parsed)["tests/test_stack.py::test_len_param[items0-0]"].message.startswith(
        "assert 1 == 0"
    )


def test_pytest_collection_error():
    parsed = parse_log(read_log("pytest_collection_error.log"))

    assert parsed.runner == "pytest"
    assert parsed.summary == "1 error in 0.10s"
    [failure] = parsed.failures
    assert failure.test_id == "tests/test_queue.py"
    assert (failure.file, failure.line) == ("tests/test_queue.py", 1)
    assert failure.message == "ModuleNotFoundError: No module named 'queue_impl'"


def test_pytest_q_lines_with_full_messages():
    text = "\n".join(
        [
            "..F",
            "FAILED tests/test_stack.py::test_pop_empty - IndexError: pop from empty list",
            "FAILED tests/test_stack.py::TestPeek::test_peek[1.5-x] - assert None == 1.5",
            "2 failed, 1 passed in 0.12s",
        ]
    )

    parsed = parse_log(text)

    assert parsed.runner == "pytest"
    assert parsed.summary == "2 failed, 1 passed in 0.12s"
    assert [(f.test_id, f.file, f.message) for f in parsed.failures] == [
        (
            "tests/test_stack.py::test_pop_empty",
            "tests/test_stack.py",
            "IndexError: pop from empty list",
        ),
        (
            "tests/test_stack.py::TestPeek::test_peek[1.5-x]",
            "tests/test_stack.py",
            "assert None == 1.5",
        ),
    ]


def test_pytest_parametrized_ids_with_spaces():
    text = "\n".join(
        [
            "=========================== short test summary info ============================",
            "FAILED tests/test_fmt.py::test_format[two words-x] - AssertionError: 'a' != 'b'",
            "ERROR tests/test_fmt.py::test_setup - fixture 'db' not found",
            "========================= 1 failed, 1 error in 0.05s ==========================",
        ]
    )

    parsed = parse_log(text)

    assert [(f.test_id, f.message) for f in parsed.failures] == [
        ("tests/test_fmt.py::test_format[two words-x]", "AssertionError: 'a' != 'b'"),
        ("tests/test_fmt.py::test_setup", "fixture 'db' not found"),
    ]
    assert parsed.summary == "1 failed, 1 error in 0.05s"


def test_pytest_failures_section_split_by_a_huge_middle_part():
    raw = read_log("pytest_failures.log").splitlines()
    cut = raw.index(
        "____________________________ test_len_counts_items _____________________________"
    )
    noise = [f"captured: retrying request {n} after backoff" for n in range(60_000)]
    text = "\n".join(raw[:cut] + noise + raw[cut:])
    assert len(text) > 2_500_000

    parsed = parse_log(text)

    assert ids(parsed) == PYTEST_IDS
    peek = by_id(parsed)["tests/test_stack.py::test_peek_empty_raises_key_error"]
    assert (peek.file, peek.line) == ("stack.py", 12)


# ------------------------------------------------------------------------- build failures


def test_pytest_collection_errors_are_build_failures_and_setup_errors_are_not():
    collection = parse_log(read_log("pytest_collection_error.log"))
    summary_only = parse_log(
        "ERROR tests/test_queue.py\n"
        "ERROR tests/test_stack.py::test_full_stack - RuntimeError: no storage\n"
        "2 errors in 0.05s\n"
    )
    setup = by_id(parse_log(read_log("actions_job_pytest_rA.log")))

    assert [failure.kind for failure in collection.failures] == ["build"]
    assert [(f.test_id, f.kind) for f in summary_only.failures] == [
        ("tests/test_queue.py", "build"),
        ("tests/test_stack.py::test_full_stack", "test"),
    ]
    assert setup["tests/test_stack.py::test_full_stack_is_not_empty"].kind == "test"
    assert {failure.kind for failure in parse_log(read_log("pytest_failures.log")).failures} == {
        "test"
    }


# --------------------------------------------------------------------------- listed tests

STACK = [
    ("test_push_then_pop_returns_last_item", "failed"),
    ("test_push_adds_an_item", "passed"),
    ("test_len_counts_items", "failed"),
    ("test_peek_returns_top", "skipped"),
    ("test_iter_yields_top_first", "skipped"),
    ("test_push_many", "passed"),
    ("TestStackPop::test_pop_after_push", "passed"),
    ("TestStackPop::test_pop_returns_last[items0]", "passed"),
    ("TestStackPop::test_pop_returns_last[items1]", "failed"),
    ("test_full_stack_is_not_empty", "failed"),
]
RA_AND_VERBOSE_LISTING = [
    ("tests/test_queue.py::test_queue_placeholder", "tests/test_queue.py", "passed"),
    *[(f"tests/test_stack.py::{test}", "tests/test_stack.py", outcome) for test, outcome in STACK],
]


def test_pytest_verbose_lists_every_test_with_its_outcome():
    parsed = parse_log(read_log("actions_job_pytest_verbose.log"))

    assert listed(parsed) == RA_AND_VERBOSE_LISTING


def test_pytest_rA_lists_the_short_summary_but_not_skipped_locations():
    parsed = parse_log(read_log("actions_job_pytest_rA.log"))

    # `SKIPPED [1] tests/test_stack.py:25: …` names no test: only -v lists skipped tests.
    without_skipped = [test for test in RA_AND_VERBOSE_LISTING if test[2] != "skipped"]
    xfailed = ("tests/test_stack.py::test_iter_yields_top_first", "tests/test_stack.py", "skipped")
    assert sorted(listed(parsed)) == sorted([*without_skipped, xfailed])


def test_pytest_without_rA_or_v_lists_only_the_failures():
    parsed = parse_log(read_log("pytest_failures.log"))

    assert listed(parsed) == [(nodeid, "tests/test_stack.py", "failed") for nodeid in PYTEST_IDS]
    assert parse_log(read_log("pytest_collection_error.log")).listed_tests == ()


def test_pytest_listing_ignores_captured_output_and_a_teardown_error_wins():
    text = "\n".join(
        [
            "============================= test session starts ==============================",
            "tests/test_a.py::test_x PASSED                                           [ 50%]",
            "tests/test_a.py::test_x ERROR                                            [ 50%]",
            "tests/test_a.py::test_y FAILED                                           [100%]",
            "=================================== FAILURES ===================================",
            "___________________________________ test_y ____________________________________",
            "----------------------------- Captured stdout call -----------------------------",
            "PASSED tests/test_b.py::test_printed_by_the_test",
            "==================================== PASSES ====================================",
            "PASSED tests/test_b.py::test_printed_by_a_passing_test",
            "=========================== short test summary info ============================",
            "FAILED tests/test_a.py::test_y - assert 1 == 2",
            "==================== 1 failed, 1 passed, 1 error in 0.05s =====================",
        ]
    )

    assert listed(parse_log(text)) == [
        ("tests/test_a.py::test_x", "tests/test_a.py", "failed"),
        ("tests/test_a.py::test_y", "tests/test_a.py", "failed"),
    ]
