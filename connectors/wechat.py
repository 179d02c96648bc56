"""The WeChat Official Account (公众号) channel: /webhooks/wechat/webhook.

- GET: URL verification (signature over token, timestamp, nonce; the answer is `echostr`).
- POST: a pushed message. The signature is checked on every push (403 and no turn when it is
  missing or forged), the timestamp must be recent and the nonce fresh (wechat_guard), the body
  at most 64 KB (413) and well-formed XML (400). In safe mode (EncodingAESKey set) the body must be
  encrypted (`encrypt_type=aes`, `msg_signature`) and the reply is encrypted too; in plaintext mode
  it is read as it is.
- The answer follows the 5-second rule (wechat_turns): a passive reply when the turn is done
  within the deadline, else `success` at once and the answer through the customer-service API.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from connectors.wechat_api import OfficialAccountAPI
from connectors.wechat_channel import OnNewMessage, WeChatChannelBase
from connectors.wechat_config import WeChatSettings
from connectors.wechat_guard import Replayed
from connectors.wechat_messages import MalformedPush, parse_push

log = logging.getLogger(__name__)

XML = "application/xml; charset=utf-8"


def reply_xml(account: str, user: str, text: str) -> str:
    """A passive text reply (the two user names swapped); `]]>` cannot end the CDATA early."""
    return TextReply(source=account, target=user, content=text.replace("]]>", "]]]]><![CDATA[>")).render()


class WeChatInput(WeChatChannelBase):
    product = "WeChat"

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeChatInput":
        return cls(WeChatSettings.from_credentials(credentials))

    def __init__(self, settings: WeChatSettings, api: Optional[OfficialAccountAPI] = None):
        self.settings = settings
        if api is None and not settings.missing():
            api = OfficialAccountAPI(settings.app_id, settings.secret, settings.api_base)
        super().__init__(settings.limits, api)
        self.crypto = (WeChatCrypto(settings.token, settings.encoding_aes_key, settings.app_id)
                       if settings.safe_mode else None)

    def missing(self) -> List[str]:
        return self.settings.missing()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook, configured = self.base_blueprint(
            f"{'safe' if self.crypto else 'plaintext'} mode, API {self.settings.api_base}")

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not configured:
                return self.not_configured()
            args = request.args
            timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
            try:
                check_signature(self.settings.token, args.get("signature", ""), timestamp, nonce)
                self.guard.check_timestamp(timestamp)
            except (InvalidSignatureException, Replayed) as exc:
                return self.refuse(403, f"URL verification failed: {type(exc).__name__} {exc}", request)
            log.info("WeChat URL verification succeeded")
            return response.text(args.get("echostr", ""))

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not configured:
                return self.not_configured()
            if self.body_too_large(request):
                return self.refuse(413, f"body larger than {self.limits.max_body_bytes} bytes", request)
            args = request.args
            timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
            encrypted = args.get("encrypt_type", "raw").lower() == "aes"
            try:
                check_signature(self.settings.token, args.get("signature", ""), timestamp, nonce)
                self.guard.check_timestamp(timestamp)
            except InvalidSignatureException:
                return self.refuse(403, "signature missing or wrong", request)
            except Replayed as exc:
                return self.refuse(403, f"replay: {exc}", request)
            try:
                body = (request.body or b"").decode("utf-8")
            except UnicodeDecodeError:
                return self.refuse(400, "body is not UTF-8", request)
            if encrypted:
                if self.crypto is None:
                    return self.refuse(403, "encrypted push but ONEWINDOW_WECHAT_AES_KEY is not set", request)
                try:
                    body = self.crypto.decrypt_message(body, args.get("msg_signature", ""), timestamp, nonce)
                except (InvalidSignatureException, InvalidAppIdException) as exc:
                    return self.refuse(403, f"encrypted push rejected: {type(exc).__name__}", request)
                except Exception as exc:  # not XML, no <Encrypt>, bad base64 or padding
                    return self.refuse(400, f"encrypted push unreadable: {type(exc).__name__}: {exc}", request)
            elif self.crypto is not None:
                return self.refuse(403, "plaintext push refused: the account is in safe mode", request)
            try:
                push = parse_push(body)
            except MalformedPush as exc:
                return self.refuse(400, str(exc), request)
            key, refused = self.replayed(timestamp, nonce, push, request)
            if refused is not None:
                return refused
            produce = self.producer(push, on_new_message)
            if produce is None:
                if push.event == "unsubscribe":
                    log.info("WeChat user %s unsubscribed", push.user)
                return response.text("success")
            sender = self.sender_id(push.user)
            text = await self.answerer.answer(key, sender, produce, wait=self.limits.reply_timeout)
            if text is None:
                return response.text("success")
            xml = reply_xml(push.account, push.user, text)
            if encrypted:
                xml = self.crypto.encrypt_message(xml, nonce)
            return response.text(xml, content_type=XML)

        return webhook
