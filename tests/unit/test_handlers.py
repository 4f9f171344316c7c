"""Handlers, one event at a time: a per-event context over the fake GitHub, a recording scheduler."""

from __future__ import annotations

import uuid

from bot.handlers import checks, conversation, triggers
from bot.handlers.context import Deps, EventContext
from bot.handlers.event import Event
from bot.store import sessions as store
from bot.store.sessions import Scope
from tests.harness import ISSUE_BODY, REPO


def event(fake, name: str) -> Event:
    """The last webhook the fake GitHub queued for `name`, as the dispatcher would hand it over."""
    payload = fake.events_of(name)[-1]
    return Event(name, str(uuid.uuid4()), payload)


def context(e: Event, unit_settings, db, apps, scheduler) -> EventContext:
    return EventContext.for_event(e, Deps(unit_settings, db, apps, scheduler))


async def test_a_writers_label_starts_a_session_and_acknowledges_it(fake, unit_settings, db, apps, scheduler):
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="maria")
    fake.label_issue(REPO, issue.number, "implement-component", by="maria")
    await triggers.issue_labeled(context(event(fake, "issues"), unit_settings, db, apps, scheduler))
    async with db() as s:
        started = list(await store.unfinished_session_ids(s))
    assert len(started) == 1 and scheduler.scheduled == started
    assert [r.content for r in fake.repo(REPO).reactions] == ["eyes"]


async def test_a_readers_label_starts_nothing(fake, unit_settings, db, apps, scheduler):
    issue = fake.add_issue(REPO, "Implement the stack", ISSUE_BODY, user="rick")
    fake.label_issue(REPO, issue.number, "implement-component", by="rick")
    await triggers.issue_labeled(context(event(fake, "issues"), unit_settings, db, apps, scheduler))
    assert scheduler.scheduled == [] and fake.repo(REPO).reactions == []


async def session_on_pull(db, fake, number: int, head_sha: str = "a" * 40):
    repo = fake.repo(REPO)
    session = await store.create_session(db, Scope(42, repo.id, REPO), 1, trigger="label", triggered_by="maria")
    await store.update_session(db, session.id, pr_number=number, head_sha=head_sha, status="awaiting_review")
    return session


async def open_pull(fake, apps) -> int:
    fake.push(REPO, "component-bot/1-stack", {"widgets/stack.py": "class Stack: ...\n"}, author="maria")
    repository = apps.repository(42, REPO)
    pull = await repository.ensure_pull_request(branch="component-bot/1-stack", base="main", title="Stack", body="x",
                                                draft=True)
    return pull["number"]


async def test_a_merge_command_records_the_head_it_was_given_at(fake, unit_settings, db, apps, scheduler):
    number = await open_pull(fake, apps)
    session = await session_on_pull(db, fake, number)
    comment = fake.add_pr_comment(REPO, number, "/merge", user="maria")
    await conversation.pull_request_comment(context(event(fake, "issue_comment"), unit_settings, db, apps, scheduler))
    assert scheduler.signals == [(session.id, "merge", {"by": "maria", "comment_id": comment.id, "head_sha": "a" * 40},
                                  f"comment:{comment.id}")]
    assert [r.content for r in fake.repo(REPO).reactions] == ["eyes"]


async def test_check_events_wake_only_sessions_waiting_on_that_commit(fake, unit_settings, db, apps, scheduler):
    session = await session_on_pull(db, fake, 7, head_sha="b" * 40)
    await store.update_session(db, session.id, status="waiting_for_checks")
    for sha in ("c" * 40, "b" * 40):
        e = Event("check_run", f"d-{sha[0]}", {
            "action": "completed", "installation": {"id": 42},
            "repository": {"id": fake.repo(REPO).id, "full_name": REPO}, "sender": {"login": "github-actions[bot]"},
            "check_run": {"head_sha": sha, "app": {"id": 15368}}})
        await checks.checks_completed(context(e, unit_settings, db, apps, scheduler))
    assert [(s, name) for s, name, _, _ in scheduler.signals] == [(session.id, "checks")]


async def test_a_check_on_the_branch_of_a_step_still_committing_wakes_its_session(fake, unit_settings, db, apps,
                                                                                  scheduler):
    """The checks of a new commit may report before the step that made it has recorded its sha."""
    session = await session_on_pull(db, fake, 7, head_sha="b" * 40)
    await store.update_session(db, session.id, status="running", branch="component-bot/1-stack")
    for branch in ("main", "component-bot/1-stack"):
        e = Event("check_suite", f"d-{branch}", {
            "action": "completed", "installation": {"id": 42},
            "repository": {"id": fake.repo(REPO).id, "full_name": REPO}, "sender": {"login": "github-actions[bot]"},
            "check_suite": {"head_sha": "e" * 40, "head_branch": branch, "app": {"id": 15368}}})
        await checks.checks_completed(context(e, unit_settings, db, apps, scheduler))
    assert [(s, name) for s, name, _, _ in scheduler.signals] == [(session.id, "checks")]
