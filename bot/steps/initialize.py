"""Initialize: read the repository's config, resolve the component from the request, check that
its design and test files exist, record the trusted inputs at the base, and name the session's
branch (reusing it when it exists; otherwise the first commit creates it) — all from one query."""

from __future__ import annotations

from bot.core.component import ComponentNotSpecified, parse_component
from bot.core.inputs import SpecText, TrustedInputs, kept
from bot.core.repo_config import CONFIG_PATH, ConfigFileError, RepoConfig, parse_repo_config
from bot.core.results import InitializeResult
from bot.core.spec import INSTRUCTION_FILES
from bot.github.base import BaseCommit
from bot.steps import StepContext, StepFailure, StepOutcome


async def run(ctx: StepContext) -> StepOutcome:
    try:
        component = parse_component((await request_of(ctx)).get("body"))
    except ComponentNotSpecified as exc:
        raise StepFailure("needs_human", str(exc))
    suffix = f"{ctx.session.issue_number}-{component.slug}"
    if ctx.session.trigger == "fresh":  # `/retry fresh`: a new branch, never the one the last attempt left
        suffix += f"-{ctx.session.id}"
    likely_branch = ctx.session.branch or f"{RepoConfig().branch_prefix}{suffix}"
    base = await ctx.repository.read_base(trusted_paths(component.design_path, component.test_path),
                                          branch=likely_branch)
    try:
        config = parse_repo_config(_text_of(base, CONFIG_PATH))
    except ConfigFileError as exc:
        raise StepFailure("fatal", f"{exc}\n\nFix `{CONFIG_PATH}` on `{base.default_branch}`, then comment `/retry`.")
    missing = [f"the {kind} file `{path}`" for kind, path in
               (("design", component.design_path), ("test", component.test_path)) if path not in base.files]
    if missing:
        raise StepFailure(
            "needs_human",
            f"I could not find {' or '.join(missing)} on `{base.default_branch}` (at {base.sha[:7]}). "
            "Push the file, or correct the path in the issue, then comment `/retry`.",
        )
    inputs = trusted_inputs_of(base, component.design_path, component.test_path)
    await ctx.save(component_name=component.name, design_path=component.design_path, test_path=component.test_path,
                   base_sha=base.sha, repository_node_id=ctx.session.repository_node_id or base.repository_id)
    branch = ctx.session.branch or f"{config.branch_prefix}{suffix}"
    if ctx.session.branch is None:
        await ctx.save(branch=branch)  # recorded before anything is written, so a retry keeps it
    head_sha, tree_sha = await existing_branch(ctx, base, branch, likely_branch) or (base.sha, base.tree_sha)
    return StepOutcome(
        InitializeResult(default_branch=base.default_branch, base_sha=base.sha, branch=branch,
                         component={"name": component.name, "design_path": component.design_path,
                                    "test_path": component.test_path},
                         config=config.model_dump(mode="json"), inputs=inputs.as_dict(),
                         note=f"branch {branch}"),
        session_updates={"branch": branch, "head_sha": head_sha, "head_tree_sha": tree_sha},
    )


async def existing_branch(ctx: StepContext, base: BaseCommit, branch: str, asked: str) -> tuple[str, str | None] | None:
    """Where the session's branch already is (an earlier session on the same issue left it), if
    anywhere: the base query asked about the likely name; another prefix is looked up here. A
    branch that does not exist yet is made by the first commit, in the same request."""
    if branch == asked:
        return base.branch
    head = await ctx.repository.branch_head(branch)
    return (head, None) if head else None


def trusted_paths(design_path: str, test_path: str) -> list[str]:
    return [CONFIG_PATH, *INSTRUCTION_FILES, design_path, test_path]


def _text_of(base: BaseCommit, path: str) -> str | None:
    found = base.files.get(path)
    return found.text if found is not None else None


def trusted_inputs_of(base: BaseCommit, design_path: str, test_path: str) -> TrustedInputs:
    """The spec and the instructions at the base commit: what every step of the session relies on."""
    instructions = {path: kept(text) for path in INSTRUCTION_FILES
                    if (text := _text_of(base, path)) and text.strip()}
    return TrustedInputs(base.sha, _spec_text(base, design_path), _spec_text(base, test_path), instructions)


def _spec_text(base: BaseCommit, path: str) -> SpecText:
    found = base.files.get(path)
    if found is None:
        return SpecText(path, None, None, "not in the repository at the base commit")
    if found.text is None:
        return SpecText(path, found.oid, None, f"binary, {found.size:,} bytes: it cannot be shown here or edited")
    return SpecText(path, found.oid, kept(found.text))


async def request_of(ctx: StepContext) -> dict:
    """The issue as a writer asked for the work (recorded at the trigger); the live issue only for
    a session recorded before requests were."""
    if ctx.session.request is not None:
        return ctx.session.request
    return await ctx.repository.issue(ctx.session.issue_number)
