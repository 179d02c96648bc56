"""Errors of the filings service layer.

Every error carries a stable `code`, a Chinese `message` that can be shown to a citizen or a
clerk as is, and an English `detail` for developers and logs (never with personal data in clear).
The web API maps them to HTTP statuses (`status`); the conversation shows `message`.
"""
from __future__ import annotations


class FilingError(Exception):
    status = 400
    code = "filing_error"

    def __init__(self, message: str, detail: str, code: str | None = None):
        super().__init__(detail)
        self.message = message
        self.detail = detail
        if code:
            self.code = code


class InvalidInput(FilingError):
    """Bad input from a citizen, a clerk or a department: nothing was changed."""

    status = 422
    code = "invalid_input"


class ConsentRequired(InvalidInput):
    code = "consent_required"


class NotFound(FilingError):
    """No such case, bundle or work order, or not one the caller may see (same answer)."""

    status = 404
    code = "not_found"


class IllegalTransition(FilingError):
    """The state machine refuses the action in the current state: nothing was changed."""

    status = 409
    code = "illegal_transition"


class Conflict(FilingError):
    """Someone else changed the record at the same time: reload and try again."""

    status = 409
    code = "conflict"


class Forbidden(FilingError):
    status = 403
    code = "forbidden"


class ConfigurationError(FilingError):
    """A configuration file or variable is wrong (the detail says which and why)."""

    status = 500
    code = "configuration_error"

    def __init__(self, detail: str):
        super().__init__("系统配置有误，请联系管理员。", detail)
