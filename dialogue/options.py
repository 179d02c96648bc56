"""Picking one of the options offered: a number, a Chinese ordinal, or words naming it."""
from __future__ import annotations

import re
from typing import Callable, List, Optional, Sequence

from knowledge.search.text import char_ngrams, normalize

_CHINESE_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ORDINAL = re.compile(r"第\s*([0-9]+|[一二两三四五六七八九十])\s*(个|种|项|条|类)?")
_DIGIT = re.compile(r"^\D{0,4}?([0-9]{1,2})\D{0,4}$")
_BARE_CHINESE = re.compile(r"^(选|要|就)?([一二两三四五])(个|号)?(吧|啊|呀)?$")
_FIRST = ("头一个", "第一个", "上面那个", "上面的", "最上面", "前面那个")
_LAST = ("最后一个", "最后那个", "最后的", "最下面", "最后一项")


def _number(token: str) -> Optional[int]:
    if token.isdigit():
        return int(token)
    return _CHINESE_NUMBERS.get(token)


def ordinal_choice(text: str, count: int) -> Optional[int]:
    """0-based index named by a number or ordinal in `text`, or None."""
    t = normalize(text).replace(" ", "")
    if not t or count <= 0:
        return None
    if any(word in t for word in _LAST):
        return count - 1
    index: Optional[int] = None
    match = _ORDINAL.search(t)
    if match:
        index = _number(match.group(1))
    else:
        match = _DIGIT.match(t) or _BARE_CHINESE.match(t)
        if match:
            index = _number(match.groups()[-1] if match.re is _DIGIT else match.group(2))
        elif any(word in t for word in _FIRST):
            index = 1
    if index is not None and 1 <= index <= count:
        return index - 1
    return None


def word_choice(text: str, names: Sequence[str], rank: Optional[Callable[[str], List[str]]] = None) -> Optional[int]:
    """The option whose name the words fit best (个体户那个): first by `rank` (the search engine
    over the options), then by shared bigrams; None when nothing fits or it is a tie."""
    t = normalize(text)
    if rank is not None:
        for name in rank(t):
            if name in names:
                return list(names).index(name)
    grams = {g for g in char_ngrams(t) if len(g) == 2}
    if not grams:
        return None
    scores = [len(grams & {g for g in char_ngrams(normalize(n)) if len(g) == 2}) for n in names]
    best = max(scores)
    if best == 0 or scores.count(best) > 1:
        return None
    return scores.index(best)
