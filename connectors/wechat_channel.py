"""What the Official Account and WeCom channels share: running a bot turn for a user's text,
queueing answers in the outbox, and the outbox sender that delivers them through the API.

The Rasa process delivers the outbox (outbound/delivery.py): each channel registers a sender for
its name ("wechat", "wecom") and starts the delivery loop when the server starts. Staff replies
and case updates queued for a WeChat or WeCom conversation take the same path.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.messages import compose
from connectors.rest import WholeMessageCollector
from connectors.wechat_api import AccessTokenAPI
from connectors.wechat_config import Limits
from connectors.wechat_guard import Replayed, ReplayGuard
from connectors.wechat_messages import Push
from connectors.wechat_text import UNSUPPORTED, WELCOME, OptionMemory, Rendered, render, split_text
from connectors.wechat_turns import PushAnswerer
from database.engine import make_session
from outbound import outbox
from outbound.delivery import register_sender, start_delivery

log = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class OutboxOutput(OutputChannel):
    """Bot messages outside a push (for instance an intent triggered over the HTTP API): rendered
    as WeChat text and queued in the outbox."""

    def __init__(self, channel: "WeChatChannelBase"):
        self.channel = channel

    @classmethod
    def name(cls) -> Text:
        return "wechat_outbox"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        composed = compose(message)
        if composed is None:
            return
        rendered = render([composed])
        self.channel.options.remember(recipient_id, rendered.payloads)
        pieces = split_text(rendered.text, self.channel.limits.max_text_bytes) if rendered.text else []
        if pieces:
            self.channel.enqueue(recipient_id, pieces)


class WeChatChannelBase(InputChannel):
    """A WeChat-family input channel; subclasses speak the protocol of the callback URL."""

    product = "WeChat"

    def __init__(self, limits: Limits, api: Optional[AccessTokenAPI]):
        self.limits = limits
        self.api = api
        self.options = OptionMemory()
        self.guard = ReplayGuard(window=limits.timestamp_window)
        self.answerer = PushAnswerer(self.name(), self.enqueue, limits.max_text_bytes)

    # -- configuration -------------------------------------------------------------------------
    def missing(self) -> List[str]:
        raise NotImplementedError

    def not_configured(self) -> HTTPResponse:
        log.warning("%s push refused with 503: the channel is not configured (set %s)", self.product,
                    ", ".join(self.missing()))
        return response.text("channel not configured", status=503)

    def refuse(self, status: int, reason: str, request: Request) -> HTTPResponse:
        log.warning("%s push refused with %s: %s (from %s)", self.product, status, reason, request.ip)
        return response.text({400: "bad request", 403: "forbidden", 413: "payload too large"}.get(status, "refused"),
                             status=status)

    def body_too_large(self, request: Request) -> bool:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            return True
        return len(request.body or b"") > self.limits.max_body_bytes

    # -- users and the outbox ------------------------------------------------------------------
    def sender_id(self, user: str) -> str:
        """The conversation id of a WeChat user (also the outbox recipient)."""
        return user

    def user_of(self, sender_id: str) -> str:
        """The API's user id for a conversation id."""
        return sender_id

    def enqueue(self, recipient: str, pieces: List[str]) -> None:
        with make_session() as session:
            for piece in pieces:
                outbox.enqueue(session, self.name(), recipient, piece, kind="bot_message")
            session.commit()

    async def send(self, recipient: str, text: str, custom: Optional[Dict[str, Any]] = None) -> None:
        """The outbox sender: the text through the API, split within the size limit; raises on failure."""
        if self.api is None:
            raise RuntimeError(f"the {self.product} channel is not configured")
        for piece in split_text(text, self.limits.max_text_bytes):
            await self.api.send_text(self.user_of(recipient), piece)

    def register_outbound(self) -> None:
        register_sender(self.name(), self.send)

    def base_blueprint(self, ready: str) -> Tuple[Blueprint, bool]:
        """The webhook blueprint with what both channels need: when configured, the outbox sender
        and its delivery loop; a health route. Returns it and whether the channel is configured."""
        webhook = Blueprint(f"onewindow_{self.name()}", __name__)
        configured = not self.missing()
        if configured:
            self.register_outbound()
            log.info("%s channel ready (%s)", self.product, ready)
        else:
            log.info("%s channel not configured (set %s); its webhook answers 503", self.product,
                     ", ".join(self.missing()))

        @webhook.listener("after_server_start")
        async def _start_outbound(_app, _loop) -> None:
            if configured:
                start_delivery()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if configured else "not configured"})

        return webhook, configured

    def get_output_channel(self) -> Optional[OutputChannel]:
        return OutboxOutput(self)

    # -- answers -------------------------------------------------------------------------------
    def bot_turn(self, on_new_message: OnNewMessage, sender: str, text: str,
                 metadata: Optional[Dict[str, Any]] = None) -> Callable[[], Awaitable[Rendered]]:
        """A producer that runs one bot turn for the user's text (a numeric reply picks an option)."""

        async def produce() -> Rendered:
            message = self.options.resolve(sender, text)
            collector = WholeMessageCollector()
            await on_new_message(
                UserMessage(message, collector, sender, input_channel=self.name(), metadata=metadata)
            )
            rendered = render(collector.messages)
            self.options.remember(sender, rendered.payloads)
            return rendered

        return produce

    @staticmethod
    def fixed(text: str) -> Callable[[], Awaitable[Rendered]]:
        async def produce() -> Rendered:
            return Rendered(text)

        return produce

    def replayed(self, timestamp: str, nonce: str, push: Push, request: Request) -> Tuple[str, Optional[HTTPResponse]]:
        """The push's de-duplication key, and a 403 when its timestamp or nonce was seen before."""
        key = message_key(push.msg_id, push.user, push.create_time, push.event)
        try:
            self.guard.check_nonce(timestamp, nonce, key)
        except Replayed as exc:
            return key, self.refuse(403, f"replay: {exc}", request)
        return key, None

    def producer(self, push: Push, on_new_message: OnNewMessage) -> Optional[Callable[[], Awaitable[Rendered]]]:
        """What answers a push: a bot turn for text (or a menu click), the welcome on subscribe, a
        note on unsupported types; None for events that need no answer."""
        if push.action == "turn":
            return self.bot_turn(on_new_message, self.sender_id(push.user), push.text,
                                 metadata={self.name(): {"msg_type": push.msg_type}})
        if push.action == "welcome":
            return self.fixed(WELCOME)
        if push.action == "unsupported":
            return self.fixed(UNSUPPORTED)
        return None


def message_key(msg_id: Any, source: str, create_time: Any, event: str = "") -> str:
    """The de-duplication key of a push: MsgId, else FromUserName + CreateTime (+ the event)."""
    if msg_id not in (None, "", 0, "0"):
        return f"msg:{msg_id}"
    return f"event:{source}:{create_time}:{event}"
