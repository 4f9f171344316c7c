"""Which function runs which step: the runner's default, composed by the app and the CLI."""

from __future__ import annotations

from bot.core.orchestrator import Step
from bot.steps import (
    StepRunner,
    finalize,
    fix,
    generate,
    initialize,
    resolve_conflicts,
    revise,
    run_tests,
    update_branch,
)

STEPS: dict[Step, StepRunner] = {
    Step.Initialize: initialize.run,
    Step.GenerateImplementation: generate.run,
    Step.RunTests: run_tests.run,
    Step.FixTestFailures: fix.run,
    Step.Finalize: finalize.run,
    Step.Revise: revise.run,
    Step.UpdateBranch: update_branch.run,
    Step.ResolveConflicts: resolve_conflicts.run,
}
