"""The widget's channel stops cleanly: no engine.io ping timer is left pending when the server
stops with widgets connected (each was destroyed with the loop and logged as an error)."""
from __future__ import annotations

import asyncio
import socket

import socketio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ping_timers():
    return [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__qualname__", "") == "AsyncSocket._send_ping"]


async def test_stopping_the_server_cancels_the_ping_timers_of_connected_widgets(db_url, monkeypatch):
    from rasa.core.channels.channel import register
    from sanic import Sanic

    from connectors.webchat import WebchatInput
    from outbound import delivery

    monkeypatch.setattr(delivery, "_senders", {})
    monkeypatch.setattr(delivery, "start_delivery", lambda: None)
    Sanic.test_mode = True
    app = Sanic("webchat_shutdown_test")
    channel = WebchatInput(session_persistence=True, socketio_path="/socket.io")
    register([channel], app, route="/webhooks/")
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.after_start()
    clients = [socketio.AsyncClient(reconnection=False) for _ in range(2)]
    try:
        for client in clients:
            await client.connect(f"http://127.0.0.1:{port}", socketio_path="/socket.io", transports=["polling"])
            await client.emit("session_request", {"session_id": f"s-{id(client)}"})
        for _ in range(50):  # the server schedules each widget's first ping as it connects
            if len(_ping_timers()) >= 2:
                break
            await asyncio.sleep(0.05)
        assert len(_ping_timers()) == 2

        await server.before_stop()

        assert not [t for t in _ping_timers() if not t.done()]
    finally:
        for client in clients:
            await client.eio.disconnect(abort=True)  # not waiting for the long poll to end
        server.close()
        await server.wait_closed()
        await server.after_stop()
