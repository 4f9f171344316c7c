"""A wake is never lost between a session's decision and the step it decided on."""

from __future__ import annotations

from bot.core.orchestrator import Signal, Status, Step
from bot.core.record import SessionRecord
from bot.store import sessions as store
from tests.fakes.agent import ScriptedAgent
from tests.harness import REPO, STACK_IMPL, BotHarness, make_fake, settings_for
from tests.webhook_helpers import FIXTURES

PASSING_LOG = (FIXTURES / "logs" / "pytest_rA_passing.log").read_text()


async def test_checks_reported_after_the_decision_and_before_the_step_started_are_read_by_it(settings):
    """A checks signal recorded before RunTests records its start counts as seen by that step (the
    orchestrator reads the record so), so the step must start from it, not from the record it was
    decided on: else it answers "waiting for the checks to start" without looking, and the session
    sleeps until the reconciler's first look, minutes later."""
    fake = make_fake()
    async with BotHarness(settings_for(fake, settings), fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL})) as bot:
        await bot.label_stack_issue()
        session = await bot.session()
        work = bot.runner.work
        _, record = await work.load(session.id)
        decided = SessionRecord([e for e in record.entries if e.step != Step.RunTests.value])  # right after the commit
        assert decided.entries[-1].commit_sha == session.head_sha

        fake.add_check_run(REPO, session.head_sha, "test", "completed", "success", log=PASSING_LOG)
        signal = await store.append_interaction(bot.db, session.id, Signal.checks.value, Status.received.value,
                                                input={"event": "check_run.completed", "head_sha": session.head_sha})
        await work.run_step(session, decided, Step.RunTests)
        _, record = await work.load(session.id)
    results = [e.result for e in record.entries
               if e.seq > signal.seq and (e.step, e.status) == (Step.RunTests.value, Status.succeeded)]
    assert results and all(result["state"] == "passed" for result in results), results
