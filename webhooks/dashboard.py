"""The read-only dashboard: `GET /sessions` (with the spend per repository and month) and
`GET /sessions/{id}`, for signed-in viewers only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from bot.config import Settings
from bot.store.models import SessionStatus, utcnow
from webhooks.auth import oauth_configured, require_viewer
from webhooks.dashboard_data import PAGE_SIZE, list_sessions, session_detail, spend_overview
from webhooks.pages import PageError, render
from webhooks.viewer import Viewer

router = APIRouter()
STATUSES = [s.value for s in SessionStatus]


def chrome(request: Request, viewer: Viewer) -> dict[str, object]:
    """What every dashboard page shows around its content."""
    settings: Settings = request.app.state.settings
    return {"viewer": viewer, "html_url": settings.html_url, "ready": request.app.state.modes.ready,
            "can_sign_out": oauth_configured(settings) or settings.dashboard_token is not None}


@router.get("/sessions", response_class=HTMLResponse)
async def sessions_page(request: Request, status: str = "", repository: str = "", page: int = 1,
                        viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    if status and status not in STATUSES:
        raise PageError(400, "Unknown status", f"Status is one of: {', '.join(STATUSES)}.", retry_url="/sessions",
                        retry_label="All sessions")
    page = max(1, min(page, 10_000))
    async with request.app.state.db() as db:
        listing = await list_sessions(db, viewer, status=status or None, repository=repository or None, page=page)
        spend = await spend_overview(db, viewer, repository=repository or None, now=utcnow())
    return render("sessions.html.j2", listing=listing, status=status, repository=repository, statuses=STATUSES,
                  page_size=PAGE_SIZE, spend=spend,
                  monthly_budget=request.app.state.settings.bot_monthly_budget_usd, **chrome(request, viewer))


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
async def session_page(request: Request, session_id: int, viewer: Viewer = Depends(require_viewer)) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    async with request.app.state.db() as db:
        detail = await session_detail(db, viewer, session_id, settings.html_url)
    if detail is None:  # absent, or of a repository the viewer cannot access: the same answer
        raise PageError(404, "No such session", f"There is no session {session_id} you can see.",
                        retry_url="/sessions", retry_label="All sessions")
    return render("session.html.j2", detail=detail, s=detail.session, **chrome(request, viewer))
