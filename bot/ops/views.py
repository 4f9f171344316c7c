"""Plain-text views of what bot/ops.py reads: tables for lists, a readable record for one session,
and agent transcripts turned back into a conversation. Everything printed passes `redact`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from bot.core.orchestrator import Status
from bot.telemetry.logs import redact

INDENT = "    "


# ----- small formats


def age(moment: str | datetime, now: datetime | None = None) -> str:
    then = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def utc(moment: str) -> str:
    """An ISO timestamp (UTC) as `2026-01-05 12:00:00 UTC`."""
    return moment[:19].replace("T", " ") + " UTC"


def compact(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]
    return redact("\n".join(lines))


def step_label(step: str | None, status: str | None) -> str:
    if step is None:
        return "-"
    return f"{step} ({'running' if status == 'started' else status})"


def one_line(text: Any, limit: int = 100) -> str:
    first = str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


# ----- sessions


def sessions_table(sessions: Sequence[dict[str, Any]], now: datetime | None = None) -> str:
    if not sessions:
        return "no sessions"
    rows = [(s["id"], s["repository"], f"#{s['issue']}", s["component"] or "-", s["status"],
             step_label(s["step"], s["step_status"]), s["fix_iterations"], compact(s["tokens"]["total"]),
             f"${s['cost_usd']:.2f}", age(s["created_at"], now)) for s in sessions]
    return table(("ID", "REPOSITORY", "ISSUE", "COMPONENT", "STATUS", "STEP", "FIXES", "TOKENS", "COST", "AGE"), rows)


def session_text(record: dict[str, Any], now: datetime | None = None) -> str:
    lines = [_headline(record), *_facts(record)]
    if record["files"]:
        lines += ["", "Files:", *(f"{INDENT}{path}" for path in record["files"])]
    if record["commits"]:
        lines += ["", "Commits:", *(f"{INDENT}{c['sha'][:12]}  {c['step']}  (#{c['seq']}, {utc(c['at'])})"
                                   for c in record["commits"])]
    if record["checks"]:
        lines += ["", *_checks(record["checks"])]
    lines += ["", "Timeline:", *(_timeline_line(entry) for entry in record["timeline"])]
    return redact("\n".join(lines))


def _headline(record: dict[str, Any]) -> str:
    reason = f": {record['status_reason']}" if record.get("status_reason") else ""
    return (f"Session {record['id']}  {record['repository']}#{record['issue']}  "
            f"{record['component'] or '(component not resolved yet)'}  [{record['status']}{reason}]")


def _facts(record: dict[str, Any]) -> list[str]:
    usage = record["usage"]
    facts = [
        ("started", f"{utc(record['created_at'])} by {record['triggered_by']} ({record['trigger']}), "
                    f"updated {utc(record['updated_at'])}"),
        ("step", step_label(record["step"], record["step_status"])),
        ("design", record.get("design_path")), ("tests", record.get("test_path")),
        ("branch", record.get("branch")), ("pull request", f"#{record['pr_number']}" if record["pr_number"] else None),
        ("base / head", f"{(record.get('base_sha') or '-')[:12]} / {(record.get('head_sha') or '-')[:12]}"
         if record.get("base_sha") or record.get("head_sha") else None),
        ("fix iterations", record["fix_iterations"]),
        ("tokens", f"{usage['total']:,} (input {usage['input']:,}, output {usage['output']:,}, "
                   f"cache write {usage['cache_write']:,}, cache read {usage['cache_read']:,})"),
        ("cost", f"${usage['cost_usd']:.4f}"),
    ]
    return [f"{INDENT}{name + ':':<16}{value}" for name, value in facts if value is not None]


def _checks(checks: dict[str, Any]) -> list[str]:
    head = f" on {checks['head_sha'][:12]}" if checks.get("head_sha") else ""
    lines = [f"Checks{head}: {checks.get('state', '?')}"]
    for check in checks.get("checks") or []:
        mark = "✓" if check.get("passed") else "✗"
        lines.append(f"{INDENT}{mark} {check.get('name')}: {check.get('conclusion')}")
    for test in checks.get("failing_tests") or []:
        lines.append(f"{INDENT}failing: {test}")
    for key in ("reason", "note"):
        if checks.get(key):
            lines.append(f"{INDENT}{one_line(checks[key], 200)}")
    return lines


def _timeline_line(entry: dict[str, Any]) -> str:
    when = utc(entry["at"])
    if entry["kind"] == "signal":
        by = (entry.get("input") or {}).get("by")
        return f"{INDENT}#{entry['seq']:<3} {when}  signal {entry['step']}" + (f" (by {by})" if by else "")
    text = f"{INDENT}#{entry['seq']:<3} {when}  {entry['step']} {entry['status']}"
    if entry["status"] == Status.started and entry.get("attempt", 1) > 1:
        text += f" (attempt {entry['attempt']})"
    detail = _detail(entry)
    return text + (f": {detail}" if detail else "")


def _detail(entry: dict[str, Any]) -> str:
    result = entry.get("result") or {}
    parts = []
    if entry.get("error"):
        parts.append(one_line(entry["error"]))
    if "state" in result:
        parts.append(str(result["state"]))
    if result.get("failed_checks"):
        parts.append("failed: " + ", ".join(map(str, result["failed_checks"])))
    if entry.get("commit_sha"):
        parts.append(f"commit {entry['commit_sha'][:7]}")
    if result.get("files"):
        parts.append(f"{len(result['files'])} file(s)")
    if entry.get("usage"):
        parts.append(f"{entry['usage']['total']:,} tokens, ${entry['usage']['cost_usd']:.4f}")
    return ", ".join(parts)


# ----- transcripts


def transcripts_text(record: dict[str, Any]) -> str:
    sections = []
    for entry in record["timeline"]:
        if entry.get("transcript"):
            title = f"── #{entry['seq']} {entry['step']} {entry['status']} (attempt {entry.get('attempt', 1)}) "
            sections.append(title.ljust(78, "─") + "\n" + transcript_text(entry["transcript"]))
    return redact("\n\n".join(sections)) if sections else "no transcripts stored for this session"


def transcript_text(entries: Sequence[Any]) -> str:
    return "\n".join(_entry(entry) for entry in entries)


def _entry(entry: Any) -> str:
    if not isinstance(entry, dict):
        return _indent(json.dumps(entry, indent=2, default=str))
    kind = entry.get("type")
    if kind == "request":
        tools = ", ".join(t.get("name", "?") for t in entry.get("tools") or [] if isinstance(t, dict))
        head = f"[request] model {entry.get('model')}, max_tokens {entry.get('max_tokens')}, tools: {tools or '-'}"
        return head + ("\n[system]\n" + _indent(str(entry["system"])) if entry.get("system") else "")
    if kind == "stop":
        return f"[stopped] {entry.get('reason')}" + (" (retryable)" if entry.get("retryable") else "")
    if kind == "response" or entry.get("role") == "assistant":
        return _turn_header(entry) + "\n" + _content(entry.get("content"))
    if "role" in entry:
        return f"[{entry['role']}]\n" + _content(entry.get("content"))
    if kind == "note":
        return f"[note] {entry.get('text')}"
    return _indent(json.dumps(entry, indent=2, default=str))


def _turn_header(entry: dict[str, Any]) -> str:
    usage = entry.get("usage") or {}
    facts = [f"turn {entry['turn']}" if "turn" in entry else None,
             f"stop: {entry['stop_reason']}" if entry.get("stop_reason") else None,
             ", ".join(f"{k} {v}" for k, v in usage.items() if v) or None,
             f"${entry['cost_usd']:.4f}" if isinstance(entry.get("cost_usd"), (int, float)) else None]
    return "[assistant] " + " · ".join(f for f in facts if f)


def _content(content: Any) -> str:
    if isinstance(content, str):
        return _indent(content)
    return "\n".join(_block(block) for block in content or [])


def _block(block: Any) -> str:
    if not isinstance(block, dict):
        return _indent(str(block))
    kind = block.get("type")
    if kind == "text":
        return _indent(block.get("text", ""))
    if kind == "thinking":
        return _indent("(thinking) " + str(block.get("thinking", "")))
    if kind == "tool_use":
        return _indent(f"→ {block.get('name')} {block.get('id', '')}\n" + _indent(_tool_input(block.get("input"))))
    if kind == "tool_result":
        error = " (error)" if block.get("is_error") else ""
        result = _indent(_content_text(block.get("content")))
        return _indent(f"← result {block.get('tool_use_id', '')}{error}\n" + result)
    return _indent(json.dumps(block, indent=2, default=str))


def _tool_input(value: Any) -> str:
    if not isinstance(value, dict):
        return json.dumps(value, default=str)
    lines = []
    for key, item in value.items():
        text = item if isinstance(item, str) else json.dumps(item, default=str)
        lines.append(f"{key}:\n{_indent(text)}" if "\n" in text else f"{key}: {text}")
    return "\n".join(lines)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    texts = [b.get("text", "") if isinstance(b, dict) and b.get("type") == "text" else json.dumps(b, default=str)
             for b in content or []]
    return "\n".join(texts)


def _indent(text: str) -> str:
    return "\n".join(INDENT + line if line else line for line in str(text).splitlines()) or INDENT


# ----- deliveries


def deliveries_table(deliveries: Sequence[dict[str, Any]], now: datetime | None = None) -> str:
    if not deliveries:
        return "no deliveries"
    rows = [(d["delivery_id"], f"{d['event']}.{d['action']}" if d["action"] else d["event"], d["repository"] or "-",
             d["sender"] or "-", d["outcome"], age(d["received_at"], now), one_line(d["error"], 60))
            for d in deliveries]
    return table(("DELIVERY", "EVENT", "REPOSITORY", "SENDER", "OUTCOME", "AGE", "ERROR"), rows)
