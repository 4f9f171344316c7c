"""The text editor and search tools on the branch workspace."""

from __future__ import annotations

import pytest

from bot.agent.tools import MAX_VIEW_CHARS, Toolbox, glob_matcher, tool_definitions
from tests.agent.conftest import DESIGN, REPO, make_task
from tests.fakes.anthropic import tool_use_block

EDITOR = "str_replace_based_edit_tool"


@pytest.fixture
def tools(workspace) -> Toolbox:
    return Toolbox(workspace)


async def editor(tools: Toolbox, command: str, **fields):
    return await tools.run(EDITOR, {"command": command, **fields})


def test_the_editor_is_anthropics_text_editor_tool_and_the_order_is_fixed():
    editor_tool, search_tool = tool_definitions()
    assert editor_tool == {"type": "text_editor_20250728", "name": EDITOR, "max_characters": MAX_VIEW_CHARS}
    assert search_tool["name"] == "search" and search_tool["input_schema"]["required"] == ["pattern"]
    assert tool_definitions() == tool_definitions()


async def test_view_a_range_with_line_numbers(tools):
    shown = await editor(tools, "view", path="widgets/util.py", view_range=[4, -1])
    assert not shown.is_error
    assert shown.text.splitlines()[1:] == ["     4\t", "     5\tdef other():", "     6\t    return 1"]


async def test_view_a_folder_lists_two_levels(tools, workspace):
    workspace.write("widgets/deep/deeper/x.py", "x")
    root = await editor(tools, "view", path=".")
    assert "docs/stack.md" in root.text and "widgets/deep/" in root.text
    assert "widgets/deep/deeper" not in root.text and ".github" not in root.text
    assert "widgets/deep/deeper/" in (await editor(tools, "view", path="widgets")).text


async def test_reading_a_workflow_is_allowed_but_writing_it_is_not(tools):
    assert "on: push" in (await editor(tools, "view", path=".github/workflows/ci.yml")).text
    refused = await editor(tools, "str_replace", path=".github/workflows/ci.yml", old_str="push", new_str="pr")
    assert refused.is_error and "protected" in refused.text


async def test_configured_protected_paths_are_refused(gh):
    from bot.github.workspace import Workspace

    protected = Toolbox(await Workspace(gh, "octo", "widgets", "main", ["docs/"]).open())
    refused = await editor(protected, "create", path="docs/new.md", file_text="x")
    assert refused.is_error and "protected path (docs/)" in refused.text


async def test_long_files_are_cut_with_a_hint(tools, workspace):
    workspace.write("big.txt", "".join(f"line {i}\n" for i in range(20_000)))
    shown = await editor(tools, "view", path="big.txt")
    assert len(shown.text) < MAX_VIEW_CHARS + 200
    assert "use view_range [" in shown.text


async def test_str_replace_shows_the_edited_region(tools, workspace):
    done = await editor(tools, "str_replace", path="widgets/util.py", old_str="def other():\n    return 1",
                        new_str="def other():\n    return 2")
    assert not done.is_error and "     6\t    return 2" in done.text
    assert workspace.changes["widgets/util.py"].endswith("return 2\n")


@pytest.mark.parametrize(("line", "expected"), [
    (0, "# new\nVERSION = 1\n"),
    (1, "VERSION = 1\n# new\n"),
])
async def test_insert(tools, workspace, line, expected):
    done = await editor(tools, "insert", path="widgets/__init__.py", insert_line=line, insert_text="# new\n")
    assert not done.is_error
    assert workspace.changes["widgets/__init__.py"] == expected


async def test_insert_out_of_range_and_into_an_empty_file(tools, workspace):
    bad = await editor(tools, "insert", path="widgets/__init__.py", insert_line=5, insert_text="x")
    assert bad.is_error and "outside 0..1" in bad.text
    workspace.write("empty.py", "")
    await editor(tools, "insert", path="empty.py", insert_line=0, insert_text="x = 1")
    assert workspace.changes["empty.py"] == "x = 1\n"


async def test_create_says_when_it_overwrites(tools):
    assert "overwritten" in (await editor(tools, "create", path="README.md", file_text="new\n")).text
    assert "created" in (await editor(tools, "create", path="NEW.md", file_text="new\n")).text
    assert (await editor(tools, "create", path="widgets", file_text="x")).is_error


async def test_missing_parameters_are_explained(tools):
    assert "file_text" in (await editor(tools, "create", path="a.py")).text
    assert "old_str" in (await editor(tools, "str_replace", path="README.md")).text
    assert "insert_line" in (await editor(tools, "insert", path="README.md", insert_text="x")).text
    assert "path" in (await editor(tools, "view")).text


# ----------------------------------------------------------------------------- search


def tarball_downloads(github, workspace) -> int:
    return len(github.calls_to("GET", f"/repos/{REPO}/tarball/{workspace.head_sha}"))


async def test_search_downloads_the_archive_once_and_sees_staged_edits(tools, workspace, github):
    found = await tools.run("search", {"pattern": "return 1"})
    assert found.text.splitlines() == ["widgets/util.py:2:     return 1", "widgets/util.py:6:     return 1"]

    await editor(tools, "str_replace", path="widgets/util.py", old_str="def helper():", new_str="def assist():")
    await editor(tools, "create", path="widgets/stack.py", file_text="# uses helper\nclass Stack: ...\n")
    workspace.delete("README.md")
    assert (await tools.run("search", {"pattern": "helper"})).text == "widgets/stack.py:1: # uses helper"
    assert "No matches" in (await tools.run("search", {"pattern": "# widgets"})).text
    assert tarball_downloads(github, workspace) == 1


async def test_a_new_head_means_a_new_download(tools, workspace, github):
    await tools.run("search", {"pattern": "x"})
    await editor(tools, "create", path="new.py", file_text="needle = 1\n")
    await workspace.commit("add new.py")
    found = await tools.run("search", {"pattern": "needle"})
    assert found.text == "new.py:1: needle = 1"
    assert len([c for c in github.calls if "/tarball/" in c.path]) == 2


async def test_search_is_lazy(fake, agent, workspace, github):
    fake.reply("nothing to search")
    await agent.implement(make_task(), workspace)
    assert tarball_downloads(github, workspace) == 0


async def test_search_through_the_agent(fake, agent, workspace, github):
    fake.turn([tool_use_block("search", {"pattern": r"def \w+\(", "regex": True, "path": "widgets/"}, id="t1"),
               tool_use_block("search", {"pattern": "STACK", "ignore_case": True, "path": "*.md"}, id="t2"),
               tool_use_block("search", {"pattern": "(", "regex": True}, id="t3")], stop_reason="tool_use")
    fake.reply("ok")
    await agent.implement(make_task(), workspace)
    request = fake.last_request
    assert request.tool_result_text("t1").splitlines() == ["widgets/util.py:1: def helper():",
                                                           "widgets/util.py:5: def other():"]
    assert [line.split(":")[:2] for line in request.tool_result_text("t2").splitlines()] == [
        [DESIGN, "1"], [DESIGN, "3"], [DESIGN, "4"]]
    errors = {b["tool_use_id"]: b.get("is_error") for b in request.tool_results}
    assert errors == {"t1": None, "t2": None, "t3": True}
    assert tarball_downloads(github, workspace) == 1


async def test_many_matches_are_capped(tools, workspace):
    workspace.write("many.txt", "hit\n" * 500)
    text = (await tools.run("search", {"pattern": "hit"})).text
    assert text.endswith("[showing 100 of 500 matches; narrow the pattern or the path]")


async def test_a_failed_download_is_a_tool_error(tools, workspace):
    workspace.head_sha = "0" * 40
    failed = await tools.run("search", {"pattern": "x"})
    assert failed.is_error and "search is unavailable" in failed.text


@pytest.mark.parametrize(("glob", "path", "hit"), [
    ("widgets/", "widgets/a/b.py", True),
    ("widgets", "widgetsx/a.py", False),
    ("*.py", "a/b/c.py", True),
    ("widgets/*.py", "widgets/a/b.py", False),
    ("widgets/**/*.py", "widgets/a/b.py", True),
    ("widgets/**/*.py", "widgets/b.py", True),
    ("./docs/*.md", "docs/stack.md", True),
])
def test_glob(glob, path, hit):
    assert bool(glob_matcher(glob).match(path)) is hit
