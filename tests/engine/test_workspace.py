"""The branch workspace on the fake GitHub: one commit per step, paths checked, humans' pushes kept."""

from __future__ import annotations

import httpx
import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.github import archive as archive_module
from bot.github.files import NotText, decode_text
from bot.github.paths import PathRefused, normalize_path
from bot.github.workspace import BranchMoved, FileNotInBranch, Workspace
from tests.fakes.github import FakeGitHub
from tests.fakes.gitstore import Commit, FileEntry
from tests.fakes.state import node_id
from tests.harness import REPO, REPO_FILES, TESTS, commits_on

BRANCH = "component-bot/1-stack"
LATIN1 = "Café crème, déjà vu\n".encode("latin-1")


@pytest.fixture
def fake():
    fake = FakeGitHub()
    fake.add_repo(REPO, files=dict(REPO_FILES), installation_id=42)
    state = fake.repo(REPO)
    state.refs[f"refs/heads/{BRANCH}"] = state.branches["main"]
    return fake


@pytest.fixture
async def gh(fake):
    client = GitHub("token", base_url="https://api.github.com/", http_cache=False, auto_retry=False,
                    async_transport=httpx.ASGITransport(app=fake.app))
    async with client:
        yield client


async def workspace(gh, protected=()):
    return await Workspace(gh, "octo", "widgets", BRANCH, protected).open()


@pytest.mark.parametrize("path", ["../outside.py", "a/../../b.py", "/etc/passwd", ".git/config",
                                  "src/.git/hooks/pre-commit", ".github/workflows/ci.yml",
                                  ".GITHUB/Workflows/x.yml", "", "."])
def test_paths_outside_the_repository_or_protected_are_refused(path):
    with pytest.raises(PathRefused):
        normalize_path(path)


def test_configured_protected_paths_are_refused():
    with pytest.raises(PathRefused, match="protected"):
        normalize_path("docs/stack.md", ["docs/"])
    with pytest.raises(PathRefused):
        normalize_path("tests/test_stack.py", ["tests/*.py"])
    assert normalize_path("./widgets//stack.py", ["docs/"]) == "widgets/stack.py"


async def test_reads_the_tree_once_and_files_on_demand(gh, fake):
    ws = await workspace(gh)
    assert "docs/stack.md" in ws.paths()
    assert await ws.read("docs/stack.md") == REPO_FILES["docs/stack.md"]
    await ws.read("docs/stack.md")
    assert len(fake.calls_to("GET", f"/repos/{REPO}/git/blobs/{ws._entries['docs/stack.md'].sha}")) == 1
    assert len([c for c in fake.calls if "/git/trees/" in c.path]) == 1
    with pytest.raises(FileNotInBranch):
        await ws.read("nope.py")


async def test_staged_edits_become_one_commit(gh, fake):
    ws = await workspace(gh)
    ws.write("widgets/stack.py", "class Stack: ...\n")
    ws.write("widgets/deep/nested/util.py", "X = 1\n")
    ws.delete("README.md")
    sha = await ws.commit("Implement Stack")
    files = fake.tree_files(REPO, BRANCH)
    assert files["widgets/stack.py"] == "class Stack: ...\n"
    assert files["widgets/deep/nested/util.py"] == "X = 1\n"
    assert "README.md" not in files
    assert commits_on(fake, BRANCH) == [sha]
    assert [c.path for c in fake.calls if c.method == "POST"] == ["/graphql"], "one createCommitOnBranch"
    assert fake.repo(REPO).git.commits[sha].verified, "GitHub signs it for the App"
    assert (ws.head_sha, ws.tree_sha) == (sha, fake.repo(REPO).git.commits[sha].tree)
    assert await ws.commit("nothing staged") is None


async def test_an_edited_executable_is_committed_through_the_git_data_api_and_stays_executable(gh, fake):
    push_executable(fake, "scripts/run.sh", "#!/bin/sh\necho hi\n")
    ws = await workspace(gh)
    ws.write("scripts/run.sh", "#!/bin/sh\necho hello\n")
    ws.write("widgets/stack.py", "class Stack: ...\n")
    sha = await ws.commit("Say hello")
    assert _entry(fake, "scripts/run.sh").mode == "100755"
    assert _entry(fake, "widgets/stack.py").mode == "100644"
    assert fake.calls_to("POST", "/graphql") == []
    commit = fake.calls_to("POST", f"/repos/{REPO}/git/commits")[0]
    assert set(commit.json) == {"message", "tree", "parents"}, "no author/committer: GitHub signs it"
    assert fake.repo(REPO).git.commits[sha].verified


async def test_writes_to_protected_paths_are_refused_before_anything_is_sent(gh, fake):
    ws = await workspace(gh, protected=["docs/"])
    for path in (".github/workflows/ci.yml", "docs/stack.md", "../x"):
        with pytest.raises(PathRefused):
            ws.write(path, "pwned")
    assert ws.changes == {}
    assert fake.calls_to("POST", f"/repos/{REPO}/git/trees") == []


async def test_a_branch_moved_by_a_human_is_never_overwritten(gh, fake):
    ws = await workspace(gh)
    ws.write("widgets/stack.py", "bot's version\n")
    human_sha = fake.push(REPO, BRANCH, {"widgets/stack.py": "human's version\n"}, author="maria")
    with pytest.raises(BranchMoved):
        await ws.commit("Implement Stack")
    assert fake.repo(REPO).branches[BRANCH] == human_sha
    assert fake.tree_files(REPO, BRANCH)["widgets/stack.py"] == "human's version\n"


async def test_a_committed_file_is_on_the_branch_for_the_rest_of_the_step(gh, fake):
    ws = await workspace(gh)
    ws.write("widgets/stack.py", "class Stack: ...\n")
    await ws.commit("Implement Stack")
    assert ws.exists("widgets/stack.py") and "widgets/stack.py" in ws.paths()
    assert await ws.read("widgets/stack.py") == "class Stack: ...\n"


# ----------------------------------------------------------------------------- text and bytes


async def test_a_file_that_is_not_utf8_keeps_its_bytes_and_is_not_read_as_text(gh, fake):
    fake.push(REPO, BRANCH, {"docs/latin1.md": LATIN1, "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00"})
    ws = await workspace(gh)
    with pytest.raises(NotText, match=r"^docs/latin1.md is not UTF-8 text \(it looks like Latin-1\)$") as raised:
        await ws.read("docs/latin1.md")
    assert (raised.value.path, raised.value.size) == ("docs/latin1.md", len(LATIN1))
    with pytest.raises(NotText, match=r"^logo.png is binary \(it has NUL bytes\)$"):
        await ws.read("logo.png")
    assert await ws.read_bytes("docs/latin1.md") == LATIN1
    assert await ws.read_if_exists("docs/latin1.md") == "Caf\ufffd cr\ufffdme, d\ufffdj\ufffd vu\n"
    assert await ws.read_if_exists("nope.md") is None


async def test_utf8_text_round_trips_byte_for_byte(gh, fake):
    original = "\ufeff# Übersicht 🚀\r\nZeile\r\n".encode()
    fake.push(REPO, BRANCH, {"docs/de.md": original})
    ws = await workspace(gh)
    ws.write("docs/de.md", await ws.read("docs/de.md"))
    assert ws.changes == {}
    ws.write("docs/de.md", (await ws.read("docs/de.md")).replace("Zeile", "Zeilen"))
    await ws.commit("Plural")
    assert fake.repo(REPO).git.blobs[_entry(fake, "docs/de.md").sha] == original.replace(b"Zeile", b"Zeilen")


@pytest.mark.parametrize(("data", "reason"), [
    ("Grüße\n".encode("cp1252"), "not UTF-8 text (it looks like Latin-1)"),
    ("“quoted”\n".encode("cp1252"), "not UTF-8 text (it looks like Latin-1)"),
    ("日本語のテキスト\n".encode("shift_jis"), "not UTF-8 text (byte 0x93 at offset 0 is not UTF-8)"),
    ("x".encode("utf-16"), "binary (it has NUL bytes)"),
])
def test_why_a_file_is_not_text(data, reason):
    with pytest.raises(NotText) as raised:
        decode_text("f", data)
    assert raised.value.reason == reason


# ----------------------------------------------------------------------------- truncated trees


def _entry(fake, path: str):
    repo = fake.repo(REPO)
    return repo.git.lookup(repo.git.commits[repo.branches[BRANCH]].tree, path)


def push_executable(fake, path: str, text: str) -> None:
    """A commit on the branch adding an executable file (`FakeGitHub.push` writes mode 100644 only)."""
    repo = fake.repo(REPO)
    parent = repo.branches[BRANCH]
    files = repo.git.flatten(repo.git.commits[parent].tree)
    files[path] = FileEntry(path, "100755", repo.git.put_blob(text.encode()))
    signature = repo.git.commits[parent].author
    sha = repo.git.put_commit(Commit(repo.git.tree_from_files(files), (parent,), signature, signature, f"Add {path}"))
    repo.refs[f"refs/heads/{BRANCH}"] = sha


async def test_a_truncated_tree_is_completed_from_the_branch_archive(gh, fake):
    odd_name = "docs/notes #1 (draft)?.md"
    fake.push(REPO, BRANCH, {odd_name: "draft\n"})
    fake.repo(REPO).tree_entry_limit = 2
    ws = await workspace(gh)
    assert ws.truncated
    assert ws.paths() == sorted([*REPO_FILES, odd_name])
    assert ws.listing_note.startswith("GitHub truncated this repository's file tree")
    assert ws.exists(TESTS) and ws.is_dir("widgets")

    assert await ws.read(TESTS) == REPO_FILES[TESTS]
    assert len(fake.calls_to("GET", f"/repos/{REPO}/contents/{TESTS}")) == 1
    assert await ws.read(odd_name) == "draft\n"
    with pytest.raises(FileNotInBranch):
        await ws.read("nope.py")
    assert len([c for c in fake.calls if "/tarball/" in c.path]) == 1


async def test_an_executable_missing_from_a_truncated_tree_stays_executable_when_edited(gh, fake):
    push_executable(fake, "scripts/run.sh", "#!/bin/sh\necho hi\n")
    fake.repo(REPO).tree_entry_limit = 2
    ws = await workspace(gh)
    ws.write("scripts/run.sh", (await ws.read("scripts/run.sh")).replace("hi", "hello"))
    await ws.commit("Say hello")
    assert _entry(fake, "scripts/run.sh").mode == "100755"
    assert fake.read_file(REPO, BRANCH, "scripts/run.sh") == "#!/bin/sh\necho hello\n"
    assert fake.tree_files(REPO, BRANCH).keys() == {*REPO_FILES, "scripts/run.sh"}


async def test_an_archive_read_only_in_part_makes_the_listing_say_it_is_incomplete(gh, fake, monkeypatch):
    monkeypatch.setattr(archive_module, "MAX_ARCHIVE_FILES", 3)
    fake.repo(REPO).tree_entry_limit = 2
    ws = await workspace(gh)
    assert "read only as far as 3 files: the list is incomplete" in ws.listing_note
    assert len(ws.paths()) == 3


async def test_a_truncated_tree_without_its_archive_fails_the_step_instead_of_going_on_with_part_of_it(gh, fake):
    fake.repo(REPO).tree_entry_limit = 2
    fake.inject_error("GET", f"/repos/{REPO}/tarball/{fake.repo(REPO).branches[BRANCH]}", 502)
    with pytest.raises(RequestFailed):
        await workspace(gh)


async def test_a_whole_tree_is_not_downloaded_again_as_an_archive(gh, fake):
    ws = await workspace(gh)
    assert not ws.truncated and ws.listing_note is None
    assert [c for c in fake.calls if "/tarball/" in c.path] == []


async def test_a_branch_that_does_not_exist_yet_is_created_by_the_first_commit_in_the_same_request(gh, fake):
    repo = fake.repo(REPO)
    base = repo.branches["main"]
    ws = await Workspace(gh, "octo", "widgets", "component-bot/2-queue", repository_id=node_id("R", repo.id)).open(
        base_sha=base)
    assert ws.head_sha == base and ws.may_need_branch
    ws.write("widgets/queue.py", "class Queue: ...\n")
    fake.calls.clear()
    sha = await ws.commit("Implement Queue")
    assert repo.branches["component-bot/2-queue"] == sha and repo.git.commits[sha].parents == (base,)
    [request] = [c for c in fake.calls if c.method == "POST"]
    assert "createRef(" in request.json["query"] and "createCommitOnBranch(" in request.json["query"]
    ws.write("widgets/queue.py", "class Queue:\n    pass\n")
    await ws.commit("Again")  # the branch exists now: no createRef
    assert "createRef(" not in fake.calls[-1].json["query"]


async def test_a_branch_made_meanwhile_at_the_base_takes_the_commit_and_one_that_moved_is_not_overwritten(gh, fake):
    repo = fake.repo(REPO)
    base = repo.branches["main"]
    ws = await Workspace(gh, "octo", "widgets", BRANCH, repository_id=node_id("R", repo.id)).open(base, None,
                                                                                                  base_sha=base)
    ws.write("widgets/queue.py", "class Queue: ...\n")
    sha = await ws.commit("Implement Queue")  # createRef answers "already exists"; the commit still lands
    assert repo.branches[BRANCH] == sha
    moved = await Workspace(gh, "octo", "widgets", BRANCH, repository_id=node_id("R", repo.id)).open(
        base, None, base_sha=base)
    moved.write("widgets/queue.py", "class Queue: pass\n")
    with pytest.raises(BranchMoved):
        await moved.commit("Implement Queue again")
    assert repo.branches[BRANCH] == sha


async def test_without_graphql_the_git_data_api_creates_the_branch_too(gh, fake):
    repo = fake.repo(REPO)
    base = repo.branches["main"]
    ws = await Workspace(gh, "octo", "widgets", "component-bot/2-queue").open(base_sha=base)  # no repository id
    ws.write("widgets/queue.py", "class Queue: ...\n")
    sha = await ws.commit("Implement Queue")
    assert repo.branches["component-bot/2-queue"] == sha
    assert len(fake.calls_to("POST", f"/repos/{REPO}/git/refs")) == 1
