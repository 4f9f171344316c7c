"""The Claude agent: a Messages API tool loop whose only hands are the text editor tool and a
read-only search, both working on the branch workspace.

Two more tools are reports: `report_spec_problem` ends the run, and `report_traceability` hands in
the design → code → tests table, checked before it is kept (bot/agent/traceability.py).

The loop runs until the model ends its turn, bounded by the task's turn limit and token budget.
Whenever it cannot finish (a limit, a refusal, the API unavailable after the SDK's retries) it
raises `AgentStopped` with the usage and transcript so far; the step then discards the staged
edits, so a stopped run never commits half its work.

Prompt caching (at most four breakpoints per request; benchmarks/tokens measures the result):

* the system prompt, which also covers the tools before it (they never change independently,
  so a breakpoint of their own would only use up a slot). Both are the same for every task, so
  any run within the hour reads them, on models whose minimum cacheable length they reach
  (about 1,200 tokens: Sonnet 4.5 and older, not Sonnet 4.6's 2,048 or Opus 4.5's 4,096);
* the context block (design, tests, repository rules and instructions, the base's files when
  the step gives them): identical for every step of a session, so a fix run reads what the
  generate run wrote; 1-hour TTL where the provider accepts it (bot/agent/providers.py),
  because the CI run between two steps often takes longer than five minutes;
* two moving breakpoints: on the last block of the conversation, and on the block that was
  last in the previous request (on the first request the task block is the last). Each request
  writes its own prefix and reads the previous one at a breakpoint of its own, however many
  blocks a turn added: the API looks for a cached prefix only up to 20 blocks before a
  breakpoint, and a turn of ten parallel tool calls adds 21.

Everything before the moving breakpoints is byte-identical from turn to turn and, up to the end
of the context block, from step to step: nothing in the tools, the system prompt or the context
depends on the step, the attempt, the branch's changes, the time or the budget.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any

import anthropic
import httpx2
from githubkit.exception import GitHubException

from bot.telemetry import metrics
from bot.agent import AgentResult, AgentStopped, AgentTask, Usage
from bot.agent import prompts, providers
from bot.agent.api_errors import retry_after_of
from bot.agent.providers import ModelClient
from bot.core.pricing import DEFAULT_PRICING, Pricing
from bot.agent.tools import Toolbox, ToolOutcome, tool_definitions
from bot.github.workspace import Workspace
from bot.telemetry.logs import REDACTED, redact

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = httpx2.Timeout(600.0, connect=10.0)
MAX_RETRIES = 3
MAX_OUTPUT_TOKENS = 16_000
MAX_CONSECUTIVE_CUTOFFS = 3
MAX_SUMMARY_CHARS = 2_000
EPHEMERAL: dict[str, Any] = {"type": "ephemeral"}
BLOCKS_TAKING_CACHE_CONTROL = {"text", "tool_use", "tool_result", "image", "document"}
CONTINUE_AFTER_CUTOFF = (
    "Your reply was cut off by the output limit. Continue exactly where you stopped; "
    "write large files in parts (create with the first part, then `insert` the rest)."
)
TRUNCATED_TOOL_CALL = (
    "Not run: your reply hit the output limit before this tool call was complete. Write large files "
    "in parts: `create` the file with the first part, then add the rest with `insert`."
)


class ClaudeAgent:
    """`Agent` backed by Claude. One instance serves many runs; each `implement` call is one run."""

    def __init__(self, settings: Any, *, client: ModelClient | None = None,
                 pricing: Pricing | None = None, max_output_tokens: int = MAX_OUTPUT_TOKENS,
                 prefix_ttl: str | None = None) -> None:
        """`client` must be the SDK client of `settings.bot_provider`; `prefix_ttl` defaults to the
        longest that provider accepts for the model."""
        self.model: str = settings.bot_model
        self.provider: str = getattr(settings, "bot_provider", "anthropic")
        self.pricing = pricing or DEFAULT_PRICING
        self.max_output_tokens = max_output_tokens
        self.prefix_ttl = prefix_ttl or providers.prefix_ttl(self.provider, self.model)
        self._settings = settings
        self._client = client
        self._owns_client = client is None

    @property
    def client(self) -> ModelClient:
        """Created on first use, so constructing the agent needs no event loop and no network."""
        if self._client is None:
            self._client = providers.make_client(self._settings, timeout=REQUEST_TIMEOUT, max_retries=MAX_RETRIES)
        return self._client

    def _api_key(self) -> str | None:
        key = getattr(self._settings, "anthropic_api_key", None)
        return key.get_secret_value() if key is not None else None

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.close()
            self._client = None

    async def implement(self, task: AgentTask, workspace: Workspace) -> AgentResult:
        return await AgentRun(self, task, workspace).execute()

    def system_blocks(self) -> list[dict[str, Any]]:
        return [{"type": "text", "text": prompts.system_prompt(), "cache_control": self.prefix_marker()}]

    def prefix_marker(self) -> dict[str, Any]:
        return {**EPHEMERAL, "ttl": self.prefix_ttl} if self.prefix_ttl != "5m" else dict(EPHEMERAL)


@dataclass
class AgentRun:
    agent: ClaudeAgent
    task: AgentTask
    workspace: Workspace
    messages: list[dict[str, Any]] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    last_prompt_tokens: int = 0
    last_output_tokens: int = 0
    messages_at_last_request: int = 0
    cutoffs_in_a_row: int = 0
    cached_up_to: tuple[int, int] | None = None  # (message, block) of the previous request's last block

    def __post_init__(self) -> None:
        self.toolbox = Toolbox(self.workspace, self.task)
        self.budget = self.task.token_budget - self.task.tokens_used_before
        self.tools = tool_definitions()
        self.system = self.agent.system_blocks()

    # ---------------------------------------------------------------- the loop

    async def execute(self) -> AgentResult:
        self.transcript.append({"type": "request", "model": self.agent.model, "max_tokens": self.agent.max_output_tokens,
                                "system": self.system[0]["text"], "tools": self.tools})
        if self.budget <= 0:
            self.stop(f"token budget exhausted: the session already used {self.task.tokens_used_before:,} of its "
                      f"token_budget of {self.task.token_budget:,} tokens")
        self.add_user(await self.first_user_content())
        while True:
            self.check_limits()
            response = await self.request()
            content = assistant_content(response)
            self.record_response(response, content)
            reason = response.stop_reason
            if reason in ("end_turn", "stop_sequence", None):
                if not await self.asked_again_for_traceability(content):
                    return self.finish(content)
            elif reason == "tool_use":
                self.cutoffs_in_a_row = 0
                await self.answer_tool_calls(content)
                self.stop_if_spec_problem_reported()
            elif reason == "pause_turn":
                self.add_assistant(content)
            elif reason == "max_tokens":
                await self.continue_after_cutoff(content)
            elif reason == "refusal":
                self.stop("Claude declined to continue this task (stop reason: refusal). A maintainer should "
                          "check the issue, design and tests, then comment `/retry`.")
            elif reason == "model_context_window_exceeded":
                self.stop(f"the conversation outgrew the model's context window after {self.turns} turns; "
                          "split the component or shorten the design and tests, then comment `/retry`")
            else:
                self.stop(f"the model stopped for an unexpected reason: {reason}")

    async def first_user_content(self) -> list[dict[str, Any]]:
        """[context, task]: the context keeps its breakpoint; the task's is a moving one."""
        context, task = await prompts.first_user_blocks(self.task, self.workspace)
        return [{**context, "cache_control": self.agent.prefix_marker()}, task]

    def check_limits(self) -> None:
        if self.turns >= self.task.max_turns:
            self.stop(f"turn limit reached: {self.turns} model turns without finishing "
                      f"(max_turns: {self.task.max_turns} in .github/component-bot.yml)")
        used, needed = self.usage_tokens(), self.next_turn_estimate()
        if self.turns and used + needed > self.budget:
            self.stop(f"token budget reached: this run used {used:,} tokens and the next turn needs about "
                      f"{needed:,} more, but only {self.budget:,} were left of the session's "
                      f"token_budget of {self.task.token_budget:,} (.github/component-bot.yml)")

    def next_turn_estimate(self) -> int:
        """The next request re-sends the last prompt, the last reply and the new tool results, and
        its reply is assumed as long as the last one. Bytes/3 overestimates tokens for code and prose."""
        added = self.messages[self.messages_at_last_request:]
        added_tokens = len(json.dumps(added, ensure_ascii=False).encode()) // 3
        return self.last_prompt_tokens + 2 * self.last_output_tokens + added_tokens

    def usage_tokens(self) -> int:
        return self.usage.total

    async def request(self) -> Any:
        self.messages_at_last_request = len(self.messages) + 1  # the reply is counted as output
        provider = self.agent.provider
        try:
            message = await self.agent.client.messages.create(
                model=self.agent.model,
                max_tokens=self.agent.max_output_tokens,
                system=self.system,
                tools=self.tools,
                messages=self.request_messages(),
                **providers.request_options(provider),
            )
        except anthropic.APIError as exc:
            metrics.record_anthropic_call(self.agent.model, type(exc).__name__)
            reason, retryable = providers.describe_error(provider, exc, self.agent.client.max_retries + 1,
                                                         self.agent.model)
            self.stop(reason, retryable=retryable, retry_after=retry_after_of(exc),
                      outage=providers.outage_of_error(provider, exc) if retryable else None)
        except providers.credential_errors(provider) as exc:
            reason = providers.describe_credential_error(provider, exc)
            if reason is None:
                raise
            metrics.record_anthropic_call(self.agent.model, type(exc).__name__)
            self.stop(reason)
        metrics.record_anthropic_call(self.agent.model, "ok", Usage.from_api(message.usage))
        return message

    def request_messages(self) -> list[dict[str, Any]]:
        """The conversation with the two moving breakpoints: on its last block, and on the block that
        was last in the previous request (whose prefix that request wrote)."""
        messages = list(self.messages)
        last = (len(messages) - 1, len(messages[-1]["content"]) - 1)
        for m, b in sorted({last, self.cached_up_to or last}):
            blocks = list(messages[m]["content"])
            if blocks[b].get("type") in BLOCKS_TAKING_CACHE_CONTROL:
                blocks[b] = {**blocks[b], "cache_control": dict(EPHEMERAL)}
                messages[m] = {**messages[m], "content": blocks}
        self.cached_up_to = last
        return messages

    async def answer_tool_calls(self, content: list[dict[str, Any]], truncated_id: str | None = None) -> None:
        self.add_assistant(content)
        results = []
        for call in (b for b in content if b.get("type") == "tool_use"):
            if call["id"] == truncated_id:
                outcome = ToolOutcome(TRUNCATED_TOOL_CALL, is_error=True)
            else:
                outcome = await self.run_tool(call)
            results.append(tool_result(call["id"], outcome))
        self.add_user(results)

    async def run_tool(self, call: dict[str, Any]) -> ToolOutcome:
        try:
            outcome = await self.toolbox.run(call.get("name", ""), call.get("input"))
        except GitHubException as exc:
            self.stop(f"GitHub failed while the agent was using its tools ({type(exc).__name__}); "
                      "try again later", retryable=True)
        log.debug("tool %s %s -> %s", call.get("name"), (call.get("input") or {}).get("command", ""),
                  "error" if outcome.is_error else "ok")
        return outcome

    async def continue_after_cutoff(self, content: list[dict[str, Any]]) -> None:
        """Output limit hit: a tool call at the very end is incomplete, so it is answered with an error
        instead of being run; otherwise the model is asked to go on. Bounded, so it cannot loop."""
        self.cutoffs_in_a_row += 1
        if self.cutoffs_in_a_row > MAX_CONSECUTIVE_CUTOFFS:
            self.stop(f"the model's replies hit the output limit ({self.agent.max_output_tokens:,} tokens) "
                      f"{self.cutoffs_in_a_row} times in a row")
        if any(b.get("type") == "tool_use" for b in content):
            last = content[-1]
            await self.answer_tool_calls(content, truncated_id=last["id"] if last.get("type") == "tool_use" else None)
            return
        if content:
            self.add_assistant(content)
            self.add_user([{"type": "text", "text": CONTINUE_AFTER_CUTOFF}])

    # ---------------------------------------------------------------- bookkeeping

    def add_assistant(self, content: list[dict[str, Any]]) -> None:
        """A reply to a paused turn continues that turn: its blocks join the same assistant message."""
        if self.messages and self.messages[-1]["role"] == "assistant":
            self.messages[-1] = {"role": "assistant", "content": [*self.messages[-1]["content"], *content]}
        else:
            self.messages.append({"role": "assistant", "content": content})

    def add_user(self, content: list[dict[str, Any]]) -> None:
        self.messages.append({"role": "user", "content": content})
        self.transcript.append({"type": "message", "role": "user", "content": without_cache_control(content)})

    def record_response(self, response: Any, content: list[dict[str, Any]]) -> None:
        self.turns += 1
        turn = Usage.from_api(response.usage)
        cost = self.agent.pricing.cost(self.agent.model, turn)
        self.usage = self.usage + replace(turn, cost_usd=cost, cache_write_1h_tokens=0)
        self.last_prompt_tokens, self.last_output_tokens = turn.prompt_tokens, turn.output_tokens
        self.transcript.append({
            "type": "response", "turn": self.turns, "role": "assistant", "content": content,
            "stop_reason": response.stop_reason, "usage": turn.token_columns(), "cost_usd": cost,
        })
        log.info("agent turn %d: %s, %d in (%d cached) / %d out", self.turns, response.stop_reason,
                 turn.prompt_tokens, turn.cache_read_tokens, turn.output_tokens)

    async def asked_again_for_traceability(self, content: list[dict[str, Any]]) -> bool:
        """The turn ended with a traceability table rejected, or made false by later edits: ask once more."""
        request = await self.toolbox.traceability.before_finish()
        if request is None or not content:  # an empty turn cannot be answered: the run ends without a table
            return False
        self.add_assistant(content)
        self.add_user([{"type": "text", "text": request}])
        return True

    def finish(self, content: list[dict[str, Any]]) -> AgentResult:
        text = final_text(content) or self.last_text()
        summary = summarize(text, sorted(self.workspace.changes))
        reply = (text or summary) if self.task.kind == "revise" else None
        self.record_syntax_guard()
        table, note = self.toolbox.traceability.outcome()
        return AgentResult(summary=summary, usage=self.usage, reply=reply, transcript=self.safe_transcript(),
                           traceability=table, traceability_note=note)

    def last_text(self) -> str:
        for entry in reversed(self.transcript):
            if entry.get("type") == "response" and final_text(entry["content"]):
                return final_text(entry["content"])
        return ""

    def stop_if_spec_problem_reported(self) -> None:
        problem = self.toolbox.spec_problem
        if problem is not None:
            self.stop(f"the agent reports that the spec is wrong: {problem.explanation.splitlines()[0][:300]}",
                      spec_problem=json.loads(self.scrub(json.dumps(problem.as_dict()))))

    def stop(self, reason: str, *, retryable: bool = False, outage: str | None = None,
             retry_after: float | None = None, spec_problem: dict[str, str] | None = None) -> None:
        reason = self.scrub(reason)
        self.transcript.append({"type": "stop", "reason": reason, "retryable": retryable})
        self.record_syntax_guard()
        log.warning("agent stopped after %d turns: %s", self.turns, reason)
        raise AgentStopped(reason, retryable=retryable, usage=self.usage, transcript=self.safe_transcript(),
                           outage=outage, retry_after=retry_after, spec_problem=spec_problem)

    def record_syntax_guard(self) -> None:
        """The run's last transcript entry: how many edits the syntax guard refused (and how many
        refused edits the model then repeated, which applies them)."""
        guard = self.toolbox.editor.syntax_guard
        self.transcript.append({"type": "note", "syntax_refusals": guard.refusals, "syntax_overrides": guard.overrides,
                                "text": f"syntax guard: {guard.refusals} edit(s) refused, "
                                        f"{guard.overrides} applied when repeated"})

    def safe_transcript(self) -> list[dict[str, Any]]:
        """The transcript as plain JSON data, with every known secret (the API key first) removed."""
        return json.loads(self.scrub(json.dumps(self.transcript, ensure_ascii=False, default=str)))

    def scrub(self, text: str) -> str:
        key = self.agent._api_key()
        if key:
            text = text.replace(key, REDACTED)
        return redact(text)


# -------------------------------------------------------------------- helpers


def assistant_content(response: Any) -> list[dict[str, Any]]:
    """The response's blocks as request params, so they go back to the API (and into the
    transcript) as plain, stable JSON."""
    blocks = []
    for block in response.content:
        if block.type == "text":
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        else:
            blocks.append(block.model_dump(mode="json", exclude_none=True))
    return blocks


def tool_result(tool_use_id: str, outcome: ToolOutcome) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": outcome.text or "(empty)"}
    if outcome.is_error:
        result["is_error"] = True
    return result


def without_cache_control(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in block.items() if k != "cache_control"} for block in content]


def final_text(content: list[dict[str, Any]]) -> str:
    return "\n\n".join(b["text"].strip() for b in content if b.get("type") == "text" and b["text"].strip())


def summarize(text: str, changed: list[str]) -> str:
    """The model's closing words, trimmed; or, when it said nothing, the list of changed files."""
    if text:
        return prompts.cut(text, MAX_SUMMARY_CHARS)[0].strip()
    if changed:
        return "Changed " + ", ".join(changed[:20]) + (f" and {len(changed) - 20} more" if len(changed) > 20 else "")
    return "No files changed."
