"""The whole product running: action server, Rasa server (REST and widget channels), desk service.

`live_stack` trains the model if it is missing or stale (as `make run` does), starts the three
processes on free ports against a fresh database with the default catalogue, waits until each
answers, and stops them after the session. Tests talk to it over HTTP and socket.io like users.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import httpx
import pytest

from bot.runner import Settings, Supervisor, components
from connectors.wechat_fake_api import FakeWeChatAPI
from database.engine import PROJECT_ROOT

STARTUP_TIMEOUT = 240.0
WECHAT_TOKEN, WECHAT_APPID, WECHAT_SECRET = "e2e-wechat-token", "wxe2e0000000000000", "e2e-wechat-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    desk_url: str
    rasa_url: str
    actions_url: str
    database_url: str
    rasa_token: str
    log_path: Path
    wechat_api: Optional[FakeWeChatAPI] = None  # the fake WeChat API the Rasa server sends to
    wechat_token: str = ""  # the WeChat channel's token (its AppID is wechat_api.app_id)
    tracker_db: str = ""  # the Rasa tracker store's SQLite file

    def rest(self, sender: str, message: str, timeout: float = 30.0) -> list:
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=timeout
        )
        response.raise_for_status()
        return response.json()


def _wait(url: str, deadline: float, supervisor: Supervisor, log_path: Path) -> None:
    while time.monotonic() < deadline:
        for part in supervisor.parts:
            if part.process is not None and part.process.poll() is not None:
                raise RuntimeError(f"{part.name} exited with code {part.process.returncode}; see {log_path}")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise RuntimeError(f"{url} did not answer within {STARTUP_TIMEOUT:.0f} s; see {log_path}")


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory):
    from bot.training import MODEL_PATH, train

    workdir = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{workdir / 'onewindow.db'}"
    env_base = dict(os.environ, ONEWINDOW_DATABASE_URL=database_url)
    setup = subprocess.run(
        [sys.executable, "-m", "bot.cli", "setup"], cwd=PROJECT_ROOT, env=env_base, capture_output=True, text=True
    )
    assert setup.returncode == 0, setup.stderr
    train(force=False)

    settings = Settings(
        host="127.0.0.1",
        desk_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        rasa_token="test-token",
        tracker_db=str(workdir / "tracker.db"),
    )
    env = settings.environment()
    env["ONEWINDOW_DATABASE_URL"] = database_url
    # The WeChat channel configured against a local fake of WeChat's API (tests/e2e/test_wechat.py).
    wechat_api = FakeWeChatAPI(app_id=WECHAT_APPID, secret=WECHAT_SECRET).start()
    env.update(ONEWINDOW_WECHAT_TOKEN=WECHAT_TOKEN, ONEWINDOW_WECHAT_APPID=WECHAT_APPID,
               ONEWINDOW_WECHAT_SECRET=WECHAT_SECRET, ONEWINDOW_WECHAT_API_BASE=wechat_api.base_url)
    log_path = workdir / "stack.log"
    log = log_path.open("w")
    # The processes write to the log file too, so a failure can be read afterwards.
    supervisor = Supervisor(components(settings, str(MODEL_PATH)), env, out=log, child_output=log)
    for part in supervisor.parts:
        supervisor.start(part)
    stack = Stack(
        desk_url=f"http://127.0.0.1:{settings.desk_port}",
        rasa_url=f"http://127.0.0.1:{settings.rasa_port}",
        actions_url=f"http://127.0.0.1:{settings.actions_port}",
        database_url=database_url,
        rasa_token=settings.rasa_token,
        log_path=log_path,
        wechat_api=wechat_api,
        wechat_token=WECHAT_TOKEN,
        tracker_db=settings.tracker_db,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        _wait(f"{stack.actions_url}/health", deadline, supervisor, log_path)
        _wait(f"{stack.desk_url}/healthz", deadline, supervisor, log_path)
        _wait(f"{stack.rasa_url}/status?token={settings.rasa_token}", deadline, supervisor, log_path)
        yield stack
    finally:
        supervisor.stop_all()
        wechat_api.stop()
        log.close()
