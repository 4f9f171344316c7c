"""How the web package's modules depend on each other, read from their source.

`webhooks/app.py` composes the routers; `webhooks/pages.py` is a leaf every page module may use;
and only `webhooks/http.py` builds HTTP clients. (No cycles and no imports inside functions:
tests/test_architecture.py, for every package.)
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "webhooks"


def modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in PACKAGE.glob("*.py")}


def imported_siblings(tree: ast.Module) -> set[str]:
    """The webhooks modules `tree` imports, at any depth."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("webhooks."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "webhooks":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("webhooks."):
                found.add(node.module.split(".")[1])
    return found


def test_pages_is_a_leaf():
    assert imported_siblings(modules()["pages"]) == set()


def test_the_composition_root_includes_the_routers():
    assert {"setup", "auth", "dashboard"} <= imported_siblings(modules()["app"])


def test_http_clients_are_built_in_one_place():
    builders = {"AsyncClient", "Client", "GitHub"}
    built = [f"{name}.py:{node.lineno}" for name, tree in modules().items() if name != "http"
             for node in ast.walk(tree) if isinstance(node, ast.Call)
             and (getattr(node.func, "attr", None) in builders or getattr(node.func, "id", None) in builders)]
    assert built == []
    for name in ("auth", "setup"):
        assert "http" in imported_siblings(modules()[name]), name
