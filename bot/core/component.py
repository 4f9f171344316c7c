"""Which component an issue asks for: its name, design file and test file, and optionally the
working directory of a monorepo.

Read from the issue form's headings (`### Component`, `### Design file`, `### Test file`,
`### Working directory`) or from `Key: value` lines in a hand-written issue. The design and test
paths are from the repository's root whatever the working directory: it only scopes what the
agent is shown first (the file list, the instruction files) and which checks decide. Pure, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.paths import PathRefused, clean_directory

FIELDS = {"component": "name", "design file": "design_path", "test file": "test_path",
          "working directory": "working_directory"}
REQUIRED = ("component", "design file", "test file")
NO_RESPONSE = {"_no response_", "no response", "n/a", "none", "-"}
_HEADING = re.compile(r"^#{2,6}\s+(?P<key>.+?)\s*#*\s*$")
_KEY_VALUE = re.compile(r"^\s*[-*]?\s*\**(?P<key>component|design file|test file|working directory)\**\s*:"
                        r"\s*(?P<value>.+?)\s*$", re.I)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_NAME = re.compile(r"[A-Za-z0-9 ._-]{1,80}")


@dataclass(frozen=True)
class Component:
    name: str
    design_path: str
    test_path: str
    working_directory: str | None = None  # None: the issue does not say (the config's applies); "": the root

    @property
    def slug(self) -> str:
        return slugify(self.name)


class ComponentNotSpecified(ValueError):
    """The issue does not say which component, design file or test file; the message says what to add."""


def parse_component(body: str | None) -> Component:
    values = {**_from_key_values(body or ""), **_from_headings(body or "")}
    missing = [label for label in REQUIRED if not values.get(FIELDS[label])]
    if missing:
        raise ComponentNotSpecified(
            "The issue does not name the " + ", ".join(f"**{m}**" for m in missing) + ". Add them to the issue, "
            "either as the issue form's sections (`### Component`, `### Design file`, `### Test file`) or as "
            "lines like `Design file: docs/stack.md`."
        )
    name = " ".join(values["name"].split())
    if not _NAME.fullmatch(name):
        raise ComponentNotSpecified(
            "The component's name may use letters, digits, spaces and `. _ -`, at most 80 characters "
            f"(the issue says {name[:90]!r}). Rename it in the issue."
        )
    return Component(name, values["design_path"], values["test_path"], working_directory_of(values))


def working_directory_of(values: dict[str, str]) -> str | None:
    """The issue's working directory, clean ("" for the root; None when the issue names none)."""
    if "working_directory" not in values:
        return None
    try:
        return clean_directory(values["working_directory"])
    except PathRefused as exc:
        raise ComponentNotSpecified(
            f"The **working directory** must be a folder of the repository, given from its root like "
            f"`services/api` ({exc}). Correct it in the issue."
        ) from None


def _clean(value: str) -> str | None:
    value = value.strip().strip("`").strip()
    if value.startswith("[") and "](" in value:  # a Markdown link: keep its text
        value = value[1:value.index("](")]
    value = value.strip().strip("`").strip()
    return None if not value or value.lower() in NO_RESPONSE else value


def _from_headings(body: str) -> dict[str, str]:
    values: dict[str, str] = {}
    current: str | None = None
    for line in _HTML_COMMENT.sub("", body).splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = FIELDS.get(heading.group("key").strip().lower())
            continue
        if current and current not in values and line.strip():
            cleaned = _clean(line)
            if cleaned:
                values[current] = cleaned
            current = None
    return values


def _from_key_values(body: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in _HTML_COMMENT.sub("", body).splitlines():
        match = _KEY_VALUE.match(line)
        if match:
            attr = FIELDS[match.group("key").lower()]
            cleaned = _clean(match.group("value"))
            if cleaned and attr not in values:
                values[attr] = cleaned
    return values


def slugify(name: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:limit].rstrip("-") or "component"
