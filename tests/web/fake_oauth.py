"""GitHub's OAuth web flow and the two user-token API calls the dashboard's sign-in makes.

The shared fake GitHub serves the REST API an App uses; signing a person in also needs GitHub's
*web* host (`POST /login/oauth/access_token`) and two calls with the person's token (`GET /user`,
`GET /user/installations`). This small fake answers those on any host, as GitHub does: a code is
single use, a wrong client secret or redirect URI is refused with GitHub's 200 + `error` body.
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


@dataclass
class Person:
    login: str
    installations: list[dict[str, Any]]


@dataclass
class FakeOAuth:
    client_id: str
    client_secret: str
    codes: dict[str, tuple[Person, str | None]] = field(default_factory=dict)
    tokens: dict[str, Person] = field(default_factory=dict)
    exchanges: list[dict[str, str]] = field(default_factory=list)

    def code_for(self, login: str, installations: list[tuple[int, int]], redirect_uri: str | None = None) -> str:
        """A code GitHub would hand back after `login` authorized; installations are (id, app_id)."""
        code = secrets.token_hex(10)
        person = Person(login, [{"id": i, "app_id": a, "account": {"login": f"org{i}"}} for i, a in installations])
        self.codes[code] = (person, redirect_uri)
        return code

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/login/oauth/access_token", self.access_token, methods=["POST"]),
            Route("/user", self.user),
            Route("/user/installations", self.user_installations),
            Route("/api/v3/user", self.user),
            Route("/api/v3/user/installations", self.user_installations),
        ])

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
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return self.tokens.get(token) if scheme.lower() in ("bearer", "token") else None

    async def user(self, request: Request) -> JSONResponse:
        person = self._person(request)
        if person is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse({"login": person.login, "id": 1, "type": "User"})

    async def user_installations(self, request: Request) -> JSONResponse:
        person = self._person(request)
        if person is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        per_page, page = int(request.query_params.get("per_page", 30)), int(request.query_params.get("page", 1))
        chunk = person.installations[(page - 1) * per_page: page * per_page]
        return JSONResponse({"total_count": len(person.installations), "installations": chunk})
