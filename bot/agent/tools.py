"""The agent's tools, executed against the branch workspace: Anthropic's text editor tool
(view, create, str_replace, insert) and a read-only `search` over the branch's files.

Every problem goes back to the model as an error result it can act on (a missing file, a
refused path, an ambiguous replacement); nothing here raises for the model's mistakes.
Edits are only staged in the workspace: the step commits them, or discards them when the
agent stops.
"""

from __future__ import annotations

import io
import logging
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.github.workspace import FileNotInBranch, PathRefused, Workspace, clean_path

log = logging.getLogger(__name__)

EDITOR_NAME = "str_replace_based_edit_tool"
SEARCH_NAME = "search"
MAX_VIEW_CHARS = 40_000
MAX_DIRECTORY_ENTRIES = 400
SNIPPET_CONTEXT_LINES = 4
MAX_SEARCH_MATCHES = 100
MAX_SEARCH_OUTPUT_CHARS = 16_000
MAX_MATCH_LINE_CHARS = 240
MAX_PATTERN_CHARS = 500
MAX_SEARCHED_FILE_BYTES = 1_000_000
MAX_ARCHIVE_TEXT_BYTES = 200_000_000

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
            "regex": {"type": "boolean", "description": "Treat `pattern` as a Python regular expression."},
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
    return [dict(EDITOR_TOOL), {**SEARCH_TOOL, "input_schema": dict(SEARCH_TOOL["input_schema"])}]


class Toolbox:
    """Runs the model's tool calls for one agent run."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.editor = Editor(workspace)
        self.search = Search(BranchArchive(workspace))

    async def run(self, name: str, tool_input: Any) -> ToolOutcome:
        if not isinstance(tool_input, Mapping):
            return error(f"the input of `{name}` must be a JSON object")
        try:
            if name == EDITOR_NAME:
                return await self.editor.run(tool_input)
            if name == SEARCH_NAME:
                return await self.search.run(tool_input)
        except PathRefused as exc:
            return error(str(exc))
        except FileNotInBranch as exc:
            return error(f"{exc.args[0] if exc.args else 'file'}: no such file on the branch; `view` a folder to "
                         "list its files, or `create` the file")
        return error(f"unknown tool `{name}`; the tools are `{EDITOR_NAME}` and `{SEARCH_NAME}`")


# ----------------------------------------------------------------------------- editor


def readable_path(path: Any) -> str:
    """A repository-relative path to read. Reading protected paths is allowed (the model may need
    to see how CI runs the tests); `.git`, absolute paths and `..` are refused as for writing."""
    if not isinstance(path, str) or not path.strip():
        raise PathRefused("`path` is required (relative to the repository root)")
    return clean_path(path)


def numbered(lines: list[str], first_number: int = 1) -> str:
    """`cat -n` style, as the text editor tool's reference implementation shows files."""
    return "\n".join(f"{number:6}\t{line}" for number, line in enumerate(lines, start=first_number))


def file_lines(text: str) -> list[str]:
    if not text:
        return []
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


class Editor:
    COMMANDS = ("view", "create", "str_replace", "insert")

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    async def run(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        command = tool_input.get("command")
        if command == "view":
            return await self.view(tool_input)
        if command == "create":
            return self.create(tool_input)
        if command == "str_replace":
            return await self.str_replace(tool_input)
        if command == "insert":
            return await self.insert(tool_input)
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
        return ToolOutcome(self._shown(path, lines, first, last))

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

    def _shown(self, path: str, lines: list[str], first: int, last: int) -> str:
        header = f"Here's the result of running `cat -n` on {path}:\n"
        body, shown_last = "", first - 1
        for number in range(first, last + 1):
            line = f"{number:6}\t{lines[number - 1]}\n"
            if len(header) + len(body) + len(line) > MAX_VIEW_CHARS and number > first:
                break
            body, shown_last = body + line, number
        if shown_last < last:
            body += (f"[... output truncated after line {shown_last} of {len(lines)}; "
                     f"use view_range [{shown_last + 1}, -1] to see more]\n")
        return header + body

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
        return f"Files and folders up to 2 levels deep in {where} (hidden ones excluded):\n{text}\n"

    def create(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        text = tool_input.get("file_text")
        if not isinstance(text, str):
            return error("`create` needs `file_text` (the whole content of the new file)")
        path = self.workspace.check_path(readable_path(tool_input.get("path")))
        if not self.workspace.exists(path) and self.workspace.is_dir(path):
            return error(f"{path} is a folder; give the path of a file inside it")
        existed = self.workspace.exists(path)
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
        starts = [m.start() for m in re.finditer(re.escape(old), text)]
        if not starts:
            return error(f"No replacement was performed: `old_str` does not appear verbatim in {path}. "
                         "Check whitespace and indentation; `view` the file and copy the text exactly.")
        if len(starts) > 1:
            lines = ", ".join(str(line_of(text, i)) for i in starts)
            return error(f"No replacement was performed: `old_str` occurs {len(starts)} times in {path} "
                         f"(at lines {lines}). Include more surrounding lines so that it is unique.")
        updated = text[: starts[0]] + new + text[starts[0] + len(old):]
        self.workspace.write(path, updated)
        first_line = line_of(updated, starts[0])
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
        return ("Here is the edited region (`cat -n`):\n" + numbered(lines[start - 1: end], start)
                + "\nReview it, and edit again if needed.")


# ----------------------------------------------------------------------------- search


class BranchArchive:
    """The branch's text files, from ONE tarball download per head commit (not one API call per
    file), with the workspace's staged edits laid over them on every read."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._files: dict[str, str] | None = None
        self._sha: str | None = None
        self.downloads = 0

    async def files(self) -> dict[str, str]:
        if self._files is None or self._sha != self.workspace.head_sha:
            self._files = await self._download(self.workspace.head_sha)
            self._sha = self.workspace.head_sha
        files = dict(self._files)
        for path, content in self.workspace.changes.items():
            if content is None:
                files.pop(path, None)
            else:
                files[path] = content
        return files

    async def _download(self, sha: str | None) -> dict[str, str]:
        ws = self.workspace
        self.downloads += 1
        response = await ws.gh.rest.repos.async_download_tarball_archive(ws.owner, ws.repo, ref=sha or ws.branch)
        return text_files_of_tarball(response.content)


def text_files_of_tarball(archive: bytes) -> dict[str, str]:
    """`path → text` for the archive's regular text files, without GitHub's top-level folder.
    Binary files and files over MAX_SEARCHED_FILE_BYTES are left out."""
    files: dict[str, str] = {}
    total = 0
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
        for member in tar:
            if not member.isfile() or member.size > MAX_SEARCHED_FILE_BYTES or "/" not in member.name:
                continue
            handle = tar.extractfile(member)
            data = handle.read() if handle is not None else b""
            if b"\x00" in data[:8192]:
                continue
            total += len(data)
            if total > MAX_ARCHIVE_TEXT_BYTES:
                log.warning("search index stops at %d bytes of text", MAX_ARCHIVE_TEXT_BYTES)
                break
            files[member.name.split("/", 1)[1]] = data.decode("utf-8", errors="replace")
    return files


def glob_matcher(glob: str) -> re.Pattern[str]:
    """A path glob: `**` crosses folders, `*` and `?` do not; a glob without `/` matches the file
    name in any folder; a plain folder (`src`, `src/`) matches everything below it."""
    glob = glob.strip().removeprefix("./")
    if not any(ch in glob for ch in "*?["):
        folder = glob.rstrip("/")
        return re.compile(re.escape(folder) + r"(?:/.*)?\Z")
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
            pattern, i = pattern + re.escape(glob[i]), i + 1
    return re.compile(pattern + r"\Z")


class Search:
    def __init__(self, archive: BranchArchive) -> None:
        self.archive = archive

    async def run(self, tool_input: Mapping[str, Any]) -> ToolOutcome:
        compiled = self._compile(tool_input)
        if isinstance(compiled, ToolOutcome):
            return compiled
        path_glob = tool_input.get("path") or ""
        if not isinstance(path_glob, str):
            return error("`path` must be a string: a folder or a glob")
        try:
            files = await self.archive.files()
        except Exception as exc:  # noqa: BLE001 - any GitHub failure becomes an answer the model can read
            log.warning("search: downloading the branch archive failed: %s", type(exc).__name__)
            return error("search is unavailable right now (the branch archive could not be downloaded); "
                         "use `view` on folders and files instead")
        wanted = glob_matcher(path_glob) if path_glob else None
        matches = [
            (path, number, line)
            for path in sorted(files)
            if wanted is None or wanted.match(path)
            for number, line in enumerate(file_lines(files[path]), start=1)
            if compiled.search(line)
        ]
        return ToolOutcome(self._report(matches, tool_input["pattern"], path_glob, len(files)))

    @staticmethod
    def _compile(tool_input: Mapping[str, Any]) -> re.Pattern[str] | ToolOutcome:
        pattern = tool_input.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            return error("`search` needs a non-empty `pattern`")
        if len(pattern) > MAX_PATTERN_CHARS:
            return error(f"`pattern` is longer than {MAX_PATTERN_CHARS} characters; search for a shorter part")
        flags = re.IGNORECASE if tool_input.get("ignore_case") else 0
        try:
            return re.compile(pattern if tool_input.get("regex") else re.escape(pattern), flags)
        except re.error as exc:
            return error(f"invalid regular expression: {exc}; set `regex` false to search for the literal text")

    @staticmethod
    def _report(matches: list[tuple[str, int, str]], pattern: str, path_glob: str, file_count: int) -> str:
        where = f" in files matching {path_glob!r}" if path_glob else ""
        if not matches:
            return f"No matches for {pattern!r}{where} ({file_count} files searched)."
        lines, size = [], 0
        for path, number, line in matches[:MAX_SEARCH_MATCHES]:
            shown = line if len(line) <= MAX_MATCH_LINE_CHARS else line[:MAX_MATCH_LINE_CHARS] + " [...]"
            entry = f"{path}:{number}: {shown}"
            if size + len(entry) > MAX_SEARCH_OUTPUT_CHARS:
                break
            lines.append(entry)
            size += len(entry) + 1
        if len(lines) < len(matches):
            lines.append(f"[showing {len(lines)} of {len(matches)} matches; narrow the pattern or the path]")
        return "\n".join(lines)
