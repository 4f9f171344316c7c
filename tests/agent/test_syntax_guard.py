"""The syntax guard: an edit that would break a file's syntax is refused with the parser's line
and column, the workspace left as it was; a file that was already broken stays editable."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.agent import syntax
from bot.agent.tools import Toolbox
from bot.telemetry import metrics
from tests.agent.conftest import make_task
from tests.fakes.anthropic import tool_use_block

EDITOR = "str_replace_based_edit_tool"
UTIL = "widgets/util.py"
UTIL_TEXT = "def helper():\n    return 1\n\n\ndef other():\n    return 1\n"
STACK_TS = (
    "export class Stack<T> {\n"
    "  private items: T[] = [];\n"
    "\n"
    "  push(value: T): void {\n"
    "    this.items.push(value);\n"
    "  }\n"
    "\n"
    "  pop(): T | undefined {\n"
    "    return this.items.pop();\n"
    "  }\n"
    "}\n"
)
REFUSALS = "component_bot_syntax_refusals_total"


@pytest.fixture
def tools(workspace) -> Toolbox:
    return Toolbox(workspace)


async def editor(tools: Toolbox, command: str, **fields):
    return await tools.run(EDITOR, {"command": command, **fields})


def scraped(name: str, **labels: str) -> float:
    """A sample's value as /metrics serves it."""
    body, _ = metrics.exposition(None)
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


# ----------------------------------------------------------------------------- Python and TypeScript


async def test_an_edit_that_breaks_a_python_file_is_refused_with_the_line_and_the_fixed_edit_is_applied(
        tools, workspace):
    refused = await editor(tools, "str_replace", path=UTIL, old_str="def other():", new_str="def other(:")
    assert refused.is_error
    assert refused.text.startswith(f"Not applied: after this edit `{UTIL}` would not parse: line 5, column ")
    assert "(Python 3." in refused.text and f"`{UTIL}` is unchanged" in refused.text
    assert ">    5\tdef other(:" in refused.text and "     6\t    return 1" in refused.text
    assert "Fix the edit and try again" in refused.text
    assert UTIL not in workspace.changes and await workspace.read(UTIL) == UTIL_TEXT

    applied = await editor(tools, "str_replace", path=UTIL, old_str="def other():", new_str="def other(x):")
    assert not applied.is_error
    assert workspace.changes[UTIL] == UTIL_TEXT.replace("def other():", "def other(x):")
    assert tools.editor.syntax_guard.refusals == 1


async def test_an_edit_that_breaks_a_typescript_file_is_refused_with_the_line_and_column(tools, workspace):
    workspace.write("src/stack.ts", STACK_TS)
    refused = await editor(tools, "str_replace", path="src/stack.ts", old_str="    return this.items.pop();\n",
                           new_str="    return this.items.pop();\n  }\n")
    assert refused.is_error
    assert refused.text.startswith("Not applied: after this edit `src/stack.ts` would not parse: "
                                   "line 12, column 1: unexpected `}` (tree-sitter, tree-sitter-typescript ")
    assert ">   12\t}" in refused.text and "     9\t    return this.items.pop();" in refused.text
    assert workspace.changes["src/stack.ts"] == STACK_TS

    applied = await editor(tools, "str_replace", path="src/stack.ts", old_str="    return this.items.pop();\n",
                           new_str="    const top = this.items.pop();\n    return top;\n")
    assert not applied.is_error and "const top" in workspace.changes["src/stack.ts"]


async def test_create_and_insert_are_guarded_too(tools, workspace):
    refused = await editor(tools, "create", path="widgets/stack.py", file_text="class Stack:\n    def push(self, x)\n")
    assert refused.is_error and "line 2, column " in refused.text and "expected ':'" in refused.text
    assert "`widgets/stack.py` was not created" in refused.text and not workspace.exists("widgets/stack.py")

    workspace.write("src/stack.ts", STACK_TS)
    refused = await editor(tools, "insert", path="src/stack.ts", insert_line=3, insert_text="  peek(): T {\n")
    assert refused.is_error and "would not parse" in refused.text
    assert workspace.changes["src/stack.ts"] == STACK_TS
    applied = await editor(tools, "insert", path="src/stack.ts", insert_line=3,
                           insert_text="  peek(): T | undefined {\n    return this.items.at(-1);\n  }\n")
    assert not applied.is_error


async def test_a_file_that_was_already_broken_can_still_be_edited(tools, workspace):
    broken = "def helper(:\n    return 1\n\nLIMIT = 1\n"
    workspace.write("widgets/broken.py", broken)
    still_broken = await editor(tools, "str_replace", path="widgets/broken.py", old_str="LIMIT = 1", new_str="LIMIT = (")
    assert not still_broken.is_error
    fixed = await editor(tools, "create", path="widgets/broken.py", file_text="def helper():\n    return 1\n")
    assert not fixed.is_error and workspace.changes["widgets/broken.py"] == "def helper():\n    return 1\n"
    assert tools.editor.syntax_guard.refusals == 0

    broken_ts = STACK_TS.replace("push(value: T): void {", "push(value: T): void {{")
    workspace.write("src/broken.ts", broken_ts)
    edited = await editor(tools, "str_replace", path="src/broken.ts", old_str="private items", new_str="readonly items")
    assert not edited.is_error and "readonly items" in workspace.changes["src/broken.ts"]


async def test_the_same_refused_edit_sent_again_is_applied_as_an_override(tools, workspace):
    """Python 3.12's f-strings do not parse on 3.11: the model, sure of its code, repeats the edit."""
    new = 'def other():\n    return f"{LIMITS["a"]}"'
    first = await editor(tools, "str_replace", path=UTIL, old_str="def other():\n    return 1", new_str=new)
    assert first.is_error and "send exactly the same edit again" in first.text
    second = await editor(tools, "str_replace", path=UTIL, old_str="def other():\n    return 1", new_str=new)
    assert not second.is_error and new in workspace.changes[UTIL]
    guard = tools.editor.syntax_guard
    assert (guard.refusals, guard.overrides) == (1, 1)


async def test_files_it_cannot_check_are_edited_without_a_check(tools, workspace):
    assert not (await editor(tools, "create", path="notes.md", file_text="def (((\n")).is_error
    too_big = "x = 1\n" * (syntax.MAX_PYTHON_CHECKED_BYTES // 6) + "def (\n"
    assert not (await editor(tools, "create", path="widgets/big.py", file_text=too_big)).is_error
    too_deep = "x = " + "+".join(["1"] * 200_000) + "\n"  # RecursionError in the AST builder
    assert not (await editor(tools, "create", path="widgets/deep.py", file_text=too_deep)).is_error
    assert tools.editor.syntax_guard.refusals == 0


async def test_a_parse_past_the_deadline_is_cannot_check_and_the_edit_is_applied(tools, workspace, monkeypatch):
    monkeypatch.setattr(syntax, "TREE_SITTER_TIME_LIMIT_SECONDS", 0.0)
    junk = "}{)(][;:,." * 2_000
    assert syntax.parse("src/junk.ts", junk) is None
    assert not (await editor(tools, "create", path="src/junk.ts", file_text=junk)).is_error
    assert workspace.changes["src/junk.ts"] == junk


async def test_an_error_past_the_last_line_is_placed_at_the_end_of_the_file(tools):
    refused = await editor(tools, "create", path="lib/stack.ex",
                           file_text="defmodule Stack do\n  def push(s, x) do\n    [x | s]\n  end\n")
    assert refused.is_error and "would not parse: the end of the file (line 4): missing `end`" in refused.text
    assert ">    4\t  end" in refused.text


# ----------------------------------------------------------------------------- the other languages

CLEAR_ERRORS = {  # path, clean text, (broken piece, replacing), line and message of the error
    "go": ("cmd/main.go", 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\n',
           ('"hi")', '"hi"'), 6, "missing `)`"),
    "rust": ("src/main.rs", "fn main() {\n    let x = 1;\n    let y = x + 1;\n}\n",
             ("let y = x + 1;", "let y = ;"), 3, "unexpected `=`"),
    "elixir": ("lib/stack.ex", "defmodule Stack do\n  def pop([h | t]), do: {h, t}\n\n  def size(s), do: length(s)\nend\n",
               ("length(s)", "length(s))"), 4, "unexpected `)`"),
    "java": ("src/Stack.java", "class Stack {\n    int size = 0;\n    void push(int x) {\n        size += x;\n    }\n}\n",
             ("size = 0;", "size = 0"), 2, "missing `;`"),
    "javascript": ("src/stack.mjs", "export class Stack {\n  pop() {\n    return this.items.pop();\n  }\n}\n",
                   ("pop();", "pop(;"), 3, "missing `)`"),
}


@pytest.mark.parametrize("language", sorted(CLEAR_ERRORS))
def test_a_clear_syntax_error_is_found_on_its_line(language):
    path, clean, (piece, broken_piece), line, message = CLEAR_ERRORS[language]
    assert syntax.parse(path, clean).ok
    parsed = syntax.parse(path, clean.replace(piece, broken_piece))
    assert parsed is not None and parsed.language == language and parsed.parser.startswith("tree-sitter")
    assert (parsed.errors[0].line, parsed.errors[0].message) == (line, message)


def test_the_language_comes_from_the_extension():
    assert {syntax.grammar_name(p) for p in ("a.js", "a.jsx", "a.mjs", "a.cjs")} == {"javascript"}
    assert (syntax.grammar_name("a.ts"), syntax.grammar_name("A.TSX"), syntax.grammar_name("x.exs")) == (
        "typescript", "tsx", "elixir")
    assert syntax.grammar_name("README.md") is None and syntax.grammar_name(".py") is None
    assert syntax.parse("src/App.tsx", "export const App = () => <div>{1}</div>;\n").ok


# ----------------------------------------------------------------------------- counted


async def test_a_refusal_is_counted_in_metrics_by_language(tools, workspace):
    before = {language: scraped(REFUSALS, language=language) for language in ("python", "typescript")}
    await editor(tools, "create", path="widgets/bad.py", file_text="def f(:\n")
    workspace.write("src/stack.ts", STACK_TS)
    await editor(tools, "str_replace", path="src/stack.ts", old_str="pop(): T", new_str="pop(: T")
    assert scraped(REFUSALS, language="python") == before["python"] + 1
    assert scraped(REFUSALS, language="typescript") == before["typescript"] + 1


def test_the_metric_labels_are_the_languages_parsed():
    assert syntax.LANGUAGES == metrics.SYNTAX_LANGUAGES


async def test_the_runs_transcript_ends_with_the_refusal_count(fake, agent, workspace):
    bad = {"command": "create", "path": "widgets/stack.py", "file_text": "class Stack:\n    def push(self, x)\n"}
    fake.turn([tool_use_block(EDITOR, bad, id="toolu_bad")], stop_reason="tool_use")
    fake.tool_use(EDITOR, {**bad, "file_text": "class Stack:\n    def push(self, x):\n        pass\n"})
    fake.reply("Added Stack.")
    result = await agent.implement(make_task(), workspace)
    fake.assert_done()
    refused = next(b for b in fake.message_requests[1].tool_results if b["tool_use_id"] == "toolu_bad")
    assert refused["is_error"] and "line 2, column " in refused["content"]
    assert result.transcript[-1]["type"] == "note"
    assert (result.transcript[-1]["syntax_refusals"], result.transcript[-1]["syntax_overrides"]) == (1, 0)
