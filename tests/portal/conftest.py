"""Fixtures for the portal's browser tests: the API, a fresh portal link, headless Chromium, a
local webhook receiver and the page driver (all defined in portal_support.py).

Needs WEBHOOKS_PORTAL_BASE_URL (dev-server's origin, e.g. http://127.0.0.1:3000) and
WEBHOOKS_PORTAL_ADMIN_KEY (an admin key of one organization that dev-server accepts). Both are
required: without them every test errors; none is skipped.
"""

import os
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from portal_support import CSP_RECORDER, DESKTOP, Api, Portal, Receiver, console_errors


def _required(name):
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(f"{name} must be set (see tests/portal/conftest.py)", pytrace=False)
    return value


@pytest.fixture(scope="session")
def base_url():
    return _required("WEBHOOKS_PORTAL_BASE_URL").rstrip("/")


@pytest.fixture(scope="session")
def admin_key():
    return _required("WEBHOOKS_PORTAL_ADMIN_KEY")


@pytest.fixture(scope="session")
def api(base_url, admin_key):
    return Api(base_url, admin_key)


@pytest.fixture
def portal_link(api):
    """A fresh portal link, as the API hands it out."""
    status, answer = api.call("POST", "/v1/developer/portal-sessions")
    assert status == 201, f"POST /v1/developer/portal-sessions answered {status}: {answer}"
    assert "#token=" in answer["url"], answer
    assert answer["expires_at"], answer
    return answer["url"]


@pytest.fixture
def endpoints(api):
    """Creates endpoints through the API (or tracks ones the page made) and deletes them after
    the test, so the organization's 50-endpoint limit is never reached across runs."""

    class Endpoints:
        def __init__(self):
            self.ids = []

        def create(self, label, url, events=()):
            created = api.create_endpoint(label, url, events)
            self.ids.append(created["id"])
            return created

        def track(self, endpoint_id):
            self.ids.append(endpoint_id)

    made = Endpoints()
    yield made
    for endpoint_id in made.ids:
        api.call("DELETE", f"/v1/developer/webhook-endpoints/{endpoint_id}")


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def driver():
    profile = tempfile.mkdtemp(prefix="portal-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_RECORDER})
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": DESKTOP[0], "height": DESKTOP[1], "deviceScaleFactor": 1, "mobile": False},
        )
        yield browser
        problems = console_errors(browser)
        assert not problems, f"the page logged errors: {problems}"
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def portal(driver, base_url):
    return Portal(driver, base_url)
