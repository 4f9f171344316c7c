"""The branch is the workspace: read a branch's tree once, read files on demand, stage edits in
memory, and write them as one commit (tree with inline contents → commit → fast-forward ref).

No clone and nothing on disk, so any worker can run any step. A branch that moved under us
(a human pushed) is never overwritten: the fast-forward-only ref update refuses, and the step
fails with `BranchMoved`.
"""

from __future__ import annotations

import base64
import fnmatch
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from githubkit import GitHub
from githubkit.exception import RequestFailed

ALWAYS_PROTECTED = (".git", ".github/workflows")
FILE_MODES = {"100644", "100755"}


class PathRefused(ValueError):
    """A path outside the repository, inside .git/ or .github/workflows/, or configured as protected."""


class BranchMoved(RuntimeError):
    """The branch's head is no longer the commit the edits were based on."""


class FileNotInBranch(FileNotFoundError):
    pass


@dataclass(frozen=True)
class Entry:
    path: str
    sha: str
    mode: str
    type: str  # blob | tree | commit (submodule)
    size: int | None = None


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


def normalize_path(path: str, protected: Iterable[str] = ()) -> str:
    """A clean repository-relative path to write, or `PathRefused` saying why not."""
    clean = clean_path(path)
    if not clean:
        raise PathRefused(f"{path}: names the repository root, not a file")
    for pattern in (*ALWAYS_PROTECTED, *protected):
        if is_protected(clean, pattern):
            raise PathRefused(f"{clean}: protected path ({pattern}); the bot may not change it")
    return clean


def is_protected(path: str, pattern: str) -> bool:
    """Glob match, case-insensitive (a checkout on macOS or Windows treats `.GIT` as `.git`);
    a plain directory pattern also covers everything below it."""
    path, pattern = path.lower(), pattern.strip().strip("/").lower()
    if not pattern:
        return False
    return path == pattern or path.startswith(pattern + "/") or fnmatch.fnmatchcase(path, pattern)


class Workspace:
    def __init__(self, gh: GitHub, owner: str, repo: str, branch: str, protected: Iterable[str] = ()) -> None:
        self.gh, self.owner, self.repo, self.branch = gh, owner, repo, branch
        self.protected = tuple(protected)
        self.head_sha: str | None = None
        self.head_message = ""
        self.tree_sha: str | None = None
        self.truncated = False
        self._entries: dict[str, Entry] = {}
        self._contents: dict[str, str] = {}
        self._staged: dict[str, str | None] = {}

    async def open(self, head_sha: str | None = None) -> Workspace:
        """Read the branch (or `head_sha`) once: its commit and its recursive tree."""
        if head_sha is None:
            ref = await self.gh.rest.git.async_get_ref(self.owner, self.repo, f"heads/{self.branch}")
            head_sha = ref.json()["object"]["sha"]
        commit = (await self.gh.rest.git.async_get_commit(self.owner, self.repo, head_sha)).json()
        self.head_sha = head_sha
        self.head_message = commit.get("message") or ""
        self.tree_sha = commit["tree"]["sha"]
        tree = (await self.gh.rest.git.async_get_tree(self.owner, self.repo, self.tree_sha, recursive="1")).json()
        self.truncated = bool(tree.get("truncated"))
        self._entries = {
            item["path"]: Entry(item["path"], item["sha"], item["mode"], item["type"], item.get("size"))
            for item in tree["tree"]
        }
        self._contents.clear()
        self._staged.clear()
        return self

    # ----- reading

    def exists(self, path: str) -> bool:
        if path in self._staged:
            return self._staged[path] is not None
        entry = self._entries.get(path)
        return entry is not None and entry.type == "blob"

    def is_dir(self, path: str) -> bool:
        prefix = path.rstrip("/") + "/"
        return path in {"", "."} or any(p.startswith(prefix) for p in self.paths())

    def paths(self) -> list[str]:
        """Every file path on the branch, with staged creations and deletions applied."""
        files = {p for p, e in self._entries.items() if e.type == "blob"}
        for path, content in self._staged.items():
            (files.add if content is not None else files.discard)(path)
        return sorted(files)

    async def read(self, path: str) -> str:
        if path in self._staged:
            content = self._staged[path]
            if content is None:
                raise FileNotInBranch(path)
            return content
        if path not in self._contents:
            entry = self._entries.get(path)
            if entry is None or entry.type != "blob":
                raise FileNotInBranch(path)
            blob = (await self.gh.rest.git.async_get_blob(self.owner, self.repo, entry.sha)).json()
            raw = base64.b64decode(blob["content"]) if blob.get("encoding") == "base64" else blob["content"].encode()
            self._contents[path] = raw.decode("utf-8", errors="replace")
        return self._contents[path]

    async def read_if_exists(self, path: str) -> str | None:
        try:
            return await self.read(path)
        except FileNotInBranch:
            return None

    # ----- staging

    def check_path(self, path: str) -> str:
        return normalize_path(path, self.protected)

    def write(self, path: str, content: str) -> str:
        path = self.check_path(path)
        self._staged[path] = content
        return path

    def delete(self, path: str) -> str:
        path = self.check_path(path)
        if not self.exists(path):
            raise FileNotInBranch(path)
        self._staged[path] = None
        return path

    @property
    def changes(self) -> dict[str, str | None]:
        """Staged edits that differ from the branch (content, or None for a deletion)."""
        changed = {}
        for path, content in self._staged.items():
            if content is None and path not in self._entries:
                continue
            if content is not None and self._contents.get(path) == content and path in self._entries:
                continue
            changed[path] = content
        return changed

    def discard(self) -> None:
        self._staged.clear()

    # ----- committing

    async def commit(self, message: str) -> str | None:
        """Commit the staged changes as one commit and fast-forward the branch; None if nothing changed.

        No author, committer or signature is sent, so GitHub signs the commit as the App.
        """
        changes = self.changes
        if not changes:
            return None
        tree_items = [self._tree_item(path, content) for path, content in sorted(changes.items())]
        tree = await self.gh.rest.git.async_create_tree(
            self.owner, self.repo, data={"base_tree": self.tree_sha, "tree": tree_items}
        )
        tree_sha = tree.json()["sha"]
        commit = await self.gh.rest.git.async_create_commit(
            self.owner, self.repo, data={"message": message, "tree": tree_sha, "parents": [self.head_sha]}
        )
        commit_sha = commit.json()["sha"]
        try:
            await self.gh.rest.git.async_update_ref(
                self.owner, self.repo, f"heads/{self.branch}", data={"sha": commit_sha, "force": False}
            )
        except RequestFailed as exc:
            if exc.response.status_code == 422:
                raise BranchMoved(
                    f"branch {self.branch} moved since {self.head_sha[:7]}; the edits were not pushed"
                ) from None
            raise
        for path, content in changes.items():
            if content is None:
                self._entries.pop(path, None)
            else:
                self._contents[path] = content
        self.head_sha, self.tree_sha, self.head_message = commit_sha, tree_sha, message
        self._staged.clear()
        return commit_sha

    def _tree_item(self, path: str, content: str | None) -> dict:
        entry = self._entries.get(path)
        mode = entry.mode if entry is not None and entry.mode in FILE_MODES else "100644"
        if content is None:
            return {"path": path, "mode": mode, "type": "blob", "sha": None}
        return {"path": path, "mode": mode, "type": "blob", "content": content}
