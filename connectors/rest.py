"""The REST channel (POST /webhooks/rest/webhook), keeping each bot message whole.

Request: {"sender": "...", "message": "...", "metadata": {...}?}. Response: a list of bot
messages, each {"recipient_id", "text"?, "buttons"?, "custom"?}. Malformed requests get a 400 with
a JSON error (Chinese message, English detail) and run no turn.
"""
from __future__ import annotations

import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.messages import compose

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 2000
MAX_SENDER_LENGTH = 128


class WholeMessageCollector(CollectingOutputChannel):
    """Collects one dict per bot message: text, buttons and custom data together."""

    @classmethod
    def name(cls) -> Text:
        return "collector"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        composed = compose(message)
        if composed is not None:
            await self._persist_message({"recipient_id": recipient_id, **composed})


def _error(status: int, message: str, detail: str) -> HTTPResponse:
    return response.json({"error": {"status": status, "message": message, "detail": detail}}, status=status)


class RestInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("onewindow_rest", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic raises on invalid JSON
                body = None
            if not isinstance(body, dict):
                return _error(400, "请求格式不正确。", "body must be a JSON object")
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
                return _error(400, "缺少会话标识。", f"'sender' must be a non-empty string of at most {MAX_SENDER_LENGTH} characters")
            if not isinstance(text, str):
                return _error(400, "消息内容不正确。", "'message' must be a string")
            if len(text) > MAX_MESSAGE_LENGTH:
                return _error(413, f"消息太长了（最多{MAX_MESSAGE_LENGTH}字），请简要描述您要办的事。", "message too long")
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            collector = WholeMessageCollector()
            try:
                await on_new_message(
                    UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
                )
            except CancelledError:
                log.error("REST turn for %s timed out", sender)
            except Exception:
                log.exception("REST turn for %s failed", sender)
                return _error(500, "系统繁忙，请稍后再试。", "the turn failed; see the server log")
            return response.json(collector.messages)

        return webhook
