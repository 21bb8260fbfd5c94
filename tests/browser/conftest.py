"""Playwright against a live server, in Debian's headless Chromium (no browser downloads here)."""

import os
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM  # noqa: F401  (the `browser` session fixture lives there too)

# Playwright's sync API runs an event loop in this thread; the ORM calls made by tests to set
# up data are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def open_page(browser, base_url: str):
    """A page in a context of its own (its own cookies: one person), collecting console errors.
    Returns (context, page); close the context when done."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on(
        "console",
        lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    return context, page


@pytest.fixture
def page(browser, live_server):
    context, page = open_page(browser, live_server.url)
    yield page
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
