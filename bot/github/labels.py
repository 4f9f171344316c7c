"""State labels on the issue: `component:in-progress`, `component:needs-human`, `component:ready`,
`component:implemented`. Created in the repository when missing; exactly one at a time."""

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


async def ensure_label(gh: GitHub, owner: str, repo: str, name: str) -> None:
    """Create the label with its colour and description; GitHub answers 422 when it exists already."""
    color, description = STATE_LABELS.get(name, ("ededed", ""))
    await unless_exists(gh.rest.issues.async_create_label(owner, repo, data={"name": name, "color": color,
                                                                             "description": description}))


async def set_state_label(gh: GitHub, owner: str, repo: str, issue_number: int, name: str | None,
                          current: list[str] | None = None) -> None:
    """Make `name` the issue's only state label (None: remove them all). `current`: its labels now
    (read from the issue when not given)."""
    if current is None:
        issue = (await gh.rest.issues.async_get(owner, repo, issue_number)).json()
        current = [label["name"] for label in issue.get("labels") or []]
    if name is not None and name not in current:
        await ensure_label(gh, owner, repo, name)
        await gh.rest.issues.async_add_labels(owner, repo, issue_number, data={"labels": [name]})
    for stale in (label for label in current if label in STATE_LABELS and label != name):
        try:
            await gh.rest.issues.async_remove_label(owner, repo, issue_number, stale)
        except RequestFailed as exc:
            if exc.response.status_code != 404:
                raise
