"""The prompts, laid out for prompt caching.

A request is read by the cache as one prefix: tools, then system, then messages. So the parts
come in order of how long they stay the same:

1. the system prompt: identical for every task, repository and step (no dates, no names);
2. the *context* block, first block of the first user message: the component, the design and
   the test file's contents, the repository's rules and instructions. It is the same for every
   step of a session (generate, fix, fix, revise…), so one step's run reads what the previous
   step's run wrote;
3. the *task* block: what this step asks (the issue, the failure report, the review), and the
   branch's file list, which changes after each commit. When the task carries the files of the
   session's base commit (`AgentTask.base_paths`), those are listed in the context block instead,
   and the task lists only what the branch added and deleted: a repository's file list can be
   thousands of tokens, and in the task block it is written to the cache again at every step.

In a monorepo the session has a working directory: the file lists show the files under it (the
rest of the repository is counted and its top level named), and the instructions are those on
the way up to it, root first, so the nearest reads last.

Everything written by people outside the maintainers goes in `untrusted_block`s.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from bot.agent import AgentTask
from bot.agent.untrusted import strip_invisible, untrusted_block
from bot.core.inputs import SpecText
from bot.core.paths import is_within
from bot.core.spec import instruction_order
from bot.github.files import NotText
from bot.github.workspace import FileNotInBranch, Workspace
from bot.render.templating import render

MAX_TREE_PATHS = 400
MAX_TOP_LEVEL_ENTRIES = 40
MAX_INLINE_FILE_CHARS = 60_000
MAX_FAILURE_REPORT_CHARS = 30_000
MAX_DIFF_CHARS = 40_000
MAX_INSTRUCTIONS_CHARS = 20_000
TASK_TEMPLATES = {"implement": "prompts/implement.md.j2", "fix": "prompts/fix.md.j2", "revise": "prompts/revise.md.j2",
                  "resolve": "prompts/resolve.md.j2"}


@cache
def system_prompt() -> str:
    return render("prompts/system.md.j2").strip()


def cut(text: str, limit: int) -> tuple[str, bool]:
    """`text` up to `limit` characters, ending at a line break where possible; and whether it was cut."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    return head[: head.rfind("\n")] if "\n" in head else head, True


async def context_text(task: AgentTask, workspace: Workspace) -> str:
    design, design_cut = await spec_file(task.design, workspace, task.design_path)
    tests, tests_cut = await spec_file(task.tests, workspace, task.test_path)
    instructions = {
        strip_invisible(path): strip_invisible(cut(text, MAX_INSTRUCTIONS_CHARS)[0]).strip()
        for path, text in sorted(task.instructions.items(), key=lambda item: instruction_order(item[0]))
        if text and text.strip()
    }
    return render(
        "prompts/context.md.j2",
        component_name=strip_invisible(task.component_name),
        working_directory=strip_invisible(task.working_directory),
        design_path=task.design_path,
        design_text=design,
        design_truncated=design_cut,
        test_path=task.test_path,
        test_text=tests,
        test_truncated=tests_cut,
        rules=[strip_invisible(rule).strip() for rule in task.rules if rule.strip()],
        instructions=instructions,
        **base_tree_values(task),
    ).strip()


async def spec_file(recorded: SpecText | None, workspace: Workspace, path: str) -> tuple[str | None, bool]:
    """A spec file as the session recorded it at the base (the workspace only for a task built without it)."""
    if recorded is None:
        return await inline_file(workspace, path)
    if recorded.text is None:
        return (f"({path} is {recorded.note}.)" if recorded.sha else None), False
    shown, was_cut = cut(recorded.text, MAX_INLINE_FILE_CHARS)
    return shown.rstrip("\n"), was_cut


async def inline_file(workspace: Workspace, path: str) -> tuple[str | None, bool]:
    """The file's text (None if it is not on the branch), cut to MAX_INLINE_FILE_CHARS; a binary or
    non-UTF-8 file is described instead, as the editor would describe it."""
    try:
        text = await workspace.read(path)
    except FileNotInBranch:
        return None, False
    except NotText as exc:
        return f"({exc.path} is {exc.reason}, {exc.size:,} bytes: it cannot be shown here or edited.)", False
    shown, was_cut = cut(text, MAX_INLINE_FILE_CHARS)
    return shown.rstrip("\n"), was_cut


def task_text(task: AgentTask, workspace: Workspace) -> str:
    template = TASK_TEMPLATES.get(task.kind)
    if template is None:
        raise ValueError(f"unknown task kind {task.kind!r}")
    values = {
        "component_name": strip_invisible(task.component_name),
        "design_path": task.design_path,
        "test_path": task.test_path,
        **tree_values(task, workspace),
        **TASK_VALUES[task.kind](task),
    }
    return render(template, **values).strip() + listing_note(workspace)


def listing_note(workspace: Workspace) -> str:
    """Said right after the file list (the last part of every task template) when the list does
    not come from GitHub's tree, e.g. because GitHub truncated it."""
    return f"\n\n({workspace.listing_note}.)" if workspace.listing_note else ""


def listing(paths: list[str], directory: str) -> dict[str, Any]:
    """A file list as the prompts show it: the files under the working directory (all of them when
    it is the root), cut to MAX_TREE_PATHS; and, when some are outside it, how many and the
    repository's top level, so the model knows where to look for the rest."""
    inside = [p for p in paths if is_within(p, directory)]
    outside = len(inside) < len(paths)
    top = sorted({p.split("/", 1)[0] + ("/" if "/" in p else "") for p in paths}) if outside else []
    return {"listed": [strip_invisible(p) for p in inside[:MAX_TREE_PATHS]], "listed_total": len(inside),
            "total": len(paths), "outside_total": len(paths) - len(inside),
            "top_level": [strip_invisible(p) for p in top[:MAX_TOP_LEVEL_ENTRIES]], "top_level_total": len(top)}


def base_tree_values(task: AgentTask) -> dict[str, Any]:
    paths = sorted(task.base_paths or ())  # in the context block: the same bytes however the step lists them
    return {"base": listing(paths, task.working_directory)}


def tree_values(task: AgentTask, workspace: Workspace) -> dict[str, Any]:
    """The branch's files; or, when the context lists the base's, what the branch added and deleted."""
    paths = workspace.paths()
    values: dict[str, Any] = {"tree": listing(paths, task.working_directory), "tree_total": len(paths),
                              "working_directory": strip_invisible(task.working_directory),
                              "from_base": bool(task.base_paths)}
    if task.base_paths:
        base, now = set(task.base_paths), set(paths)
        values["added"] = [strip_invisible(p) for p in paths if p not in base][:MAX_TREE_PATHS]
        values["deleted"] = [strip_invisible(p) for p in sorted(base - now)][:MAX_TREE_PATHS]
    return values


def implement_values(task: AgentTask) -> dict[str, Any]:
    issue = f"Title: {task.issue_title}\n\n{task.issue_body}" if task.issue_title else task.issue_body
    return {"issue_number": task.issue_number, "issue": untrusted_block(f"issue #{task.issue_number}", issue)}


def fix_values(task: AgentTask) -> dict[str, Any]:
    report, _ = cut(task.failure_report, MAX_FAILURE_REPORT_CHARS)
    return {
        "attempt": task.attempt,
        "max_attempts": task.max_attempts,
        "failure_report": untrusted_block("CI test report", report or "(no failure details were found)"),
        "diff": diff_block(task.diff),
    }


def revise_values(task: AgentTask) -> dict[str, Any]:
    return {"conversation": [conversation_block(entry) for entry in task.conversation], "diff": diff_block(task.diff)}


def resolve_values(task: AgentTask) -> dict[str, Any]:
    """Each conflicting file as it was at the old base, as the branch has it and as the default branch has it."""
    sides = (("base", "at the common ancestor (the session's previous base)"), ("ours", "on this branch"),
             ("theirs", "on the default branch now"))
    conflicts = [{"path": strip_invisible(str(c["path"])),
                  "sides": [(what, untrusted_block(f"{c['path']} {what}", cut(c.get(side) or "(absent)",
                                                                            MAX_INLINE_FILE_CHARS)[0]))
                            for side, what in sides]} for c in task.conflicts]
    return {"conflicts": conflicts, "diff": diff_block(task.diff)}


TASK_VALUES = {"implement": implement_values, "fix": fix_values, "revise": revise_values, "resolve": resolve_values}


def diff_block(diff: str) -> str:
    if not diff.strip():
        return ""
    shown, was_cut = cut(diff, MAX_DIFF_CHARS)
    if was_cut:
        shown += "\n[... diff truncated; view the files for the rest]"
    return untrusted_block("diff of the branch", shown)


def conversation_block(entry: dict[str, Any]) -> str:
    """One comment or review, fenced as data; a review comment carries its file, line and diff hunk."""
    author = str(entry.get("author") or "someone")
    kind = str(entry.get("kind") or "comment").replace("_", " ")
    source = f"{kind} by @{author}"
    if entry.get("path"):
        source += f" on {entry['path']}" + (f" line {entry['line']}" if entry.get("line") else "")
    text = str(entry.get("body") or "")
    if entry.get("diff_hunk"):
        text = f"{text}\n\nThe code this comment refers to:\n{entry['diff_hunk']}"
    return untrusted_block(source, text)


async def first_user_blocks(task: AgentTask, workspace: Workspace) -> list[dict[str, Any]]:
    """The run's first user message: [context, task], both breakpoints (see `claude.py`)."""
    return [
        {"type": "text", "text": await context_text(task, workspace)},
        {"type": "text", "text": task_text(task, workspace)},
    ]
