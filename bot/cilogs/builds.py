"""Build errors: what stopped the tests from running, read when no test failure was found.

A failed build step ends the job before any test runs, so its log has no test runner output
to parse, or only a runner's banner. `parse` looks for, in this order:

- pytest's `ImportError while loading conftest '…'.` block (runner "pytest");
- a Python traceback (`Traceback (most recent call last):`, `File "x.py", line 3`, then the
  `SomethingError: message` line), as `python -c 'import pkg'` or an import at startup
  prints it (runner "python");
- `go build`/`go vet` errors under a `# package` header (runner "go"; ids as in go test's
  `pkg [build failed]`);
- `mix compile` errors: `** (CompileError) lib/x.ex:3: …`, a `== Compilation error in file
  lib/x.ex ==` block, and Elixir ≥ 1.15's `error: …` diagnostics located by a following
  `└─ lib/x.ex:5:3` or `  lib/x.ex:5:` line (runner "mix");
- tsc errors, `src/x.ts(12,5): error TS2322: …` and the `--pretty` `src/x.ts:12:5 - error
  TS2322: …` (runner "tsc").

Each error is a `kind="build"` failure with the file and line it points at; the id reads
`build: lib/x.ex:3`. cargo's compile errors are read by the cargo parser, which recognises
`cargo build` output as well.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

from bot.cilogs import gotest
from bot.cilogs.common import GAP, is_vendor_path, relative_path, traceback
from bot.cilogs.report import Failure

_BLOCK_LINES = 40

_PY_TRACEBACK = "Traceback (most recent call last):"
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+))?$')
_PY_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?::.*)?$")
_PY_NOT_OWN = ("/lib/python", "/lib64/python", "\\Lib\\", "dist-packages")

_CONFTEST = re.compile(r"^ImportError while loading conftest '(?P<path>[^']+)'\.$")
_PYTEST_FRAME = re.compile(r"^(?P<file>[^\s:][^:]*?\.py):(?P<line>\d+): in (?P<function>.+)$")

_ELIXIR_FILE = r"[^\s:│]+\.(?:ex|exs|eex|heex|leex)"
_MIX_FILE_ERROR = re.compile(rf"^== Compilation error in file (?P<file>{_ELIXIR_FILE}) ==$")
_MIX_EXCEPTION = re.compile(
    rf"^\*\* \([\w.]+\) (?:(?P<file>{_ELIXIR_FILE}):(?P<line>\d+)(?::\d+)?: \S.*)?"
)
_MIX_DIAGNOSTIC = re.compile(r"^\s*error: (?P<message>.+)$")
_MIX_POSITION = re.compile(rf"^\s*(?:└─ )?(?P<file>{_ELIXIR_FILE}):(?P<line>\d+)(?::\d+)?(?::.*)?$")
_DIAGNOSTIC_LINES = 16
"""An error's snippet is a few lines: Elixir cuts a long span to its first and last lines."""
_MIX_FRAME = re.compile(rf"^\s+(?:\([^)]*\) )?(?P<file>{_ELIXIR_FILE}):(?P<line>\d+): ")

_TS_FILE = r"[^\s(:][^():]*?\.(?:[cm]?[jt]sx?|vue)"
_TSC_ERROR = re.compile(
    rf"^(?P<file>{_TS_FILE})(?:\((?P<line>\d+),\d+\)|:(?P<pretty_line>\d+):\d+ -)"
    r":? error (?P<code>TS\d+): (?P<message>.*)$"
)
_TSC_FOUND = re.compile(r"^Found \d+ errors?\b.*$")

Finder = Callable[[list[str]], tuple[list[Failure], str | None]]


def parse(lines: list[str]) -> tuple[str, list[Failure], str | None] | None:
    """(runner, failures, summary) of the first kind of build error in the log, or None."""
    for runner, find in _FINDERS:
        failures, summary = find(lines)
        if failures:
            return runner, failures, summary
    return None


def _build_failure(
    file: str | None, line: int | None, text: str, trace: list[str], fallback_id: str
) -> Failure:
    location = f"{file}:{line}" if file and line else file
    return Failure(
        f"build: {location or fallback_id}", file, line, text, traceback(trace), kind="build"
    )


def _following(lines: list[str], start: int) -> list[str]:
    """The lines after `start`, up to a gap, at most `_BLOCK_LINES`."""
    body = lines[start + 1 : start + 1 + _BLOCK_LINES]
    return body[: body.index(GAP)] if GAP in body else body


# ------------------------------------------------------------------------------ Python


def _python_tracebacks(lines: list[str]) -> tuple[list[Failure], str | None]:
    starts = [index for index, line in enumerate(lines) if line == _PY_TRACEBACK]
    failures = [f for index in starts if (f := _python_traceback(_following(lines, index)))]
    return failures, None


def _python_traceback(body: list[str]) -> Failure | None:
    """Frames (`File "x", line N` and their indented source) up to the exception line."""
    frames: list[tuple[re.Match[str], list[str]]] = []
    for line in body:
        if frame := _PY_FRAME.match(line):
            frames.append((frame, []))
        elif line.startswith(" ") and frames:
            frames[-1][1].append(line)
        elif frames and _PY_EXCEPTION.match(line):
            return _python_failure(frames, line)
        else:
            return None
    return None


def _python_failure(frames: list[tuple[re.Match[str], list[str]]], exception: str) -> Failure:
    own = [(frame, source) for frame, source in frames if _is_own_python_file(frame["file"])]
    trace = []
    for frame, source in own:
        trace += [_frame_text(frame), *source]
    last = own[-1][0] if own else None
    file = relative_path(last["file"]) if last else None
    line = int(last["line"]) if last else None
    return _build_failure(file, line, exception, trace, exception.split(":", 1)[0])


def _frame_text(frame: re.Match[str]) -> str:
    """`File "/home/runner/work/w/w/pkg/x.py", line 3, in f` as `pkg/x.py:3 in f`."""
    where = f"{relative_path(frame['file'])}:{frame['line']}"
    return f"{where} in {frame['function']}" if frame["function"] else where


def _is_own_python_file(path: str) -> bool:
    """Not `<string>`, the standard library or an installed package."""
    return (
        not path.startswith("<")
        and not is_vendor_path(path)
        and not any(part in path for part in _PY_NOT_OWN)
    )


def _conftest_import_errors(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures = []
    for index, line in enumerate(lines):
        if line.startswith("ImportError while loading conftest") and (
            header := _CONFTEST.match(line)
        ):
            failures.append(_conftest_failure(header["path"], _following(lines, index)))
    return failures, None


def _conftest_failure(conftest: str, body: list[str]) -> Failure:
    """pytest's short traceback: `file.py:3: in <module>` frames, then `E   Error: …` lines.

    A SyntaxError's own `File "x", line N` is among the `E` lines and is where it points.
    """
    trace: list[str] = []
    location: tuple[str, int] | None = None
    errors: list[str] = []
    for line in body:
        if (frame := _PYTEST_FRAME.match(line)) and not errors:
            trace.append(line)
            if _is_own_python_file(frame["file"]):
                location = (relative_path(frame["file"]), int(frame["line"]))
        elif line.startswith(" ") and not errors:
            trace.append(line)
        elif line.startswith("E ") or line == "E":
            errors.append(line[1:])
        else:
            break
    errors = textwrap.dedent("\n".join(errors)).split("\n")
    for line in errors[:-1]:
        frame = _PY_FRAME.match(line)
        if frame and _is_own_python_file(frame["file"]):
            location = (relative_path(frame["file"]), int(frame["line"]))
        trace.append(_frame_text(frame) if frame else line)
    file, line_number = location or (relative_path(conftest), None)
    return _build_failure(file, line_number, errors[-1].strip(), trace, "conftest")


# --------------------------------------------------------------------------------- go


def _go_build_errors(lines: list[str]) -> tuple[list[Failure], str | None]:
    """Read by the go parser; only logs with a `# package` header can have them."""
    if not any(line.startswith("# ") for line in lines):
        return [], None
    return gotest.build_failures(lines), None


# -------------------------------------------------------------------------------- mix


def _mix_compile_errors(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures: list[Failure] = []
    unlocated: list[Failure] = []
    compiling: str | None = None
    for index, line in enumerate(lines):
        if header := _MIX_FILE_ERROR.match(line):
            compiling = header["file"]
        elif line.startswith("** (") and (exception := _MIX_EXCEPTION.match(line)):
            body = _until_unindented(_following(lines, index))
            if exception["file"]:
                failures.append(_mix_failure(exception["file"], exception["line"], line, body))
            elif compiling:
                unlocated.append(_mix_unlocated(compiling, line, body))
        elif "error: " in line and (diagnostic := _MIX_DIAGNOSTIC.match(line)):
            snippet = lines[index + 1 : index + 1 + _DIAGNOSTIC_LINES]
            failures += _mix_diagnostic(diagnostic["message"], snippet)
    located = {failure.file for failure in failures}
    return failures + [f for f in unlocated if f.file not in located], None


def _mix_diagnostic(text: str, body: list[str]) -> list[Failure]:
    """An `error:` and its `│` snippet, up to the `└─ file:line` (or 1.15's `  file:line`)."""
    for index, line in enumerate(body):
        if ".ex" in line and (position := _MIX_POSITION.match(line)):
            return [_mix_failure(position["file"], position["line"], text, body[:index])]
        if "│" not in line and line.strip() != "...":
            return []
    return []


def _mix_unlocated(file: str, text: str, body: list[str]) -> Failure:
    """An exception raised while compiling `file`; its line is in the first frame there."""
    frame = next((m for m in map(_MIX_FRAME.match, body) if m and m["file"] == file), None)
    return _mix_failure(file, frame["line"] if frame else None, text, body)


def _mix_failure(file: str, line: str | None, text: str, trace: list[str]) -> Failure:
    return _build_failure(file, int(line) if line else None, text, trace, file)


def _until_unindented(body: list[str]) -> list[str]:
    """The exception's indented details and stack frames, blank lines between them kept."""
    end = next((i for i, line in enumerate(body) if line and not line.startswith(" ")), len(body))
    return body[:end]


# -------------------------------------------------------------------------------- tsc


def _tsc_errors(lines: list[str]) -> tuple[list[Failure], str | None]:
    failures = []
    summary = None
    for index, line in enumerate(lines):
        if " error TS" in line and (error := _TSC_ERROR.match(line)):
            failures.append(_tsc_failure(error, _following(lines, index)))
        elif line.startswith("Found ") and _TSC_FOUND.match(line):
            summary = line
    return failures, summary


def _tsc_failure(error: re.Match[str], body: list[str]) -> Failure:
    """The error, its indented continuation lines and, from `--pretty`, its code snippet."""
    continued = _continuation_lines(body)
    text = "\n".join([f"error {error['code']}: {error['message']}", *continued])
    rest = body[len(continued) :]
    snippet = _until_blank(rest[1:]) if rest[:1] == [""] and error["pretty_line"] else []
    line = int(error["line"] or error["pretty_line"])
    return _build_failure(relative_path(error["file"]), line, text, snippet, error["file"])


def _continuation_lines(body: list[str]) -> list[str]:
    """The indented lines right after an error: the rest of a multi-line message."""
    end = next((i for i, line in enumerate(body) if not line.startswith(" ")), len(body))
    return body[:end]


def _until_blank(lines: list[str]) -> list[str]:
    end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    return lines[:end]


_FINDERS: tuple[tuple[str, Finder], ...] = (
    ("pytest", _conftest_import_errors),
    ("python", _python_tracebacks),
    ("go", _go_build_errors),
    ("mix", _mix_compile_errors),
    ("tsc", _tsc_errors),
)
