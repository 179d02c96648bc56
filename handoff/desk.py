"""Staff working the handoff queue: the inbox, a conversation's live transcript, taking it,
replying, and handing it back to the bot.

What the citizen sees travels through the outbox (outbound/), delivered by the Rasa process on the
citizen's own channel with retries: the notice that a person joined, every staff reply, the notice
that the bot takes over again. Each is also recorded here (HandoffMessage) and logged in the
conversation's Rasa tracker as a bot event (recorded only: Rasa does not send it again), so the
conversation's history holds what staff said.

Rasa may be down: taking and replying still record and queue (the tracker gets the messages when
Rasa is back, at the latest on hand back); handing back needs Rasa (the bot must be resumed), so it
fails with 503 and the conversation stays with the clerk. While a clerk has the conversation the
bot stays paused: taking and replying pause it again (a pause lost to an expired session included).

Two clerks cannot both take a conversation: the take is one UPDATE conditional on the status.
These functions commit: each is one step the citizen sees.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from connectors.privacy import seal_id_numbers, without_sealed_ids
from filings.identity import redact
from handoff.models import HandoffMessage, HandoffRequest
from handoff.rasa_api import RasaAPI, RasaUnavailable
from outbound import outbox
from outbound.models import OutboundMessage

log = logging.getLogger(__name__)

# The channels a handoff can come from (HandoffRequest.channel is the conversation's input channel,
# which is also the name of the outbox sender of that channel); REST cannot push: its messages are
# kept as "held" for the client to fetch.
CHANNEL_NAMES = {"webchat": "网页", "wechat": "微信", "wecom": "企业微信", "rest": "接口"}
REASON_NAMES = {"requested": "市民要求转人工", "repeated_failure": "智能助手多次未能回答"}

MAX_REPLY_LENGTH = 2000
CLOSED_SHOWN = 20  # recently closed conversations in the inbox
CLOSED_WITHIN = timedelta(hours=24)
TRANSCRIPT_LIMIT = 200

JOINED_TEXT = "工作人员（{name}）已接入，接下来由我为您服务。请问有什么可以帮您？"
LEFT_TEXT = "人工服务已结束，智能助手将继续为您服务。如需再次联系工作人员，请回复“转人工”。"
STAFF_PREFIX = "工作人员（{name}）："  # on channels that show no label of their own (WeChat, WeCom)
FALLBACK_NOTICE = ("暂时无法连接智能助手服务，下面是转人工时保存的对话记录，之后市民发来的消息暂时看不到；"
                   "您的回复仍会送达市民。")

# Marks the bot events this module logs in a tracker (they come from HandoffMessage instead).
MARKER = "onewindow_handoff"


class HandoffError(Exception):
    """A desk action that cannot be done; `message` is Chinese (for staff), `detail` English."""

    def __init__(self, status: int, code: str, message: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.message, self.detail = status, code, message, detail


@dataclass(frozen=True)
class Clerk:
    """The member of staff acting; a supervisor (coordinator, admin) may reply to and hand back
    conversations others took."""

    id: int
    name: str
    supervisor: bool = False


@dataclass
class Conversation:
    request: HandoffRequest
    transcript: List[Dict[str, Any]]
    live: bool  # the transcript came from Rasa (else: the copy stored at the handoff)
    notice: Optional[str]


def _now() -> datetime:
    return datetime.utcnow()


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def shown(text: Optional[str]) -> str:
    """A text as staff may see it: ID numbers (sealed or not) and mobile numbers masked."""
    return redact(without_sealed_ids(text or ""))


# -- finding and listing ------------------------------------------------------------------------------
def find(session: Session, request_id: int) -> HandoffRequest:
    request = session.get(HandoffRequest, request_id)
    if request is None:
        raise HandoffError(404, "handoff_not_found", "没有这个转人工会话。", f"no handoff request {request_id}")
    return request


def summary(request: HandoffRequest, clerk: Clerk, now: Optional[datetime] = None,
            last_reply_at: Optional[datetime] = None) -> Dict[str, Any]:
    now = now or _now()
    until = request.taken_at or request.closed_at or now
    last_citizen = request.last_message_at or request.requested_at
    return {
        "id": request.id,
        "channel": request.channel,
        "channel_name": CHANNEL_NAMES.get(request.channel, request.channel),
        "reason": request.reason,
        "reason_name": REASON_NAMES.get(request.reason, request.reason),
        "status": request.status,
        "requested_at": _iso(request.requested_at),
        "taken_at": _iso(request.taken_at),
        "closed_at": _iso(request.closed_at),
        "waited_seconds": max(0, int((until - request.requested_at).total_seconds())),
        "taken_by": {"name": request.taken_by, "mine": request.taken_by_id == clerk.id} if request.taken_by else None,
        "last_message": shown(request.last_message) or None,
        "last_message_at": _iso(request.last_message_at),
        # The citizen wrote after the last staff reply (or nobody has replied yet).
        "awaiting_reply": request.status != "closed" and (last_reply_at is None or last_citizen > last_reply_at),
    }


def inbox(session: Session, clerk: Clerk, now: Optional[datetime] = None) -> Dict[str, Any]:
    """Waiting conversations (longest waiting first), taken ones (mine first), recently closed."""
    now = now or _now()
    open_requests = list(session.execute(
        select(HandoffRequest).where(HandoffRequest.status.in_(("waiting", "taken"))).order_by(HandoffRequest.requested_at)
    ).scalars())
    closed = list(session.execute(
        select(HandoffRequest)
        .where(HandoffRequest.status == "closed", HandoffRequest.closed_at >= now - CLOSED_WITHIN)
        .order_by(HandoffRequest.closed_at.desc()).limit(CLOSED_SHOWN)
    ).scalars())
    replies: Dict[int, datetime] = {}
    ids = [r.id for r in open_requests]
    if ids:
        replies = dict(session.execute(
            select(HandoffMessage.request_id, func.max(HandoffMessage.created_at))
            .where(HandoffMessage.request_id.in_(ids), HandoffMessage.kind == "staff_message")
            .group_by(HandoffMessage.request_id)
        ).all())
    waiting = [summary(r, clerk, now, replies.get(r.id)) for r in open_requests if r.status == "waiting"]
    taken = [summary(r, clerk, now, replies.get(r.id)) for r in open_requests if r.status == "taken"]
    taken.sort(key=lambda item: not item["taken_by"]["mine"])  # stable: mine first, then by waiting time
    return {"waiting": waiting, "taken": taken, "closed": [summary(r, clerk, now) for r in closed],
            "now": _iso(now)}


# -- the transcript -----------------------------------------------------------------------------------
def _parse_time(value: Any) -> Optional[datetime]:
    if isinstance(value, (int, float)):
        return datetime.utcfromtimestamp(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.rstrip("Z"))
        except ValueError:
            return None
    return None


def _entry(role: str, text: str, moment: Optional[datetime], **extra: Any) -> Dict[str, Any]:
    return {"role": role, "text": shown(text), "time": moment, **extra}


def _from_tracker(tracker: Dict[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for event in tracker.get("events") or []:
        if not isinstance(event, dict) or event.get("event") not in ("user", "bot"):
            continue
        text = event.get("text")
        if not isinstance(text, str) or not text:
            continue
        if event["event"] == "bot" and isinstance(event.get("metadata"), dict) and MARKER in event["metadata"]:
            continue  # a staff message or notice: shown from the handoff's own record
        moment = _parse_time(event.get("timestamp"))
        if event["event"] == "user":
            out.append(_entry("user", text, moment, button=text.startswith("/")))
        else:
            out.append(_entry("bot", text, moment))
    return out


def _from_stored(request: HandoffRequest) -> List[Dict[str, Any]]:
    out = []
    for item in request.transcript or []:
        if isinstance(item, dict) and item.get("role") in ("user", "bot") and isinstance(item.get("text"), str):
            text = item["text"]
            extra = {"button": text.startswith("/")} if item["role"] == "user" else {}
            out.append(_entry(item["role"], text, _parse_time(item.get("time")), **extra))
    return out


def _staff_entries(session: Session, request: HandoffRequest) -> List[Dict[str, Any]]:
    rows = session.execute(
        select(HandoffMessage, OutboundMessage)
        .outerjoin(OutboundMessage, OutboundMessage.id == HandoffMessage.outbound_id)
        .where(HandoffMessage.request_id == request.id)
        .order_by(HandoffMessage.id)
    ).all()
    out = []
    for message, outbound in rows:
        delivery = ({"status": outbound.status, "attempts": outbound.attempts, "error": outbound.last_error}
                    if outbound is not None else {"status": "undeliverable", "attempts": 0, "error": None})
        role = "staff" if message.kind == "staff_message" else "notice"
        out.append(_entry(role, message.text, message.created_at, kind=message.kind, staff_name=message.staff_name,
                          delivery=delivery))
    return out


def _merge(conversation: List[Dict[str, Any]], staff: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The citizen's and the bot's messages in their order, staff messages placed by time."""
    merged: List[Dict[str, Any]] = []
    pending = list(staff)
    last: Optional[datetime] = None
    for entry in conversation:
        last = entry["time"] or last
        while pending and last is not None and pending[0]["time"] < last:
            merged.append(pending.pop(0))
        merged.append(entry)
    return merged + pending


def conversation(session: Session, request: HandoffRequest, rasa: RasaAPI) -> Conversation:
    """The transcript: live from Rasa (messages sent after the handoff too), else the copy stored
    at the handoff with a notice; staff messages from the handoff's record, with their delivery."""
    try:
        entries = _from_tracker(rasa.tracker(request.conversation_id))
        live, notice = True, None
    except RasaUnavailable as exc:
        log.warning("transcript of handoff %s from the stored copy: Rasa unavailable (%s)", request.id, exc)
        entries, live, notice = _from_stored(request), False, FALLBACK_NOTICE
    if live:
        _remember_last_message(session, request, entries)
    transcript = _merge(entries, _staff_entries(session, request))[-TRANSCRIPT_LIMIT:]
    for entry in transcript:
        entry["time"] = _iso(entry["time"])
    return Conversation(request, transcript, live, notice)


def _remember_last_message(session: Session, request: HandoffRequest, entries: Sequence[Dict[str, Any]]) -> None:
    """Keep the inbox's "last message" up to date with what the citizen wrote after the handoff."""
    last = next((e for e in reversed(entries) if e["role"] == "user" and e["time"] is not None), None)
    if request.status == "closed" or last is None:
        return
    if request.last_message_at is None or last["time"] > request.last_message_at:
        request.last_message, request.last_message_at = last["text"], last["time"]
        session.commit()


# -- acting -------------------------------------------------------------------------------------------
def _may_act(request: HandoffRequest, clerk: Clerk, what: str) -> None:
    if request.status == "waiting":
        raise HandoffError(409, "not_taken", "请先接入该会话。", f"handoff {request.id} is waiting; take it first")
    if request.status == "closed":
        raise HandoffError(409, "closed", "该会话的人工服务已结束。", f"handoff {request.id} is closed")
    if request.taken_by_id != clerk.id and not clerk.supervisor:
        raise HandoffError(403, "not_yours", f"该会话由{request.taken_by or '其他工作人员'}接待，只有接待人或统筹协调人员可以{what}。",
                           f"handoff {request.id} was taken by staff {request.taken_by_id}")


def _outgoing_text(channel: str, kind: str, text: str, name: str) -> str:
    if kind == "staff_message" and channel in ("wechat", "wecom"):
        return STAFF_PREFIX.format(name=name) + text
    return text


def _record(session: Session, request: HandoffRequest, clerk: Clerk, kind: str, text: str,
            now: datetime, logged: bool = False) -> HandoffMessage:
    """A message to the citizen: queued in the outbox for their channel and recorded."""
    outbound = None
    if request.channel in CHANNEL_NAMES:
        outbound = outbox.enqueue(session, request.channel, request.conversation_id,
                                  _outgoing_text(request.channel, kind, text, clerk.name), kind=kind,
                                  custom={"type": kind, "staff_name": clerk.name, "request": request.id})
        session.flush()
    else:
        log.warning("handoff %s: channel %r has no way to reach the citizen; %s not delivered",
                    request.id, request.channel, kind)
    message = HandoffMessage(request_id=request.id, kind=kind, text=text, staff_id=clerk.id, staff_name=clerk.name,
                             outbound_id=outbound.id if outbound is not None else None, created_at=now,
                             rasa_logged_at=now if logged else None)
    session.add(message)
    session.flush()
    return message


def _bot_event(request_id: int, kind: str, text: str, name: str, moment: datetime) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": (moment - datetime(1970, 1, 1)).total_seconds(),
            "data": {"custom": {"type": kind, "staff_name": name}},
            "metadata": {MARKER: {"request": request_id, "kind": kind}, "staff_name": name}}


def _unlogged(session: Session, request: HandoffRequest) -> List[HandoffMessage]:
    return list(session.execute(
        select(HandoffMessage).where(HandoffMessage.request_id == request.id, HandoffMessage.rasa_logged_at.is_(None))
        .order_by(HandoffMessage.id)
    ).scalars())


def _log_in_rasa(session: Session, request: HandoffRequest, rasa: RasaAPI) -> bool:
    """Log the messages Rasa has not seen in its tracker, and keep the bot paused (best effort)."""
    pending = _unlogged(session, request)
    events = [_bot_event(request.id, m.kind, m.text, m.staff_name, m.created_at) for m in pending]
    try:
        rasa.append_events(request.conversation_id, events + [{"event": "pause"}])
    except RasaUnavailable as exc:
        log.warning("handoff %s: could not log %d staff messages in Rasa's tracker (%s); kept for later",
                    request.id, len(pending), exc)
        return False
    now = _now()
    for message in pending:
        message.rasa_logged_at = now
    session.commit()
    return True


def take(session: Session, request_id: int, clerk: Clerk, rasa: RasaAPI) -> HandoffRequest:
    """Take a waiting conversation: 409 when someone else has it. The citizen is told who joined."""
    now = _now()
    result = session.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == request_id, HandoffRequest.status == "waiting")
        .values(status="taken", taken_by=clerk.name, taken_by_id=clerk.id, taken_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        request = find(session, request_id)
        if request.status == "taken" and request.taken_by_id == clerk.id:
            return request  # taken twice by the same clerk (a double click): nothing more to do
        if request.status == "taken":
            raise HandoffError(409, "already_taken", f"该会话已由{request.taken_by}接入。",
                               f"handoff {request_id} was taken by staff {request.taken_by_id}")
        raise HandoffError(409, "closed", "该会话的人工服务已结束。", f"handoff {request_id} is closed")
    request = find(session, request_id)
    session.refresh(request)
    _record(session, request, clerk, "staff_joined", JOINED_TEXT.format(name=clerk.name), now)
    session.commit()
    log.info("handoff %s taken by staff %s", request.id, clerk.id)
    _log_in_rasa(session, request, rasa)
    return request


def check_reply(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise HandoffError(422, "empty_reply", "回复内容不能为空。", "the reply has no text")
    text = text.strip()
    if len(text) > MAX_REPLY_LENGTH:
        raise HandoffError(422, "reply_too_long", f"回复太长了（最多{MAX_REPLY_LENGTH}字），请分几条发送。",
                           f"the reply is longer than {MAX_REPLY_LENGTH} characters")
    if seal_id_numbers(text) != text:
        raise HandoffError(422, "id_number_in_reply", "回复中不能包含完整的身份证号码，请只写后4位或脱敏形式。",
                           "a reply may not carry a clear ID number")
    return text


def reply(session: Session, request_id: int, clerk: Clerk, text: Any, rasa: RasaAPI) -> HandoffMessage:
    """A staff reply: queued for the citizen's channel, recorded, logged in Rasa when reachable."""
    text = check_reply(text)
    request = find(session, request_id)
    _may_act(request, clerk, "回复")
    if request.channel not in CHANNEL_NAMES:
        raise HandoffError(409, "channel_unknown", f"无法确定该会话的渠道（{request.channel}），消息无法送达市民。",
                           f"channel {request.channel!r} has no outbox sender")
    message = _record(session, request, clerk, "staff_message", text, _now())
    session.commit()
    _log_in_rasa(session, request, rasa)
    return message


def hand_back(session: Session, request_id: int, clerk: Clerk, rasa: RasaAPI) -> HandoffRequest:
    """End the human part: log what Rasa has not seen, resume the bot, close the request and tell
    the citizen. Without Rasa nothing changes (503): the conversation stays with the clerk."""
    request = find(session, request_id)
    _may_act(request, clerk, "结束人工服务")
    now = _now()
    pending = _unlogged(session, request)
    events = [_bot_event(request.id, m.kind, m.text, m.staff_name, m.created_at) for m in pending]
    events.append(_bot_event(request.id, "staff_left", LEFT_TEXT, clerk.name, now))
    # Resumed, and listening: the citizen's next message is a new turn of the bot.
    events += [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    try:
        rasa.append_events(request.conversation_id, events)
    except RasaUnavailable as exc:
        session.rollback()
        log.warning("handoff %s not handed back: Rasa unavailable (%s)", request.id, exc)
        raise HandoffError(503, "rasa_unavailable",
                           "暂时无法连接智能助手服务，未能交回智能助手。会话仍由您接待，请稍后再试。",
                           f"could not resume the bot through Rasa's HTTP API: {exc}") from None
    result = session.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == request.id, HandoffRequest.status == "taken")
        .values(status="closed", closed_at=now, closed_by_id=clerk.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise HandoffError(409, "closed", "该会话的人工服务已结束。", f"handoff {request.id} was closed meanwhile")
    for message in pending:
        message.rasa_logged_at = now
    _record(session, request, clerk, "staff_left", LEFT_TEXT, now, logged=True)
    session.commit()
    session.refresh(request)
    log.info("handoff %s handed back to the bot by staff %s", request.id, clerk.id)
    return request
