"""Browser tests: Debian's Chromium driven by Playwright against a live Django server.

Every test in this folder is marked `browser` (see pytest_collection_modifyitems), runs on a
transactional database the live server can see, and can use:

- `page`: a fresh browser tab at 1280 px, already pointed at the live server;
- `sign_in_as(user)`: a signed-in session without typing (the sign-in test types);
- `check_page(page, name)`: screenshots at 1280 px and 768 px into screenshots/, and axe's
  WCAG 2.2 AA rules at both widths, failing with a readable list of violations.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDTHS = {1280: 900, 768: 1024}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "screenshots"
BROWSER_TESTS_DIR = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Marked here rather than in each module, so a new browser test cannot forget it
    # (a conftest's own pytestmark does not reach the tests beside it).
    for item in items:
        if BROWSER_TESTS_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _browser_database(transactional_db: None) -> None:
    """The live server runs in another thread, so test data must be committed for it to see."""


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings: Any) -> None:
    # The live server speaks plain HTTP on localhost.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(
            f"Chromium was not found at {CHROMIUM_PATH}. Install it (apt-get install chromium) or set CHROMIUM_PATH."
        )
    # Playwright's sync API keeps an asyncio event loop in this thread, and Django then refuses
    # ORM calls from it. The test thread only creates data and reads it back, so that is safe.
    # Set here rather than on import, so a run without browser tests keeps Django's guard.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def context(browser: Browser, live_server: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": WIDTHS[1280]},
        locale="en-AU",
        timezone_id="Australia/Sydney",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(context: BrowserContext, console_errors: list[str]) -> Page:
    page = context.new_page()

    def remember_error(message: ConsoleMessage) -> None:
        # A refused inline style or script (Content-Security-Policy) shows up here; a page
        # that answers 403 or 404 on purpose logs "Failed to load resource", which is expected.
        if message.type == "error" and "Failed to load resource" not in message.text:
            console_errors.append(message.text)

    page.on("console", remember_error)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    return page


def signed_in_cookie(user: Any, url: str) -> dict[str, str]:
    """A session cookie for `user`, as if they had just signed in."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.value, "url": url}


@pytest.fixture
def sign_in_as(context: BrowserContext, live_server: Any) -> Callable[[Any], None]:
    """Give the browser a signed-in session for `user` without typing (the sign-in test types)."""

    def sign_in(user: Any) -> None:
        context.clear_cookies()
        context.add_cookies([signed_in_cookie(user, live_server.url)])

    return sign_in


@pytest.fixture
def context_without_scripts(browser: Browser, live_server: Any) -> Iterator[BrowserContext]:
    """For checking that a page works when JavaScript is off or has not loaded."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def screenshot_path(name: str, width: int) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return SCREENSHOT_DIR / f"{slug}--{width}.png"


def axe_violations(page: Page, tags: list[str] = AXE_TAGS) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]})
    return results.response["violations"]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}  <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(str(target) for target in node['target'])}")
            lines.append(f"       {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n       ")
            if summary:
                lines.append(f"       {summary}")
    return "\n".join(lines)


@pytest.fixture
def check_accessibility() -> Callable[[Page], None]:
    """Fail with a readable list when axe finds any WCAG 2.2 AA violation on the page as it is now."""

    def check(page: Page, where: str = "", *, tags: list[str] = AXE_TAGS) -> None:
        violations = axe_violations(page, tags)
        if violations:
            report = describe_violations(violations)
            pytest.fail(f"{len(violations)} accessibility problem(s) on {where or page.url}:\n{report}", pytrace=False)

    return check


@pytest.fixture
def check_page(console_errors: list[str]) -> Callable[..., None]:
    """Screenshot the page at each width and run axe at each width; restore the 1280 px view.
    `name` names the screenshots (screenshots/<name>--1280.png), so keep it unique across tests."""

    def check(page: Page, name: str, *, axe: bool = True) -> None:
        SCREENSHOT_DIR.mkdir(exist_ok=True)
        problems = []
        for width, height in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_load_state("load")
            page.screenshot(path=screenshot_path(name, width), full_page=True)
            if axe:
                violations = axe_violations(page)
                if violations:
                    problems.append(f"at {width} px on {page.url}:\n{describe_violations(violations)}")
        page.set_viewport_size({"width": 1280, "height": WIDTHS[1280]})
        if console_errors:
            problems.append("the browser reported errors:\n" + "\n".join(f"- {error}" for error in console_errors))
        if problems:
            pytest.fail(f"Problems on the {name} page " + "\n".join(problems), pytrace=False)

    return check
