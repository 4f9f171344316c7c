"""Jinja2 templates shipped in the `templates` package: comments, PR bodies, prompts."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("templates", ""),
        undefined=StrictUndefined,
        autoescape=False,  # Markdown and prompts, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = lambda n: f"{int(n or 0):,}"
    env.filters["usd"] = lambda x: f"${float(x or 0):.2f}"
    env.filters["short"] = lambda sha: (sha or "")[:7]
    env.filters["quoted"] = lambda text: "\n".join(f"> {line}" for line in str(text).splitlines() or [""])
    return env


def render(name: str, **values: object) -> str:
    return environment().get_template(name).render(**values)
