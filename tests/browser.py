"""Shared by the browser tests: Debian's chromium driven by Playwright (never a downloaded browser)."""

import tempfile
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
# Screenshots to look at by eye land here (/tmp on Linux).
SHOTS = Path(tempfile.gettempdir())

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="/usr/bin/chromium is missing (apt-get install chromium); browser tests never download one",
    ),
]


@pytest.fixture
def plain_static_names(settings):
    """The live server serves static files through the finders, which know no hashed manifest names
    (the storage used when DEBUG is off), so the pages must ask for the plain names."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def page(plain_static_names, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # Inside sync_playwright the ORM runs in another context, hence on another connection:
            # close it here, or it would keep the test database from being dropped.
            connections.close_all()


def choose(page, input_id: str) -> None:
    """Tick a radio or checkbox through its label, as a user does (the inputs are drawn as buttons)."""
    page.locator(f"label[for='{input_id}']").click()
