"""The production agent for the settings given."""

from __future__ import annotations

from bot.agent import Agent, AgentResult, AgentStopped, AgentTask
from bot.agent.claude import ClaudeAgent
from bot.config import Settings


class UnconfiguredAgent:
    """Stands in when BOT_PROVIDER is anthropic and ANTHROPIC_API_KEY is missing: the step stops and
    says what to set. (Bedrock and Vertex settings are checked when the settings load.)"""

    async def implement(self, task: AgentTask, workspace) -> AgentResult:  # noqa: ANN001
        raise AgentStopped("ANTHROPIC_API_KEY is not set on the component-bot server; the operator must set it "
                           "(or choose another BOT_PROVIDER), then comment `/retry`.")


def default_agent(settings: Settings) -> Agent:
    """Claude through BOT_PROVIDER's client; the client is created at the first request."""
    if not settings.model_provider_configured:
        return UnconfiguredAgent()
    return ClaudeAgent(settings)


async def close_agent(agent: Agent) -> None:
    """Close the agent's HTTP client at shutdown, whichever provider's it is (a scripted agent has none)."""
    aclose = getattr(agent, "aclose", None)
    if aclose is not None:
        await aclose()
