"""cargo test output: failures, build failures and listed tests."""

from __future__ import annotations

from bot.cilogs import parse_log

from tests.cilogs.logs import by_id, ids, listed, read_log


def test_cargo_test_failures_across_test_targets():
    parsed = parse_log(read_log("cargo_test_failures.log"))

    assert parsed.runner == "cargo"
    assert parsed.summary == "4 failed; 1 passed; 0 ignored (in 3 test targets)"
    assert ids(parsed) == [
        "stack_rs::tests::len_counts_items",
        "stack_rs::tests::pop_empty_is_none",
        "stack_rs::tests::push_then_pop_returns_last",
        "integration::many_pushes",
    ]
    length = by_id(parsed)["stack_rs::tests::len_counts_items"]
    assert (length.file, length.line) == ("src/lib.rs", 46)
    assert (
        length.message
        == "assertion `left == right` failed: len after one push\n  left: 2\n right: 1"
    )
    assert length.traceback.splitlines()[0] == "stack_rs::tests::len_counts_items at src/lib.rs:46"
    assert "/rustc/" not in length.traceback
    integration = by_id(parsed)["integration::many_pushes"]
    assert (integration.file, integration.line) == ("tests/integration.rs", 9)
    assert integration.message == "expected 3 items, got 4"


def test_cargo_build_failure():
    parsed = parse_log(read_log("cargo_build_failure.log"))

    assert parsed.runner == "cargo"
    assert parsed.summary == "could not compile `stack_rs` (lib test) due to 1 previous error"
    [failure] = parsed.failures
    assert failure.test_id == "stack_rs (lib test) [build failed]"
    assert (failure.file, failure.line) == ("src/lib.rs", 72)
    assert failure.message == (
        "error[E0599]: no method named `clear` found for struct `Stack<T>` in the current scope"
    )
    assert "s.clear();" in failure.traceback


def test_cargo_panic_format_before_rust_1_73():
    text = "\n".join(
        [
            "running 1 test",
            "test tests::pop ... FAILED",
            "",
            "failures:",
            "",
            "---- tests::pop stdout ----",
            "thread 'tests::pop' panicked at 'assertion failed: `(left == right)`",
            "  left: `1`,",
            " right: `2`', src/lib.rs:10:5",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
            "",
            "failures:",
            "    tests::pop",
            "",
            "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; "
            "finished in 0.00s",
        ]
    )

    [failure] = parse_log(text).failures

    assert (failure.test_id, failure.file, failure.line) == ("tests::pop", "src/lib.rs", 10)
    assert failure.message == "assertion failed: `(left == right)`\n  left: `1`,\n right: `2`"


def test_cargo_failures_list_without_the_blocks():
    lines = read_log("cargo_test_failures.log").splitlines()
    listed_only = [line for line in lines if not line.startswith("test ") or "result" in line]
    start = listed_only.index("---- tests::len_counts_items stdout ----")
    end = listed_only.index("    tests::len_counts_items") - 2
    text = "\n".join(listed_only[:start] + listed_only[end:])

    parsed = parse_log(text)

    assert sorted(ids(parsed)) == [
        "integration::many_pushes",
        "stack_rs::tests::len_counts_items",
        "stack_rs::tests::pop_empty_is_none",
        "stack_rs::tests::push_then_pop_returns_last",
    ]
    assert by_id(parsed)["stack_rs::tests::pop_empty_is_none"].message == ""
    assert by_id(parsed)["integration::many_pushes"].message == "expected 3 items, got 4"


def test_cargo_build_errors_outside_cargo_test():
    parsed = parse_log(read_log("actions_job_cargo_build_errors.log"))

    assert parsed.runner == "cargo"
    assert parsed.summary == "could not compile `stack_rs` (lib) due to 2 previous errors"
    assert [(f.test_id, f.file, f.line, f.message, f.kind) for f in parsed.failures] == [
        (
            "stack_rs (lib) [build failed]",
            "src/lib.rs",
            13,
            "error[E0425]: cannot find value `itme` in this scope",
            "build",
        ),
        (
            "stack_rs (lib) [build failed]",
            "src/lib.rs",
            18,
            "error[E0308]: mismatched types",
            "build",
        ),
    ]
    assert "self.items.push(itme);" in parsed.failures[0].traceback
    assert parse_log(read_log("cargo_build_failure.log")).failures[0].kind == "build"


# --------------------------------------------------------------------------- listed tests


def test_cargo_lists_tests_of_every_target():
    parsed = parse_log(read_log("actions_job_cargo_test_listing.log"))

    assert listed(parsed) == [
        ("stack_rs::tests::peek_returns_top", None, "skipped"),
        ("stack_rs::tests::push_adds_an_item", None, "passed"),
        ("stack_rs::tests::pop_returns_last", None, "failed"),
        ("integration::empty_pop_is_none", "tests/integration.rs", "passed"),
        ("integration::many_pushes", "tests/integration.rs", "failed"),
        ("src/lib.rs - Stack (line 5)", "src/lib.rs", "passed"),
    ]
    assert ids(parsed) == ["stack_rs::tests::pop_returns_last", "integration::many_pushes"]


def test_cargo_failures_list_names_failed_tests_without_the_test_lines():
    lines = read_log("cargo_test_failures.log").splitlines()
    without_test_lines = [
        line for line in lines if not line.startswith("test ") or "result" in line
    ]

    assert sorted(listed(parse_log("\n".join(without_test_lines)))) == [
        ("integration::many_pushes", "tests/integration.rs", "failed"),
        ("stack_rs::tests::len_counts_items", None, "failed"),
        ("stack_rs::tests::pop_empty_is_none", None, "failed"),
        ("stack_rs::tests::push_then_pop_returns_last", None, "failed"),
    ]
