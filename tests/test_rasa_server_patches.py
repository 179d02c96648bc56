"""bot/rasa_server.py's fixes to Rasa 3.6.21: the action server's responses are still validated,
and endpoint requests reuse keep-alive connections with Rasa's own semantics."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot.rasa_server import apply_patches, close_shared_sessions


@pytest.fixture(scope="module", autouse=True)
def patched():
    assert apply_patches()


async def _server(peers: list):
    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        body = await request.json()
        return web.json_response({"got": body, "token": request.query.get("token"),
                                  "auth": request.headers.get("X-Test")})

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="plain")

    app = web.Application()
    app.router.add_post("/webhook", echo)
    app.router.add_post("/text", text)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


async def test_endpoint_requests_reuse_one_connection_and_keep_rasas_semantics():
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    peers: list = []
    runner, base = await _server(peers)
    try:
        endpoint = EndpointConfig(f"{base}/webhook", params={"token": "t0"}, headers={"X-Test": "h1"})
        results = [await endpoint.request(json={"n": n}) for n in range(3)]
        assert [r["got"]["n"] for r in results] == [0, 1, 2]
        assert all(r["token"] == "t0" and r["auth"] == "h1" for r in results)
        assert len(set(peers)) == 1  # one keep-alive connection, not one per call
        concurrent = await asyncio.gather(*(endpoint.request(json={"n": n}) for n in range(5)))
        assert sorted(r["got"]["n"] for r in concurrent) == list(range(5))
        assert await EndpointConfig(base).request(subpath="text") is None  # not JSON: None, as Rasa does
        with pytest.raises(ClientResponseError) as error:
            await EndpointConfig(base).request(subpath="missing")
        assert error.value.status == 404
        await asyncio.sleep(2.5)  # idle past the client's keep-alive: a fresh connection, no error
        assert (await endpoint.request(json={"n": 9}))["got"]["n"] == 9
    finally:
        await close_shared_sessions()
        await runner.cleanup()
