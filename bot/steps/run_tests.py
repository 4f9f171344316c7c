"""RunTests: read the check runs on the session's head commit and say whether they are pending,
passed or failed (with what failed, and whose failure each one is), that the component's own
tests did not run, or that the checks never came."""

from __future__ import annotations

from typing import Any

from bot.core.attribution import CheckOutcome, attribute
from bot.core.checks import counted_checks, missing_required, passed
from bot.core.results import RunTestsResult
from bot.core.spec import defined_test_names, is_component_test
from bot.steps import StepContext, StepOutcome
from bot.steps.editing import trusted_inputs
from bot.steps.test_report import CheckFailure, TestReport, describe_failure, listed_tests

NOT_RUN = ("the checks passed, but their logs list tests and none of them is in `{test_path}`: the workflow does "
           "not run the component's tests. Make it run them (component-bot's `templates/workflows/"
           "component-tests.yml` shows how), then comment `/retry`.")
WORKFLOW_TEMPLATE_HINT = (
    "Does the repository have a GitHub Actions workflow that runs the tests on pushes to this branch? "
    "Copy component-bot's `templates/workflows/component-tests.yml` into `.github/workflows/`."
)


async def run(ctx: StepContext) -> StepOutcome:
    sha, config, required = ctx.session.head_sha, ctx.config, ctx.record.required_checks
    if ctx.record.committed_just_now(sha, ctx.now()):
        return _outcome("pending", sha, reason=f"waiting for the checks on {sha[:7]} to start")
    counted = counted_checks(await ctx.repository.check_runs(sha), required, ctx.settings.app_id)
    waited = (ctx.now() - ctx.record.waiting_since(ctx.session.created_at)).total_seconds()
    missing = missing_required(counted, required)
    if not counted:
        if waited > config.checks_appear_timeout:
            return _outcome("timed_out", sha, reason=f"no check run appeared on {sha[:7]} within "
                            f"{_minutes(config.checks_appear_timeout)}. {WORKFLOW_TEMPLATE_HINT}")
        return _outcome("pending", sha, reason=f"waiting for check runs to appear on {sha[:7]}")
    unfinished = [r["name"] for r in counted if r.get("status") != "completed"] + missing
    if unfinished:
        if waited > config.checks_timeout:
            return _outcome("timed_out", sha, reason=f"the checks on {sha[:7]} did not finish within "
                            f"{_minutes(config.checks_timeout)}: still waiting for {', '.join(unfinished)}")
        return _outcome("pending", sha, reason=f"waiting for {len(unfinished)} of {len(counted) + len(missing)} "
                        f"check(s) on {sha[:7]}: {', '.join(unfinished)}")
    return await judge(ctx, counted)


async def judge(ctx: StepContext, counted: list[dict[str, Any]]) -> StepOutcome:
    """Every check finished: passed, failed (counted against the session), or not run."""
    sha, limit = ctx.session.head_sha, ctx.config.report_max_bytes
    checks = [{"name": r["name"], "conclusion": r.get("conclusion"), "passed": passed(r), "url": r.get("html_url"),
               "id": r["id"]} for r in counted]
    names = defined_test_names((await trusted_inputs(ctx)).tests.text or "")
    described = [await describe_failure(ctx.repository, r, limit) for r in counted if not passed(r)]
    await attribute_failures(ctx, described, names)
    report = TestReport([f for f in described if f.verdict.counted], [f for f in described if not f.verdict.counted])
    excused = [f.name for f in report.excused]
    if report.counted:
        return _outcome("failed", sha, checks=checks, failed_checks=[f.name for f in report.counted],
                        failing_tests=report.failing_tests[:50], pre_existing=excused, verdicts=report.verdicts(),
                        report=report.text(limit), signature=report.signature)
    ran = await component_tests_ran(ctx, [r for r in counted if passed(r)], described, names)
    if ran is False:
        return _outcome("not_run", sha, checks=checks, reason=NOT_RUN.format(test_path=ctx.session.test_path))
    note = f"only checks that also fail on the base failed: {', '.join(excused)}" if excused else None
    return _outcome("passed", sha, checks=checks, pre_existing=excused, verdicts=report.verdicts(),
                    tests_confirmed=ran, note=note)


def _outcome(state: str, sha: str, **result: Any) -> StepOutcome:
    return StepOutcome(RunTestsResult(state=state, head_sha=sha, **result))


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"


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
    runs = [r for r in counted_checks(await ctx.repository.check_runs(base_sha), [], ctx.settings.app_id)
            if r["name"] in names and r.get("status") == "completed" and not passed(r)]
    limit = ctx.config.report_max_bytes
    return {r["name"]: (await describe_failure(ctx.repository, r, limit)).outcome for r in runs}


async def component_tests_ran(ctx: StepContext, passing: list[dict[str, Any]], failed: list[CheckFailure],
                              names: frozenset[str]) -> bool | None:
    """Whether the jobs' logs show the component's own tests running: True, False (some log lists
    tests, and none of them is the component's), or None (no log lists test ids: cannot tell)."""
    listed = [test for f in failed for test in f.listed]
    for run in passing:
        listed += await listed_tests(ctx.repository, run)
    if not listed:
        return None
    return any(is_component_test(t.test_id, t.file, ctx.session.test_path, names) for t in listed)
