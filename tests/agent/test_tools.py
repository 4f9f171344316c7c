"""The text editor and search tools on the branch workspace."""

from __future__ import annotations

import threading

import pytest

from bot.agent import prompts
from bot.agent import search as search_module
from bot.agent.editor import MAX_VIEW_CHARS, MAX_VIEW_LINE_CHARS
from bot.agent.search import MAX_MATCH_LINE_CHARS, MAX_SEARCH_OUTPUT_CHARS, glob_matcher
from bot.agent.tools import Toolbox, tool_definitions
from bot.github import archive as archive_module
from bot.github import workspace as workspace_module
from bot.github.workspace import Workspace
from tests.agent.conftest import BRANCH, DESIGN, REPO, make_task
from tests.fakes.anthropic import tool_use_block

EDITOR = "str_replace_based_edit_tool"
LATIN1 = "Café crème, déjà vu\n".encode("latin-1")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


@pytest.fixture
def tools(workspace) -> Toolbox:
    return Toolbox(workspace)


async def editor(tools: Toolbox, command: str, **fields):
    return await tools.run(EDITOR, {"command": command, **fields})


def test_the_editor_is_anthropics_text_editor_tool_and_the_order_is_fixed():
    editor_tool, search_tool, report_tool, traceability_tool = tool_definitions()
    assert report_tool["name"] == "report_spec_problem"
    assert traceability_tool["name"] == "report_traceability"
    assert traceability_tool["input_schema"]["required"] == ["rows"]
    assert report_tool["input_schema"]["required"] == ["test", "design_excerpt", "explanation"]
    assert editor_tool == {"type": "text_editor_20250728", "name": EDITOR, "max_characters": MAX_VIEW_CHARS}
    assert search_tool["name"] == "search" and search_tool["input_schema"]["required"] == ["pattern"]
    assert "RE2 syntax" in search_tool["input_schema"]["properties"]["regex"]["description"]
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


async def test_a_huge_line_is_cut_in_view_with_a_way_to_see_more(tools, workspace):
    workspace.write("min.js", "x" * 5_000_000)
    shown = await editor(tools, "view", path="min.js")
    assert len(shown.text) < MAX_VIEW_LINE_CHARS + 200
    assert shown.text.endswith("[... 4,998,000 more characters on line 1; view_range [1, 1] shows more]\n")

    alone = await editor(tools, "view", path="min.js", view_range=[1, 1])
    assert MAX_VIEW_CHARS - 300 < len(alone.text) <= MAX_VIEW_CHARS
    assert alone.text.endswith("more than one view shows; `search` for the text you need in it]\n")


async def test_every_line_of_a_view_is_capped_and_so_is_the_whole(tools, workspace):
    workspace.write("wide.txt", ("y" * 10_000 + "\n") * 50)
    shown = await editor(tools, "view", path="wide.txt")
    assert len(shown.text) <= MAX_VIEW_CHARS
    assert max(len(line) for line in shown.text.splitlines()) < MAX_VIEW_LINE_CHARS + 100
    assert "[... output truncated after line 19 of 50; use view_range [20, -1] to see more]" in shown.text


async def test_the_edited_region_shown_after_an_edit_is_capped(tools, workspace):
    workspace.write("min.js", "a = 1;" + "x" * 100_000 + "\n")
    done = await editor(tools, "str_replace", path="min.js", old_str="a = 1;", new_str="a = 2;")
    assert not done.is_error and len(done.text) < MAX_VIEW_LINE_CHARS + 300
    assert "view_range [1, 1] shows more]" in done.text


async def test_a_long_edited_region_is_cut_with_a_hint(tools, workspace):
    done = await editor(tools, "insert", path="widgets/__init__.py", insert_line=1, insert_text="x = 1\n" * 20_000)
    assert not done.is_error and len(done.text) < MAX_VIEW_CHARS + 200
    assert "[... the rest of the edited region is not shown; view_range [3074, 20001] shows it]" in done.text


async def test_an_ambiguous_old_str_lists_only_its_first_lines(tools, workspace):
    workspace.write("many.txt", "same\n" * 10_000)
    refused = await editor(tools, "str_replace", path="many.txt", old_str="same", new_str="x")
    assert refused.is_error
    assert "occurs 10000 times in many.txt (at lines 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, " \
           "18, 19, 20 and 9980 more)" in refused.text


@pytest.fixture
async def odd_files(github, gh) -> Toolbox:
    """A branch with a Latin-1 text file and a binary file."""
    github.push(REPO, BRANCH, {"docs/latin1.md": LATIN1, "logo.png": PNG})
    return Toolbox(await Workspace(gh, "octo", "widgets", BRANCH).open())


async def test_view_describes_a_binary_or_non_utf8_file_instead_of_showing_it(odd_files):
    latin = await editor(odd_files, "view", path="docs/latin1.md")
    assert latin.is_error
    assert latin.text == ("docs/latin1.md is not UTF-8 text (it looks like Latin-1), 20 bytes; the editor shows "
                          "only UTF-8 text files.")
    png = await editor(odd_files, "view", path="logo.png")
    assert png.text == "logo.png is binary (it has NUL bytes), 80 bytes; the editor shows only UTF-8 text files."


@pytest.mark.parametrize(("command", "fields"), [
    ("str_replace", {"old_str": "Caf", "new_str": "Tea"}),
    ("insert", {"insert_line": 0, "insert_text": "# title\n"}),
    ("create", {"file_text": "Café\n"}),
])
async def test_a_non_utf8_file_is_never_edited(odd_files, command, fields):
    refused = await editor(odd_files, command, path="docs/latin1.md", **fields)
    assert refused.is_error
    assert refused.text == ("docs/latin1.md is not UTF-8 text (it looks like Latin-1); the editor cannot change it "
                            "without corrupting it. Leave it, or ask a maintainer.")
    assert odd_files.workspace.changes == {}


async def test_a_binary_file_is_never_edited(odd_files):
    refused = await editor(odd_files, "create", path="logo.png", file_text="not a picture")
    assert refused.text.startswith("logo.png is binary (it has NUL bytes); the editor cannot change it")
    assert odd_files.workspace.changes == {}


async def test_a_design_file_that_is_not_utf8_is_described_in_the_prompt(github, gh):
    github.push(REPO, BRANCH, {DESIGN: LATIN1})
    workspace = await Workspace(gh, "octo", "widgets", BRANCH).open()
    context = await prompts.context_text(make_task(), workspace)
    assert (f"({DESIGN} is not UTF-8 text (it looks like Latin-1), 20 bytes: it cannot be shown here or edited.)"
            in context)


@pytest.fixture
async def truncated(github, gh) -> Workspace:
    """The branch opened while GitHub truncates its recursive tree after 3 entries."""
    github.repo(REPO).tree_entry_limit = 3
    return await Workspace(gh, "octo", "widgets", BRANCH).open()


async def test_a_truncated_tree_is_listed_from_the_archive_and_says_so(truncated, github):
    toolbox = Toolbox(truncated)
    root = (await editor(toolbox, "view", path=".")).text
    assert "widgets/util.py" in root and "docs/stack.md" in root
    assert root.endswith("(GitHub truncated this repository's file tree (too many files for one response), so this "
                         "list comes from the branch's archive (files marked export-ignore in .gitattributes may be "
                         "missing from it).)\n")

    task = prompts.task_text(make_task(), truncated)
    assert "widgets/util.py" in task and "## Files on the branch (6)" in task
    assert task.endswith("so this list comes from the branch's archive (files marked export-ignore in "
                         ".gitattributes may be missing from it).)")

    assert "widgets/util.py:2:" in (await toolbox.run("search", {"pattern": "return 1"})).text
    assert tarball_downloads(github, truncated) == 1


async def test_a_whole_tree_needs_no_note(tools, workspace):
    assert "truncated" not in (await editor(tools, "view", path=".")).text
    assert "truncated" not in prompts.task_text(make_task(), workspace)


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


@pytest.mark.parametrize("pattern", [r"(\w+) \1", r"foo(?=bar)", r"(?<!x)y", r"end\Z"])
async def test_what_re2_cannot_run_is_explained_and_nothing_is_printed(tools, capfd, pattern):
    refused = await tools.run("search", {"pattern": pattern, "regex": True})
    assert refused.is_error
    assert "Search uses RE2 syntax, which does not support backreferences, lookahead or lookbehind" in refused.text
    assert "use a simpler pattern, or set `regex` false to search for the literal text" in refused.text
    assert capfd.readouterr().err == ""


async def test_a_literal_search_uses_no_regex_engine(tools, workspace, monkeypatch):
    def no_regex(*args, **kwargs):
        raise AssertionError("a literal search compiled a regular expression")

    workspace.write("odd.txt", "x = (A+)+$ [\n")
    monkeypatch.setattr(search_module.re2, "compile", no_regex)
    found = await tools.run("search", {"pattern": "(a+)+$ [", "ignore_case": True})
    assert found.text == "odd.txt:1: x = (A+)+$ ["


async def test_the_scan_runs_in_a_worker_thread(tools, monkeypatch):
    threads = []
    scan = search_module.scan

    def recorded_scan(*args):
        threads.append(threading.get_ident())
        return scan(*args)

    monkeypatch.setattr(search_module, "scan", recorded_scan)
    await tools.run("search", {"pattern": "return", "regex": True})
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_a_search_past_its_deadline_is_stopped(tools, monkeypatch):
    monkeypatch.setattr(search_module, "SEARCH_TIME_LIMIT_SECONDS", 0.0)
    slow = await tools.run("search", {"pattern": "return"})
    assert slow.is_error and slow.text == "search took too long; narrow the path or pattern"


@pytest.mark.parametrize("pattern", [r"^\s*return 1$", r"(?i)RETURN", r"\A\s+return 1\z", r"(?-m:^def)"])
async def test_a_regex_finds_the_same_lines_with_or_without_the_whole_file_shortcut(tools, pattern):
    found = (await tools.run("search", {"pattern": pattern, "regex": True, "path": "widgets/"})).text
    expected = {r"(?-m:^def)": ["widgets/util.py:1: def helper():", "widgets/util.py:5: def other():"]}
    assert found.splitlines() == expected.get(pattern, ["widgets/util.py:2:     return 1",
                                                        "widgets/util.py:6:     return 1"])


async def test_a_match_far_along_a_huge_line_is_shown_around_the_match(tools, workspace):
    workspace.write("min.js", "x" * 3_000_000 + "needle()" + "y" * 1_000)
    found = (await tools.run("search", {"pattern": "needle"})).text
    assert found.startswith("min.js:1: [...] " + "x" * 60 + "needle()y")
    assert found.endswith("y [...]") and len(found) < MAX_MATCH_LINE_CHARS + 30


async def test_many_files_with_long_matching_lines_stay_within_the_output_cap(tools, workspace):
    for i in range(300):
        workspace.write(f"gen/f{i:03}.txt", "hit " + "z" * 50_000 + "\n")
    text = (await tools.run("search", {"pattern": "hit"})).text
    assert len(text) <= MAX_SEARCH_OUTPUT_CHARS + 100
    assert text.endswith(" of 300 matches; narrow the pattern or the path]")


async def test_the_archive_is_read_in_a_worker_thread(workspace, monkeypatch):
    threads = []
    read_tarball = workspace_module.read_tarball

    def recorded_read(*args):
        threads.append(threading.get_ident())
        return read_tarball(*args)

    monkeypatch.setattr(workspace_module, "read_tarball", recorded_read)
    await workspace.archive()
    assert len(threads) == 1 and threads[0] != threading.get_ident()


@pytest.mark.parametrize(("cap", "value"), [
    ("MAX_ARCHIVE_FILES", 2),
    ("MAX_ARCHIVE_UNPACKED_BYTES", 10),
    ("MAX_ARCHIVE_DOWNLOAD_BYTES", 300),
])
async def test_reading_the_archive_stops_at_its_caps_and_search_says_so(tools, workspace, monkeypatch, cap, value):
    monkeypatch.setattr(archive_module, cap, value)
    found = await tools.run("search", {"pattern": "return"})
    assert not found.is_error
    assert found.text.endswith("[the search index holds only part of this large branch: a file not found here "
                               "may still exist; `view` a folder to check]")
    assert not (await workspace.archive()).complete


async def test_the_searchable_text_is_capped_but_every_file_is_listed(workspace, monkeypatch):
    monkeypatch.setattr(archive_module, "MAX_ARCHIVE_TEXT_BYTES", 20)
    archive = await workspace.archive()
    assert archive.complete and not archive.texts_complete
    assert sum(map(len, archive.texts.values())) <= 20 and len(archive.modes) == 6


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
