"""The web widget's channel: socket.io with one `bot_uttered` event per bot message.

Protocol (docs/conversation.md): the client emits `session_request` {"session_id"} and receives
`session_confirm`; sends `user_uttered` {"message", "session_id"}; receives `bot_uttered`
{"text", "quick_replies": [{"title", "payload"}], "custom"}. With session persistence, a
reconnecting client joins the room of its session id, so pushes reach every open tab.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from connectors.messages import compose

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 2000


class WebchatOutput(SocketIOOutput):
    @classmethod
    def name(cls) -> Text:
        return "webchat"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        composed = compose(message)
        if composed is None:
            return
        payload: Dict[str, Any] = {"text": composed.get("text", "")}
        if composed.get("buttons"):
            payload["quick_replies"] = [
                {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in composed["buttons"]
            ]
        if composed.get("custom"):
            payload["custom"] = composed["custom"]
        await self._send_message(recipient_id, payload)


class WebchatInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "webchat"

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return None
        return WebchatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message):
        async def guarded(message):
            # Malformed or oversized input gets a clear answer instead of a crash.
            text = message.text if isinstance(message.text, str) else ""
            if len(text) > MAX_MESSAGE_LENGTH:
                await message.output_channel.send_response(
                    message.sender_id, {"text": f"消息太长了（最多{MAX_MESSAGE_LENGTH}字），请简要描述您要办的事。"}
                )
                return
            message.text = text
            message.output_channel = WebchatOutput(self.sio, self.bot_message_evt)
            await on_new_message(message)

        return super().blueprint(guarded)
