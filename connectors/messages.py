"""One bot message as channels deliver it: text, buttons and custom data together.

Rasa's stock channels send a message's text and its custom data as two separate messages; the
product's contract is one message carrying both (the text alone is still a complete answer).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional


def buttons_of(message: Dict[str, Any]) -> List[Dict[str, str]]:
    buttons = message.get("buttons") or message.get("quick_replies") or []
    return [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons]


def compose(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """{"text", "buttons", "custom", "image"} of a bot response dict, or None when it is empty."""
    out: Dict[str, Any] = {}
    if message.get("text"):
        out["text"] = message["text"]
    buttons = buttons_of(message)
    if buttons:
        out["buttons"] = buttons
    if message.get("custom"):
        out["custom"] = message["custom"]
    if message.get("image"):
        out["image"] = message["image"]
    if message.get("attachment"):
        out["attachment"] = message["attachment"]
    return out or None
