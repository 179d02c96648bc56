"""Mounting the staff desk in the desk web service: its API routers, its pages and static files."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from desk.errors import error_response
from handoff.desk import HandoffError
from staffdesk import accounts_api, auth_api, cases_api, dashboard_api, handoff_api, lookup_api

STATIC_DIR = Path(__file__).resolve().parent / "static"

# The API of each section; every route checks the role (staffdesk.auth.require).
ROUTERS = (
    auth_api.router,
    handoff_api.router,  # handoff: the inbox of conversations waiting for staff
    cases_api.router,  # cases: the queue, case detail and actions, the coordinator's attention view
    dashboard_api.router,
    accounts_api.router,
    lookup_api.router,  # lookup: search, guides, bundles, and the checklist page /staff/checklist/{code}
)


def install(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(HandoffError)
    async def _handoff_error(_request: Request, exc: HandoffError):
        # Taking, replying, handing back: 404, 409 (someone else has it), 422, 503 (Rasa down).
        return error_response(exc.status, exc.code, exc.message, exc.detail)
    app.mount("/staff/static", StaticFiles(directory=STATIC_DIR), name="staff-static")

    @app.get("/staff", include_in_schema=False)
    def staff_root() -> RedirectResponse:
        return RedirectResponse("/staff/", status_code=307)

    @app.get("/staff/", include_in_schema=False)
    def staff_page() -> FileResponse:
        # The page shell only: it shows the sign-in form until /api/v1/staff/me answers, and
        # every section's data comes from API routes that check the role.
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                            headers={"Cache-Control": "no-store"})
