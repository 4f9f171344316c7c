"""The fake GitHub's GraphQL API, driven through githubkit's ``async_graphql`` as the bot drives it.

Documents are validated against GitHub's published schema; exact error shapes are read from the
raw response (``post``), everything else through githubkit.
"""

from __future__ import annotations

import base64

import httpx
import pytest
from graphql import parse
from githubkit import AppAuthStrategy, GitHub
from githubkit.exception import GraphQLFailed, RequestFailed

from tests.fakes import shapes
from tests.fakes.github import FakeGitHub
from tests.fakes.graphql_resolvers import honours, implemented
from tests.fakes.graphql_schema import load_schema, plan_operation
from tests.fakes.state import node_id

REPO = "octo/widgets"
WIDGET = "def widget():\n    return 1\n"
FILES = {"README.md": "# widgets\n", "src/widget.py": WIDGET}
LOGO = b"\x89PNG\r\n\x1a\n\x00\x00"
BRANCH = "component-bot/1-widgets"


def client(fake: FakeGitHub, auth) -> GitHub:
    return GitHub(auth, async_transport=httpx.ASGITransport(app=fake.app), http_cache=False, auto_retry=False)


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo(REPO, files=FILES, installation_id=42)
    fake.set_permission(REPO, "maria", "write")
    return fake


@pytest.fixture
async def gh(fake: FakeGitHub):
    app = client(fake, AppAuthStrategy(fake.app_id, fake.private_key_pem))
    async with app, app.with_auth(app.auth.as_installation(42)) as inst:
        yield inst


def open_pr(fake: FakeGitHub, draft: bool = True):
    repo = fake.repo(REPO)
    fake.push(repo, BRANCH, {"src/widget.py": WIDGET + "\n\ndef gadget():\n    return 2\n"}, author="maria")
    return fake.create_pull(repo, BRANCH, "main", "Widgets", "Closes #1", draft, fake.user("maria"))


async def post(gh: GitHub, query: str, **variables) -> dict:
    """The raw answer (GitHub answers errors with HTTP 200 too)."""
    response = await gh.arequest("POST", "/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    return response.json()


async def failing(gh: GitHub, query: str, **variables):
    with pytest.raises(GraphQLFailed) as info:
        await gh.async_graphql(query, variables)
    return info.value.response


# -- reads --------------------------------------------------------------------------------------
REPOSITORY = """query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    id nameWithOwner
    defaultBranchRef { name target { oid ... on Commit { oid tree { oid } } } }
    main: ref(qualifiedName: "refs/heads/main") { name target { oid } }
    short: ref(qualifiedName: "main") { name }
    missingRef: ref(qualifiedName: "refs/heads/nope") { name }
    readme: object(expression: "HEAD:README.md") { ... on Blob { oid byteSize isBinary text } }
    logo: object(expression: "main:assets/logo.png") { ... on Blob { byteSize isBinary text } }
    src: object(expression: "main:src") { __typename ... on Tree { oid } }
    head: object(expression: "main") { ... on Commit { oid message } }
    missingFile: object(expression: "main:nope.txt") { oid }
  }
}"""


async def test_repository_refs_and_objects(fake, gh):
    fake.push(REPO, "main", {"assets/logo.png": LOGO}, message="Initial commit")
    repo = fake.repo(REPO)
    head = repo.branches["main"]
    data = (await gh.async_graphql(REPOSITORY, {"owner": "octo", "name": "widgets"}))["repository"]
    assert data["id"] == repo.node_id and data["nameWithOwner"] == REPO
    assert data["defaultBranchRef"] == {
        "name": "main",
        "target": {"oid": head, "tree": {"oid": repo.git.commits[head].tree}},
    }
    assert data["main"] == {"name": "main", "target": {"oid": head}} and data["short"] == {"name": "main"}
    assert data["missingRef"] is None and data["missingFile"] is None
    readme = repo.git.lookup(repo.git.commits[head].tree, "README.md").sha
    assert data["readme"] == {"oid": readme, "byteSize": 10, "isBinary": False, "text": "# widgets\n"}
    assert data["logo"] == {"byteSize": 10, "isBinary": True, "text": None}
    assert data["src"] == {"__typename": "Tree", "oid": repo.git.lookup(repo.git.commits[head].tree, "src").sha}
    assert data["head"] == {"oid": head, "message": "Initial commit"}

    by_sha = """query($expression: String!) { repository(owner: "octo", name: "widgets") {
        object(expression: $expression) { ... on Blob { text } } } }"""
    data = await gh.async_graphql(by_sha, {"expression": f"{head}:src/widget.py"})
    assert data["repository"]["object"] == {"text": WIDGET}


ISSUE = """query($number: Int!, $after: String) { repository(owner: "octo", name: "widgets") {
  issue(number: $number) {
    id databaseId number title body createdAt author { login __typename }
    labels(first: 10) { nodes { id name } }
    comments(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id databaseId body createdAt author { login __typename } }
    }
  }
} }"""


async def test_issue_with_labels_and_paged_comments(fake, gh):
    issue = fake.add_issue(REPO, "Implement widgets", "The body", user="maria", labels=["implement-component"])
    first = fake.add_issue_comment(REPO, issue.number, "one", user="maria")
    fake.add_issue_comment(REPO, issue.number, "two", user="octo")
    await gh.rest.issues.async_create_comment("octo", "widgets", issue.number, body="three, by the app")

    data = (await gh.async_graphql(ISSUE, {"number": issue.number}))["repository"]["issue"]
    label = fake.repo(REPO).labels["implement-component"]
    assert (data["databaseId"], data["number"], data["title"], data["body"]) == (
        issue.id,
        issue.number,
        "Implement widgets",
        "The body",
    )
    assert data["author"] == {"login": "maria", "__typename": "User"}
    assert data["createdAt"] == shapes.ts(issue.created_at) and data["createdAt"].endswith("Z")
    assert data["labels"]["nodes"] == [{"id": label_node_id(fake, "implement-component"), "name": label.name}]
    comments = data["comments"]
    assert comments["totalCount"] == 3 and comments["pageInfo"]["hasNextPage"]
    assert [c["body"] for c in comments["nodes"]] == ["one", "two"]
    assert comments["nodes"][0]["databaseId"] == first.id
    assert comments["nodes"][0]["id"] == (await gh.rest.issues.async_get_comment("octo", "widgets", first.id)).json()[
        "node_id"
    ]

    after = comments["pageInfo"]["endCursor"]
    rest = (await gh.async_graphql(ISSUE, {"number": issue.number, "after": after}))["repository"]["issue"]
    assert [c["body"] for c in rest["comments"]["nodes"]] == ["three, by the app"]
    assert not rest["comments"]["pageInfo"]["hasNextPage"]
    assert rest["comments"]["nodes"][0]["author"] == {"login": "component-bot-test", "__typename": "Bot"}


def label_node_id(fake: FakeGitHub, name: str) -> str:
    return node_id("LA", fake.repo(REPO).labels[name.lower()].id)


PULL = """query($number: Int!) { repository(owner: "octo", name: "widgets") { pullRequest(number: $number) {
  id databaseId number title body isDraft state merged headRefName headRefOid baseRefName baseRefOid
  reviews(first: 10, states: [APPROVED, CHANGES_REQUESTED]) {
    pageInfo { hasNextPage }
    nodes { databaseId state submittedAt author { login } commit { oid } }
  }
} } }"""


async def test_pull_request_and_its_reviews(fake, gh):
    pr = open_pr(fake)
    fake.add_review(REPO, pr.number, "octo", "COMMENTED", "hmm")
    approval = fake.add_review(REPO, pr.number, "maria", "APPROVED", "LGTM")
    data = (await gh.async_graphql(PULL, {"number": pr.number}))["repository"]["pullRequest"]
    repo = fake.repo(REPO)
    rest = (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data
    assert data["id"] == rest.node_id and data["databaseId"] == rest.id
    assert (data["number"], data["title"], data["body"], data["isDraft"], data["state"], data["merged"]) == (
        pr.number,
        "Widgets",
        "Closes #1",
        True,
        "OPEN",
        False,
    )
    assert (data["headRefName"], data["headRefOid"]) == (BRANCH, repo.branches[BRANCH])
    assert (data["baseRefName"], data["baseRefOid"]) == ("main", repo.branches["main"])
    assert data["reviews"]["nodes"] == [
        {
            "databaseId": approval.id,
            "state": "APPROVED",
            "submittedAt": shapes.review(repo, approval)["submitted_at"],
            "author": {"login": "maria"},
            "commit": {"oid": repo.branches[BRANCH]},
        }
    ]
    response = await failing(gh, PULL, number=99)
    assert response.errors[0].type == "NOT_FOUND"
    assert response.errors[0].message == "Could not resolve to a PullRequest with the number of 99."


# -- review threads ---------------------------------------------------------------------------
THREADS = """query($number: Int!, $after: String) { repository(owner: "octo", name: "widgets") {
  pullRequest(number: $number) {
    reviewThreads(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes {
        id isResolved isOutdated path line originalLine
        comments(first: 2) {
          totalCount pageInfo { hasNextPage endCursor }
          nodes {
            id databaseId body createdAt url diffHunk path line originalLine
            author { login __typename } replyTo { databaseId }
          }
        }
      }
    }
  }
} }"""
THREAD_COMMENTS = """query($id: ID!, $after: String) { node(id: $id) { ... on PullRequestReviewThread {
  comments(first: 2, after: $after) { pageInfo { hasNextPage } nodes { body replyTo { databaseId } } }
} } }"""


def add_threads(fake: FakeGitHub, number: int):
    first = fake.add_pr_comment(REPO, number, "Why 1?", user="maria", path="src/widget.py", line=2)
    for i, who in enumerate(("octo", "maria", "octo")):
        fake.add_pr_comment(REPO, number, f"reply {i + 1}", user=who, in_reply_to=first.id)
    second = fake.add_pr_comment(REPO, number, "Name?", user="octo", path="src/widget.py", line=5)
    third = fake.add_pr_comment(REPO, number, "Docs?", user="maria", path="README.md", line=1)
    return first, second, third


async def test_review_threads_page_across_threads_and_comments(fake, gh):
    pr = open_pr(fake)
    first, second, _ = add_threads(fake, pr.number)
    page = (await gh.async_graphql(THREADS, {"number": pr.number}))["repository"]["pullRequest"]["reviewThreads"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    one, two = page["nodes"]
    assert (one["path"], one["line"], one["originalLine"], one["isResolved"], one["isOutdated"]) == (
        "src/widget.py",
        2,
        2,
        False,
        False,
    )
    assert one["comments"]["totalCount"] == 4 and one["comments"]["pageInfo"]["hasNextPage"]
    root, reply = one["comments"]["nodes"]
    assert (root["databaseId"], root["body"], root["replyTo"]) == (first.id, "Why 1?", None)
    assert (reply["body"], reply["replyTo"], reply["author"]) == (
        "reply 1",
        {"databaseId": first.id},
        {"login": "octo", "__typename": "User"},
    )
    assert root["url"] == f"https://github.com/octo/widgets/pull/{pr.number}#discussion_r{first.id}"
    assert root["diffHunk"] == first.diff_hunk and root["path"] == "src/widget.py" and root["line"] == 2
    assert two["comments"]["nodes"][0]["databaseId"] == second.id and two["line"] == 5

    after = page["pageInfo"]["endCursor"]
    last = (await gh.async_graphql(THREADS, {"number": pr.number, "after": after}))["repository"]["pullRequest"]
    assert [t["path"] for t in last["reviewThreads"]["nodes"]] == ["README.md"]
    assert not last["reviewThreads"]["pageInfo"]["hasNextPage"]

    cursor = one["comments"]["pageInfo"]["endCursor"]
    more = (await gh.async_graphql(THREAD_COMMENTS, {"id": one["id"], "after": cursor}))["node"]["comments"]
    assert [c["body"] for c in more["nodes"]] == ["reply 2", "reply 3"] and not more["pageInfo"]["hasNextPage"]
    assert {c["replyTo"]["databaseId"] for c in more["nodes"]} == {first.id}


async def test_githubkit_paginator_walks_every_thread(fake, gh):
    pr = open_pr(fake)
    add_threads(fake, pr.number)
    query = """query($number: Int!, $cursor: String) { repository(owner: "octo", name: "widgets") {
        pullRequest(number: $number) { reviewThreads(first: 1, after: $cursor) {
            nodes { path } pageInfo { hasNextPage endCursor } } } } }"""
    pages = [page async for page in gh.graphql.paginate(query, {"number": pr.number})]
    paths = [t["path"] for p in pages for t in p["repository"]["pullRequest"]["reviewThreads"]["nodes"]]
    assert paths == ["src/widget.py", "src/widget.py", "README.md"]


async def test_threads_outdate_when_the_head_changes_their_file(fake, gh):
    pr = open_pr(fake)
    add_threads(fake, pr.number)
    fake.push(REPO, BRANCH, {"src/widget.py": "def widget():\n    return 3\n"}, author="maria")
    page = (await gh.async_graphql(THREADS, {"number": pr.number}))["repository"]["pullRequest"]["reviewThreads"]
    one = page["nodes"][0]
    assert (one["isOutdated"], one["line"], one["originalLine"]) == (True, None, 2)
    assert one["comments"]["nodes"][0]["line"] is None and one["comments"]["nodes"][0]["originalLine"] == 2
    after = page["pageInfo"]["endCursor"]
    rest = (await gh.async_graphql(THREADS, {"number": pr.number, "after": after}))["repository"]["pullRequest"]
    [docs] = rest["reviewThreads"]["nodes"]
    assert (docs["path"], docs["isOutdated"], docs["line"]) == ("README.md", False, 1)


RESOLVE = """mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) {
  thread { id isResolved resolvedBy { login } } } }"""
UNRESOLVE = """mutation($id: ID!) { unresolveReviewThread(input: {threadId: $id}) { thread { isResolved } } }"""


async def test_resolving_threads_by_helper_and_by_mutation(fake, gh):
    pr = open_pr(fake)
    first, second, _ = add_threads(fake, pr.number)
    fake.resolve_review_thread(REPO, first.id)
    page = (await gh.async_graphql(THREADS, {"number": pr.number}))["repository"]["pullRequest"]["reviewThreads"]
    one, two = page["nodes"]
    assert one["isResolved"] and not two["isResolved"]

    assert (await gh.async_graphql(UNRESOLVE, {"id": one["id"]}))["unresolveReviewThread"]["thread"] == {
        "isResolved": False
    }
    assert not first.resolved
    resolved = (await gh.async_graphql(RESOLVE, {"id": two["id"]}))["resolveReviewThread"]["thread"]
    assert resolved == {"id": two["id"], "isResolved": True, "resolvedBy": {"login": "component-bot-test"}}
    assert second.resolved and second.resolved_by is fake.bot


# -- mutations ------------------------------------------------------------------------------
EDIT_PULL = """mutation($id: ID!, $title: String, $body: String) {
  updatePullRequest(input: {pullRequestId: $id, title: $title, body: $body}) { pullRequest { title body } } }"""
LABELS = """mutation($id: ID!, $labels: [ID!]!) {
  add: addLabelsToLabelable(input: {labelableId: $id, labelIds: $labels}) {
    labelable { ... on PullRequest { labels(first: 5) { nodes { name } } } } } }"""
UNLABEL = """mutation($id: ID!, $labels: [ID!]!) {
  removeLabelsFromLabelable(input: {labelableId: $id, labelIds: $labels}) { clientMutationId } }"""


async def test_pull_request_edits_and_labels_change_what_rest_changes(fake, gh):
    pr = open_pr(fake)
    pr_id = (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data.node_id
    data = await gh.async_graphql(EDIT_PULL, {"id": pr_id, "title": "Widgets, done"})
    assert data["updatePullRequest"]["pullRequest"] == {"title": "Widgets, done", "body": "Closes #1"}
    rest = (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data
    assert (rest.title, rest.body) == ("Widgets, done", "Closes #1")

    fake.ensure_label(fake.repo(REPO), "bug")
    fake.ensure_label(fake.repo(REPO), "ready")
    ids = [label_node_id(fake, "bug"), label_node_id(fake, "ready")]
    data = await gh.async_graphql(LABELS, {"id": pr_id, "labels": ids})
    assert data["add"]["labelable"]["labels"]["nodes"] == [{"name": "bug"}, {"name": "ready"}]
    labeled = fake.events_of("pull_request", "labeled")
    assert [p["label"]["name"] for p in labeled] == ["bug", "ready"]
    assert {p["sender"]["login"] for p in labeled} == {"component-bot-test[bot]"}

    await gh.async_graphql(UNLABEL, {"id": pr_id, "labels": [ids[0]]})
    assert fake.repo(REPO).issues[pr.number].labels == ["ready"]
    assert [p["label"]["name"] for p in fake.events_of("pull_request", "unlabeled")] == ["bug"]


COMMENT = """mutation($subject: ID!, $body: String!) { addComment(input: {subjectId: $subject, body: $body}) {
  commentEdge { node { id databaseId } } } }"""
EDIT_COMMENT = """mutation($id: ID!, $body: String!) { updateIssueComment(input: {id: $id, body: $body}) {
  issueComment { body } } }"""
REACT = """mutation($subject: ID!) { addReaction(input: {subjectId: $subject, content: THUMBS_UP}) {
  reaction { content user { login } } subject { id } } }"""


async def test_comments_edits_and_reactions_as_the_app(fake, gh):
    issue = fake.add_issue(REPO, "Implement widgets", "")
    issue_id = (await gh.rest.issues.async_get("octo", "widgets", issue.number)).parsed_data.node_id
    node = (await gh.async_graphql(COMMENT, {"subject": issue_id, "body": "On it."}))["addComment"]["commentEdge"]
    comment = fake.repo(REPO).comments[issue.number][-1]
    assert node["node"] == {"id": node["node"]["id"], "databaseId": comment.id}
    assert comment.body == "On it." and comment.via_app is fake.gh_app
    created = fake.events_of("issue_comment", "created")[-1]
    assert created["comment"]["performed_via_github_app"]["slug"] == fake.app_slug

    edited = await gh.async_graphql(EDIT_COMMENT, {"id": node["node"]["id"], "body": "Done."})
    assert edited["updateIssueComment"]["issueComment"] == {"body": "Done."}
    payload = fake.events_of("issue_comment", "edited")[-1]
    assert payload["changes"] == {"body": {"from": "On it."}} and payload["comment"]["body"] == "Done."

    for _ in range(2):  # the same reaction twice is one reaction, as on GitHub
        reacted = (await gh.async_graphql(REACT, {"subject": node["node"]["id"]}))["addReaction"]
    assert reacted == {
        "reaction": {"content": "THUMBS_UP", "user": {"login": "component-bot-test"}},
        "subject": {"id": node["node"]["id"]},
    }
    rollup = (await gh.rest.issues.async_get_comment("octo", "widgets", comment.id)).parsed_data.reactions
    assert (rollup.total_count, rollup.plus_one) == (1, 1)
    assert [(r.content, r.user.login) for r in fake.repo(REPO).reactions] == [("+1", "component-bot-test[bot]")]


# -- createCommitOnBranch ---------------------------------------------------------------------
COMMIT = """mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) {
  commit { oid url } ref { name } } }"""


def commit_input(head: str, **changes) -> dict:
    additions = [{"path": p, "contents": base64.b64encode(c.encode()).decode()} for p, c in changes.items() if c]
    deletions = [{"path": p} for p, c in changes.items() if c is None]
    return {
        "branch": {"repositoryNameWithOwner": REPO, "branchName": BRANCH},
        "message": {"headline": "Implement gadget", "body": "With a test."},
        "fileChanges": {"additions": additions, "deletions": deletions},
        "expectedHeadOid": head,
    }


async def test_create_commit_on_branch_moves_the_branch_like_a_ref_update(fake, gh):
    pr = open_pr(fake)
    fake.configure_actions(REPO, command=("python", "-c", "pass"), auto=False)
    repo = fake.repo(REPO)
    head = repo.branches[BRANCH]
    changes = {"src/gadget.py": "def gadget():\n    return 2\n", "README.md": None}
    data = (await gh.async_graphql(COMMIT, {"input": commit_input(head, **changes)}))["createCommitOnBranch"]
    sha = data["commit"]["oid"]
    url = f"https://github.com/octo/widgets/commit/{sha}"
    assert data == {"commit": {"oid": sha, "url": url}, "ref": {"name": BRANCH}}
    assert repo.branches[BRANCH] == sha and repo.pulls[pr.number].head_sha == sha
    made = repo.git.commits[sha]
    assert made.parents == (head,) and made.message == "Implement gadget\n\nWith a test."
    assert (made.author.name, made.committer.name, made.verified) == ("component-bot-test[bot]", "GitHub", True)
    files = fake.tree_files(REPO, sha)
    assert "README.md" not in files and files["src/gadget.py"] == changes["src/gadget.py"]
    assert files["src/widget.py"] == fake.read_file(REPO, head, "src/widget.py")

    sync = fake.events_of("pull_request", "synchronize")[-1]
    assert (sync["before"], sync["after"], sync["sender"]["login"]) == (head, sha, "component-bot-test[bot]")
    assert [(r.branch, r.head_sha, r.actor) for r in fake.actions_runs] == [(BRANCH, sha, "component-bot-test[bot]")]
    verification = (await gh.rest.git.async_get_commit("octo", "widgets", sha)).parsed_data.verification
    assert verification.verified


async def test_create_commit_on_branch_with_a_stale_head_changes_nothing(fake, gh):
    open_pr(fake)
    repo = fake.repo(REPO)
    stale = repo.branches[BRANCH]
    fake.push(REPO, BRANCH, {"NOTES.md": "someone else pushed\n"}, author="maria")
    refs, commits, events = dict(repo.refs), set(repo.git.commits), len(fake.events)
    answer = await post(gh, COMMIT, input=commit_input(stale, **{"src/gadget.py": "x = 1\n"}))
    assert answer == {
        "data": {"createCommitOnBranch": None},
        "errors": [
            {
                "type": "STALE_DATA",
                "path": ["createCommitOnBranch"],
                "locations": [{"line": 1, "column": 48}],
                "message": f'Expected branch to point to "{stale}" but it did not. Pull and try again.',
            }
        ],
    }
    assert (repo.refs, set(repo.git.commits), len(fake.events)) == (refs, commits, events)

    missing = await failing(gh, COMMIT, input=commit_input(repo.branches[BRANCH], **{"nope.txt": None}))
    assert missing.errors[0].message == (
        f"A path was requested for deletion which does not exist as of commit oid `{repo.branches[BRANCH]}`"
    )
    assert repo.refs == refs


# -- batching, nodes ------------------------------------------------------------------------
async def test_several_root_fields_and_aliases_in_one_document(fake, gh):
    pr = open_pr(fake)
    fake.add_repo("octo/gadgets", installation_id=42)
    issue = fake.add_issue(REPO, "Implement widgets", "")
    query = """query($pr: ID!) {
      widgets: repository(owner: "octo", name: "widgets") { nameWithOwner issue(number: %d) { title } }
      gadgets: repository(owner: "octo", name: "gadgets") { nameWithOwner }
      pr: node(id: $pr) { __typename ... on PullRequest { number isDraft } }
      rateLimit { cost }
    }""" % issue.number
    pr_id = (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data.node_id
    assert await gh.async_graphql(query, {"pr": pr_id}) == {
        "widgets": {"nameWithOwner": REPO, "issue": {"title": "Implement widgets"}},
        "gadgets": {"nameWithOwner": "octo/gadgets"},
        "pr": {"__typename": "PullRequest", "number": pr.number, "isDraft": True},
        "rateLimit": {"cost": 1},
    }

    issue_id = (await gh.rest.issues.async_get("octo", "widgets", issue.number)).parsed_data.node_id
    batch = """mutation($issue: ID!, $pr: ID!) {
      a: addComment(input: {subjectId: $issue, body: "first"}) { commentEdge { node { databaseId } } }
      b: addComment(input: {subjectId: $issue, body: "second"}) { commentEdge { node { databaseId } } }
      ready: markPullRequestReadyForReview(input: {pullRequestId: $pr}) { pullRequest { isDraft } }
    }"""
    data = await gh.async_graphql(batch, {"issue": issue_id, "pr": pr_id})
    comments = fake.repo(REPO).comments[issue.number]
    assert [c.body for c in comments] == ["first", "second"]
    assert [data["a"]["commentEdge"]["node"]["databaseId"], data["b"]["commentEdge"]["node"]["databaseId"]] == [
        c.id for c in comments
    ]
    assert data["ready"] == {"pullRequest": {"isDraft": False}}


async def test_node_and_nodes_resolve_each_kind_and_null_the_unknown(fake, gh):
    issue = fake.add_issue(REPO, "Implement widgets", "", labels=["bug"])
    comment = fake.add_issue_comment(REPO, issue.number, "hi")
    pr = open_pr(fake)
    ids = [
        (await gh.rest.issues.async_get("octo", "widgets", issue.number)).parsed_data.node_id,
        (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data.node_id,
        (await gh.rest.issues.async_get_comment("octo", "widgets", comment.id)).parsed_data.node_id,
        label_node_id(fake, "bug"),
        "I_nope",
    ]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
        ... on Issue { number } ... on PullRequest { number } ... on IssueComment { body } ... on Label { name } } }"""
    answer = await post(gh, query, ids=ids)
    assert answer["data"]["nodes"] == [
        {"__typename": "Issue", "id": ids[0], "number": issue.number},
        {"__typename": "PullRequest", "id": ids[1], "number": pr.number},
        {"__typename": "IssueComment", "id": ids[2], "body": "hi"},
        {"__typename": "Label", "id": ids[3], "name": "bug"},
        None,
    ]
    assert [(e["type"], e["path"]) for e in answer["errors"]] == [("NOT_FOUND", ["nodes", 4])]
    assert answer["errors"][0]["message"] == "Could not resolve to a node with the global id of 'I_nope'"


# -- validation and auth ------------------------------------------------------------------------
READY = """mutation($id: ID!) { markPullRequestReadyForReview(input: {pullRequestId: $id}) {
  pullRequest { isDraft %s } } }"""


async def test_invalid_documents_are_answered_like_github_and_never_run(fake, gh):
    pr = open_pr(fake)
    pr_id = (await gh.rest.pulls.async_get("octo", "widgets", pr.number)).parsed_data.node_id
    events = len(fake.events)
    answer = await post(gh, READY % "nope", id=pr_id)
    assert answer == {
        "errors": [
            {
                "message": "Field 'nope' doesn't exist on type 'PullRequest'",
                "locations": [{"line": 2, "column": 25}],
                "path": ["mutation", "markPullRequestReadyForReview", "pullRequest", "nope"],
                "extensions": {"code": "undefinedField", "typeName": "PullRequest", "fieldName": "nope"},
            }
        ]
    }
    response = await failing(gh, READY % "mergeable", id=pr_id)  # in GitHub's schema, not in the fake
    assert response.errors[0].type == "NOT_IMPLEMENTED_BY_FAKE"
    assert response.errors[0].message == "The fake GitHub does not implement PullRequest.mergeable"
    close = """mutation($id: ID!) { updatePullRequest(input: {pullRequestId: $id, state: CLOSED}) {
        clientMutationId } }"""
    response = await failing(gh, close, id=pr_id)
    assert response.errors[0].message == "The fake GitHub does not implement updatePullRequest(input: {state})"

    missing = await post(gh, 'query { repository(owner: "octo") { id } }')
    assert missing["errors"][0]["message"] == "Field 'repository' is missing required arguments: name"
    newest_first = ISSUE.replace("comments(", "comments(orderBy: {field: UPDATED_AT, direction: DESC}, ")
    ordered = await failing(gh, newest_first, number=1)
    assert ordered.errors[0].message == "The fake GitHub does not implement Issue.comments(orderBy:)"
    unpaged = await failing(gh, 'query { repository(owner: "octo", name: "widgets") { labels { nodes { name } } } }')
    assert unpaged.errors[0].type == "MISSING_PAGINATION_BOUNDARIES"
    syntax = await post(gh, "query { repository(")
    assert "Syntax Error" in syntax["errors"][0]["message"] and "data" not in syntax

    assert fake.repo(REPO).pulls[pr.number].draft and fake.repo(REPO).pulls[pr.number].issue.state == "open"
    assert len(fake.events) == events and fake.graphql_points == 1  # only the updatePullRequest call ran
    calls = fake.calls_to("POST", "/graphql")
    assert len(calls) == 7 and {c.status for c in calls} == {200} and calls[0].json["variables"] == {"id": pr_id}


async def test_auth_follows_the_installation(fake, gh):
    fake.add_repo("octo/secret", private=True, installation_id=None)
    public = fake.add_repo("octo/public", installation_id=None)
    answer = await post(gh, '{ repository(owner: "octo", name: "secret") { id } }')
    assert answer == {
        "data": {"repository": None},
        "errors": [
            {
                "type": "NOT_FOUND",
                "path": ["repository"],
                "locations": [{"line": 1, "column": 3}],
                "message": "Could not resolve to a Repository with the name 'octo/secret'.",
            }
        ],
    }
    data = await gh.async_graphql('{ repository(owner: "octo", name: "public") { nameWithOwner } }')
    assert data == {"repository": {"nameWithOwner": "octo/public"}}  # public data is readable, as in REST

    issue = fake.add_issue(public, "Not ours", "")
    issue_id = (await gh.rest.issues.async_get("octo", "public", issue.number)).parsed_data.node_id
    forbidden = await post(gh, COMMENT, subject=issue_id, body="hi")
    assert forbidden["data"] == {"addComment": None}
    assert (forbidden["errors"][0]["type"], forbidden["errors"][0]["message"]) == (
        "FORBIDDEN",
        "Resource not accessible by integration",
    )
    assert public.comments.get(issue.number) is None

    async with client(fake, "not-a-token") as bad:
        with pytest.raises(RequestFailed) as info:
            await bad.async_graphql("{ rateLimit { cost } }")
    assert info.value.response.status_code == 401


async def test_a_persons_token_needs_write_access_for_writes(fake):
    fake.set_permission(REPO, "rick", "read")
    fake.add_token("rick-token", login="rick")
    issue = fake.add_issue(REPO, "Implement widgets", "")
    fake.ensure_label(fake.repo(REPO), "bug")
    async with client(fake, "rick-token") as rick:
        issue_id = (await rick.rest.issues.async_get("octo", "widgets", issue.number)).parsed_data.node_id
        await rick.async_graphql(COMMENT, {"subject": issue_id, "body": "Me too"})
        response = await failing(rick, LABELS, id=issue_id, labels=[label_node_id(fake, "bug")])
    assert response.errors[0].type == "FORBIDDEN"
    assert response.errors[0].message == "rick does not have the correct permissions to execute `AddLabelsToLabelable`"
    assert [c.body for c in fake.repo(REPO).comments[issue.number]] == ["Me too"] and issue.labels == []


# -- rate-limit points ----------------------------------------------------------------------
def cost_of(query: str, variables: dict | None = None):
    document = parse(query)
    return plan_operation(load_schema(), document.definitions[0], {}, variables or {}, everything, everything)


def everything(*_) -> bool:
    return True


def test_cost_is_computed_as_github_documents_it():
    documented = """query { viewer { login repositories(first: 100) { edges { node { id
        issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } } } } } } } } } }"""
    plan = cost_of(documented)
    assert (plan.requests, plan.cost) == (1 + 100 + 100 * 50, 51)
    nodes = """query { viewer { repositories(first: 50) { edges { repository: node { name
        issues(first: 10) { totalCount edges { node { title bodyHTML } } } } } } } }"""
    assert cost_of(nodes).nodes == 550
    assert cost_of('query { repository(owner: "o", name: "r") { id } }').cost == 1  # the minimum


async def test_points_add_up_per_request_and_rate_limit_reports_them(fake, gh):
    pr = open_pr(fake)
    add_threads(fake, pr.number)
    await gh.async_graphql('{ repository(owner: "octo", name: "widgets") { id } }')
    assert fake.graphql_points == 1
    nested = """query($number: Int!) { repository(owner: "octo", name: "widgets") { pullRequest(number: $number) {
        reviewThreads(first: 50) { nodes { comments(first: 10) { nodes { pullRequest {
            reviewThreads(first: 1) { totalCount } } } } } } } }
        rateLimit { cost remaining used limit nodeCount } }"""
    data = await gh.async_graphql(nested, {"number": pr.number})
    assert data["rateLimit"] == {"cost": 6, "remaining": 4993, "used": 7, "limit": 5000, "nodeCount": 50 + 500 + 500}
    assert fake.graphql_points == 7  # (1 + 50 + 500) requests / 100, rounded
    response = await gh.arequest("POST", "/graphql", json={"query": "{ rateLimit { cost } }"})
    assert response.headers["x-ratelimit-resource"] == "graphql" and response.headers["x-ratelimit-used"] == "8"


def test_the_schema_is_built_once_and_knows_what_the_fake_implements():
    schema = load_schema()
    assert schema is load_schema()
    assert implemented(schema.get_type("PullRequestReviewThread"), "isResolved")
    assert not implemented(schema.get_type("Repository"), "stargazerCount")
    assert implemented(schema.get_type("Actor"), "login")
    assert honours(schema.get_type("PullRequest"), "reviews", "states")
    assert not honours(schema.get_type("Issue"), "labels", "orderBy")


async def test_commit_history_of_a_path_lists_the_commits_that_changed_it(fake, gh):
    first = fake.push("octo/widgets", "main", {"docs/x.md": "one\n"}, author="maria")
    fake.push("octo/widgets", "main", {"README.md": "other\n"}, author="maria")
    third = fake.push("octo/widgets", "main", {"docs/x.md": "two\n"}, author="rick")
    data = await gh.async_graphql(
        """query($head: GitObjectID!) { repository(owner: "octo", name: "widgets") {
             object(oid: $head) { ... on Commit { history(path: "docs/x.md", first: 5) {
               nodes { oid author { user { login } } } } } } } }""", {"head": third})
    nodes = data["repository"]["object"]["history"]["nodes"]
    assert [n["oid"] for n in nodes] == [third, first]
    assert nodes[0]["author"]["user"]["login"] == "rick"
