"""go test output: failures, build failures and listed tests."""

from __future__ import annotations

import pytest

from bot.cilogs import Failure, parse_log

from tests.cilogs.logs import GO_IDS, by_id, ids, read_log


@pytest.mark.parametrize("name", ["go_test_failures.log", "go_test_verbose_failures.log"])
def test_go_test_failures(name):
    parsed = parse_log(read_log(name))

    assert parsed.runner == "go"
    assert parsed.summary == "FAIL example.com/stackgo 0.004s"
    assert ids(parsed) == GO_IDS
    failures = by_id(parsed)
    assert (failures["TestPushPop"].file, failures["TestPushPop"].line) == ("stack_test.go", 10)
    assert failures["TestPushPop"].message == "Pop() = 1, want 2"
    assert failures["TestLen"].message == "Len() = 2, want 1"
    assert failures["TestLenTable/two_items"].message == "Len() = 3, want 2\nitems: [1 2]"
    panic = failures["TestPopEmptyPanics"]
    assert panic.message == "panic: runtime error: index out of range [0] with length 0"
    assert (panic.file, panic.line) == ("stack.go", 8)
    assert "stack_test.go:54" in panic.traceback
    assert "testing.tRunner" not in panic.traceback


def test_go_build_failure():
    parsed = parse_log(read_log("go_build_failure.log"))

    assert parsed.runner == "go"
    assert parsed.summary == "FAIL example.com/queuego [build failed]"
    assert parsed.failures == (
        Failure(
            "example.com/queuego [build failed]",
            "queue_test.go",
            6,
            "undefined: NewQueue",
            kind="build",
        ),
    )


# ------------------------------------------------------------------- go build and go vet


def test_go_build_errors_outside_go_test():
    parsed = parse_log(read_log("actions_job_go_build_errors.log"))

    assert parsed.runner == "go"
    assert [(f.test_id, f.file, f.line, f.message, f.kind) for f in parsed.failures] == [
        (
            "example.com/stackgo [build failed]",
            "stack.go",
            14,
            'invalid operation: len(s.items) + "1" (mismatched types int and untyped string)',
            "build",
        ),
        ("example.com/stackgo [build failed]", "stack.go", 16, "undefined: x", "build"),
    ]
    assert parsed.excerpt == ""


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        (
            "actions_job_go_vet.log",
            17,
            "fmt.Sprintf format %s has arg len(s.items) of wrong type int",
        ),
        (
            "actions_job_go_vet_type_error.log",
            14,
            'invalid operation: len(s.items) + "1" (mismatched types int and untyped string)',
        ),
    ],
)
def test_go_vet_errors(name, line, message):
    [failure] = parse_log(read_log(name)).failures

    assert (failure.test_id, failure.file, failure.line) == (
        "example.com/stackgo [build failed]",
        "stack.go",
        line,
    )
    assert (failure.message, failure.kind) == (message, "build")


# --------------------------------------------------------------------------- listed tests


def test_go_verbose_lists_tests_with_their_package():
    parsed = parse_log(read_log("actions_job_go_test_verbose_packages.log"))

    assert [(t.test_id, t.file, t.outcome, t.package) for t in parsed.listed_tests] == [
        ("TestPushPop", None, "failed", "example.com/stackgo"),
        ("TestPush", None, "passed", "example.com/stackgo"),
        ("TestPeek", None, "skipped", "example.com/stackgo"),
        ("TestLenTable", None, "failed", "example.com/stackgo"),
        ("TestLenTable/empty", None, "failed", "example.com/stackgo"),
        ("TestLenTable/two_items", None, "failed", "example.com/stackgo"),
        ("TestPutGet", None, "passed", "example.com/stackgo/queue"),
        ("TestPush", None, "passed", "example.com/stackgo/queue"),
    ]


def test_go_without_v_lists_the_failures_and_without_a_package_line_no_package():
    failures_only = parse_log(read_log("go_test_failures.log"))
    cut = parse_log("\n".join(read_log("go_test_verbose_failures.log").splitlines()[:-2]))

    assert {test.outcome for test in failures_only.listed_tests} == {"failed"}
    assert {test.test_id for test in failures_only.listed_tests} == {*GO_IDS, "TestLenTable"}
    assert {test.package for test in failures_only.listed_tests} == {"example.com/stackgo"}
    assert ("TestPeek", "passed", None) in [
        (test.test_id, test.outcome, test.package) for test in cut.listed_tests
    ]
