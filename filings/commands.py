"""Command-line handlers for filings (wired in bot/cli.py):

    onewindow departments token CODE [--label L] [--replace]   issue an API token (printed once)
    onewindow departments revoke CODE                          revoke every token of a department
    onewindow departments tokens [CODE]                        list tokens (prefixes, never the tokens)
    onewindow cases sweep [--date YYYY-MM-DD]                  flag 预警/逾期, escalate overdue cases
"""
from __future__ import annotations

import sys
from datetime import date

from database.engine import make_session


class CommandError(Exception):
    """A user error: bot/cli.py prints it as one line."""


def _session():
    return make_session()


def departments_token(code: str, label: str | None = None, replace: bool = False) -> int:
    from filings.errors import NotFound
    from filings.tokens import issue_token

    session = _session()
    try:
        try:
            token = issue_token(session, code, label=label, replace=replace)
        except NotFound:
            raise CommandError(f"no department with code {code!r} (see GET /api/v1/departments)") from None
        session.commit()
    finally:
        session.close()
    print(token)
    print(f"This is the only time the token for {code} is shown: store it now. "
          "Use it as 'Authorization: Bearer <token>' on /api/v1/department/.", file=sys.stderr)
    return 0


def departments_revoke(code: str) -> int:
    from filings.errors import NotFound
    from filings.tokens import revoke_tokens

    session = _session()
    try:
        try:
            count = revoke_tokens(session, code)
        except NotFound:
            raise CommandError(f"no department with code {code!r}") from None
        session.commit()
    finally:
        session.close()
    print(f"Revoked {count} token(s) of {code}.")
    return 0


def departments_tokens(code: str | None = None) -> int:
    from filings.errors import NotFound
    from filings.tokens import list_tokens

    session = _session()
    try:
        try:
            rows = list_tokens(session, code)
        except NotFound:
            raise CommandError(f"no department with code {code!r}") from None
        for row in rows:
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            used = f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
            print(f"{row.department.code}\t{row.prefix}…\t{row.label or ''}\tcreated {row.created_at:%Y-%m-%d %H:%M} UTC"
                  f"\t{used}\t{state}")
        if not rows:
            print("No tokens.")
    finally:
        session.close()
    return 0


def cases_sweep(on: str | None = None) -> int:
    from filings.sweep import sweep

    try:
        today = date.fromisoformat(on) if on else None
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, not {on!r}") from None
    session = _session()
    try:
        report = sweep(session, today=today)
        session.commit()
    finally:
        session.close()
    print(f"Deadline sweep: {report.summary()}.")
    for label, numbers in (("warned", report.warned), ("overdue", report.overdue), ("escalated", report.escalated)):
        if numbers:
            print(f"  {label}: {', '.join(numbers)}")
    return 0
