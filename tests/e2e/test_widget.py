"""End to end: the web chat widget in headless Chromium against the real running stack.

The `live_stack` fixture (tests/e2e/conftest.py) starts Rasa with a trained model, the action
server and the desk service, and yields an object with `desk_url` and `rasa_url`.

The page is the desk's demo page (GET /), whose one script tag has no data-server, so the widget
talks to the page's hostname on port 5005. When `rasa_url` is elsewhere, the test adds data-server
to the tag as the page loads, the way an embedding site would write it.

Screenshots go to a temporary folder; their paths are printed (`pytest -s` or the captured output
of a failure) and recorded as the test property `screenshots` (junit XML).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List
from urllib.parse import urlparse


from browser import async_playwright, expect, launch, requires_chromium

pytestmark = requires_chromium

REPLY_MS = 90_000  # the first answers of a freshly started Rasa can be slow
UI_MS = 10_000

W = "#onewindow-widget"  # the widget's host element; Playwright's CSS selectors pierce its shadow root
LAUNCHER = f"{W} .ow-launcher"
PANEL = f"{W} .ow-panel"
INPUT = f"{W} .ow-input"
USER_MSGS = f"{W} .ow-log > .ow-msg--user"
BOT_MSGS = f"{W} .ow-log > .ow-msg:not(.ow-msg--user):not(.ow-welcome):not(.ow-typing)"
CARDS = f"{W} .ow-log .ow-card"
CHOICES = f"{W} .ow-log > .ow-msg:not(.ow-welcome) .ow-quick-replies"

# What the transcript looks like in the page: role and visible text of every message, in order.
TRANSCRIPT_JS = """() => {
  const root = document.querySelector('#onewindow-widget').shadowRoot;
  return [...root.querySelectorAll('.ow-log > .ow-msg:not(.ow-welcome):not(.ow-typing)')].map(m => ({
    role: m.classList.contains('ow-msg--user') ? 'user' : 'bot',
    text: m.innerText.trim(),
  }));
}"""


def _host_port(url: str):
    parsed = urlparse(url)
    return parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)


async def _open_widget(page) -> None:
    panel = page.locator(PANEL)
    if not await panel.is_visible():
        await page.locator(LAUNCHER).click()
    await expect(panel).to_be_visible(timeout=UI_MS)
    await expect(page.locator(INPUT)).to_be_visible(timeout=UI_MS)


async def _ask(page, text: str) -> int:
    """Type a question, press Enter, wait for the first bot message after it; returns its index."""
    bots = page.locator(BOT_MSGS)
    before = await bots.count()
    users_before = await page.locator(USER_MSGS).count()
    await page.locator(INPUT).fill(text)
    await page.locator(INPUT).press("Enter")
    await expect(page.locator(USER_MSGS)).to_have_count(users_before + 1, timeout=UI_MS)
    await expect(page.locator(USER_MSGS).last).to_contain_text(text)
    await expect(bots.nth(before)).to_be_visible(timeout=REPLY_MS)
    return before


async def test_widget_conversation_reload_and_phone_layout(live_stack, tmp_path, record_property):
    desk_url = live_stack.desk_url.rstrip("/")
    rasa_url = live_stack.rasa_url.rstrip("/")
    desk_host, _ = _host_port(desk_url)
    rasa_host, rasa_port = _host_port(rasa_url)
    allowed_hosts = {_host_port(desk_url), (rasa_host, rasa_port)}

    shots: List[Path] = []
    problems: List[str] = []

    async def shot(page, name: str) -> None:
        path = tmp_path / f"{len(shots) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path))
        shots.append(path)

    async with async_playwright() as pw:
        browser = await launch(pw)
        page = None
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = await context.new_page()
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

            def _request(request) -> None:
                if request.url.startswith(("http://", "https://", "ws://", "wss://")):
                    if _host_port(request.url.replace("ws", "http", 1) if request.url.startswith("ws") else request.url) not in allowed_hosts:
                        problems.append(f"request outside the deployment: {request.url}")

            page.on("request", _request)

            # The demo page derives the bot server (same hostname, port 5005). When the stack runs
            # elsewhere, add data-server to the script tag as the parser inserts it (the widget is
            # deferred, so it reads its attributes later). Not by rewriting the response: Chromium
            # treats a fulfilled document as public and blocks its requests to loopback addresses.
            if (rasa_host, rasa_port) != (desk_host, 5005):
                await page.add_init_script(
                    """(server => new MutationObserver((records, observer) => {
                      const tag = document.querySelector('script[src*="onewindow-widget.js"]');
                      if (tag) { tag.setAttribute('data-server', server); observer.disconnect(); }
                    }).observe(document, {childList: true, subtree: true}))(%s)"""
                    % json.dumps(rasa_url)
                )

            await page.goto(f"{desk_url}/")
            await expect(page).to_have_title("深圳市龙岗区政务服务（演示页面）")
            launcher = page.locator(LAUNCHER)
            await expect(launcher).to_be_visible(timeout=UI_MS)
            await expect(launcher).to_contain_text("一窗通办助手")
            server = await page.evaluate("window.OneWindowWidget.server")
            assert _host_port(server) == (rasa_host, rasa_port), server
            await shot(page, "page-with-launcher")

            # Keyboard: Enter on the launcher opens the panel with the input focused, Escape closes it.
            await launcher.focus()
            await page.keyboard.press("Enter")
            await expect(page.locator(PANEL)).to_be_visible(timeout=UI_MS)
            await expect(page.locator(INPUT)).to_be_focused()
            await page.keyboard.press("Escape")
            await expect(page.locator(PANEL)).to_be_hidden()
            await expect(launcher).to_be_focused()
            await _open_widget(page)
            await expect(page.locator(INPUT)).to_have_attribute("maxlength", "500")
            await expect(page.locator(f"{W} .ow-welcome")).to_contain_text("您好，我是一窗通办助手")
            # An empty message is not sent.
            await page.locator(INPUT).press("Enter")
            assert await page.locator(USER_MSGS).count() == 0
            await shot(page, "panel-welcome")

            # 1. A greeting gets a reply.
            index = await _ask(page, "你好")
            assert (await page.locator(BOT_MSGS).nth(index).inner_text()).strip()

            # 2. A materials question gets a card with a materials checklist.
            cards_before = await page.locator(CARDS).count()
            await _ask(page, "办护照要带什么材料")
            await expect(page.locator(CARDS), "办护照要带什么材料 should answer with a card").to_have_count(
                cards_before + 1, timeout=REPLY_MS
            )
            card = page.locator(CARDS).nth(cards_before)
            await expect(card.locator(".ow-card-title")).to_contain_text("护照")
            materials = card.locator(".ow-checklist li")
            assert await materials.count() >= 1, "the passport card has no materials checklist"
            await expect(card.locator(".ow-tag--required").first).to_have_text("必须")
            await card.scroll_into_view_if_needed()
            await shot(page, "passport-card")

            # Rating: no user bubble, a thank-you in the card.
            users = await page.locator(USER_MSGS).count()
            await card.locator(".ow-rate--good").click()
            await expect(card.locator(".ow-rating")).to_contain_text("感谢您的评价", timeout=UI_MS)
            assert await page.locator(USER_MSGS).count() == users

            # 3. An ambiguous question offers choices; the second one gets its card.
            groups_before = await page.locator(CHOICES).count()
            await _ask(page, "身份证怎么办")
            choices = page.locator(CHOICES).nth(groups_before)  # the group of this answer, not a later one
            await expect(choices.locator("button").nth(1), "身份证怎么办 should offer at least two choices").to_be_visible(
                timeout=REPLY_MS
            )
            await shot(page, "id-card-choices")
            second = choices.locator("button").nth(1)
            chosen = (await second.inner_text()).strip()
            cards_before = await page.locator(CARDS).count()
            await second.click()
            await expect(page.locator(USER_MSGS).last).to_contain_text(chosen, timeout=UI_MS)
            await expect(second).to_be_disabled()
            await expect(choices.locator("button").first).to_be_disabled()
            await expect(page.locator(CARDS), f"choosing {chosen} should answer with a card").to_have_count(
                cards_before + 1, timeout=REPLY_MS
            )
            chosen_card = page.locator(CARDS).nth(cards_before)
            await expect(chosen_card.locator(".ow-card-title")).not_to_be_empty()
            await chosen_card.scroll_into_view_if_needed()
            await shot(page, "chosen-card")

            # 4. A reload keeps the whole conversation.
            await page.wait_for_timeout(1500)  # let any trailing bot message of the turn land
            before_reload = await page.evaluate(TRANSCRIPT_JS)
            cards = await page.locator(CARDS).count()
            assert sum(1 for m in before_reload if m["role"] == "user") == 4, before_reload
            await page.reload()
            await _open_widget(page)
            await expect(page.locator(USER_MSGS)).to_have_count(4, timeout=UI_MS)
            after_reload = await page.evaluate(TRANSCRIPT_JS)
            assert after_reload[: len(before_reload)] == before_reload, json.dumps(
                {"before": before_reload, "after": after_reload}, ensure_ascii=False, indent=1
            )
            assert await page.locator(CARDS).count() >= cards
            await expect(page.locator(CHOICES).nth(groups_before).locator("button").nth(1)).to_be_disabled()
            await shot(page, "after-reload")

            # 5. At phone width the panel is the screen.
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.wait_for_timeout(300)
            box = await page.locator(PANEL).bounding_box()
            assert box is not None
            assert abs(box["x"]) <= 1 and abs(box["width"] - 390) <= 1, box
            assert abs(box["y"]) <= 1 and abs(box["height"] - 844) <= 1, box
            await shot(page, "phone-390x844")

            # 6. An ID number typed in the chat is not kept in the browser's storage in clear.
            await _ask(page, "我的身份证号是110101199003074516，手机13912345678，办护照要什么")
            await page.wait_for_timeout(1500)
            stored = await page.evaluate("() => JSON.stringify(Object.assign({}, window.localStorage))")
            assert "110101199003074516" not in stored and "13912345678" not in stored, stored
            assert "1101**********4516" in stored and "139****5678" in stored, stored

            assert not problems, "\n".join(problems)
        except BaseException:
            if page is not None:
                try:
                    await shot(page, "failure")
                except Exception:  # the browser may be gone
                    pass
            raise
        finally:
            await browser.close()
            record_property("screenshots", " ".join(str(p) for p in shots))
            print("\nwidget screenshots:\n" + "\n".join(f"  {p}" for p in shots))
