"""RunTests: read the check runs on the session's head commit and say whether they are pending,
passed or failed (with what failed), or that they never came."""

from __future__ import annotations

import fnmatch
from datetime import datetime
from typing import Any

from githubkit import GitHub

from bot.checks.report import TestReport, describe_failure
from bot.orchestrator import Signal, Step
from bot.sessions.models import Interaction, Session
from bot.steps import StepContext, StepOutcome

PASSING = frozenset({"success", "neutral", "skipped"})
WORKFLOW_TEMPLATE_HINT = (
    "Does the repository have a GitHub Actions workflow that runs the tests on pushes to this branch? "
    "Copy component-bot's `templates/workflows/component-tests.yml` into `.github/workflows/`."
)


async def run(ctx: StepContext) -> StepOutcome:
    sha = ctx.session.head_sha
    runs = await list_check_runs(ctx, sha)
    counted = counted_checks(runs, ctx.config.required_checks, ctx.settings.app_id)
    waited = (ctx.now() - waiting_since(ctx.session, ctx.interactions)).total_seconds()
    missing = missing_required(counted, ctx.config.required_checks)

    if not counted:
        if waited > ctx.config.checks_appear_timeout:
            return _outcome("timed_out", sha, reason=f"no check run appeared on {sha[:7]} within "
                            f"{_minutes(ctx.config.checks_appear_timeout)}. {WORKFLOW_TEMPLATE_HINT}")
        return _outcome("pending", sha, reason=f"waiting for check runs to appear on {sha[:7]}")
    unfinished = [r["name"] for r in counted if r.get("status") != "completed"] + missing
    if unfinished:
        if waited > ctx.config.checks_timeout:
            return _outcome("timed_out", sha, reason=f"the checks on {sha[:7]} did not finish within "
                            f"{_minutes(ctx.config.checks_timeout)}: still waiting for {', '.join(unfinished)}")
        return _outcome("pending", sha, reason=f"waiting for {len(unfinished)} of {len(counted) + len(missing)} "
                        f"check(s) on {sha[:7]}: {', '.join(unfinished)}")
    checks = [{"name": r["name"], "conclusion": r.get("conclusion"), "passed": r.get("conclusion") in PASSING,
               "url": r.get("html_url"), "id": r["id"]} for r in counted]
    failed = [r for r in counted if r.get("conclusion") not in PASSING]
    if not failed:
        return _outcome("passed", sha, checks=checks)
    limit = ctx.config.report_max_bytes
    described = [await describe_failure(ctx.gh, ctx.owner, ctx.repo, r, limit) for r in failed]
    on_base = await failing_on_default_branch(ctx, {f.name for f in described})
    pre_existing = {f.name for f in described if f.name in on_base and not f.touches(ctx.session.test_path)}
    ours = [f for f in described if f.name not in pre_existing]
    if not ours:
        return _outcome("passed", sha, checks=checks, pre_existing=sorted(pre_existing),
                        note=f"only checks that also fail on the default branch failed: {', '.join(sorted(pre_existing))}")
    report = TestReport(ours, sorted(pre_existing))
    return _outcome("failed", sha, checks=checks, failed_checks=[f.name for f in ours],
                    failing_tests=report.failing_tests[:50], pre_existing=report.pre_existing,
                    report=report.text(limit), signature=report.signature)


def _outcome(state: str, sha: str, **result: Any) -> StepOutcome:
    return StepOutcome(result={"state": state, "head_sha": sha, **result})


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"


async def list_check_runs(ctx: StepContext, sha: str) -> list[dict[str, Any]]:
    return await check_runs_on(ctx.gh, ctx.owner, ctx.repo, sha)


async def check_runs_on(gh: GitHub, owner: str, repo: str, sha: str) -> list[dict[str, Any]]:
    return [run async for run in gh.rest.paginate(
        gh.rest.checks.async_list_for_ref, map_func=lambda r: r.json()["check_runs"],
        owner=owner, repo=repo, ref=sha, filter_="latest", per_page=100,
    )]


def counted_checks(runs: list[dict[str, Any]], required: list[str], own_app_id: int | None) -> list[dict[str, Any]]:
    """The check runs that decide: the required ones if configured, else all but the bot's own;
    of re-runs with the same name, only the latest."""
    latest: dict[str, dict[str, Any]] = {}
    for run in runs:
        if own_app_id is not None and (run.get("app") or {}).get("id") == own_app_id:
            continue
        if required and not any(fnmatch.fnmatchcase(run["name"], pattern) for pattern in required):
            continue
        if run["name"] not in latest or run["id"] > latest[run["name"]]["id"]:
            latest[run["name"]] = run
    return sorted(latest.values(), key=lambda r: r["name"])


def missing_required(counted: list[dict[str, Any]], required: list[str]) -> list[str]:
    """Required names (not globs) with no check run yet."""
    names = {r["name"] for r in counted}
    return [p for p in required if not any(ch in p for ch in "*?[") and p not in names]


def waiting_since(session: Session, interactions: list[Interaction]) -> datetime:
    """When the head commit was made: the last writing step's success, or a human push."""
    for interaction in reversed(interactions):
        if interaction.status == "succeeded" and interaction.commit_sha:
            return interaction.created_at
        if interaction.status == "received" and interaction.step == Signal.human_push.value:
            return interaction.created_at
        if interaction.step == Step.Initialize.value and interaction.status == "succeeded":
            return interaction.created_at
    return session.created_at


async def failing_on_default_branch(ctx: StepContext, names: set[str]) -> set[str]:
    """Of `names`, the checks whose latest completed run on the default branch's head failed too.

    Such a check is not blamed on the session, unless one of its failing tests is in the
    component's own test file: those fail on the default branch by design (the tests are written
    before the implementation) and are exactly what the session must make pass."""
    default_branch = ctx.last_result(Step.Initialize.value).get("default_branch")
    if not default_branch:
        return set()
    ref = await ctx.gh.rest.git.async_get_ref(ctx.owner, ctx.repo, f"heads/{default_branch}")
    runs = await list_check_runs(ctx, ref.json()["object"]["sha"])
    return {r["name"] for r in counted_checks(runs, [], ctx.settings.app_id)
            if r["name"] in names and r.get("status") == "completed" and r.get("conclusion") not in PASSING}
