"""A real browser on the staff flows: Playwright (Python) driving Debian's Chromium against
pytest-django's live server. Never a browser download: `.ci/run` installs `chromium` with apt.

Every page is checked as a person would meet it: no answer of 500 or more, no JavaScript error in the
console, and no page slower than BROWSER_MAX_PAGE_S (1 s). A failing test leaves a screenshot under
var/browser/. With UPDATE_ADMIN_TOUR=1 the tour screenshots are written to docs/admin-tour/ too.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from it
# (fixtures, factories) unless told that this test thread is a plain synchronous one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
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
MAX_PAGE_S = float(os.environ.get("BROWSER_MAX_PAGE_S", "1.0"))
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "browser"
TOUR = ROOT / "docs" / "admin-tour"
NAVIGATION_TTFB_JS = (
    "(() => { const n = performance.getEntriesByType('navigation')[0]; return n.responseStart - n.requestStart; })()"
)
STAFF_PASSWORD = "browser-staff-pw-1"  # noqa: S105 - a test account on a throwaway database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests and run them last: they are the slowest, and their live server's
    transactional flushes empty Django's content-type cache, which query-count tests elsewhere expect warm."""
    browser = [item for item in items if "tests/browser/" in str(item.fspath).replace(os.sep, "/")]
    for item in browser:
        item.add_marker(pytest.mark.browser)
    if browser:
        chosen = set(browser)
        items[:] = [item for item in items if item not in chosen] + browser


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_context(chromium):
    """One browser profile for the whole suite, as a staff member's browser keeps its cache of static files;
    cookies are cleared per test (each test signs in afresh on its own database)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    yield context
    context.close()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `.ci/run` installs Debian's chromium (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Watch:
    """What the page did wrong: 5xx answers, console errors, uncaught exceptions, slow pages."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.timings: list[tuple[str, float]] = []

    def attach(self, page) -> None:
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"console error: {msg.text}"))
        page.on("pageerror", lambda exc: self.problems.append(f"JavaScript error: {exc}"))
        page.on("response", self._response)

    def _response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} {response.url}")
        elif response.status == 404 and response.request.resource_type != "document":
            self.problems.append(f"missing resource (404): {response.url}")

    def timed(self, what: str, started: float, page=None) -> None:
        elapsed = time.perf_counter() - started
        if page is not None:  # the server's share: time to the first byte of the page
            server_ms = page.evaluate(NAVIGATION_TTFB_JS)
            what = f"{what} (server {server_ms:.0f} ms)"
        self.timings.append((what, elapsed))
        if elapsed > MAX_PAGE_S:
            self.problems.append(f"slow page: {what} took {elapsed:.2f}s (limit {MAX_PAGE_S:.1f}s)")


class Staff:
    """A signed-in staff member's browser tab, with timing of every page it opens."""

    def __init__(self, page, base_url: str, watch: Watch) -> None:
        self.page, self.base_url, self.watch = page, base_url, watch

    def open(self, path: str) -> None:
        started = time.perf_counter()
        response = self.page.goto(self.base_url + path, wait_until="load")
        self.watch.timed(path, started, self.page)
        assert response is not None
        assert response.status < 400, f"{path}: HTTP {response.status}"

    def submit(self, what: str, click) -> None:
        """Click something that submits a form and wait for the page it leads to (timed)."""
        started = time.perf_counter()
        with self.page.expect_navigation(wait_until="load"):
            click()
        self.watch.timed(what, started)

    def action(self, changelist: str, action: str, *, rows: list[int]) -> None:
        """Run an admin action on the rows with these ids, as a person does: tick, choose, Go."""
        self.open(changelist)
        for pk in rows:
            self.page.check(f'input[name="_selected_action"][value="{pk}"]')
        self.page.select_option('select[name="action"]', action)
        self.submit(f"{changelist} → {action}", lambda: self.page.click('button[name="index"]'))

    def messages(self) -> list[str]:
        return [text.strip() for text in self.page.locator("ul.messagelist li").all_inner_texts()]

    def shot(self, name: str) -> Path:
        """A tour screenshot: var/browser/tour/, and docs/admin-tour/ with UPDATE_ADMIN_TOUR=1."""
        target = SHOTS / "tour" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(target), full_page=False)
        if os.environ.get("UPDATE_ADMIN_TOUR"):
            TOUR.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, TOUR / target.name)
        return target


@pytest.fixture
def staff(request, chromium_context, live_server, django_user_model, settings, _admin_work_inline) -> Iterator[Staff]:
    # The embedded mode as deployed without a broker: admin jobs run in a thread of the server.
    settings.ADMIN_BACKGROUND_THREADS = True
    settings.ADMIN_BATCH_POLL_INTERVAL_S = 0.2
    settings.LLM_PROVIDER = "offline"
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", STAFF_PASSWORD)
    context = chromium_context
    context.clear_cookies()
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = Watch()
    watch.attach(page)
    tab = Staff(page, live_server.url, watch)
    tab.user = user
    # Warm the server's template cache once so the first measured page is not a cold start.
    page.goto(live_server.url + "/admin/login/")
    tab.open("/admin/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", STAFF_PASSWORD)
    tab.submit("log in", lambda: page.click('input[type="submit"]'))
    assert page.url.rstrip("/").endswith("/admin"), page.url
    yield tab
    print("page times:", ", ".join(f"{what} {seconds * 1000:.0f} ms" for what, seconds in watch.timings))
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed or watch.problems:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{request.node.name}.png"), full_page=True)
    page.close()
    assert watch.problems == [], "\n".join(watch.problems)
