"""Headless Chromium for the portal's browser tests: Debian's ``/usr/bin/chromium`` driven by
Playwright for Python (``playwright install`` cannot download browsers here, and need not).

Use the ``page`` fixture (a fresh browser context per test, so no cookie leaks between tests),
:func:`log_in` to log in through the account page as a person would, and :func:`screenshot` to
keep a picture of a page for the user guide (``var/screenshots/``, or ``LICK_SCREENSHOT_DIR``).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("LICK_SCREENSHOT_DIR", Path(__file__).resolve().parents[1] / "var" / "screenshots"))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the test session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API runs an event loop in this thread; the tests' own database
    # work (fixtures, Django's ORM) is synchronous and safe beside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            # root in a container: no setuid sandbox; WebGL only through SwiftShader (Chromium 144+)
            args=["--no-sandbox", "--enable-unsafe-swiftshader", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A new page in its own browser context (own cookies), a laptop-sized window."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def log_in(page, base: str, username: str, password: str) -> None:
    """Log in through the account page's form, as a person does."""
    page.goto(f"{base}/auth/")  # the account page (vo_services/accounts/urls.py)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Logged in as {username}").wait_for()


def screenshot(page, name: str) -> Path:
    """Save the whole page as ``<name>.png`` for the user guide; returns the file."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target
