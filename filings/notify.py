"""Telling citizens, through the channel they filed from, when a case needs supplements, has an
outcome, or a work order was answered. Messages are queued in the outbox in the caller's
transaction (so a message is sent exactly when the change it reports is committed); the Rasa
process delivers them.

Every message carries `custom = {"type": "case_update", "event", "number", ...}`; when it asks
for a rating, `custom["rating"] = {"number", "levels": [...]}` and the conversation takes the
citizen's reply with `filings.ratings.rate()`.
"""
from __future__ import annotations

from typing import List, Optional

from sqlalchemy.orm import Session

from filings.calendar import describe_limit
from filings.models import BundleFiling, Case, WorkOrder
from filings.states import RATING_LEVELS, STATUS_FOR_CITIZENS, STATUS_NAMES
from outbound import outbox

KIND = "case_update"
RATING_PROMPT = "请您对本次服务进行评价，直接回复：非常满意、满意、基本满意、不满意或非常不满意。"


def _rating(number: str) -> dict:
    return {"number": number, "levels": [RATING_LEVELS[level] for level in sorted(RATING_LEVELS, reverse=True)]}


def _case_custom(case: Case, event: str) -> dict:
    return {
        "type": "case_update",
        "event": event,
        "number": case.number,
        "bundle": case.bundle_filing.number if case.bundle_filing else None,
        "service": {"code": case.service.code, "name": case.service.name},
        "department": {"code": case.department.code, "name": case.department.name},
        "status": case.status,
        "status_name": STATUS_NAMES[case.status],
    }


def _send(session: Session, channel: Optional[str], recipient: Optional[str], text: str, custom: dict) -> bool:
    if not channel or not recipient:
        return False  # filed at a window without a chat channel: the clerk informs the citizen
    outbox.enqueue(session, channel, recipient, text, kind=KIND, custom=custom)
    return True


def _bundle_prefix(case: Case) -> str:
    filing = case.bundle_filing
    if filing is None:
        return ""
    return f"【{filing.bundle.name} {filing.number}】"


def _phone(case: Case) -> str:
    phone = case.service.consult_phone or case.department.phone
    return f"如有疑问，请咨询{case.department.short_name or case.department.name}（{phone}）。" if phone else ""


def supplements_requested(session: Session, case: Case, missing: List[str], note: Optional[str]) -> bool:
    lines = "\n".join(f"{i}. {name}" for i, name in enumerate(missing, 1))
    text = (
        f"{_bundle_prefix(case)}您申报的“{case.service.name}”（办件编号 {case.number}）需要补正以下材料：\n{lines}\n"
        + (f"说明：{note}\n" if note else "")
        + "请通过原申报渠道补交，或携带材料到政务服务大厅综合受理窗口。补正期间不计入办理时限。"
        + _phone(case)
    )
    custom = _case_custom(case, "supplements")
    custom.update(missing=list(missing), note=note)
    return _send(session, case.channel, case.recipient, text, custom)


def outcome(session: Session, case: Case, ask_rating: bool) -> bool:
    """A case reached an outcome (办结, 不予受理, 不受理, 撤销): say so, and ask for a rating unless
    it belongs to a bundle (the bundle is rated as a whole when all its cases are done)."""
    prefix = _bundle_prefix(case)
    head = f"{prefix}您申报的“{case.service.name}”（办件编号 {case.number}）"
    status = case.status
    tolerated = [m.name for m in case.materials if m.status == "tolerated"]
    if status == 11:
        body = f"已办结，审批通过。办理结果：{case.result}。"
    elif status == 12:
        body = (f"已办结，容缺通过。办理结果：{case.result}。请尽快补交以下材料：{'、'.join(tolerated)}。"
                if tolerated else f"已办结，容缺通过。办理结果：{case.result}。")
    elif status == 13:
        body = f"已办结，审批未通过。原因：{case.reason}。"
    elif status in (4, 5):
        body = f"{STATUS_NAMES[status]}。原因：{case.reason}。"
    elif status == 15:
        body = f"的审批决定已被撤销。原因：{case.reason}。"
    else:
        body = f"当前状态：{STATUS_FOR_CITIZENS[status]}。"
    text = head + body + _phone(case)
    custom = _case_custom(case, "completed" if status in (11, 12, 13) else "closed")
    custom.update(result=case.result, reason=case.reason, tolerated=tolerated)
    if case.bundle_filing is not None:
        done = sum(1 for c in case.bundle_filing.cases if c.closed_at is not None)
        total = len(case.bundle_filing.cases)
        text += f"（本一件事已完成{done}/{total}项）"
    if ask_rating and case.bundle_filing is None:
        text += "\n" + RATING_PROMPT
        custom["rating"] = _rating(case.number)
    return _send(session, case.channel, case.recipient, text, custom)


def bundle_completed(session: Session, filing: BundleFiling) -> bool:
    lines = "\n".join(
        f"- {c.service.name}（{c.department.short_name or c.department.name}）：{STATUS_NAMES[c.status]}"
        + (f"，{c.result}" if c.result and c.status in (11, 12) else "")
        for c in filing.cases
    )
    text = (f"您申报的“{filing.bundle.name}”（编号 {filing.number}）所有事项均已办理完毕：\n{lines}\n"
            + RATING_PROMPT)
    custom = {
        "type": "case_update",
        "event": "bundle_completed",
        "number": filing.number,
        "bundle": filing.number,
        "cases": [{"number": c.number, "service": c.service.name, "status": c.status,
                   "status_name": STATUS_NAMES[c.status]} for c in filing.cases],
        "rating": _rating(filing.number),
    }
    return _send(session, filing.channel, filing.recipient, text, custom)


def order_replied(session: Session, order: WorkOrder) -> bool:
    noun = {"complaint": "投诉", "suggestion": "建议", "rating_followup": "评价"}.get(order.kind, "诉求")
    text = (
        f"您反映的{noun}（工单编号 {order.number}）已由{order.department.name}答复：\n{order.reply}\n"
        "问题是否已解决？请回复“已解决”或“未解决”。"
    )
    custom = {
        "type": "case_update",
        "event": "order_replied",
        "number": order.number,
        "kind": order.kind,
        "department": {"code": order.department.code, "name": order.department.name},
        "reply": order.reply,
        "ask": "resolved",
    }
    return _send(session, order.channel, order.recipient, text, custom)


def time_limit_text(case: Case) -> str:
    return describe_limit(case.limit_value, case.limit_unit, case.immediate)
