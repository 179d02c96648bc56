"""Bot messages as WeChat text: buttons become numbered options, long text is split by bytes.

WeChat shows plain text only (no buttons), at most 2048 bytes (UTF-8) per message. The buttons
of a turn are numbered across its messages ("回复数字选择：\\n1. …"), unless the bot's text already
numbers them (its disambiguation questions do); `OptionMemory` keeps their
payloads per user, so that a reply that is only a number sends the chosen button's payload to
the bot (any button: a service option, 转人工 …). Without a remembered option (for instance after
a restart) the number goes to the bot as text, which picks the pending option by itself.
"""
from __future__ import annotations

import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

# User-facing texts of the WeChat channels.
WELCOME = (
    "您好，欢迎关注！我是一窗通办助手，可以帮您：\n"
    "1. 查询各部门政务服务事项的办事指南：要带什么材料、办理条件、多久办好、收不收费、在哪办、能否网上办；\n"
    "2. 了解“一件事一次办”，如新生儿出生、开办企业、退休；\n"
    "3. 需要时为您转接人工服务（回复“转人工”）。\n"
    "请直接发文字告诉我您想办的事，比如“办理居住证需要什么材料”。"
)
UNSUPPORTED = "抱歉，我目前只能看懂文字消息，暂不支持图片、语音、视频、位置和链接。请用文字描述您想办理的事项，比如“办理居住证需要什么材料”。"
BUSY = "系统繁忙，请稍后再试。"
CHOOSE_PROMPT = "回复数字选择："

_NUMBER_REPLY = re.compile(r"^\s*([0-9]{1,2})\s*[.。、]?\s*$")
_BREAKS = ("\n", "。", "；", "！", "？", "，", " ")


@dataclass
class Rendered:
    text: str
    payloads: List[str] = field(default_factory=list)


def _listed(text: str, number: int, title: str) -> bool:
    """Whether the text already has the line "N. title" (the bot numbers its choices itself)."""
    return re.search(rf"^\s*{number}\s*[.、．]\s*{re.escape(title)}\s*$", text, flags=re.M) is not None


def _already_offered(text: str, buttons: List[Dict[str, str]]) -> bool:
    """The text numbers the buttons itself; any other button (转人工) is named in the text."""
    listed = [_listed(text, i, b["title"]) for i, b in enumerate(buttons, start=1)]
    if not any(listed):
        return False
    return all(shown or b["title"] in text for shown, b in zip(listed, buttons))


def render(messages: Sequence[Dict[str, Any]]) -> Rendered:
    """One text for the bot messages of a turn (composed dicts: text, buttons, custom, image)."""
    parts: List[str] = []
    payloads: List[str] = []
    for message in messages:
        lines: List[str] = []
        text = str(message.get("text") or "").strip()
        if text:
            lines.append(text)
        if message.get("image"):
            lines.append(f"图片：{message['image']}")
        buttons = [b for b in message.get("buttons") or [] if b.get("title") and b.get("payload")]
        if buttons:
            numbered_by_bot = not payloads and _already_offered(text, buttons)
            options = []
            for button in buttons:
                payloads.append(button["payload"])
                options.append(f"{len(payloads)}. {button['title']}")
            if not numbered_by_bot:
                lines.append(CHOOSE_PROMPT + "\n" + "\n".join(options))
        if lines:
            parts.append("\n".join(lines))
    return Rendered("\n\n".join(parts), payloads)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, max_bytes: int = 2048) -> List[str]:
    """Pieces of at most `max_bytes` UTF-8 bytes, cut at a line, sentence or clause end when
    there is one in the second half of the piece, else between characters."""
    if max_bytes < 4:
        raise ValueError("max_bytes must allow at least one character")
    text = text.strip()
    pieces: List[str] = []
    while text:
        if utf8_len(text) <= max_bytes:
            pieces.append(text)
            break
        # The longest prefix that fits, in characters.
        cut, size = 0, 0
        for char in text:
            size += utf8_len(char)
            if size > max_bytes:
                break
            cut += 1
        head = text[:cut]
        for mark in _BREAKS:
            at = head.rfind(mark)
            if at >= cut // 2:
                cut = at + 1
                break
        piece, text = text[:cut].strip(), text[cut:].strip()
        if piece:
            pieces.append(piece)
    return pieces


def number_reply(text: str) -> Optional[int]:
    """The number of a reply that is only a number ("2", "２", "2."), else None."""
    match = _NUMBER_REPLY.match(unicodedata.normalize("NFKC", text or ""))
    return int(match.group(1)) if match else None


class OptionMemory:
    """The button payloads last shown to each user, forgotten after `ttl` seconds."""

    def __init__(self, ttl: float = 3600.0, max_users: int = 10000, clock=time.monotonic):
        self.ttl, self.max_users, self._clock = ttl, max_users, clock
        self._options: "OrderedDict[str, tuple]" = OrderedDict()

    def remember(self, user: str, payloads: List[str]) -> None:
        self._options.pop(user, None)
        if payloads:
            self._options[user] = (self._clock() + self.ttl, list(payloads))
            while len(self._options) > self.max_users:
                self._options.popitem(last=False)

    def resolve(self, user: str, text: str) -> str:
        """The payload of the option a numeric reply picks, or the text unchanged."""
        number = number_reply(text)
        entry = self._options.get(user)
        if number is None or entry is None:
            return text
        expires, payloads = entry
        if self._clock() > expires:
            self._options.pop(user, None)
            return text
        if 1 <= number <= len(payloads):
            return payloads[number - 1]
        return text
