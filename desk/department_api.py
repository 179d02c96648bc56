"""/api/v1/department: the departments' side of filings (后台分类审批).

Each department authenticates with its own bearer token (`onewindow departments token CODE`) and
sees only its own cases and work orders (another department's: 404, as if it did not exist). Every
action goes through the state machine (filings.states): an illegal one answers 409 and changes
nothing. An optional `X-Operator` header names the clerk (a staff ID, or a name percent-encoded as
UTF-8), recorded in the history.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional
from urllib.parse import unquote

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from desk.dependencies import get_session
from desk.errors import ApiError, error_response
from desk.filing_actions import CASE_ACTIONS, ORDER_ACTIONS, FilingAction, add_action_routes, normalise_due
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


@dataclass(frozen=True)
class Caller:
    """The department behind the token and the clerk named in X-Operator (for the actions)."""

    department: Department
    operator: Optional[str]


def current_caller(department: Department = Depends(current_department), operator=Depends(_operator)) -> Caller:
    return Caller(department, operator)


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
    due = normalise_due(due)
    rows = case_service.department_queue(session, department, status=status, due=due, include_closed=include_closed,
                                         escalated=escalated, limit=limit, offset=offset)
    return {"department": department.code, "count": len(rows), "cases": [case_service.case_view(c) for c in rows]}


@router.get("/cases/{number}", summary="One case with its applicant, materials, history and possible actions")
def get_case(number: str, department: Department = Depends(current_department),
             session: Session = Depends(get_session)) -> dict:
    case = _own_case(session, number, department, read_only=True)
    view = case_service.case_view(case, for_department=case.department_id == department.id, history=True)
    return view


def _act_on_case(session: Session, number: str, caller: Caller, action: FilingAction, body) -> dict:
    case = _own_case(session, number, caller.department)
    action.perform(session, case, _actor(caller.department, caller.operator), body)
    return _done(session, case)


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


def _act_on_order(session: Session, number: str, caller: Caller, action: FilingAction, body) -> dict:
    department = caller.department
    if action.coordinating and not department.coordinating:
        raise ApiError(403, "forbidden", "只有统筹协调部门可以改派工单。", "only the coordinating office may reassign")
    order = _own_order(session, number, department)
    if action.coordinating:
        name = f"{department.code}:{caller.operator}" if caller.operator else department.code
        actor = Actor(COORDINATING, name, department.id)
    else:
        actor = _actor(department, caller.operator)
    action.perform(session, order, actor, body)
    return _order_done(session, order, department)


# Every action of the shared table (desk/filing_actions.py): POST cases/{number}/sign ... and
# POST workorders/{number}/sign, reply, return, close, reassign.
add_action_routes(router, CASE_ACTIONS, "/cases", current_caller, _act_on_case, "department_case")
add_action_routes(router, ORDER_ACTIONS, "/workorders", current_caller, _act_on_order, "department_order")


# -- wiring -----------------------------------------------------------------------------------------
def install(app: FastAPI) -> None:
    """Add the router and the mapping of filings errors to JSON errors."""

    @app.exception_handler(FilingError)
    async def _filing_error(_request: Request, exc: FilingError):
        return error_response(exc.status, exc.code, exc.message, exc.detail)

    app.include_router(router)
