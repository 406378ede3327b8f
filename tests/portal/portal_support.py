"""What the portal's browser tests share: the API, a local webhook receiver, signature checks
and a page driver that finds things by the names a person reads. The fixtures are in conftest.py.
"""

import base64
import hashlib
import hmac
import json
import pathlib
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "target" / "portal-screenshots"
DESKTOP = (1280, 900)
PHONE = (375, 812)
WAIT = 20  # seconds a page gets to show what a test waits for
EXPIRED = "This link has expired or is not valid. Ask for a new portal link."


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def message_id(event_id):
    """The webhook-id a delivery of this event carries: msg_ and the id without hyphens."""
    return "msg_" + event_id.replace("-", "")


def wait_until(condition, timeout=30, interval=0.2, message="condition"):
    """Polls condition() until it returns something truthy, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


# ---- the API ------------------------------------------------------------------------------


class Api:
    def __init__(self, base_url, key):
        self.base_url = base_url
        self.key = key

    def call(self, method, path, body=None, query=None):
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw) if raw else None
            except ValueError:
                return error.code, raw.decode(errors="replace")

    def ok(self, method, path, body=None, query=None, expect=(200, 201, 202, 204)):
        status, answer = self.call(method, path, body, query)
        assert status in expect, f"{method} {path} answered {status}: {answer}"
        return answer

    def create_endpoint(self, label, url, events=()):
        return self.ok("POST", "/v1/developer/webhook-endpoints", {"label": label, "url": url, "events": list(events)})

    def endpoint(self, endpoint_id):
        for endpoint in self.ok("GET", "/v1/developer/webhook-endpoints"):
            if endpoint["id"] == endpoint_id:
                return endpoint
        return None

    def endpoint_by_label(self, label):
        for endpoint in self.ok("GET", "/v1/developer/webhook-endpoints"):
            if endpoint["label"] == label:
                return endpoint
        return None

    def publish(self, event_type, data):
        """dev-server's POST /_dev/events: publishes an event for the key's organization."""
        return self.ok("POST", "/_dev/events", {"type": event_type, "data": data})["event_id"]

    def deliveries(self, **query):
        results, cursor = [], None
        for _ in range(50):
            page = self.ok("GET", "/v1/developer/webhook-deliveries", query={**query, "limit": 200, "cursor": cursor})
            results += page["results"]
            cursor = page["next_cursor"] if page["has_more"] else None
            if not cursor:
                return results
        raise AssertionError("the delivery log did not end within 50 pages")

    def delivery(self, event_id, endpoint_id):
        """The delivery's record, or None while there is none to show: a receiver has its request
        a moment before the attempt is written to the log."""
        path = f"/v1/developer/webhook-deliveries/{event_id}"
        status, answer = self.call("GET", path, query={"endpoint_id": endpoint_id})
        assert status in (200, 404), f"GET {path} answered {status}: {answer}"
        return answer if status == 200 else None


# ---- the receiver -------------------------------------------------------------------------


class Received:
    def __init__(self, path, headers, body):
        self.path = path
        self.headers = headers  # lower-cased names
        self.body = body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None

    @property
    def webhook_id(self):
        return self.headers.get("webhook-id", "")

    @property
    def type(self):
        return (self.json or {}).get("type")


class Receiver:
    """A webhook receiver on 127.0.0.1 in a thread. Tests wait on its condition for what they
    expect to arrive; `answers` is a list of statuses to answer with first (then 200)."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver.condition:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.requests.append(Received(self.path, headers, body))
                    receiver.condition.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate=lambda r: True, count=1, timeout=30):
        """Blocks until `count` received requests match; returns them."""
        with self.condition:
            matched = self.condition.wait_for(lambda: len([r for r in self.requests if predicate(r)]) >= count, timeout)
            found = [r for r in self.requests if predicate(r)]
        assert matched, f"the receiver got {len(found)} matching request(s) of {count} within {timeout} s"
        return found

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def standard_signature_ok(secret, request):
    """Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` keyed with the
    base64-decoded secret; the header may list several."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, given) for given in request.headers.get("webhook-signature", "").split())


def platform_signature_ok(secret, request):
    """X-ThunderPhone-Signature: hex HMAC-SHA256 of the raw body keyed with the secret string."""
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers.get("x-thunderphone-signature", ""))


# ---- the browser --------------------------------------------------------------------------

# Runs before the page's own scripts in every document (DevTools scripts are outside the CSP):
# records each Content-Security-Policy violation, so a test can tell nothing was blocked.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
});
"""


def console_errors(browser):
    """Severe console entries other than failed loads (the 401 an expired link gets, and the
    favicon's 404, are expected), plus any CSP violation the page caused."""
    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]
    try:
        problems += browser.execute_script("return window.__cspViolations || []")
    except Exception:  # noqa: BLE001 - a page that is gone has nothing more to say
        pass
    return problems


class Portal:
    """Drives the portal the way a person does: by the names on its buttons, links and labels."""

    def __init__(self, browser, base_url):
        self.driver = browser
        self.base_url = base_url

    def wait(self, condition, timeout=WAIT, message=None):
        def safe(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False

        return WebDriverWait(self.driver, timeout).until(safe, message)

    def open(self, link):
        """Signs in with a portal link and waits for the endpoints page."""
        self.driver.get(link)
        self.wait_heading("Endpoints")
        self.wait(
            lambda d: d.execute_script("return performance.getEntriesByName('endpoints-rendered').length > 0"),
            message="the endpoints table to be drawn",
        )

    def go(self, route):
        """Follows an in-app address (the hash part), as a bookmarked link would."""
        self.driver.execute_script("location.hash = arguments[0]", route)

    def heading(self):
        return self.driver.find_element(By.CSS_SELECTOR, "main h1").text

    def wait_heading(self, text):
        self.wait(
            lambda d: any(h.text == text for h in d.find_elements(By.CSS_SELECTOR, "main h1")),
            message=f"a page headed {text!r}",
        )

    def wait_text(self, text, timeout=WAIT):
        self.wait(lambda d: text in d.find_element(By.TAG_NAME, "body").text, timeout, message=f"the text {text!r}")

    def button(self, name, within=None):
        scope = within or self.driver
        found = self.wait(
            lambda d: [
                b for b in scope.find_elements(By.TAG_NAME, "button") if b.text.strip() == name and b.is_displayed()
            ],
            message=f"a button named {name!r}",
        )
        return found[0]

    def click(self, name, within=None):
        self.button(name, within).click()

    def link(self, name):
        return self.wait(
            lambda d: [a for a in d.find_elements(By.TAG_NAME, "a") if a.text.strip() == name and a.is_displayed()],
            message=f"a link named {name!r}",
        )[0]

    def field(self, label, within=None):
        """The control a <label> with this text names."""
        scope = within or self.driver

        def find(_):
            for element in scope.find_elements(By.TAG_NAME, "label"):
                # textContent: a hidden field's label has no visible text.
                if element.get_attribute("textContent").strip() == label and element.get_attribute("for"):
                    return self.driver.find_element(By.ID, element.get_attribute("for"))
            return False

        return self.wait(find, message=f"a field labelled {label!r}")

    def section(self, title):
        """The panel whose h2 reads title."""
        return self.wait(
            lambda d: [
                s
                for s in d.find_elements(By.CSS_SELECTOR, "section.panel")
                if s.find_elements(By.TAG_NAME, "h2") and s.find_element(By.TAG_NAME, "h2").text == title
            ],
            message=f"a section titled {title!r}",
        )[0]

    def endpoint_row(self, endpoint_id):
        return self.wait(
            lambda d: d.find_elements(By.CSS_SELECTOR, f'table.endpoints tr[data-endpoint-id="{endpoint_id}"]'),
            message=f"the endpoints table row of {endpoint_id}",
        )[0]

    def open_endpoint(self, endpoint):
        """From the endpoints page, follows the endpoint's label to its page."""
        self.go("#/endpoints")
        row = self.endpoint_row(endpoint["id"])
        row.find_element(By.CSS_SELECTOR, "a.label-link").click()
        self.wait(lambda d: self.driver.find_elements(By.CSS_SELECTOR, "section.panel"), message="the endpoint page")
        self.wait(
            lambda d: d.find_element(By.CSS_SELECTOR, "main h1").text == endpoint["label"],
            message="the endpoint's heading",
        )

    def delivery_rows(self):
        return self.driver.find_elements(By.CSS_SELECTOR, "table.deliveries tbody tr")

    def screenshots(self, flow):
        """Saves the page at desktop and phone widths, light and dark, under
        target/portal-screenshots/, and checks that nothing overflows the viewport sideways."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            for scheme in ("light", "dark"):
                self.driver.execute_cdp_cmd(
                    "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
                )
                for name, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
                    self.driver.execute_cdp_cmd(
                        "Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": name == "phone"},
                    )
                    self.wait(lambda d, w=width: d.execute_script("return window.innerWidth") == w, 5)
                    overflow = self.driver.execute_script(
                        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
                    )
                    assert overflow <= 0, f"{flow}: the page is {overflow}px wider than a {width}px screen"
                    full = self.driver.execute_script("return Math.min(document.documentElement.scrollHeight, 8000)")
                    shot = self.driver.execute_cdp_cmd(
                        "Page.captureScreenshot",
                        {
                            "format": "png",
                            "captureBeyondViewport": True,
                            "clip": {"x": 0, "y": 0, "width": width, "height": max(full, height), "scale": 1},
                        },
                    )
                    suffix = "" if scheme == "light" else "-dark"
                    (SCREENSHOTS / f"{flow}-{name}{suffix}.png").write_bytes(base64.b64decode(shot["data"]))
        finally:
            self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": DESKTOP[0], "height": DESKTOP[1], "deviceScaleFactor": 1, "mobile": False},
            )
