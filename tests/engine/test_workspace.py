"""The branch workspace on the fake GitHub: one commit per step, paths checked, humans' pushes kept."""

from __future__ import annotations

import httpx
import pytest
from githubkit import GitHub

from bot.github.workspace import BranchMoved, FileNotInBranch, PathRefused, Workspace, normalize_path
from tests.fakes.github import FakeGitHub
from tests.harness import REPO, REPO_FILES, commits_on

BRANCH = "component-bot/1-stack"


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
    commit = fake.calls_to("POST", f"/repos/{REPO}/git/commits")[0]
    assert set(commit.json) == {"message", "tree", "parents"}, "no author/committer: GitHub signs it"
    assert await ws.commit("nothing staged") is None


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
