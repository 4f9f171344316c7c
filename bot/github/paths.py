"""Repository paths the agent may read and write: normalized, inside the repository, and, for
writing, outside every lock (bot/core/spec.py)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from bot.core.paths import PathRefused, clean_path
from bot.core.spec import Lock

__all__ = ["ALWAYS_LOCKED", "PathRefused", "clean_path", "is_protected", "normalize_path"]

ALWAYS_LOCKED = (Lock(".github/workflows", "CI workflows decide what green means: they are locked."),)


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
