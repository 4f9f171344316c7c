"""The branch is the workspace: read a branch's tree once, read files on demand, stage edits in
memory, and write them as one commit (GraphQL `createCommitOnBranch`; the Git Data API when a
file's mode needs it).

No clone and nothing on disk, so any worker can run any step. A branch that moved under us
(a human pushed) is never overwritten: the commit names the head it expects, GitHub refuses it
when the branch is elsewhere, and the step fails with `BranchMoved`.

Files are kept as GitHub's bytes: a file that is binary or not UTF-8 is never decoded for editing
(`NotText`), so it cannot be corrupted by a round trip through text. When GitHub truncates the
recursive tree (very large repositories), the listing comes from the branch's tarball instead.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterable
from contextlib import aclosing
from dataclasses import dataclass
from urllib.parse import quote

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.core.spec import Lock
from bot.github import archive as archives
from bot.github.archive import SYMLINK_MODE, Archive, read_tarball
from bot.github.errors import unless_exists
from bot.github.files import decode_text, git_blob_sha
from bot.github.mutations import Answers, BatchRejected, Mutation, send
from bot.github.paths import normalize_path

log = logging.getLogger(__name__)

FILE_MODES = {"100644", "100755"}


class BranchMoved(RuntimeError):
    """The branch's head is no longer the commit the edits were based on."""


class FileNotInBranch(FileNotFoundError):
    pass


class CommitRefused(RuntimeError):
    """GitHub refused the commit for another reason than a moved branch (the step fails and is retried)."""


@dataclass(frozen=True)
class Entry:
    path: str
    sha: str | None  # None: listed from the archive (GitHub truncated the tree), read by path
    mode: str
    type: str  # blob | tree | commit (submodule)
    size: int | None = None


class Workspace:
    def __init__(self, gh: GitHub, owner: str, repo: str, branch: str, locks: Iterable[Lock | str] = (),
                 repository_id: str | None = None) -> None:
        self.gh, self.owner, self.repo, self.branch = gh, owner, repo, branch
        self.locks = tuple(locks)
        self.repository_id = repository_id  # the repository's GraphQL node id, to create the branch
        self.may_need_branch = False  # the branch may not exist yet: the commit creates it at head_sha
        self.head_sha: str | None = None
        self.head_message = ""
        self.tree_sha: str | None = None
        self.truncated = False
        self.listing_note: str | None = None  # how the file list was made, when not from the whole tree
        self._entries: dict[str, Entry] = {}
        self._raw: dict[str, bytes] = {}
        self._staged: dict[str, str | None] = {}
        self._archive: Archive | None = None
        self.answers = Answers()  # what the mutations sent with the last commit answered

    async def open(self, head_sha: str | None = None, tree_sha: str | None = None, *,
                   base_sha: str | None = None) -> Workspace:
        """Read the branch (or `head_sha`) once: its commit and its recursive tree (completed from
        the branch's archive when GitHub truncated it). Given the head and its tree, as a step knows
        them when nothing can have moved, only the tree is read (the head's message stays unknown).
        `base_sha`: where a branch that does not exist yet starts; the first commit creates it."""
        if head_sha is None:
            head_sha = await self._branch_head()
            if head_sha is None:
                if base_sha is None:
                    raise FileNotInBranch(f"refs/heads/{self.branch}")
                head_sha = base_sha
        self.may_need_branch = base_sha is not None and head_sha == base_sha
        if tree_sha is None:
            commit = (await self.gh.rest.git.async_get_commit(self.owner, self.repo, head_sha)).json()
            self.head_message, tree_sha = commit.get("message") or "", commit["tree"]["sha"]
        self.head_sha, self.tree_sha = head_sha, tree_sha
        tree = (await self.gh.rest.git.async_get_tree(self.owner, self.repo, self.tree_sha, recursive="1")).json()
        self.truncated = bool(tree.get("truncated"))
        self._entries = {
            item["path"]: Entry(item["path"], item["sha"], item["mode"], item["type"], item.get("size"))
            for item in tree["tree"]
        }
        self._raw.clear()
        self._staged.clear()
        self.listing_note = await self._list_from_archive() if self.truncated else None
        return self

    async def _branch_head(self) -> str | None:
        try:
            ref = await self.gh.rest.git.async_get_ref(self.owner, self.repo, f"heads/{self.branch}")
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return None
            raise
        return ref.json()["object"]["sha"]

    async def _list_from_archive(self) -> str:
        """GitHub truncated the tree: add every file of the branch's archive, with its mode (an
        executable stays executable when edited). Files the tree did list keep their blob sha; the
        others are read by path. A failed download fails the step (it is retried): working from a
        silently partial listing would tell the agent, and the steps, that files do not exist."""
        archive = await self.archive()
        for path, mode in archive.modes.items():
            self._entries.setdefault(path, Entry(path, None, mode, "blob"))
        note = ("GitHub truncated this repository's file tree (too many files for one response), "
                "so this list comes from the branch's archive")
        if not archive.complete:
            return (f"{note}, which was read only as far as {len(archive.modes):,} files: "
                    "the list is incomplete, and a file not in it may still exist")
        return f"{note} (files marked export-ignore in .gitattributes may be missing from it)"

    async def archive(self) -> Archive:
        """The branch's tarball, downloaded once per head commit and read in a thread: the search
        index, and the file listing when GitHub truncated the tree."""
        if self._archive is None or self._archive.sha != self.head_sha:
            data, cut = await self._download_tarball()
            self._archive = await asyncio.to_thread(read_tarball, data, self.head_sha, cut)
        return self._archive

    async def _download_tarball(self) -> tuple[bytes, bool]:
        """The tarball's bytes, streamed and cut at MAX_ARCHIVE_DOWNLOAD_BYTES; and whether it was cut."""
        response = await self.gh.rest.repos.async_download_tarball_archive(
            self.owner, self.repo, ref=self.head_sha or self.branch, stream=True
        )
        data = bytearray()
        async with aclosing(response.aiter_bytes()) as chunks:
            async for chunk in chunks:
                data += chunk
                if len(data) >= archives.MAX_ARCHIVE_DOWNLOAD_BYTES:
                    log.warning("the archive of %s/%s is over %d bytes; reading only that much",
                                self.owner, self.repo, archives.MAX_ARCHIVE_DOWNLOAD_BYTES)
                    return bytes(data[:archives.MAX_ARCHIVE_DOWNLOAD_BYTES]), True
        return bytes(data), False

    # ----- reading

    def blob_sha(self, path: str) -> str | None:
        """The file's blob SHA on the branch as read (before staged edits); None if not a listed file."""
        entry = self._entries.get(path)
        return entry.sha if entry is not None and entry.type == "blob" else None

    def mode(self, path: str) -> str:
        """The file's mode on the branch as read (100644 for a file it does not have)."""
        entry = self._entries.get(path)
        return entry.mode if entry is not None else "100644"

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
        """The file's text to edit; `NotText` if it is binary or not UTF-8."""
        if path in self._staged:
            return self._staged_text(path)
        return decode_text(path, await self.read_bytes(path))

    async def read_bytes(self, path: str) -> bytes:
        """The file's bytes, as on the branch or as staged."""
        if path in self._staged:
            return self._staged_text(path).encode()
        if path not in self._raw:
            self._raw[path] = await self._fetch(path)
        return self._raw[path]

    async def read_if_exists(self, path: str) -> str | None:
        """The text of a file that is only read, never written back (the repository's config, the
        instruction files); None if it does not exist. Bytes that are not UTF-8 become U+FFFD here
        instead of failing the step: a stray Latin-1 byte in a config comment must not stop the bot
        (or drop the config's protected paths)."""
        try:
            data = await self.read_bytes(path)
        except FileNotInBranch:
            return None
        return data.decode("utf-8", errors="replace")

    def _staged_text(self, path: str) -> str:
        content = self._staged[path]
        if content is None:
            raise FileNotInBranch(path)
        return content

    async def _fetch(self, path: str) -> bytes:
        entry = self._entries.get(path)
        if entry is None or entry.type != "blob":
            raise FileNotInBranch(path)
        if entry.sha is not None:
            blob = (await self.gh.rest.git.async_get_blob(self.owner, self.repo, entry.sha)).json()
            return base64.b64decode(blob["content"]) if blob.get("encoding") == "base64" else blob["content"].encode()
        if entry.mode == SYMLINK_MODE and self._archive is not None and path in self._archive.links:
            return self._archive.links[path].encode()
        return await self._fetch_by_path(path)

    async def _fetch_by_path(self, path: str) -> bytes:
        """A file listed from the archive (no blob sha): its raw content at the head commit."""
        try:
            response = await self.gh.rest.repos.async_get_content(
                self.owner, self.repo, quote(path), ref=self.head_sha or self.branch,
                headers={"Accept": "application/vnd.github.raw"},
            )
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                raise FileNotInBranch(path) from None
            raise
        return response.content

    # ----- staging

    def check_path(self, path: str) -> str:
        return normalize_path(path, self.locks)

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
            if content is not None and path in self._entries and self._raw.get(path) == content.encode():
                continue
            changed[path] = content
        return changed

    def discard(self) -> None:
        self._staged.clear()

    # ----- committing

    async def commit(self, message: str, *, then: list[Mutation] = ()) -> str | None:
        """Commit the staged changes as one commit on the branch; None if nothing changed.

        One `createCommitOnBranch` (signed by GitHub for the App, so it shows as Verified), whose
        `expectedHeadOid` refuses a branch that moved. `then`: mutations to run in the same request
        right after the commit (their answers are in `self.answers`). The Git Data API (tree →
        commit → fast-forward ref) commits instead when a changed file has a mode GraphQL cannot
        keep (executable, symlink), or when GitHub does not have the mutation.
        """
        changes = self.changes
        if not changes:
            return None
        self.answers = Answers()
        if self._graphql_can_commit(changes) and (self.repository_id or not self.may_need_branch):
            try:
                commit_sha, tree_sha = await self._commit_by_graphql(message, changes, list(then))
            except BatchRejected as exc:
                log.warning("createCommitOnBranch refused (%s); committing through the Git Data API", exc)
                commit_sha, tree_sha = await self._commit_by_git_data(message, changes)
        else:
            commit_sha, tree_sha = await self._commit_by_git_data(message, changes)
        for path, content in changes.items():
            self._record_committed(path, content)
        self.head_sha, self.tree_sha, self.head_message = commit_sha, tree_sha, message
        self.may_need_branch = False
        self._staged.clear()
        return commit_sha

    def _graphql_can_commit(self, changes: dict[str, str | None]) -> bool:
        """createCommitOnBranch writes regular files only: an edited executable or symlink would lose its mode."""
        return all(content is None or path not in self._entries or self._entries[path].mode == "100644"
                   for path, content in changes.items())

    async def _commit_by_graphql(self, message: str, changes: dict[str, str | None],
                                 then: list[Mutation]) -> tuple[str, str]:
        headline, _, body = message.partition("\n")
        additions = [{"path": path, "contents": base64.b64encode(content.encode()).decode()}
                     for path, content in sorted(changes.items()) if content is not None]
        deletions = [{"path": path} for path, content in sorted(changes.items()) if content is None]
        commit = Mutation("commit", "createCommitOnBranch", {
            "branch": {"repositoryNameWithOwner": f"{self.owner}/{self.repo}", "branchName": self.branch},
            "message": {"headline": headline, "body": body.strip("\n")} if body.strip() else {"headline": headline},
            "expectedHeadOid": self.head_sha,
            "fileChanges": {"additions": additions, "deletions": deletions},
        }, "commit { oid tree { oid } }")
        self.answers = await send(self.gh, [*self._branch_creation(), commit, *then])
        error = self.answers.error("commit")
        if error is not None:
            if error.type == "STALE_DATA":
                raise BranchMoved(f"branch {self.branch} moved since {self.head_sha[:7]}; the edits were not pushed")
            raise CommitRefused(f"GitHub refused the commit on {self.branch}: {error}")
        made = self.answers.get("commit")["commit"]
        return made["oid"], made["tree"]["oid"]

    def _branch_creation(self) -> list[Mutation]:
        """The branch, created at the head the edits start from when it may not exist yet (GitHub
        answers that it exists, harmlessly, when it does: the commit after it still checks the head)."""
        if not self.may_need_branch or self.repository_id is None:
            return []
        return [Mutation("branch", "createRef", {"repositoryId": self.repository_id,
                                                 "name": f"refs/heads/{self.branch}", "oid": self.head_sha},
                         "ref { id }")]

    async def _commit_by_git_data(self, message: str, changes: dict[str, str | None]) -> tuple[str, str]:
        if self.may_need_branch:
            await unless_exists(self.gh.rest.git.async_create_ref(
                self.owner, self.repo, data={"ref": f"refs/heads/{self.branch}", "sha": self.head_sha}))
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
        return commit_sha, tree_sha

    def _record_committed(self, path: str, content: str | None) -> None:
        """The committed file as the new head has it, so a created file is listed from now on."""
        if content is None:
            self._entries.pop(path, None)
            self._raw.pop(path, None)
            return
        data = content.encode()
        self._raw[path] = data
        self._entries[path] = Entry(path, git_blob_sha(data), self._file_mode(path), "blob", len(data))

    def _file_mode(self, path: str) -> str:
        entry = self._entries.get(path)
        return entry.mode if entry is not None and entry.mode in FILE_MODES else "100644"

    def _tree_item(self, path: str, content: str | None) -> dict:
        mode = self._file_mode(path)
        if content is None:
            return {"path": path, "mode": mode, "type": "blob", "sha": None}
        return {"path": path, "mode": mode, "type": "blob", "content": content}
