"""The colloquial vocabulary (口语/俗称 -> formal terms), kept as data in knowledge/lexicon/.

Format of colloquial.tsv: `colloquial<TAB>formal|formal<TAB>optional domain tag`; `#` comments.
A query is expanded with the formal terms of every colloquial term found in it (leftmost-longest,
non-overlapping), so 驾照 finds 机动车驾驶证 and 办好没有 finds 进度查询.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from knowledge.search.text import LEXICON_DIR, normalize

DEFAULT_PATH = LEXICON_DIR / "colloquial.tsv"
WHOLE_WORD_PATH = LEXICON_DIR / "actions.tsv"
DEPARTMENTS_PATH = LEXICON_DIR / "departments.tsv"


class LexiconError(ValueError):
    pass


@dataclass(frozen=True)
class Expansion:
    colloquial: str  # the text found in the query
    formal: Tuple[str, ...]
    start: int
    end: int


class Lexicon:
    """`entries` match anywhere in a query; `whole_words` only as whole jieba tokens."""

    def __init__(
        self,
        entries: Dict[str, Tuple[str, ...]],
        whole_words: Optional[Dict[str, Tuple[str, ...]]] = None,
        departments: Optional[Dict[str, Tuple[str, ...]]] = None,
    ):
        self.entries = entries
        self.whole_words = whole_words or {}
        self.departments = departments or {}
        keys = sorted(entries, key=len, reverse=True)
        self._pattern: Optional[re.Pattern] = (
            re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        )

    @classmethod
    def load(
        cls,
        path: Path | str = DEFAULT_PATH,
        whole_word_path: Optional[Path | str] = None,
        departments_path: Optional[Path | str] = None,
    ) -> "Lexicon":
        whole = _read_tsv(Path(whole_word_path)) if whole_word_path else {}
        departments = _read_tsv(Path(departments_path), keep_self=True) if departments_path else {}
        return cls(_read_tsv(Path(path)), whole, departments)

    def expansions(self, text: str) -> List[Expansion]:
        """Colloquial terms in normalised `text`, leftmost-longest and non-overlapping."""
        if self._pattern is None:
            return []
        return [
            Expansion(m.group(0), self.entries[m.group(0)], m.start(), m.end())
            for m in self._pattern.finditer(text)
        ]

    def word_expansion(self, token: str) -> Tuple[str, ...]:
        """Formal terms for a whole token (action words such as 查, 换, 补)."""
        return self.whole_words.get(token, ())

    def terms(self) -> List[str]:
        """Every colloquial and formal term (for the segmenter's user dictionary)."""
        out = set(self.entries)
        for table in (self.entries, self.whole_words):
            for formal in table.values():
                out.update(formal)
        return sorted(out)

    def __len__(self) -> int:
        return len(self.entries) + len(self.whole_words)


def _read_tsv(path: Path, keep_self: bool = False) -> Dict[str, Tuple[str, ...]]:
    entries: Dict[str, List[str]] = {}
    problems = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = raw.rstrip("\n").split("\t")
        if len(fields) < 2 or not fields[0].strip():
            problems.append(f"{path}:{number}: expected 'colloquial<TAB>formal|formal'")
            continue
        key = normalize(fields[0])
        formal = [normalize(f) for f in fields[1].split("|") if f.strip()]
        if not formal:
            problems.append(f"{path}:{number}: no formal term for {key}")
            continue
        merged = entries.setdefault(key, [])
        merged.extend(f for f in formal if f not in merged and (keep_self or f != key))
    if problems:
        raise LexiconError("\n".join(problems))
    return {k: tuple(v) for k, v in entries.items() if v}


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    if not DEFAULT_PATH.exists():
        return Lexicon({})
    return Lexicon.load(
        DEFAULT_PATH,
        WHOLE_WORD_PATH if WHOLE_WORD_PATH.exists() else None,
        DEPARTMENTS_PATH if DEPARTMENTS_PATH.exists() else None,
    )
