"""CI log parsing: real runner output (tests/fixtures/logs) -> structured failures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.checks.parsers import (
    Failure,
    ParsedLog,
    clean_log,
    failure_signature,
    parse_log,
    render,
)

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


# --------------------------------------------------------------------------- pytest

PYTEST_IDS = [
    "tests/test_stack.py::test_push_then_pop_returns_last_item",
    "tests/test_stack.py::test_pop_empty_raises_index_error",
    "tests/test_stack.py::test_len_counts_items",
    "tests/test_stack.py::test_peek_empty_raises_key_error",
    "tests/test_stack.py::TestStackIteration::test_iter_yields_top_first",
    "tests/test_stack.py::test_len_param[items0-0]",
    "tests/test_stack.py::test_len_param[items1-2]",
]


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


# ---------------------------------------------------------------------------- ExUnit


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


# ------------------------------------------------------------------------------ Jest


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


# ---------------------------------------------------------------------------- Vitest

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


# -------------------------------------------------------------------------------- go

GO_IDS = [
    "TestPushPop",
    "TestLen",
    "TestLenTable/empty",
    "TestLenTable/two_items",
    "TestPopEmptyPanics",
]


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
        Failure("example.com/queuego [build failed]", "queue_test.go", 6, "undefined: NewQueue"),
    )


# ----------------------------------------------------------------------------- cargo


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


# ------------------------------------------------------------- Actions job log format


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


# ------------------------------------------------------------------ unknown formats


def test_unknown_format_falls_back_to_an_excerpt_around_errors():
    parsed = parse_log(read_log("actions_job_mix_compile_error.log"))

    assert parsed.runner == "unknown"
    assert parsed.failures == ()
    assert parsed.summary is None
    lines = parsed.excerpt.splitlines()
    assert "== Compilation error in file lib/queue_ex.ex ==" in lines
    assert any(
        line.startswith("** (CompileError) lib/queue_ex.ex:13: undefined function quue/0")
        for line in lines
    )
    assert lines[-1] == "Error: Process completed with exit code 1."
    assert "Current runner version: '2.329.0'" not in parsed.excerpt
    assert "Post job cleanup." not in parsed.excerpt
    assert "undefined function quue/0" in render(parsed)


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


# ------------------------------------------------------------------------- signature


def test_signature_ignores_timings_addresses_temp_paths_and_thread_ids():
    noisy = {
        "pytest_failures.log": [
            ("0.03s", "12.71s"),
            ("0x7f20682cb8d0", "0x7fffb1c2d3e4"),
            ("0x7f20682c9b90", "0x55d0a1b2c3d4"),
        ],
        "go_test_failures.log": [
            ("(0.00s)", "(1.37s)"),
            ("0.004s", "2.310s"),
            ("0xc00009a4e0", "0xc000182000"),
        ],
        "cargo_test_failures.log": [
            ("(7896)", "(31337)"),
            ("finished in 0.09s", "finished in 3.14s"),
        ],
    }
    for name, replacements in noisy.items():
        text = read_log(name)
        changed = text
        for old, new in replacements:
            assert old in text
            changed = changed.replace(old, new)

        assert failure_signature(parse_log(changed)) == failure_signature(parse_log(text)), name


def test_signature_ignores_line_number_shifts_and_temp_dirs_in_messages():
    def log(line: int, tmp: str) -> str:
        return "\n".join(
            [
                "--- FAIL: TestSave (0.01s)",
                f"    store_test.go:{line}: open {tmp}/data.json: permission denied",
                "FAIL",
                "FAIL\texample.com/store\t0.012s",
            ]
        )

    first = parse_log(log(12, "/tmp/TestSave1234567/001"))
    second = parse_log(log(15, "/tmp/TestSave7654321/001"))

    assert failure_signature(first) == failure_signature(second)


def test_signature_changes_when_the_failures_change():
    text = read_log("pytest_failures.log")
    baseline = failure_signature(parse_log(text))
    other_message = text.replace("E       assert 3 == 2", "E       assert 4 == 2")
    summary_only = read_log("pytest_short_summary.log")
    one_fixed = summary_only.replace(
        "FAILED tests/test_stack.py::test_len_counts_items - assert 2 == 1\n", ""
    )

    assert failure_signature(parse_log(other_message)) != baseline
    assert failure_signature(parse_log(one_fixed)) != failure_signature(parse_log(summary_only))
    assert failure_signature(parse_log(read_log("go_test_failures.log"))) != baseline


def test_signature_does_not_depend_on_failure_order():
    text = read_log("pytest_short_summary.log")
    failed = [line for line in text.splitlines() if line.startswith("FAILED")]
    reordered = text.replace("\n".join(failed), "\n".join(reversed(failed)))

    assert reordered != text
    assert failure_signature(parse_log(reordered)) == failure_signature(parse_log(text))


# ---------------------------------------------------------------------------- the cap


def many_pytest_failures(count: int, message: str = "assert {n} == -1") -> str:
    lines = [
        "=" * 30 + " test session starts " + "=" * 30,
        f"collected {count} items",
        "",
        "=" * 35 + " FAILURES " + "=" * 35,
    ]
    for n in range(count):
        lines += [
            f"{'_' * 20} test_case_{n} {'_' * 20}",
            "",
            f"    def test_case_{n}():",
            f">       assert compute({n}) == -1",
            f"E       {message.format(n=n)}",
            "",
            f"tests/test_many.py:{n + 1}: AssertionError",
        ]
    lines.append("=" * 30 + " short test summary info " + "=" * 30)
    lines += [
        f"FAILED tests/test_many.py::test_case_{n} - {message.format(n=n)}" for n in range(count)
    ]
    lines.append(f"{'=' * 30} {count} failed in 1.23s {'=' * 30}")
    return "\n".join(lines)


@pytest.mark.parametrize("max_bytes", [20_000, 5_000, 1_000])
def test_render_never_exceeds_the_cap_and_says_what_it_left_out(max_bytes):
    parsed = parse_log(many_pytest_failures(500), max_bytes=max_bytes)

    text = render(parsed)

    assert len(text.encode("utf-8")) <= max_bytes
    assert "1. tests/test_many.py::test_case_0" in text
    shown = len(re.findall(r"^\d+\. tests/test_many.py::", text, re.M))
    assert text.rstrip().endswith(f"… {500 - shown} more failures omitted")


def test_render_keeps_details_for_the_first_failures_and_breadth_for_the_rest():
    parsed = parse_log(many_pytest_failures(120))

    text = render(parsed)

    assert len(text.encode("utf-8")) <= 20_000
    assert ">       assert compute(0) == -1" in text
    assert ">       assert compute(119) == -1" not in text
    assert "120. tests/test_many.py::test_case_119\n   at tests/test_many.py:120\n    assert 119 == -1" in text
    assert "omitted" not in text


def test_render_cuts_multibyte_text_on_a_character_boundary():
    parsed = parse_log(
        many_pytest_failures(50, message="assert '€🙂{n}' * 300 == ''"), max_bytes=3_001
    )

    for limit in (3_001, 777, 101, 5):
        text = render(parsed, max_bytes=limit)
        encoded = text.encode("utf-8")
        assert len(encoded) <= limit
        assert encoded.decode("utf-8") == text


def test_render_shows_a_huge_single_failure_shortened():
    message = "\n".join(f"E       line {n}: " + "x" * 150 for n in range(200))
    text = many_pytest_failures(1).replace("E       assert 0 == -1", message)

    rendered = render(parse_log(text, max_bytes=2_000))

    assert len(rendered.encode("utf-8")) <= 2_000
    assert "1. tests/test_many.py::test_case_0" in rendered
    assert "line 0: xxx" in rendered


def test_render_of_the_excerpt_keeps_its_end():
    lines = [f"error {n}: something broke in unit {n}" for n in range(400)]

    rendered = render(parse_log("\n".join(lines), max_bytes=1_500))

    assert len(rendered.encode("utf-8")) <= 1_500
    assert rendered.rstrip().endswith("error 399: something broke in unit 399")
    assert "earlier lines omitted" in rendered


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


def test_a_50_megabyte_pytest_log_is_capped_and_keeps_its_failures():
    raw = read_log("pytest_failures.log").splitlines()
    banner, failures_part = raw[:5], raw[7:]

    def passing(n: int) -> str:
        return f"tests/test_bulk.py::test_generated_{n} PASSED{' ' * 30}[ {n % 100:2d}%]"

    text = actions_log(banner) + filler_log(passing, 50_000_000) + actions_log(failures_part)
    assert len(text.encode("utf-8")) >= 50_000_000

    parsed = parse_log(text)
    rendered = render(parsed)

    assert len(rendered.encode("utf-8")) <= 20_000
    assert parsed.runner == "pytest"
    assert ids(parsed) == PYTEST_IDS
    assert "tests/test_stack.py::test_peek_empty_raises_key_error" in rendered
    assert "IndexError: list index out of range" in rendered


def test_a_50_megabyte_go_log_finds_a_failure_in_the_middle():
    failure = read_log("go_test_verbose_failures.log").splitlines()[:-2]

    def filler(n: int) -> str:
        return [
            f"=== RUN   TestBulk{n}",
            f"    bulk_test.go:9: case {n} ok",
            f"--- PASS: TestBulk{n} (0.00s)",
        ][n % 3]

    text = (
        filler_log(filler, 25_000_000)
        + actions_log(failure)
        + filler_log(filler, 25_000_000)
        + actions_log(["FAIL\texample.com/stackgo\t31.337s", "FAIL"])
    )
    assert len(text.encode("utf-8")) >= 50_000_000

    parsed = parse_log(text)
    rendered = render(parsed)

    assert len(rendered.encode("utf-8")) <= 20_000
    assert parsed.runner == "go"
    assert ids(parsed) == GO_IDS
    assert by_id(parsed)["TestPushPop"].message == "Pop() = 1, want 2"
    assert "TestLenTable/two_items" in rendered


# ------------------------------------------------------------------ partial logs


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


def test_clean_log_drops_hyperlink_escapes():
    text = "\x1b]8;;file:///home/runner/work/a/a/src/x.ts\x07src/x.ts\x1b]8;;\x07:3:1"

    assert clean_log(text) == "src/x.ts:3:1"


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
