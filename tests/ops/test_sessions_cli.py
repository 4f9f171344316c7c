"""`component-bot sessions …` and `deliveries list` on a session made through the fake GitHub."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.ops.queries import decode_transcript
from bot.engine.work import compress_transcript
from tests.harness import REPO, commits_on

BRANCH = "component-bot/1-stack"


async def start_session(bot, fake):
    await bot.label_stack_issue()
    return await bot.session()


async def test_sessions_list(bot, fake, acli):
    session = await start_session(bot, fake)

    listed = await acli("sessions", "list", "--json")
    assert listed.code == 0, listed.err
    [row] = json.loads(listed.out)
    assert row["id"] == session.id
    assert (row["repository"], row["issue"], row["component"]) == (REPO, 1, "Stack")
    assert (row["status"], row["step"], row["step_status"]) == ("waiting_for_checks", "RunTests", "succeeded")
    assert row["fix_iterations"] == 0
    assert row["tokens"] == {"input": 1000, "output": 200, "cache_write": 300, "cache_read": 500, "total": 2000}
    assert row["cost_usd"] == pytest.approx(0.01)

    table = (await acli("sessions", "list")).out.splitlines()
    assert table[0].split() == ["ID", "REPOSITORY", "ISSUE", "COMPONENT", "STATUS", "STEP", "FIXES", "TOKENS",
                                "COST", "AGE"]
    assert table[1].split()[:7] == [str(session.id), REPO, "#1", "Stack", "waiting_for_checks", "RunTests",
                                    "(succeeded)"]
    assert "2.0k" in table[1] and "$0.01" in table[1]

    for filters in (("--status", "failed"), ("--repository", "octo/other")):
        assert json.loads((await acli("sessions", "list", "--json", *filters)).out) == []
    for filters in (("--status", "active"), ("--status", "waiting_for_checks"), ("--repository", "OCTO/Widgets")):
        assert [r["id"] for r in json.loads((await acli("sessions", "list", "--json", *filters)).out)] == [session.id]
    assert (await acli("sessions", "list", "--status", "failed")).out.strip() == "no sessions"


async def test_sessions_show(bot, fake, acli):
    session = await start_session(bot, fake)
    [commit] = commits_on(fake, BRANCH)

    shown = await acli("sessions", "show", str(session.id), "--json")
    assert shown.code == 0, shown.err
    record = json.loads(shown.out)
    assert sorted(record["files"]) == ["widgets/__init__.py", "widgets/stack.py"]
    assert [(c["step"], c["sha"]) for c in record["commits"]] == [("GenerateImplementation", commit)]
    assert record["checks"]["state"] == "pending" and record["checks"]["head_sha"] == commit
    assert record["usage"] == {"input": 1000, "output": 200, "cache_write": 300, "cache_read": 500, "total": 2000,
                               "cost_usd": pytest.approx(0.01)}
    assert (record["branch"], record["pr_number"], record["head_sha"]) == (BRANCH, session.pr_number, commit)
    assert [(e["step"], e["status"]) for e in record["timeline"]] == [
        ("Initialize", "started"), ("Initialize", "succeeded"),
        ("GenerateImplementation", "started"), ("GenerateImplementation", "succeeded"),
        ("RunTests", "started"), ("RunTests", "succeeded")]
    assert "transcript" not in json.dumps(record["timeline"])

    text = (await acli("sessions", "show", str(session.id))).out
    assert text.startswith(f"Session {session.id}  {REPO}#1  Stack  [waiting_for_checks")
    assert "widgets/stack.py" in text and commit[:12] in text and "Timeline:" in text
    assert "GenerateImplementation succeeded: commit" in text

    with_transcript = await acli("sessions", "show", str(session.id), "--transcript")
    assert "── #4 GenerateImplementation succeeded (attempt 1)" in with_transcript.out
    assert "[user]\n    implement" in with_transcript.out
    as_json = json.loads((await acli("sessions", "show", str(session.id), "--json", "--transcript")).out)
    generate = next(e for e in as_json["timeline"]
                    if e["step"] == "GenerateImplementation" and e["status"] == "succeeded")
    assert generate["transcript"] == [{"role": "user", "content": "implement"}]


async def test_unknown_session_is_a_one_line_error(bot, acli):
    for command in (("show", "999"), ("retry", "999"), ("cancel", "999")):
        result = await acli("sessions", *command)
        assert result.code == 1 and result.last_error_line == "component-bot: no session 999"
        assert "Traceback" not in result.err
    bad = await acli("sessions", "show", "latest")
    assert bad.code == 2 and bad.err.count("\n") == 1 and "not a session id: 'latest'" in bad.err


async def test_cancel_then_retry_are_signals_the_serving_runner_acts_on(bot, fake, acli):
    session = await start_session(bot, fake)

    cancelled = await acli("sessions", "cancel", str(session.id))
    assert cancelled.code == 0, cancelled.err
    assert "stop recorded" in cancelled.out
    last = (await bot.interactions(session.id))[-1]
    assert (last.step, last.status, last.input["via"]) == ("stop", "received", "cli")
    assert (await bot.session()).status == "waiting_for_checks"  # nothing acted on it yet

    assert await bot.runner.sweep() == 1  # what `serve` does every `sweep_every` seconds
    await bot.settle()
    assert (await bot.session()).status == "cancelled"
    assert await bot.runner.sweep() == 0, "a signal acted on is not picked up again"
    again = await acli("sessions", "cancel", str(session.id))
    assert again.code == 1 and again.last_error_line == f"component-bot: session {session.id} is already cancelled"

    retried = await acli("sessions", "retry", str(session.id))
    assert retried.code == 0, retried.err
    last = (await bot.interactions(session.id))[-1]
    assert (last.step, last.status) == ("retry", "received")
    assert (await bot.session()).status == "running"  # reopened, so `serve` wakes it at start too
    assert await bot.runner.sweep() == 1
    await bot.settle()
    assert (await bot.session()).status == "waiting_for_checks"
    assert len(commits_on(fake, BRANCH)) == 1, "retrying carries on; it does not redo the work"


async def test_a_serving_runner_sweeps_by_itself(bot_settings, fake, acli):
    from tests.fakes.agent import ScriptedAgent
    from tests.harness import STACK_IMPL, BotHarness

    async with BotHarness(bot_settings, fake, ScriptedAgent({"widgets/stack.py": STACK_IMPL}),
                          sweep_every=0.05) as bot:
        session = await start_session(bot, fake)
        assert (await acli("sessions", "cancel", str(session.id))).code == 0
        for _ in range(200):
            if (await bot.session()).status == "cancelled":
                break
            await asyncio.sleep(0.05)
        assert (await bot.session()).status == "cancelled"


async def test_retrying_a_completed_session_is_refused(bot, fake, acli):
    session = await start_session(bot, fake)
    from bot.store import sessions as store

    await store.update_session(bot.db, session.id, status="completed")
    result = await acli("sessions", "retry", str(session.id))
    assert result.code == 1
    assert result.last_error_line == f"component-bot: session {session.id} is completed; there is nothing to retry"


async def test_deliveries_list(bot, fake, acli):
    await start_session(bot, fake)
    rows = json.loads((await acli("deliveries", "list", "--json")).out)
    assert {(r["event"], r["action"]) for r in rows} >= {("issues", "labeled")}
    assert all(r["repository"] == REPO and r["outcome"] in {"processed", "ignored"} for r in rows)
    assert json.loads((await acli("deliveries", "list", "--failed", "--json")).out) == []
    assert len(json.loads((await acli("deliveries", "list", "--since", "1h", "--json")).out)) == len(rows)
    table = (await acli("deliveries", "list")).out
    assert "issues.labeled" in table and "OUTCOME" in table
    assert (await acli("deliveries", "list", "--limit", "1", "--json")).out.count('"delivery_id"') == 1
    bad = await acli("deliveries", "list", "--since", "yesterday")
    assert bad.code == 2 and bad.err.count("\n") == 1


async def test_a_database_without_tables_is_a_one_line_error(acli, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/empty.sqlite3")
    result = await acli("sessions", "list")
    assert result.code == 1 and "Traceback" not in result.err
    assert result.last_error_line == ("component-bot: cannot read the database: no such table: sessions "
                                      "(has `component-bot migrate` run?)")


def test_transcripts_are_bounded_and_tolerant():
    transcript = [{"type": "stop", "reason": "x"}]
    assert decode_transcript(compress_transcript(transcript)) == transcript
    assert decode_transcript(b"not zlib") == [{"type": "note", "text": "transcript unreadable"}]
