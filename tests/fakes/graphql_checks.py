"""Check runs in the fake GitHub's GraphQL API: the ``CheckRun`` object and the ``createCheckRun``
and ``updateCheckRun`` mutations (see graphql_resolvers.py and graphql_mutations.py).

Values agree with the REST shape (shapes.check_run): the same id, node id and URLs. GraphQL's
enums are REST's values in upper case. The mutations make the REST handlers' checks (only a
GitHub App's installation token writes check runs, and only the app that made a run changes it)
and change the state through the same FakeGitHub methods, so ``check_run`` (and ``check_suite``,
``workflow_run``) webhooks follow as they do for REST.
"""

from __future__ import annotations

from typing import Any

from . import shapes
from .graphql_mutations import mutation, repository_target
from .graphql_resolvers import Context, Obj, fields, find_node, github_error, not_found
from .graphql_schema import NOT_IMPLEMENTED
from .state import App, CheckRun, Repo, node_id, parse_time

STATUSES = {"QUEUED": "queued", "IN_PROGRESS": "in_progress", "COMPLETED": "completed"}
CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")
INPUTS = ("name", "status", "conclusion", "output", "detailsUrl", "externalId", "startedAt", "completedAt")


# -- the object -------------------------------------------------------------------------------
def run_url(repo: Repo, run: CheckRun) -> str:
    return f"{shapes.WEB}/{repo.full_name}/runs/{run.id}"


fields(
    "CheckRun",
    id=lambda obj, ctx, args: node_id("CR", obj.value.id),
    databaseId=lambda obj, ctx, args: obj.value.id,
    name=lambda obj, ctx, args: obj.value.name,
    status=lambda obj, ctx, args: obj.value.status.upper(),
    conclusion=lambda obj, ctx, args: obj.value.conclusion.upper() if obj.value.conclusion else None,
    startedAt=lambda obj, ctx, args: shapes.ts(obj.value.started_at),
    completedAt=lambda obj, ctx, args: shapes.ts(obj.value.completed_at),
    detailsUrl=lambda obj, ctx, args: obj.value.details_url or run_url(obj.repo, obj.value),
    externalId=lambda obj, ctx, args: obj.value.external_id or "",
    title=lambda obj, ctx, args: obj.value.output.get("title"),
    summary=lambda obj, ctx, args: obj.value.output.get("summary"),
    text=lambda obj, ctx, args: obj.value.output.get("text"),
    url=lambda obj, ctx, args: run_url(obj.repo, obj.value),
    permalink=lambda obj, ctx, args: run_url(obj.repo, obj.value),
    resourcePath=lambda obj, ctx, args: run_url(obj.repo, obj.value).removeprefix(shapes.WEB),
    repository=lambda obj, ctx, args: Obj("Repository", obj.repo, obj.repo),
)


# -- the mutations ------------------------------------------------------------------------------
def checks_app(ctx: Context) -> App:
    """Only a GitHub App writes check runs (REST answers other tokens 403 "You must authenticate
    via a GitHub App."; GraphQL answers them FORBIDDEN)."""
    if ctx.via_app is None:
        raise github_error("FORBIDDEN", "Resource not accessible by personal access token")
    return ctx.via_app


def changes(data: dict[str, Any]) -> dict[str, Any]:
    """The REST body the input amounts to (``output`` apart); an error when REST would refuse it."""
    out: dict[str, Any] = {}
    for graphql, key in (("name", "name"), ("detailsUrl", "details_url"), ("externalId", "external_id")):
        if data.get(graphql) is not None:
            out[key] = data[graphql]
    for graphql, key in (("startedAt", "started_at"), ("completedAt", "completed_at")):
        if data.get(graphql) is not None:
            try:
                parse_time(data[graphql])
            except ValueError:
                raise github_error("UNPROCESSABLE", f"{graphql} is not a valid ISO 8601 time") from None
            out[key] = data[graphql]
    if data.get("status") is not None:
        if data["status"] not in STATUSES:
            raise github_error(
                "UNPROCESSABLE", "Only GitHub Actions can set a status of waiting, pending, or requested."
            )
        out["status"] = STATUSES[data["status"]]
    if data.get("conclusion") is not None:
        if data["conclusion"].lower() not in CONCLUSIONS:
            raise github_error("UNPROCESSABLE", "Conclusion is not included in the list")
        out["conclusion"] = data["conclusion"].lower()
    if out.get("status") == "completed" and "conclusion" not in out:
        raise github_error("UNPROCESSABLE", "Conclusion can't be blank")
    return out


def output_of(data: dict[str, Any], name: str) -> dict[str, Any]:
    output = dict(data.get("output") or {})
    unsupported = sorted(k for k, v in output.items() if k not in ("title", "summary", "text") and v is not None)
    if unsupported:
        raise github_error(
            NOT_IMPLEMENTED, f"The fake GitHub does not implement {name}(input: {{output: {{{unsupported[0]}}}}})"
        )
    return {k: v for k, v in output.items() if k in ("title", "summary", "text")}


@mutation("createCheckRun", ("repositoryId", "headSha", *INPUTS), "checkRun")
def create_check_run(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    repo = repository_target(ctx, data["repositoryId"], "createCheckRun", role="read")
    app = checks_app(ctx)
    if data["headSha"] not in repo.git.commits:
        raise github_error("UNPROCESSABLE", f"No commit found for SHA: {data['headSha']}")
    body = changes(data)
    output = output_of(data, "createCheckRun")
    conclusion = body.get("conclusion")
    status = "completed" if conclusion else body.get("status", "queued")
    run = ctx.fake.create_check_run(
        repo,
        app,
        data["headSha"],
        data["name"],
        status,
        conclusion,
        output,
        [],
        sender=app.bot,
        details_url=body.get("details_url"),
        external_id=body.get("external_id"),
        started_at=parse_time(body.get("started_at")),
        completed_at=parse_time(body.get("completed_at")),
    )
    return {"checkRun": Obj("CheckRun", repo, run)}


@mutation("updateCheckRun", ("repositoryId", "checkRunId", *INPUTS), "checkRun")
def update_check_run(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    repo = repository_target(ctx, data["repositoryId"], "updateCheckRun", role="read")
    app = checks_app(ctx)
    found = find_node(ctx, data["checkRunId"])
    if found is None or found.type != "CheckRun" or found.repo is not repo:
        raise not_found(f"Could not resolve to a node with the global id of '{data['checkRunId']}'")
    run: CheckRun = found.value
    if run.app.id != app.id:
        raise github_error(
            "FORBIDDEN",
            f"Invalid app_id `{app.id}` - check run can only be modified by the GitHub App that created it.",
        )
    body = changes(data)
    output = output_of(data, "updateCheckRun")
    run.output.update(output)
    ctx.fake.update_check_run(repo, run, body, sender=app.bot)
    return {"checkRun": Obj("CheckRun", repo, run)}
