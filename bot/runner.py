"""`onewindow run`: start every process of the product and watch them.

Processes: the action server (port 5055), the Rasa server with the REST and widget channels
(port 5005), and the desk web service (port 8000). A process that dies is reported at once and
restarted with backoff (the desk's /healthz shows it down meanwhile); Ctrl-C or SIGTERM stops
everything cleanly.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from database.engine import PROJECT_ROOT


@dataclass
class Settings:
    host: str = "0.0.0.0"
    desk_port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    rasa_token: str = ""
    tracker_db: str = str(PROJECT_ROOT / "var" / "tracker.db")

    @classmethod
    def from_env(cls) -> "Settings":
        def port(name: str, default: int) -> int:
            text = os.environ.get(name, "").strip() or str(default)
            if not text.isdigit() or not 0 < int(text) < 65536:
                raise ValueError(f"{name} must be a port number, not {text!r}")
            return int(text)

        return cls(
            host=os.environ.get("ONEWINDOW_HOST", "").strip() or "0.0.0.0",
            desk_port=port("ONEWINDOW_DESK_PORT", 8000),
            rasa_port=port("ONEWINDOW_RASA_PORT", 5005),
            actions_port=port("ONEWINDOW_ACTIONS_PORT", 5055),
            rasa_token=os.environ.get("ONEWINDOW_RASA_TOKEN", "").strip() or secrets.token_urlsafe(24),
            tracker_db=os.environ.get("ONEWINDOW_TRACKER_DB", "").strip() or str(PROJECT_ROOT / "var" / "tracker.db"),
        )

    def environment(self) -> Dict[str, str]:
        from connectors.wechat_config import empty_channel_environment

        # credentials.yml names the WeChat and WeCom variables; unset ones would stop Rasa.
        env = {**empty_channel_environment(), **os.environ}
        env.update(
            ONEWINDOW_ACTIONS_URL=f"http://127.0.0.1:{self.actions_port}/webhook",
            ONEWINDOW_ACTIONS_HEALTH=f"http://127.0.0.1:{self.actions_port}/health",
            ONEWINDOW_RASA_URL=f"http://127.0.0.1:{self.rasa_port}",
            ONEWINDOW_RASA_PORT=str(self.rasa_port),  # the demo page's widget connects to it
            ONEWINDOW_RASA_TOKEN=self.rasa_token,
            ONEWINDOW_TRACKER_DB=self.tracker_db,
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONUNBUFFERED="1",
        )
        return env


@dataclass
class Component:
    name: str
    command: List[str]
    process: Optional[subprocess.Popen] = None
    restarts: List[float] = field(default_factory=list)
    next_start: float = 0.0


def components(settings: Settings, model_path: str) -> List[Component]:
    py = sys.executable
    return [
        Component("action server", [py, "-m", "bot.action_server", "--actions", "actions", "--port", str(settings.actions_port)]),
        Component(
            "rasa server",
            [
                py, "-m", "bot.rasa_server", "run",
                "--model", model_path,
                "--enable-api", "--auth-token", settings.rasa_token,
                "--cors", "*",
                "--interface", settings.host,
                "--port", str(settings.rasa_port),
                "--credentials", str(PROJECT_ROOT / "bot" / "credentials.yml"),
                "--endpoints", str(PROJECT_ROOT / "bot" / "endpoints.yml"),
            ],
        ),
        Component(
            "desk service",
            [
                py, "-m", "uvicorn", "desk.app:create_app", "--factory",
                "--host", settings.host, "--port", str(settings.desk_port),
                "--ws", "none",  # no websockets on the desk; Rasa pins an older websockets
            ],
        ),
    ]


class Supervisor:
    MAX_RESTARTS = 5  # within RESTART_WINDOW seconds; past that the component stays down
    RESTART_WINDOW = 600.0

    def __init__(self, parts: List[Component], env: Dict[str, str], out=sys.stderr, child_output=None):
        self.parts, self.env, self.out = parts, env, out
        self.child_output = child_output  # where the processes write (None: inherit the terminal)
        self.stopping = False

    def say(self, text: str) -> None:
        print(f"[onewindow] {text}", file=self.out, flush=True)

    def start(self, part: Component) -> None:
        part.process = subprocess.Popen(
            part.command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self.child_output,
            stderr=subprocess.STDOUT if self.child_output is not None else None,
            start_new_session=True,
        )
        self.say(f"started {part.name} (pid {part.process.pid})")

    def stop_all(self, timeout: float = 15.0) -> None:
        self.stopping = True
        for part in self.parts:
            if part.process and part.process.poll() is None:
                try:
                    os.killpg(part.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for part in self.parts:
            if part.process is None:
                continue
            try:
                part.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(part.process.pid, signal.SIGKILL)
                part.process.wait()
            self.say(f"stopped {part.name}")

    def watch_once(self) -> None:
        now = time.monotonic()
        for part in self.parts:
            proc = part.process
            if proc is not None and proc.poll() is not None:
                self.say(f"ERROR: {part.name} exited with code {proc.returncode}")
                part.process = None
                part.restarts = [t for t in part.restarts if now - t < self.RESTART_WINDOW]
                if len(part.restarts) >= self.MAX_RESTARTS:
                    self.say(f"ERROR: {part.name} keeps failing; it stays down (see its log above)")
                    part.next_start = float("inf")
                else:
                    delay = 2.0 ** len(part.restarts)
                    part.next_start = now + delay
                    self.say(f"restarting {part.name} in {delay:.0f} s")
            if part.process is None and now >= part.next_start and not self.stopping:
                part.restarts.append(now)
                self.start(part)

    def run(self) -> int:
        def _stop(signum, _frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)  # also when started in the background (SIGINT ignored)
        for part in self.parts:
            self.start(part)
            part.restarts.append(time.monotonic())
        try:
            while True:
                time.sleep(1.0)
                self.watch_once()
        except KeyboardInterrupt:
            self.say("stopping ...")
        finally:
            self.stop_all()
        return 0


def run(settings: Optional[Settings] = None) -> int:
    from bot.training import MODEL_PATH, train

    settings = settings or Settings.from_env()
    train(force=False)
    env = settings.environment()
    parts = components(settings, str(MODEL_PATH))
    supervisor = Supervisor(parts, env)
    shown = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host
    supervisor.say(
        f"desk and widget: http://{shown}:{settings.desk_port}/  REST: http://{shown}:{settings.rasa_port}"
        f"/webhooks/rest/webhook  health: http://{shown}:{settings.desk_port}/healthz"
    )
    supervisor.say(f"staff desk: http://{shown}:{settings.desk_port}/staff/" + _staff_hint())
    return supervisor.run()


def _staff_hint() -> str:
    """A reminder to create the first administrator while there is no staff account."""
    try:
        from sqlalchemy import func, select

        from database.engine import make_session
        from staffdesk.models import StaffAccount

        with make_session() as session:
            if session.execute(select(func.count(StaffAccount.id))).scalar_one():
                return ""
    except Exception:  # noqa: BLE001 - only a hint; the desk reports database problems itself
        return ""
    return "  (no staff account yet: create the first with `.venv/bin/onewindow staff create-admin USERNAME`)"
