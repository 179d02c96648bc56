"""The four staff roles and what each may open.

- clerk (前台综合窗口): looks up services for citizens at the counter and answers handoffs;
- officer (部门审批人员): works the cases of one department;
- coordinator (统筹协调): every department's cases, overdue and unowned ones, the dashboard,
  handoffs;
- admin (系统管理员): accounts, and everything a coordinator sees.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Tuple

CLERK, OFFICER, COORDINATOR, ADMIN = "clerk", "officer", "coordinator", "admin"
ROLES: Tuple[str, ...] = (CLERK, OFFICER, COORDINATOR, ADMIN)
ROLE_NAMES: Dict[str, str] = {
    CLERK: "前台综合窗口",
    OFFICER: "部门审批人员",
    COORDINATOR: "统筹协调人员",
    ADMIN: "系统管理员",
}

# Sections of the desk and the roles that may use them (pages and their API routes alike).
SECTIONS: Dict[str, FrozenSet[str]] = {
    "lookup": frozenset(ROLES),
    "handoff": frozenset({CLERK, COORDINATOR, ADMIN}),
    "cases": frozenset({OFFICER, COORDINATOR, ADMIN}),
    "dashboard": frozenset({COORDINATOR, ADMIN}),
    "accounts": frozenset({ADMIN}),
}
SECTION_NAMES: Dict[str, str] = {
    "lookup": "事项查询",
    "handoff": "人工接待",
    "cases": "办件处理",
    "dashboard": "运行统计",
    "accounts": "账号管理",
}


def sections_for(role: str) -> Tuple[str, ...]:
    return tuple(name for name, roles in SECTIONS.items() if role in roles)
