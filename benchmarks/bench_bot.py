"""Conversation benchmark: `make bench` runs it and prints its figures.

Side by side in one run, through the REST channel:
- the full bot (action server, search, database, SQL tracker store), and
- a bare bot: the same pipeline and NLU data with fixed responses and no actions (the ceiling).
For each, after every question of the pool has been asked once (steady state): turn latency
p50/p95 and throughput with 1, 10 and 50 concurrent conversations (each sends its next turn as
soon as it has the answer: the worst case; at least 10 conversations per level, one after another
at level 1), both bots in turn at each level, twice (bare, full, full, bare, then full, bare, bare,
full: the machine's speed drifts), p50/p95 of 10 conversations at a citizen's pace (arriving
within 3 s, then 1-3 s between turns), and the median latency of turns 1-5 against turns 46-50
of five long conversations (the same five questions over and over). Also: training time of the
product model and the resident memory of the servers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.runner import Settings, components  # noqa: E402
from connectors.wechat_config import empty_channel_environment  # noqa: E402
from bot.training import CONFIG, MODEL_PATH, MODELS_DIR, TRAINING_TIME_PATH, training_data_paths, train, write_dictionary  # noqa: E402

BARE_DIR = ROOT / "benchmarks" / "bare"
BARE_MODEL = MODELS_DIR / "bare.tar.gz"
CONVERSATIONS = ROOT / "data" / "eval" / "conversations.yml"
# Paced runs: between two turns a citizen reads the answer and types (seconds, uniform).
PAUSE_SECONDS = (1.0, 3.0)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    total = 0
    for child in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024.0


def children(pid: int) -> List[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except FileNotFoundError:
        return []
    return [int(p) for p in out] + [c for p in out for c in children(int(p))]


def user_turns() -> List[str]:
    if CONVERSATIONS.exists():
        data = yaml.safe_load(CONVERSATIONS.read_text(encoding="utf-8"))
        # Not the turns that hand the conversation to staff: a paused conversation is no longer
        # answered by the bot, so its later turns would cost the full bot next to nothing.
        turns = [t["user"] for c in data for t in c["turns"] if (t.get("expect") or {}).get("type") != "handoff"]
        if turns:
            return turns
    return ["你好", "办护照要带什么", "要多久", "那港澳通行证呢", "低保怎么申请", "在哪办", "谢谢"]


def bare_stories() -> Path:
    """The product's stories with every action replaced by the fixed response, so that the bare
    bot runs the same policies (TED included) over the same dialogue shapes, minus the actions."""
    stories = yaml.safe_load((ROOT / "data" / "stories.yml").read_text(encoding="utf-8"))
    for story in stories.get("stories", []):
        for step in story.get("steps", []):
            if "action" in step:
                step["action"] = "utter_fixed"
    path = MODELS_DIR / "bare-stories.yml"
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(stories, allow_unicode=True, sort_keys=False)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def train_bare() -> float:
    """Train the bare model when missing or older than its inputs; seconds spent (0 if cached)."""
    stories = bare_stories()
    inputs = [CONFIG, BARE_DIR / "domain.yml", BARE_DIR / "rules.yml", stories, *training_data_paths()]
    newest = max(p.stat().st_mtime if p.is_file() else max((q.stat().st_mtime for q in p.rglob("*")), default=0) for p in inputs)
    if BARE_MODEL.exists() and BARE_MODEL.stat().st_mtime > newest:
        return 0.0
    write_dictionary()
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--config", str(CONFIG), "--domain", str(BARE_DIR / "domain.yml"),
         "--data", *[str(p) for p in training_data_paths() if p.is_dir()], str(BARE_DIR / "rules.yml"), str(stories),
         "--out", str(MODELS_DIR), "--fixed-model-name", "bare", "--force", "--quiet"],
        cwd=ROOT, check=True,
    )
    return time.monotonic() - started


class Server:
    def __init__(self, name: str, commands: List[List[str]], env: Dict[str, str], url: str, log: Path):
        self.name, self.url = name, url
        self.log = log.open("w")
        self.procs = [subprocess.Popen(c, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT) for c in commands]

    def wait(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"{self.name} died while starting; see {self.log.name}")
            try:
                if httpx.get(f"{self.url}/webhooks/rest/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(f"{self.name} did not start in {timeout:.0f} s")

    def memory(self) -> float:
        return sum(rss_mb(p.pid) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.log.close()


async def converse(client: httpx.AsyncClient, url: str, sender: str, turns: List[str], timings: List[float],
                   pauses: Optional[random.Random] = None) -> None:
    if pauses is not None:  # citizens do not all arrive at the same instant
        await asyncio.sleep(pauses.uniform(0, PAUSE_SECONDS[1]))
    for text in turns:
        started = time.perf_counter()
        response = await client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        response.raise_for_status()
        timings.append((time.perf_counter() - started) * 1000.0)
        if any((m.get("custom") or {}).get("type") == "handoff" for m in response.json()):
            raise RuntimeError(f"the turn {text!r} handed the benchmark's conversation to staff: the figures "
                               "would count turns the bot no longer answers; take it out of the pool")
        if pauses is not None:  # the citizen reads the answer and types the next question
            await asyncio.sleep(pauses.uniform(*PAUSE_SECONDS))


# Each load level runs at least this many conversations (one at a time fewer than this run one
# after another), so that every level measures the same questions and enough turns to be steady.
MIN_CONVERSATIONS = 10


async def run_load(url: str, concurrency: int, turns_each: int, pool: List[str], tag: str,
                   paced: bool = False) -> Tuple[List[float], float]:
    """Every turn's latency (ms) and the seconds the run took: max(concurrency, MIN_CONVERSATIONS)
    conversations, `concurrency` of them at a time."""
    timings: List[float] = []
    limits = httpx.Limits(max_connections=concurrency + 5)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, client: httpx.AsyncClient) -> None:
        turns = [pool[(i * 7 + k) % len(pool)] for k in range(turns_each)]
        pauses = random.Random(i) if paced else None
        async with gate:
            await converse(client, url, f"bench-{tag}-{concurrency}-{i}-{time.time_ns()}", turns, timings, pauses)

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(i, client) for i in range(max(concurrency, MIN_CONVERSATIONS))))
        elapsed = time.perf_counter() - started
    return timings, elapsed


def figures_of(timings: List[float], elapsed: float) -> dict:
    ordered = sorted(timings)
    return {
        "turns": len(timings),
        "p50_ms": round(ordered[len(ordered) // 2], 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1),
        "throughput_tps": round(len(timings) / elapsed, 1),
    }


async def load(url: str, concurrency: int, turns_each: int, pool: List[str], tag: str, paced: bool = False) -> dict:
    return figures_of(*await run_load(url, concurrency, turns_each, pool, tag, paced))


def side_by_side(servers: List["Server"], concurrency: int, turns_each: int, pool: List[str],
                 rounds: int = 2) -> Dict[str, dict]:
    """Both bots at one load level, `rounds` times, in the order A B B A, then B A A B, and so on:
    this machine's speed drifts by tens of percent over minutes (other tenants), and a drift then
    weighs on both alike. Each bot's figures pool all its runs (all their turns over all their
    seconds); `rounds_tps` is its throughput in each round, to show how far rounds differ."""
    runs: Dict[str, List[List[Tuple[List[float], float]]]] = {s.name: [] for s in servers}
    for r in range(rounds):
        order = servers if r % 2 == 0 else list(reversed(servers))
        for done in runs.values():
            done.append([])
        for server in [*order, *reversed(order)]:
            runs[server.name][r].append(asyncio.run(run_load(server.url, concurrency, turns_each, pool, server.name[:4])))
    figures = {}
    for name, by_round in runs.items():
        done = [run for round_runs in by_round for run in round_runs]
        result = figures_of([t for timings, _ in done for t in timings], sum(e for _, e in done))
        result["rounds_tps"] = [round(sum(len(t) for t, _ in rr) / sum(e for _, e in rr), 1) for rr in by_round]
        figures[name] = result
    return figures


async def long_conversation(url: str, pool: List[str], tag: str, conversations: int = 5, turns: int = 50,
                            block: int = 5) -> dict:
    """`conversations` conversations one after another, each repeating the same `block` turns, so
    that turns 1-5 and 46-50 ask the same things and differ only in how much conversation came
    before; the median of each group over all conversations (one slow turn does not decide it)."""
    first: List[float] = []
    last: List[float] = []
    async with httpx.AsyncClient(timeout=120) as client:
        script = [pool[k % block] for k in range(turns)]
        for i in range(conversations):
            timings: List[float] = []
            await converse(client, url, f"bench-long-{tag}-{i}-{time.time_ns()}", script, timings)
            first += timings[:block]
            last += timings[-block:]
    a, b = statistics.median(first), statistics.median(last)
    return {"turns_1_5_ms": round(a, 1), "turns_46_50_ms": round(b, 1), "ratio": round(b / a, 2),
            "conversations": conversations}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,10,50")
    parser.add_argument("--turns", type=int, default=30, help="turns per conversation in the load runs")
    parser.add_argument("--paced", type=int, default=10,
                        help="conversations in the paced run (citizens pause 1-3 s between turns)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]

    train(force=False)
    bare_seconds = train_bare()
    pool = user_turns()
    figures: Dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/bench.db"
        env = dict(os.environ, ONEWINDOW_DATABASE_URL=database_url)
        subprocess.run([sys.executable, "-m", "bot.cli", "setup"], cwd=ROOT, env=env, check=True, capture_output=True)

        settings = Settings(host="127.0.0.1", desk_port=free_port(), rasa_port=free_port(), actions_port=free_port(),
                            rasa_token="bench", tracker_db=f"{tmp}/tracker-full.db")
        full_env = settings.environment()
        full_env["ONEWINDOW_DATABASE_URL"] = database_url
        parts = components(settings, str(MODEL_PATH))[:2]  # action server and Rasa server
        full = Server("full bot", [p.command for p in parts], full_env, f"http://127.0.0.1:{settings.rasa_port}", Path(tmp) / "full.log")

        bare_port = free_port()
        # credentials.yml names the WeChat/WeCom variables: empty defaults, as `onewindow run` gives.
        bare_env = {**empty_channel_environment(), **os.environ, "ONEWINDOW_TRACKER_DB": f"{tmp}/tracker-bare.db",
                    "TF_CPP_MIN_LOG_LEVEL": "2"}
        # The product's server start-up (bot.rasa_server), with the bare model.
        bare_cmd = [sys.executable, "-m", "bot.rasa_server", "run", "--model", str(BARE_MODEL), "--port", str(bare_port),
                    "--interface", "127.0.0.1", "--credentials", str(ROOT / "bot" / "credentials.yml"),
                    "--endpoints", str(BARE_DIR / "endpoints.yml")]
        bare = Server("bare bot", [bare_cmd], bare_env, f"http://127.0.0.1:{bare_port}", Path(tmp) / "bare.log")
        try:
            full.wait()
            bare.wait()
            servers = [bare, full]
            for server in servers:
                # Steady state, not a cold start: each question of the pool asked once (the full
                # bot's rendered answers and search caches, TensorFlow's traces for new shapes).
                asyncio.run(load(server.url, 1, len(pool), pool, "warmup"))
                figures[server.name] = {}
            for level in levels:
                for name, result in side_by_side(servers, level, args.turns, pool).items():
                    figures[name][f"c{level}"] = result
            for server in servers:
                result = figures[server.name]
                result["paced"] = asyncio.run(load(server.url, args.paced, args.turns, pool, server.name[:4] + "-paced",
                                                   paced=True))
                result["long"] = asyncio.run(long_conversation(server.url, pool, server.name[:4]))
                result["memory_mb"] = round(server.memory(), 0)
        finally:
            full.stop()
            bare.stop()

    training = TRAINING_TIME_PATH.read_text().strip() if TRAINING_TIME_PATH.exists() else "unknown"
    print("conversation benchmark (REST channel, this machine)")
    print(f"  training time of the product model: {training} s" + (f"; bare model trained in {bare_seconds:.0f} s" if bare_seconds else ""))
    for name, result in figures.items():
        print(f"  {name}: server memory {result['memory_mb']:.0f} MB")
        for level in levels:
            r = result[f"c{level}"]
            print(f"    {level:>2} concurrent: p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  {r['throughput_tps']} turns/s  ({r['turns']} turns)")
        r = result["paced"]
        print(f"    {args.paced} conversations at a citizen's pace (1-3 s between turns): p50 {r['p50_ms']} ms  "
              f"p95 {r['p95_ms']} ms  ({r['turns']} turns)")
        lg = result["long"]
        print(f"    {lg['conversations']} long conversations: median of turns 1-5 {lg['turns_1_5_ms']} ms, "
              f"of turns 46-50 {lg['turns_46_50_ms']} ms (x{lg['ratio']})")
    if "full bot" in figures and "bare bot" in figures:
        for level in levels:
            f, b = figures["full bot"][f"c{level}"], figures["bare bot"][f"c{level}"]
            each = ", ".join(f"{x / y * 100:.0f}%" for x, y in zip(f["rounds_tps"], b["rounds_tps"]))
            print(f"  full/bare throughput at {level} concurrent: {f['throughput_tps'] / b['throughput_tps'] * 100:.0f}%"
                  f" (rounds: {each})")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
