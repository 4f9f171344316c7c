"""The agent's read-only `search` over the branch's files: literal text, or a regular expression
on RE2 (linear time), run in a worker thread with a deadline, so no pattern can stall the event
loop that serves webhooks and every other session. Output is capped per line and per result."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

from bot.agent.editor import file_lines
from bot.agent.outcome import ToolOutcome, error
from bot.github.workspace import Workspace

log = logging.getLogger(__name__)

SEARCH_NAME = "search"
MAX_SEARCH_MATCHES = 100
MAX_SEARCH_OUTPUT_CHARS = 16_000
MAX_MATCH_LINE_CHARS = 240
MATCH_LEAD_CHARS = 60
MAX_PATTERN_CHARS = 500
SEARCH_TIME_LIMIT_SECONDS = 10.0

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
