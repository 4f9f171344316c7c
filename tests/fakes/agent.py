"""A scripted implementation of the `Agent` protocol: each call plays the next script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.agent import AgentResult, AgentTask, Usage
from bot.github.workspace import Workspace

Script = dict[str, str | None] | Callable[[AgentTask, Workspace], Awaitable[AgentResult | None]]


class ScriptedAgent:
    """`ScriptedAgent({"src/stack.py": "..."}, {...})`: call k writes the k-th dict of files
    (None deletes); a callable script can do anything, including raising. The last script repeats."""

    def __init__(self, *scripts: Script, usage: Usage = Usage(1000, 200, 300, 500, 0.01)) -> None:
        self.scripts = list(scripts) or [{}]
        self.usage = usage
        self.tasks: list[AgentTask] = []

    async def implement(self, task: AgentTask, workspace: Workspace) -> AgentResult:
        self.tasks.append(task)
        script = self.scripts[min(len(self.tasks), len(self.scripts)) - 1]
        if callable(script):
            result = await script(task, workspace)
            if result is not None:
                return result
        else:
            for path, content in script.items():
                if content is None:
                    workspace.delete(path)
                else:
                    workspace.write(path, content)
        return AgentResult(summary=f"scripted {task.kind} #{len(self.tasks)}", usage=self.usage,
                           transcript=[{"role": "user", "content": task.kind}])

    @property
    def calls(self) -> int:
        return len(self.tasks)


def answer(text: str) -> Callable[[AgentTask, Workspace], Awaitable[AgentResult]]:
    async def script(task: AgentTask, workspace: Workspace) -> AgentResult:
        return AgentResult(summary="answered", reply=text, usage=Usage(10, 10))

    return script


def raising(exc: BaseException) -> Callable[[AgentTask, Workspace], Awaitable[Any]]:
    async def script(task: AgentTask, workspace: Workspace) -> Any:
        raise exc

    return script
