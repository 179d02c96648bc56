"""The filing actions as the web APIs offer them: one table, used by the departments' API
(desk/department_api.py, bearer tokens) and the staff desk's case desk (staffdesk/cases_api.py,
staff sessions).

Each action has its URL segment (`POST .../cases/{number}/<name>`), its button label, its request
body model, the filings function that performs it, and the state-machine actions
(filings.states) it covers, so an API can say which of its actions are possible now.
`add_action_routes()` adds one POST route per action to a router; each API supplies who is
calling (a FastAPI dependency) and what to do with the record (find it as that caller may see
it, choose the Actor, perform, commit, answer).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Type

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from desk.dependencies import get_session
from filings import cases as case_service
from filings import workorders as order_service
from filings.cases import Actor

# Due states in the queues, also by colour.
DUE_STATES = ("normal", "warning", "overdue", "paused")
DUE_ALIASES = {"green": "normal", "yellow": "warning", "red": "overdue", "grey": "paused"}


def normalise_due(due: Optional[str]) -> Optional[str]:
    """normal/warning/overdue/paused from a due state or its colour; unknown values pass through
    (filings refuses them with a Chinese message)."""
    return DUE_ALIASES.get(due, due) if due else None


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


# -- the tables -------------------------------------------------------------------------------------
Perform = Callable[[Session, Any, Actor, Optional[BaseModel]], Any]


@dataclass(frozen=True)
class FilingAction:
    name: str  # URL segment: sign, supplements-done ...
    label: str  # the button (Chinese)
    summary: str  # OpenAPI summary
    body: Optional[Type[BaseModel]]  # request body model, None: no body
    body_required: bool  # False: the body may be left out (its defaults apply)
    perform: Perform  # (session, record, actor, body) -> record; flushes, the caller commits
    transitions: Tuple[str, ...]  # the state machine's actions it covers
    coordinating: bool = False  # done by the coordinating office (改派), not the handling department


def _case(name, label, summary, body, perform, transitions, body_required=True) -> FilingAction:
    return FilingAction(name, label, summary, body, body_required and body is not None, perform, tuple(transitions))


CASE_ACTIONS: Dict[str, FilingAction] = {a.name: a for a in (
    _case("sign", "签收", "签收", None,
          lambda s, c, a, b: case_service.sign(s, c, a), ["sign"]),
    _case("accept", "受理", "受理 (3)", NoteBody,
          lambda s, c, a, b: case_service.accept(s, c, a, b.note), ["accept"], body_required=False),
    _case("reject", "不予受理", "不予受理 (5) / 不受理 (4) with a reason", RejectBody,
          lambda s, c, a, b: case_service.reject(s, c, a, b.reason, b.not_required), ["reject", "not_required"]),
    _case("supplements", "要求补正", "补正开始 (6): everything missing, at once", SupplementsBody,
          lambda s, c, a, b: case_service.request_supplements(s, c, a, b.missing, b.note), ["request_supplements"]),
    _case("supplements-done", "补正结束", "补正结束 (7)", SupplementsDoneBody,
          lambda s, c, a, b: case_service.supplements_done(s, c, a, b.submitted, b.note), ["supplements_done"],
          body_required=False),
    _case("start", "开始办理", "部门开始办理 (8)", None,
          lambda s, c, a, b: case_service.start(s, c, a), ["start"]),
    _case("special-start", "开始特别程序", "特别程序开始 (9)", SpecialBody,
          lambda s, c, a, b: case_service.special_start(s, c, a, b.procedure), ["special_start"]),
    _case("special-end", "结束特别程序", "特别程序结束 (10)", NoteBody,
          lambda s, c, a, b: case_service.special_end(s, c, a, b.note), ["special_end"], body_required=False),
    _case("complete", "办结", "办结: 11 通过 / 12 容缺通过 / 13 不通过", CompleteBody,
          lambda s, c, a, b: case_service.complete(s, c, a, b.result, b.approved, b.tolerated),
          ["complete_approved", "complete_tolerated", "complete_denied"]),
    _case("revoke", "撤销", "撤销 (15) an approval", ReasonBody,
          lambda s, c, a, b: case_service.revoke(s, c, a, b.reason), ["revoke"]),
)}

ORDER_ACTIONS: Dict[str, FilingAction] = {a.name: a for a in (
    _case("sign", "签收", "签收", None,
          lambda s, o, a, b: order_service.sign_order(s, o, a), ["sign"]),
    _case("reply", "答复", "答复 (the citizen is told and asked whether it is settled)", ReplyBody,
          lambda s, o, a, b: order_service.reply_order(s, o, a, b.reply), ["reply"]),
    _case("return", "退单", "退单: not ours (the coordinating office reassigns it)", ReasonBody,
          lambda s, o, a, b: order_service.return_order(s, o, a, b.reason), ["return"]),
    _case("close", "办结", "办结 after the reply (回访 done)", NoteBody,
          lambda s, o, a, b: order_service.close_order(s, o, a, b.note), ["close"], body_required=False),
    FilingAction("reassign", "改派", "改派 (coordinating office only)", ReassignBody, True,
                 lambda s, o, a, b: order_service.reassign_order(s, o, a, b.department, b.note), ("reassign",),
                 coordinating=True),
)}


def available(table: Dict[str, FilingAction], transitions: Iterable[str]) -> List[FilingAction]:
    """The table's actions that cover any of the state machine's allowed `transitions`, in table
    order (reject covers 不予受理 and 不受理, complete its three outcomes)."""
    allowed = set(transitions)
    return [action for action in table.values() if allowed.intersection(action.transitions)]


# -- routes -----------------------------------------------------------------------------------------
# act(session, number, caller, action, body) -> the answer; it finds the record as the caller may
# see it, performs the action with the caller's Actor and commits.
Act = Callable[[Session, str, Any, FilingAction, Optional[BaseModel]], dict]


def add_action_routes(router: APIRouter, table: Dict[str, FilingAction], path: str, caller: Callable[..., Any],
                      act: Act, operation_prefix: str) -> None:
    """One `POST {path}/{number}/{action.name}` route per action of the table, with the action's
    body model in the OpenAPI schema. `caller` is the dependency naming who calls (a department,
    a member of staff): it runs (and may refuse) before the body is looked at."""
    for action in table.values():
        router.add_api_route(
            f"{path}/{{number}}/{action.name}",
            _endpoint(action, caller, act),
            methods=["POST"],
            summary=action.summary,
            name=f"{operation_prefix}_{action.name.replace('-', '_')}",
        )


def _endpoint(action: FilingAction, caller: Callable[..., Any], act: Act) -> Callable[..., dict]:
    def endpoint(number: str, body: Optional[BaseModel] = None, who: Any = None, session: Session = None) -> dict:
        return act(session, number, who, action, body)

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("number", keyword, annotation=str)]
    if action.body is not None:
        default = inspect.Parameter.empty if action.body_required else action.body()
        parameters.append(inspect.Parameter("body", keyword, annotation=action.body, default=default))
    parameters += [
        inspect.Parameter("who", keyword, default=Depends(caller)),
        inspect.Parameter("session", keyword, annotation=Session, default=Depends(get_session)),
    ]
    # FastAPI reads the parameters (path, body model, dependencies) from the signature.
    endpoint.__signature__ = inspect.Signature(parameters)
    endpoint.__name__ = f"{action.name.replace('-', '_')}_action"
    return endpoint
