"""The staff desk: accounts and sessions for front-desk clerks, department officers, coordinators
and administrators, and the web pages they work in (lookup, handoff inbox, case desk, dashboard).

The desk web service mounts it (`staffdesk.web.install`): pages under /staff/, the API under
/api/v1/staff/. Every API route checks the role of the signed-in account (`staffdesk.auth`).
"""
