"""Password hashing with the standard library's scrypt (hashlib.scrypt, RFC 7914).

Stored as `scrypt$N$r$p$salt$hash` (salt and hash base64), so parameters can be raised later
without invalidating old hashes (`needs_rehash`). Verification compares in constant time.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1  # about 16 MiB and 40-80 ms per hash on the desk's machines
KEY_LENGTH = 32
MIN_LENGTH = 10
MAX_LENGTH = 256  # scrypt takes any length; bound the work an attacker can ask for


class WeakPassword(ValueError):
    """The password does not meet the policy; the message is Chinese, for the person choosing it."""


def check_policy(password: str, username: str = "") -> None:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise WeakPassword(f"密码至少需要{MIN_LENGTH}个字符。")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"密码不能超过{MAX_LENGTH}个字符。")
    if username and username.lower() in password.lower():
        raise WeakPassword("密码不能包含用户名。")
    kinds = sum(any(test(c) for c in password) for test in (str.isdigit, str.isalpha, lambda c: not c.isalnum()))
    if kinds < 2 or len(set(password)) < 5:
        raise WeakPassword("密码过于简单：请混合使用字母、数字或符号。")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=KEY_LENGTH)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    if not isinstance(password, str) or len(password) > MAX_LENGTH or not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"scrypt${N}${R}${P}$")


# A hash of nothing, checked when the username is unknown so both cases take the same time.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
