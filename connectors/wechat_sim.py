"""`onewindow wechat-sim`: talk to a running bot exactly as WeChat (or WeCom) would.

It starts the fake WeChat/WeCom API (connectors/wechat_fake_api.py) on --api-port, posts signed
(with --encrypted, AES-encrypted) XML pushes to the bot's webhook, and prints what the user would
see: the passive reply and every message the bot sends through the API. The bot must use the
same token and keys (the ONEWINDOW_WECHAT_* / ONEWINDOW_WECOM_* variables) and send its API
calls to the simulator:

    ONEWINDOW_WECHAT_TOKEN=t ONEWINDOW_WECHAT_APPID=wxsim ONEWINDOW_WECHAT_SECRET=s \\
    ONEWINDOW_WECHAT_API_BASE=http://127.0.0.1:5098 make run
    ONEWINDOW_WECHAT_TOKEN=t ONEWINDOW_WECHAT_APPID=wxsim ONEWINDOW_WECHAT_SECRET=s \\
    .venv/bin/onewindow wechat-sim --message 办理居住证需要什么材料
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from typing import Dict, Optional, Tuple

import httpx
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner

from connectors.wechat_config import WECOM_VARIABLES
from connectors.wechat_fake_api import FakeWeChatAPI, Sent

DEFAULT_API_PORT = 5098
DEFAULT_BOT = "http://127.0.0.1:5005"
ACCOUNT = "gh_onewindow_sim"  # the Official Account's original id in the pushes


class SimulatorError(Exception):
    """A problem the user can fix (settings, the bot not running): one line, no traceback."""


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


class Pusher:
    """Builds the XML of the pushes a WeChat-family platform sends; subclasses name the receiving
    account and add their own trailing fields."""

    def __init__(self) -> None:
        self._msg_id = random.randint(10**18, 2 * 10**18)

    def to_user(self) -> str:
        raise NotImplementedError

    def trailer(self) -> str:
        return ""

    def next_msg_id(self) -> int:
        self._msg_id += 1
        return self._msg_id

    def message_xml(self, user: str, msg_type: str, fields: Dict[str, str], create_time: Optional[int] = None,
                    msg_id: Optional[int] = None, extra: str = "") -> str:
        body = "".join(f"<{k}>{_cdata(v)}</{k}>" for k, v in fields.items())
        created = create_time if create_time is not None else int(time.time())
        ident = "" if msg_type == "event" else f"<MsgId>{msg_id if msg_id is not None else self.next_msg_id()}</MsgId>"
        return (f"<xml><ToUserName>{_cdata(self.to_user())}</ToUserName><FromUserName>{_cdata(user)}</FromUserName>"
                f"<CreateTime>{created}</CreateTime><MsgType>{_cdata(msg_type)}</MsgType>{body}{ident}{extra}"
                f"{self.trailer()}</xml>")

    def text_xml(self, user: str, text: str, msg_id: Optional[int] = None) -> str:
        return self.message_xml(user, "text", {"Content": text}, msg_id=msg_id)

    def event_xml(self, user: str, event: str, key: str = "", create_time: Optional[int] = None) -> str:
        fields = {"Event": event}
        if key:
            fields["EventKey"] = key
        return self.message_xml(user, "event", fields, create_time=create_time)


class OfficialAccountPusher(Pusher):
    """Builds the pushes WeChat sends to an Official Account's server URL."""

    def __init__(self, url: str, token: str, app_id: str = "", aes_key: str = "", account: str = ACCOUNT):
        self.url, self.token, self.app_id, self.account = url, token, app_id, account
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        super().__init__()

    def to_user(self) -> str:
        return self.account

    def request(self, xml: str, encrypted: Optional[bool] = None, timestamp: Optional[str] = None,
                nonce: Optional[str] = None) -> Tuple[Dict[str, str], str]:
        """(query parameters, body) of the push, signed (and encrypted in safe mode)."""
        encrypted = self.crypto is not None if encrypted is None else encrypted
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(random.randint(10**8, 10**10))
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                  "openid": "sim"}
        if encrypted:
            if self.crypto is None:
                raise ValueError("--encrypted needs ONEWINDOW_WECHAT_AES_KEY")
            wrapped = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            params.update(encrypt_type="aes", msg_signature=wrapped["MsgSignature"])
            xml = f"<xml><ToUserName>{_cdata(self.account)}</ToUserName><Encrypt>{_cdata(wrapped['Encrypt'])}</Encrypt></xml>"
        return params, xml

    def read_reply(self, body: str, params: Dict[str, str]) -> Optional[str]:
        """The text of a passive reply, or None for `success` / an empty answer."""
        body = body.strip()
        if not body or body == "success":
            return None
        if params.get("encrypt_type") == "aes":
            wrapped = xmltodict.parse(body)["xml"]
            body = self.crypto.decrypt_message(body, wrapped["MsgSignature"], wrapped["TimeStamp"], wrapped["Nonce"])
        reply = xmltodict.parse(body)["xml"]
        return reply.get("Content")

    def verify_params(self, echostr: str) -> Dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(random.randint(10**8, 10**10))
        return {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                "echostr": echostr}


class WeComPusher(Pusher):
    """Builds the pushes WeCom sends to a self-built app's callback URL (always encrypted)."""

    def __init__(self, url: str, token: str, aes_key: str, corp_id: str, agent_id: str):
        self.url, self.token, self.corp_id, self.agent_id = url, token, corp_id, agent_id
        self.crypto = WeComCrypto(token, aes_key, corp_id)
        super().__init__()

    def to_user(self) -> str:
        return self.corp_id

    def trailer(self) -> str:
        return f"<AgentID>{self.agent_id}</AgentID>"

    def request(self, xml: str, timestamp: Optional[str] = None, nonce: Optional[str] = None,
                **_ignored) -> Tuple[Dict[str, str], str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(random.randint(10**8, 10**10))
        wrapped = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        params = {"msg_signature": wrapped["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
        body = (f"<xml><ToUserName>{_cdata(self.corp_id)}</ToUserName><Encrypt>{_cdata(wrapped['Encrypt'])}</Encrypt>"
                f"<AgentID>{_cdata(self.agent_id)}</AgentID></xml>")
        return params, body

    def read_reply(self, body: str, params: Dict[str, str]) -> Optional[str]:
        return None  # WeCom answers go through message/send

    def verify_params(self, echostr_plain: str) -> Dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(random.randint(10**8, 10**10))
        wrapped = xmltodict.parse(self.crypto.encrypt_message(echostr_plain, nonce, timestamp))["xml"]
        return {"msg_signature": wrapped["MsgSignature"], "timestamp": timestamp, "nonce": nonce,
                "echostr": wrapped["Encrypt"]}


# -- the command ---------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the bot's webhook (default: %s/webhooks/wechat|wecom/webhook)" % DEFAULT_BOT)
    parser.add_argument("--wecom", action="store_true", help="simulate WeCom instead of the Official Account")
    parser.add_argument("--encrypted", action="store_true",
                        help="safe mode: AES-encrypt the pushes (needs ONEWINDOW_WECHAT_AES_KEY; WeCom always is)")
    parser.add_argument("--message", "-m", help="send this one message, print the answers and exit")
    parser.add_argument("--subscribe", action="store_true", help="start with a subscribe (follow) event")
    parser.add_argument("--user", default="o_sim_citizen_0001", help="the OpenID / UserID of the simulated user")
    parser.add_argument("--api-port", type=int, default=DEFAULT_API_PORT,
                        help="port of the fake WeChat/WeCom API the bot must call (default: %(default)s)")
    parser.add_argument("--wait", type=float, default=15.0,
                        help="seconds to wait for answers sent through the API (default: %(default)s)")


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


class Simulator:
    QUIET = 1.5  # seconds without a new message that end one exchange

    def __init__(self, args: argparse.Namespace, out=sys.stdout):
        self.args, self.out = args, out
        self._lock = threading.Lock()
        self._last_message = 0.0
        if args.wecom:
            missing = [n for n in WECOM_VARIABLES if not n.endswith("API_BASE") and not _env(n)]
            if missing:
                raise SimulatorError(f"set {', '.join(missing)} to the bot's values")
            self.pusher = WeComPusher(args.url or f"{DEFAULT_BOT}/webhooks/wecom/webhook", _env("ONEWINDOW_WECOM_TOKEN"),
                                      _env("ONEWINDOW_WECOM_AES_KEY"), _env("ONEWINDOW_WECOM_CORP_ID"),
                                      _env("ONEWINDOW_WECOM_AGENT_ID"))
            self.api = FakeWeChatAPI(corp_id=_env("ONEWINDOW_WECOM_CORP_ID"), corp_secret=_env("ONEWINDOW_WECOM_SECRET"),
                                     port=args.api_port, on_send=self._shown)
        else:
            needed = ["ONEWINDOW_WECHAT_TOKEN", "ONEWINDOW_WECHAT_APPID"] + (["ONEWINDOW_WECHAT_AES_KEY"] if args.encrypted else [])
            missing = [n for n in needed if not _env(n)]
            if missing:
                raise SimulatorError(f"set {', '.join(missing)} to the bot's values")
            self.pusher = OfficialAccountPusher(args.url or f"{DEFAULT_BOT}/webhooks/wechat/webhook",
                                                _env("ONEWINDOW_WECHAT_TOKEN"), _env("ONEWINDOW_WECHAT_APPID"),
                                                _env("ONEWINDOW_WECHAT_AES_KEY") if args.encrypted else "")
            self.api = FakeWeChatAPI(app_id=_env("ONEWINDOW_WECHAT_APPID"), secret=_env("ONEWINDOW_WECHAT_SECRET"),
                                     port=args.api_port, on_send=self._shown)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _shown(self, sent: Sent) -> None:
        with self._lock:
            self._last_message = time.monotonic()
        self.say(f"[bot · 客服消息] {sent.content}\n")

    def push(self, xml: str) -> bool:
        """Post one push; print the passive reply. True when the bot answered the push itself."""
        params, body = self.pusher.request(xml)
        try:
            response = httpx.post(self.pusher.url, params=params, content=body.encode("utf-8"),
                                  headers={"Content-Type": "text/xml"}, timeout=10.0)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"cannot reach the bot at {self.pusher.url}: {exc}") from None
        if response.status_code != 200:
            hints = {403: " (does the token match the bot's? is the bot in safe mode: use --encrypted?)",
                     503: " (the bot's channel is not configured; see its log)"}
            raise ConnectionError(f"the bot answered HTTP {response.status_code}{hints.get(response.status_code, '')}")
        text = self.pusher.read_reply(response.text, params)
        if text:
            with self._lock:
                self._last_message = time.monotonic()
            self.say(f"[bot · 被动回复] {text}\n")
        return bool(text)

    def settle(self, answered: bool) -> None:
        """Wait for the messages the bot sends through the API after a push."""
        started = time.monotonic()
        with self._lock:
            if not answered:
                self._last_message = 0.0
        while True:
            time.sleep(0.1)
            with self._lock:
                last = self._last_message
            now = time.monotonic()
            if last and now - last >= self.QUIET:
                return
            if not last and now - started >= self.args.wait:
                self.say("(no answer within the wait time; is the bot's API base this simulator?)")
                return

    def exchange(self, xml: str) -> None:
        self.settle(self.push(xml))

    def run(self) -> int:
        kind = "WeCom" if self.args.wecom else ("Official Account, safe mode" if self.args.encrypted else "Official Account")
        with self.api:
            self.say(f"wechat-sim ({kind}): pushes to {self.pusher.url}; fake API at {self.api.base_url}")
            self.say(f"(start the bot with ONEWINDOW_{'WECOM' if self.args.wecom else 'WECHAT'}_API_BASE={self.api.base_url})\n")
            if self.args.subscribe:
                self.say("[user] (关注)")
                self.exchange(self.pusher.event_xml(self.args.user, "subscribe"))
            if self.args.message is not None:
                self.say(f"[user] {self.args.message}")
                self.exchange(self.pusher.text_xml(self.args.user, self.args.message))
                return 0
            self.say("Type a message (empty line or Ctrl-D to quit).")
            while True:
                try:
                    line = input("[user] ").strip()
                except EOFError:
                    break
                if not line:
                    break
                self.exchange(self.pusher.text_xml(self.args.user, line))
        return 0


def run(args: argparse.Namespace) -> int:
    try:
        simulator = Simulator(args)
    except OSError as exc:
        raise SimulatorError(f"cannot start the fake API on port {args.api_port}: {exc}") from None
    try:
        return simulator.run()
    except ConnectionError as exc:
        raise SimulatorError(str(exc)) from None
