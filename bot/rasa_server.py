"""The Rasa server's entry point: `python -m bot.rasa_server run ...` is `rasa run ...` with fixes
for two hot paths of Rasa 3.6.21 that cost a third of its CPU per turn under load (profiled with
py-spy; docs/conversation.md, "Speed"):

- every custom action's response is checked with `jsonschema.validate()`, which first validates
  the schema itself against the JSON Schema meta-schema on every call; the fix validates with one
  validator built once (the same schema, the same errors);
- every event read from the tracker store or an action looks its class up by walking all Event
  subclasses (`all_subclasses`, recursive); the fix keeps a name-to-class table, rebuilt when a
  name is missing (so a class imported later is still found).

- every call to the action server opens a new HTTP client session, so a new TCP connection, on
  both sides; the fix keeps one client session per event loop with keep-alive connections, closed
  by the client after 2 s idle (before the action server's 5 s keep-alive timeout, so a request
  never goes out on a connection the server is closing).

All are behaviour-preserving and applied only to the pinned Rasa version they were written for.

It also guards privacy for every channel: each incoming message's ID numbers are sealed before
Rasa sees them (connectors/privacy.py), and log records are masked (filings/identity.py).
"""
from __future__ import annotations

import logging
import sys
from typing import Any, Dict, Optional, Text, Type

log = logging.getLogger(__name__)

PATCHED_RASA_VERSION = "3.6.21"


def _patch_action_result_validation() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import DOCS_BASE_URL, RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, at start-up
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, make sure your response "
                f"from the Action endpoint is valid. For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result


def _patch_event_lookup() -> None:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    table: Dict[Text, Type[Event]] = {}

    def rebuild() -> None:
        table.clear()
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            table.setdefault(cls.type_name, cls)  # the first match wins, as in Rasa's loop

    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        cls = table.get(type_name)
        if cls is None:
            rebuild()
            cls = table.get(type_name)
        if cls is not None:
            return cls
        if type_name == "topic":
            return None  # backwards compatibility, as in Rasa
        if default is not None:
            return default
        raise ValueError(f"Unknown event name '{type_name}'.")

    rebuild()
    Event.resolve_by_type = staticmethod(resolve_by_type)


CLIENT_KEEPALIVE_SECONDS = 2.0
_SESSIONS: Dict[tuple, Any] = {}  # (event loop, headers, auth) -> aiohttp.ClientSession


async def close_shared_sessions() -> None:
    """Close the shared client sessions of the running event loop."""
    import asyncio

    loop = id(asyncio.get_running_loop())
    for key in [k for k in _SESSIONS if k[0] == loop]:
        await _SESSIONS.pop(key).close()


def _patch_endpoint_sessions() -> None:
    import asyncio

    import os
    import ssl

    import aiohttp
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, ClientResponseError, EndpointConfig, concat_url

    sessions = _SESSIONS

    def shared_session(self: EndpointConfig) -> aiohttp.ClientSession:
        """One session per event loop and endpoint identity (headers, basic auth)."""
        auth = self.basic_auth or {}
        key = (id(asyncio.get_running_loop()), tuple(sorted((self.headers or {}).items())),
               auth.get("username"), auth.get("password"))
        session = sessions.get(key)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                headers=self.headers,
                auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=CLIENT_KEEPALIVE_SECONDS),
            )
            sessions[key] = session
        return session

    async def request(self: EndpointConfig, method: Text = "post", subpath: Optional[Text] = None,
                      content_type: Optional[Text] = "application/json", compress: bool = False,
                      **kwargs: Any) -> Optional[Any]:
        # Rasa 3.6.21's EndpointConfig.request, on the shared session instead of a new one.
        headers = {"Content-Type": content_type} if content_type else {}
        headers.update(kwargs.pop("headers", None) or {})
        headers.update(self.headers or {})
        sslcontext = None
        if self.cafile:
            try:
                sslcontext = ssl.create_default_context(cafile=self.cafile)
            except FileNotFoundError as e:
                raise FileNotFoundException(
                    f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
                ) from e
        async with shared_session(self).request(
            method, concat_url(self.url, subpath), headers=headers, params=self.combine_parameters(kwargs),
            compress=compress, ssl=sslcontext, **kwargs,
        ) as response:
            if response.status >= 400:
                raise ClientResponseError(response.status, response.reason, await response.content.read())
            try:
                return await response.json()
            except aiohttp.ContentTypeError:
                return None

    EndpointConfig.request = request


def _seal_incoming_id_numbers() -> None:
    from rasa.core.channels.channel import UserMessage

    from connectors.privacy import seal_id_numbers

    original_init = UserMessage.__init__

    def __init__(self, text=None, *args, **kwargs):
        original_init(self, seal_id_numbers(text) if isinstance(text, str) else text, *args, **kwargs)

    UserMessage.__init__ = __init__


def apply_privacy_guards() -> None:
    from filings.identity import install_log_redaction

    install_log_redaction()
    _seal_incoming_id_numbers()


def apply_patches() -> bool:
    import rasa

    if rasa.__version__ != PATCHED_RASA_VERSION:
        log.warning("Rasa %s is not %s: running without the speed fixes", rasa.__version__, PATCHED_RASA_VERSION)
        return False
    _patch_action_result_validation()
    _patch_event_lookup()
    _patch_endpoint_sessions()
    return True


def main() -> None:
    apply_privacy_guards()
    apply_patches()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
