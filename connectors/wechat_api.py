"""The WeChat and WeCom server APIs the channels call: access tokens and sending text.

Official Account: `GET /cgi-bin/token` and `POST /cgi-bin/message/custom/send` (customer-service
message). WeCom: `GET /cgi-bin/gettoken` and `POST /cgi-bin/message/send` (with the agent id).
The base URL is configurable so that tests and `onewindow wechat-sim` answer these calls locally.

The access token is cached until shortly before it expires and fetched again when the API says it
is invalid or expired (errcode 40001, 40014, 42001), then the call is made once more. Any other
failure raises `WeChatAPIError`; the outbox retries later.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, Optional

import httpx

log = logging.getLogger(__name__)

TOKEN_ERRORS = (40001, 40014, 42001)
TOKEN_MARGIN = 300.0  # seconds before expiry the cached token is replaced
REQUEST_TIMEOUT = 10.0


class WeChatAPIError(Exception):
    def __init__(self, message: str, errcode: Optional[int] = None):
        super().__init__(message)
        self.errcode = errcode


class AccessTokenAPI:
    """Base of the two clients: a cached access token and JSON calls that carry it."""

    product = "WeChat"
    token_path = ""

    def __init__(self, api_base: str, transport: Optional[httpx.AsyncBaseTransport] = None,
                 clock=time.monotonic):
        self.api_base = api_base.rstrip("/")
        self._transport = transport
        self._clock = clock
        self._client: Optional[httpx.AsyncClient] = None
        self._token: Optional[str] = None
        self._expires_at = 0.0
        self._lock: Optional[asyncio.Lock] = None
        self.token_fetches = 0

    def token_params(self) -> Dict[str, str]:
        raise NotImplementedError

    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=REQUEST_TIMEOUT, transport=self._transport)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def invalidate_token(self) -> None:
        self._token = None
        self._expires_at = 0.0

    async def access_token(self) -> str:
        if self._token and self._clock() < self._expires_at:
            return self._token
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one fetch at a time; the others use its result
            if self._token and self._clock() < self._expires_at:
                return self._token
            data = await self._request("GET", self.token_path, params=self.token_params())
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                raise WeChatAPIError(f"{self.product} token answer has no access_token: {data}")
            expires_in = float(data.get("expires_in") or 7200)
            self._token = token
            self._expires_at = self._clock() + max(expires_in - TOKEN_MARGIN, expires_in / 2)
            self.token_fetches += 1
            log.info("%s access token fetched (valid %.0f s)", self.product, expires_in)
            return token

    async def call(self, path: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        """POST a JSON payload with the access token; fetch a new token once if it went stale."""
        for attempt in (1, 2):
            token = await self.access_token()
            try:
                return await self._request("POST", path, params={"access_token": token}, payload=payload)
            except WeChatAPIError as exc:
                if exc.errcode in TOKEN_ERRORS and attempt == 1:
                    log.warning("%s access token rejected (errcode %s); fetching a new one", self.product, exc.errcode)
                    if self._token == token:
                        self.invalidate_token()
                    continue
                raise
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, params: Dict[str, str],
                       payload: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        url = f"{self.api_base}{path}"
        # UTF-8 JSON, not \\u escapes: some WeChat APIs show escapes to the user as they are.
        content = json.dumps(payload, ensure_ascii=False).encode("utf-8") if payload is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else None
        try:
            response = await self.client().request(method, url, params=params, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise WeChatAPIError(f"{self.product} API {path} unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise WeChatAPIError(f"{self.product} API {path} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise WeChatAPIError(f"{self.product} API {path} answered something that is not JSON") from exc
        if not isinstance(data, dict):
            raise WeChatAPIError(f"{self.product} API {path} answered an unexpected {type(data).__name__}")
        errcode = data.get("errcode", 0)
        if errcode not in (0, None):
            raise WeChatAPIError(f"{self.product} API {path} errcode {errcode}: {data.get('errmsg', '')}", errcode)
        return data


class OfficialAccountAPI(AccessTokenAPI):
    product = "WeChat"
    token_path = "/cgi-bin/token"

    def __init__(self, app_id: str, secret: str, api_base: str, **kwargs):
        super().__init__(api_base, **kwargs)
        self.app_id, self.secret = app_id, secret

    def token_params(self) -> Dict[str, str]:
        return {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret}

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (allowed for 48 hours after the user's last message)."""
        await self.call("/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}})


class WeComAPI(AccessTokenAPI):
    product = "WeCom"
    token_path = "/cgi-bin/gettoken"

    def __init__(self, corp_id: str, secret: str, agent_id: str, api_base: str, **kwargs):
        super().__init__(api_base, **kwargs)
        self.corp_id, self.secret, self.agent_id = corp_id, secret, int(agent_id)

    def token_params(self) -> Dict[str, str]:
        return {"corpid": self.corp_id, "corpsecret": self.secret}

    async def send_text(self, user_id: str, text: str) -> None:
        data = await self.call(
            "/cgi-bin/message/send",
            {"touser": user_id, "msgtype": "text", "agentid": self.agent_id, "text": {"content": text}},
        )
        if data.get("invaliduser"):
            raise WeChatAPIError(f"WeCom cannot reach user {data['invaliduser']} (not in the app's visible range?)")
