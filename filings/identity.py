"""Personal identifiers: validation, masking, keyed hashes for matching, sealing at rest, and
keeping them out of logs.

- ID numbers (居民身份证号码) are checked against GB 11643-1999: 6-digit region code, birth date,
  sequence code, and the ISO 7064 MOD 11-2 check character.
- Mobile numbers are mainland numbers: 11 digits starting 13-19 (+86 / 0086 prefixes accepted).
- Shown masked: `4403**********1234`, `138****5678`, `张*`.
- Matched by a keyed hash (HMAC-SHA256), so the database can find a person without an index of
  clear numbers; stored sealed (AES-256-GCM) so the handling department can read them.
- Both keys derive from one secret: ONEWINDOW_IDENTITY_KEY, or else a random key generated once
  in var/identity.key (mode 600). Back that secret up: without it stored numbers can neither be
  read nor matched. Every process of a deployment must use the same secret.
- `redact()` masks anything that looks like an ID or mobile number in free text;
  `install_log_redaction()` makes every log record of the process go through it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Optional

from filings.errors import ConfigurationError, InvalidInput

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KEY_FILE = PROJECT_ROOT / "var" / "identity.key"

# GB 11643-1999: weights of the first 17 digits and the check character for each remainder.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# First two digits: provinces (GB/T 2260), plus 71 台湾, 81 香港, 82 澳门 (居住证 numbers), 83 (港澳台居民居住证 of Taiwan).
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
_MOBILE = re.compile(r"1[3-9]\d{9}")


# -- validation ----------------------------------------------------------------------------------
def _clean(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text))


def id_check_character(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def id_number_problem(text: object, today: Optional[date] = None) -> Optional[str]:
    """Why this is not a valid ID number (Chinese, for the citizen), or None when it is."""
    value = _clean(text).upper()
    if len(value) != 18:
        return "身份证号码应为18位。"
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return "身份证号码前17位应为数字，最后一位为数字或X。"
    if value[:2] not in _PROVINCES:
        return "身份证号码的地区码不正确。"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号码中的出生日期不正确。"
    if born.year < 1890 or born > (today or date.today()):
        return "身份证号码中的出生日期不正确。"
    if id_check_character(value[:17]) != value[17]:
        return "身份证号码校验位不正确，请核对后重新输入。"
    return None


def validate_id_number(text: object) -> str:
    """The normalised ID number (half-width, upper-case X), or InvalidInput saying what is wrong."""
    problem = id_number_problem(text)
    if problem:
        raise InvalidInput(problem, "invalid ID number (GB 11643 check failed)", code="invalid_id_number")
    return _clean(text).upper()


def is_valid_id_number(text: object) -> bool:
    return id_number_problem(text) is None


def normalize_mobile(text: object) -> Optional[str]:
    """The 11-digit mobile number, or None when this is not a mainland mobile number."""
    value = _clean(text)
    value = re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", value)
    return value if _MOBILE.fullmatch(value) else None


def validate_mobile(text: object) -> str:
    value = normalize_mobile(text)
    if value is None:
        raise InvalidInput("手机号码应为11位，以1开头，请核对后重新输入。", "invalid mobile number",
                           code="invalid_mobile")
    return value


def is_valid_mobile(text: object) -> bool:
    return normalize_mobile(text) is not None


# -- masking -------------------------------------------------------------------------------------
def mask_id_number(value: str) -> str:
    """4403**********1234: region prefix and last four kept, birth date and sequence hidden."""
    value = _clean(value).upper()
    if len(value) < 9:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_mobile(value: str) -> str:
    """138****5678"""
    value = _clean(value)
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张* / 欧阳** / 王*明: the family name (and the last character of long names) kept."""
    value = (value or "").strip()
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


# -- secrets, hashing, sealing -------------------------------------------------------------------
def _key_file() -> Path:
    return DEFAULT_KEY_FILE


def _load_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise ConfigurationError(f"{path}: the identity key must be at least 32 characters")
    return text.encode()


@lru_cache(maxsize=4)
def _derived_keys(secret: bytes) -> tuple:
    master = hashlib.sha256(b"onewindow-identity\0" + secret).digest()
    hash_key = hmac.new(master, b"hash", hashlib.sha256).digest()
    seal_key = hmac.new(master, b"seal", hashlib.sha256).digest()
    return hash_key, seal_key


def _keys() -> tuple:
    configured = os.environ.get("ONEWINDOW_IDENTITY_KEY", "").strip()
    if configured:
        if len(configured) < 32:
            raise ConfigurationError("ONEWINDOW_IDENTITY_KEY must be at least 32 characters")
        return _derived_keys(configured.encode())
    return _derived_keys(_load_or_create_key_file(_key_file()))


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised value (hex); `kind` separates ID numbers from phones."""
    hash_key, _ = _keys()
    return hmac.new(hash_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def seal(value: str) -> str:
    """The value encrypted with AES-256-GCM under the identity key (for storage)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    _, seal_key = _keys()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(seal_key).encrypt(nonce, value.encode(), b"onewindow")
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(token: str) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not token or not token.startswith("v1:"):
        raise ConfigurationError("a sealed value has an unknown format")
    _, seal_key = _keys()
    raw = base64.urlsafe_b64decode(token[3:].encode("ascii"))
    try:
        return AESGCM(seal_key).decrypt(raw[:12], raw[12:], b"onewindow").decode()
    except InvalidTag:
        raise ConfigurationError(
            "a sealed value cannot be opened with the current identity key (was ONEWINDOW_IDENTITY_KEY changed?)"
        ) from None


# -- redaction -----------------------------------------------------------------------------------
# 17 digits and a digit or X, or 11 mobile digits, not inside a longer run of digits.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_LIKE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")


def redact(text: str) -> str:
    """The text with ID numbers and mobile numbers masked (for logs and stored transcripts)."""
    if not text:
        return text
    text = _ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), text)
    return _MOBILE_LIKE.sub(lambda m: mask_mobile(re.sub(r"\D", "", m.group(0))[-11:]), text)


def redact_tracker_event(event: dict) -> dict:
    """A copy of a Rasa tracker event (as a dict) with ID and mobile numbers masked in the user's
    text, the parse data and slot values: for a tracker store that must keep no clear numbers."""
    def clean(value):
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    return clean(event)


class RedactingFilter(logging.Filter):
    """A logging filter that masks ID and mobile numbers in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_onewindow_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string: leave it to logging to report
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    record._onewindow_redacted = True


_installed = False


def install_log_redaction() -> None:
    """Mask ID and mobile numbers in every log record this process creates (any logger, any
    handler, including ones configured later). Idempotent."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
