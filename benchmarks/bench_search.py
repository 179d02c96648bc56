"""Search benchmark: `make bench` runs it and prints its figures.

Measures, on one core:
- importing the real 2,262-record provincial export into a fresh SQLite database;
- building the search index from that database, and query latency (p50/p95/p99) over it;
- a synthetic scale-up of the real catalogue to 100,000 services (every real record repeated
  with a city/district and variant qualifier, so vocabulary and name shapes stay real): index
  build time, query latency, and the process's peak memory.
Queries are the project's own query files plus the shared dev set, each asked several times.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
CATALOGUE = SHARED / "catalogues" / "guangdong-2262.jsonl"
QUERY_FILES = [
    SHARED / "eval" / "guangdong-dev-queries.tsv",
    ROOT / "data" / "eval" / "guangdong-heldout-queries.tsv",
    ROOT / "data" / "eval" / "longgang-queries.tsv",
]
CITIES = ["广州市", "深圳市", "珠海市", "汕头市", "佛山市", "韶关市", "河源市", "梅州市", "惠州市", "汕尾市",
          "东莞市", "中山市", "江门市", "阳江市", "湛江市", "茂名市", "肇庆市", "清远市", "潮州市", "揭阳市", "云浮市"]
DISTRICTS = ["", "越秀区", "海珠区", "天河区", "白云区", "黄埔区", "番禺区", "花都区", "南沙区", "从化区", "增城区",
             "福田区", "罗湖区", "南山区", "宝安区", "龙岗区", "盐田区", "龙华区", "坪山区", "光明区"]
QUALIFIERS = ["", "", "", "（个人）", "（企业）", "（首次）", "（变更）", "（注销）", "（补发）", "（延续）"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1)))))
    return ordered[k]


def load_queries():
    queries = []
    for path in QUERY_FILES:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    queries.append(line.split("\t")[0])
    return queries or ["护照过期了想换新的", "办个港澳通行证", "低保怎么申请", "驾照到期换证", "开公司要什么材料"]


def measure_queries(engine, queries, rounds):
    for q in queries[:20]:  # warm caches
        engine.search(q, limit=10)
    timings = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            engine.search(q, limit=10)
            timings.append((time.perf_counter() - started) * 1000.0)
    return {
        "queries": len(timings),
        "p50_ms": round(percentile(timings, 50), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "mean_ms": round(statistics.mean(timings), 2),
    }


def scale_up(documents, target, seed=7):
    from knowledge.search.documents import SearchDocument

    rng = random.Random(seed)
    out = list(documents)
    i = 0
    while len(out) < target:
        doc = documents[i % len(documents)]
        i += 1
        city = rng.choice(CITIES)
        district = rng.choice(DISTRICTS) if city in ("广州市", "深圳市") else ""
        qualifier = rng.choice(QUALIFIERS)
        dept = doc.department.replace("广东省", city + district).replace("广州市", city + district)
        out.append(
            SearchDocument(
                code=f"SYN{len(out):08d}",
                name=f"{doc.name}{qualifier}",
                department=dept,
                parent_code=f"SYN-{doc.parent_code}-{city}" if doc.parent_code else None,
                parent_name=doc.parent_name,
                variant=doc.variant,
                short_name=doc.short_name,
                aliases=doc.aliases,
                themes=doc.themes,
                body=doc.body,
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000, help="synthetic catalogue size")
    parser.add_argument("--rounds", type=int, default=5, help="times each query is asked")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    if not CATALOGUE.exists():
        print(f"error: {CATALOGUE} not found (the shared catalogue sits beside the repository)", file=sys.stderr)
        return 1

    from database.engine import make_session
    from database.migrate import upgrade
    from knowledge.importers import import_path
    from knowledge.search.documents import load_documents
    from knowledge.search.engine import SearchEngine

    figures = {}
    queries = load_queries()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        with make_session(url) as session:
            started = time.perf_counter()
            report = import_path(session, CATALOGUE)
            session.commit()
            figures["import_2262_s"] = round(time.perf_counter() - started, 2)
            figures["import_failed"] = report.failed
            started = time.perf_counter()
            documents = load_documents(session)
            figures["load_documents_2262_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    engine = SearchEngine(documents)
    figures["index_build_2262_s"] = round(time.perf_counter() - started, 2)
    figures["latency_2262"] = measure_queries(engine, queries, args.rounds)
    figures["peak_rss_after_2262_mb"] = round(peak_rss_mb(), 1)

    big = scale_up(documents, args.scale)
    del engine
    gc.collect()
    started = time.perf_counter()
    engine = SearchEngine(big)
    figures[f"index_build_{args.scale}_s"] = round(time.perf_counter() - started, 2)
    figures[f"index_bytes_{args.scale}_mb"] = round(
        (engine.words.nbytes() + engine.chars.nbytes() + engine.body.nbytes()) / 2**20, 1
    )
    figures[f"latency_{args.scale}"] = measure_queries(engine, queries, max(1, args.rounds // 2))
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)

    print("search benchmark (one core)")
    print(f"  import 2,262 real records into SQLite: {figures['import_2262_s']} s ({figures['import_failed']} failed)")
    print(f"  load documents from the database:     {figures['load_documents_2262_s']} s")
    print(f"  index build, 2,262 services:          {figures['index_build_2262_s']} s")
    lat = figures["latency_2262"]
    print(f"  query latency at 2,262:   p50 {lat['p50_ms']} ms  p95 {lat['p95_ms']} ms  p99 {lat['p99_ms']} ms  ({lat['queries']} queries)")
    print(f"  index build, {args.scale:,} services:       {figures[f'index_build_{args.scale}_s']} s "
          f"(index arrays {figures[f'index_bytes_{args.scale}_mb']} MB)")
    lat = figures[f"latency_{args.scale}"]
    print(f"  query latency at {args.scale:,}: p50 {lat['p50_ms']} ms  p95 {lat['p95_ms']} ms  p99 {lat['p99_ms']} ms  ({lat['queries']} queries)")
    print(f"  peak memory (RSS) of the process:     {figures['peak_rss_mb']} MB")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
