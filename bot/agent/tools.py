"""The agent's tools, executed against the branch workspace: Anthropic's text editor tool
(view, create, str_replace, insert) and a read-only `search` over the branch's files.

Every problem goes back to the model as an error result it can act on (a missing file, a
refused path, an ambiguous replacement, a file that is not UTF-8 text); nothing here raises for
the model's mistakes. Edits are only staged in the workspace: the step commits them, or
discards them when the agent stops.

Everything the model controls is bounded: output is capped per line and per result, and its
search patterns run on RE2 (linear time) in a worker thread with a deadline, so no pattern can
stall the event loop that serves webhooks and every other session.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

from bot.agent.spec_problem import SPEC_PROBLEM_TOOL, SpecProblem, parse_report
from bot.core.spec import REPORT_TOOL
from bot.github.workspace import FileNotInBranch, NotText, PathRefused, Workspace, clean_path

log = logging.getLogger(__name__)

EDITOR_NAME = "str_replace_based_edit_tool"
SEARCH_NAME = "search"
MAX_VIEW_CHARS = 40_000
MAX_VIEW_LINE_CHARS = 2_000
MAX_DIRECTORY_ENTRIES = 400
SNIPPET_CONTEXT_LINES = 4
MAX_LISTED_OCCURRENCES = 20
MAX_SEARCH_MATCHES = 100
MAX_SEARCH_OUTPUT_CHARS = 16_000
MAX_MATCH_LINE_CHARS = 240
MATCH_LEAD_CHARS = 60
MAX_PATTERN_CHARS = 500
SEARCH_TIME_LIMIT_SECONDS = 10.0

EDITOR_TOOL: dict[str, Any] = {
    "type": "text_editor_20250728",
    "name": EDITOR_NAME,
    "max_characters": MAX_VIEW_CHARS,
}
SEARCH_TOOL: dict[str, Any] = {
    "name": SEARCH_NAME,
    "description": (
        "Search the files of the branch (including the edits you made in this session) for a literal "
        "string or a regular expression. Returns matching lines as `path:line: text`, at most "
        f"{MAX_SEARCH_MATCHES}. Read-only; use it to find definitions, usages and imports instead of "
        "viewing many files."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "The text to look for (literal unless `regex` is true)."},
            "regex": {
                "type": "boolean",
                "description": "Treat `pattern` as a regular expression (RE2 syntax: no backreferences or lookaround).",
            },
            "ignore_case": {"type": "boolean", "description": "Match without regard to case."},
            "path": {
                "type": "string",
                "description": "Optional: limit the search to a folder (`src/`) or a glob (`src/**/*.py`, `*.md`).",
            },
        },
        "required": ["pattern"],
    },
}


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    is_error: bool = False


def error(text: str) -> ToolOutcome:
    return ToolOutcome(text, is_error=True)


def tool_definitions() -> list[dict[str, Any]]:
    """The tools in a fixed order: the request prefix must be byte-identical on every turn."""
    return [dict(EDITOR_TOOL), {**SEARCH_TOOL, "input_schema": dict(SEARCH_TOOL["input_schema"])},
            {**SPEC_PROBLEM_TOOL, "input_schema": dict(SPEC_PROBLEM_TOOL["input_schema"])}]


class Toolbox:
    """Runs the model's tool calls for one agent run."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.editor = Editor(workspace)
        self.search = Search(workspace)
        self.spec_problem: SpecProblem | None = None  # set when the agent reports that the spec is wrong

    async def run(self, name: str, tool_input: Any) -> ToolOutcome:
        if not isinstance(tool_input, Mapping):
            return error(f"the input of `{name}` must be a JSON object")
        try:
            if name == EDITOR_NAME:
                return await self.editor.run(tool_input)
            if name == SEARCH_NAME:
                return await self.search.run(tool_input)
            if name == REPORT_TOOL:
                return self.report_spec_problem(tool_input)
        except PathRefused as exc:
            return error(str(exc))
        except FileNotInBranch as exc:
            return error(f"{exc.args[0] if exc.args else 'file'}: no such file on the branch; `view` a folder to "
                         "list its files, or `create` the file")
        return error(f"unknown tool `{name}`; the tools are `{EDITOR_NAME}`, `{SEARCH_NAME}` and `{REPORT_TOOL}`")

    def report_spec_problem(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        report = parse_report(tool_input)
        if isinstance(report, str):
            return error(report)
        self.spec_problem = report
        return ToolOutcome("Reported to the maintainers. Your work on this task ends here; stop now.")


# ----------------------------------------------------------------------------- editor


def readable_path(path: Any) -> str:
    """A repository-relative path to read. Reading protected paths is allowed (the model may need
    to see how CI runs the tests); `.git`, absolute paths and `..` are refused as for writing."""
    if not isinstance(path, str) or not path.strip():
        raise PathRefused("`path` is required (relative to the repository root)")
    return clean_path(path)


def file_lines(text: str) -> list[str]:
    if not text:
        return []
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def capped_line(line: str, number: int, alone: bool, limit: int) -> str:
    """A line cut at `limit` characters, with a marker saying how to see the rest: view the line
    alone (`view_range [n, n]` shows far more of it), or, when it is already alone, search in it."""
    if len(line) <= limit:
        return line
    rest = len(line) - limit
    if alone:
        return (line[:limit] + f" [... {rest:,} more characters on line {number}, more than one view shows; "
                "`search` for the text you need in it]")
    return line[:limit] + (f" [... {rest:,} more characters on line {number}; "
                           f"view_range [{number}, {number}] shows more]")


def numbered_lines(header: str, lines: list[str], first: int, last: int, alone: bool = False) -> tuple[str, int]:
    """`cat -n` style, as the text editor tool's reference implementation shows files: each line
    capped at MAX_VIEW_LINE_CHARS, the whole at MAX_VIEW_CHARS; a line asked for `alone` gets the
    whole budget. Returns the text and the number of the last line shown."""
    limit = MAX_VIEW_CHARS - len(header) - 200 if alone else MAX_VIEW_LINE_CHARS
    shown, size, shown_last = [], len(header), first - 1
    for number in range(first, last + 1):
        line = f"{number:6}\t{capped_line(lines[number - 1], number, alone, limit)}\n"
        if size + len(line) > MAX_VIEW_CHARS and number > first:
            break
        shown.append(line)
        size += len(line)
        shown_last = number
    return header + "".join(shown), shown_last


class Editor:
    COMMANDS = ("view", "create", "str_replace", "insert")

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    async def run(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        command = tool_input.get("command")
        try:
            if command == "view":
                return await self.view(tool_input)
            if command == "create":
                return await self.create(tool_input)
            if command == "str_replace":
                return await self.str_replace(tool_input)
            if command == "insert":
                return await self.insert(tool_input)
        except NotText as exc:
            return error(cannot_show(exc) if command == "view" else cannot_edit(exc))
        if command == "undo_edit":
            return error("`undo_edit` is not available; use `str_replace` to put the old text back")
        return error(f"unknown command {command!r}; use one of: {', '.join(self.COMMANDS)}")

    async def view(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        raw_path = tool_input.get("path")
        path = "" if raw_path in ("", ".", "./") else readable_path(raw_path)
        if not self.workspace.exists(path) and self.workspace.is_dir(path):
            return ToolOutcome(self.list_directory(path))
        text = await self.workspace.read(path)
        lines = file_lines(text)
        view_range = tool_input.get("view_range")
        first, last = 1, len(lines)
        if view_range is not None:
            bounds = self._parse_range(view_range, len(lines))
            if isinstance(bounds, ToolOutcome):
                return bounds
            first, last = bounds
        return ToolOutcome(self._shown(path, lines, first, last, alone=view_range is not None and first == last))

    def _parse_range(self, view_range: Any, line_count: int) -> tuple[int, int] | ToolOutcome:
        valid = (isinstance(view_range, list) and len(view_range) == 2
                 and all(isinstance(n, int) and not isinstance(n, bool) for n in view_range))
        if not valid:
            return error("`view_range` must be two integers [start, end]; end -1 means the end of the file")
        start, end = view_range
        if not 1 <= start <= max(line_count, 1):
            return error(f"`view_range` start {start} is outside the file's lines 1..{line_count}")
        end = line_count if end == -1 else min(end, line_count)
        if end < start:
            return error(f"`view_range` end {view_range[1]} is before start {start}")
        return start, end

    @staticmethod
    def _shown(path: str, lines: list[str], first: int, last: int, alone: bool) -> str:
        header = f"Here's the result of running `cat -n` on {path}:\n"
        text, shown_last = numbered_lines(header, lines, first, last, alone)
        if shown_last < last:
            text += (f"[... output truncated after line {shown_last} of {len(lines)}; "
                     f"use view_range [{shown_last + 1}, -1] to see more]\n")
        return text

    def list_directory(self, path: str) -> str:
        """Files and folders up to two levels below `path`, hidden ones left out (as `find -maxdepth 2`)."""
        prefix = f"{path}/" if path else ""
        entries: set[str] = set()
        for file_path in self.workspace.paths():
            if not file_path.startswith(prefix):
                continue
            parts = file_path[len(prefix):].split("/")
            if any(part.startswith(".") for part in parts[:2]):
                continue
            entries.add(prefix + parts[0] + ("/" if len(parts) > 1 else ""))
            if len(parts) > 1:
                entries.add(prefix + "/".join(parts[:2]) + ("/" if len(parts) > 2 else ""))
        listed = sorted(entries)
        more = len(listed) - MAX_DIRECTORY_ENTRIES
        text = "\n".join(listed[:MAX_DIRECTORY_ENTRIES])
        if more > 0:
            text += f"\n[... {more} more entries; view a subfolder to see them]"
        where = path or "the repository root"
        note = f"({self.workspace.listing_note}.)\n" if self.workspace.listing_note else ""
        return f"Files and folders up to 2 levels deep in {where} (hidden ones excluded):\n{text}\n{note}"

    async def create(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        text = tool_input.get("file_text")
        if not isinstance(text, str):
            return error("`create` needs `file_text` (the whole content of the new file)")
        path = self.workspace.check_path(readable_path(tool_input.get("path")))
        if not self.workspace.exists(path) and self.workspace.is_dir(path):
            return error(f"{path} is a folder; give the path of a file inside it")
        existed = self.workspace.exists(path)
        if existed:
            await self.workspace.read(path)  # `NotText`: a binary or non-UTF-8 file is not replaced either
        self.workspace.write(path, text)
        return ToolOutcome(f"File {'overwritten' if existed else 'created'} successfully at: {path}")

    async def str_replace(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        old, new = tool_input.get("old_str"), tool_input.get("new_str", "")
        if not isinstance(old, str) or old == "":
            return error("`str_replace` needs a non-empty `old_str` copied exactly from the file")
        if not isinstance(new, str):
            return error("`new_str` must be a string (empty to delete `old_str`)")
        path = self.workspace.check_path(readable_path(tool_input.get("path")))
        text = await self.workspace.read(path)
        count = text.count(old)
        if count == 0:
            return error(f"No replacement was performed: `old_str` does not appear verbatim in {path}. "
                         "Check whitespace and indentation; `view` the file and copy the text exactly.")
        if count > 1:
            return error(f"No replacement was performed: `old_str` occurs {count} times in {path} "
                         f"(at lines {occurrence_lines(text, old, count)}). "
                         "Include more surrounding lines so that it is unique.")
        start = text.index(old)
        updated = text[:start] + new + text[start + len(old):]
        self.workspace.write(path, updated)
        first_line = line_of(updated, start)
        return ToolOutcome(f"The file {path} has been edited. "
                           + self._snippet(updated, first_line, first_line + new.count("\n")))

    async def insert(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        text_to_insert = tool_input.get("insert_text", tool_input.get("new_str"))
        line = tool_input.get("insert_line")
        if not isinstance(text_to_insert, str):
            return error("`insert` needs `insert_text`")
        if not isinstance(line, int) or isinstance(line, bool):
            return error("`insert` needs `insert_line`: the line number after which to insert (0 = top of file)")
        path = self.workspace.check_path(readable_path(tool_input.get("path")))
        text = await self.workspace.read(path)
        lines = file_lines(text)
        if not 0 <= line <= len(lines):
            return error(f"`insert_line` {line} is outside 0..{len(lines)} (the file has {len(lines)} lines)")
        new_lines = file_lines(text_to_insert) or [""]
        updated_lines = lines[:line] + new_lines + lines[line:]
        trailing = "\n" if text.endswith("\n") or not text else ""
        updated = "\n".join(updated_lines) + trailing
        self.workspace.write(path, updated)
        return ToolOutcome(f"The file {path} has been edited. "
                           + self._snippet(updated, line + 1, line + len(new_lines)))

    @staticmethod
    def _snippet(text: str, first: int, last: int) -> str:
        lines = file_lines(text)
        start = max(1, first - SNIPPET_CONTEXT_LINES)
        end = min(len(lines), last + SNIPPET_CONTEXT_LINES)
        shown, shown_last = numbered_lines("Here is the edited region (`cat -n`):\n", lines, start, end)
        if shown_last < end:
            shown += (f"[... the rest of the edited region is not shown; "
                      f"view_range [{shown_last + 1}, {end}] shows it]\n")
        return shown.rstrip("\n") + "\nReview it, and edit again if needed."


def occurrence_lines(text: str, old: str, count: int) -> str:
    """The line numbers of the first occurrences of `old`, listed up to MAX_LISTED_OCCURRENCES."""
    numbers, index = [], text.find(old)
    while index != -1 and len(numbers) < MAX_LISTED_OCCURRENCES:
        numbers.append(str(line_of(text, index)))
        index = text.find(old, index + len(old))
    more = f" and {count - len(numbers)} more" if count > len(numbers) else ""
    return ", ".join(numbers) + more


def cannot_show(exc: NotText) -> str:
    return f"{exc.path} is {exc.reason}, {exc.size:,} bytes; the editor shows only UTF-8 text files."


def cannot_edit(exc: NotText) -> str:
    return (f"{exc.path} is {exc.reason}; the editor cannot change it without corrupting it. "
            "Leave it, or ask a maintainer.")


# ----------------------------------------------------------------------------- search


class SearchTookTooLong(Exception):
    pass


def re2_options(ignore_case: bool) -> re2.Options:
    """`log_errors` off: RE2 would print every rejected pattern on stderr (through absl)."""
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    return options


def glob_matcher(glob: str) -> Any:
    """A path glob: `**` crosses folders, `*` and `?` do not; a glob without `/` matches the file
    name in any folder; a plain folder (`src`, `src/`) matches everything below it. Compiled for
    RE2: a glob full of stars must not backtrack for ever on a long path."""
    glob = glob.strip().removeprefix("./")
    if not any(ch in glob for ch in "*?["):
        folder = glob.rstrip("/")
        return re2.compile(re2.escape(folder) + r"(?:/.*)?\z", re2_options(False))
    if "/" not in glob:
        glob = "**/" + glob
    pattern, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            pattern, i = pattern + r"(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            pattern, i = pattern + r".*", i + 2
        elif glob[i] == "*":
            pattern, i = pattern + r"[^/]*", i + 1
        elif glob[i] == "?":
            pattern, i = pattern + r"[^/]", i + 1
        else:
            pattern, i = pattern + re2.escape(glob[i]), i + 1
    return re2.compile(pattern + r"\z", re2_options(False))


class LiteralFinder:
    """A literal pattern: plain substring search, no regex engine."""

    def __init__(self, needle: str, ignore_case: bool) -> None:
        self.ignore_case = ignore_case
        self.needle = needle.lower() if ignore_case else needle

    def may_match(self, text: str) -> bool:
        return self.needle in (text.lower() if self.ignore_case else text)

    def first(self, line: str) -> int | None:
        index = (line.lower() if self.ignore_case else line).find(self.needle)
        return None if index == -1 else index


class RegexFinder:
    """A regular expression on RE2, matched line by line. A file is first searched whole, in
    multi-line mode (one call instead of one per line), to skip the files without a match; that
    shortcut is not taken for `\\A`, `\\z` or a flag group turning a flag off, which mean
    something else on a whole file than on one line."""

    WHOLE_FILE_UNSAFE = re.compile(r"\\[Az]|\(\?[a-zA-Z]*-")

    def __init__(self, pattern: str, ignore_case: bool) -> None:
        options = re2_options(ignore_case)
        self.line_pattern = re2.compile(pattern, options)
        self.file_pattern = None if self.WHOLE_FILE_UNSAFE.search(pattern) else re2.compile(f"(?m){pattern}", options)

    def may_match(self, text: str) -> bool:
        return self.file_pattern is None or self.file_pattern.search(text) is not None

    def first(self, line: str) -> int | None:
        match = self.line_pattern.search(line)
        return None if match is None else match.start()


Finder = LiteralFinder | RegexFinder


@dataclass(frozen=True)
class Match:
    path: str
    number: int
    excerpt: str


@dataclass
class Found:
    """The first MAX_SEARCH_MATCHES matches, and how many there were in all."""

    shown: list[Match] = field(default_factory=list)
    total: int = 0


def excerpt(line: str, start: int) -> str:
    """The line, or MAX_MATCH_LINE_CHARS of it around the match, marked where it was cut."""
    if len(line) <= MAX_MATCH_LINE_CHARS:
        return line
    begin = max(0, min(start - MATCH_LEAD_CHARS, len(line) - MAX_MATCH_LINE_CHARS))
    end = begin + MAX_MATCH_LINE_CHARS
    return ("[...] " if begin else "") + line[begin:end] + (" [...]" if end < len(line) else "")


def with_changes(texts: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    files = dict(texts)
    for path, content in changes.items():
        if content is None:
            files.pop(path, None)
        else:
            files[path] = content
    return files


def scan(texts: Mapping[str, str], changes: Mapping[str, str | None], wanted: Any, finder: Finder,
         deadline: float) -> tuple[Found, int]:
    """Every matching line of the files `wanted` selects (run in a worker thread; it stops at
    `deadline` with `SearchTookTooLong`). Returns the matches and how many files were searched."""
    files = with_changes(texts, changes)
    found = Found()
    for path in sorted(files):
        if time.monotonic() > deadline:
            raise SearchTookTooLong
        if wanted is not None and not wanted.match(path):
            continue
        if not finder.may_match(files[path]):
            continue
        for number, line in enumerate(file_lines(files[path]), start=1):
            if time.monotonic() > deadline:
                raise SearchTookTooLong
            start = finder.first(line)
            if start is None:
                continue
            found.total += 1
            if len(found.shown) < MAX_SEARCH_MATCHES:
                found.shown.append(Match(path, number, excerpt(line, start)))
    return found, len(files)


class Search:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    async def run(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        finder = self._finder(tool_input)
        if isinstance(finder, ToolOutcome):
            return finder
        path_glob = tool_input.get("path") or ""
        if not isinstance(path_glob, str):
            return error("`path` must be a string: a folder or a glob")
        if len(path_glob) > MAX_PATTERN_CHARS:
            return error(f"`path` is longer than {MAX_PATTERN_CHARS} characters; give a folder or a shorter glob")
        try:
            archive = await self.workspace.archive()
        except Exception as exc:  # noqa: BLE001 - any GitHub failure becomes an answer the model can read
            log.warning("search: downloading the branch archive failed: %s", type(exc).__name__)
            return error("search is unavailable right now (the branch archive could not be downloaded); "
                         "use `view` on folders and files instead")
        wanted = glob_matcher(path_glob) if path_glob else None
        try:
            found, file_count = await asyncio.wait_for(
                asyncio.to_thread(scan, archive.texts, self.workspace.changes, wanted, finder,
                                  time.monotonic() + SEARCH_TIME_LIMIT_SECONDS),
                timeout=SEARCH_TIME_LIMIT_SECONDS,
            )
        except (SearchTookTooLong, TimeoutError):
            return error("search took too long; narrow the path or pattern")
        report = self._report(found, tool_input["pattern"], path_glob, file_count)
        if not (archive.complete and archive.texts_complete):
            report += ("\n[the search index holds only part of this large branch: a file not found here may "
                       "still exist; `view` a folder to check]")
        return ToolOutcome(report)

    @staticmethod
    def _finder(tool_input: Mapping[str, Any]) -> Finder | ToolOutcome:
        pattern = tool_input.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            return error("`search` needs a non-empty `pattern`")
        if len(pattern) > MAX_PATTERN_CHARS:
            return error(f"`pattern` is longer than {MAX_PATTERN_CHARS} characters; search for a shorter part")
        ignore_case = bool(tool_input.get("ignore_case"))
        if not tool_input.get("regex"):
            return LiteralFinder(pattern, ignore_case)
        try:
            return RegexFinder(pattern, ignore_case)
        except re2.error as exc:
            detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            return error(f"regular expression not accepted ({detail}). Search uses RE2 syntax, which does not "
                         "support backreferences, lookahead or lookbehind (nor `\\Z`: use `\\z`); use a simpler "
                         "pattern, or set `regex` false to search for the literal text")

    @staticmethod
    def _report(found: Found, pattern: str, path_glob: str, file_count: int) -> str:
        where = f" in files matching {path_glob!r}" if path_glob else ""
        if not found.total:
            return f"No matches for {pattern!r}{where} ({file_count} files searched)."
        lines, size = [], 0
        for match in found.shown:
            entry = f"{match.path}:{match.number}: {match.excerpt}"
            if size + len(entry) > MAX_SEARCH_OUTPUT_CHARS:
                break
            lines.append(entry)
            size += len(entry) + 1
        if len(lines) < found.total:
            lines.append(f"[showing {len(lines)} of {found.total} matches; narrow the pattern or the path]")
        return "\n".join(lines)
