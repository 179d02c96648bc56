"""The state machines of cases (办件, national status codes 1-15) and work orders (工单), as
tables. Pure: no database, no clock; `filings.cases` and `filings.workorders` apply them.

Case statuses (national codes):
    1 已接件  2 已撤件  3 已受理  4 不受理  5 不予受理  6 补正开始  7 补正结束  8 部门开始办理
    9 特别程序开始  10 特别程序结束  11 办结（通过）  12 办结（容缺通过）  13 办结（不通过）  14 撤回  15 撤销

A case is received (1) and dispatched to its department, which signs for it (签收: status stays 1,
the case is marked signed) before deciding at intake: accept (3), 不受理 (4: the matter needs no
application, 行政许可法 第三十二条 (一)), 不予受理 (5: conditions not met, with a reason), or a
request for supplements (6, 补正: 一次性告知 everything missing); when the supplements are in (7)
the department decides again. An accepted case may be processed (8), go through a special
procedure (9 -> 10: hearings, expert review; not counted in the time limit), and is completed
(11 approved, 12 approved with a non-key material to follow (容缺), 13 denied). The applicant may
withdraw before acceptance (2, 撤件) or after it (14, 撤回); an approval may be revoked (15, 撤销).

Work orders (complaints, suggestions, follow-ups of bad ratings; the 12345 flow): dispatched (已派单)
-> signed (已签收) -> replied (已答复, the citizen is asked whether the answer settles it) -> closed
(已办结); the department may return a dispatch that is not its own (已退单), and the coordinating
office reassigns it (改派); an unhappy citizen reopens a replied order (back to dispatched).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Dict, FrozenSet, List, Optional, Tuple

from filings.errors import Forbidden, IllegalTransition, InvalidInput

# Who acts.
DEPARTMENT = "department"  # the department that handles the case or work order
COORDINATING = "coordinating"  # the coordinating office (统筹协调: reassigns, receives escalations)
CITIZEN = "citizen"  # the applicant, through a channel
DESK = "desk"  # the one-window front desk (a clerk, or the assistant on the citizen's behalf)
SYSTEM = "system"  # the deadline sweep
ACTORS = (DEPARTMENT, COORDINATING, CITIZEN, DESK, SYSTEM)


class CaseStatus(IntEnum):
    RECEIVED = 1
    WITHDRAWN = 2
    ACCEPTED = 3
    NOT_ACCEPTED = 4
    REJECTED = 5
    SUPPLEMENT_STARTED = 6
    SUPPLEMENT_ENDED = 7
    PROCESSING = 8
    SPECIAL_STARTED = 9
    SPECIAL_ENDED = 10
    APPROVED = 11
    APPROVED_TOLERATED = 12
    DENIED = 13
    RETRACTED = 14
    REVOKED = 15


STATUS_NAMES: Dict[int, str] = {
    1: "已接件",
    2: "已撤件",
    3: "已受理",
    4: "不受理",
    5: "不予受理",
    6: "补正开始",
    7: "补正结束",
    8: "部门开始办理",
    9: "特别程序开始",
    10: "特别程序结束",
    11: "办结（通过）",
    12: "办结（容缺通过）",
    13: "办结（不通过）",
    14: "撤回",
    15: "撤销",
}
# What a citizen reads (plainer than the codes' names).
STATUS_FOR_CITIZENS: Dict[int, str] = {
    1: "已接件，等待部门受理",
    2: "已撤件",
    3: "已受理，正在办理",
    4: "不受理",
    5: "不予受理",
    6: "需要补正材料",
    7: "补正材料已收到，等待部门审核",
    8: "部门正在办理",
    9: "特别程序中（听证、专家评审等）",
    10: "特别程序已结束，正在办理",
    11: "已办结（通过）",
    12: "已办结（容缺通过，请按约定补交材料）",
    13: "已办结（不通过）",
    14: "已撤回",
    15: "已撤销",
}
CLOSED_STATUSES: FrozenSet[int] = frozenset({2, 4, 5, 11, 12, 13, 14, 15})
COMPLETED_STATUSES: FrozenSet[int] = frozenset({11, 12, 13})  # 办结
APPROVED_STATUSES: FrozenSet[int] = frozenset({11, 12})
PAUSED_STATUSES: FrozenSet[int] = frozenset({6, 9})  # the time limit does not run
RATEABLE_STATUSES: FrozenSet[int] = frozenset({4, 5, 11, 12, 13})  # an outcome the citizen can rate


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # the action in Chinese (签收, 受理 ...)
    sources: FrozenSet
    target: Optional[object]  # None: the status does not change (签收)
    actors: FrozenSet[str]
    signed: Optional[bool] = None  # required signed state: True, False, or None (either)
    needs_reason: bool = False  # a reason / result text is required
    pauses: bool = False  # stops the clock
    resumes: bool = False  # restarts the clock


def _t(action, label, sources, target, actors, **kw) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(actors), **kw)


_DEPT = (DEPARTMENT,)
_APPLICANT = (CITIZEN, DESK)
_AT_INTAKE = (1, 7)  # received, or supplements in: the department decides at intake
_IN_HAND = (3, 8, 10)  # accepted and not paused: can be completed

CASE_TRANSITIONS: Tuple[Transition, ...] = (
    _t("sign", "签收", (1,), None, _DEPT, signed=False),
    _t("accept", "受理", _AT_INTAKE, 3, _DEPT, signed=True),
    _t("not_required", "不受理", _AT_INTAKE, 4, _DEPT, signed=True, needs_reason=True),
    _t("reject", "不予受理", _AT_INTAKE, 5, _DEPT, signed=True, needs_reason=True),
    _t("request_supplements", "要求补正", _AT_INTAKE, 6, _DEPT, signed=True, pauses=True),
    _t("supplements_done", "补正结束", (6,), 7, (DEPARTMENT, DESK), resumes=True),
    _t("start", "开始办理", (3, 10), 8, _DEPT),
    _t("special_start", "开始特别程序", (3, 8), 9, _DEPT, needs_reason=True, pauses=True),
    _t("special_end", "结束特别程序", (9,), 10, _DEPT, resumes=True),
    _t("complete_approved", "办结（通过）", _IN_HAND, 11, _DEPT, needs_reason=True),
    _t("complete_tolerated", "办结（容缺通过）", _IN_HAND, 12, _DEPT, needs_reason=True),
    _t("complete_denied", "办结（不通过）", _IN_HAND, 13, _DEPT, needs_reason=True),
    _t("withdraw", "撤件", (1, 6, 7), 2, _APPLICANT),
    _t("retract", "撤回", (3, 8, 9, 10), 14, _APPLICANT),
    _t("revoke", "撤销", APPROVED_STATUSES, 15, _DEPT, needs_reason=True),
)


class OrderStatus:
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    REPLIED = "replied"
    RETURNED = "returned"
    CLOSED = "closed"


ORDER_STATUS_NAMES: Dict[str, str] = {
    "dispatched": "已派单",
    "signed": "已签收",
    "replied": "已答复",
    "returned": "已退单",
    "closed": "已办结",
}
ORDER_OPEN: FrozenSet[str] = frozenset({"dispatched", "signed", "returned"})  # the clock runs
ORDER_CLOSED: FrozenSet[str] = frozenset({"closed"})

ORDER_TRANSITIONS: Tuple[Transition, ...] = (
    _t("sign", "签收", ("dispatched",), "signed", _DEPT),
    _t("return", "退单", ("dispatched", "signed"), "returned", _DEPT, needs_reason=True),
    _t("reassign", "改派", ("dispatched", "signed", "returned"), "dispatched", (COORDINATING,)),
    _t("reply", "答复", ("signed",), "replied", _DEPT, needs_reason=True),
    _t("close", "办结", ("replied",), "closed", (DEPARTMENT, CITIZEN, DESK)),
    _t("reopen", "重新办理", ("replied",), "dispatched", _APPLICANT, needs_reason=True),
)


class StateMachine:
    def __init__(self, transitions: Tuple[Transition, ...], names: Dict, noun: str):
        self.transitions = transitions
        self.names = names
        self.noun = noun  # 办件 / 工单
        self._by_action: Dict[str, Transition] = {t.action: t for t in transitions}

    @property
    def actions(self) -> List[str]:
        return list(self._by_action)

    def transition(self, action: str) -> Transition:
        try:
            return self._by_action[action]
        except KeyError:
            raise InvalidInput("不支持该操作。", f"unknown action {action!r}; known: {', '.join(self._by_action)}",
                               code="unknown_action") from None

    def is_legal(self, action: str, status, signed: bool = False) -> bool:
        t = self._by_action.get(action)
        return t is not None and status in t.sources and (t.signed is None or t.signed == signed)

    def check(self, action: str, status, actor: str, signed: bool = False) -> Transition:
        """The transition for `action` in this state by this actor; IllegalTransition (409) when
        the state forbids it, Forbidden (403) when this actor may not do it."""
        t = self.transition(action)
        name = self.names.get(status, str(status))
        if status not in t.sources:
            raise IllegalTransition(
                f"{self.noun}当前状态为“{name}”，不能{t.label}。",
                f"action {action!r} is not allowed in status {status!r} ({name})",
            )
        if t.signed is True and not signed:
            raise IllegalTransition(
                f"请先签收该{self.noun}，再{t.label}。", f"action {action!r} requires the {self.noun} to be signed for first"
            )
        if t.signed is False and signed:
            raise IllegalTransition(f"该{self.noun}已签收，不能重复签收。", f"action {action!r}: already signed for")
        if actor not in t.actors:
            raise Forbidden(f"“{t.label}”不能由您执行。", f"actor {actor!r} may not {action!r}; allowed: {sorted(t.actors)}")
        return t

    def allowed(self, status, actor: str, signed: bool = False) -> List[str]:
        """The actions this actor may take now (for the department's screen)."""
        return [
            t.action for t in self.transitions
            if actor in t.actors and self.is_legal(t.action, status, signed)
        ]


CASES = StateMachine(CASE_TRANSITIONS, STATUS_NAMES, "办件")
WORK_ORDERS = StateMachine(ORDER_TRANSITIONS, ORDER_STATUS_NAMES, "工单")


# 好差评: five levels; the last two are a bad rating (差评) that opens a follow-up work order.
RATING_LEVELS: Dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_RATINGS: FrozenSet[int] = frozenset({1, 2})
