"""Running a WeChat-family channel's blueprint in a real Sanic server with a scripted bot."""
from __future__ import annotations

import asyncio
import socket
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator, List

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

OA_TOKEN = "onewindowtest"
OA_APP_ID = "wx0123456789abcdef"
OA_SECRET = "oa-secret"
# The EncodingAESKey of WeChat's published samples (43 characters).
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "wwcorp0123456789"
CORP_SECRET = "corp-secret"
AGENT_ID = "1000002"
WECOM_TOKEN = "wecomtoken"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScriptedBot:
    """A stand-in for Rasa's `on_new_message`: answers by the text, records every turn.

    - starts with 慢: answers after `slow_seconds`;
    - 选项: a question with two buttons;
    - 长文: an answer of about 5,000 bytes;
    - 两条: two bot messages;
    - 静默: no answer (a paused conversation);
    - 出错: the turn raises;
    - anything else (payloads included): "收到：<text>".
    """

    def __init__(self, slow_seconds: float = 1.0):
        self.slow_seconds = slow_seconds
        self.turns: List[UserMessage] = []

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.turns]

    async def __call__(self, message: UserMessage) -> None:
        self.turns.append(message)
        out, sender, text = message.output_channel, message.sender_id, message.text
        if text.startswith("慢"):
            await asyncio.sleep(self.slow_seconds)
        if text == "选项":
            await out.send_response(sender, {"text": "您要办理的是哪一项？", "buttons": [
                {"title": "居住证申领", "payload": '/choose_option{"option": "JZZ-1"}'},
                {"title": "居住证签注", "payload": '/choose_option{"option": "JZZ-2"}'},
            ]})
        elif text == "长文":
            await out.send_response(sender, {"text": "\n".join(f"第{i}条：居住证申领需要提交身份证、住所证明和近期照片。" for i in range(1, 81))})
        elif text == "两条":
            await out.send_response(sender, {"text": "第一条消息"})
            await out.send_response(sender, {"text": "第二条消息", "custom": {"type": "service_answer"}})
        elif text == "静默":
            return
        elif text == "出错":
            raise RuntimeError("scripted failure")
        else:
            await out.send_response(sender, {"text": f"收到：{text}"})


@asynccontextmanager
async def serve(channel, bot) -> AsyncIterator[str]:
    """The channel's blueprint under /webhooks/<name> in a Sanic server; yields the webhook URL."""
    Sanic.test_mode = True  # several apps in one process (Sanic's own test client does the same)
    app = Sanic(f"test_{channel.name()}_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.name()}")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.start_serving()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/{channel.name()}/webhook"
    finally:
        await channel.answerer.drain()
        server.close()
        await server.wait_closed()
        if channel.api is not None:
            await channel.api.close()
