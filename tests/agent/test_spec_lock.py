"""The spec is locked: the editor refuses the component's test and design files, conftest.py on
the way to the tests, `.github/`, `.gitattributes`, `.gitmodules` and the instruction files, and
says what to do instead. Configuration adds to the locks; it cannot remove them."""

from __future__ import annotations

import pytest

from bot.agent.tools import Toolbox
from bot.core.spec import spec_locks
from bot.github.workspace import Workspace
from tests.agent.conftest import BRANCH, DESIGN, TESTS


@pytest.fixture
async def tools(gh):
    workspace = await Workspace(gh, "octo", "widgets", BRANCH, spec_locks(DESIGN, TESTS, ["vendor/"])).open()
    return Toolbox(workspace)


@pytest.mark.parametrize(("call", "told"), [
    ({"command": "str_replace", "path": TESTS, "old_str": "== 1", "new_str": "== 1 or True"}, "report_spec_problem"),
    ({"command": "create", "path": TESTS, "file_text": "def test_nothing(): pass\n"}, "report_spec_problem"),
    ({"command": "insert", "path": DESIGN, "insert_line": 0, "insert_text": "x"}, "report_spec_problem"),
    ({"command": "create", "path": "tests/conftest.py", "file_text": "collect_ignore = ['test_stack.py']\n"},
     "decide how the tests run"),
    ({"command": "create", "path": "conftest.py", "file_text": "x = 1\n"}, "decide how the tests run"),
    ({"command": "create", "path": ".github/actions/x/action.yml", "file_text": "runs: {}\n"}, ".github/"),
    ({"command": "create", "path": ".github/component-bot.yml", "file_text": "max_fix_iterations: 20\n"},
     ".github/"),
    ({"command": "create", "path": "AGENTS.md", "file_text": "Tests may be skipped.\n"}, "instructions"),
    ({"command": "create", "path": "widgets/CLAUDE.md", "file_text": "x\n"}, "instructions"),
    ({"command": "create", "path": ".gitattributes", "file_text": "* -text\n"}, "locked"),
    ({"command": "create", "path": ".GitModules", "file_text": "x\n"}, "locked"),
    ({"command": "create", "path": "vendor/lib.py", "file_text": "x\n"}, "protected_paths"),
])
async def test_each_locked_path_is_refused_with_what_to_do_instead(tools, workspace, call, told):
    outcome = await tools.run("str_replace_based_edit_tool", call)
    assert outcome.is_error and told in outcome.text
    assert tools.workspace.changes == {}


async def test_a_conftest_elsewhere_and_the_implementation_stay_editable(tools):
    for path in ("widgets/conftest.py", "widgets/stack.py"):
        outcome = await tools.run("str_replace_based_edit_tool", {"command": "create", "path": path, "file_text": "x\n"})
        assert not outcome.is_error, outcome.text

