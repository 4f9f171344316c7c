"""Git objects hashed the way git hashes them, so the fake GitHub's shas are real git shas.

A blob's sha is ``sha1(b"blob <len>\\0" + data)``; trees and commits are serialised in git's
object format before hashing. Nothing here knows about HTTP or GitHub's JSON shapes.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from datetime import datetime

FILE_MODES = ("100644", "100755", "120000", "160000")
TREE_MODE = "040000"
MODE_TYPES = {"100644": "blob", "100755": "blob", "120000": "blob", "160000": "commit", TREE_MODE: "tree"}


def object_sha(kind: str, body: bytes) -> str:
    return hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)) + body).hexdigest()


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    date: datetime

    def git_bytes(self) -> bytes:
        return f"{self.name} <{self.email}> {int(self.date.timestamp())} +0000".encode()


@dataclass(frozen=True)
class TreeEntry:
    mode: str  # as GitHub reports it: "100644", "100755", "120000", "160000", "040000"
    name: str
    sha: str

    @property
    def type(self) -> str:
        return MODE_TYPES[self.mode]

    def sort_key(self) -> bytes:
        # git compares tree names as if they ended in "/"
        return self.name.encode() + (b"/" if self.mode == TREE_MODE else b"")

    def git_bytes(self) -> bytes:
        mode = "40000" if self.mode == TREE_MODE else self.mode
        return f"{mode} {self.name}".encode() + b"\0" + bytes.fromhex(self.sha)


@dataclass(frozen=True)
class Commit:
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str
    verified: bool = False  # GitHub signs commits made through the API without an author

    def git_bytes(self) -> bytes:
        lines = [f"tree {self.tree}".encode()]
        lines += [f"parent {p}".encode() for p in self.parents]
        lines += [b"author " + self.author.git_bytes(), b"committer " + self.committer.git_bytes()]
        return b"\n".join(lines) + b"\n\n" + self.message.encode()


@dataclass(frozen=True)
class FileEntry:
    """A non-tree entry of a flattened tree: its full path, mode and object sha."""

    path: str
    mode: str
    sha: str


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str  # added | removed | modified
    old: FileEntry | None
    new: FileEntry | None


class ObjectStore:
    """One repository's object database: blobs, trees and commits by sha."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, tuple[TreeEntry, ...]] = {}
        self.commits: dict[str, Commit] = {}

    # -- writing ---------------------------------------------------------------------------
    def put_blob(self, data: bytes) -> str:
        sha = object_sha("blob", data)
        self.blobs[sha] = data
        return sha

    def put_tree(self, entries: list[TreeEntry]) -> str:
        ordered = tuple(sorted(entries, key=TreeEntry.sort_key))
        sha = object_sha("tree", b"".join(e.git_bytes() for e in ordered))
        self.trees[sha] = ordered
        return sha

    def put_commit(self, commit: Commit) -> str:
        sha = object_sha("commit", commit.git_bytes())
        self.commits[sha] = commit
        return sha

    def tree_from_files(self, files: dict[str, FileEntry] | list[FileEntry]) -> str:
        """Build nested trees from flat paths; returns the root tree's sha."""
        entries = files.values() if isinstance(files, dict) else files
        root: dict = {}
        for f in entries:
            *dirs, name = f.path.split("/")
            node = root
            for d in dirs:
                node = node.setdefault(d, {})
                if not isinstance(node, dict):
                    raise ValueError(f"{f.path}: a parent path is a file")
            node[name] = f
        return self._write_dir(root)

    def _write_dir(self, node: dict) -> str:
        entries = []
        for name, child in node.items():
            if isinstance(child, dict):
                entries.append(TreeEntry(TREE_MODE, name, self._write_dir(child)))
            else:
                entries.append(TreeEntry(child.mode, name, child.sha))
        return self.put_tree(entries)

    # -- reading ---------------------------------------------------------------------------
    def kind(self, sha: str) -> str | None:
        for kind, table in (("blob", self.blobs), ("tree", self.trees), ("commit", self.commits)):
            if sha in table:
                return kind
        return None

    def walk(self, tree_sha: str, recursive: bool = True, prefix: str = ""):
        """Yield (path, entry) for a tree, depth first, trees before their contents."""
        for entry in self.trees[tree_sha]:
            path = prefix + entry.name
            yield path, entry
            if recursive and entry.mode == TREE_MODE:
                yield from self.walk(entry.sha, True, path + "/")

    def flatten(self, tree_sha: str) -> dict[str, FileEntry]:
        return {path: FileEntry(path, e.mode, e.sha) for path, e in self.walk(tree_sha) if e.mode != TREE_MODE}

    def lookup(self, tree_sha: str, path: str) -> TreeEntry | None:
        """The entry at ``path`` inside a tree ('' is the root itself)."""
        entry = TreeEntry(TREE_MODE, "", tree_sha)
        for part in [p for p in path.split("/") if p]:
            if entry.mode != TREE_MODE:
                return None
            entry = next((e for e in self.trees[entry.sha] if e.name == part), None)
            if entry is None:
                return None
        return entry

    # -- history ---------------------------------------------------------------------------
    def ancestors(self, sha: str) -> set[str]:
        """``sha`` and every commit reachable from it."""
        seen: set[str] = set()
        stack = [sha]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.commits:
                continue
            seen.add(current)
            stack.extend(self.commits[current].parents)
        return seen

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor in self.ancestors(descendant)

    def merge_base(self, a: str, b: str) -> str | None:
        common = self.ancestors(a) & self.ancestors(b)
        # the best common ancestor is one that no other common ancestor descends from
        for sha in self.topo_order(a):
            if sha in common:
                return sha
        return None

    def topo_order(self, head: str) -> list[str]:
        """Commits reachable from head, newest first (parents after children)."""
        order: list[str] = []
        visited: set[str] = set()

        def visit(sha: str) -> None:
            stack = [(sha, False)]
            while stack:
                current, done = stack.pop()
                if done:
                    order.append(current)
                    continue
                if current in visited or current not in self.commits:
                    continue
                visited.add(current)
                stack.append((current, True))
                for parent in self.commits[current].parents:
                    stack.append((parent, False))

        visit(head)
        order.reverse()
        return order

    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits reachable from head but not from base, oldest first (like ``git log base..head --reverse``)."""
        excluded = self.ancestors(base)
        return [sha for sha in reversed(self.topo_order(head)) if sha not in excluded]


def diff_trees(old: dict[str, FileEntry], new: dict[str, FileEntry]) -> list[FileChange]:
    changes = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status = "added" if before is None else "removed" if after is None else "modified"
        changes.append(FileChange(path, status, before, after))
    return changes


def unified_patch(old: bytes, new: bytes) -> tuple[str | None, int, int]:
    """GitHub's ``patch`` field (hunks only, no ---/+++ header), additions, deletions.

    Binary content has no patch, as on GitHub.
    """
    try:
        a, b = old.decode(), new.decode()
    except UnicodeDecodeError:
        return None, 0, 0
    a_lines, b_lines = a.splitlines(), b.splitlines()
    lines = list(difflib.unified_diff(a_lines, b_lines, lineterm="", n=3))[2:]
    additions = sum(1 for line in lines if line.startswith("+"))
    deletions = sum(1 for line in lines if line.startswith("-"))
    return "\n".join(lines), additions, deletions


def three_way_merge(
    base: dict[str, FileEntry], ours: dict[str, FileEntry], theirs: dict[str, FileEntry]
) -> dict[str, FileEntry] | None:
    """File-level merge: take whichever side changed a path; None on a conflict."""
    merged: dict[str, FileEntry] = {}
    for path in base.keys() | ours.keys() | theirs.keys():
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if o == t:
            result = o
        elif o == b:
            result = t
        elif t == b:
            result = o
        else:
            return None
        if result is not None:
            merged[path] = result
    return merged
