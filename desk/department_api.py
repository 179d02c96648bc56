"""/api/v1/department: the departments' side of filings (后台分类审批).

Each department authenticates with its own bearer token (`onewindow departments token CODE`) and
sees only its own cases and work orders (another department's: 404, as if it did not exist). Every
action goes through the state machine (filings.states): an illegal one answers 409 and changes
nothing. An optional `X-Operator` header names the clerk (a staff ID, or a name percent-encoded as
UTF-8), recorded in the history.
"""
from __future__ import annotations

from typing import List, Optional
from urllib.parse import unquote

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from desk.dependencies import get_session
from desk.errors import ApiError, error_response
from filings import cases as case_service
from filings import workorders as order_service
from filings.cases import Actor
from filings.errors import FilingError
from filings.lookup import CASE_NOT_FOUND, find_case, find_order
from filings.states import COORDINATING
from filings.tokens import authenticate
from knowledge.models import Department

router = APIRouter(prefix="/api/v1/department", tags=["department"])
_bearer = HTTPBearer(auto_error=False, description="部门访问令牌: `onewindow departments token DEPT_CODE`")
DUE_ALIASES = {"green": "normal", "yellow": "warning", "red": "overdue", "grey": "paused"}
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="onewindow-department"'}


# -- authentication and helpers ---------------------------------------------------------------------
def current_department(
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer),
    session: Session = Depends(get_session),
) -> Department:
    if credentials is None:
        raise ApiError(401, "unauthorized", "请提供部门访问令牌。", "missing bearer token", _CHALLENGE)
    department = authenticate(session, credentials.credentials)
    if department is None:
        raise ApiError(401, "invalid_token", "访问令牌无效或已被撤销。", "invalid or revoked token", _CHALLENGE)
    return department


def _operator(x_operator: Optional[str] = Header(
    None, max_length=200, description="办理人（记入办理历史）: a staff ID, or a name percent-encoded as UTF-8")
) -> Optional[str]:
    if not x_operator:
        return None
    name = unquote(x_operator).strip()
    if len(name) > 50 or any(ord(c) < 32 for c in name):
        raise ApiError(422, "invalid_request", "办理人名称不正确。", "X-Operator: at most 50 printable characters")
    return name or None


def _actor(department: Department, operator: Optional[str]) -> Actor:
    return Actor.of_department(department, operator)


def _own_case(session: Session, number: str, department: Department, read_only: bool = False):
    case = find_case(session, number)
    visible = case is not None and (
        case.department_id == department.id or (read_only and case.escalated_to_id == department.id)
    )
    if not visible:
        raise ApiError(404, "case_not_found", CASE_NOT_FOUND, f"no case {number!r} for department {department.code}")
    return case


def _own_order(session: Session, number: str, department: Department):
    order = find_order(session, number)
    visible = order is not None and (
        order.department_id == department.id
        or (department.coordinating and (order.status == "returned" or order.escalated_to_id == department.id))
    )
    if not visible:
        raise ApiError(404, "order_not_found", order_service.ORDER_NOT_FOUND,
                       f"no work order {number!r} for department {department.code}")
    return order


def _done(session: Session, case) -> dict:
    session.commit()
    return case_service.case_view(case, for_department=True)


def _order_done(session: Session, order, department: Department) -> dict:
    session.commit()
    return order_service.order_view(order, viewer=department)


# -- request bodies ---------------------------------------------------------------------------------
class NoteBody(BaseModel):
    note: Optional[str] = Field(None, max_length=4000, description="说明")


class RejectBody(BaseModel):
    reason: str = Field(..., min_length=1, max_length=4000, description="不予受理的原因")
    not_required: bool = Field(False, description="true: 不受理 (4)，申请事项依法不需要办理；false: 不予受理 (5)")


class SupplementsBody(BaseModel):
    missing: List[str] = Field(..., min_items=1, max_items=100, description="需要补正的全部材料（一次性告知）")
    note: Optional[str] = Field(None, max_length=4000)


class SupplementsDoneBody(BaseModel):
    submitted: Optional[List[str]] = Field(None, max_items=100, description="已补交的材料（默认：全部待补正材料）")
    note: Optional[str] = Field(None, max_length=4000)


class SpecialBody(BaseModel):
    procedure: str = Field(..., min_length=1, max_length=4000, description="特别程序：听证、专家评审……")


class CompleteBody(BaseModel):
    result: str = Field(..., min_length=1, max_length=4000, description="办理结果（通过：结果名称；不通过：原因）")
    approved: bool = Field(True, description="是否通过")
    tolerated: List[str] = Field([], max_items=100, description="容缺后补的材料（通过时；有则为办结（容缺通过）12）")


class ReasonBody(BaseModel):
    reason: str = Field(..., min_length=1, max_length=4000)


class ReplyBody(BaseModel):
    reply: str = Field(..., min_length=1, max_length=4000, description="答复内容（将发送给群众）")


class ReassignBody(BaseModel):
    department: str = Field(..., min_length=1, max_length=64, description="改派到的部门编码")
    note: Optional[str] = Field(None, max_length=4000)


# -- who am I ---------------------------------------------------------------------------------------
@router.get("/me", summary="The department of the token")
def me(department: Department = Depends(current_department)) -> dict:
    return {"code": department.code, "name": department.name, "short_name": department.short_name,
            "coordinating": department.coordinating}


# -- cases ------------------------------------------------------------------------------------------
@router.get("/cases", summary="My queue of cases, most urgent first")
def list_cases(
    status: Optional[List[int]] = Query(None, description="national status codes 1-15 (repeatable)"),
    due: Optional[str] = Query(None, description="normal|warning|overdue|paused (or green|yellow|red|grey)"),
    include_closed: bool = Query(False),
    escalated: bool = Query(False, description="coordinating office: overdue cases escalated to it"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    department: Department = Depends(current_department),
    session: Session = Depends(get_session),
) -> dict:
    if status and any(not 1 <= s <= 15 for s in status):
        raise ApiError(422, "invalid_request", "状态码应为1-15。", "status must be a national code 1-15")
    due = DUE_ALIASES.get(due, due) if due else None
    rows = case_service.department_queue(session, department, status=status, due=due, include_closed=include_closed,
                                         escalated=escalated, limit=limit, offset=offset)
    return {"department": department.code, "count": len(rows), "cases": [case_service.case_view(c) for c in rows]}


@router.get("/cases/{number}", summary="One case with its applicant, materials, history and possible actions")
def get_case(number: str, department: Department = Depends(current_department),
             session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department, read_only=True)
    view = case_service.case_view(case, for_department=case.department_id == department.id, history=True)
    return view


@router.post("/cases/{number}/sign", summary="签收")
def sign(number: str, department: Department = Depends(current_department), operator=Depends(_operator),
         session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.sign(session, case, _actor(department, operator)))


@router.post("/cases/{number}/accept", summary="受理 (3)")
def accept(number: str, body: NoteBody = NoteBody(), department: Department = Depends(current_department),
           operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.accept(session, case, _actor(department, operator), body.note))


@router.post("/cases/{number}/reject", summary="不予受理 (5) / 不受理 (4) with a reason")
def reject(number: str, body: RejectBody, department: Department = Depends(current_department),
           operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.reject(session, case, _actor(department, operator), body.reason, body.not_required))


@router.post("/cases/{number}/supplements", summary="补正开始 (6): everything missing, at once")
def supplements(number: str, body: SupplementsBody, department: Department = Depends(current_department),
                operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.request_supplements(session, case, _actor(department, operator), body.missing, body.note))


@router.post("/cases/{number}/supplements-done", summary="补正结束 (7)")
def supplements_done(number: str, body: SupplementsDoneBody = SupplementsDoneBody(),
                     department: Department = Depends(current_department), operator=Depends(_operator),
                     session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.supplements_done(session, case, _actor(department, operator), body.submitted, body.note))


@router.post("/cases/{number}/start", summary="部门开始办理 (8)")
def start(number: str, department: Department = Depends(current_department), operator=Depends(_operator),
          session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.start(session, case, _actor(department, operator)))


@router.post("/cases/{number}/special-start", summary="特别程序开始 (9)")
def special_start(number: str, body: SpecialBody, department: Department = Depends(current_department),
                  operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.special_start(session, case, _actor(department, operator), body.procedure))


@router.post("/cases/{number}/special-end", summary="特别程序结束 (10)")
def special_end(number: str, body: NoteBody = NoteBody(), department: Department = Depends(current_department),
                operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.special_end(session, case, _actor(department, operator), body.note))


@router.post("/cases/{number}/complete", summary="办结: 11 通过 / 12 容缺通过 / 13 不通过")
def complete(number: str, body: CompleteBody, department: Department = Depends(current_department),
             operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.complete(session, case, _actor(department, operator), body.result,
                                                body.approved, body.tolerated))


@router.post("/cases/{number}/revoke", summary="撤销 (15) an approval")
def revoke(number: str, body: ReasonBody, department: Department = Depends(current_department),
           operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department)
    return _done(session, case_service.revoke(session, case, _actor(department, operator), body.reason))


# -- work orders ------------------------------------------------------------------------------------
@router.get("/workorders", summary="My work orders (coordinating office: also returned and escalated ones)")
def list_orders(
    status: Optional[List[str]] = Query(None, description="dispatched|signed|replied|returned|closed (repeatable)"),
    include_closed: bool = Query(False),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    department: Department = Depends(current_department),
    session: Session = Depends(get_session),
) -> dict:
    rows = order_service.department_orders(session, department, status=status, include_closed=include_closed,
                                           limit=limit, offset=offset)
    return {"department": department.code, "count": len(rows),
            "workorders": [order_service.order_view(o) for o in rows]}


@router.get("/workorders/{number}", summary="One work order with its history and possible actions")
def get_order(number: str, department: Department = Depends(current_department),
              session: Session = Depends(get_session)) -> dict:
    return order_service.order_view(_own_order(session, number, department), viewer=department)


@router.post("/workorders/{number}/sign", summary="签收")
def sign_order(number: str, department: Department = Depends(current_department), operator=Depends(_operator),
               session: Session = Depends(get_session)) -> dict:
    order = _own_order(session, number, department)
    return _order_done(session, order_service.sign_order(session, order, _actor(department, operator)), department)


@router.post("/workorders/{number}/reply", summary="答复 (the citizen is told and asked whether it is settled)")
def reply_order(number: str, body: ReplyBody, department: Department = Depends(current_department),
                operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    order = _own_order(session, number, department)
    return _order_done(session, order_service.reply_order(session, order, _actor(department, operator), body.reply), department)


@router.post("/workorders/{number}/return", summary="退单: not ours (the coordinating office reassigns it)")
def return_order(number: str, body: ReasonBody, department: Department = Depends(current_department),
                 operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    order = _own_order(session, number, department)
    return _order_done(session, order_service.return_order(session, order, _actor(department, operator), body.reason), department)


@router.post("/workorders/{number}/close", summary="办结 after the reply (回访 done)")
def close_order(number: str, body: NoteBody = NoteBody(), department: Department = Depends(current_department),
                operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    order = _own_order(session, number, department)
    return _order_done(session, order_service.close_order(session, order, _actor(department, operator), body.note), department)


@router.post("/workorders/{number}/reassign", summary="改派 (coordinating office only)")
def reassign_order(number: str, body: ReassignBody, department: Department = Depends(current_department),
                   operator=Depends(_operator), session: Session = Depends(get_session)) -> dict:
    if not department.coordinating:
        raise ApiError(403, "forbidden", "只有统筹协调部门可以改派工单。", "only the coordinating office may reassign")
    order = _own_order(session, number, department)
    actor = Actor(COORDINATING, f"{department.code}:{operator}" if operator else department.code, department.id)
    return _order_done(session, order_service.reassign_order(session, order, actor, body.department, body.note), department)


# -- wiring -----------------------------------------------------------------------------------------
def install(app: FastAPI) -> None:
    """Add the router and the mapping of filings errors to JSON errors."""

    @app.exception_handler(FilingError)
    async def _filing_error(_request: Request, exc: FilingError):
        return error_response(exc.status, exc.code, exc.message, exc.detail)

    app.include_router(router)
