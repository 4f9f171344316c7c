"""The pull request's body: what was implemented, from which spec, with which checks, at what cost."""

from __future__ import annotations

from typing import Any

from bot.core.usage import Usage
from bot.render.templating import render
from bot.steps import StepContext


def pr_body(ctx: StepContext, files: list[str], *, draft: bool, checks: list[dict] | None = None,
            pre_existing: list[str] | None = None, spec: str | None = None,
            tests_confirmed: bool | None = None) -> str:
    session = ctx.session
    blob = f"{ctx.settings.html_url}/{session.repository_full_name}/blob/{session.branch}"
    usage = Usage.of(session)
    values: dict[str, Any] = {
        "component": session.component_name, "design_path": session.design_path, "test_path": session.test_path,
        "design_url": f"{blob}/{session.design_path}", "test_url": f"{blob}/{session.test_path}",
        "files": files, "checks": checks or [], "pre_existing": pre_existing or [],
        "fix_iterations": session.fix_iterations, "tokens": usage.total, **usage.token_columns(),
        "cost": usage.cost_usd, "issue_number": session.issue_number, "spec": spec,
        "tests_confirmed": tests_confirmed,
    }
    return render("pr/body.md.j2", draft=draft, **values)
