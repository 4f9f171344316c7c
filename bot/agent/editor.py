"""Anthropic's text editor tool (view, create, str_replace, insert), executed against the branch
workspace. Edits are only staged; reading locked paths is allowed, writing them is refused with
the lock's reason. Output is capped per line and per view.

Every edit of a file in a language bot.agent.syntax parses is parsed before it is applied, and
refused when it would break a file that parsed (see `SyntaxGuard`): a syntax error costs the
model one tool call instead of a commit, a CI run and a fix attempt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.agent import syntax
from bot.agent.outcome import ToolOutcome, error
from bot.github.files import NotText
from bot.github.paths import PathRefused, clean_path
from bot.github.workspace import Workspace
from bot.telemetry import metrics

EDITOR_NAME = "str_replace_based_edit_tool"
MAX_VIEW_CHARS = 40_000
MAX_VIEW_LINE_CHARS = 2_000
MAX_DIRECTORY_ENTRIES = 400
SNIPPET_CONTEXT_LINES = 4
MAX_LISTED_OCCURRENCES = 20
SYNTAX_CONTEXT_LINES = 3
MAX_SYNTAX_CONTEXT_LINE_CHARS = 300

EDITOR_TOOL: dict[str, Any] = {
    "type": "text_editor_20250728",
    "name": EDITOR_NAME,
    "max_characters": MAX_VIEW_CHARS,
}


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
        self.syntax_guard = SyntaxGuard()

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
        # `NotText`: a binary or non-UTF-8 file is not replaced either
        before = await self.workspace.read(path) if existed else None
        refusal = self.syntax_guard.refusal(path, before, text)
        if refusal is not None:
            return error(refusal)
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
        refusal = self.syntax_guard.refusal(path, text, updated)
        if refusal is not None:
            return error(refusal)
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
        refusal = self.syntax_guard.refusal(path, text, updated)
        if refusal is not None:
            return error(refusal)
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


class SyntaxGuard:
    """Refuses an edit that would break a file's syntax, for one agent run.

    A new error is decided file by file, not error by error: an edit is refused when the file
    parsed before it (or did not exist) and would not parse after it. A file that was already
    broken stays editable whatever the edit leaves, so the model can work its way to a fix; an
    edit that fixes it is accepted like any other. Error-by-error comparison was not chosen:
    tree-sitter's error recovery moves and merges ERROR nodes when the text around them changes,
    and Python's parser reports only the first error.

    The parsers can be wrong about valid code (Python syntax newer than the interpreter the bot
    runs on, a grammar behind its language), so an edit refused once is applied when the model
    sends exactly the same edit again (same path, same resulting text): that is an override,
    counted apart from the refusals.
    """

    def __init__(self) -> None:
        self.refusals = 0
        self.overrides = 0
        self._refused: set[tuple[str, int]] = set()

    def refusal(self, path: str, before: str | None, after: str) -> str | None:
        """The message refusing the edit that turns `before` (None: no such file) into `after`,
        or None to apply it. The text after the edit is parsed first: when it parses, as it
        mostly does, the text before is not parsed at all."""
        parsed = syntax.parse(path, after)
        if parsed is None or parsed.ok:
            return None
        if before is not None and not parses(path, before):
            return None
        attempt = (path, hash(after))
        if attempt in self._refused:
            self.overrides += 1
            return None
        self._refused.add(attempt)
        self.refusals += 1
        metrics.record_syntax_refusal(parsed.language)
        return refusal_text(path, after, parsed, created=before is None)


def parses(path: str, text: str) -> bool:
    """Whether the text is known to parse: "cannot check" counts as not known."""
    parsed = syntax.parse(path, text)
    return parsed is not None and parsed.ok


def refusal_text(path: str, after: str, parsed: syntax.Parsed, created: bool) -> str:
    first = parsed.errors[0]
    lines = file_lines(after) or [""]
    where = (f"line {first.line}, column {first.column}" if first.line <= len(lines)
             else f"the end of the file (line {len(lines)})")
    unchanged = f"`{path}` was not created." if created else f"It parsed before this edit; `{path}` is unchanged."
    return (f"Not applied: after this edit `{path}` would not parse: {where}: {first.message} "
            f"({parsed.parser}). {unchanged}\n"
            + error_context(lines, min(first.line, len(lines)))
            + "Fix the edit and try again. If it is one step of a larger change, make the whole change in one edit; "
            "when you write a file in parts, end each part where the code is complete (after a whole function "
            "or class). If you are sure the code is valid and the parser is wrong (syntax newer than it knows), "
            "send exactly the same edit again and it will be applied.")


def error_context(lines: list[str], line: int) -> str:
    """The lines around the error as the edit would leave them, numbered, the error's line marked."""
    first, last = max(1, line - SYNTAX_CONTEXT_LINES), min(len(lines), line + SYNTAX_CONTEXT_LINES)
    shown = []
    for number in range(first, last + 1):
        text = lines[number - 1].rstrip("\r")
        if len(text) > MAX_SYNTAX_CONTEXT_LINE_CHARS:
            text = text[:MAX_SYNTAX_CONTEXT_LINE_CHARS] + " [...]"
        shown.append(f"{'>' if number == line else ' '}{number:5}\t{text}\n")
    return "".join(shown)
