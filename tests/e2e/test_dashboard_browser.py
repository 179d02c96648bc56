"""End to end: the learning loop and the accounts page of the staff desk, in headless Chromium
against the running stack (tests/e2e/conftest.py).

A citizen asks the bot (REST channel) for 绿本, a colloquial name that nothing in the catalogue
says; the bot cannot answer. A coordinator signs in, opens 运行统计, finds the question, picks
机动车注册登记（上牌） and adds 绿本 as its alias. The same question through the bot then gets that
service's answer: the action server's search notices the new catalogue revision within seconds;
no retraining, no restart.

Screenshots go to a temporary folder; their paths are printed and recorded as the test property
`screenshots`.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import List
from urllib.parse import urlparse

from sqlalchemy import select

from analytics.models import UnansweredQuestion
from database import make_session
from staff_helpers import PASSWORD, make_staff

from browser import async_playwright, expect, launch, requires_chromium

pytestmark = requires_chromium

UI_MS = 15_000
QUESTION = "绿本怎么办"  # 绿本: the green vehicle registration book, issued when a car is first registered
ALIAS = "绿本"
CAR_REGISTRATION = "11440307MB2C10111X4440307004004"
CAR_REGISTRATION_NAME = "机动车注册登记（上牌）"
BOT_PICKUP_SECONDS = 30  # the action server checks the catalogue revision every 2 s, then rebuilds


def _answer(messages):
    return next((m["custom"] for m in messages if (m.get("custom") or {}).get("type") == "service_answer"), None)


def _host_port(url: str):
    parsed = urlparse(url)
    return parsed.hostname, parsed.port


class Browser:
    """One headless Chromium page with screenshots, page errors and requests outside the desk recorded."""

    def __init__(self, pw, desk_url: str, tmp_path: Path):
        self.pw, self.desk_url, self.tmp_path = pw, desk_url, tmp_path
        self.shots: List[Path] = []
        self.problems: List[str] = []
        self.allowed = set()  # (status, path) that a test provokes on purpose

    async def __aenter__(self):
        self.browser = await launch(self.pw)
        context = await self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.page = await context.new_page()
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("response", self._response)
        desk = _host_port(self.desk_url)
        self.page.on("request", lambda request: self.problems.append(f"request outside the desk: {request.url}")
                     if request.url.startswith("http") and _host_port(request.url) != desk else None)
        return self

    def _response(self, response) -> None:
        path = urlparse(response.url).path
        expected = (path == "/favicon.ico" or (path == "/api/v1/staff/me" and response.status == 401)  # before sign-in
                    or (response.status, path) in self.allowed)
        if response.status >= 400 and not expected:
            self.problems.append(f"HTTP {response.status} for {response.request.method} {path}")

    async def __aexit__(self, *exc):
        await self.browser.close()

    async def shot(self, name: str, full_page: bool = True) -> None:
        path = self.tmp_path / f"{len(self.shots) + 1:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)
        self.shots.append(path)

    async def sign_in(self, username: str, password: str = PASSWORD) -> None:
        page = self.page
        await page.goto(f"{self.desk_url}/staff/")
        await page.locator("#username").fill(username)
        await page.locator("#password").fill(password)
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page.locator("#who-name")).to_be_visible(timeout=UI_MS)


async def test_a_coordinator_teaches_the_bot_a_phrase_without_retraining(live_stack, tmp_path, record_property):
    # 1. A citizen asks; the bot cannot answer, and the question is logged.
    first = live_stack.rest(f"citizen-{uuid.uuid4().hex[:8]}", QUESTION, timeout=90)
    answer = _answer(first)
    assert answer is None or answer["service"]["code"] != CAR_REGISTRATION, first
    # The conversation log is written beside the conversation (analytics/journal.py): moments later.
    deadline = time.monotonic() + 10
    while True:
        with make_session(live_stack.database_url) as session:
            logged = session.execute(select(UnansweredQuestion).where(UnansweredQuestion.question == QUESTION)).scalars().all()
        if logged or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    with make_session(live_stack.database_url) as session:
        logged = session.execute(select(UnansweredQuestion).where(UnansweredQuestion.question == QUESTION)).scalars().all()
        assert logged and logged[0].reason == "no_service" and logged[0].resolved_service_code is None, \
            [(q.question, q.reason) for q in logged]

    coordinator = make_staff(live_stack.database_url, "coordinator", name="统筹协调小陈")
    desk_url = live_stack.desk_url.rstrip("/")
    async with async_playwright() as pw:
        async with Browser(pw, desk_url, tmp_path) as b:
            try:
                page = b.page
                await b.sign_in(coordinator)
                # 2. The coordinator opens 运行统计 and finds the question.
                await page.get_by_role("link", name="运行统计").click()
                await expect(page.locator("h1")).to_have_text("运行统计", timeout=UI_MS)
                row = page.locator(f'.uq[data-text="{QUESTION}"]')
                await expect(row).to_be_visible(timeout=UI_MS)
                await expect(row.locator(".uq-text")).to_have_text(QUESTION)
                await expect(row).to_contain_text("未找到对应事项")
                await expect(page.locator(".figure").first).to_be_visible()
                await b.shot("dashboard")

                # 3. Trims the phrase to the name, searches the service, picks it, adds the alias.
                await row.locator(".uq-phrase").fill(ALIAS)
                await row.locator(".uq-search-input").fill("上牌")
                result = row.locator(".uq-results button", has_text=CAR_REGISTRATION_NAME)
                await expect(result).to_be_visible(timeout=UI_MS)
                await b.shot("picking-the-service", full_page=False)
                await result.click()
                await expect(row.locator(f'input[type=radio][value="{CAR_REGISTRATION}"]')).to_be_checked()
                add = row.get_by_role("button", name="添加为别名")
                await expect(add).to_be_enabled()
                await add.click()
                feedback = row.locator(".uq-feedback")
                await expect(feedback).to_contain_text("排在第一位", timeout=UI_MS)
                await expect(feedback).to_contain_text(CAR_REGISTRATION_NAME)
                await expect(row).to_have_class("uq uq--resolved")
                await row.scroll_into_view_if_needed()
                await b.shot("alias-added", full_page=False)
                await expect(page.locator(".dash-panel", has_text="工作人员添加的别名")).to_contain_text(ALIAS, timeout=UI_MS)

                # 4. The same question through the bot now gets the service's answer (poll: the
                #    action server notices the revision within its check interval).
                deadline = time.monotonic() + BOT_PICKUP_SECONDS
                answer, tries = None, 0
                while time.monotonic() < deadline:
                    tries += 1
                    reply = live_stack.rest(f"citizen-{uuid.uuid4().hex[:8]}", QUESTION, timeout=60)
                    answer = _answer(reply)
                    if answer and answer["service"]["code"] == CAR_REGISTRATION:
                        break
                    time.sleep(1.0)
                assert answer and answer["service"]["code"] == CAR_REGISTRATION, (tries, reply)
                assert answer["service"]["name"] == CAR_REGISTRATION_NAME
                print(f"the bot answered {QUESTION} with {CAR_REGISTRATION_NAME} after {tries} tries")

                # 5. The dashboard shows what was learned.
                await page.reload()
                await expect(page.locator(".dash-panel", has_text="工作人员添加的别名")).to_contain_text(
                    CAR_REGISTRATION_NAME, timeout=UI_MS)
                await b.shot("dashboard-after")
                assert not b.problems, b.problems
            finally:
                record_property("screenshots", " ".join(str(p) for p in b.shots))
                print("screenshots:", *b.shots, sep="\n  ")


async def test_an_admin_manages_accounts_in_the_browser(live_stack, tmp_path, record_property):
    admin = make_staff(live_stack.database_url, "admin", name="系统管理员老周")
    username = f"li.{uuid.uuid4().hex[:6]}"
    desk_url = live_stack.desk_url.rstrip("/")
    async with async_playwright() as pw:
        async with Browser(pw, desk_url, tmp_path) as b:
            try:
                page = b.page
                await b.sign_in(admin)
                await page.get_by_role("link", name="账号管理").click()
                await expect(page.locator("h1")).to_have_text("账号管理", timeout=UI_MS)

                # Create an officer: the department field appears for that role only.
                await page.locator("#acc-username").fill(username)
                await page.locator("#acc-name").fill("李审批")
                await expect(page.locator("#acc-department")).to_be_hidden()
                await page.locator("#acc-role").select_option("officer")
                await expect(page.locator("#acc-department")).to_be_visible()
                await page.locator("#acc-department").select_option("LG-MZ")
                await page.locator("#acc-password").fill("short")
                b.allowed.add((422, "/api/v1/staff/accounts"))  # the weak password, refused with a Chinese message
                await page.get_by_role("button", name="创建账号").click()
                await expect(page.locator(".acc-form .error")).to_have_text("密码至少需要10个字符。", timeout=UI_MS)
                await page.locator("#acc-password").fill("Initial-2026!")
                await page.get_by_role("button", name="创建账号").click()
                row = page.locator(f'tr[data-username="{username}"]')
                await expect(row).to_be_visible(timeout=UI_MS)
                await expect(row.locator("select").first).to_have_value("officer")
                await b.shot("account-created")

                # Disable it, then reset its password.
                page.once("dialog", lambda dialog: dialog.accept())
                await row.get_by_role("button", name="停用").click()
                await expect(row).to_contain_text("已停用", timeout=UI_MS)
                await row.get_by_role("button", name="重置密码").click()
                await row.locator(".acc-password input").fill("Reset-pass-2026")
                await row.locator(".acc-password").get_by_role("button", name="确定").click()
                await expect(page.locator("#toast")).to_contain_text("已重置", timeout=UI_MS)
                await b.shot("account-disabled-and-reset")
                # The admin's own row cannot be disabled.
                await expect(page.locator(f'tr[data-username="{admin}"]').get_by_role("button", name="停用")).to_be_disabled()
                assert not b.problems, b.problems
            finally:
                record_property("screenshots", " ".join(str(p) for p in b.shots))
                print("screenshots:", *b.shots, sep="\n  ")
