"""Build errors that stop tests from running: Python tracebacks, mix compile errors, tsc."""

from __future__ import annotations

import pytest

from bot.cilogs import Failure, parse_log
from bot.cilogs.common import clean_log

from tests.cilogs.logs import read_log


def located(failures: tuple[Failure, ...]) -> list[tuple[str, str | None, int | None, str]]:
    return [(f.test_id, f.file, f.line, f.message) for f in failures]


# ------------------------------------------------------------------------------ Python


@pytest.mark.parametrize(
    ("name", "runner", "line", "message"),
    [
        (
            "actions_job_python_import_error.log",
            "python",
            3,
            "ModuleNotFoundError: No module named 'widgets.storage'",
        ),
        ("actions_job_python_syntax_error.log", "python", 7, "SyntaxError: expected ':'"),
        (
            "actions_job_pytest_conftest_import_error.log",
            "pytest",
            3,
            "ModuleNotFoundError: No module named 'widgets.storage'",
        ),
        ("actions_job_pytest_conftest_syntax_error.log", "pytest", 7, "SyntaxError: expected ':'"),
    ],
)
def test_a_python_traceback_before_tests_ran_points_at_the_project_file(
    name, runner, line, message
):
    parsed = parse_log(read_log(name))

    assert parsed.runner == runner
    assert located(parsed.failures) == [
        (f"build: widgets/stack.py:{line}", "widgets/stack.py", line, message)
    ]
    assert parsed.failures[0].kind == "build"
    assert parsed.excerpt == ""


def test_python_traceback_keeps_the_project_frames_and_their_source():
    [imported] = parse_log(read_log("actions_job_python_import_error.log")).failures
    [syntax] = parse_log(read_log("actions_job_pytest_conftest_syntax_error.log")).failures

    assert imported.traceback.splitlines() == [
        "widgets/stack.py:3 in <module>",
        "    from widgets.storage import ListStorage",
    ]
    assert syntax.traceback.splitlines() == [
        "tests/conftest.py:3: in <module>",
        "    from widgets.stack import Stack",
        "widgets/stack.py:7",
        "    def push(self, item)",
        "                        ^",
    ]


def test_python_traceback_only_through_the_standard_library_is_named_by_its_exception():
    # `python -c "import json; json.loads('{')"`, Python 3.11.7.
    text = "\n".join(
        [
            "Traceback (most recent call last):",
            '  File "<string>", line 1, in <module>',
            '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/json/__init__.py", line 346, '
            "in loads",
            "    return _default_decoder.decode(s)",
            "           ^^^^^^^^^^^^^^^^^^^^^^^^^^",
            '  File "/root/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py", line 353, '
            "in raw_decode",
            "    obj, end = self.scan_once(s, idx)",
            "               ^^^^^^^^^^^^^^^^^^^^^^",
            "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ]
    )

    [failure] = parse_log(text).failures

    assert (failure.test_id, failure.file, failure.line) == (
        "build: json.decoder.JSONDecodeError",
        None,
        None,
    )
    assert failure.traceback == ""


def test_a_traceback_after_a_passing_test_run_is_still_reported():
    pytest_passed = "\n".join(
        [
            "============================= test session starts ==============================",
            "tests/test_stack.py::test_push PASSED                                     [100%]",
            "============================== 1 passed in 0.01s ===============================",
        ]
    )
    text = pytest_passed + "\n" + read_log("actions_job_python_import_error.log")

    parsed = parse_log(text)

    assert parsed.runner == "python"
    assert parsed.summary == "1 passed in 0.01s"
    assert [f.test_id for f in parsed.failures] == ["build: widgets/stack.py:3"]
    assert [t.test_id for t in parsed.listed_tests] == ["tests/test_stack.py::test_push"]


# -------------------------------------------------------------------------------- mix


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "actions_job_mix_compile_error.log",
            (
                "build: lib/queue_ex.ex:13",
                "lib/queue_ex.ex",
                13,
                "** (CompileError) lib/queue_ex.ex:13: undefined function quue/0 (expected "
                "QueueEx to define such a function or for it to be imported, but none are "
                "available)",
            ),
        ),
        (
            "actions_job_mix_test_compile_error.log",
            (
                "build: test/stack_ex_test.exs:10",
                "test/stack_ex_test.exs",
                10,
                "** (CompileError) test/stack_ex_test.exs:10: undefined function stack/0 "
                "(expected StackExTest to define such a function or for it to be imported, but "
                "none are available)",
            ),
        ),
        (
            "actions_job_mix_syntax_error.log",
            (
                "build: lib/stack_ex.ex:10",
                "lib/stack_ex.ex",
                10,
                '** (SyntaxError) lib/stack_ex.ex:10:1: unexpected reserved word: end. The "[" '
                'at line 6 is missing terminator "]"',
            ),
        ),
        (
            "actions_job_mix_module_error.log",
            (
                "build: lib/stack_ex.ex:4",
                "lib/stack_ex.ex",
                4,
                "** (ArgumentError) errors were found at the given arguments:",
            ),
        ),
    ],
)
def test_mix_compile_errors_of_elixir_1_14(name, expected):
    parsed = parse_log(read_log(name))

    assert parsed.runner == "mix"
    assert located(parsed.failures) == [expected]
    assert parsed.failures[0].kind == "build"


def test_mix_exception_details_and_frames_are_its_traceback():
    [failure] = parse_log(read_log("actions_job_mix_module_error.log")).failures

    assert failure.traceback.splitlines() == [
        "* 1st argument: not a binary",
        "",
        "  :erlang.binary_to_atom(1, :utf8)",
        "  lib/stack_ex.ex:4: (module)",
    ]


def test_mix_diagnostics_of_elixir_1_16_and_later():
    parsed = parse_log(read_log("actions_job_mix_compile_diagnostics.log"))

    assert parsed.runner == "mix"
    assert located(parsed.failures) == [
        ("build: lib/stack_ex.ex:6", "lib/stack_ex.ex", 6, 'undefined variable "itme"')
    ]
    assert parsed.failures[0].traceback.splitlines()[1:3] == [
        "6 │   def push(stack, item), do: [itme | stack]",
        "  │                               ^^^^",
    ]


def test_mix_diagnostics_of_elixir_1_15():
    # Elixir 1.15 prints the location on the line after the error, without a snippet.
    text = "\n".join(
        [
            "Compiling 1 file (.ex)",
            'error: undefined variable "itme"',
            "  lib/stack_ex.ex:6: StackEx.push/2",
            "",
            "",
            "== Compilation error in file lib/stack_ex.ex ==",
            "** (CompileError) lib/stack_ex.ex: cannot compile module StackEx (errors have been "
            "logged)",
        ]
    )

    assert located(parse_log(text).failures) == [
        ("build: lib/stack_ex.ex:6", "lib/stack_ex.ex", 6, 'undefined variable "itme"')
    ]


def test_mix_diagnostic_inside_an_exception_with_a_trimmed_snippet():
    # The layout of Elixir's diagnostics tests ("trim in between lines if too many").
    text = "\n".join(
        [
            "== Compilation error in file lib/stack_ex.ex ==",
            "** (MismatchedDelimiterError) mismatched delimiter found on lib/stack_ex.ex:9:1:",
            "    error: unexpected token: )",
            "    │",
            "  1 │ [ :a,",
            "    │ └ unclosed delimiter",
            "   ...",
            "  9 │ )",
            '    │ └ mismatched closing delimiter (expected "]")',
            "    │",
            "    └─ lib/stack_ex.ex:9:1",
        ]
    )

    assert located(parse_log(text).failures) == [
        ("build: lib/stack_ex.ex:9", "lib/stack_ex.ex", 9, "unexpected token: )")
    ]


def test_mix_warnings_are_not_failures_even_after_another_tools_error_line():
    text = read_log("actions_job_mix_compile_error.log")
    warnings_only = text.split("== Compilation error")[0]
    diagnostics = clean_log(read_log("actions_job_mix_compile_diagnostics.log"))
    warning = diagnostics[diagnostics.index("    warning:") :].split("\n\n")[0]
    error_then_warning = "error: npm install failed\n" + warning

    assert parse_log(warnings_only).failures == ()
    assert parse_log(error_then_warning).failures == ()


# -------------------------------------------------------------------------------- tsc

TSC_ERRORS = [
    (
        "build: src/stack.test.ts:4",
        "src/stack.test.ts",
        4,
        "error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.",
    ),
    (
        "build: src/stack.test.ts:6",
        "src/stack.test.ts",
        6,
        "error TS2322: Type '(item: string) => void' is not assignable to type '(item: number) "
        "=> void'.\n"
        "  Types of parameters 'item' and 'item' are incompatible.\n"
        "    Type 'number' is not assignable to type 'string'.",
    ),
    (
        "build: src/stack.ts:13",
        "src/stack.ts",
        13,
        "error TS2322: Type 'string' is not assignable to type 'number'.",
    ),
    (
        "build: src/stack.ts:17",
        "src/stack.ts",
        17,
        "error TS2551: Property 'itmes' does not exist on type 'Stack<T>'. Did you mean 'items'?",
    ),
]


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        ("actions_job_tsc_errors.log", None),
        ("actions_job_tsc_errors_pretty.log", "Found 4 errors in 2 files."),
    ],
)
def test_tsc_errors_in_both_formats(name, summary):
    parsed = parse_log(read_log(name))

    assert parsed.runner == "tsc"
    assert parsed.summary == summary
    assert located(parsed.failures) == TSC_ERRORS
    assert {failure.kind for failure in parsed.failures} == {"build"}


def test_tsc_pretty_errors_keep_their_code_snippet():
    parsed = parse_log(read_log("actions_job_tsc_errors_pretty.log"))

    assert parsed.failures[2].traceback.splitlines() == [
        "13     return this.items.length.toString();",
        "       ~~~~~~",
    ]
    assert parse_log(read_log("actions_job_tsc_errors.log")).failures[2].traceback == ""
