"""A file's bytes as text, only when they are text: binary and non-UTF-8 files are refused
(`NotText`) instead of being corrupted by a round trip through a decoder."""

from __future__ import annotations

import hashlib
import re

BINARY_SNIFF_BYTES = 8192


class NotText(ValueError):
    """A file that is binary or not UTF-8: as text it would be changed by being read and written back."""

    def __init__(self, path: str, reason: str, size: int) -> None:
        super().__init__(f"{path} is {reason}")
        self.path, self.reason, self.size = path, reason, size


def decode_text(path: str, data: bytes) -> str:
    """The file's text, or `NotText`: NUL bytes near the start mean binary (as git decides), and
    anything else must be valid UTF-8."""
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise NotText(path, "binary (it has NUL bytes)", len(data))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(path, f"not UTF-8 text ({encoding_hint(data, exc.start)})", len(data)) from None


def encoding_hint(data: bytes, bad_offset: int) -> str:
    if looks_latin1(data):
        return "it looks like Latin-1"
    return f"byte 0x{data[bad_offset]:02x} at offset {bad_offset:,} is not UTF-8"


def looks_latin1(data: bytes) -> bool:
    """Latin-1 (or Windows-1252) text has its accented letters alone or in pairs between ASCII
    characters; multi-byte encodings (Shift-JIS, GBK…) make longer runs of high bytes."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return re.search(rb"[\x80-\xff]{3}", data) is None


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
