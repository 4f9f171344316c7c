"""Repository paths the agent may read and write: normalized, inside the repository, and, for
writing, outside every lock (bot/core/spec.py)."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable

from bot.core.spec import Lock

ALWAYS_LOCKED = (Lock(".github/workflows", "CI workflows decide what green means: they are locked."),)


class PathRefused(ValueError):
    """A path outside the repository, inside .git/, or locked (the spec, the pipeline, configured paths)."""


def clean_path(path: str) -> str:
    """A normalized repository-relative path ("" for the root), or `PathRefused` saying why not
    (in words a model can act on): absolute paths, `..` and anything inside `.git` are refused."""
    if not isinstance(path, str) or not path.strip():
        raise PathRefused("empty path")
    raw = path.strip().replace("\\", "/")
    if "\x00" in raw:
        raise PathRefused(f"{path!r}: NUL byte in path")
    if raw.startswith("/"):
        raise PathRefused(f"{path}: absolute paths are refused; use a path relative to the repository root")
    if ".." in raw.split("/"):
        raise PathRefused(f"{path}: '..' would leave the repository")
    clean = posixpath.normpath(raw)
    if any(part.lower() == ".git" for part in clean.split("/")):
        raise PathRefused(f"{clean}: paths inside a .git directory are refused")
    return "" if clean == "." else clean


def normalize_path(path: str, locks: Iterable[Lock | str] = ()) -> str:
    """A clean repository-relative path to write, or `PathRefused` saying why not (and, for a
    locked path, what to do instead: bot/core/spec.py). A plain string is a configured pattern."""
    clean = clean_path(path)
    if not clean:
        raise PathRefused(f"{path}: names the repository root, not a file")
    for lock in (*ALWAYS_LOCKED, *locks):
        if isinstance(lock, str):
            lock = Lock(lock, "the repository's configuration protects it; the bot may not change it")
        if is_protected(clean, lock.pattern):
            raise PathRefused(f"{clean}: protected path ({lock.pattern}): {lock.reason}")
    return clean


def is_protected(path: str, pattern: str) -> bool:
    """Glob match, case-insensitive (a checkout on macOS or Windows treats `.GIT` as `.git`);
    a plain directory pattern also covers everything below it."""
    path, pattern = path.lower(), pattern.strip().strip("/").lower()
    if not pattern:
        return False
    return path == pattern or path.startswith(pattern + "/") or fnmatch.fnmatchcase(path, pattern)
