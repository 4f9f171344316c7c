"""RunTests: read the check runs on the session's head commit and say whether they are pending,
passed or failed (with what failed), or that they never came."""

from __future__ import annotations

import fnmatch
import hashlib
import json
from datetime import datetime
from typing import Any

from bot.orchestrator import Signal, Step
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
    waited = (ctx.now() - waiting_since(ctx)).total_seconds()
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
    failures = [failure_summary(r) for r in failed]
    return _outcome("failed", sha, checks=checks, failed_checks=[r["name"] for r in failed], failures=failures,
                    signature=signature_of(failures))


def _outcome(state: str, sha: str, **result: Any) -> StepOutcome:
    return StepOutcome(result={"state": state, "head_sha": sha, **result})


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"


async def list_check_runs(ctx: StepContext, sha: str) -> list[dict[str, Any]]:
    return [run async for run in ctx.gh.rest.paginate(
        ctx.gh.rest.checks.async_list_for_ref, map_func=lambda r: r.json()["check_runs"],
        owner=ctx.owner, repo=ctx.repo, ref=sha, filter_="latest", per_page=100,
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


def waiting_since(ctx: StepContext) -> datetime:
    """When the head commit was made: the last writing step's success, or a human push."""
    for interaction in reversed(ctx.interactions):
        if interaction.status == "succeeded" and interaction.commit_sha:
            return interaction.created_at
        if interaction.status == "received" and interaction.step == Signal.human_push.value:
            return interaction.created_at
        if interaction.step == Step.Initialize.value and interaction.status == "succeeded":
            return interaction.created_at
    return ctx.session.created_at


def failure_summary(run: dict[str, Any]) -> dict[str, Any]:
    output = run.get("output") or {}
    return {
        "name": run["name"],
        "conclusion": run.get("conclusion"),
        "title": (output.get("title") or "")[:300],
        "summary": (output.get("summary") or "")[:2000],
        "url": run.get("html_url"),
    }


def signature_of(failures: list[dict[str, Any]]) -> str:
    """Stable identity of a set of failures, to tell "the same failures came back" from progress."""
    key = sorted((f["name"], f.get("conclusion"), f.get("title"), f.get("summary")) for f in failures)
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]
