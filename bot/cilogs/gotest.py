"""go test output: `--- FAIL` lines with the messages logged before them, panics with their
goroutine dump, `ok`/`FAIL` package lines, and compile errors under `# package` headers.

A package whose tests could not be built (`FAIL pkg [build failed]`) gives build failures,
one per compile error. `go build` and `go vet` print the same `# package` blocks, so
`build_failures` reads those too when no test ran.

Listed tests: `--- PASS`/`--- FAIL`/`--- SKIP` lines, subtests included. `go test` prints
passes and skips only with `-v`, so without it only failures are listed. The log never says
a test's file, so `file` is None; `package` is the one on the `ok`/`FAIL` line that closes
the package's output (go test prints packages one after another), None when it is not in
the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

from bot.cilogs.common import (
    GAP,
    Runner,
    is_vendor_path,
    message,
    relative_path,
    traceback,
)
from bot.cilogs.report import Failure, ListedTest, Outcome

_SIGNALS = (
    (4, re.compile(r"^\s*--- FAIL: \S+ \(", re.M)),
    (4, re.compile(r"^(?:FAIL|ok)\s+\S+\s+(?:[\d.]+s|\(cached\)|\[build failed\])", re.M)),
    (1, re.compile(r"^=== RUN\s", re.M)),
)
_MARKERS = (("--- FAIL:", 40, 40), ("panic: ", 5, 40), ("[build failed]", 20, 0))

_RUN = re.compile(r"^=== (?:RUN|CONT|PAUSE|NAME)\s+(?P<name>\S+)$")
_RESULT = re.compile(r"^\s*--- (?P<status>FAIL|PASS|SKIP): (?P<name>\S+) \([\d.]+s\)$")
_OUTPUT = re.compile(r"^(?P<indent>\s+)(?P<file>[\w.\-/]+\.go):(?P<line>\d+): (?P<message>.*)$")
_PACKAGE = re.compile(r"^(?P<status>FAIL|ok)\s+(?P<package>\S+)(?:\s+(?P<rest>.+?))?\s*$")
_BUILD_HEADER = re.compile(r"^# (?P<package>\S+)")
_COMPILE_ERROR = re.compile(
    r"^(?:vet: )?(?P<file>\S+\.go):(?P<line>\d+)(?::\d+)?: (?P<message>.+)$"
)
_PANIC = re.compile(r"^panic: (?P<message>.+?)(?: \[recovered\])?$")
_FRAME = re.compile(r"^\s+(?P<file>\S+\.go):(?P<line>\d+)(?: \+0x[0-9a-f]+)?$")
_OUTPUT_LINES_PER_TEST = 40
_PANIC_LINES = 200
_AFTER_PANIC = ("FAIL", "ok ", "ok\t", "PASS", "--- ", "=== ", "exit status", "# ")
_OUTCOMES: dict[str, Outcome] = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped"}


@dataclass
class _GoTest:
    name: str
    output: list[tuple[str, int, str]] = field(default_factory=list)
    """(file, line, message) of each `t.Error`/`t.Log` line, continuation lines folded in."""
    indent: int = 0
    panic: str = ""
    panic_frames: list[str] = field(default_factory=list)


def parse(lines: list[str]) -> tuple[list[Failure], str | None]:
    tests: dict[str, _GoTest] = {}
    failed: dict[str, None] = {}
    build_failures: list[Failure] = []
    package_results: list[str] = []
    current: _GoTest | None = None
    build_package: str | None = None
    panicking: _GoTest | None = None
    for line in lines:
        if panicking is not None:
            if _panic_continues(line):
                if len(panicking.panic_frames) < _PANIC_LINES:
                    panicking.panic_frames.append(line)
                continue
            panicking = None
        if line == GAP:
            current = build_package = None
        elif run := _RUN.match(line):
            current = tests.setdefault(run["name"], _GoTest(run["name"]))
        elif result := _RESULT.match(line):
            current = tests.setdefault(result["name"], _GoTest(result["name"]))
            if result["status"] == "FAIL":
                failed[result["name"]] = None
        elif output := _OUTPUT.match(line):
            if current is not None and len(current.output) < _OUTPUT_LINES_PER_TEST:
                current.indent = len(output["indent"].expandtabs())
                current.output.append((output["file"], int(output["line"]), output["message"]))
        elif current is not None and current.output and _is_continuation(line, current):
            file, number, text = current.output[-1]
            current.output[-1] = (file, number, f"{text}\n{line.strip()}")
        elif panic := _PANIC.match(line):
            panicking = current or tests.setdefault("panic", _GoTest("panic"))
            panicking.panic = panicking.panic or f"panic: {panic['message']}"
            failed[panicking.name] = None
        elif header := _BUILD_HEADER.match(line):
            build_package = header["package"]
        elif build_package and (error := _COMPILE_ERROR.match(line)):
            build_failures.append(_build_failure(build_package, error))
        elif _PACKAGE.match(line):
            current = build_package = None
            package_results.append(" ".join(line.split()))
    failures = _build_failures_with_unexplained(build_failures, package_results)
    return failures + _test_failures(tests, failed), _summary(package_results)


def list_tests(lines: list[str]) -> list[ListedTest]:
    listed: list[ListedTest] = []
    pending: list[tuple[str, Outcome]] = []
    for line in lines:
        if result := _RESULT.match(line):
            pending.append((result["name"], _OUTCOMES[result["status"]]))
        elif package := _PACKAGE.match(line):
            name = package["package"]
            listed += [ListedTest(test, None, outcome, name) for test, outcome in pending]
            pending = []
    return listed + [ListedTest(name, None, outcome) for name, outcome in pending]


def build_failures(lines: list[str]) -> list[Failure]:
    """The compile and vet errors of `go build`, `go vet` or `go test`, one per error."""
    return [failure for failure in parse(lines)[0] if failure.kind == "build"]


def _panic_continues(line: str) -> bool:
    """Goroutine dumps run until the package result or the next test's output."""
    return line != GAP and not line.startswith(_AFTER_PANIC)


def _is_continuation(line: str, test: _GoTest) -> bool:
    stripped = line.lstrip()
    return bool(stripped) and len(line[: len(line) - len(stripped)].expandtabs()) > test.indent


def _build_failure(package: str, error: re.Match[str]) -> Failure:
    return Failure(
        test_id=f"{package} [build failed]",
        file=relative_path(error["file"]),
        line=int(error["line"]),
        message=error["message"],
        kind="build",
    )


def _build_failures_with_unexplained(
    build_failures: list[Failure], package_results: list[str]
) -> list[Failure]:
    """Compile errors, and a bare entry for each `[build failed]` package without them."""
    explained = {failure.test_id for failure in build_failures}
    unexplained = [
        Failure(test_id, None, None, "build failed", kind="build")
        for result in package_results
        if result.startswith("FAIL ")
        and result.endswith(" [build failed]")
        and (test_id := result.removeprefix("FAIL ")) not in explained
    ]
    return build_failures + unexplained


def _test_failures(tests: dict[str, _GoTest], failed: dict[str, None]) -> list[Failure]:
    """Failed tests, leaving out parents that failed only because a subtest did."""
    parents = {name.rsplit("/", 1)[0] for name in failed if "/" in name}
    failures = []
    for name in failed:
        test = tests.get(name) or _GoTest(name)
        if name in parents and not test.output and not test.panic:
            continue
        failures.append(_failure(test))
    return failures


def _failure(test: _GoTest) -> Failure:
    messages = [test.panic] if test.panic else []
    for index, (file, number, text) in enumerate(test.output):
        messages.append(text if index == 0 and not test.panic else f"{file}:{number}: {text}")
    location = _location(test)
    return Failure(
        test_id=test.name,
        file=location[0],
        line=location[1],
        message=message(messages),
        traceback=traceback(_own_frames(test.panic_frames)),
    )


def _location(test: _GoTest) -> tuple[str | None, int | None]:
    """Where a panic happened in the project's code, else the first reported message."""
    frames = [m for m in map(_FRAME.match, test.panic_frames) if m]
    own = next((m for m in frames if not is_vendor_path(m["file"])), None)
    if own:
        return relative_path(own["file"]), int(own["line"])
    if test.output:
        return test.output[0][0], test.output[0][1]
    return None, None


def _own_frames(panic_lines: list[str]) -> list[str]:
    """Function/location pairs of the panic's goroutine outside the runtime and testing."""
    kept = []
    for function, location in pairwise(panic_lines):
        frame = _FRAME.match(location)
        if frame and not function.startswith("\t") and not is_vendor_path(frame["file"]):
            kept += [function.strip(), "    " + relative_path(frame["file"]) + ":" + frame["line"]]
    return kept


def _summary(package_results: list[str]) -> str | None:
    failed = [result for result in package_results if result.startswith("FAIL")]
    passed = len(package_results) - len(failed)
    parts = failed[:5] + ([f"… {len(failed) - 5} more failed packages"] if len(failed) > 5 else [])
    if passed:
        parts.append(f"ok: {passed} package{'s' if passed != 1 else ''}")
    return "; ".join(parts) or None


RUNNER = Runner("go", _SIGNALS, _MARKERS, parse, list_tests)
