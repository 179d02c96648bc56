"""The staff desk's lookup (事项查询): search as the bot searches, full guides, bundles, and the
printable checklist page.

- `GET /api/v1/staff/lookup/search?q=…`: the catalogue search (the process's SearchService, the
  one the bot's answers use), each hit with a note when it is a variant of a parent item, and a
  notice when the leading results are variants of one item;
- `GET /api/v1/staff/lookup/services/{code}`: the full guide (the catalogue API's serialisation)
  with the bundles the service belongs to and the address of its checklist;
- `GET /api/v1/staff/lookup/bundles`, `…/bundles/{code}`: one-thing bundles with their member
  services and departments;
- `GET /staff/checklist/{code}`: the one-page printable checklist (HTML). Without a valid session
  a browser is sent to sign in; other clients get 401 JSON.
"""
from __future__ import annotations

from html import escape
from typing import List, Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import catalogue_api, schemas
from desk.dependencies import get_search, get_session
from desk.errors import ApiError
from filings.calendar import local_today
from knowledge import repository
from knowledge.models import Bundle, BundleMember, Service
from knowledge.search import SearchService
from staffdesk.accounts import Staff
from staffdesk.auth import require
from staffdesk.checklist import render_checklist

SEARCH_LIMIT = 12
LOGIN_PAGE = "/staff/#/login"


class LookupHit(schemas.SearchHit):
    note: Optional[str] = None  # e.g. 属于“居民身份证申领、换领、补领”：遗失补领


class LookupSearch(schemas.SearchResponse):
    results: List[LookupHit]
    notice: Optional[str] = None  # said when the leading results are variants of one item


class BundleRef(BaseModel):
    code: str
    name: str


class StaffGuide(schemas.ServiceGuide):
    bundles: List[BundleRef] = []  # one-thing bundles this service is part of
    checklist_url: str


def service_not_found(code: str) -> ApiError:
    return ApiError(404, "service_not_found", f"未找到编码为 {code} 的事项。", f"no service with code {code!r}")


def hit_note(hit: schemas.SearchHit) -> Optional[str]:
    if hit.kind == "bundle":
        return "一件事：多个部门的事项一次办理"
    if hit.parent_name and hit.parent_name != hit.name:
        return f"属于“{hit.parent_name}”" + (f"：{hit.variant}" if hit.variant else "")
    if hit.variant:
        return f"情形：{hit.variant}"
    return None


def staff_search(search: SearchService, q: str, limit: int) -> LookupSearch:
    # The catalogue API's search (same checks, same serialisation), with notes for staff.
    found = catalogue_api.search_services(q=q, limit=limit, search=search)
    notice = None
    if found.variants_of:
        group = found.variants_of
        notice = (f"以下{len(group.options)}项是“{group.parent_name}”的不同情形，"
                  f"请向办事人确认适用哪一种：" + "、".join(h.variant or h.name for h in group.options))
    return LookupSearch(
        query=found.query,
        results=[LookupHit(**hit.dict(), note=hit_note(hit)) for hit in found.results],
        variants_of=found.variants_of,
        notice=notice,
    )


def bundles_of(session: Session, service: Service) -> List[BundleRef]:
    rows = session.execute(
        select(Bundle.code, Bundle.name).join(BundleMember, BundleMember.bundle_id == Bundle.id)
        .where(BundleMember.service_id == service.id).order_by(Bundle.name)
    ).all()
    return [BundleRef(code=code, name=name) for code, name in rows]


# -- the API ----------------------------------------------------------------------------------------
api = APIRouter(prefix="/api/v1/staff/lookup", tags=["staff: lookup"])


@api.get("/search", response_model=LookupSearch, summary="Search services and bundles as the bot does")
def search_services(q: str = Query(..., description="what the citizen asks for, in Chinese"),
                    limit: int = Query(SEARCH_LIMIT, ge=1, le=50),
                    staff: Staff = Depends(require("lookup")),
                    search: SearchService = Depends(get_search)) -> LookupSearch:
    return staff_search(search, q, limit)


@api.get("/services/{code}", response_model=StaffGuide, summary="The full guide of a service")
def get_guide(code: str, staff: Staff = Depends(require("lookup")),
              session: Session = Depends(get_session)) -> StaffGuide:
    service = repository.get_service(session, code)
    if service is None:
        raise service_not_found(code)
    return StaffGuide(**catalogue_api.service_guide(service).dict(), bundles=bundles_of(session, service),
                      checklist_url=f"/staff/checklist/{service.code}")


@api.get("/bundles", response_model=List[schemas.BundleOut], summary="One-thing bundles with members")
def list_bundles(staff: Staff = Depends(require("lookup")),
                 session: Session = Depends(get_session)) -> List[schemas.BundleOut]:
    return [catalogue_api.bundle_out(b) for b in repository.list_bundles(session)]


@api.get("/bundles/{code}", response_model=schemas.BundleOut, summary="One bundle, by code or id")
def get_bundle(code: str, staff: Staff = Depends(require("lookup")),
               session: Session = Depends(get_session)) -> schemas.BundleOut:
    bundle = repository.get_bundle(session, code)
    if bundle is None:
        raise ApiError(404, "bundle_not_found", f"未找到“{code}”对应的一件事。", f"no bundle {code!r}")
    return catalogue_api.bundle_out(bundle)


# -- the checklist page -----------------------------------------------------------------------------
def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def error_page(status: int, message: str) -> HTMLResponse:
    message = escape(message)
    body = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{message}</title></head>'
            f'<body style="font-family: sans-serif; padding: 2rem"><p>{message}</p>'
            f'<p><a href="/staff/#/lookup">返回事项查询</a></p></body></html>')
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


class PageRoute(APIRoute):
    """A route that answers browsers as a page: no session sends them to sign in, other errors
    become a short Chinese page. Other clients get the API's JSON errors."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                if not wants_html(request):
                    raise
                if exc.status == 401:
                    return RedirectResponse(LOGIN_PAGE, status_code=303)
                return error_page(exc.status, exc.message)

        return page_handler


pages = APIRouter(route_class=PageRoute, tags=["staff: lookup"])


@pages.get("/staff/checklist/{code}", response_class=HTMLResponse, summary="Printable one-page checklist (HTML)")
def checklist_page(code: str, staff: Staff = Depends(require("lookup")),
                   session: Session = Depends(get_session)) -> HTMLResponse:
    service = repository.get_service(session, code)
    if service is None:
        raise service_not_found(code)
    html = render_checklist(service, printed_on=local_today(), clerk=staff.display_name)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


router = APIRouter()
router.include_router(api)
router.include_router(pages)
