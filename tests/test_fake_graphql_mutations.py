"""The fake GitHub's GraphQL mutations that create things (check runs, pull requests, labels, refs),
the fields they answer with, and GitHub's partial-failure semantics of a mutation document.

Each mutation is checked against its REST counterpart: the same state change, the same webhooks,
the same refusals (in GitHub's GraphQL words), and nothing changed when it is refused.
"""

from __future__ import annotations

import pytest
from githubkit import AppAuthStrategy

from tests.fakes.github import FakeGitHub
from tests.fakes.state import node_id
from tests.test_fake_graphql import BRANCH, REPO, WIDGET, client, failing, open_pr, post

BOT = "component-bot-test[bot]"


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo(REPO, files={"README.md": "# widgets\n", "src/widget.py": WIDGET}, installation_id=42)
    fake.set_permission(REPO, "maria", "write")
    fake.add_token("maria-token", login="maria")
    return fake


@pytest.fixture
async def gh(fake: FakeGitHub):
    app = client(fake, AppAuthStrategy(fake.app_id, fake.private_key_pem))
    async with app, app.with_auth(app.auth.as_installation(42)) as inst:
        yield inst


@pytest.fixture
async def maria(fake: FakeGitHub):
    async with client(fake, "maria-token") as person:
        yield person


def repo_id(fake: FakeGitHub, name: str = REPO) -> str:
    return fake.repo(name).node_id


def state_of(fake: FakeGitHub) -> tuple:
    """What a refused mutation must leave as it was."""
    repo = fake.repo(REPO)
    return (
        len(fake.events),
        dict(repo.refs),
        set(repo.check_runs),
        set(repo.pulls),
        set(repo.labels),
        {n: len(cs) for n, cs in repo.comments.items()},
    )


async def refused(gh, query: str, **variables) -> tuple[str, str]:
    answer = await post(gh, query, **variables)
    [error] = answer["errors"]
    assert list(answer["data"].values()) == [None] and error["path"] == list(answer["data"])
    return error["type"], error["message"]


# -- check runs ---------------------------------------------------------------------------------
RUN_FIELDS = """id databaseId name status conclusion startedAt completedAt detailsUrl externalId
    title summary text url permalink resourcePath repository { nameWithOwner }"""
CREATE_RUN = f"""mutation($input: CreateCheckRunInput!) {{ createCheckRun(input: $input) {{
  checkRun {{ {RUN_FIELDS} }} }} }}"""
UPDATE_RUN = f"""mutation($input: UpdateCheckRunInput!) {{ updateCheckRun(input: $input) {{
  checkRun {{ {RUN_FIELDS} }} }} }}"""
RUN_NODE = "query($id: ID!) { node(id: $id) { __typename ... on CheckRun { id databaseId name status } } }"


async def test_create_and_complete_a_check_run_as_rest_does(fake, gh):
    repo = fake.repo(REPO)
    head = repo.branches["main"]
    created = await gh.async_graphql(
        CREATE_RUN,
        {
            "input": {
                "repositoryId": repo_id(fake),
                "headSha": head,
                "name": "component-bot",
                "status": "IN_PROGRESS",
                "output": {"title": "Working", "summary": "Implementing widgets"},
                "detailsUrl": "https://bot.example/runs/1",
                "externalId": "job-1",
                "startedAt": "2026-01-05T11:00:00Z",
            }
        },
    )
    run = created["createCheckRun"]["checkRun"]
    [state] = repo.check_runs.values()
    rest = (await gh.rest.checks.async_get("octo", "widgets", state.id)).json()
    assert run == {
        "id": rest["node_id"],
        "databaseId": state.id,
        "name": "component-bot",
        "status": "IN_PROGRESS",
        "conclusion": None,
        "startedAt": "2026-01-05T11:00:00Z",
        "completedAt": None,
        "detailsUrl": "https://bot.example/runs/1",
        "externalId": "job-1",
        "title": "Working",
        "summary": "Implementing widgets",
        "text": None,
        "url": rest["html_url"],
        "permalink": rest["html_url"],
        "resourcePath": f"/octo/widgets/runs/{state.id}",
        "repository": {"nameWithOwner": REPO},
    }
    assert (rest["status"], rest["head_sha"], rest["app"]["slug"]) == ("in_progress", head, fake.app_slug)
    [event] = fake.events_of("check_run", "created")
    assert (event["check_run"]["id"], event["sender"]["login"]) == (state.id, BOT)

    for _ in range(2):  # the node id is stable
        node = (await gh.async_graphql(RUN_NODE, {"id": run["id"]}))["node"]
        assert node == {
            "__typename": "CheckRun",
            "id": run["id"],
            "databaseId": state.id,
            "name": "component-bot",
            "status": "IN_PROGRESS",
        }

    update = {
        "repositoryId": repo_id(fake),
        "checkRunId": run["id"],
        "conclusion": "SUCCESS",
        "startedAt": "2026-01-05T11:05:00Z",
        "completedAt": "2026-01-05T12:30:00Z",
        "output": {"title": "Done", "summary": "Implemented", "text": "All tests pass"},
    }
    done = (await gh.async_graphql(UPDATE_RUN, {"input": update}))["updateCheckRun"]["checkRun"]
    assert (done["status"], done["conclusion"], done["completedAt"]) == ("COMPLETED", "SUCCESS", "2026-01-05T12:30:00Z")
    assert (done["title"], done["summary"], done["text"]) == ("Done", "Implemented", "All tests pass")
    assert done["startedAt"] == "2026-01-05T11:05:00Z"
    rest = (await gh.rest.checks.async_get("octo", "widgets", state.id)).json()
    assert (rest["status"], rest["conclusion"]) == ("completed", "success")
    assert rest["completed_at"] == "2026-01-05T12:30:00Z"
    [completed] = fake.events_of("check_run", "completed")
    assert (completed["check_run"]["conclusion"], completed["sender"]["login"]) == ("success", BOT)
    assert [e["check_suite"]["conclusion"] for e in fake.events_of("check_suite", "completed")] == ["success"]


async def test_a_check_run_created_with_a_conclusion_is_completed(fake, gh):
    head = fake.repo(REPO).branches["main"]
    data = {
        "repositoryId": repo_id(fake),
        "headSha": head,
        "name": "lint",
        "conclusion": "ACTION_REQUIRED",
        "completedAt": "2026-01-05T11:30:00Z",
        "output": {"title": "Lint", "summary": "Fix it"},
    }
    run = (await gh.async_graphql(CREATE_RUN, {"input": data}))["createCheckRun"]["checkRun"]
    assert (run["status"], run["conclusion"], run["completedAt"]) == (
        "COMPLETED",
        "ACTION_REQUIRED",
        "2026-01-05T11:30:00Z",
    )
    assert [e["check_run"]["conclusion"] for e in fake.events_of("check_run", "completed")] == ["action_required"]
    assert [r.conclusion for r in fake.repo(REPO).check_runs.values()] == ["action_required"]


async def test_check_run_writes_are_refused_as_rest_refuses_them(fake, gh, maria):
    repo = fake.repo(REPO)
    head = repo.branches["main"]
    base = {"repositoryId": repo_id(fake), "headSha": head, "name": "component-bot"}
    before = state_of(fake)

    assert await refused(maria, CREATE_RUN, input=base) == (
        "FORBIDDEN",
        "Resource not accessible by personal access token",
    )
    assert await refused(gh, CREATE_RUN, input=base | {"headSha": "0" * 40}) == (
        "UNPROCESSABLE",
        f"No commit found for SHA: {'0' * 40}",
    )
    assert await refused(gh, CREATE_RUN, input=base | {"status": "COMPLETED"}) == (
        "UNPROCESSABLE",
        "Conclusion can't be blank",
    )
    assert await refused(gh, CREATE_RUN, input=base | {"status": "PENDING"}) == (
        "UNPROCESSABLE",
        "Only GitHub Actions can set a status of waiting, pending, or requested.",
    )
    assert await refused(gh, CREATE_RUN, input=base | {"repositoryId": "R_nope"}) == (
        "NOT_FOUND",
        "Could not resolve to a node with the global id of 'R_nope'",
    )
    public = fake.add_repo("octo/public", installation_id=None)
    assert await refused(gh, CREATE_RUN, input=base | {"repositoryId": public.node_id}) == (
        "FORBIDDEN",
        "Resource not accessible by integration",
    )
    annotated = base | {
        "output": {
            "title": "t",
            "summary": "s",
            "annotations": [
                {
                    "path": "README.md",
                    "location": {"startLine": 1, "endLine": 1},
                    "annotationLevel": "WARNING",
                    "message": "m",
                }
            ],
        }
    }
    assert await refused(gh, CREATE_RUN, input=annotated) == (
        "NOT_IMPLEMENTED_BY_FAKE",
        "The fake GitHub does not implement createCheckRun(input: {output: {annotations}})",
    )
    assert state_of(fake) == before

    other = fake.add_check_run(REPO, head, "CI", status="in_progress")  # GitHub Actions' run
    other_id = node_id("CR", other.id)
    before = state_of(fake)
    update = {"repositoryId": repo_id(fake), "checkRunId": other_id, "conclusion": "FAILURE"}
    assert await refused(gh, UPDATE_RUN, input=update) == (
        "FORBIDDEN",
        f"Invalid app_id `{fake.app_id}` - check run can only be modified by the GitHub App that created it.",
    )
    assert await refused(gh, UPDATE_RUN, input=update | {"checkRunId": "CR_nope"}) == (
        "NOT_FOUND",
        "Could not resolve to a node with the global id of 'CR_nope'",
    )
    assert await refused(maria, UPDATE_RUN, input=update) == (
        "FORBIDDEN",
        "Resource not accessible by personal access token",
    )
    assert (other.status, other.conclusion, state_of(fake)) == ("in_progress", None, before)


# -- pull requests ------------------------------------------------------------------------------
CREATE_PULL = """mutation($input: CreatePullRequestInput!) { createPullRequest(input: $input) { pullRequest {
  id number title body isDraft state headRefName baseRefName author { login } viewerDidAuthor } } }"""


async def test_create_pull_request_opens_it_as_rest_does(fake, gh):
    repo = fake.repo(REPO)
    fake.push(REPO, BRANCH, {"src/widget.py": WIDGET + "\n# more\n"}, author="maria")
    data = {
        "repositoryId": repo_id(fake),
        "baseRefName": "main",
        "headRefName": BRANCH,
        "title": "Widgets",
        "body": "Closes #1",
        "draft": True,
    }
    pr = (await gh.async_graphql(CREATE_PULL, {"input": data}))["createPullRequest"]["pullRequest"]
    [number] = repo.pulls
    rest = (await gh.rest.pulls.async_get("octo", "widgets", number)).parsed_data
    assert pr == {
        "id": rest.node_id,
        "number": number,
        "title": "Widgets",
        "body": "Closes #1",
        "isDraft": True,
        "state": "OPEN",
        "headRefName": BRANCH,
        "baseRefName": "main",
        "author": {"login": "component-bot-test"},
        "viewerDidAuthor": True,
    }
    assert (rest.head.sha, rest.base.ref, rest.user.login, rest.draft) == (repo.branches[BRANCH], "main", BOT, True)
    [opened] = fake.events_of("pull_request", "opened")
    assert (opened["number"], opened["sender"]["login"], opened["pull_request"]["draft"]) == (number, BOT, True)

    short = data | {"headRefName": f"octo:{BRANCH}", "draft": False}  # owner:branch, as GitHub takes it
    assert await refused(gh, CREATE_PULL, input=short) == (
        "UNPROCESSABLE",
        f"A pull request already exists for octo:{BRANCH}.",
    )


async def test_create_pull_request_is_refused_as_github_refuses_it(fake, gh):
    fake.set_permission(REPO, "rick", "read")
    fake.add_token("rick-token", login="rick")
    repo = fake.repo(REPO)
    fake.set_ref(repo, "refs/heads/empty", repo.branches["main"], fake.user("maria"))  # nothing to merge
    fake.push(REPO, BRANCH, {"NOTES.md": "notes\n"}, author="maria")
    base = {"repositoryId": repo_id(fake), "baseRefName": "main", "headRefName": BRANCH, "title": "Widgets"}
    before = state_of(fake)
    cases = [
        ({"headRefName": "empty"}, "No commits between main and empty"),
        (
            {"headRefName": "nope"},
            (
                "Head sha can't be blank, Base sha can't be blank, No commits between main and nope, "
                "Head ref must be a branch"
            ),
        ),
        (
            {"baseRefName": "nope"},
            f"Base sha can't be blank, No commits between nope and {BRANCH}, Base ref must be a branch",
        ),
        ({"title": " "}, "Title can't be blank"),
    ]
    for change, message in cases:
        assert await refused(gh, CREATE_PULL, input=base | change) == ("UNPROCESSABLE", message)
    async with client(fake, "rick-token") as rick:
        assert await refused(rick, CREATE_PULL, input=base) == (
            "FORBIDDEN",
            "rick does not have the correct permissions to execute `CreatePullRequest`",
        )
    fork = await failing(gh, CREATE_PULL, input=base | {"headRefName": f"maria:{BRANCH}"})
    assert fork.errors[0].type == "NOT_IMPLEMENTED_BY_FAKE"
    assert state_of(fake) == before


# -- PullRequest.files ------------------------------------------------------------------------
FILES = """query($number: Int!, $after: String) { repository(owner: "octo", name: "widgets") {
  pullRequest(number: $number) { files(first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { path additions deletions changeType } } } } }"""


async def test_pull_request_files_are_those_of_base_three_dots_head(fake, gh):
    pr = open_pr(fake)  # changes src/widget.py
    fake.push(REPO, BRANCH, {"README.md": None, "docs/gadget.md": "one\ntwo\n"}, author="maria")
    fake.push(REPO, "main", {"CHANGELOG.md": "main moved on\n"}, author="maria")  # not in base...head
    first = (await gh.async_graphql(FILES, {"number": pr.number}))["repository"]["pullRequest"]["files"]
    after = first["pageInfo"]["endCursor"]
    rest = (await gh.async_graphql(FILES, {"number": pr.number, "after": after}))["repository"]["pullRequest"]["files"]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (3, True, False)
    files = first["nodes"] + rest["nodes"]
    assert sorted(files, key=lambda f: f["path"]) == [
        {"path": "README.md", "additions": 0, "deletions": 1, "changeType": "DELETED"},
        {"path": "docs/gadget.md", "additions": 2, "deletions": 0, "changeType": "ADDED"},
        {"path": "src/widget.py", "additions": 4, "deletions": 0, "changeType": "MODIFIED"},
    ]
    compare = (await gh.rest.repos.async_compare_commits("octo", "widgets", f"main...{BRANCH}")).parsed_data
    statuses = {"added": "ADDED", "removed": "DELETED", "modified": "MODIFIED"}
    assert sorted(files, key=lambda f: f["path"]) == [
        {"path": f.filename, "additions": f.additions, "deletions": f.deletions, "changeType": statuses[f.status]}
        for f in sorted(compare.files, key=lambda f: f.filename)
    ]


# -- labels ---------------------------------------------------------------------------------
CREATE_LABEL = """mutation($input: CreateLabelInput!) { createLabel(input: $input) {
  label { id name color description isDefault url } } }"""
REPO_LABELS = """query($query: String) { repository(owner: "octo", name: "widgets") {
  labels(first: 10, query: $query) { totalCount nodes { id name } } } }"""


async def test_create_label_as_rest_does_and_find_it(fake, gh):
    events = len(fake.events)
    data = {"repositoryId": repo_id(fake), "name": "Needs Review", "color": "#A2EEEF", "description": "Look"}
    label = (await gh.async_graphql(CREATE_LABEL, {"input": data}))["createLabel"]["label"]
    rest = (await gh.rest.issues.async_get_label("octo", "widgets", "needs review")).parsed_data
    assert label == {
        "id": rest.node_id,
        "name": "Needs Review",
        "color": "a2eeef",
        "description": "Look",
        "isDefault": False,
        "url": "https://github.com/octo/widgets/labels/Needs%20Review",
    }
    assert (rest.name, rest.color, rest.description) == ("Needs Review", "a2eeef", "Look")
    assert len(fake.events) == events  # GitHub's `label` event is not one the app subscribes to, as for REST

    fake.ensure_label(fake.repo(REPO), "bug")
    found = (await gh.async_graphql(REPO_LABELS, {"query": "review"}))["repository"]["labels"]
    assert found == {"totalCount": 1, "nodes": [{"id": label["id"], "name": "Needs Review"}]}
    every = (await gh.async_graphql(REPO_LABELS, {}))["repository"]["labels"]["nodes"]
    assert [n["name"] for n in every] == ["Needs Review", "bug"]

    before = state_of(fake)
    assert await refused(gh, CREATE_LABEL, input=data | {"name": "needs REVIEW"}) == (
        "UNPROCESSABLE",
        "Name has already been taken",
    )
    assert await refused(gh, CREATE_LABEL, input=data | {"name": "new", "color": "blue"}) == (
        "UNPROCESSABLE",
        "Color is invalid",
    )
    assert state_of(fake) == before


# -- refs -----------------------------------------------------------------------------------
CREATE_REF = """mutation($input: CreateRefInput!) { createRef(input: $input) {
  ref { id name prefix target { oid } } } }"""


async def test_create_ref_pushes_as_rest_does(fake, gh):
    repo = fake.repo(REPO)
    head = repo.branches["main"]
    data = {"repositoryId": repo_id(fake), "name": f"refs/heads/{BRANCH}", "oid": head}
    ref = (await gh.async_graphql(CREATE_REF, {"input": data}))["createRef"]["ref"]
    assert (ref["name"], ref["prefix"], ref["target"]) == (BRANCH, "refs/heads/", {"oid": head})
    assert repo.branches[BRANCH] == head
    rest = (await gh.rest.git.async_get_ref("octo", "widgets", f"heads/{BRANCH}")).parsed_data
    assert (rest.ref, rest.object_.sha, rest.node_id) == (f"refs/heads/{BRANCH}", head, ref["id"])
    [push] = [e for e in fake.events_of("push") if e["ref"] == f"refs/heads/{BRANCH}"]
    assert (push["created"], push["after"], push["sender"]["login"]) == (True, head, BOT)

    before = state_of(fake)
    assert await refused(gh, CREATE_REF, input=data) == (
        "UNPROCESSABLE",
        f'A ref named "refs/heads/{BRANCH}" already exists in the repository.',
    )
    assert await refused(gh, CREATE_REF, input=data | {"name": "refs/heads/x", "oid": "0" * 40}) == (
        "UNPROCESSABLE",
        "Object does not exist",
    )
    assert await refused(gh, CREATE_REF, input=data | {"name": "feature"}) == (
        "UNPROCESSABLE",
        "feature is not a valid ref name.",
    )
    assert state_of(fake) == before


# -- viewerDidAuthor, addComment's edge -----------------------------------------------------------
AUTHORED = """query($number: Int!) { repository(owner: "octo", name: "widgets") { issue(number: $number) {
  viewerDidAuthor comments(first: 5) { nodes { body viewerDidAuthor } } } } }"""
COMMENT = """mutation($subject: ID!, $body: String!) { addComment(input: {subjectId: $subject, body: $body}) {
  commentEdge { cursor node { id databaseId body viewerDidAuthor } } } }"""


async def test_view_did_author_follows_the_tokens_actor(fake, gh, maria):
    issue = fake.add_issue(REPO, "Implement widgets", "", user="maria")
    issue_id = (await gh.rest.issues.async_get("octo", "widgets", issue.number)).parsed_data.node_id
    edge = (await gh.async_graphql(COMMENT, {"subject": issue_id, "body": "On it."}))["addComment"]["commentEdge"]
    [comment] = fake.repo(REPO).comments[issue.number]
    rest = (await gh.rest.issues.async_get_comment("octo", "widgets", comment.id)).parsed_data
    assert edge["node"] == {"id": rest.node_id, "databaseId": comment.id, "body": "On it.", "viewerDidAuthor": True}
    await maria.async_graphql(COMMENT, {"subject": issue_id, "body": "Thanks!"})

    as_app = (await gh.async_graphql(AUTHORED, {"number": issue.number}))["repository"]["issue"]
    as_maria = (await maria.async_graphql(AUTHORED, {"number": issue.number}))["repository"]["issue"]
    def mine(first: bool, second: bool) -> list[dict]:
        return [{"body": "On it.", "viewerDidAuthor": first}, {"body": "Thanks!", "viewerDidAuthor": second}]

    assert as_app == {"viewerDidAuthor": False, "comments": {"nodes": mine(True, False)}}
    assert as_maria == {"viewerDidAuthor": True, "comments": {"nodes": mine(False, True)}}
    pr = open_pr(fake)
    query = """query($n: Int!) { repository(owner: "octo", name: "widgets") {
        pullRequest(number: $n) { viewerDidAuthor } } }"""
    assert (await maria.async_graphql(query, {"n": pr.number}))["repository"]["pullRequest"]["viewerDidAuthor"]
    assert not (await gh.async_graphql(query, {"n": pr.number}))["repository"]["pullRequest"]["viewerDidAuthor"]


# -- partial failure ------------------------------------------------------------------------
async def test_a_failing_field_of_a_mutation_document_is_null_and_the_others_still_run(fake, gh):
    issue = fake.add_issue(REPO, "Implement widgets", "")
    fake.ensure_label(fake.repo(REPO), "bug")
    issue_id = (await gh.rest.issues.async_get("octo", "widgets", issue.number)).parsed_data.node_id
    batch = """mutation($issue: ID!, $repo: ID!) {
      a: updateIssueComment(input: {id: "IC_nope", body: "x"}) { issueComment { id } }
      b: addComment(input: {subjectId: $issue, body: "still runs"}) { commentEdge { node { body } } }
      c: createLabel(input: {repositoryId: $repo, name: "BUG", color: "ff0000"}) { label { name } }
      d: createLabel(input: {repositoryId: $repo, name: "ready", color: "00ff00"}) { label { name } }
    }"""
    answer = await post(gh, batch, issue=issue_id, repo=repo_id(fake))
    assert answer["data"] == {
        "a": None,
        "b": {"commentEdge": {"node": {"body": "still runs"}}},
        "c": None,
        "d": {"label": {"name": "ready"}},
    }
    assert [(e["type"], e["path"], e["message"]) for e in answer["errors"]] == [
        ("NOT_FOUND", ["a"], "Could not resolve to a node with the global id of 'IC_nope'"),
        ("UNPROCESSABLE", ["c"], "Name has already been taken"),
    ]
    assert [c.body for c in fake.repo(REPO).comments[issue.number]] == ["still runs"]
    assert set(fake.repo(REPO).labels) == {"bug", "ready"}
    assert [e["comment"]["body"] for e in fake.events_of("issue_comment", "created")] == ["still runs"]
