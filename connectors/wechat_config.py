"""Settings of the WeChat Official Account and WeCom channels (credentials.yml, from the environment).

bot/credentials.yml passes `${ONEWINDOW_WECHAT_*}` / `${ONEWINDOW_WECOM_*}` to the channels; Rasa
refuses to start when such a variable is unset, so `onewindow run` gives every one of them an empty
default (`CHANNEL_VARIABLES`). A channel whose required values are empty is "not configured": it
answers 503 and says why in the log.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

WECHAT_API_BASE = "https://api.weixin.qq.com"
WECOM_API_BASE = "https://qyapi.weixin.qq.com"

WECHAT_VARIABLES = (
    "ONEWINDOW_WECHAT_TOKEN",
    "ONEWINDOW_WECHAT_APPID",
    "ONEWINDOW_WECHAT_SECRET",
    "ONEWINDOW_WECHAT_AES_KEY",
    "ONEWINDOW_WECHAT_API_BASE",
)
WECOM_VARIABLES = (
    "ONEWINDOW_WECOM_CORP_ID",
    "ONEWINDOW_WECOM_AGENT_ID",
    "ONEWINDOW_WECOM_SECRET",
    "ONEWINDOW_WECOM_TOKEN",
    "ONEWINDOW_WECOM_AES_KEY",
    "ONEWINDOW_WECOM_API_BASE",
)
CHANNEL_VARIABLES = WECHAT_VARIABLES + WECOM_VARIABLES

# Defaults of the tunables (credentials.yml keys of the same names override them).
REPLY_TIMEOUT = 4.5  # seconds a push waits for the turn before answering `success` (WeChat allows 5)
TIMESTAMP_WINDOW = 300  # seconds a push's timestamp may be off the clock; older ones are replays
MAX_BODY_BYTES = 64 * 1024  # WeChat's pushes are a few hundred bytes
MAX_TEXT_BYTES = 2048  # one text message, passive or through the API


def _text(credentials: Mapping[str, Any], key: str) -> str:
    value = credentials.get(key)
    return "" if value is None else str(value).strip()


def _number(credentials: Mapping[str, Any], key: str, default: float) -> float:
    value = credentials.get(key)
    if value is None or str(value).strip() == "":
        return default
    number = float(value)
    if number <= 0:
        raise ValueError(f"{key} must be positive, not {value!r}")
    return number


@dataclass(frozen=True)
class Limits:
    reply_timeout: float = REPLY_TIMEOUT
    timestamp_window: float = TIMESTAMP_WINDOW
    max_body_bytes: int = MAX_BODY_BYTES
    max_text_bytes: int = MAX_TEXT_BYTES

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> "Limits":
        return cls(
            reply_timeout=_number(credentials, "reply_timeout", REPLY_TIMEOUT),
            timestamp_window=_number(credentials, "timestamp_window", TIMESTAMP_WINDOW),
            max_body_bytes=int(_number(credentials, "max_body_bytes", MAX_BODY_BYTES)),
            max_text_bytes=int(_number(credentials, "max_text_bytes", MAX_TEXT_BYTES)),
        )


def _check_aes_key(key: str, variable: str) -> None:
    if key and len(key) != 43:
        raise ValueError(f"{variable} (EncodingAESKey) must be 43 characters, not {len(key)}")


@dataclass(frozen=True)
class WeChatSettings:
    """The Official Account: token (URL and push signatures), AppID and AppSecret (access token),
    EncodingAESKey (safe mode; empty means plaintext mode)."""

    token: str = ""
    app_id: str = ""
    secret: str = ""
    encoding_aes_key: str = ""
    api_base: str = WECHAT_API_BASE
    limits: Limits = Limits()

    @classmethod
    def from_credentials(cls, credentials: Optional[Mapping[str, Any]]) -> "WeChatSettings":
        credentials = credentials or {}
        settings = cls(
            token=_text(credentials, "token"),
            app_id=_text(credentials, "app_id"),
            secret=_text(credentials, "secret"),
            encoding_aes_key=_text(credentials, "encoding_aes_key"),
            api_base=(_text(credentials, "api_base") or WECHAT_API_BASE).rstrip("/"),
            limits=Limits.from_credentials(credentials),
        )
        _check_aes_key(settings.encoding_aes_key, "ONEWINDOW_WECHAT_AES_KEY")
        return settings

    def missing(self) -> List[str]:
        """The variables that must still be set for the channel to work."""
        pairs = (("ONEWINDOW_WECHAT_TOKEN", self.token), ("ONEWINDOW_WECHAT_APPID", self.app_id),
                 ("ONEWINDOW_WECHAT_SECRET", self.secret))
        return [name for name, value in pairs if not value]

    @property
    def safe_mode(self) -> bool:
        return bool(self.encoding_aes_key)


@dataclass(frozen=True)
class WeComSettings:
    """A WeCom self-built app: CorpID, AgentId and Secret (sending), Token and EncodingAESKey
    (callbacks, always encrypted)."""

    corp_id: str = ""
    agent_id: str = ""
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base: str = WECOM_API_BASE
    limits: Limits = Limits()

    @classmethod
    def from_credentials(cls, credentials: Optional[Mapping[str, Any]]) -> "WeComSettings":
        credentials = credentials or {}
        settings = cls(
            corp_id=_text(credentials, "corp_id"),
            agent_id=_text(credentials, "agent_id"),
            secret=_text(credentials, "secret"),
            token=_text(credentials, "token"),
            encoding_aes_key=_text(credentials, "encoding_aes_key"),
            api_base=(_text(credentials, "api_base") or WECOM_API_BASE).rstrip("/"),
            limits=Limits.from_credentials(credentials),
        )
        _check_aes_key(settings.encoding_aes_key, "ONEWINDOW_WECOM_AES_KEY")
        if settings.agent_id and not settings.agent_id.isdigit():
            raise ValueError(f"ONEWINDOW_WECOM_AGENT_ID must be a number, not {settings.agent_id!r}")
        return settings

    def missing(self) -> List[str]:
        pairs = (("ONEWINDOW_WECOM_CORP_ID", self.corp_id), ("ONEWINDOW_WECOM_AGENT_ID", self.agent_id),
                 ("ONEWINDOW_WECOM_SECRET", self.secret), ("ONEWINDOW_WECOM_TOKEN", self.token),
                 ("ONEWINDOW_WECOM_AES_KEY", self.encoding_aes_key))
        return [name for name, value in pairs if not value]


def empty_channel_environment() -> Dict[str, str]:
    """Every channel variable with an empty value, for processes that load credentials.yml."""
    return {name: "" for name in CHANNEL_VARIABLES}
