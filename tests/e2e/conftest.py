"""Fixtures for the browser journeys: one fresh Chromium per test and width."""

from __future__ import annotations

import pytest

from tests.conftest import chromium_path
from tests.e2e.browser import WIDTHS, chromium_page, screenshot
from tests.factories import PASSWORD


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(params=list(WIDTHS))
def width(request):
    """The width a journey runs at: "desktop" (1280 px) or "phone" (390 px)."""
    return request.param


@pytest.fixture
def page(request, width, live_server, monkeypatch):
    """A page in a fresh headless Chromium at `width`; screenshot kept on failure."""
    # Playwright's sync API keeps an event loop in this thread; the ORM calls a
    # test makes between browser steps happen outside it, so this is safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with chromium_page(chromium_path(), viewport=WIDTHS[width]) as browser_page:
        browser_page.base_url = live_server.url
        yield browser_page
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            path = screenshot(browser_page, f"FAILED-{request.node.nodeid}")
            print(f"screenshot of the failing step: {path}")


def sign_in(page, username: str, password: str = PASSWORD, *, next_path: str = "/") -> None:
    """Log in through the login form, as a person does, and land on `next_path`."""
    page.goto(f"{page.base_url}/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
