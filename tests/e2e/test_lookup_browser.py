"""End to end: a clerk looks a service up in the staff desk and prints the citizen's checklist.

Headless Chromium against the real running stack (`live_stack`): sign in at /staff/, type 个体户
one character at a time and see results without pressing Enter, open the guide with the keyboard,
open the checklist from the guide (a new tab), print it to PDF on A4 and check it is one page with
every material on it; the bundles tab; the checklist page sends a browser without a session to
sign in. The longest service of the Guangdong export prints on one page too (in a desk app of its
own on a temporary database), and so does an absurdly long made-up service.

Screenshots (screen, and print media = what the PDF shows) and PDFs go to a temporary folder;
their paths are recorded as the test property `screenshots` and printed (`pytest -s`).
"""
from __future__ import annotations

import re
import socket
import threading
import time
import unicodedata
import zlib
from datetime import date
from pathlib import Path
from typing import Dict, List, Tuple

import httpx
import pytest

from catalogue_helpers import GUANGDONG_EXPORT
from staff_helpers import PASSWORD, make_staff

from browser import async_playwright, expect, launch, requires_chromium

pytestmark = requires_chromium

UI_MS = 10_000
SELF_EMPLOYED = "11440307MB2C1000044440307001001"  # 个体工商户设立登记


# -- reading the printed PDF --------------------------------------------------------------------------
def pdf_pages_and_text(data: bytes) -> Tuple[int, List[str]]:
    """The number of pages of a PDF that Chromium printed, and the text of each page (NFKC, in
    drawing order). Enough PDF for Skia's output: plain objects, Flate streams, fonts with a
    ToUnicode map, and ActualText spans for glyphs a map cannot tell."""
    objects: Dict[int, bytes] = {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj\s*(.*?)endobj", data, re.S)}

    def stream(number: int) -> bytes:
        body = objects[number]
        head, start = body[: body.index(b"stream")], body.index(b"stream") + 6
        start += 2 if body[start:start + 2] == b"\r\n" else 1
        raw = body[start:start + int(re.search(rb"/Length\s+(\d+)", head).group(1))]
        return zlib.decompress(raw) if b"/FlateDecode" in head else raw

    def unicode_map(number: int) -> Tuple[Dict[int, str], int]:
        text, table = stream(number).decode("latin-1"), {}
        for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
            for source, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                table[int(source, 16)] = bytes.fromhex(target).decode("utf-16-be")
        for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
            for low, high, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                    table[code] = chr(int(target, 16) + offset)
        width = 2 if re.search(r"begincodespacerange\s*<[0-9A-Fa-f]{4}>", text) else 1
        return table, width

    pages = [n for n, body in objects.items() if re.search(rb"/Type\s*/Page(?!s)", body)]
    texts = []
    token = re.compile(r"/ActualText\s*<([0-9A-Fa-f]*)>|\bEMC\b|/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>|(?<![\w/])([qQ])(?!\w)")
    for number in pages:
        body = objects[number]
        fonts = {}
        font_dict = re.search(rb"/Font\s*<<(.*?)>>", body, re.S)
        for name, ref in re.findall(rb"/(\w+)\s+(\d+) 0 R", font_dict.group(1) if font_dict else b""):
            to_unicode = re.search(rb"/ToUnicode\s+(\d+) 0 R", objects[int(ref)])
            fonts[name.decode()] = unicode_map(int(to_unicode.group(1))) if to_unicode else ({}, 1)
        contents = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", body).group(1)
        out, current, saved, actual = [], ({}, 1), [], False
        for ref in re.findall(rb"(\d+) 0 R", contents):
            for match in token.finditer(stream(int(ref)).decode("latin-1")):
                text_hex, font, glyphs, state = match.groups()
                if text_hex is not None:  # the glyphs up to EMC stand for this text
                    out.append(bytes.fromhex(text_hex).decode("utf-16"))
                    actual = True
                elif match.group(0) == "EMC":
                    actual = False
                elif state == "q":
                    saved.append(current)
                elif state == "Q":
                    current = saved.pop() if saved else ({}, 1)
                elif font:
                    current = fonts.get(font, ({}, 1))
                elif not actual:
                    table, width = current
                    raw = bytes.fromhex(glyphs)
                    out.extend(table.get(int.from_bytes(raw[i:i + width], "big"), "") for i in range(0, len(raw), width))
        texts.append(unicodedata.normalize("NFKC", "".join(out)))
    return len(pages), texts


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


class Shots:
    def __init__(self, folder: Path, record_property):
        self.folder, self.paths, self.record_property = folder, [], record_property

    async def take(self, page, name: str, full_page: bool = False) -> Path:
        path = self.folder / f"{len(self.paths) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=full_page)
        self.paths.append(path)
        return path

    def save(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        self.paths.append(path)
        return path

    def report(self) -> None:
        self.record_property("screenshots", " ".join(str(p) for p in self.paths))
        print("staff lookup screenshots and PDFs:", *self.paths, sep="\n  ")


async def print_one_page(page, shots: Shots, name: str, materials: List[str]) -> str:
    """Print the checklist page on A4: exactly one page, with every material on it. Returns the
    page's text. Screenshots of what is printed (print media) go with it."""
    await page.emulate_media(media="print")
    await shots.take(page, f"{name}-print", full_page=True)
    pdf = await page.pdf(format="A4")
    await page.emulate_media(media=None)
    shots.save(f"{name}.pdf", pdf)
    pages, texts = pdf_pages_and_text(pdf)
    fit = await page.get_attribute("body", "data-fit")
    assert pages == 1, f"the checklist of {name} printed on {pages} pages (fit: {fit})"
    printed = _plain(texts[0])
    missing = [m for m in materials if _plain(m) not in printed]
    assert not missing, f"materials missing from the printed checklist of {name}: {missing}"
    assert "办事材料清单" in printed
    return printed


async def sign_in(page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/staff/")
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form.login button[type=submit]").click()


def _guide(base_url: str, cookies, code: str) -> dict:
    response = httpx.get(f"{base_url}/api/v1/staff/lookup/services/{code}", cookies=cookies, timeout=10)
    response.raise_for_status()
    return response.json()


async def _cookies(context) -> Dict[str, str]:
    return {c["name"]: c["value"] for c in await context.cookies()}


# -- the live stack -----------------------------------------------------------------------------------
async def test_clerk_looks_up_a_service_and_prints_its_checklist(live_stack, tmp_path, record_property):
    desk = live_stack.desk_url.rstrip("/")
    username = make_staff(live_stack.database_url, "clerk", name="前台小王")
    shots = Shots(tmp_path, record_property)
    problems: List[str] = []
    searches: List[str] = []
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("request", lambda r: searches.append(r.url) if "/api/v1/staff/lookup/search" in r.url else None)
            await sign_in(page, desk, username)
            query = page.locator("#lk-query")
            await expect(query).to_be_visible(timeout=UI_MS)  # lookup is a clerk's first section
            await expect(query).to_be_focused()

            # Search as you type: one character at a time, never Enter.
            await query.press_sequentially("个体户", delay=250)
            options = page.locator(".lk-option")
            await expect(options.first).to_contain_text("个体工商户设立登记", timeout=UI_MS)
            await expect(options.first).to_contain_text("深圳市市场监督管理局龙岗监管局")
            assert len(searches) >= 2, f"typing should search as it goes, searched: {searches}"
            assert "#/lookup/" not in page.url  # nothing opened yet
            await shots.take(page, "results-while-typing")

            # The keyboard: ↓ selects the first result, Enter opens its guide.
            await page.keyboard.press("ArrowDown")
            await expect(options.first).to_have_attribute("aria-selected", "true")
            await page.keyboard.press("Enter")
            guide = page.locator(".lk-guide")
            await expect(guide.locator(".lk-title")).to_have_text("个体工商户设立登记", timeout=UI_MS)
            assert page.url.endswith(f"#/lookup/{SELF_EMPLOYED}")
            for title in ("申请材料", "受理条件", "办理时限", "收费", "地点和时间", "办理流程", "网上办理", "咨询电话", "办理结果", "设定依据", "前置事项"):
                await expect(guide.locator(".lk-section h3", has_text=title).first).to_be_visible()
            await expect(guide.locator(".lk-materials--guide tbody tr")).to_have_count(6)
            await expect(guide.locator("#lk-time")).to_contain_text("即办件")
            await expect(guide.locator("#lk-places")).to_contain_text("龙岗区行政服务大厅")
            await expect(guide.locator(".lk-meta")).to_contain_text("示例数据")
            await shots.take(page, "guide")

            # The address is a link to the guide.
            await page.reload()
            await expect(page.locator(".lk-guide .lk-title")).to_have_text("个体工商户设立登记", timeout=UI_MS)

            # 打印清单 opens the checklist in a new tab; it prints on one A4 page.
            materials = [m["name"] for m in _guide(desk, await _cookies(context), SELF_EMPLOYED)["materials"]]
            async with context.expect_page() as opened:
                await page.locator(".lk-print").click()
            sheet = await opened.value
            await sheet.wait_for_load_state()
            assert sheet.url == f"{desk}/staff/checklist/{SELF_EMPLOYED}"
            await expect(sheet.locator("h1")).to_have_text("办事材料清单")
            await shots.take(sheet, "checklist-screen", full_page=True)
            printed = await print_one_page(sheet, shots, "checklist-self-employed", materials)
            for text in ("个体工商户设立登记", "即办件", "不收费", "龙岗区行政服务大厅", "周一至周五", "https://www.gdzwfw.gov.cn/", "0755-28949000", "示例数据"):
                assert _plain(text) in printed, text
            await sheet.close()

            # The default catalogue's longest checklist prints on one page too.
            longest = _longest_service(live_stack.database_url)
            sheet = await context.new_page()
            await sheet.goto(f"{desk}/staff/checklist/{longest}")
            longest_materials = [m["name"] for m in _guide(desk, await _cookies(context), longest)["materials"]]
            await print_one_page(sheet, shots, "checklist-default-longest", longest_materials)
            await sheet.close()

            # 一件事: bundles with members and departments; a member opens its guide.
            await page.locator(".lk-tabs a", has_text="一件事").click()
            newborn = page.locator(".lk-bundle", has_text="新生儿出生一件事")
            await expect(newborn).to_be_visible(timeout=UI_MS)
            await expect(newborn).to_contain_text("牵头部门：深圳市龙岗区卫生健康局")
            await expect(newborn.locator(".lk-member")).to_have_count(6)
            await expect(newborn).to_contain_text("深圳市公安局龙岗分局")
            await newborn.locator(".lk-member", has_text="出生登记").click()
            await expect(page.locator(".lk-guide .lk-title")).to_contain_text("出生登记", timeout=UI_MS)
            await expect(page.locator(".lk-guide .lk-crumb")).to_contain_text("新生儿出生一件事")
            assert "#/lookup/bundles/newborn/" in page.url
            await shots.take(page, "bundles")

            # Coming back to the search finds its text and results.
            await page.goto(f"{desk}/staff/#/lookup")
            await expect(page.locator("#lk-query")).to_have_value("个体户", timeout=UI_MS)
            await expect(page.locator(".lk-option").first).to_contain_text("个体工商户设立登记")

            # Variants of one item are said to be so; Enter before the results arrive opens the first.
            query = page.locator("#lk-query")
            await query.fill("")
            await query.press_sequentially("身份证", delay=20)
            await page.keyboard.press("Enter")
            await expect(page.locator(".lk-guide .lk-title")).to_contain_text("居民身份证", timeout=UI_MS)
            await expect(page.locator(".lk-notice")).to_contain_text("是“居民身份证申领、换领、补领”的不同情形")
            await expect(page.locator(".lk-option.is-variant")).to_have_count(3)
            await expect(page.locator(".lk-option.is-variant .lk-hit-note").first).to_contain_text("属于“居民身份证申领、换领、补领”")
            await page.wait_for_timeout(400)  # any later answer must not lose which result is open
            first = page.locator(".lk-option").first
            await expect(first).to_have_class(re.compile(r"\bis-current\b"))
            await expect(first).to_have_attribute("aria-selected", "true")
            await expect(page.locator(".lk-guide .lk-title")).to_have_text(await first.locator(".lk-hit-name").inner_text())
            await shots.take(page, "variants")

            # Without a session the checklist page sends the browser to sign in.
            stranger = await browser.new_context(locale="zh-CN")
            other = await stranger.new_page()
            await other.goto(f"{desk}/staff/checklist/{SELF_EMPLOYED}")
            assert other.url == f"{desk}/staff/#/login"
            await expect(other.locator("form.login")).to_be_visible(timeout=UI_MS)
            await stranger.close()
        finally:
            await browser.close()
            shots.report()
    assert not problems, problems


def _longest_service(database_url: str) -> str:
    """The service with the most materials (then the most material text): the hardest to fit."""
    from sqlalchemy import func, select

    from database import make_session
    from knowledge.models import Material, Service

    text = func.sum(func.length(Material.name) + func.coalesce(func.length(Material.notes), 0)
                    + func.coalesce(func.length(Material.source), 0))
    with make_session(database_url) as session:
        return session.execute(
            select(Service.code).join(Material, Material.service_id == Service.id).group_by(Service.id)
            .order_by(func.count(Material.id).desc(), text.desc()).limit(1)
        ).scalar_one()


# -- the Guangdong catalogue, in a desk of its own ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def guangdong_desk(tmp_path, monkeypatch):
    """A desk app on a temporary database holding the Guangdong export, served on a free port."""
    if not GUANGDONG_EXPORT.exists():
        pytest.skip(f"{GUANGDONG_EXPORT} is not here")
    import uvicorn

    from database import make_session
    from database.engine import get_engine
    from database.migrate import upgrade
    from desk.app import create_app
    from knowledge.importers import import_path

    monkeypatch.setenv("ONEWINDOW_SWEEP_INTERVAL", "0")
    url = f"sqlite:///{tmp_path / 'guangdong.db'}"
    upgrade(url)
    with make_session(url) as session:
        report = import_path(session, GUANGDONG_EXPORT)
        session.commit()
        assert report.failed == 0, report.summary()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, name="guangdong-desk", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the Guangdong desk did not start"
        time.sleep(0.1)
    try:
        yield url, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        get_engine(url).dispose()


async def test_the_longest_guangdong_checklist_prints_on_one_page(guangdong_desk, tmp_path, record_property):
    url, base = guangdong_desk
    username = make_staff(url, "clerk", name="前台小陈")
    longest = _longest_service(url)
    shots = Shots(tmp_path, record_property)
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            await sign_in(page, base, username)
            await expect(page.locator("#lk-query")).to_be_visible(timeout=UI_MS)
            await page.locator("#lk-query").press_sequentially("护照", delay=200)
            await expect(page.locator(".lk-option").first).to_be_visible(timeout=UI_MS)
            await shots.take(page, "guangdong-results")
            guide = _guide(base, await _cookies(context), longest)
            assert len(guide["materials"]) >= 15
            await page.goto(f"{base}/staff/checklist/{longest}")
            await expect(page.locator("h1")).to_have_text("办事材料清单")
            await shots.take(page, "guangdong-longest-screen", full_page=True)
            printed = await print_one_page(page, shots, "checklist-guangdong-longest", [m["name"] for m in guide["materials"]])
            assert _plain(guide["name"]) in printed and _plain(guide["department"]["name"]) in printed
        finally:
            await browser.close()
            shots.report()


async def test_an_absurdly_long_checklist_still_prints_on_one_page(tmp_path, record_property):
    """60 materials with long notes, five halls, long conditions: smaller type, two columns, notes
    left out, and scaled if need be; never a second page."""
    from knowledge.models import Department, Material, Place, Service, ServicePlace
    from staffdesk.checklist import render_checklist

    service = Service(code="SYN-1", name="超长清单测试事项", department=Department(code="X", name="测试局"),
                      conditions="申请人应当符合下列条件：" + "材料真实有效，且符合法律法规规定；" * 40,
                      immediate=False, appointment=False, express_delivery=False, is_sample=True,
                      statutory_limit=20, statutory_unit="工作日")
    service.materials = [Material(name=f"第{i}项证明材料" + "（含相关附件及说明）" * (i % 3), required=i % 4 != 0,
                                  form="原件和复印件", copies=2, notes="须加盖公章并由经办人签字确认。" * 3,
                                  source="申请人自备", position=i) for i in range(1, 61)]
    service.place_links = [ServicePlace(place=Place(name=f"第{i}政务服务大厅", address=f"某区某街道某路{i}号",
                                                    opening_hours="周一至周五 9:00-12:00，14:00-18:00"), window=f"{i}号窗口")
                           for i in range(1, 6)]
    shots = Shots(tmp_path, record_property)
    async with async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 1200})
            await page.set_content(render_checklist(service, printed_on=date(2026, 11, 26)))
            assert await page.get_attribute("body", "data-fit") in ("terse", "scaled")
            await print_one_page(page, shots, "checklist-synthetic-60", [m.name for m in service.materials])
        finally:
            await browser.close()
            shots.report()
