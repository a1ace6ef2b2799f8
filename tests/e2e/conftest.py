"""Browser journeys: Playwright (pytest-playwright) driving Debian's chromium against the app
served by pytest-django's ``live_server`` (a real server thread on the real test database).

The browser is the system one (``apt-get install chromium fonts-noto-cjk``): Playwright's own
browser download does not work on these machines. Without it the journeys skip with a reason,
and fail under CI=true, like the other services in tests/conftest.py.

Each journey saves a full-page screenshot of its last screen into ``E2E_SCREENSHOTS`` (a
temporary directory unless set; ``make screenshots`` sets it to docs/screenshots/).
"""

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import expect

from core.models import Job
from tests.conftest import REQUIRE_SERVICES

# Playwright's sync API keeps an asyncio loop running in the main thread for the rest of the
# session, which Django's async-unsafe guard reads as "called from async code".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
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
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"needs chromium at {CHROMIUM}: apt-get install -y chromium fonts-noto-cjk"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A Chinese browser in China: Accept-Language picks the default zh-hans UI.
    return {
        **browser_context_args,
        "viewport": DESKTOP,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "accept_downloads": True,
    }


@pytest.fixture(autouse=True)
def _e2e_page_timeouts(page):
    # Generous: two cores are shared by several test runs; nothing here asserts a timing.
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(60_000)


@pytest.fixture(autouse=True)
def _chinese_labels():
    """Expected texts are looked up in the UI's language (zh-hans) through gettext."""
    with translation.override("zh-hans"):
        yield


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory):
    path = os.environ.get("E2E_SCREENSHOTS")
    path = Path(path) if path else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def shot(screenshot_dir):
    """shot(page, "name") saves a full-page PNG of the current screen as name.png."""

    def save(page, name):
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=path, full_page=True, animations="disabled")
        return path

    return save


@pytest.fixture
def login(live_server):
    """login(page, user) signs in through the login form (factory passwords: pw-<username>)."""

    def sign_in(page, user, next_url="/"):
        page.goto(f"{live_server.url}/login/?next={next_url}")
        page.locator("input[name=username]").fill(user.username)
        page.locator("input[name=password]").fill("pw-" + user.username)
        with page.expect_navigation():
            page.locator("input[name=password]").press("Enter")
        assert "/login/" not in page.url, "login failed"

    return sign_in


def wait_for_job(page, timeout=120):
    """On a job page: the progress bar reaches 100% and the job is finished (jobs may run in
    the request or outside it; the page polls)."""
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    match = re.search(r"/jobs/(\d+)/$", page.url)
    expect(page.get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", "100", timeout=timeout * 1000
    )
    deadline = time.monotonic() + timeout
    job = Job.objects.get(pk=int(match.group(1)))
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    return job
