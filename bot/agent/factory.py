"""The production agent for the settings given."""

from __future__ import annotations

from bot.agent import Agent, AgentResult, AgentStopped, AgentTask
from bot.agent.claude import ClaudeAgent
from bot.config import Settings


class UnconfiguredAgent:
    """Stands in when ANTHROPIC_API_KEY is missing: the step stops and says what to set."""

    async def implement(self, task: AgentTask, workspace) -> AgentResult:  # noqa: ANN001
        raise AgentStopped("ANTHROPIC_API_KEY is not set on the component-bot server; the operator must set it, "
                           "then comment `/retry`.")


def default_agent(settings: Settings) -> Agent:
    if settings.anthropic_api_key is None:
        return UnconfiguredAgent()
    return ClaudeAgent(settings)


async def close_agent(agent: Agent) -> None:
    """Close the agent's HTTP client at shutdown (a scripted agent has none)."""
    aclose = getattr(agent, "aclose", None)
    if aclose is not None:
        await aclose()
