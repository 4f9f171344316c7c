"""cargo test output: `---- test stdout ----` blocks with the panic and its backtrace, the
`failures:` list, `test result:` lines per test target, and compile errors.

Compile errors (`error[E0599]: …` with its `--> src/lib.rs:72:11` snippet, up to
`error: could not compile`) are build failures, from `cargo build` as well as `cargo test`.

Listed tests: the `test tests::push ... ok` lines (`FAILED` failed, `ignored` skipped) that
cargo test prints by default, and the names in the `failures:` list, with the same ids as
failures (the test target's crate before the path). `file` is the target's source for an
integration test (`Running tests/integration.rs (…)`) and the file a doc test is in
(`src/lib.rs - Stack::push (line 5)`); None for unit tests, whose module may live in any file
of the crate.
"""

from __future__ import annotations

import re

from bot.cilogs.common import (
    BLOCK_MAX_LINES,
    GAP,
    MESSAGE_MAX_LINES,
    TRACEBACK_MAX_LINES,
    Runner,
    is_vendor_path,
    message,
    relative_path,
    traceback,
    trim_blank,
)
from bot.cilogs.report import Failure, ListedTest, Outcome

_SIGNALS = (
    (5, re.compile(r"^test result: (?:FAILED|ok)\.", re.M)),
    (3, re.compile(r"^---- [^\n]+ stdout ----$", re.M)),
    (2, re.compile(r"^running \d+ tests?$", re.M)),
    (4, re.compile(r"^error: could not compile `", re.M)),
)
_MARKERS = (("---- ", 0, 60), ("panicked at", 3, 20), ("error[E", 0, 20))

_RUNNING = re.compile(r"^\s*Running (?P<unit>unittests )?(?P<source>\S+) \((?P<binary>[^)]+)\)$")
_DOC_TESTS = re.compile(r"^\s*Doc-tests (?P<crate>\S+)$")
_BLOCK = re.compile(r"^---- (?P<name>.+?) stdout ----$")
_PANIC = re.compile(r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at (?P<rest>.+)$")
_PANIC_LOCATION = re.compile(r"^(?P<file>[^\s']+?):(?P<line>\d+):(?P<column>\d+):$")
_OLD_PANIC = re.compile(r"^'(?P<message>.*)', (?P<file>\S+?):(?P<line>\d+):(?P<column>\d+)$", re.S)
_TEST_FAILED = re.compile(r"^test (?P<name>\S+) \.\.\. FAILED$")
_LISTED_FAILURE = re.compile(r"^    (?P<name>\S+)$")
_RESULT = re.compile(
    r"^test result: \w+\. (?P<passed>\d+) passed; (?P<failed>\d+) failed; (?P<ignored>\d+) ignored"
)
_ERROR = re.compile(r"^error(?:\[(?P<code>E\d+)\])?: (?P<message>.+)$")
_ARROW = re.compile(r"^\s*--> (?P<file>\S+?):(?P<line>\d+):(?P<column>\d+)$")
_COULD_NOT_COMPILE = re.compile(
    r"^error: could not compile `(?P<crate>[^`]+)`(?: \((?P<target>[^)]+)\))?"
)
_NOT_COMPILE_ERRORS = ("test failed", "could not compile", "build failed")
_TARGETS_FAILED = re.compile(r"\d+ targets? failed")
_BACKTRACE_AT = re.compile(r"^\s+at (?P<location>\S+?):(?P<line>\d+):\d+$")
_BACKTRACE_FUNCTION = re.compile(r"^\s*\d+: (?P<function>.+)$")
_TEST_LINE = re.compile(r"^test (?P<name>.+?) \.\.\. (?P<result>ok|FAILED|ignored)(?:, .+)?$")
_OUTCOMES: dict[str, Outcome] = {"ok": "passed", "FAILED": "failed", "ignored": "skipped"}


def parse(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures: list[Failure] = []
    failed_names: dict[str, None] = {}
    results: list[tuple[str, re.Match[str]]] = []
    compile_errors: list[tuple[str, list[str]]] = []
    crate: str | None = None
    in_failure_list = False
    block: tuple[str, list[str]] | None = None
    error: tuple[str, list[str]] | None = None
    build_summary = None
    for line in lines:
        if block and _block_ends(line):
            failures.append(_failure(_test_id(crate, block[0]), block[1]))
            block = None
        if error and (not line.strip() or line == GAP or line.startswith(("error", "warning"))):
            compile_errors.append(error)
            error = None
        listed = _LISTED_FAILURE.match(line) if in_failure_list else None
        in_failure_list = line == "failures:" or listed is not None
        if listed:
            failed_names.setdefault(_test_id(crate, listed["name"]), None)
        elif running := _RUNNING.match(line):
            crate = _crate(running["binary"])
        elif _DOC_TESTS.match(line):
            crate = None
        elif header := _BLOCK.match(line):
            block = (header["name"], [])
        elif block:
            if len(block[1]) < BLOCK_MAX_LINES:
                block[1].append(line)
        elif failed := _TEST_FAILED.match(line):
            failed_names.setdefault(_test_id(crate, failed["name"]), None)
        elif result := _RESULT.match(line):
            results.append((line, result))
        elif could_not := _COULD_NOT_COMPILE.match(line):
            failures += _build_failures(could_not, compile_errors)
            compile_errors = []
            build_summary = line[len("error: ") :]
        elif (compile_error := _ERROR.match(line)) and _is_compile_error(compile_error):
            error = (line, [])
        elif error and len(error[1]) < TRACEBACK_MAX_LINES:
            error[1].append(line)
    if block:
        failures.append(_failure(_test_id(crate, block[0]), block[1]))
    if error:
        compile_errors.append(error)
    failures += _build_failures(None, compile_errors)
    described = {failure.test_id for failure in failures}
    failures += [Failure(name, None, None, "") for name in failed_names if name not in described]
    return failures, _summary(results) or build_summary


def list_tests(lines: list[str]) -> list[ListedTest]:
    listed = []
    crate = file = None
    doc_tests = in_failure_list = False
    for line in lines:
        named_failure = _LISTED_FAILURE.match(line) if in_failure_list else None
        in_failure_list = line == "failures:" or named_failure is not None
        if named_failure:
            listed.append(ListedTest(_test_id(crate, named_failure["name"]), file, "failed"))
        elif running := _RUNNING.match(line):
            crate, doc_tests = _crate(running["binary"]), False
            file = None if running["unit"] else running["source"]
        elif _DOC_TESTS.match(line):
            crate, file, doc_tests = None, None, True
        elif result := _TEST_LINE.match(line):
            name = result["name"]
            test_file = name.split(" - ", 1)[0] if doc_tests else file
            listed.append(ListedTest(_test_id(crate, name), test_file, _OUTCOMES[result["result"]]))
    return listed


def _block_ends(line: str) -> bool:
    return (
        line == GAP
        or line == "failures:"
        or line.startswith("test result:")
        or _BLOCK.match(line) is not None
    )


def _crate(binary: str) -> str:
    """The test binary's name without cargo's hash: `deps/stack_rs-65c8…` -> `stack_rs`."""
    name = binary.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".exe")
    return re.sub(r"-[0-9a-f]{8,}$", "", name)


def _test_id(crate: str | None, name: str) -> str:
    return f"{crate}::{name}" if crate else name


def _is_compile_error(error: re.Match[str]) -> bool:
    text = error["message"]
    if error["code"]:
        return True
    return not text.startswith(_NOT_COMPILE_ERRORS) and not _TARGETS_FAILED.match(text)


def _failure(test_id: str, body: list[str]) -> Failure:
    found = next(((i, m) for i, line in enumerate(body) if (m := _PANIC.match(line))), None)
    if found is None:
        return Failure(test_id, None, None, message([line for line in body if line.strip()]))
    panic_index, panic = found
    rest = body[panic_index + 1 :]
    location = _PANIC_LOCATION.match(panic["rest"])
    message_lines: list[str]
    if location:
        message_lines = _panic_message(rest)
    else:
        location, message_lines = _old_panic(panic["rest"], rest)
    return Failure(
        test_id=test_id,
        file=relative_path(location["file"]) if location else None,
        line=int(location["line"]) if location else None,
        message=message(message_lines),
        traceback=traceback(_own_frames(rest)),
    )


def _panic_message(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        if line.startswith(("note: ", "stack backtrace:")) or _BLOCK.match(line):
            break
        kept.append(line)
    return trim_blank(kept)


def _old_panic(first: str, rest: list[str]) -> tuple[re.Match[str] | None, list[str]]:
    """Rust before 1.73: `panicked at 'message', src/lib.rs:10:5`, message maybe multi-line."""
    candidate = first
    for extra in [None, *rest[:MESSAGE_MAX_LINES]]:
        if extra is not None:
            candidate = f"{candidate}\n{extra}"
        if old := _OLD_PANIC.match(candidate):
            return old, old["message"].split("\n")
    return None, [first]


def _own_frames(lines: list[str]) -> list[str]:
    frames = []
    function = None
    for line in lines:
        if named := _BACKTRACE_FUNCTION.match(line):
            function = named["function"]
        elif (at := _BACKTRACE_AT.match(line)) and function and not is_vendor_path(at["location"]):
            frames.append(f"{function} at {relative_path(at['location'])}:{at['line']}")
    return frames


def _build_failures(
    could_not: re.Match[str] | None, errors: list[tuple[str, list[str]]]
) -> list[Failure]:
    if could_not:
        target = f" ({could_not['target']})" if could_not["target"] else ""
        test_id = f"{could_not['crate']}{target} [build failed]"
    else:
        test_id = "[build failed]"
    failures = []
    for first, snippet in errors:
        arrow = next((m for m in map(_ARROW.match, snippet[:2]) if m), None)
        failures.append(
            Failure(
                test_id=test_id,
                file=relative_path(arrow["file"]) if arrow else None,
                line=int(arrow["line"]) if arrow else None,
                message=first,
                traceback=traceback(snippet),
                kind="build",
            )
        )
    return failures


def _summary(results: list[tuple[str, re.Match[str]]]) -> str | None:
    if len(results) == 1:
        return results[0][0]
    if not results:
        return None
    passed, failed, ignored = (
        sum(int(match[key]) for _, match in results) for key in ("passed", "failed", "ignored")
    )
    return f"{failed} failed; {passed} passed; {ignored} ignored (in {len(results)} test targets)"


RUNNER = Runner("cargo", _SIGNALS, _MARKERS, parse, list_tests)
