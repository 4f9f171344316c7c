"""State labels on the issue: `component:in-progress`, `component:needs-human`, `component:ready`,
`component:implemented`, exactly one at a time, changed without reading the issue first.

The labels are created in a repository once, with their colour and description, and their
GraphQL ids are remembered by the process (`LabelIds`, filled by whatever query sees them), so
switching the state label is two fields of the session's one publishing request; creating them
rides along in such a request too. A label deleted since is forgotten when GitHub says so, and
created again the next time.
"""

from __future__ import annotations

from githubkit import GitHub
from githubkit.exception import RequestFailed

from bot.github.errors import unless_exists
from bot.github.mutations import Answers, Mutation

STATE_LABELS = {
    "component:in-progress": ("fbca04", "component-bot is implementing this component"),
    "component:needs-human": ("d93f0b", "component-bot needs a maintainer to act"),
    "component:ready": ("0e8a16", "component-bot's pull request is ready for review"),
    "component:implemented": ("5319e7", "the component's pull request was merged"),
}
LABELS_QUERY = """query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { labels(first: 20, query: "component:") { nodes { id name } } }
}"""
# What a query that reads the repository adds to see the state labels (see `LabelIds.remember`).
LABELS_FIELD = 'stateLabels: labels(first: 20, query: "component:") { nodes { id name } }'


class LabelIds:
    """The state labels' GraphQL ids per repository, as this process last saw them (a missing
    name: not in the repository, or not known to exist)."""

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, str]] = {}

    def of(self, full_name: str) -> dict[str, str] | None:
        return self._ids.get(full_name.lower())

    def remember(self, full_name: str, nodes: list[dict]) -> None:
        found = {n["name"]: n["id"] for n in nodes if n.get("name") in STATE_LABELS and n.get("id")}
        self._ids[full_name.lower()] = {**self._ids.get(full_name.lower(), {}), **found}

    def forget(self, full_name: str) -> None:
        self._ids.pop(full_name.lower(), None)

    async def read(self, gh: GitHub, owner: str, repo: str) -> dict[str, str]:
        found = (await gh.async_graphql(LABELS_QUERY, {"owner": owner, "name": repo}))["repository"]
        self.remember(f"{owner}/{repo}", found["labels"]["nodes"])
        return self.of(f"{owner}/{repo}") or {}

    def remember_created(self, full_name: str, answers: Answers) -> None:
        """The labels `create_mutations` made; one GitHub refused (made meanwhile by someone
        else) is found by the next read."""
        made = [payload["label"] for alias, payload in answers.data.items()
                if alias.startswith("newLabel") and payload and payload.get("label")]
        if any(alias.startswith("newLabel") for alias in answers.errors):
            self.forget(full_name)
        else:
            self.remember(full_name, made)


def create_mutations(repository_id: str, names: list[str]) -> list[Mutation]:
    """The state labels `names`, with their colour and description (see `LabelIds.remember_created`)."""
    return [Mutation(f"newLabel{i}", "createLabel", {"repositoryId": repository_id, "name": name,
                                                      "color": STATE_LABELS[name][0],
                                                      "description": STATE_LABELS[name][1]}, "label { id name }")
            for i, name in enumerate(names)]


def switch_mutations(issue_id: str, wanted: str | None, ids: dict[str, str]) -> list[Mutation]:
    """`wanted` on the issue and the other state labels off it (None: all off)."""
    mutations = []
    if wanted is not None:
        mutations.append(Mutation("labelOn", "addLabelsToLabelable", {"labelableId": issue_id,
                                                                      "labelIds": [ids[wanted]]}))
    stale = [ids[name] for name in STATE_LABELS if name != wanted and name in ids]
    if stale:
        mutations.append(Mutation("labelsOff", "removeLabelsFromLabelable", {"labelableId": issue_id,
                                                                             "labelIds": stale}))
    return mutations


async def set_state_label(gh: GitHub, owner: str, repo: str, issue_number: int, name: str | None) -> None:
    """Through REST: make `name` the issue's only state label (None: remove them all). Adding
    answers with the issue's labels, so the stale ones are known without a read."""
    if name is not None:
        color, description = STATE_LABELS.get(name, ("ededed", ""))
        await unless_exists(gh.rest.issues.async_create_label(owner, repo, data={"name": name, "color": color,
                                                                                 "description": description}))
        added = await gh.rest.issues.async_add_labels(owner, repo, issue_number, data={"labels": [name]})
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
