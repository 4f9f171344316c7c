"""Which function runs which step: the runner's default, composed by the app and the CLI."""

from __future__ import annotations

from bot.core.orchestrator import Step
from bot.steps import StepRunner, finalize, fix, generate, initialize, revise, run_tests

STEPS: dict[Step, StepRunner] = {
    Step.Initialize: initialize.run,
    Step.GenerateImplementation: generate.run,
    Step.RunTests: run_tests.run,
    Step.FixTestFailures: fix.run,
    Step.Finalize: finalize.run,
    Step.Revise: revise.run,
}
