"""Headless Debian Chromium driven by Playwright (never a downloaded browser).

Journeys use the fixtures in `tests/e2e/conftest.py`: `page` opens a fresh
browser at each width of `WIDTHS`, `sign_in` logs a user in through the login
form, and `assert_fits_width` checks that nothing scrolls sideways. A failing
journey leaves a screenshot of the page it failed on in `var/e2e/`.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "e2e"

# Flags the machine needs: no sandbox as root, and no background traffic to
# Google hosts that a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The two widths every journey runs at: a desk and a phone.
WIDTHS = {
    "desktop": {"width": 1280, "height": 860},
    "phone": {"width": 390, "height": 844},
}

# Generous: a busy 2-core CI machine renders slowly; waits end on a condition.
DEFAULT_TIMEOUT_MS = 20_000


@contextlib.contextmanager
def chromium_page(executable: str, viewport: dict | None = None):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport=viewport or {"width": 1366, "height": 860})
            page.set_default_timeout(DEFAULT_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def artifact_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:150]


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{artifact_name(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth,"
        " document.body ? document.body.scrollWidth : 0) - window.innerWidth"
    )


def assert_fits_width(page) -> None:
    overflow = horizontal_overflow(page)
    assert overflow <= 1, f"{page.url} scrolls sideways by {overflow}px at this width"


def line_count(locator) -> int:
    """How many lines the element's text is laid out on, as a reader sees it wrapped."""
    return locator.evaluate(
        "element => { const range = document.createRange(); range.selectNodeContents(element);"
        " return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size; }"
    )


def open_action(page, key: str) -> None:
    """Open an action's disclosure on the incident page, as a person clicks it."""
    if page.locator(f"#do-{key}[open]").count() == 0:
        page.locator(f"#do-{key} > summary").click()


def in_view(page, locator) -> bool:
    """The top of `locator` is on screen without scrolling by hand."""
    top = locator.evaluate("element => element.getBoundingClientRect().top")
    return -2 <= top < page.viewport_size["height"] - 40
