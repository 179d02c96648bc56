"""Search quality: top-1 and top-3 accuracy over a query file.

File format (as ../shared/eval/guangdong-dev-queries.tsv): `query<TAB>regex` per line, `#` comments;
a result counts as correct when re.search(regex, service name) matches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Tuple

from knowledge.search.engine import SearchEngine


class QueryFileError(ValueError):
    pass


@dataclass
class Miss:
    query: str
    expected: str
    got: List[str]
    rank: int  # 0 when not in the top results


@dataclass
class EvalReport:
    total: int
    top1: float
    top3: float
    misses: List[Miss] = field(default_factory=list)

    def summary(self) -> str:
        return f"queries={self.total} top1={self.top1:.3f} top3={self.top3:.3f}"


def load_queries(path: Path | str) -> List[Tuple[str, re.Pattern]]:
    path = Path(path)
    queries, problems = [], []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            problems.append(f"{path}:{number}: expected 'query<TAB>regex'")
            continue
        try:
            queries.append((parts[0].strip(), re.compile(parts[1].strip())))
        except re.error as exc:
            problems.append(f"{path}:{number}: bad regex: {exc}")
    if problems:
        raise QueryFileError("\n".join(problems))
    if not queries:
        raise QueryFileError(f"{path}: no queries")
    return queries


def evaluate(engine: SearchEngine, queries: List[Tuple[str, re.Pattern]], depth: int = 3) -> EvalReport:
    top1 = top3 = 0
    misses: List[Miss] = []
    for query, pattern in queries:
        names = [hit.name for hit in engine.search(query, limit=max(depth, 3)).hits]
        rank = next((i + 1 for i, name in enumerate(names) if pattern.search(name)), 0)
        top1 += rank == 1
        top3 += 1 <= rank <= 3
        if rank != 1:
            misses.append(Miss(query, pattern.pattern, names[:3], rank))
    n = len(queries)
    return EvalReport(total=n, top1=top1 / n, top3=top3 / n, misses=misses)
