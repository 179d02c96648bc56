"""The desk web service: `create_app()` is the factory uvicorn runs (`onewindow run`)."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from database.engine import database_url, make_session
from desk import catalogue_api, department_api
from desk.errors import install_error_handlers
from filings.config import FilingSettings
from filings.identity import install_log_redaction
from filings.sweep import SweepLoop
from knowledge.search import SearchService
from staffdesk import web as staff_web

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _probe(url: str) -> dict:
    """One HTTP GET with a short timeout: ok, or why not."""
    try:
        response = httpx.get(url, timeout=2.0)
    except httpx.HTTPError as exc:
        return {"status": "down", "detail": f"{type(exc).__name__}: {exc}"[:200]}
    if response.status_code >= 400:
        return {"status": "error", "detail": f"HTTP {response.status_code}"}
    return {"status": "ok"}


def _peer_checks() -> dict:
    """The other processes `onewindow run` started (their addresses come from the environment)."""
    checks = {}
    rasa = os.environ.get("ONEWINDOW_RASA_URL", "").strip()
    if rasa:
        token = os.environ.get("ONEWINDOW_RASA_TOKEN", "")
        checks["rasa"] = _probe(f"{rasa}/status?token={token}" if token else f"{rasa}/")
    actions = os.environ.get("ONEWINDOW_ACTIONS_HEALTH", "").strip()
    if actions:
        checks["actions"] = _probe(actions)
    return checks


def _demo_page() -> str:
    """The demo page, its widget pointed at the Rasa server on the page's host at the port
    `onewindow run` gave it (ONEWINDOW_RASA_PORT; the widget's default is 5005)."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    port = os.environ.get("ONEWINDOW_RASA_PORT", "").strip()
    if port.isdigit():
        page = page.replace('<script src="/static/widget/onewindow-widget.js"',
                            f'<script src="/static/widget/onewindow-widget.js" data-port="{port}"', 1)
    return page


def create_app(url: Optional[str] = None) -> FastAPI:
    app = FastAPI(
        title="onewindow desk API",
        description="一窗通办助手: the catalogue of government services (办事指南), search, bundles; "
        "the departments' API for filings (办件, 工单).",
        version="0.1.0",
    )
    app.state.database_url = url or database_url()
    app.state.search = SearchService(lambda: make_session(app.state.database_url))
    install_error_handlers(app)
    app.include_router(catalogue_api.router)
    department_api.install(app)
    staff_web.install(app)  # the staff desk: /staff/ and /api/v1/staff/
    install_log_redaction()  # no ID or mobile number reaches a log in clear
    app.state.sweep = SweepLoop(app.state.database_url, FilingSettings.from_env().sweep_interval)
    # The web chat widget, its vendored socket.io client and the demo page.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.on_event("startup")
    def _warm_up() -> None:
        # Build the index before the first request, not during it.
        app.state.search.refresh(wait=True)
        app.state.search.watch()
        log.info("desk service ready on database %s", app.state.database_url.split("@")[-1])

    @app.on_event("startup")
    async def _start_sweep() -> None:
        # Deadline warnings, overdue flags and escalations while the service runs.
        app.state.sweep.start()

    @app.on_event("shutdown")
    async def _stop_sweep() -> None:
        await app.state.sweep.stop()
        app.state.search.stop()

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(_demo_page())

    @app.get("/healthz", tags=["health"], summary="Health of each component")
    def healthz() -> JSONResponse:
        components = {}
        try:
            with make_session(app.state.database_url) as session:
                session.execute(text("SELECT 1"))
            components["database"] = {"status": "ok"}
        except Exception as exc:  # report, do not raise: this is the health page
            components["database"] = {"status": "error", "detail": str(exc)[:200]}
        engine = app.state.search.current
        components["search"] = (
            {"status": "ok", "documents": len(engine.documents), "revision": engine.revision}
            if engine is not None
            else {"status": "starting"}
        )
        components.update(_peer_checks())
        healthy = all(c["status"] == "ok" for c in components.values())
        return JSONResponse(
            status_code=200 if healthy else 503,
            content={"status": "ok" if healthy else "degraded", "components": components},
        )

    return app
