"""End to end: the case desk (办件处理) of the staff desk, in headless Chromium against the running
stack (tests/e2e/conftest.py).

An officer of 公安分局 signs in, opens 办件处理, finds a new case in the queue with its colour, signs
for it (签收) and accepts it (受理); the status and the history change, with the officer's name. A
case someone else signed meanwhile shows the server's Chinese error, and nothing changes. A
coordinator finds an overdue case of 卫健局 in 需关注 and reads it, masked and without buttons.

Screenshots go to a temporary folder; their paths are printed and recorded as the test property
`screenshots`.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import List
from urllib.parse import urlparse

import pytest

from database import make_session
from filings import cases
from filings.calendar import local_today
from filings.cases import Actor
from filings.lookup import find_case
from filings_helpers import BIRTH_CERTIFICATE, BIRTH_REGISTRATION, make_profile
from staff_helpers import PASSWORD, make_staff

from browser import async_playwright, expect, launch, requires_chromium

pytestmark = requires_chromium

UI_MS = 15_000


@pytest.fixture
def stack(live_stack, monkeypatch):
    """The live stack, with this process sealing applicants' numbers under the same identity key
    as the stack: the key the environment had when the stack started (tests/conftest.py sets a
    test key for each test; undo it)."""
    monkeypatch.undo()
    return live_stack


def _file(url: str, service: str, name: str) -> str:
    with make_session(url) as session:
        profile, _, _ = make_profile(session, name=name)
        case = cases.create_case(session, service, profile, channel="webchat", recipient=f"e2e-{name}")
        session.commit()
        return case.number


def _host_port(url: str):
    parsed = urlparse(url)
    return parsed.hostname, parsed.port


class Browser:
    """One headless Chromium page; page errors and requests outside the desk are recorded."""

    def __init__(self, pw, desk_url: str, tmp_path: Path, shots: List[Path]):
        self.pw, self.desk_url, self.tmp_path, self.shots = pw, desk_url, tmp_path, shots
        self.problems: List[str] = []

    async def __aenter__(self):
        self.browser = await launch(self.pw)
        context = await self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.page = await context.new_page()
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        desk = _host_port(self.desk_url)
        self.page.on("request", lambda request: self.problems.append(f"request outside the desk: {request.url}")
                     if request.url.startswith("http") and _host_port(request.url) != desk else None)
        return self

    async def __aexit__(self, *exc):
        await self.browser.close()

    async def shot(self, name: str) -> None:
        path = self.tmp_path / f"{len(self.shots) + 1:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)

    async def sign_in_and_open_cases(self, username: str) -> None:
        page = self.page
        await page.goto(f"{self.desk_url}/staff/")
        await page.locator("#username").fill(username)
        await page.locator("#password").fill(PASSWORD)
        await page.locator("form.login button[type=submit]").click()
        link = page.locator("#nav a.nav-link", has_text="办件处理")
        await expect(link).to_be_visible(timeout=UI_MS)
        await link.click()
        await expect(page.locator("section.section--cases h1")).to_contain_text("办件处理", timeout=UI_MS)


def _report(shots: List[Path], record_property) -> None:
    record_property("screenshots", " ".join(str(p) for p in shots))
    print("\ncase desk screenshots:\n" + "\n".join(f"  {p}" for p in shots))


async def test_an_officer_signs_and_accepts_a_case(stack, tmp_path, record_property):
    url = stack.database_url
    number = _file(url, BIRTH_REGISTRATION, "陈一")
    taken = _file(url, BIRTH_REGISTRATION, "陈二")
    officer = make_staff(url, "officer", "LG-GA", name="张警官")
    shots: List[Path] = []
    try:
        async with async_playwright() as pw, Browser(pw, stack.desk_url, tmp_path, shots) as browser:
            page = browser.page
            await browser.sign_in_and_open_cases(officer)
            row = page.locator(f"tr.cs-row[data-number='{number}']")
            await expect(row).to_be_visible(timeout=UI_MS)
            await expect(row).to_have_class("cs-row due--normal")  # green left border
            await expect(row.locator(".badge")).to_have_text("正常")
            await expect(row).to_contain_text("待签收")
            await browser.shot("officer-queue")

            await row.click()
            detail = page.locator("aside.cs-detail")
            await expect(detail.locator(".cs-detail-head h2")).to_have_text(number, timeout=UI_MS)
            await expect(detail.locator(".cs-status")).to_have_text("已接件")
            await expect(detail).to_contain_text("出生登记（新生儿入户）")
            await expect(detail.locator(".cs-materials")).to_contain_text("出生医学证明")
            id_shown = await detail.locator(".cs-facts dd").filter(has_text="440307").first.inner_text()
            assert "*" not in id_shown  # the handling department sees the clear ID number
            await expect(detail.locator(".cs-actions button")).to_have_text(["签收"])
            await detail.locator("button[data-action=sign]").click()
            await expect(detail.locator(".cs-history li").first).to_contain_text("签收", timeout=UI_MS)
            await expect(detail.locator(".cs-history li").first).to_contain_text("张警官")
            await expect(detail.locator(".cs-actions button[data-action=accept]")).to_be_visible()
            await expect(row).not_to_contain_text("待签收")  # the queue refreshed
            await detail.locator("button[data-action=accept]").click()
            await expect(detail.locator(".cs-status")).to_have_text("已受理", timeout=UI_MS)
            newest = detail.locator(".cs-history li").first
            await expect(newest).to_contain_text("受理")
            await expect(newest).to_contain_text("已接件 → 已受理")
            await expect(newest).to_contain_text("公安分局 · 张警官")
            await expect(row).to_contain_text("已受理")
            await browser.shot("officer-accepted")

            # Someone signs the other case while the officer looks at it: 签收 is refused, in Chinese.
            await page.locator(f"tr.cs-row[data-number='{taken}']").click()
            await expect(detail.locator(".cs-detail-head h2")).to_have_text(taken, timeout=UI_MS)
            with make_session(url) as session:
                case = find_case(session, taken)
                cases.sign(session, case, Actor.of_department(case.department, "李警官"))
                session.commit()
            await detail.locator("button[data-action=sign]").click()
            await expect(detail.locator(".cs-actions .error")).to_contain_text("已签收，不能重复签收", timeout=UI_MS)
            await expect(detail.locator(".cs-facts").first).to_contain_text("公安分局 · 李警官")  # reloaded as it is now
            await expect(detail.locator(".cs-actions button[data-action=accept]")).to_be_visible()
            await browser.shot("officer-conflict")
            assert not browser.problems, browser.problems
    finally:
        _report(shots, record_property)

    with make_session(url) as session:
        case = find_case(session, number)
        assert case.status == 3 and [(e.action, e.actor) for e in case.events][-2:] == [
            ("sign", "LG-GA:张警官"), ("accept", "LG-GA:张警官")]
        assert [e.actor for e in find_case(session, taken).events][-1] == "LG-GA:李警官"  # unchanged by the refusal


async def test_a_coordinator_sees_an_overdue_case_in_attention(stack, tmp_path, record_property):
    url = stack.database_url
    number = _file(url, BIRTH_CERTIFICATE, "周三")  # 卫健局
    with make_session(url) as session:
        case = find_case(session, number)
        case.due_date = local_today() - timedelta(days=3)
        case.warn_date = case.due_date - timedelta(days=2)
        session.commit()
    coordinator = make_staff(url, "coordinator", name="钱主任")
    shots: List[Path] = []
    try:
        async with async_playwright() as pw, Browser(pw, stack.desk_url, tmp_path, shots) as browser:
            page = browser.page
            await browser.sign_in_and_open_cases(coordinator)
            await page.locator(".cs-tabs button[data-tab=attention]").click()
            row = page.locator(f".cs-attention tr.cs-row[data-number='{number}']")
            await expect(row).to_be_visible(timeout=UI_MS)
            await expect(row).to_have_class("cs-row due--overdue")  # red left border
            await expect(row.locator(".cs-reason--overdue")).to_have_text("逾期")
            await expect(row).to_contain_text("逾期3天")
            await expect(row).to_contain_text("卫健局")
            await expect(page.locator(".cs-departments")).to_contain_text("卫健局")
            await row.click()
            detail = page.locator("aside.cs-detail")
            await expect(detail.locator(".cs-detail-head h2")).to_have_text(number, timeout=UI_MS)
            await expect(detail).to_contain_text("证件号码和手机号码已脱敏")
            await expect(detail.locator(".cs-actions button")).to_have_count(0)
            await expect(detail.locator(".cs-actions")).to_contain_text("统筹协调人员可查看全部办件")
            await browser.shot("coordinator-attention")

            # The queue of every department, then of 卫健局 only, with the overdue filter.
            await page.locator(".cs-tabs button[data-tab=queue]").click()
            await page.locator("select.cs-picker").select_option("LG-WJ")
            await page.locator(".cs-due button[data-due=overdue]").click()
            await expect(page.locator(f"tr.cs-row[data-number='{number}']")).to_be_visible(timeout=UI_MS)
            await expect(page.locator(".cs-due button[data-due=overdue][aria-pressed=true]")).to_be_visible()
            assert await page.locator("tr.cs-row:not(.due--overdue)").count() == 0
            await browser.shot("coordinator-overdue-queue")
            assert not browser.problems, browser.problems
    finally:
        _report(shots, record_property)
