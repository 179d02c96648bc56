"""A local stand-in for the WeChat and WeCom server APIs: access tokens and text sends.

Serves what the channels call (`/cgi-bin/token`, `/cgi-bin/message/custom/send`,
`/cgi-bin/gettoken`, `/cgi-bin/message/send`) on 127.0.0.1 in a background thread, answering as
WeChat does (errcode 40001 / 42001 for a wrong or expired token, 40125 / 40013 for wrong
credentials). It records every send, can fail the next sends or expire the tokens, and calls
`on_send` for each delivered text. Used by `onewindow wechat-sim` and by the tests (CI has no
internet).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional
from urllib.parse import parse_qs, urlparse

TOKEN_LIFETIME = 7200


@dataclass
class Sent:
    api: str  # "wechat" (customer-service message) or "wecom" (message/send)
    touser: str
    content: str
    agentid: Optional[int] = None


class FakeWeChatAPI:
    def __init__(self, app_id: str = "", secret: str = "", corp_id: str = "", corp_secret: str = "",
                 port: int = 0, on_send: Optional[Callable[[Sent], None]] = None):
        self.app_id, self.secret, self.corp_id, self.corp_secret = app_id, secret, corp_id, corp_secret
        self.on_send = on_send
        self.sent: List[Sent] = []
        self.token_requests: Dict[str, int] = {"wechat": 0, "wecom": 0}
        self.send_attempts = 0
        self._tokens: Dict[str, str] = {}  # api -> the valid token
        self._expired: set = set()
        self._failures: List[tuple] = []  # (touser or None, http status, errcode) for the next sends
        self._counter = 0
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeWeChatAPI":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-wechat-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeWeChatAPI":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # -- controls ------------------------------------------------------------------------------
    def fail_next(self, count: int = 1, status: int = 200, errcode: int = -1, touser: Optional[str] = None) -> None:
        """The next `count` sends (to `touser`, or to anyone) fail: HTTP `status`, or errcode
        `errcode` (-1: system busy)."""
        with self._cond:
            self._failures.extend([(touser, status, errcode)] * count)

    def expire_tokens(self) -> None:
        """Tokens given so far are expired (errcode 42001) from now on."""
        with self._cond:
            self._expired.update(self._tokens.values())
            self._tokens.clear()

    def wait_for_sends(self, count: int, timeout: float = 10.0) -> List[Sent]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.sent) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self.sent)

    # -- the API -------------------------------------------------------------------------------
    def _token(self, api: str, params: Dict[str, str]) -> dict:
        if api == "wechat":
            if params.get("grant_type") != "client_credential":
                return {"errcode": 40002, "errmsg": "invalid grant_type"}
            if self.app_id and params.get("appid") != self.app_id:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if self.secret and params.get("secret") != self.secret:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
        else:
            if self.corp_id and params.get("corpid") != self.corp_id:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            if self.corp_secret and params.get("corpsecret") != self.corp_secret:
                return {"errcode": 40001, "errmsg": "invalid credential"}
        with self._cond:
            self._counter += 1
            self.token_requests[api] += 1
            token = f"{api}-token-{self._counter}"
            self._tokens[api] = token
        answer = {"access_token": token, "expires_in": TOKEN_LIFETIME}
        return {"errcode": 0, "errmsg": "ok", **answer} if api == "wecom" else answer

    def _send(self, api: str, params: Dict[str, str], body: bytes) -> tuple:
        with self._cond:
            self.send_attempts += 1
            token = params.get("access_token", "")
            if token in self._expired:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if token != self._tokens.get(api):
                return 200, {"errcode": 40001 if api == "wechat" else 40014, "errmsg": "invalid access_token"}
        try:
            payload = json.loads(body.decode("utf-8"))
            content = payload["text"]["content"]
            touser = payload["touser"]
        except (ValueError, KeyError, TypeError):
            return 200, {"errcode": 44002, "errmsg": "empty post data or invalid json"}
        with self._cond:
            for index, (only, status, errcode) in enumerate(self._failures):
                if only is None or only == touser:
                    del self._failures[index]
                    return status, {"errcode": errcode, "errmsg": "system error"}
        if payload.get("msgtype") != "text" or not isinstance(content, str) or not content:
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(content.encode("utf-8")) > 2048:
            return 200, {"errcode": 45002, "errmsg": "content size out of limit"}
        agentid = payload.get("agentid") if api == "wecom" else None
        if api == "wecom" and not isinstance(agentid, int):
            return 200, {"errcode": 40056, "errmsg": "invalid agentid"}
        sent = Sent(api=api, touser=touser, content=content, agentid=agentid)
        with self._cond:
            self.sent.append(sent)
            self._cond.notify_all()
        if self.on_send is not None:
            self.on_send(sent)
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # quiet
                pass

            def _answer(self, status: int, data: dict) -> None:
                body = json.dumps(data, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _route(self):
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                return url.path, params

            def do_GET(self) -> None:
                path, params = self._route()
                if path == "/cgi-bin/token":
                    return self._answer(200, fake._token("wechat", params))
                if path == "/cgi-bin/gettoken":
                    return self._answer(200, fake._token("wecom", params))
                self._answer(404, {"errcode": 404, "errmsg": "not found"})

            def do_POST(self) -> None:
                path, params = self._route()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if path == "/cgi-bin/message/custom/send":
                    return self._answer(*fake._send("wechat", params, body))
                if path == "/cgi-bin/message/send":
                    return self._answer(*fake._send("wecom", params, body))
                self._answer(404, {"errcode": 404, "errmsg": "not found"})

        return Handler
