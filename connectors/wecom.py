"""The WeCom (企业微信) self-built app channel: /webhooks/wecom/webhook.

WeCom callbacks are always encrypted: the URL verification (GET, `echostr` is ciphertext whose
plaintext is the answer) and every message (POST, `<Encrypt>` checked against `msg_signature`).
Every push is answered at once with an empty body; the answer goes through `message/send` with
the agent id (through the outbox: retries with backoff, kept when it finally fails). The same
de-duplication, replay checks, numbered options and 2048-byte splitting as the Official Account.

A WeCom user's conversation id is `wecom:<UserID>` (UserIDs such as `zhangsan` could collide with
other channels' ids); the outbox recipient is that id too.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from connectors.wechat_api import WeComAPI
from connectors.wechat_channel import OnNewMessage, WeChatChannelBase
from connectors.wechat_config import WeComSettings
from connectors.wechat_guard import Replayed
from connectors.wechat_messages import MalformedPush, parse_push

log = logging.getLogger(__name__)

SENDER_PREFIX = "wecom:"


class WeComInput(WeChatChannelBase):
    product = "WeCom"

    @classmethod
    def name(cls) -> Text:
        return "wecom"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeComInput":
        return cls(WeComSettings.from_credentials(credentials))

    def __init__(self, settings: WeComSettings, api: Optional[WeComAPI] = None):
        self.settings = settings
        configured = not settings.missing()
        if api is None and configured:
            api = WeComAPI(settings.corp_id, settings.secret, settings.agent_id, settings.api_base)
        super().__init__(settings.limits, api)
        self.crypto = WeChatCrypto(settings.token, settings.encoding_aes_key, settings.corp_id) if configured else None

    def missing(self) -> List[str]:
        return self.settings.missing()

    def sender_id(self, user: str) -> str:
        return SENDER_PREFIX + user

    def user_of(self, sender_id: str) -> str:
        return sender_id[len(SENDER_PREFIX):] if sender_id.startswith(SENDER_PREFIX) else sender_id

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook, configured = self.base_blueprint(f"agent {self.settings.agent_id}, API {self.settings.api_base}")

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not configured:
                return self.not_configured()
            args = request.args
            timestamp = args.get("timestamp", "")
            try:
                self.guard.check_timestamp(timestamp)
                echo = self.crypto.check_signature(args.get("msg_signature", ""), timestamp, args.get("nonce", ""),
                                                   args.get("echostr", ""))
            except (InvalidSignatureException, InvalidCorpIdException, Replayed) as exc:
                return self.refuse(403, f"URL verification failed: {type(exc).__name__} {exc}", request)
            except Exception as exc:  # echostr that is not base64 ciphertext
                return self.refuse(400, f"URL verification unreadable: {type(exc).__name__}: {exc}", request)
            log.info("WeCom URL verification succeeded")
            return response.text(echo)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not configured:
                return self.not_configured()
            if self.body_too_large(request):
                return self.refuse(413, f"body larger than {self.limits.max_body_bytes} bytes", request)
            args = request.args
            timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
            if not args.get("msg_signature"):
                return self.refuse(403, "msg_signature missing", request)
            try:
                self.guard.check_timestamp(timestamp)
            except Replayed as exc:
                return self.refuse(403, f"replay: {exc}", request)
            try:
                body = (request.body or b"").decode("utf-8")
                xml = self.crypto.decrypt_message(body, args.get("msg_signature", ""), timestamp, nonce)
            except (InvalidSignatureException, InvalidCorpIdException) as exc:
                return self.refuse(403, f"push rejected: {type(exc).__name__}", request)
            except Exception as exc:  # not UTF-8 or XML, no <Encrypt>, bad base64 or padding
                return self.refuse(400, f"push unreadable: {type(exc).__name__}: {exc}", request)
            try:
                push = parse_push(xml, wecom=True)
            except MalformedPush as exc:
                return self.refuse(400, str(exc), request)
            if push.agent_id and push.agent_id != self.settings.agent_id:
                log.warning("WeCom push for agent %s ignored (this channel is agent %s)", push.agent_id,
                            self.settings.agent_id)
                return response.text("")
            key, refused = self.replayed(timestamp, nonce, push, request)
            if refused is not None:
                return refused
            produce = self.producer(push, on_new_message)
            if produce is None:
                return response.text("")
            sender = self.sender_id(push.user)
            await self.answerer.answer(key, sender, produce, wait=0)
            return response.text("")

        return webhook
