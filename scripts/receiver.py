#!/usr/bin/env python3
"""A webhook receiver for trying dev-server: prints each delivery and checks its signatures.

Usage: python3 scripts/receiver.py PORT SECRET [STATUS]
  SECRET  the whsec_... secret the create response returned
  STATUS  the HTTP status to answer with (default 200; try 500 to watch the retries)
Only the standard library is used.
"""

import base64
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, secret = int(sys.argv[1]), sys.argv[2]
status = int(sys.argv[3]) if len(sys.argv) > 3 else 200


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        # The platform's scheme: hex HMAC-SHA256 of the raw body, keyed with the secret string.
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        platform_ok = hmac.compare_digest(expected, self.headers.get("X-ThunderPhone-Signature", ""))
        # Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body", keyed with the decoded secret.
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}.".encode() + body
        standard = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        standard_ok = any(hmac.compare_digest(standard, s) for s in self.headers["webhook-signature"].split())
        # V2 (what thunderphone.webhooks.verify_signature checks): "t=<ts>,v1=<hex HMAC-SHA256 of
        # "ts\nPOST\n<path and query>\n<body>">", keyed with the secret string.
        v2 = dict(part.split("=", 1) for part in self.headers.get("X-ThunderPhone-Signature-V2", "").split(",") if "=" in part)
        signed_v2 = f"{v2.get('t', '')}\nPOST\n{self.path}\n".encode() + body
        v2_ok = hmac.compare_digest(hmac.new(secret.encode(), signed_v2, hashlib.sha256).hexdigest(), v2.get("v1", ""))
        print(f"{self.headers['webhook-id']} {json.loads(body)['type']}: "
              f"X-ThunderPhone-Signature {'ok' if platform_ok else 'BAD'}, "
              f"X-ThunderPhone-Signature-V2 {'ok' if v2_ok else 'BAD'}, "
              f"webhook-signature {'ok' if standard_ok else 'BAD'}; answering {status}")
        print("  " + body.decode(), flush=True)
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


print(f"receiving on http://127.0.0.1:{port}/", flush=True)
HTTPServer(("127.0.0.1", port), Handler).serve_forever()
