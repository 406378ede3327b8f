#!/usr/bin/env python3
"""How fast the web portal draws its endpoints page, and how big its assets are.

Usage: .venv/bin/python scripts/portal_bench.py [--runs N] [--endpoints N] [--no-cache]
  with WEBHOOKS_PORTAL_BASE_URL (dev-server's origin) and WEBHOOKS_PORTAL_ADMIN_KEY set, or
  --base-url and --admin-key.

It gets one portal link (POST /v1/developer/portal-sessions), makes --endpoints endpoints
labelled "portal-bench ..." (deleted again at the end), then loads the link N times in headless
Chromium, each from about:blank, and reads the `endpoints-rendered` performance mark the page
sets once the endpoints table is drawn (milliseconds since the navigation started). It prints the
first (cold) load, the median and the 90th percentile, and the bytes of /portal,
/portal/portal.js and /portal/portal.css, raw and gzipped. It asserts nothing about speed.
"""

import argparse
import gzip
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ASSETS = ("/portal", "/portal/portal.js", "/portal/portal.css")


def call(base_url, key, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def percentile(values, fraction):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def asset_sizes(base_url):
    rows = []
    for path in ASSETS:
        request = urllib.request.Request(base_url + path, headers={"Accept-Encoding": "identity"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            csp = response.headers.get("Content-Security-Policy")
        rows.append((path, len(body), len(gzip.compress(body, compresslevel=9)), csp))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("WEBHOOKS_PORTAL_BASE_URL"))
    parser.add_argument("--admin-key", default=os.environ.get("WEBHOOKS_PORTAL_ADMIN_KEY"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--endpoints", type=int, default=10, help="endpoints to create for the page to list (default 10)"
    )
    parser.add_argument("--no-cache", action="store_true", help="load every run with the browser cache off")
    args = parser.parse_args()
    if not args.base_url or not args.admin_key:
        parser.error("set WEBHOOKS_PORTAL_BASE_URL and WEBHOOKS_PORTAL_ADMIN_KEY, or pass --base-url and --admin-key")
    base_url = args.base_url.rstrip("/")

    print(f"portal assets at {base_url}")
    total_raw = total_gzip = 0
    for path, raw, zipped, csp in asset_sizes(base_url):
        total_raw += raw
        total_gzip += zipped
        print(f"  {path:<20} {raw:>7} B raw {zipped:>7} B gzip -9   CSP: {'yes' if csp else 'none'}")
    print(f"  {'all':<20} {total_raw:>7} B raw {total_gzip:>7} B gzip -9")

    status, session = call(base_url, args.admin_key, "POST", "/v1/developer/portal-sessions")
    if status != 201:
        sys.exit(f"POST /v1/developer/portal-sessions answered {status}: {session}")
    link = session["url"]

    made = []
    profile = tempfile.mkdtemp(prefix="portal-bench-")
    driver = None
    try:
        run_id = uuid.uuid4().hex[:6]
        for n in range(args.endpoints):
            status, created = call(
                base_url,
                args.admin_key,
                "POST",
                "/v1/developer/webhook-endpoints",
                {"label": f"portal-bench {run_id} {n}", "url": f"https://hooks.example.com/bench/{n}"},
            )
            if status != 201:
                sys.exit(f"could not create a bench endpoint: {status} {created}")
            made.append(created["id"])
        status, listed = call(base_url, args.admin_key, "GET", "/v1/developer/webhook-endpoints")
        listed_count = len(listed) if status == 200 else "?"

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
            "--window-size=1280,900",
        ):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        if args.no_cache:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})

        rendered, loaded = [], []
        for _ in range(args.runs):
            driver.get("about:blank")
            driver.get(link)
            mark = WebDriverWait(driver, 30).until(
                lambda d: d.execute_script(
                    "const m = performance.getEntriesByName('endpoints-rendered');"
                    "const n = performance.getEntriesByType('navigation')[0];"
                    "return m.length ? [m[0].startTime, n ? n.domContentLoadedEventEnd : null] : null;"
                )
            )
            rendered.append(mark[0])
            if mark[1]:
                loaded.append(mark[1])
            time.sleep(0.05)

        print(
            f"endpoints page, {listed_count} endpoints listed, {args.runs} loads"
            f"{' with the cache off' if args.no_cache else ''} (ms from navigation start):"
        )
        print(
            f"  endpoints-rendered: first {rendered[0]:.1f}  median {statistics.median(rendered):.1f}"
            f"  p90 {percentile(rendered, 0.9):.1f}  min {min(rendered):.1f}  max {max(rendered):.1f}"
        )
        if loaded:
            print(
                f"  DOMContentLoaded:   first {loaded[0]:.1f}  median {statistics.median(loaded):.1f}"
                f"  p90 {percentile(loaded, 0.9):.1f}"
            )
    finally:
        if driver:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        for endpoint_id in made:
            call(base_url, args.admin_key, "DELETE", f"/v1/developer/webhook-endpoints/{endpoint_id}")


if __name__ == "__main__":
    main()
