"""Filings across departments: cases (办件), one-thing bundles (一件事), work orders (工单).

The service layer the conversation (actions/) and the departments' web API (desk/department_api.py)
call. Every function takes a SQLAlchemy Session and flushes; the caller commits, so a change and
the citizen messages it queues (outbound outbox) are committed together. Errors are
`filings.errors.FilingError` subclasses with a Chinese `message` to show and an English `detail`.

Modules, one job each:
- identity: ID number (GB 11643) and mobile validation, masking, keyed hashes, sealing, log redaction
- profiles: applicant details asked once with consent and reused (matched on ID + verified phone,
  or by the channel identity)
- calendar: working days with holidays and 调休 (data/calendar/holidays.yml), due dates
- states: the state machines (national case codes 1-15; work orders), as tables
- numbers: tracking numbers LG20261126-000123 / LGB20261126-0007 / LGW20261126-0001
- cases: filing services and bundles, department actions, progress, views
- notify: messages to citizens through the channel they filed from
- ratings: 好差评 (5 levels) and follow-ups of bad ratings
- routing, workorders: complaints and suggestions routed to the owning department
- sweep: 预警 / 逾期 / escalation to the coordinating office
- tokens: departments' API tokens; commands: the CLI
"""
