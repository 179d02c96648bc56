"""Staff desk lookup benchmark: latency of the lookup endpoints as a clerk uses them.

For the default catalogue and for the real 2,262-record Guangdong export, each imported into a
temporary SQLite database, a desk app is served on a free port (uvicorn, in this process) and a
signed-in clerk calls over HTTP:
- search as you type: GET /api/v1/staff/lookup/search for every prefix of the project's queries
  (what the page sends while the clerk types);
- the full guide: GET /api/v1/staff/lookup/services/{code} for a sample of services;
- the printable checklist: GET /staff/checklist/{code} (server-rendered HTML) for the same sample.
Prints p50/p95/p99 per endpoint and catalogue (milliseconds, client and server in one process).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["ONEWINDOW_SWEEP_INTERVAL"] = "0"  # no deadline sweeps during the measurement

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import CATALOGUE as GUANGDONG, load_queries, percentile  # noqa: E402

DEFAULT = ROOT / "data" / "catalogue"
PASSWORD = "Bench-staff-2026!"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _figures(timings):
    return {
        "requests": len(timings),
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "mean_ms": round(statistics.mean(timings), 2),
    }


def _timed(client, path, params=None, expect=200):
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000.0
    if response.status_code != expect:
        raise RuntimeError(f"GET {path}: HTTP {response.status_code} {response.text[:200]}")
    return elapsed


def measure(source: Path, prefixes, samples: int, rounds: int, seed: int = 7) -> dict:
    import httpx
    import uvicorn
    from sqlalchemy import select

    from database import make_session
    from database.engine import get_engine
    from database.migrate import upgrade
    from desk.app import create_app
    from knowledge.importers import import_path
    from knowledge.models import Service
    from staffdesk import accounts

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        with make_session(url) as session:
            started = time.perf_counter()
            report = import_path(session, source)
            session.commit()
            figures["import_s"] = round(time.perf_counter() - started, 2)
            if report.failed:
                raise RuntimeError(report.summary())
            figures["services"] = session.query(Service).count()
            codes = list(session.execute(select(Service.code).order_by(Service.id)).scalars())
            accounts.create_account(session, "bench.clerk", "基准测试", "clerk", PASSWORD)
            session.commit()
        sample = random.Random(seed).sample(codes, min(samples, len(codes)))

        app = create_app(url)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
        thread = threading.Thread(target=server.run, name="bench-desk", daemon=True)
        started = time.perf_counter()
        thread.start()
        while not server.started:  # the startup builds the search index
            if not thread.is_alive():
                raise RuntimeError("the desk app did not start")
            time.sleep(0.05)
        figures["startup_s"] = round(time.perf_counter() - started, 2)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-Requested-With": "onewindow"},
                              timeout=30) as client:
                login = client.post("/api/v1/staff/login", json={"username": "bench.clerk", "password": PASSWORD})
                login.raise_for_status()
                for prefix in prefixes[:20]:  # warm up
                    client.get("/api/v1/staff/lookup/search", params={"q": prefix})
                search = [_timed(client, "/api/v1/staff/lookup/search", {"q": prefix, "limit": 12})
                          for _ in range(rounds) for prefix in prefixes]
                guide = [_timed(client, f"/api/v1/staff/lookup/services/{code}") for _ in range(rounds) for code in sample]
                checklist = [_timed(client, f"/staff/checklist/{code}") for _ in range(rounds) for code in sample]
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            get_engine(url).dispose()
    figures["search"] = _figures(search)
    figures["guide"] = _figures(guide)
    figures["checklist"] = _figures(checklist)
    return figures


def typed_prefixes(queries):
    """Every prefix of every query, as the page sends them while the clerk types."""
    out = []
    for query in queries:
        query = query.strip()
        out.extend(query[:n] for n in range(1, len(query) + 1))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=120, help="queries whose prefixes are typed")
    parser.add_argument("--samples", type=int, default=150, help="services whose guide and checklist are fetched")
    parser.add_argument("--rounds", type=int, default=2, help="times each request is made")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    import logging

    logging.disable(logging.INFO)  # the index build logs; the figures are the output
    queries = load_queries()
    random.Random(11).shuffle(queries)
    prefixes = typed_prefixes(queries[: args.queries])
    catalogues = [("default catalogue (sample)", DEFAULT)]
    if GUANGDONG.exists():
        catalogues.append(("Guangdong export", GUANGDONG))
    else:
        print(f"note: {GUANGDONG} not found, measuring the default catalogue only", file=sys.stderr)

    results = {}
    print("staff lookup benchmark (HTTP, client and server in one process)")
    for label, source in catalogues:
        figures = measure(source, prefixes, args.samples, args.rounds)
        results[label] = figures
        print(f"  {label}: {figures['services']:,} services, import {figures['import_s']} s, "
              f"desk start {figures['startup_s']} s")
        for name, title in (("search", "search as you type"), ("guide", "full guide"), ("checklist", "checklist page")):
            f = figures[name]
            print(f"    {title:<19} p50 {f['p50_ms']:>6} ms  p95 {f['p95_ms']:>6} ms  p99 {f['p99_ms']:>6} ms"
                  f"  ({f['requests']} requests)")
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
