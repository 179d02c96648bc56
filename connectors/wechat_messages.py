"""What a pushed WeChat or WeCom message means for the bot (parsed with wechatpy).

- text (and voice with WeChat's speech recognition switched on): a turn with the text;
- subscribe: the welcome (what the desk can do); unsubscribe: nothing to answer;
- menu CLICK: a turn with the menu item's key as the user's text (a key such as `/human_handoff`
  is an intent payload; a key such as `居住证办理` is a question);
- image, voice, video, location, link and other message types: a polite reply saying what works;
- other events (menu links, location reports, entering the app ...): nothing to answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wechatpy import parse_message as parse_official
from wechatpy.enterprise import parse_message as parse_wecom

MAX_KEY_LENGTH = 200


class MalformedPush(Exception):
    """The body is not a WeChat message (status 400, no turn)."""


@dataclass(frozen=True)
class Push:
    user: str  # FromUserName: the OpenID, or the WeCom UserID
    account: str  # ToUserName: the account's id
    create_time: int
    msg_type: str
    event: str
    msg_id: str
    agent_id: str
    # What to do: "turn" (text), "welcome", "unsupported", or "ignore".
    action: str
    text: str = ""


def _read(parser: Callable, xml: str):
    try:
        message = parser(xml)
    except Exception as exc:  # expat errors, a missing <xml> root or MsgType, repeated elements
        raise MalformedPush(f"not a WeChat message: {type(exc).__name__}: {exc}") from None
    if message is None:
        raise MalformedPush("empty body")
    return message


def parse_push(xml: str, wecom: bool = False) -> Push:
    message = _read(parse_wecom if wecom else parse_official, xml)
    data = message._data
    if not isinstance(data, dict):
        raise MalformedPush("not a WeChat message: no fields")

    def field(name: str) -> str:
        value = data.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise MalformedPush(f"field {name} is not text")
        return value.strip()

    user, account, created, msg_type = field("FromUserName"), field("ToUserName"), field("CreateTime"), field("MsgType").lower()
    if not user or len(user) > 128:
        raise MalformedPush("FromUserName missing or too long")
    if not created.isdigit():
        raise MalformedPush("CreateTime missing or not a number")
    if not msg_type:
        raise MalformedPush("MsgType missing")
    msg_id = field("MsgId")
    if msg_id and not msg_id.isdigit():
        raise MalformedPush("MsgId is not a number")
    event = field("Event").lower() if msg_type == "event" else ""
    action, text = _meaning(msg_type, event, field)
    return Push(user=user, account=account, create_time=int(created), msg_type=msg_type, event=event,
                msg_id=msg_id, agent_id=field("AgentID"), action=action, text=text)


def _meaning(msg_type: str, event: str, field: Callable[[str], str]):
    if msg_type == "text":
        text = field("Content")
        return ("turn", text) if text else ("ignore", "")
    if msg_type == "voice" and field("Recognition"):
        return "turn", field("Recognition")
    if msg_type == "event":
        if event.startswith("subscribe"):  # also subscribe_scan (followed through a QR code)
            return "welcome", ""
        if event == "click":
            key = field("EventKey")
            return ("turn", key) if key and len(key) <= MAX_KEY_LENGTH else ("ignore", "")
        return "ignore", ""  # unsubscribe, view, location, enter_agent, template/mass job reports ...
    return "unsupported", ""
