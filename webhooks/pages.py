"""Server-rendered HTML: the setup page and the dashboard, from `templates/web/` (autoescaped).

A leaf: the page modules (setup, auth, dashboard) use it; it imports none of them.

Every page goes out with a strict Content-Security-Policy (no scripts at all, inline styles
only), no caching and no Referer, so a page never leaks what it shows or the URL it came from.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot import __version__


class PageError(Exception):
    """Shown as an HTML page with `status`: what went wrong, and a link to try again."""

    def __init__(self, status: int, title: str, message: str, *, retry_url: str | None = None,
                 retry_label: str = "Try again", headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message
        self.retry_url, self.retry_label = retry_url, retry_label
        self.headers = headers or {}


class Interrupt(Exception):
    """Stop handling the request and answer with `response` (a redirect to sign in, say)."""

    def __init__(self, response: Response) -> None:
        super().__init__("interrupted")
        self.response = response


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("templates", "web"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = lambda n: f"{int(n or 0):,}"
    env.filters["usd"] = lambda x: f"${float(x or 0):.4f}" if 0 < float(x or 0) < 0.01 else f"${float(x or 0):.2f}"
    env.filters["short"] = lambda sha: (sha or "")[:7]
    env.filters["age"] = age
    env.filters["when"] = lambda t: t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if t else ""
    env.globals["version"] = __version__
    return env


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """'42s', '5m', '3h', '2d': how long ago."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def public_url(request: Request) -> str:
    """This server's address as browsers and GitHub reach it: PUBLIC_URL, else the request's."""
    return request.app.state.settings.public_url or str(request.base_url).rstrip("/")


def url_without(request: Request, parameter: str) -> str:
    """The requested path and query, less `parameter`: where to redirect once a token in the URL was taken."""
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != parameter]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def security_headers(form_targets: tuple[str, ...] = ()) -> dict[str, str]:
    form_action = " ".join(("'self'", *form_targets))
    return {
        "Content-Security-Policy": (f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                    f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def render(template: str, status: int = 200, /, *, form_targets: tuple[str, ...] = (),
           headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    html = environment().get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers={**security_headers(form_targets), **(headers or {})})


async def page_error(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, PageError)
    return render("error.html.j2", exc.status, headers=exc.headers, title=exc.title, message=exc.message,
                  retry_url=exc.retry_url, retry_label=exc.retry_label)


async def interrupted(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Interrupt)
    return exc.response


def handle_errors(app: FastAPI) -> None:
    """Answer `PageError` with its page and `Interrupt` with its response."""
    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(Interrupt, interrupted)
