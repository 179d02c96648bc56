"""Chinese text handling for search: normalisation, jieba segmentation, character n-grams.

One `Segmenter` per index: its own jieba.Tokenizer with a user dictionary generated from the
catalogue (service names' recurring parts, aliases, department names, vocabulary terms), so
domain terms stay whole (往来港澳通行证, 住房公积金) and the global jieba state is untouched.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, List, Sequence

import jieba

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicon"

_SEPARATORS = re.compile(r"[\s,，。.;；:：!！?？、/\\|()（）\[\]【】《》<>“”\"'‘’「」『』·…\-—_+=~～*#@&%$^`]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD_CHARS = re.compile(r"[\u3400-\u9fffa-z0-9]")

jieba.setLogLevel(logging.WARNING)


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lower case, collapse white space."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", " ", text).strip()


def chunks(text: str) -> List[str]:
    """Split normalised text on punctuation and spaces into contiguous runs."""
    return [part for part in _SEPARATORS.split(text) if part]


def char_ngrams(text: str, n: int = 2) -> List[str]:
    """Character n-grams inside each chunk (never across punctuation). A one-character chunk
    yields itself, so single-character queries still match."""
    grams: List[str] = []
    for part in chunks(text):
        if len(part) < n:
            grams.append(part)
        else:
            grams.extend(part[i : i + n] for i in range(len(part) - n + 1))
    return grams


@lru_cache(maxsize=1)
def stopwords() -> frozenset:
    path = LEXICON_DIR / "stopwords.txt"
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(normalize(line))
    return frozenset(words)


@lru_cache(maxsize=1)
def qualifiers() -> frozenset:
    """Action words that change what a service does (lexicon/qualifiers.txt)."""
    path = LEXICON_DIR / "qualifiers.txt"
    return frozenset(
        normalize(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
    )


class Segmenter:
    """jieba with a catalogue user dictionary. `words()` gives search-mode tokens (compound words
    plus their dictionary sub-words), without punctuation."""

    def __init__(self, user_words: Iterable[str] = ()):
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()
        self.user_words: List[str] = []
        for word in sorted(set(user_words)):
            word = normalize(word)
            if 2 <= len(word) <= 12 and _CJK.search(word) and " " not in word:
                # A frequency high enough to win over the default dictionary's splits.
                self._tokenizer.add_word(word, freq=max(self._tokenizer.suggest_freq(word), 50))
                self.user_words.append(word)
        self._cache: dict = {}

    def words(self, text: str) -> List[str]:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        tokens = [
            token
            for part in chunks(text)
            for token in self._tokenizer.cut_for_search(part, HMM=True)
            if _WORD_CHARS.search(token)
        ]
        if len(self._cache) < 200_000:
            self._cache[text] = tokens
        return tokens

    def cut(self, text: str) -> List[str]:
        """Plain (accurate mode) segmentation, for callers that need one token per span."""
        return [t for part in chunks(text) for t in self._tokenizer.cut(part, HMM=True) if _WORD_CHARS.search(t)]


def content_words(words: Sequence[str]) -> List[str]:
    """Drop the words that say how someone asks rather than what about."""
    stop = stopwords()
    return [w for w in words if w not in stop]
