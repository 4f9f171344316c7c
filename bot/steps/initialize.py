"""Initialize: read the repository's config, resolve the component from the request, check that
its design and test files exist, record the trusted inputs at the base, and create (or reuse)
the session's branch."""

from __future__ import annotations

from bot.core.component import ComponentNotSpecified, parse_component
from bot.core.inputs import SpecText, TrustedInputs, kept
from bot.core.repo_config import CONFIG_PATH, ConfigFileError, parse_repo_config
from bot.core.results import InitializeResult
from bot.core.spec import INSTRUCTION_FILES
from bot.github.files import NotText
from bot.github.paths import PathRefused, normalize_path
from bot.github.workspace import FileNotInBranch, Workspace
from bot.steps import StepContext, StepFailure, StepOutcome


async def run(ctx: StepContext) -> StepOutcome:
    default_branch = await ctx.repository.default_branch()
    base = await ctx.repository.workspace(default_branch).open()
    try:
        config = parse_repo_config(await base.read_if_exists(CONFIG_PATH))
    except ConfigFileError as exc:
        raise StepFailure("fatal", f"{exc}\n\nFix `{CONFIG_PATH}` on `{default_branch}`, then comment `/retry`.")
    try:
        component = parse_component((await request_of(ctx)).get("body"))
    except ComponentNotSpecified as exc:
        raise StepFailure("needs_human", str(exc))
    missing = [f"the {kind} file `{path}`" for kind, path in
               (("design", component.design_path), ("test", component.test_path)) if not _exists(base, path)]
    if missing:
        raise StepFailure(
            "needs_human",
            f"I could not find {' or '.join(missing)} on `{default_branch}` (at {base.head_sha[:7]}). "
            "Push the file, or correct the path in the issue, then comment `/retry`.",
        )
    inputs = await read_trusted_inputs(base, component.design_path, component.test_path)
    await ctx.save(component_name=component.name, design_path=component.design_path, test_path=component.test_path,
                   base_sha=base.head_sha)
    branch = ctx.session.branch or f"{config.branch_prefix}{ctx.session.issue_number}-{component.slug}"
    if ctx.session.branch is None:
        await ctx.save(branch=branch)  # recorded before it is created, so a retry reuses it
    head_sha = await ctx.repository.ensure_branch(branch, base.head_sha)
    return StepOutcome(
        InitializeResult(default_branch=default_branch, base_sha=base.head_sha, branch=branch,
                         component={"name": component.name, "design_path": component.design_path,
                                    "test_path": component.test_path},
                         config=config.model_dump(mode="json"), inputs=inputs.as_dict(), note=f"branch {branch}"),
        session_updates={"branch": branch, "head_sha": head_sha},
    )


async def read_trusted_inputs(base: Workspace, design_path: str, test_path: str) -> TrustedInputs:
    """The spec and the instructions at the base commit: what every step of the session relies on."""
    instructions = {}
    for path in INSTRUCTION_FILES:
        text = await base.read_if_exists(path)
        if text and text.strip():
            instructions[path] = kept(text)
    return TrustedInputs(base.head_sha, await spec_text(base, design_path), await spec_text(base, test_path),
                         instructions)


async def spec_text(base: Workspace, path: str) -> SpecText:
    sha = base.blob_sha(path)
    try:
        return SpecText(path, sha, kept(await base.read(path)))
    except NotText as exc:
        return SpecText(path, sha, None, f"{exc.reason}, {exc.size:,} bytes: it cannot be shown here or edited")
    except FileNotInBranch:
        return SpecText(path, None, None, "not in the repository at the base commit")


async def request_of(ctx: StepContext) -> dict:
    """The issue as a writer asked for the work (recorded at the trigger); the live issue only for
    a session recorded before requests were."""
    if ctx.session.request is not None:
        return ctx.session.request
    return await ctx.repository.issue(ctx.session.issue_number)


def _exists(workspace: Workspace, path: str) -> bool:
    try:
        return workspace.exists(normalize_path(path))
    except PathRefused:
        return False
