"""Department mentions in a query (去税务局报停, 派出所开证明): which departments they name.

Built from the catalogue's own department names, short names and aliases, plus the vocabulary of
how people name departments (knowledge/lexicon/departments.tsv: 看守所 -> 公安). Matching is a
leftmost-longest scan with one compiled pattern. (A spaCy EntityRuler would do the same match,
but importing spaCy here pulls in TensorFlow: about 3 s and 600 MB per process for a phrase
lookup that takes microseconds this way.)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from knowledge.search.documents import SearchDocument
from knowledge.search.lexicon import Lexicon
from knowledge.search.text import normalize


INSTITUTION_SUFFIXES = ("局", "所", "中心", "厅", "处", "院", "委", "办", "队", "站", "会", "馆", "部", "大厅", "窗口", "分局", "联")


def is_institution(mention: str) -> bool:
    """税务局, 派出所, 社保中心: an institution, not a topic (医保, 公积金, 税务)."""
    return mention.endswith(INSTITUTION_SUFFIXES)


@dataclass(frozen=True)
class Mention:
    text: str
    start: int
    end: int
    departments: Tuple[str, ...]


class DepartmentMentions:
    def __init__(self, documents: Sequence[SearchDocument], lexicon: Lexicon):
        names = sorted({doc.department for doc in documents})
        table: Dict[str, Set[str]] = {}
        for doc in documents:
            for mention in (doc.department, doc.department_short, *doc.department_aliases):
                if mention and len(normalize(mention)) >= 2:
                    table.setdefault(normalize(mention), set()).add(doc.department)
        for mention, keywords in lexicon.departments.items():
            matched = {name for name in names if any(k in name for k in keywords)}
            if matched and len(mention) >= 2:
                table.setdefault(mention, set()).update(matched)
        self.table = {k: tuple(sorted(v)) for k, v in table.items()}
        keys = sorted(self.table, key=len, reverse=True)
        self._pattern: Optional[re.Pattern] = re.compile("|".join(map(re.escape, keys))) if keys else None
        positions: Dict[str, List[int]] = {}
        for i, doc in enumerate(documents):
            positions.setdefault(doc.department, []).append(i)
        self._docs = {name: np.asarray(idx, dtype=np.int64) for name, idx in positions.items()}

    def find(self, text: str) -> List[Mention]:
        if self._pattern is None:
            return []
        return [Mention(m.group(0), m.start(), m.end(), self.table[m.group(0)]) for m in self._pattern.finditer(text)]

    def documents_of(self, mentions: Sequence[Mention]) -> np.ndarray:
        """Indices of the documents whose department any mention names."""
        departments = {d for m in mentions for d in m.departments}
        arrays = [self._docs[d] for d in departments if d in self._docs]
        return np.unique(np.concatenate(arrays)) if arrays else np.zeros(0, dtype=np.int64)
