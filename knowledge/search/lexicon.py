"""The colloquial vocabulary (口语/俗称 -> formal terms), kept as data in knowledge/lexicon/.

Format of colloquial.tsv: `colloquial<TAB>formal|formal<TAB>optional domain tag`; `#` comments.
A query is expanded with the formal terms of every colloquial term found in it (leftmost-longest,
non-overlapping), so 驾照 finds 机动车驾驶证 and 办好没有 finds 进度查询.

A colloquial term may have gaps, written `…` (转…读书, 户口…迁): its parts in that order, each gap
at most GAP characters within one sentence, since people put words between a verb and its object
(转到龙岗读书, 户口想迁到深圳).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from knowledge.search.text import LEXICON_DIR, normalize

DEFAULT_PATH = LEXICON_DIR / "colloquial.tsv"
WHOLE_WORD_PATH = LEXICON_DIR / "actions.tsv"
DEPARTMENTS_PATH = LEXICON_DIR / "departments.tsv"


class LexiconError(ValueError):
    pass


GAP = 8  # most characters between the parts of a term with gaps
GAP_MARK = "..."  # `…` after normalisation
_GAP_FILL = "[^。？！?!;；]{0,%d}?" % GAP


@dataclass(frozen=True)
class Expansion:
    colloquial: str  # the text found in the query (for a term with gaps, the term)
    formal: Tuple[str, ...]
    start: int
    end: int
    parts: Tuple[Tuple[int, int], ...] = ()  # a term with gaps: where its parts are

    @property
    def spans(self) -> Tuple[Tuple[int, int], ...]:
        return self.parts or ((self.start, self.end),)


class Lexicon:
    """`entries` match anywhere in a query; `whole_words` only as whole jieba tokens."""

    def __init__(
        self,
        entries: Dict[str, Tuple[str, ...]],
        whole_words: Optional[Dict[str, Tuple[str, ...]]] = None,
        departments: Optional[Dict[str, Tuple[str, ...]]] = None,
    ):
        self.entries = {k: v for k, v in entries.items() if GAP_MARK not in k}
        self.gapped = {k: v for k, v in entries.items() if GAP_MARK in k}
        self.whole_words = whole_words or {}
        self.departments = departments or {}
        keys = sorted(self.entries, key=len, reverse=True)
        self._gapped = [
            (key, re.compile(_GAP_FILL.join("(%s)" % re.escape(p) for p in key.split(GAP_MARK))))
            for key in sorted(self.gapped, key=len, reverse=True)
            if all(key.split(GAP_MARK))
        ]
        self._lengths = sorted({len(k) for k in keys}, reverse=True)
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

    def expansions(self, text: str, words: Optional[Sequence[Tuple[int, int]]] = None) -> List[Expansion]:
        """Colloquial terms in normalised `text`, leftmost-longest and non-overlapping, then the
        terms with gaps (which may overlap them).

        With `words` (the spans of the text's words), a term that cuts a word in two is not a
        match: 国考 (the civil-service exam) is not in 外国考察团 (外国/考察团), 低保 is in 吃低保."""
        found = self._contiguous(text, words)
        for key, pattern in self._gapped:
            m = pattern.search(text)
            if m is not None:
                parts = tuple(m.span(i) for i in range(1, (m.lastindex or 0) + 1))
                found.append(Expansion(key, self.gapped[key], m.start(), m.end(), parts))
        return found

    def _contiguous(self, text: str, words: Optional[Sequence[Tuple[int, int]]]) -> List[Expansion]:
        if self._pattern is None:
            return []
        if not words:
            return [
                Expansion(m.group(0), self.entries[m.group(0)], m.start(), m.end())
                for m in self._pattern.finditer(text)
            ]
        found: List[Expansion] = []
        position = 0
        while position < len(text):
            m = self._pattern.search(text, position)
            if m is None:
                break
            start = m.start()
            match = None
            for length in self._lengths:
                end = start + length
                if end <= len(text) and text[start:end] in self.entries and not _cuts_a_word(start, end, words):
                    match = text[start:end]
                    break
            if match is None:
                position = start + 1
                continue
            found.append(Expansion(match, self.entries[match], start, start + len(match)))
            position = start + len(match)
        return found

    def word_expansion(self, token: str) -> Tuple[str, ...]:
        """Formal terms for a whole token (action words such as 查, 换, 补)."""
        return self.whole_words.get(token, ())

    def terms(self) -> List[str]:
        """Every colloquial and formal term (for the segmenter's user dictionary)."""
        out = set(self.entries)
        for table in (self.entries, self.gapped, self.whole_words):
            for formal in table.values():
                out.update(formal)
        return sorted(out)

    def __len__(self) -> int:
        return len(self.entries) + len(self.gapped) + len(self.whole_words)


def _cuts_a_word(start: int, end: int, words: Sequence[Tuple[int, int]]) -> bool:
    """A span [start, end) that begins inside one word and ends inside another (外国|考察 for
    国考): it straddles two words and belongs to neither. A span cut on one side only is kept
    (商务|签证延期 for 商务签证): segmentation often glues a following word on."""
    cuts_start = any(a < start < b < end for a, b in words)
    cuts_end = any(start < a < end < b for a, b in words)
    return cuts_start and cuts_end


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
