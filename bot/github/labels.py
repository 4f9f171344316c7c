"""State labels on the issue: `component:in-progress`, `component:needs-human`, `component:ready`,
`component:implemented`. Created in the repository once (remembered by the process), exactly one
on the issue at a time, changed without reading the issue first."""

from __future__ import annotations

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.github.errors import unless_exists

STATE_LABELS = {
    "component:in-progress": ("fbca04", "component-bot is implementing this component"),
    "component:needs-human": ("d93f0b", "component-bot needs a maintainer to act"),
    "component:ready": ("0e8a16", "component-bot's pull request is ready for review"),
    "component:implemented": ("5319e7", "the component's pull request was merged"),
}


async def ensure_label(gh: GitHub, owner: str, repo: str, name: str, known: set[tuple[str, str]]) -> None:
    """Create the label with its colour and description, once per repository for this process
    (`known`); GitHub answers 422 when it exists already."""
    if (f"{owner}/{repo}".lower(), name) in known:
        return
    color, description = STATE_LABELS.get(name, ("ededed", ""))
    await unless_exists(gh.rest.issues.async_create_label(owner, repo, data={"name": name, "color": color,
                                                                             "description": description}))
    known.add((f"{owner}/{repo}".lower(), name))


async def set_state_label(gh: GitHub, owner: str, repo: str, issue_number: int, name: str | None,
                          known: set[tuple[str, str]]) -> None:
    """Make `name` the issue's only state label (None: remove them all). Adding answers with the
    issue's labels, so the stale ones are known without a read; with nothing to add, the issue
    is read once."""
    if name is not None:
        await ensure_label(gh, owner, repo, name, known)
        try:
            added = await gh.rest.issues.async_add_labels(owner, repo, issue_number, data={"labels": [name]})
        except RequestFailed as exc:
            if exc.response.status_code != 404:
                raise
            known.discard((f"{owner}/{repo}".lower(), name))  # deleted since: create it again next time
            raise
        current = [label["name"] for label in added.json()]
    else:
        issue = (await gh.rest.issues.async_get(owner, repo, issue_number)).json()
        current = [label["name"] for label in issue.get("labels") or []]
    for stale in (label for label in current if label in STATE_LABELS and label != name):
        try:
            await gh.rest.issues.async_remove_label(owner, repo, issue_number, stale)
        except RequestFailed as exc:
            if exc.response.status_code != 404:
                raise
