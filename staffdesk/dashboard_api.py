"""/api/v1/staff/dashboard: the coordinator's figures and the learning loop (coordinator, admin).

The figures come from analytics.report, aliases from knowledge.aliases; this module only checks
the input, commits, and refreshes the desk's search so that an added alias works at once.
"""
from __future__ import annotations

import logging
from typing import Optional

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from analytics import report
from desk.dependencies import get_search, get_session
from desk.errors import ApiError
from knowledge import aliases
from knowledge.aliases import AliasError
from knowledge.search import SearchService
from staffdesk.accounts import Staff
from staffdesk.auth import require

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/staff/dashboard", tags=["staff: dashboard"])
staff_dependency = require("dashboard")
DAYS = Query(30, ge=1, le=report.MAX_DAYS, description="the period: the last N days (the page offers 7, 30, 90)")
RANK_DEPTH = 10  # how deep to look for the service when telling where an alias now ranks it


class AliasBody(BaseModel):
    phrase: str = Field(..., max_length=500, description="the alias to add (at most 50 characters once trimmed)")
    service_code: str = Field(..., min_length=1, max_length=64)
    question: Optional[str] = Field(None, max_length=2000,
                                    description="the unanswered question this comes from (its group is marked resolved)")


def alias_error(exc: AliasError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, exc.detail)


@router.get("/figures", summary="Most asked services, ratings, cases per department, handoffs, over a period")
def get_figures(days: int = DAYS, staff: Staff = Depends(staff_dependency),
                session: Session = Depends(get_session)) -> dict:
    return report.figures(session, report.Period.last(days))


@router.get("/unanswered", summary="Questions the bot could not answer, grouped, with suggested services")
def get_unanswered(days: int = DAYS, include_resolved: bool = True, limit: int = Query(50, ge=1, le=200),
                   staff: Staff = Depends(staff_dependency), session: Session = Depends(get_session),
                   search: SearchService = Depends(get_search)) -> dict:
    period = report.Period.last(days)
    groups = report.unanswered_groups(session, period, search=search, limit=limit, include_resolved=include_resolved)
    return {"period": period.view(), "questions": groups, "max_alias_length": aliases.MAX_ALIAS_LENGTH}


@router.get("/services", summary="Services for the alias picker (search as you type; services only)")
def search_services(q: str = Query(..., max_length=100), limit: int = Query(8, ge=1, le=20),
                    staff: Staff = Depends(staff_dependency), search: SearchService = Depends(get_search)) -> dict:
    query = q.strip()
    if not query:
        return {"query": query, "results": []}
    result = search.search(query, limit=limit, kinds=("service",))
    return {"query": query, "results": [{"code": h.code, "name": h.name, "department": h.department,
                                         "score": round(h.score, 3)} for h in result.hits]}


@router.get("/aliases", summary="Aliases added by staff, newest first")
def list_aliases(staff: Staff = Depends(staff_dependency), session: Session = Depends(get_session)) -> dict:
    return {"aliases": aliases.staff_aliases(session)}


def _refresh(search: SearchService) -> bool:
    try:
        search.refresh(wait=True)
        return True
    except Exception:  # the alias is stored; the index catches up at its next revision check
        log.exception("could not rebuild the search index after an alias change")
        return False


@router.post("/aliases", status_code=201, summary="Add a phrase as an alias of a service (search improves at once)")
def add_alias(body: AliasBody, staff: Staff = Depends(staff_dependency), session: Session = Depends(get_session),
              search: SearchService = Depends(get_search)) -> dict:
    try:
        added = aliases.add_staff_alias(session, body.service_code, body.phrase)
    except AliasError as exc:
        raise alias_error(exc) from None
    resolved = report.resolve_questions(session, added.alias, added.service_code)
    if body.question and report.question_key(body.question) != report.question_key(added.alias):
        resolved += report.resolve_questions(session, body.question, added.service_code)
    session.commit()
    log.info("staff %s added alias %r to service %s (revision %d, %d questions resolved)",
             staff.username, added.alias, added.service_code, added.revision, resolved)
    refreshed = _refresh(search)
    hits = search.search(added.alias, limit=RANK_DEPTH).hits if refreshed else []
    rank = next((i for i, hit in enumerate(hits, 1) if hit.code == added.service_code), None)
    if not refreshed:
        message = f"已添加别名“{added.alias}”，搜索索引正在更新，请稍后再试。"
    elif rank == 1:
        message = f"已添加别名“{added.alias}”：现在搜索“{added.alias}”，“{added.service_name}”排在第一位。"
    elif rank:
        message = (f"已添加别名“{added.alias}”，但搜索“{added.alias}”时“{added.service_name}”排在第{rank}位，"
                   f"排在前面的是“{hits[0].name}”。")
    else:
        message = f"已添加别名“{added.alias}”，但搜索“{added.alias}”时“{added.service_name}”仍未排进前{RANK_DEPTH}位。"
    if added.also_alias_of:
        others = "、".join(f"“{s['name']}”" for s in added.also_alias_of)
        message += f"注意：“{added.alias}”也是{others}的别名，机器人可能会请市民选择。"
    return {
        **added.view(),
        "resolved_questions": resolved,
        "rank": rank,
        "top": [{"code": h.code, "name": h.name, "kind": h.kind} for h in hits[:3]],
        "search_refreshed": refreshed,
        "message": message,
    }


@router.delete("/aliases/{alias_id}", summary="Remove an alias staff added")
def remove_alias(alias_id: int, staff: Staff = Depends(staff_dependency), session: Session = Depends(get_session),
                 search: SearchService = Depends(get_search)) -> dict:
    try:
        removed = aliases.remove_staff_alias(session, alias_id)
    except AliasError as exc:
        raise alias_error(exc) from None
    session.commit()
    log.info("staff %s removed alias %r of service %s", staff.username, removed["alias"], removed["service"]["code"])
    removed["search_refreshed"] = _refresh(search)
    return removed
