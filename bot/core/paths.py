"""Repository paths as the bot accepts them from people and from the model: relative to the
repository's root, normalized, never leaving it. And the directories of a monorepo: a session's
working directory, and the folders on the way up from it. Pure."""

from __future__ import annotations

import posixpath

ROOT_SPELLINGS = frozenset({"", ".", "./", "/"})


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


def clean_directory(value: str) -> str:
    """A working directory as a person wrote it (`services/api`, `services/api/`, `.` or `/` for
    the root), as a clean repository-relative path ("" for the root); `PathRefused` if it leaves
    the repository."""
    if not isinstance(value, str):
        raise PathRefused(f"{value!r}: a directory is a path, relative to the repository root")
    if value.strip() in ROOT_SPELLINGS:
        return ""
    return clean_path(value.strip().rstrip("/"))


def directories_up(directory: str) -> list[str]:
    """The root ("") and every folder down to `directory`, root first: `a/b` → ["", "a", "a/b"]."""
    parts = [part for part in directory.split("/") if part]
    return [""] + ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def is_within(path: str, directory: str) -> bool:
    """Whether `path` is `directory` or below it (everything is within the root, "")."""
    return not directory or path == directory or path.startswith(directory.rstrip("/") + "/")


def shown_directory(directory: str) -> str:
    """How a directory is named to people: the root as `.`."""
    return directory or "."
