"""Writing settings into a `.env` file without disturbing what else is in it.

The keys being set replace their existing assignments (including a quoted value that spans
several lines); every other line is kept byte for byte. The file is replaced atomically and is
readable by its owner only (0600): it holds the App's private key.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def quote(value: str) -> str:
    """A double-quoted dotenv value on one line (python-dotenv decodes these escapes)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def closes(text: str, quote_char: str) -> bool:
    """Whether `text` contains the closing `quote_char` (a backslash escapes it in double quotes)."""
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quote_char == '"':
            escaped = True
        elif char == quote_char:
            return True
    return False


def assignment_span(lines: list[str], start: int) -> int:
    """How many lines the assignment starting at `start` occupies (a quoted value may span several)."""
    value = ASSIGNMENT.match(lines[start].rstrip("\r\n")).group(2)
    if not value or value[0] not in "\"'" or closes(value[1:], value[0]):
        return 1
    for end in range(start + 1, len(lines)):
        if closes(lines[end], value[0]):
            return end - start + 1
    return 1  # never closed: dotenv would not read it as one value either; replace the line alone


def updated(text: str, values: Mapping[str, str]) -> str:
    """`text` with `values` assigned: each key's first assignment replaced, later ones dropped,
    missing ones appended; all other lines unchanged."""
    wanted = {key.upper(): key for key in values}
    newline = "\r\n" if "\r\n" in text else "\n"
    lines, out, written = text.splitlines(keepends=True), [], set()
    index = 0
    while index < len(lines):
        match = ASSIGNMENT.match(lines[index].rstrip("\r\n"))
        if match is None or match.group(1).upper() not in wanted:
            out.append(lines[index])
            index += 1
            continue
        key = wanted[match.group(1).upper()]
        if key not in written:
            out.append(f"{key}={quote(values[key])}{newline}")
            written.add(key)
        index += assignment_span(lines, index)
    missing = [key for key in values if key not in written]
    if missing and out and not out[-1].endswith("\n"):
        out[-1] += newline
    out.extend(f"{key}={quote(values[key])}{newline}" for key in missing)
    return "".join(out)


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, mode 0600 (a symlinked file is written where it points)."""
    target = Path(os.path.realpath(path))
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def set_values(path: Path, values: Mapping[str, str]) -> None:
    """Assign `values` in the dotenv file at `path` (created if absent), keeping every other line."""
    try:
        current = path.read_bytes().decode("utf-8")  # not read_text: keep \r\n line endings as they are
    except FileNotFoundError:
        current = ""
    write_private(path, updated(current, values))
