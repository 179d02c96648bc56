"""`onewindow wechat-sim` against a channel served locally: what the user would see is printed."""
from __future__ import annotations

import argparse
import asyncio
import io

import pytest

from bot.cli import build_parser
from connectors.wechat import WeChatInput
from connectors.wechat_config import Limits, WeChatSettings, WeComSettings
from connectors.wechat_sim import Simulator, SimulatorError
from connectors.wecom import WeComInput
from outbound import delivery

from wechat_helpers import (AES_KEY, AGENT_ID, CORP_ID, CORP_SECRET, OA_APP_ID, OA_SECRET, OA_TOKEN, WECOM_TOKEN,
                            ScriptedBot, free_port, serve)


@pytest.fixture
def senders(monkeypatch):
    registry: dict = {}
    monkeypatch.setattr(delivery, "_senders", registry)
    return registry


@pytest.fixture
def oa_env(monkeypatch):
    for name, value in (("ONEWINDOW_WECHAT_TOKEN", OA_TOKEN), ("ONEWINDOW_WECHAT_APPID", OA_APP_ID),
                        ("ONEWINDOW_WECHAT_SECRET", OA_SECRET), ("ONEWINDOW_WECHAT_AES_KEY", AES_KEY)):
        monkeypatch.setenv(name, value)


def sim_args(*argv) -> argparse.Namespace:
    return build_parser().parse_args(["wechat-sim", *argv])


async def simulate(args, db_url) -> str:
    """Run the simulator (blocking, in a thread) while this loop serves the bot and delivers the outbox."""
    out = io.StringIO()
    simulator = Simulator(args, out=out)
    simulator.QUIET = 0.5
    runner = asyncio.ensure_future(delivery.OutboxDelivery(db_url, interval=0.1).run_forever())
    try:
        assert await asyncio.to_thread(simulator.run) == 0
    finally:
        runner.cancel()
    return out.getvalue()


@pytest.mark.parametrize("encrypted", [False, True])
async def test_official_account_passive_and_api_answers_are_printed(db_url, senders, oa_env, encrypted):
    api_port = free_port()
    settings = WeChatSettings(token=OA_TOKEN, app_id=OA_APP_ID, secret=OA_SECRET, encoding_aes_key=AES_KEY if encrypted else "",
                              api_base=f"http://127.0.0.1:{api_port}", limits=Limits(reply_timeout=0.5))
    bot = ScriptedBot(slow_seconds=1.0)
    async with serve(WeChatInput(settings), bot) as url:
        flags = ["--encrypted"] if encrypted else []
        fast = await simulate(sim_args("--url", url, "--api-port", str(api_port), "--subscribe", "-m", "居住证", *flags), db_url)
        slow = await simulate(sim_args("--url", url, "--api-port", str(api_port), "-m", "慢：护照", "--wait", "10", *flags), db_url)
    assert "[bot · 被动回复] 您好，欢迎关注！" in fast
    assert "[bot · 被动回复] 收到：居住证" in fast
    assert "[bot · 客服消息] 收到：慢：护照" in slow and "被动回复" not in slow
    assert bot.texts == ["居住证", "慢：护照"]


async def test_wecom_answers_are_printed(db_url, senders, monkeypatch):
    api_port = free_port()
    for name, value in (("ONEWINDOW_WECOM_CORP_ID", CORP_ID), ("ONEWINDOW_WECOM_AGENT_ID", AGENT_ID),
                        ("ONEWINDOW_WECOM_SECRET", CORP_SECRET), ("ONEWINDOW_WECOM_TOKEN", WECOM_TOKEN),
                        ("ONEWINDOW_WECOM_AES_KEY", AES_KEY)):
        monkeypatch.setenv(name, value)
    settings = WeComSettings(corp_id=CORP_ID, agent_id=AGENT_ID, secret=CORP_SECRET, token=WECOM_TOKEN,
                             encoding_aes_key=AES_KEY, api_base=f"http://127.0.0.1:{api_port}")
    async with serve(WeComInput(settings), ScriptedBot()) as url:
        shown = await simulate(sim_args("--wecom", "--url", url, "--api-port", str(api_port), "-m", "选项"), db_url)
    assert "[bot · 客服消息] 您要办理的是哪一项？\n回复数字选择：\n1. 居住证申领\n2. 居住证签注" in shown


def test_missing_settings_are_reported(monkeypatch):
    monkeypatch.delenv("ONEWINDOW_WECHAT_TOKEN", raising=False)
    with pytest.raises(SimulatorError, match="ONEWINDOW_WECHAT_TOKEN"):
        Simulator(sim_args("-m", "你好"))
