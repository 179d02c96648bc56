"""`onewindow kb search` and `onewindow kb eval`."""
from __future__ import annotations

import json
import sys
import time

from knowledge.search import default_service


def _print_hits(result, as_json: bool) -> None:
    if as_json:
        print(json.dumps([hit.to_dict() for hit in result.hits], ensure_ascii=False), flush=True)
        return
    if not result.hits:
        print("no matching service")
        return
    for rank, hit in enumerate(result.hits, start=1):
        kind = " [bundle]" if hit.kind == "bundle" else ""
        print(f"{rank:2d}. {hit.score:.3f}  {hit.name}{kind}  ({hit.department}; {hit.code})")
    if result.variant_group:
        group = result.variant_group
        print(f"note: the leading results are variants of {group.parent_name}; ask which case applies")


def run_search(query: str, limit: int, as_json: bool) -> int:
    if limit < 1 or limit > 100:
        print("error: --limit must be between 1 and 100", file=sys.stderr)
        return 2
    service = default_service()
    if query == "-":
        for line in sys.stdin:
            line = line.rstrip("\n")
            result = service.search(line, limit=limit) if line.strip() else None
            if as_json:
                print(json.dumps([h.to_dict() for h in result.hits] if result else [], ensure_ascii=False), flush=True)
            elif result:
                print(f"# {line}")
                _print_hits(result, as_json=False)
        return 0
    if not query.strip():
        print("error: the query is empty", file=sys.stderr)
        return 2
    _print_hits(service.search(query, limit=limit), as_json)
    return 0


def run_eval(path: str, limit: int) -> int:
    from knowledge.search.evaluation import QueryFileError, evaluate, load_queries

    try:
        queries = load_queries(path)
    except FileNotFoundError:
        print(f"error: no such query file: {path}", file=sys.stderr)
        return 2
    except QueryFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = default_service().engine
    started = time.perf_counter()
    report = evaluate(engine, queries, depth=max(3, limit))
    elapsed = time.perf_counter() - started
    for miss in report.misses:
        where = f"rank {miss.rank}" if miss.rank else "not in top 3"
        print(f"MISS ({where}) {miss.query}  expected {miss.expected}  got {miss.got}")
    print(f"{path}: {report.summary()} ({elapsed / report.total * 1000:.1f} ms/query)")
    return 0
