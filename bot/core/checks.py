"""Which check runs decide a commit's verdict, and which of them passed. Pure."""

from __future__ import annotations

import fnmatch
from typing import Any

PASSING = frozenset({"success", "neutral", "skipped"})


def counted_checks(runs: list[dict[str, Any]], required: list[str], own_app_id: int | None) -> list[dict[str, Any]]:
    """The check runs that decide: the required ones if configured, else all but the bot's own;
    of re-runs with the same name, only the latest."""
    latest: dict[str, dict[str, Any]] = {}
    for run in runs:
        if own_app_id is not None and (run.get("app") or {}).get("id") == own_app_id:
            continue
        if required and not any(fnmatch.fnmatchcase(run["name"], pattern) for pattern in required):
            continue
        if run["name"] not in latest or run["id"] > latest[run["name"]]["id"]:
            latest[run["name"]] = run
    return sorted(latest.values(), key=lambda r: r["name"])


def missing_required(counted: list[dict[str, Any]], required: list[str]) -> list[str]:
    """Required names (not globs) with no check run yet."""
    names = {r["name"] for r in counted}
    return [p for p in required if not any(ch in p for ch in "*?[") and p not in names]


def passed(run: dict[str, Any]) -> bool:
    return run.get("conclusion") in PASSING


def all_finished(counted: list[dict[str, Any]], required: list[str]) -> bool:
    return not missing_required(counted, required) and all(r.get("status") == "completed" for r in counted)
