"""The web portal in headless Chromium, one test per flow, against dev-server.

Every test makes its own endpoints with unique labels (the organization is shared by the whole
run) and deletes them afterwards; it finds things by the names a person reads.
"""

import json
import secrets
from datetime import datetime, timedelta, timezone

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select

from portal_support import EXPIRED, message_id, platform_signature_ok, standard_signature_ok, unique, wait_until

PAGE_SIZE = 20  # what the portal asks the delivery log for per page (portal.js PAGE_SIZE)


def set_datetime_local(driver, element, when):
    """Sets a datetime-local input to `when` (aware) in the browser's own time zone."""
    driver.execute_script(
        "const d = new Date(arguments[1]); const p = (n) => String(n).padStart(2, '0');"
        "arguments[0].value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`"
        " + `T${p(d.getHours())}:${p(d.getMinutes())}`;"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        element,
        when.isoformat(),
    )


def wait_delivered(api, endpoint_id, count):
    """Waits until the log holds `count` delivered records for the endpoint."""
    return wait_until(
        lambda: (lambda found: found if len(found) >= count else None)(
            [d for d in api.deliveries(endpoint_id=endpoint_id) if d["status"] == "delivered"]
        ),
        timeout=60,
        interval=0.3,
        message=f"{count} delivered record(s) for {endpoint_id}",
    )


def test_sign_in_by_link(portal, portal_link, driver):
    token = portal_link.split("#token=", 1)[1]
    assert token.startswith("ps_")
    portal.open(portal_link)
    assert "token" not in driver.current_url and token not in driver.current_url
    assert driver.current_url.endswith("/portal#/endpoints")
    for name in ("Endpoints", "Deliveries", "Event types"):
        assert portal.link(name).is_displayed()
    assert portal.button("Add endpoint").is_displayed()
    # A reload keeps the session (the token lives in sessionStorage, not in the address).
    driver.refresh()
    portal.wait_heading("Endpoints")
    assert token not in driver.current_url
    portal.screenshots("sign-in")


def test_create_endpoint_shows_secret_once(portal, portal_link, driver, api, receiver, endpoints):
    label = unique("Orders")
    portal.open(portal_link)
    portal.click("Add endpoint")
    portal.wait_heading("Add endpoint")
    catalogue = api.ok("GET", "/v1/developer/webhook-event-types")
    graded = next(t for t in catalogue if t["type"] == "call.graded")
    portal.wait_text(graded["description"])
    assert len(driver.find_elements(By.CSS_SELECTOR, "fieldset input[type=checkbox]")) == len(catalogue)

    # The API's per-field errors show beside their fields.
    portal.field("Label").send_keys(label)
    portal.field("URL").send_keys("not a url")
    driver.find_element(By.CSS_SELECTOR, 'input[type=checkbox][value="call.graded"]').click()
    portal.click("Create endpoint")
    url_field = portal.field("URL")
    error = portal.wait(
        lambda d: (lambda e: e if e.is_displayed() and e.text else False)(
            d.find_element(By.ID, url_field.get_attribute("id") + "-error")
        ),
        message="the URL's error",
    )
    assert url_field.get_attribute("aria-invalid") == "true"
    assert error.text
    portal.screenshots("create-endpoint-errors")

    url_field.clear()
    url_field.send_keys(receiver.url)
    portal.click("Create endpoint")
    secret_box = portal.wait(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".secret-panel input.secret"), message="the secret"
    )[0]
    secret = secret_box.get_attribute("value")
    assert secret.startswith("whsec_")
    portal.wait_text("it will not be shown again")
    portal.click("Copy")
    portal.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".copy-note").text, message="the copy note")
    portal.screenshots("create-endpoint")

    created = api.endpoint_by_label(label)
    assert created, "the endpoint was not created"
    endpoints.track(created["id"])
    assert created["url"] == receiver.url and created["events"] == ["call.graded"]

    # The secret is real: the next delivery verifies with it.
    event_id = api.publish("call.graded", {"call_id": 1})
    [request] = receiver.wait_for(lambda r: r.webhook_id == message_id(event_id))
    assert standard_signature_ok(secret, request) and platform_signature_ok(secret, request)

    # Away and back: the secret is gone for good.
    portal.link("Endpoints").click()
    portal.endpoint_row(created["id"])
    assert secret not in driver.page_source
    driver.back()
    portal.wait_heading("Add endpoint")
    portal.field("Label")
    assert secret not in driver.page_source
    portal.open_endpoint(created)
    portal.wait_text(created["secret_hint"])
    assert secret not in driver.page_source


def test_an_aws_endpoint_takes_a_role_and_shows_the_external_id(portal, portal_link, driver, api, endpoints):
    label = unique("Queue")
    role_arn = "arn:aws:iam::123456789012:role/webhooks"
    asked = "return performance.getEntriesByType('resource').some((e) => e.name.includes('/webhook-aws-identity'))"
    portal.open(portal_link)
    portal.click("Add endpoint")
    portal.wait_heading("Add endpoint")
    role = portal.field("Role ARN")
    assert not role.is_displayed(), "no role for an https url"
    assert not driver.execute_script(asked), "the external id is asked for only when the role shows"

    portal.field("Label").send_keys(label)
    portal.field("URL").send_keys("arn:aws:sqs:us-east-1:123456789012:portal-queue")
    portal.wait(lambda d: role.is_displayed(), message="the role field shown for an ARN")
    identity = api.ok("GET", "/v1/developer/webhook-aws-identity")
    assert identity["external_id"].startswith("whx_")
    external_id = portal.field("Your external id")
    portal.wait(lambda d: external_id.get_attribute("value"), message="the external id")
    assert external_id.get_attribute("value") == identity["external_id"]
    assert external_id.get_attribute("readonly") is not None
    form = driver.find_element(By.CSS_SELECTOR, "form.endpoint-form")
    portal.click("Copy", form)
    portal.wait(lambda d: form.find_element(By.CSS_SELECTOR, ".aws-identity .copy-note").text, message="the copy note")
    # dev-server knows no AWS account: no trust policy then, and the page shows none.
    shows_policy = bool(form.find_elements(By.CSS_SELECTOR, ".aws-identity details pre"))
    assert shows_policy == (identity["trust_policy"] is not None)
    shown = form.find_element(By.CSS_SELECTOR, ".aws-identity").text
    assert "null" not in shown and "undefined" not in shown, shown

    # Only the campaign type, which no other test publishes: nothing is sent to this queue.
    driver.find_element(By.CSS_SELECTOR, 'input[type=checkbox][value="campaign.completed"]').click()
    portal.click("Create endpoint")
    portal.wait(lambda d: role.get_attribute("aria-invalid") == "true", message="the missing role named")
    error = driver.find_element(By.ID, role.get_attribute("id") + "-error")
    assert error.is_displayed() and "give role_arn" in error.text
    assert api.endpoint_by_label(label) is None
    portal.screenshots("create-aws-endpoint-errors")

    role.send_keys(role_arn)
    portal.click("Create endpoint")
    portal.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".secret-panel input.secret"), message="the secret")
    created = api.endpoint_by_label(label)
    assert created, "the endpoint was not created"
    endpoints.track(created["id"])
    assert (created["url"], created["role_arn"]) == ("arn:aws:sqs:us-east-1:123456789012:portal-queue", role_arn)
    portal.screenshots("create-aws-endpoint")

    # The settings show the role; back to https, the role goes with the ARN.
    portal.open_endpoint(created)
    settings = portal.section("Settings")
    assert portal.field("Role ARN", settings).get_attribute("value") == role_arn
    portal.wait(
        lambda d: portal.field("Your external id", settings).get_attribute("value") == identity["external_id"],
        message="the external id in the settings",
    )
    portal.screenshots("edit-aws-endpoint")
    url = portal.field("URL", settings)
    url.clear()
    url.send_keys("https://example.com/hooks")
    assert not portal.field("Role ARN", settings).is_displayed()
    portal.click("Save", settings)
    portal.wait(lambda d: "Saved." in settings.text, message="Saved.")
    stored = api.endpoint(created["id"])
    assert stored["url"] == "https://example.com/hooks" and "role_arn" not in stored


def test_edit_endpoint(portal, portal_link, driver, api, receiver, endpoints):
    endpoint = endpoints.create(unique("Edit me"), receiver.url, ["call.graded"])
    portal.open(portal_link)
    portal.open_endpoint(endpoint)
    settings = portal.section("Settings")

    url = portal.field("URL", settings)
    url.clear()
    url.send_keys("ftp://example.com/hooks")
    portal.click("Save", settings)
    portal.wait(lambda d: url.get_attribute("aria-invalid") == "true", message="the URL marked invalid")
    assert settings.find_element(By.ID, url.get_attribute("id") + "-error").text

    new_label = unique("Edited")
    new_url = receiver.url + "?v=2"
    label = portal.field("Label", settings)
    label.clear()
    label.send_keys(new_label)
    url.clear()
    url.send_keys(new_url)
    settings.find_element(By.CSS_SELECTOR, 'input[value="call.graded"]').click()
    settings.find_element(By.CSS_SELECTOR, 'input[value="sms.received"]').click()
    portal.click("Save", settings)
    portal.wait(lambda d: "Saved." in settings.text, message="Saved.")
    assert portal.heading() == new_label
    assert url.get_attribute("aria-invalid") is None
    stored = api.endpoint(endpoint["id"])
    assert (stored["label"], stored["url"], stored["events"]) == (new_label, new_url, ["sms.received"])
    portal.screenshots("edit-endpoint")

    # Custom headers, one per line; a refused name is named beside the field.
    headers = portal.field("Custom headers", settings)
    headers.send_keys("Host: evil.example")
    portal.click("Save", settings)
    portal.wait(lambda d: headers.get_attribute("aria-invalid") == "true", message="the headers marked invalid")
    assert "Host" in settings.find_element(By.ID, headers.get_attribute("id") + "-error").text
    headers.clear()
    headers.send_keys("X-Tenant: acme\nAuthorization: Bearer t0k:en")
    portal.click("Save", settings)
    portal.wait(lambda d: headers.get_attribute("aria-invalid") is None, message="the headers accepted")
    portal.wait(lambda d: api.endpoint(endpoint["id"])["headers"], message="the headers stored")
    assert api.endpoint(endpoint["id"])["headers"] == {"X-Tenant": "acme", "Authorization": "Bearer t0k:en"}
    portal.screenshots("edit-endpoint-headers")

    # A rate limit: out of range is named beside the field; a number is stored, and the health
    # panel shows the rate in force.
    health = portal.section("Health")
    portal.wait(lambda d: "As fast as events come" in health.text, message="no limit shown")
    rate = portal.field("Rate limit", settings)
    rate.send_keys("0")
    portal.click("Save", settings)
    portal.wait(lambda d: rate.get_attribute("aria-invalid") == "true", message="the rate marked invalid")
    assert "1 to 100," in settings.find_element(By.ID, rate.get_attribute("id") + "-error").text
    rate.clear()
    rate.send_keys("5")
    portal.click("Save", settings)
    portal.wait(lambda d: api.endpoint(endpoint["id"]).get("rate_limit") == 5, message="the rate stored")
    portal.wait(lambda d: "At most 5 a second" in health.text, message="the rate shown")
    portal.screenshots("edit-endpoint-rate-limit")
    rate.clear()
    portal.click("Save", settings)
    portal.wait(lambda d: "rate_limit" not in api.endpoint(endpoint["id"]), message="the rate removed")

    # The table shows the change too.
    portal.link("Endpoints").click()
    row = portal.endpoint_row(endpoint["id"])
    assert new_label in row.text and new_url in row.text and "sms.received" in row.text


def test_pause_and_resume(portal, portal_link, driver, api, receiver, endpoints):
    endpoint = endpoints.create(unique("Pause me"), receiver.url)
    portal.open(portal_link)
    row = portal.endpoint_row(endpoint["id"])
    assert "All events" in row.text and "active" in row.text
    portal.open_endpoint(endpoint)
    status = portal.section("Status")
    portal.click("Pause", status)
    portal.wait(
        lambda d: "Paused." in status.text and "disabled" in d.find_element(By.CSS_SELECTOR, ".meta .badge").text,
        message="the endpoint shown disabled",
    )
    assert api.endpoint(endpoint["id"])["status"] == "disabled"
    portal.screenshots("pause")

    portal.link("Endpoints").click()
    assert "disabled" in portal.endpoint_row(endpoint["id"]).find_element(By.CSS_SELECTOR, ".badge").text
    portal.open_endpoint(endpoint)
    status = portal.section("Status")
    portal.click("Resume", status)
    portal.wait(
        lambda d: "Resumed." in status.text and "active" in d.find_element(By.CSS_SELECTOR, ".meta .badge").text,
        message="the endpoint shown active",
    )
    assert api.endpoint(endpoint["id"])["status"] == "active"
    portal.button("Pause", status)


def test_hostile_label_is_shown_as_text(portal, portal_link, driver, api, receiver, endpoints):
    hostile = '<img src=x onerror="window.__pwned=1">'
    label = f"{hostile} {secrets.token_hex(4)}"
    endpoint = endpoints.create(label, receiver.url, ["call.graded"])
    event_id = api.publish("call.graded", {"note": "<script>window.__pwned=2</script>"})
    receiver.wait_for(lambda r: r.webhook_id == message_id(event_id))

    stats_path = f"/v1/developer/webhook-endpoints/{endpoint['id']}/stats"
    stats = wait_until(
        lambda: (lambda st: st if st["successes_24h"] >= 1 else None)(api.ok("GET", stats_path)),
        message="the delivery counted in the stats",
    )

    portal.open(portal_link)
    row = portal.endpoint_row(endpoint["id"])
    link = row.find_element(By.CSS_SELECTOR, "a.label-link")
    assert link.text == label
    # The health chart: one delivered in the current hour (the last of 24 bars, when the stats
    # carry them hour by hour).
    chart = portal.wait(lambda d: row.find_elements(By.CSS_SELECTOR, "svg.chart"), message="the health chart")[0]
    assert chart.get_attribute("aria-label") == "Last 24 hours: 1 delivered, 0 failed"
    if "hourly" in stats:
        assert len(chart.find_elements(By.CSS_SELECTOR, "rect.bar-none")) == 24
        assert len(chart.find_elements(By.CSS_SELECTOR, "rect.bar-ok")) == 1
    assert driver.find_elements(By.CSS_SELECTOR, "main img") == []
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    portal.screenshots("hostile-label")

    portal.open_endpoint(endpoint)
    assert portal.heading() == label
    portal.click("Delete")
    portal.wait_text(f"Delete “{label}”?")
    portal.click("Cancel")

    portal.go(f"#/deliveries/{event_id}?endpoint_id={endpoint['id']}")
    payload = portal.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "pre.payload"), message="the payload")[0]
    assert "<script>window.__pwned=2</script>" in payload.text
    assert driver.find_elements(By.CSS_SELECTOR, "main img, main script") == []
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.execute_script("return window.__cspViolations") == []


def test_delivery_log_filters_and_load_more(portal, portal_link, driver, api, receiver, endpoints):
    started = datetime.now(timezone.utc)
    label = unique("Busy")
    endpoint = endpoints.create(label, receiver.url)  # every event type
    count = PAGE_SIZE + 5
    for n in range(count):
        api.publish("call.graded", {"n": n})
    api.publish("sms.received", {"n": count})
    receiver.wait_for(count=count + 1, timeout=60)
    wait_delivered(api, endpoint["id"], count + 1)

    portal.open(portal_link)
    portal.link("Deliveries").click()
    portal.wait_heading("Deliveries")
    Select(portal.field("Endpoint")).select_by_visible_text(label)
    Select(portal.field("Event type")).select_by_value("call.graded")
    Select(portal.field("Status")).select_by_value("delivered")
    portal.click("Apply filters")
    portal.wait(lambda d: "endpoint_id=" in d.current_url and portal.delivery_rows(), message="the filtered log")
    first_page = len(portal.delivery_rows())
    assert 0 < first_page <= PAGE_SIZE
    assert portal.button("Load more").is_displayed()
    for _ in range(10):  # a page may be short; follow the cursor until the log ends
        buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "button.load-more") if b.is_displayed()]
        if not buttons:
            break
        shown = len(portal.delivery_rows())
        buttons[0].click()
        portal.wait(
            lambda d, shown=shown: (
                len(portal.delivery_rows()) > shown
                or not d.find_element(By.CSS_SELECTOR, "button.load-more").is_displayed()
            ),
            message="another page of the log",
        )
    rows = portal.delivery_rows()
    assert len(rows) == count
    for row in rows:
        assert "call.graded" in row.text and label in row.text and "delivered" in row.text
    portal.screenshots("deliveries-log")

    # The filters are in the address, so the page survives a reload.
    driver.refresh()
    portal.wait(lambda d: portal.delivery_rows(), message="the log after a reload")
    assert Select(portal.field("Event type")).first_selected_option.get_attribute("value") == "call.graded"

    Select(portal.field("Event type")).select_by_value("sms.received")
    portal.click("Apply filters")
    portal.wait(
        lambda d: (
            "sms.received" in d.current_url
            and len(portal.delivery_rows()) == 1
            and "sms.received" in portal.delivery_rows()[0].text
        ),
        message="the one sms.received delivery",
    )

    Select(portal.field("Status")).select_by_value("failed")
    portal.click("Apply filters")
    portal.wait_text("No deliveries match these filters.")

    Select(portal.field("Status")).select_by_value("delivered")
    Select(portal.field("Event type")).select_by_value("call.graded")
    set_datetime_local(driver, portal.field("Since"), started - timedelta(minutes=2))
    portal.click("Apply filters")
    portal.wait(
        lambda d: "since=" in d.current_url and len(portal.delivery_rows()) > 0, message="the log since the test began"
    )
    set_datetime_local(driver, portal.field("Since"), started + timedelta(hours=2))
    portal.click("Apply filters")
    portal.wait_text("No deliveries match these filters.")


def test_delivery_payload_and_attempts(portal, portal_link, driver, api, receiver, endpoints):
    endpoint = endpoints.create(unique("Flaky"), receiver.url, ["call.graded"])
    receiver.answers = [500]  # the first attempt fails, the retry succeeds
    data = {"call_id": 42, "grade": "A", "note": "<b>not bold</b>"}
    event_id = api.publish("call.graded", data)
    first, second = receiver.wait_for(lambda r: r.webhook_id == message_id(event_id), count=2, timeout=90)
    wait_until(
        lambda: (api.delivery(event_id, endpoint["id"]) or {}).get("status") == "delivered",
        timeout=30,
        message="the delivery recorded as delivered",
    )

    portal.open(portal_link)
    portal.link("Deliveries").click()
    Select(portal.field("Endpoint")).select_by_visible_text(endpoint["label"])
    portal.click("Apply filters")
    row = portal.wait(lambda d: [r for r in portal.delivery_rows() if "call.graded" in r.text], message="the delivery")[
        0
    ]
    row.find_element(By.TAG_NAME, "a").click()
    portal.wait_heading("call.graded")

    payload = portal.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "pre.payload"), message="the payload")[0]
    assert json.loads(payload.text) == second.json
    assert second.json["data"] == data
    assert "\n  " in payload.text  # pretty-printed
    attempts = portal.wait(
        lambda d: (lambda rows: rows if len(rows) == 2 else False)(
            d.find_elements(By.CSS_SELECTOR, "table.attempts tbody tr")
        ),
        message="two attempts",
    )
    failed = attempts[0].find_elements(By.TAG_NAME, "td")
    assert failed[1].text.endswith("500") and failed[2].text.endswith("http_error")
    assert attempts[1].find_elements(By.TAG_NAME, "td")[1].text.endswith("200")
    assert "delivered" in driver.find_element(By.CSS_SELECTOR, "dl.facts").text
    portal.screenshots("delivery-detail")


def test_resend(portal, portal_link, driver, api, receiver, endpoints):
    endpoint = endpoints.create(unique("Resend"), receiver.url, ["call.graded"])
    event_id = api.publish("call.graded", {"call_id": 7})
    receiver.wait_for(lambda r: r.webhook_id == message_id(event_id))
    wait_until(
        lambda: (api.delivery(event_id, endpoint["id"]) or {}).get("status") == "delivered",
        timeout=30,
        message="the delivery recorded as delivered",
    )

    portal.open(portal_link)
    portal.go(f"#/deliveries/{event_id}?endpoint_id={endpoint['id']}")
    portal.wait_heading("call.graded")
    portal.click("Resend")
    portal.wait_text("Queued")
    again = receiver.wait_for(lambda r: r.webhook_id == message_id(event_id), count=2)
    assert again[0].body == again[1].body
    portal.wait(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "table.attempts tbody tr")) == 2,
        timeout=30,
        message="the resend's attempt listed",
    )
    portal.screenshots("resend")


def test_rotate_secret(portal, portal_link, driver, api, receiver, endpoints):
    endpoint = endpoints.create(unique("Rotate"), receiver.url)
    old_secret = endpoint["secret"]
    portal.open(portal_link)
    portal.open_endpoint(endpoint)
    rotate = portal.section("Signing secret")
    grace = portal.field("Grace period (hours)", rotate)
    assert grace.get_attribute("value") == "24"
    grace.clear()
    grace.send_keys("0")
    portal.click("Rotate secret", rotate)
    new_secret = portal.wait(lambda d: rotate.find_elements(By.CSS_SELECTOR, "input.secret"), message="the new secret")[
        0
    ].get_attribute("value")
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    portal.wait_text("it will not be shown again")
    portal.screenshots("rotate-secret")

    # The next delivery verifies with the new secret (and, with no grace period, not the old).
    test = portal.section("Send test")
    Select(portal.field("Event type", test)).select_by_value("call.graded")
    portal.click("Send test", test)
    portal.wait(lambda d: "Delivered: HTTP 200" in test.text, timeout=30, message="the test delivered")
    [request] = receiver.wait_for(lambda r: r.type == "call.graded")
    assert standard_signature_ok(new_secret, request) and platform_signature_ok(new_secret, request)
    assert not standard_signature_ok(old_secret, request)

    portal.link("Endpoints").click()
    portal.endpoint_row(endpoint["id"])
    driver.back()
    portal.section("Signing secret")
    assert new_secret not in driver.page_source


def test_a_secret_made_after_moving_on_is_shown_where_you_are(portal, portal_link, driver, api, receiver, endpoints):
    endpoint = endpoints.create(unique("Moved on"), receiver.url)
    portal.open(portal_link)
    portal.open_endpoint(endpoint)
    # The rotation's answer comes late, after the person has gone back to the list.
    driver.execute_script(
        """const real = window.fetch;
        window.fetch = (url, init) => real(url, init).then((answer) =>
          String(url).endsWith('/rotate-secret') ? new Promise((done) => setTimeout(() => done(answer), 1500)) : answer);"""
    )
    portal.click("Rotate secret", portal.section("Signing secret"))
    portal.link("Endpoints").click()
    portal.wait_heading("Endpoints")
    shown = portal.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "main input.secret"), message="the new secret")
    secret = shown[0].get_attribute("value")
    assert secret.startswith("whsec_") and secret != endpoint["secret"]
    portal.wait_text("it will not be shown again")
    assert api.endpoint(endpoint["id"])["secret_hint"][-6:] == secret[-6:], "the secret shown is the one that signs"
    portal.screenshots("secret-after-moving-on")


def test_delete_endpoint_by_keyboard(portal, portal_link, driver, api, receiver, endpoints):
    endpoint = endpoints.create(unique("Delete me"), receiver.url)
    portal.open(portal_link)
    portal.open_endpoint(endpoint)
    portal.button("Delete").send_keys(Keys.ENTER)
    portal.wait_text(f"Delete “{endpoint['label']}”?")
    assert driver.switch_to.active_element.text == "Yes, delete this endpoint"
    portal.screenshots("delete-confirm")
    portal.button("Cancel").send_keys(Keys.ENTER)
    portal.wait(
        lambda d: not [b for b in d.find_elements(By.TAG_NAME, "button") if b.text == "Yes, delete this endpoint"],
        message="the confirmation closed",
    )
    assert api.endpoint(endpoint["id"]) is not None

    portal.button("Delete").send_keys(Keys.ENTER)
    portal.wait(
        lambda d: d.switch_to.active_element.text == "Yes, delete this endpoint", message="focus on the confirmation"
    )
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    portal.wait_heading("Endpoints")
    portal.wait_text(f"Deleted the endpoint “{endpoint['label']}”.")
    assert not driver.find_elements(By.CSS_SELECTOR, f'tr[data-endpoint-id="{endpoint["id"]}"]')
    assert api.endpoint(endpoint["id"]) is None


def test_recover(portal, portal_link, driver, api, receiver, endpoints):
    endpoint = endpoints.create(unique("Recover"), receiver.url)
    portal.open(portal_link)
    portal.open_endpoint(endpoint)
    recover = portal.section("Recover")
    set_datetime_local(driver, portal.field("Since", recover), datetime.now(timezone.utc) - timedelta(hours=1))
    portal.click("Recover", recover)
    portal.wait(lambda d: "Queued 0 failed deliveries for resending." in recover.text, message="the count queued")
    portal.screenshots("recover")


def test_event_types(portal, portal_link, driver, api):
    catalogue = api.ok("GET", "/v1/developer/webhook-event-types")
    portal.open(portal_link)
    portal.link("Event types").click()
    portal.wait_heading("Event types")
    rows = portal.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "table.types tbody tr"), message="the catalogue")
    assert [r.find_element(By.TAG_NAME, "td").text for r in rows] == [t["type"] for t in catalogue]
    for row, info in zip(rows, catalogue, strict=True):
        assert info["description"] in row.text
    portal.screenshots("event-types")


def test_expired_link(portal, driver, base_url):
    token = "ps_" + secrets.token_urlsafe(24)
    driver.get(f"{base_url}/portal#token={token}")
    portal.wait(lambda d: EXPIRED in d.find_element(By.TAG_NAME, "body").text, message="the expired message")
    assert token not in driver.current_url
    assert driver.find_element(By.TAG_NAME, "body").text.strip() == EXPIRED
    assert not driver.find_elements(By.CSS_SELECTOR, "nav, table, form, button")
    portal.screenshots("expired-link")

    # No token at all reads the same.
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{base_url}/portal")
    driver.refresh()
    portal.wait(lambda d: d.find_element(By.TAG_NAME, "body").text.strip() == EXPIRED, message="the expired message")
