"""Headless Chromium for the end-to-end tests: Debian's /usr/bin/chromium driven by Playwright
(never a downloaded browser). Test modules do `from browser import ...` and set
`pytestmark = requires_chromium`. In CI (CI set) a missing browser is an error, not a skip:
`make test` installs it (`make browser`)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

if os.environ.get("CI") and not CHROMIUM.exists():
    raise RuntimeError("/usr/bin/chromium is missing in CI; `make browser` should have installed it")

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing (install Debian's chromium: apt-get install -y chromium)",
)
async_api = pytest.importorskip("playwright.async_api", reason="playwright (Python) is not installed in this environment")
async_playwright = async_api.async_playwright
expect = async_api.expect


async def launch(playwright):
    """A headless Chromium browser."""
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
