"""Initialize: read the repository's config, resolve the component from the request, check that
its design and test files exist, record the trusted inputs at the base, and name the session's
branch (reusing it when it exists; otherwise the first commit creates it) — all from one query.

A monorepo's session has a working directory (the issue's `Working directory`, else the config's
`working_directory`): the instruction files are read in every folder on the way up from it, in
the same query. Only a working directory that comes from the config, known once the config is
read, costs a second query, at the same commit, for its folder's instruction files."""

from __future__ import annotations

import dataclasses
import posixpath

from bot.core.component import Component, ComponentNotSpecified, parse_component
from bot.core.inputs import SpecText, TrustedInputs, kept
from bot.core.paths import is_within
from bot.core.repo_config import CONFIG_PATH, ConfigFileError, RepoConfig, parse_repo_config
from bot.core.results import InitializeResult
from bot.core.spec import instruction_order, instruction_paths
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
    asked = component.working_directory  # None: the issue names none, the config's applies
    base = await ctx.repository.read_base(paths_to_read(component, asked or ""), branch=likely_branch,
                                          folders=[asked] if asked else [])
    try:
        config = parse_repo_config(_text_of(base, CONFIG_PATH))
    except ConfigFileError as exc:
        raise StepFailure("fatal", f"{exc}\n\nFix `{CONFIG_PATH}` on `{base.default_branch}`, then comment `/retry`.")
    directory = asked if asked is not None else config.working_directory
    if directory and asked is None:
        base = await with_folder(ctx, base, component, directory)
    check_found(base, component, directory, named_by="the issue" if asked is not None else f"`{CONFIG_PATH}`")
    inputs = trusted_inputs_of(base, component.design_path, component.test_path, directory)
    await ctx.save(component_name=component.name, design_path=component.design_path, test_path=component.test_path,
                   base_sha=base.sha, repository_node_id=ctx.session.repository_node_id or base.repository_id)
    branch = ctx.session.branch or f"{config.branch_prefix}{suffix}"
    if ctx.session.branch is None:
        await ctx.save(branch=branch)  # recorded before anything is written, so a retry keeps it
    head_sha, tree_sha = await existing_branch(ctx, base, branch, likely_branch) or (base.sha, base.tree_sha)
    return StepOutcome(
        InitializeResult(default_branch=base.default_branch, base_sha=base.sha, branch=branch,
                         component={"name": component.name, "design_path": component.design_path,
                                    "test_path": component.test_path, "working_directory": directory},
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


def trusted_paths(design_path: str, test_path: str, working_directory: str = "") -> list[str]:
    return [CONFIG_PATH, *instruction_paths(working_directory), design_path, test_path]


def paths_to_read(component: Component, directory: str) -> list[str]:
    """The trusted paths, and where the spec files would be if the issue had given them relative to
    the working directory (read only to say so when they are missing)."""
    return [*trusted_paths(component.design_path, component.test_path, directory),
            *misplaced(component, directory)]


def misplaced(component: Component, directory: str) -> list[str]:
    return [posixpath.join(directory, path) for path in (component.design_path, component.test_path)
            if directory and not is_within(path, directory)]


async def with_folder(ctx: StepContext, base: BaseCommit, component: Component, directory: str) -> BaseCommit:
    """The base, with what the first query could not ask about a working directory named only by the
    config: its folder and its instruction files, read at the same commit."""
    asked = set(paths_to_read(component, ""))
    more = [path for path in paths_to_read(component, directory) if path not in asked]
    found = await ctx.repository.read_base(more, rev=base.sha, folders=[directory])
    return dataclasses.replace(base, files={**base.files, **found.files}, folders=base.folders | found.folders)


def check_found(base: BaseCommit, component: Component, directory: str, named_by: str) -> None:
    """The working directory and both spec files are there at the base; or a person is asked."""
    at = f"on `{base.default_branch}` (at {base.sha[:7]})"
    if directory and directory not in base.folders:
        raise StepFailure("needs_human", f"The working directory `{directory}` (named by {named_by}) is not a folder "
                                         f"{at}. Correct it, or push the folder, then comment `/retry`.")
    missing = [f"the {kind} file `{path}`" for kind, path in
               (("design", component.design_path), ("test", component.test_path)) if path not in base.files]
    if missing:
        hints = [f" `{path}` exists: paths in the issue are from the repository's root, not the working directory."
                 for path in misplaced(component, directory) if path in base.files]
        raise StepFailure(
            "needs_human",
            f"I could not find {' or '.join(missing)} {at}.{''.join(hints)} "
            "Push the file, or correct the path in the issue, then comment `/retry`.",
        )


def _text_of(base: BaseCommit, path: str) -> str | None:
    found = base.files.get(path)
    return found.text if found is not None else None


def trusted_inputs_of(base: BaseCommit, design_path: str, test_path: str,
                      working_directory: str = "") -> TrustedInputs:
    """The spec and the instructions at the base commit: what every step of the session relies on.
    The instructions are every AGENTS.md and CLAUDE.md on the way up from the working directory,
    root first, the nearest last."""
    instructions = {path: kept(text) for path in sorted(instruction_paths(working_directory), key=instruction_order)
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
