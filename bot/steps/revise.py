"""Revise: a maintainer's comments or "changes requested" review, all that arrived since the last
Revise, in order. The agent changes code (one commit, then the tests run again) or, for a
question, only answers. Each instruction gets a reply in its own thread."""

from __future__ import annotations

from bot.core.results import EditResult
from bot.steps import StepContext, StepFailure, StepOutcome
from bot.steps.editing import agent_task, edit_and_commit, open_branch, session_diff
from bot.steps.pr_body import draft_body_update

MAX_THREAD_COMMENTS = 30


async def run(ctx: StepContext) -> StepOutcome:
    instructions = ctx.record.pending_instructions()
    if not instructions:
        raise StepFailure("fatal", "Revise ran with no instruction to act on")
    workspace = await open_branch(ctx)
    conversation = tuple(instructions) + tuple(await open_threads(ctx))
    task = await agent_task(ctx, "revise", conversation=conversation, diff=await session_diff(ctx))
    edit = await edit_and_commit(ctx, workspace, task, revise_title(instructions), allow_no_change=True,
                                 then=lambda files, result: draft_body_update(ctx, files, result))
    reply = (edit.result.reply or edit.result.summary) if edit.result else "Done."
    await answer_each(ctx, instructions, reply, edit.commit_sha)
    result = EditResult(commit_sha=edit.commit_sha, files=edit.files, answered=[i["seq"] for i in instructions],
                        reply=reply[:2000], **(edit.traceability_fields() if edit.commit_sha else {}))
    return edit.outcome(result)


def revise_title(instructions: list[dict]) -> str:
    authors = sorted({i.get("author") or "a maintainer" for i in instructions})
    return f"Address review from {', '.join('@' + a for a in authors)}"


async def open_threads(ctx: StepContext) -> list[dict]:
    """The unresolved review threads the revision should keep in mind: writers' comments only,
    each author's permission read once."""
    verdicts: dict[str, bool] = {}

    async def may_steer(login: str) -> bool:
        if login not in verdicts:
            verdicts[login] = await ctx.repository.can_write(login)
        return verdicts[login]

    slug = (await ctx.repository.bot_login()).removesuffix("[bot]")
    threads = await ctx.repository.unresolved_threads(ctx.session.pr_number, bot_slug=slug, may_steer=may_steer)
    return threads[-MAX_THREAD_COMMENTS:]


async def answer_each(ctx: StepContext, instructions: list[dict], reply: str, commit_sha: str | None) -> None:
    """One answer per instruction, where it was asked: the PR conversation, or each review thread."""
    done = f"\n\nChanged in {commit_sha}." if commit_sha else ""
    comments = await ctx.repository.comments()
    for instruction in instructions:
        marker = f"<!-- component-bot:reply to={instruction['seq']} session={ctx.session.id} -->"
        if instruction.get("kind") == "review" and instruction.get("comments"):
            for comment in instruction["comments"]:
                await comments.reply_in_thread_once(ctx.session.pr_number, comment["comment_id"], marker,
                                                    f"{marker}\n{reply}{done}")
            continue
        mention = f"@{instruction['author']} " if instruction.get("author") else ""
        await comments.post_once(ctx.session.pr_number, marker, f"{marker}\n{mention}{reply}{done}")
