"""The web widget's channel: socket.io with one `bot_uttered` event per bot message.

Protocol (docs/conversation.md): the client emits `session_request` {"session_id"} and receives
`session_confirm`; sends `user_uttered` {"message", "session_id"}; receives `bot_uttered`
{"text", "quick_replies": [{"title", "payload"}], "custom"}. With session persistence, a
reconnecting client joins the room of its session id, so pushes reach every open tab.
"""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from connectors.messages import compose
from database.engine import make_session
from outbound import outbox
from outbound.delivery import RecipientOffline, register_sender, start_delivery

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 2000


async def stop_ping_timers() -> int:
    """Cancel engine.io's ping timers (one task per connected widget, asleep for the ping interval)
    as the server stops: left pending, each is destroyed with the event loop and logged as an
    error. The widgets are not told to disconnect, so they reconnect by themselves once the
    server is back. Returns how many were cancelled."""
    current = asyncio.current_task()
    timers = [task for task in asyncio.all_tasks()
              if task is not current and getattr(task.get_coro(), "__qualname__", "") == "AsyncSocket._send_ping"]
    for task in timers:
        task.cancel()
    await asyncio.gather(*timers, return_exceptions=True)
    return len(timers)


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
        blueprint = super().blueprint(on_new_message)
        sio = self.sio

        def room_is_empty(room: str) -> bool:
            try:
                return not any(True for _ in sio.manager.get_participants(self.namespace or "/", room))
            except (KeyError, TypeError):
                return True

        async def push(recipient: str, text: str, custom: Optional[Dict[str, Any]]) -> None:
            """Outbound messages (case updates, staff replies) to every open tab of a session."""
            if room_is_empty(recipient):
                raise RecipientOffline("no widget connected for this session")
            payload: Dict[str, Any] = {"text": text}
            if custom:
                payload["custom"] = custom
            await sio.emit(self.bot_message_evt, payload, room=recipient, namespace=self.namespace)

        register_sender(self.name(), push)

        @blueprint.listener("after_server_start")
        async def _start_outbound(_app, _loop) -> None:
            start_delivery()

        @blueprint.listener("before_server_stop")
        async def _stop_ping_timers(_app, _loop) -> None:
            await stop_ping_timers()

        async def deliver_held(session_id: str) -> None:
            """Messages that arrived while the citizen was away, once they are back."""
            with make_session() as session:
                held = outbox.held_for(session, self.name(), session_id)
                for message in held:
                    await push(session_id, message.text, message.custom)
                    outbox.mark_sent(message)
                if held:
                    session.commit()

        # Rasa 3.6 calls sio.enter_room() without awaiting it (a coroutine in python-socketio 5),
        # so with session persistence a socket never joins its session's room and pushes are lost.
        # Registering the handlers again replaces Rasa's; this one also validates its input.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or not session_id or len(session_id) > 128:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            if self.session_persistence:
                try:
                    await deliver_held(session_id)
                except Exception:  # never break the connection over a late message; it stays held
                    log.exception("could not deliver held messages to webchat session %s", session_id)

        async def refuse(sid: Text, text: str, detail: str) -> None:
            log.warning("webchat message from %s refused: %s", sid, detail)
            await sio.emit(self.bot_message_evt, {"text": text, "custom": {"type": "error"}}, room=sid,
                           namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                return await refuse(sid, "消息格式不正确，请重新输入。", "payload is not {message, session_id}")
            text = data["message"]
            if len(text) > MAX_MESSAGE_LENGTH:
                return await refuse(sid, f"消息太长了（最多{MAX_MESSAGE_LENGTH}字），请简要描述您要办的事。", "too long")
            if self.session_persistence:
                sender = data.get("session_id")
                if not isinstance(sender, str) or not sender or len(sender) > 128:
                    return await refuse(sid, "会话已失效，请刷新页面后重试。", "missing session_id")
            else:
                sender = sid
            metadata = data.get(self.metadata_key)
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = None
            output = WebchatOutput(sio, self.bot_message_evt)
            await on_new_message(
                UserMessage(text, output, sender, input_channel=self.name(),
                            metadata=metadata if isinstance(metadata, dict) else None)
            )

        return blueprint
