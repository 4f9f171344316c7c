"""Slash commands in comments, one way of reading them for issues and pull requests alike: a
command counts at the start of any line of the comment (`/retry`, or `/merge please`)."""

from __future__ import annotations

import re

COMMANDS = ("implement", "retry", "stop", "status", "merge")
_COMMAND = re.compile(r"^[ \t]*/(?P<name>" + "|".join(COMMANDS) + r")\b", re.MULTILINE | re.IGNORECASE)


def slash_command(body: str | None) -> str | None:
    """The first command in the comment, lower-cased; None when there is none."""
    match = _COMMAND.search(body or "")
    return match.group("name").lower() if match else None


_FRESH = re.compile(r"^[ \t]*/retry[ \t]+fresh\b", re.MULTILINE | re.IGNORECASE)


def asks_fresh(body: str | None) -> bool:
    """`/retry fresh`: start over from the default branch instead of carrying on."""
    return _FRESH.search(body or "") is not None


def mentions(body: str | None, slug: str) -> bool:
    """Whether the comment mentions the App (`@slug` or `@slug[bot]`)."""
    return re.search(rf"(?<![\w-])@{re.escape(slug)}(?:\[bot\])?(?![\w-])", body or "", re.IGNORECASE) is not None
