"""The `component-bot` check run on a commit: found, created and updated through the Checks API.
What it says is the engine's business (bot/engine/publishing.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from githubkit import GitHub

from bot.github.mutations import Mutation

CHECK_NAME = "component-bot"
MAX_TEXT = 60_000  # GitHub caps output.summary and output.text at 65535 characters


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def find_check_run(gh: GitHub, owner: str, repo: str, sha: str, app_id: int) -> dict[str, Any] | None:
    """Our check run on the commit (the newest, if a retry made two)."""
    response = await gh.rest.checks.async_list_for_ref(owner, repo, sha, check_name=CHECK_NAME, app_id=app_id,
                                                       per_page=10)
    runs = response.json().get("check_runs") or []
    return max(runs, key=lambda r: r["id"]) if runs else None


async def create_check_run(gh: GitHub, owner: str, repo: str, sha: str, app_id: int, body: dict[str, Any], *,
                           may_exist: bool) -> tuple[int, str | None]:
    """Our check run on `sha`, created (or, when an earlier attempt may have created it, found and
    updated): its id and node id."""
    existing = await find_check_run(gh, owner, repo, sha, app_id) if may_exist else None
    if existing is not None:
        await update_check_run(gh, owner, repo, existing["id"], body)
        return existing["id"], existing.get("node_id")
    created = (await gh.rest.checks.async_create(owner, repo, data={**body, "name": CHECK_NAME, "head_sha": sha,
                                                                    "started_at": now_iso()})).json()
    return created["id"], created.get("node_id")


async def update_check_run(gh: GitHub, owner: str, repo: str, run_id: int, body: dict[str, Any]) -> None:
    await gh.rest.checks.async_update(owner, repo, run_id, data={**body, "name": CHECK_NAME})


async def complete_superseded(gh: GitHub, owner: str, repo: str, run_id: int, new_sha: str) -> None:
    """The check run of a commit the session moved past: completed, neutral, pointing to the new one."""
    await gh.rest.checks.async_update(owner, repo, run_id, data=superseded(new_sha))


# ----- the same, as GraphQL mutations (to send with the session's other publishing fields)

GRAPHQL_FIELDS = {"status": "status", "conclusion": "conclusion", "details_url": "detailsUrl",
                  "external_id": "externalId", "started_at": "startedAt", "completed_at": "completedAt"}


def graphql_input(body: dict[str, Any]) -> dict[str, Any]:
    """A REST check-run body as GraphQL input fields (enums upper-case, names camel-case)."""
    fields: dict[str, Any] = {}
    for rest, graphql in GRAPHQL_FIELDS.items():
        if body.get(rest) is not None:
            value = body[rest]
            fields[graphql] = value.upper() if rest in ("status", "conclusion") else value
    if body.get("output"):
        fields["output"] = {k: v for k, v in body["output"].items() if k in ("title", "summary", "text")}
    return fields


def create_mutation(alias: str, repository_id: str, sha: str, body: dict[str, Any]) -> Mutation:
    return Mutation(alias, "createCheckRun", {"repositoryId": repository_id, "headSha": sha, "name": CHECK_NAME,
                                              "startedAt": now_iso(), **graphql_input(body)},
                    "checkRun { id databaseId }")


def update_mutation(alias: str, repository_id: str, run_node_id: str, body: dict[str, Any]) -> Mutation:
    return Mutation(alias, "updateCheckRun", {"repositoryId": repository_id, "checkRunId": run_node_id,
                                              **graphql_input(body)}, "checkRun { id }")


def superseded(new_sha: str) -> dict[str, Any]:
    """The body of the check run of a commit the session moved past."""
    return {"status": "completed", "conclusion": "neutral", "completed_at": now_iso(),
            "output": {"title": f"Superseded by {new_sha[:7]}", "summary": f"component-bot continued on {new_sha}."}}
