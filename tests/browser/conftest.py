"""Headless Chromium for end-to-end tests (Playwright's sync API against pytest-django's
``live_server``). Debian's chromium is used: ``TONGBAN_CHROMIUM`` or /usr/bin/chromium."""

import os
import tempfile
from pathlib import Path

import pytest
from django.core.cache import cache

# Playwright's sync API runs an event loop in this thread; Django would refuse ORM calls then.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("TONGBAN_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("TONGBAN_SCREENSHOTS", tempfile.gettempdir()))


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def page_phone(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page_desktop(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
