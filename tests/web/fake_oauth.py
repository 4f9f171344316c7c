"""GitHub's OAuth web flow and the user-token API calls the dashboard's sign-in makes.

The shared fake GitHub serves the REST API an App uses; signing a person in also needs GitHub's
*web* host (`POST /login/oauth/access_token`) and calls with the person's token (`GET /user`,
`GET /user/installations`, `GET /user/installations/{id}/repositories`). This small fake answers
those on any host, as GitHub does: a code is single use, a wrong client secret or redirect URI is
refused with GitHub's 200 + `error` body, listings are paginated with `per_page`/`page` and a
`Link` header, and an installation the person cannot access is a 404.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


@dataclass
class Installation:
    id: int
    app_id: int
    repositories: list[dict[str, Any]]

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "app_id": self.app_id, "account": {"login": f"org{self.id}"},
                "repository_selection": "all"}


@dataclass
class Person:
    login: str
    installations: list[Installation]

    def installation(self, installation_id: int) -> Installation | None:
        return next((i for i in self.installations if i.id == installation_id), None)


def repository(repository_id: int, full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/", 1)
    return {"id": repository_id, "node_id": f"R_{repository_id}", "name": name, "full_name": full_name,
            "private": True, "owner": {"login": owner}, "html_url": f"https://github.com/{full_name}"}


@dataclass
class FakeOAuth:
    client_id: str
    client_secret: str
    codes: dict[str, tuple[Person, str | None]] = field(default_factory=dict)
    tokens: dict[str, Person] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    exchanges: list[dict[str, str]] = field(default_factory=list)
    api_calls: list[str] = field(default_factory=list)  # path?query of each user-token call, in order
    outage: bool = False  # the API answers 503 to every user-token call

    def code_for(self, login: str, installations: list[tuple[int, int]],
                 repositories: dict[int, list[tuple[int, str]]] | None = None,
                 redirect_uri: str | None = None) -> str:
        """A code GitHub would hand back after `login` authorized. Installations are (id, app_id);
        `repositories` names, per installation id, the (id, full name) of those `login` can access."""
        code = secrets.token_hex(10)
        person = Person(login, [Installation(i, a, [repository(*r) for r in (repositories or {}).get(i, [])])
                                for i, a in installations])
        self.people[login] = person
        self.codes[code] = (person, redirect_uri)
        return code

    def set_repositories(self, login: str, installation_id: int, repositories: list[tuple[int, str]]) -> None:
        """Change which repositories of an installation `login` can access (as an org owner would)."""
        self.people[login].installation(installation_id).repositories = [repository(*r) for r in repositories]

    def revoke_tokens(self, login: str) -> None:
        self.tokens = {token: person for token, person in self.tokens.items() if person.login != login}

    @property
    def app(self) -> Starlette:
        routes = [Route("/login/oauth/access_token", self.access_token, methods=["POST"])]
        for prefix in ("", "/api/v3"):
            routes += [Route(f"{prefix}/user", self.user),
                       Route(f"{prefix}/user/installations", self.user_installations),
                       Route(f"{prefix}/user/installations/{{installation_id:int}}/repositories",
                             self.installation_repositories)]
        return Starlette(routes=routes)

    async def access_token(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))  # form-encoded, as the bot sends it
        self.exchanges.append(form)
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return JSONResponse({"error": "incorrect_client_credentials"})
        entry = self.codes.pop(str(form.get("code")), None)
        if entry is None:
            return JSONResponse({"error": "bad_verification_code",
                                 "error_description": "The code passed is incorrect or expired."})
        person, redirect_uri = entry
        if redirect_uri is not None and form.get("redirect_uri") != redirect_uri:
            return JSONResponse({"error": "redirect_uri_mismatch"})
        token = "ghu_" + secrets.token_hex(18)
        self.tokens[token] = person
        return JSONResponse({"access_token": token, "token_type": "bearer", "scope": ""})

    def _person(self, request: Request) -> Person | None:
        self.api_calls.append(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return self.tokens.get(token) if scheme.lower() in ("bearer", "token") else None

    def _refusal(self, person: Person | None) -> JSONResponse | None:
        if self.outage:
            return JSONResponse({"message": "Service Unavailable"}, status_code=503)
        return bad_credentials() if person is None else None

    async def user(self, request: Request) -> JSONResponse:
        person = self._person(request)
        if refusal := self._refusal(person):
            return refusal
        return JSONResponse({"login": person.login, "id": 1, "type": "User"})

    async def user_installations(self, request: Request) -> JSONResponse:
        person = self._person(request)
        if refusal := self._refusal(person):
            return refusal
        return paginated(request, "installations", [i.json() for i in person.installations])

    async def installation_repositories(self, request: Request) -> JSONResponse:
        person = self._person(request)
        if refusal := self._refusal(person):
            return refusal
        installation = person.installation(request.path_params["installation_id"])
        if installation is None:
            return JSONResponse({"message": "Not Found",
                                 "documentation_url": "https://docs.github.com/rest/apps/installations"},
                                status_code=404)
        return paginated(request, "repositories", installation.repositories, repository_selection="all")


def bad_credentials() -> JSONResponse:
    return JSONResponse({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
                        status_code=401)


def paginated(request: Request, key: str, items: list[dict[str, Any]], **extra: Any) -> JSONResponse:
    """One page of `items` as GitHub lists them: `{"total_count", key: [...]}` and a Link header."""
    per_page = min(int(request.query_params.get("per_page", DEFAULT_PER_PAGE)), MAX_PER_PAGE)
    page = max(int(request.query_params.get("page", 1)), 1)
    last = max(1, -(-len(items) // per_page))
    body = {"total_count": len(items), **extra, key: items[(page - 1) * per_page: page * per_page]}
    links = [(rel, number) for rel, number in (("prev", page - 1), ("next", page + 1), ("last", last),
                                               ("first", 1))
             if (rel in ("prev", "first") and page > 1) or (rel in ("next", "last") and page < last)]
    headers = {"Link": ", ".join(f'<{request.url.include_query_params(page=n, per_page=per_page)}>; rel="{rel}"'
                                 for rel, n in links)} if links else {}
    return JSONResponse(body, headers=headers)
