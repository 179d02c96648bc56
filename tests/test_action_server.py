"""bot/action_server.py: rasa_sdk's server, with CORS handling only when origins are allowed."""
from __future__ import annotations

import socket

import aiohttp
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _serve(cors_origins):
    import rasa_sdk.endpoint
    from sanic import Sanic

    Sanic.test_mode = True  # several apps named "rasa_sdk" in one process
    app = rasa_sdk.endpoint.create_app("tests.action_server_actions", cors_origins=cors_origins)
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.before_start()  # listeners: sanic_cors installs its middleware here
    await server.after_start()
    return app, server, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("origins", [None, "", ["https://gov.example"]])
async def test_cors_is_handled_only_when_an_origin_is_allowed(origins, monkeypatch):
    import rasa_sdk.endpoint

    from bot.action_server import install_cors_only_when_asked

    monkeypatch.setattr(rasa_sdk.endpoint, "configure_cors", rasa_sdk.endpoint.configure_cors)
    install_cors_only_when_asked()
    install_cors_only_when_asked()  # twice: still one layer
    app, server, base = await _serve(origins)
    try:
        async with aiohttp.ClientSession() as client:
            call = {"next_action": "action_echo", "sender_id": "s1", "version": "3.6.0",
                    "tracker": {"sender_id": "s1", "slots": {}, "latest_message": {"text": "你好"}, "events": []}}
            async with client.post(f"{base}/webhook", json=call, headers={"Origin": "https://gov.example"}) as r:
                body = await r.json()
                allowed = r.headers.get("Access-Control-Allow-Origin")
            assert r.status == 200 and body["responses"][0]["text"] == "收到：你好"
            async with client.get(f"{base}/health") as r:
                assert r.status == 200 and (await r.json()) == {"status": "ok"}
        if origins:
            assert allowed == "https://gov.example"  # rasa_sdk's CORS, as asked
            assert app._future_middleware
        else:
            assert allowed is None  # no origin allowed, as before, without the middleware's cost
            assert not app._future_middleware
    finally:
        server.close()
        await server.wait_closed()
