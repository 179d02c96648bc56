"""ID numbers never enter the conversation store in clear.

Every incoming message passes `seal_id_numbers()` before Rasa sees it (bot/rasa_server.py wraps
Rasa's UserMessage, so it holds for every channel): an 18-character ID number becomes
`〔证件号 4403**********1234 #v1:…〕`, its masked form plus the number encrypted with the
deployment's identity key (filings/identity.py). NLU, the tracker store, logs, transcripts and
the action server only ever see that; the filing actions open it with `opened_id_numbers()`.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List

# 6 + 8 + 3 digits and a digit or X, optionally grouped with spaces or hyphens, standing alone.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{6})[ \-]?(\d{8})[ \-]?(\d{3}[\dXx])(?![0-9A-Za-z])")
_SEALED = re.compile(r"〔证件号 (\S+) #(v1:[A-Za-z0-9_\-=]+)〕")


def seal_id_numbers(text: str) -> str:
    if not isinstance(text, str) or not text:
        return text
    normalized = unicodedata.normalize("NFKC", text)
    if not _ID_LIKE.search(normalized):
        return text
    from filings.identity import mask_id_number, seal

    def sealed(match: re.Match) -> str:
        number = "".join(match.groups()).upper()
        return f"〔证件号 {mask_id_number(number)} #{seal(number)}〕"

    return _ID_LIKE.sub(sealed, normalized)


def opened_id_numbers(text: str) -> List[str]:
    """The clear ID numbers sealed in a message, in order (those that cannot be opened are skipped)."""
    if not isinstance(text, str):
        return []
    from filings.errors import FilingError
    from filings.identity import unseal

    numbers = []
    for match in _SEALED.finditer(text):
        try:
            numbers.append(unseal(match.group(2)))
        except (FilingError, ValueError):
            continue
    return numbers


def has_sealed_id(text: str) -> bool:
    return isinstance(text, str) and bool(_SEALED.search(text))


def without_sealed_ids(text: str) -> str:
    """The message with sealed numbers shown masked only (for transcripts and search)."""
    if not isinstance(text, str):
        return text
    return _SEALED.sub(lambda m: m.group(1), text)
