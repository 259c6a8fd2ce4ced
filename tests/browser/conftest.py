"""A real Chromium (Debian's package, never a downloaded one) against the real server.

Without Chromium or Playwright the browser tests are skipped, saying why; under CI
(``CI`` set) they fail instead."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.browser import support
from tests.browser.support import PASSWORD, Tab, WidgetServer
from tests.conftest import _unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[support.Browser]:
    if support.async_playwright is None:
        _unavailable("Playwright for Python is not installed: pip install -e '.[test]'")
    if shutil.which(CHROMIUM) is None:
        _unavailable(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium)")
    async with support.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[WidgetServer]:
    """The real server, open 24/7, with one counsellor: alice."""
    process = WidgetServer(tmp_path)
    try:
        await process.start()
        await process.add_counsellor("alice", PASSWORD)
        yield process
    finally:
        await process.stop()


@pytest_asyncio.fixture
async def tab(browser: support.Browser) -> AsyncIterator[Tab]:
    """A fresh tab. Whatever the test did, the page raised no error and no request of it
    left this machine."""
    opened = await Tab.open(browser)
    try:
        yield opened
    finally:
        await opened.close()
    assert not opened.errors, f"the page raised: {opened.errors}"
    assert not opened.left_loopback(), f"requests left loopback: {opened.left_loopback()}"
