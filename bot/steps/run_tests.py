"""RunTests: read the check runs on the session's head commit and say whether they are pending,
passed or failed (with what failed), or that they never came."""

from __future__ import annotations

import fnmatch
from datetime import datetime
from typing import Any

from githubkit import GitHub

from bot.steps.test_report import CheckFailure, TestReport, describe_failure, listed_tests
from bot.core.attribution import CheckOutcome, attribute
from bot.core.spec import defined_test_names, is_component_test
from bot.core.orchestrator import Signal, Step
from bot.store.models import Interaction, Session
from bot.steps import StepContext, StepOutcome
from bot.steps.editing import trusted_inputs

PASSING = frozenset({"success", "neutral", "skipped"})
NOT_RUN = ("the checks passed, but their logs list tests and none of them is in `{test_path}`: the workflow does "
           "not run the component's tests. Make it run them (component-bot's `templates/workflows/"
           "component-tests.yml` shows how), then comment `/retry`.")
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
    inputs = await trusted_inputs(ctx)
    names = defined_test_names(inputs.tests.text or "")
    failed = [r for r in counted if r.get("conclusion") not in PASSING]
    limit = ctx.config.report_max_bytes
    described = [await describe_failure(ctx.gh, ctx.owner, ctx.repo, r, limit) for r in failed]
    await attribute_failures(ctx, described, names)
    report = TestReport([f for f in described if f.verdict.counted], [f for f in described if not f.verdict.counted])
    if report.counted:
        return _outcome("failed", sha, checks=checks, failed_checks=[f.name for f in report.counted],
                        failing_tests=report.failing_tests[:50], pre_existing=[f.name for f in report.excused],
                        verdicts=report.verdicts(), report=report.text(limit), signature=report.signature)
    ran = await component_tests_ran(ctx, [r for r in counted if r.get("conclusion") in PASSING], described, names)
    if ran is False:
        return _outcome("not_run", sha, checks=checks, reason=NOT_RUN.format(test_path=ctx.session.test_path))
    excused = [f.name for f in report.excused]
    return _outcome("passed", sha, checks=checks, pre_existing=excused, verdicts=report.verdicts(),
                    tests_confirmed=ran, **({"note": f"only checks that also fail on the base failed: "
                                                     f"{', '.join(excused)}"} if excused else {}))


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


async def attribute_failures(ctx: StepContext, described: list[CheckFailure], names: frozenset[str]) -> None:
    """Give each failed check its verdict: counted against the session, or excused as the base's own."""
    base = await failures_on_base(ctx, {f.name for f in described}) if described else {}
    for failure in described:
        failure.verdict = attribute(failure.outcome, base.get(failure.name), base_sha=ctx.session.base_sha or "",
                                    test_path=ctx.session.test_path, test_names=names)


async def failures_on_base(ctx: StepContext, names: set[str]) -> dict[str, CheckOutcome]:
    """What each of these checks failed with on the session's base commit (only those that failed there)."""
    base_sha = ctx.session.base_sha
    if not base_sha:
        return {}
    runs = [r for r in counted_checks(await list_check_runs(ctx, base_sha), [], ctx.settings.app_id)
            if r["name"] in names and r.get("status") == "completed" and r.get("conclusion") not in PASSING]
    limit = ctx.config.report_max_bytes
    return {r["name"]: (await describe_failure(ctx.gh, ctx.owner, ctx.repo, r, limit)).outcome for r in runs}


async def component_tests_ran(ctx: StepContext, passing: list[dict[str, Any]], failed: list[CheckFailure],
                              names: frozenset[str]) -> bool | None:
    """Whether the jobs' logs show the component's own tests running: True, False (some log lists
    tests, and none of them is the component's), or None (no log lists test ids: cannot tell)."""
    listed = [test for f in failed for test in f.listed]
    for run in passing:
        listed += await listed_tests(ctx.gh, ctx.owner, ctx.repo, run)
    if not listed:
        return None
    return any(is_component_test(t.test_id, t.file, ctx.session.test_path, names) for t in listed)
