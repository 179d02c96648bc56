"""Rasa's HTTP API, as the desk uses it for handoffs: a conversation's tracker, and appending events
to it (staff messages as bot events, pausing and resuming the bot).

The Rasa server runs with `--enable-api --auth-token` (bot/runner.py); the desk process gets its
address and token as ONEWINDOW_RASA_URL and ONEWINDOW_RASA_TOKEN. Timeouts are short: a desk page
must not hang on a Rasa server that is down, restarting or busy training.

Events are appended with `execute_side_effects=false`: Rasa then only records them, and does not
send the bot messages to the citizen itself (the outbox delivers them, once, with retries).
"""
from __future__ import annotations

import logging
import os
import re
from typing import Any, Dict, List, Optional

import httpx

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# Rasa's routes take the conversation id as a raw path: Sanic does not decode percent-escapes, so
# only ids made of characters that travel unescaped can be addressed (every channel's ids do).
_ADDRESSABLE = re.compile(r"[A-Za-z0-9\-._~:@!$&'()*+,;=/]{1,128}")


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not do what was asked; `str()` says why (English)."""


class RasaAPI:
    def __init__(self, base_url: Optional[str], token: Optional[str], timeout: httpx.Timeout = TIMEOUT,
                 transport: Optional[httpx.BaseTransport] = None):
        self.base_url = (base_url or "").strip().rstrip("/")
        self.token = (token or "").strip()
        self.timeout = timeout
        self.transport = transport

    @classmethod
    def from_env(cls) -> "RasaAPI":
        return cls(os.environ.get("ONEWINDOW_RASA_URL"), os.environ.get("ONEWINDOW_RASA_TOKEN"))

    @property
    def configured(self) -> bool:
        return bool(self.base_url)

    def _url(self, conversation_id: str, suffix: str) -> str:
        if not self.configured:
            raise RasaUnavailable("ONEWINDOW_RASA_URL is not set")
        if not isinstance(conversation_id, str) or not _ADDRESSABLE.fullmatch(conversation_id):
            raise RasaUnavailable(f"conversation id {conversation_id!r} cannot be addressed through Rasa's HTTP API")
        return f"{self.base_url}/conversations/{conversation_id}/{suffix}"

    def _request(self, method: str, url: str, params: Dict[str, str], body: Any = None) -> Any:
        if self.token:
            params = {**params, "token": self.token}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.request(method, url, params=params, json=body)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 300:
            raise RasaUnavailable(f"HTTP {response.status_code} from Rasa: {response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise RasaUnavailable("Rasa answered with something that is not JSON") from None

    def tracker(self, conversation_id: str) -> Dict[str, Any]:
        """The conversation's tracker with its whole history (every session)."""
        data = self._request("GET", self._url(conversation_id, "tracker"), {"include_events": "ALL"})
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise RasaUnavailable("Rasa's tracker has no list of events")
        return data

    def append_events(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        """Record events in the conversation without running them (no message is sent)."""
        if not events:
            return
        self._request("POST", self._url(conversation_id, "tracker/events"),
                      {"execute_side_effects": "false", "include_events": "NONE"}, events)
