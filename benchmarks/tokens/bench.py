"""Token benchmark: recorded sessions of the Claude agent (generate; generate, fix; generate, fix,
fix), through the real SDK against the fake Anthropic API, on a branch of the fake GitHub. The fake
computes usage from the request bytes and models Anthropic's prompt cache: prefixes cached at
breakpoints, the 20-block lookback, each model's minimum cacheable length, TTLs refreshed on read.

Each step is a separate agent run on a freshly opened workspace, and its edits are committed
between steps, exactly as the steps do. A fake clock advances 20 s per model turn and a chosen
CI time between steps. Every request's prompt is split into what was read from the cache, written
to it and sent uncached, and each written token is put down to the block it belongs to: the
tools, the system prompt, the context block, the task block, or the conversation after it (what
the moving breakpoints write). Prints the tables and writes them to results.md. See README.md.

    /work/venv/bin/python benchmarks/tokens/bench.py
"""

from __future__ import annotations

import asyncio
import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from githubkit import GitHub

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from bot.agent import AgentTask, Usage  # noqa: E402
from bot.agent.claude import ClaudeAgent  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.github.workspace import Workspace  # noqa: E402
from tests.fakes.anthropic import (  # noqa: E402
    FakeAnthropic,
    FakeClock,
    RecordedRequest,
    Turn,
    min_cacheable_tokens,
    prefix_tokens,
    prompt_segments,
    tool_use_block,
)
from tests.fakes.github import FakeGitHub  # noqa: E402

FIXTURES = HERE / "fixtures"
REPO, BRANCH = "acme/services", "component-bot/12-lrucache"
DESIGN, TESTS, IMPL = "docs/design/lrucache.md", "tests/test_lrucache.py", "lrucache/cache.py"
EDITOR = "str_replace_based_edit_tool"
MODEL = "claude-sonnet-5-5"  # the bot's default model
SECONDS_PER_TURN = 20
AGENTS_MD = """# Working in acme/services

- Python 3.11, type hints everywhere, no new third-party dependencies.
- Each package under the repository root is importable on its own; tests import the package, not modules.
- Keep public functions documented with one-line docstrings; explain the non-obvious why in comments.
- Run `pytest -q` from the repository root; CI runs the same command on every push.
"""
REPO_FILES = {
    "README.md": "# services\n\nShared Python packages for Acme's backend services.\n",
    "AGENTS.md": AGENTS_MD,
    "pyproject.toml": "[project]\nname = \"acme-services\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\n",
    "lrucache/__init__.py": '"""Small in-process caches."""\n',
    "pricing/__init__.py": "from pricing.client import PricingClient\n",
    "pricing/client.py": "class PricingClient:\n    def quote(self, sku: str) -> float:\n        raise NotImplementedError\n",
    "tests/test_pricing.py": "def test_placeholder():\n    assert True\n",
    ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
                                "      - uses: actions/checkout@v4\n      - run: pip install pytest && pytest -q\n",
}
PACKAGES = ("accounts", "billing", "catalog", "inventory", "notifications", "search")
MODULES = ("api", "client", "errors", "events", "handlers", "models", "queries", "schemas", "service", "settings",
           "storage", "tasks", "utils", "validators", "views", "webhooks")


def large_repository() -> dict[str, str]:
    """About 300 more files: six packages of sixteen modules, their tests and a few documents."""
    files = {}
    for package in PACKAGES:
        files[f"{package}/__init__.py"] = f'"""The {package} service."""\n'
        files[f"docs/{package}.md"] = f"# {package}\n"
        for module in MODULES:
            files[f"{package}/{module}.py"] = f'"""{package}.{module}."""\n'
            files[f"{package}/tests/test_{module}.py"] = f"from {package} import {module}  # noqa: F401\n"
            files[f"{package}/migrations/{MODULES.index(module):04d}_{module}.py"] = "operations = []\n"
    return files


FIX_1_REPORT = """3 failed, 11 passed in 0.41s

FAILED tests/test_lrucache.py::test_len_ignores_expired_entries
    def test_len_ignores_expired_entries():
        clock = Clock()
        cache = LRUCache(3, ttl=5, clock=clock)
        cache.put("a", 1)
        clock.now = 3
        cache.put("b", 2)
        clock.now = 6
>       assert len(cache) == 1
E       assert 2 == 1
E        +  where 2 = len(<lrucache.cache.LRUCache object at 0x7f2a1c3b5d50>)
tests/test_lrucache.py:88: AssertionError

FAILED tests/test_lrucache.py::test_reading_does_not_extend_lifetime
>       assert "a" not in cache
E       AssertionError: assert 'a' not in <lrucache.cache.LRUCache object at 0x7f2a1c3b6010>
tests/test_lrucache.py:71: AssertionError

FAILED tests/test_lrucache.py::test_cached_decorator_caches_results_not_exceptions
E   ImportError: cannot import name 'cached' from 'lrucache' (/home/runner/work/services/services/lrucache/__init__.py)
"""
FIX_2_REPORT = """1 failed, 13 passed in 0.39s

FAILED tests/test_lrucache.py::test_reading_does_not_extend_lifetime
>       assert "a" not in cache
E       AssertionError: assert 'a' not in <lrucache.cache.LRUCache object at 0x7f2a1c3b6010>
tests/test_lrucache.py:71: AssertionError
"""
LEN_BEFORE = "        with self._lock:\n            return len(self._entries)\n"
LEN_AFTER = ("        with self._lock:\n            return sum(1 for _, written_at in self._entries.values()\n"
             "                       if not self._expired(written_at))\n")
CONTAINS_BEFORE = "        with self._lock:\n            return key in self._entries\n"
CONTAINS_AFTER = ("        with self._lock:\n            entry = self._entries.get(key)  # type: ignore[call-overload]\n"
                  "            return entry is not None and not self._expired(entry[1])\n")
INIT_AFTER = ('"""Small in-process caches."""\n\nfrom lrucache.cache import CacheStats, LRUCache, cached\n\n'
              '__all__ = ["CacheStats", "LRUCache", "cached"]\n')


def editor(command: str, **fields: Any) -> dict[str, Any]:
    return tool_use_block(EDITOR, {"command": command, **fields})


def tool_turn(*blocks: dict[str, Any] | str) -> Turn:
    return Turn.build(list(blocks), stop_reason="tool_use")


def generate_script(implementation: str) -> list[Turn]:
    return [
        tool_turn("I'll look at the package layout first.", editor("view", path="."),
                  editor("view", path="lrucache/__init__.py")),
        tool_turn(tool_use_block("search", {"pattern": "OrderedDict|RLock", "regex": True, "path": "*.py"})),
        tool_turn("Writing the cache module as the design specifies.",
                  editor("create", path=IMPL, file_text=implementation)),
        tool_turn(editor("str_replace", path="lrucache/__init__.py", old_str='"""Small in-process caches."""\n',
                         new_str=INIT_AFTER)),
        Turn.build(text="Implemented LRUCache, CacheStats and cached in lrucache/cache.py and exported them "
                        "from the package, following docs/design/lrucache.md."),
    ]


def fix_1_script() -> list[Turn]:
    return [
        tool_turn("`__len__` counts expired entries; the ImportError suggests the export is missing.",
                  editor("view", path=IMPL, view_range=[70, 95]), editor("view", path="lrucache/__init__.py")),
        tool_turn(editor("str_replace", path=IMPL, old_str=LEN_BEFORE, new_str=LEN_AFTER)),
        Turn.build(text="__len__ now counts only live entries (design rule 5). The export was already there; "
                        "the ImportError came from the failing import order and is fixed with it."),
    ]


def fix_2_script() -> list[Turn]:
    return [
        tool_turn(tool_use_block("search", {"pattern": "def __contains__", "path": "lrucache/"})),
        tool_turn(editor("view", path=IMPL, view_range=[88, 100])),
        tool_turn(editor("str_replace", path=IMPL, old_str=CONTAINS_BEFORE, new_str=CONTAINS_AFTER)),
        Turn.build(text="__contains__ is now false for an expired entry (design rule 5)."),
    ]


def generate_wide_script(implementation: str) -> list[Turn]:
    """The generate run, with the module checked in one turn of ten parallel views after its creation:
    21 new blocks (text, ten calls, ten results), more than the API's 20-block lookback."""
    views = [editor("view", path=IMPL, view_range=[n, n + 29]) for n in (1, 31, 61, 91)]
    views += [editor("view", path=TESTS, view_range=[n, n + 29]) for n in (1, 31, 61)]
    views += [editor("view", path=p) for p in ("lrucache/__init__.py", "pyproject.toml", "AGENTS.md")]
    script = generate_script(implementation)
    return [*script[:3], tool_turn("Checking the module against the tests and the package layout.", *views),
            *script[3:]]


def session_steps(names: tuple[str, ...], wide: bool) -> list[tuple[str, list[Turn], dict[str, Any]]]:
    implementation = (FIXTURES / "cache_v1.py").read_text()
    steps = {
        "generate": ((generate_wide_script if wide else generate_script)(implementation), dict(kind="implement")),
        "fix 1": (fix_1_script(), dict(kind="fix", failure_report=FIX_1_REPORT, attempt=1)),
        "fix 2": (fix_2_script(), dict(kind="fix", failure_report=FIX_2_REPORT, attempt=2)),
    }
    return [(name, *steps[name]) for name in names]


BLOCKS = ("tools", "system", "context", "task", "conversation")
SESSIONS = {"happy path": ("generate",), "one fix": ("generate", "fix 1"), "two fixes": ("generate", "fix 1", "fix 2")}
CI_WAITS = (180, 480)
TTLS = ("1h", "5m")  # the provider's default for this model, and what Bedrock gives models before Claude 4.5
MODELS_BY_MINIMUM = ("claude-sonnet-4-5", MODEL, "claude-opus-4-6")
GOAL = 0.80
REPOSITORY_SIZE = len(REPO_FILES) + 2 + len(large_repository())


@dataclass
class Request:
    """One model request: its prompt split into read, written and uncached tokens, and the written ones
    put down to the block they belong to."""

    step: str
    turn: int
    total: int
    read: int
    written: int
    uncached: int
    written_by: dict[str, int]


@dataclass
class Scenario:
    session: str
    prefix_ttl: str
    ci_seconds: int
    model: str = MODEL
    wide: bool = False
    large: bool = False  # ~300 more files in the repository
    base_listing: bool = False  # the task carries the base's file list (AgentTask.base_paths)
    usage: Usage = field(default_factory=Usage)
    requests: list[Request] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.session + (", wide reads" if self.wide else "") + (
            f", {REPOSITORY_SIZE} files" if self.large else "") + (", base file list" if self.base_listing else "")

    @property
    def cached_share(self) -> float:
        return self.usage.cache_read_tokens / self.usage.prompt_tokens

    def written_by(self, block: str) -> int:
        return sum(r.written_by[block] for r in self.requests)


class TickingClock(FakeClock):
    """Every model request takes SECONDS_PER_TURN of the fake clock."""

    def __call__(self) -> float:
        now = self.now
        self.now += SECONDS_PER_TURN
        return now


def unified_diff(before: dict[str, str], after: dict[str, str]) -> str:
    lines: list[str] = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            lines += difflib.unified_diff((before.get(path) or "").splitlines(True),
                                          (after.get(path) or "").splitlines(True), f"a/{path}", f"b/{path}")
    return "".join(lines)


def account(step: str, turn: int, record: RecordedRequest) -> Request:
    """Split the prompt by the fake's usage: tokens [0, read) were read, [read, read + written) written."""
    body, usage = record.body, record.response_json["usage"]
    segments = prompt_segments(body, record.messages)
    kinds = ["tools"] * len(body["tools"]) + ["system"] * len(body["system"]) + ["context", "task"]
    kinds += ["conversation"] * (len(segments) - len(kinds))
    read, written = usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]
    written_by, start = dict.fromkeys(BLOCKS, 0), 0
    for kind, end in zip(kinds, prefix_tokens(segments)):
        written_by[kind] += max(0, min(end, read + written) - max(start, read))
        start = end
    return Request(step, turn, read + written + usage["input_tokens"], read, written, usage["input_tokens"], written_by)


async def run_session(session: str, prefix_ttl: str, ci_seconds: int, *, model: str = MODEL,
                      wide: bool = False, large: bool = False, base_listing: bool = False) -> Scenario:
    github = FakeGitHub()
    files = {**REPO_FILES, DESIGN: (FIXTURES / "design.md").read_text(), TESTS: (FIXTURES / "test_cache.py").read_text(),
             **(large_repository() if large else {})}
    github.add_repo(REPO, files=files, installation_id=42)
    state = github.repo(REPO)
    state.refs[f"refs/heads/{BRANCH}"] = state.branches["main"]
    clock = TickingClock()
    anthropic = FakeAnthropic(clock=clock)
    settings = Settings(_env_file=None, anthropic_api_key="sk-ant-benchmark-key-0000", bot_model=model)
    scenario = Scenario(session, prefix_ttl, ci_seconds, model, wide, large, base_listing)
    base_task = dict(repository=REPO, issue_number=12, issue_title="Implement the LRU cache",
                     issue_body="### Component\n\nlrucache\n\n### Design file\n\n" + DESIGN + "\n\n### Test file\n\n"
                                + TESTS + "\n", component_name="lrucache", design_path=DESIGN, test_path=TESTS,
                     instructions={"AGENTS.md": AGENTS_MD}, rules=("Do not add dependencies.",),
                     max_attempts=3, base_paths=tuple(sorted(files)) if base_listing else None)
    gh = GitHub("token", base_url="https://api.github.com/", http_cache=False, auto_retry=False,
                async_transport=httpx.ASGITransport(app=github.app))
    async with gh, anthropic.client(max_retries=0) as client:
        agent = ClaudeAgent(settings, client=client, prefix_ttl=prefix_ttl)
        for index, (name, script, extra) in enumerate(session_steps(SESSIONS[session], wide)):
            if index:
                clock.advance(ci_seconds)
            for turn in script:
                anthropic._enqueue(turn)
            workspace = await Workspace(gh, "acme", "services", BRANCH).open()
            first_request = len(anthropic.message_requests)
            diff = unified_diff(files, github.tree_files(REPO, BRANCH)) if extra["kind"] == "fix" else ""
            result = await agent.implement(AgentTask(**base_task, **extra, diff=diff), workspace)
            await workspace.commit(f"{name}\n\n{result.summary}")
            scenario.usage = scenario.usage + result.usage
            scenario.requests += [account(name, turn, record) for turn, record
                                  in enumerate(anthropic.message_requests[first_request:], start=1)]
        anthropic.assert_done()
    return scenario


def share_table(scenarios: list[Scenario]) -> str:
    rows = ["| session | CI wait | prefix TTL | requests | input tokens (all) | read | written | uncached | "
            "cached share | est. cost |", "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in scenarios:
        u = s.usage
        rows.append(f"| {s.name} | {s.ci_seconds // 60} min | {s.prefix_ttl} | {len(s.requests)} | "
                    f"{u.prompt_tokens:,} | {u.cache_read_tokens:,} | {u.cache_write_tokens:,} | {u.input_tokens:,} | "
                    f"**{s.cached_share:.1%}** | ${u.cost_usd:.4f} |")
    return "\n".join(rows)


def written_table(scenarios: list[Scenario]) -> str:
    rows = ["| session | CI wait | prefix TTL | written | " + " | ".join(BLOCKS) + " |",
            "|---|---:|---|---:|" + "---:|" * len(BLOCKS)]
    for s in scenarios:
        rows.append(f"| {s.name} | {s.ci_seconds // 60} min | {s.prefix_ttl} | {s.usage.cache_write_tokens:,} | "
                    + " | ".join(f"{s.written_by(b):,}" for b in BLOCKS) + " |")
    return "\n".join(rows)


def request_table(scenario: Scenario) -> str:
    rows = ["| step | turn | input (all) | read | written | uncached | written: " + " | ".join(BLOCKS) + " |",
            "|---|---:|---:|---:|---:|---:|" + "---:|" * len(BLOCKS)]
    for r in scenario.requests:
        rows.append(f"| {r.step} | {r.turn} | {r.total:,} | {r.read:,} | {r.written:,} | {r.uncached:,} | "
                    + " | ".join(f"{r.written_by[b]:,}" if r.written_by[b] else "" for b in BLOCKS) + " |")
    return "\n".join(rows)


def minimum_table(scenarios: list[Scenario]) -> str:
    rows = ["| model | caches prefixes from | input tokens (all) | read | written | cached share |",
            "|---|---:|---:|---:|---:|---:|"]
    for s in scenarios:
        u = s.usage
        rows.append(f"| {s.model} | {min_cacheable_tokens(s.model):,} tokens | {u.prompt_tokens:,} | "
                    f"{u.cache_read_tokens:,} | {u.cache_write_tokens:,} | {s.cached_share:.1%} |")
    return "\n".join(rows)


def goal_lines(scenarios: list[Scenario]) -> list[str]:
    return [f"- {s.name}, {s.ci_seconds // 60} min CI: {s.cached_share:.1%} "
            f"({'met' if s.cached_share >= GOAL else 'not met'})"
            for s in scenarios if s.session == "one fix" and s.prefix_ttl == "1h"]


def find(scenarios: list[Scenario], session: str, ttl: str, ci_seconds: int, **flags: bool) -> Scenario:
    return next(s for s in scenarios if (s.session, s.prefix_ttl, s.ci_seconds) == (session, ttl, ci_seconds)
                and all(getattr(s, flag) == flags.get(flag, False) for flag in ("wide", "large", "base_listing")))


async def main() -> None:
    scenarios = [await run_session(session, ttl, ci) for session in SESSIONS for ttl in TTLS for ci in CI_WAITS]
    scenarios += [await run_session("one fix", "1h", ci, wide=True) for ci in CI_WAITS]
    scenarios += [await run_session(session, "1h", 480, large=True, base_listing=listing)
                  for session in ("one fix", "two fixes") for listing in (False, True)]
    by_minimum = [await run_session("one fix", "1h", 480, model=model) for model in MODELS_BY_MINIMUM]
    report = "\n\n".join([
        "# Token benchmark results",
        f"Model {MODEL} (the bot's default; Sonnet prices; the fake caches prefixes of "
        f"{min_cacheable_tokens(MODEL):,} tokens and more for it). Each step a separate agent run; "
        f"{SECONDS_PER_TURN} s per model turn on the fake clock; the CI wait between steps as shown. "
        "\"prefix TTL\" is the TTL of the tools, system prompt and context block: 1h is what the Anthropic API, "
        "Vertex AI and Bedrock (Claude 4.5 on) get, 5m what Bedrock gives older models. Produced by "
        "`benchmarks/tokens/bench.py`; README.md explains the scenarios and the numbers.",
        f"## Goal: at least {GOAL:.0%} of input tokens from the cache in a one-fix session (1h prefix TTL)",
        "\n".join(goal_lines(scenarios)),
        "## Cached share by session",
        share_table(scenarios),
        "## Where the written tokens come from",
        "Tokens written to the cache, by the block they belong to (\"conversation\": what the moving "
        "breakpoints write after the task block).",
        written_table(scenarios),
        "## Per request: one fix, 8 min CI, 1h prefix TTL",
        request_table(find(scenarios, "one fix", "1h", 480)),
        "## Per request: one fix, 8 min CI, 5m prefix TTL",
        request_table(find(scenarios, "one fix", "5m", 480)),
        "## Per request: one fix with ten parallel views in the generate run, 8 min CI, 1h prefix TTL",
        request_table(find(scenarios, "one fix", "1h", 480, wide=True)),
        "## The model's minimum cacheable length (one fix, 8 min CI, 1h prefix TTL)",
        minimum_table(by_minimum),
    ]) + "\n"
    (HERE / "results.md").write_text(report)
    print(report)


if __name__ == "__main__":
    asyncio.run(main())
