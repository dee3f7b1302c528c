#!/usr/bin/env python3
"""A webhook receiver for the end-to-end run: checks each delivery's Standard Webhooks signature
(HMAC-SHA256 of "id.timestamp.body" with the whsec_ secret, compared in constant time, timestamp
within 5 minutes), answers 500 to the first two attempts of every webhook-id and 200 to the third,
and lists what it received at GET /deliveries. Standard library only.

    python3 scripts/e2e/webhook_receiver.py --port 9000 --secret whsec_...
"""
import argparse
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

deliveries = []
lock = threading.Lock()


def verify(secret, headers, body):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "0")
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    signatures = [s.split(",", 1)[1] for s in headers.get("webhook-signature", "").split() if s.startswith("v1,")]
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and any(hmac.compare_digest(expected, s) for s in signatures)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                msg_id = self.headers.get("webhook-id", "")
                attempt = sum(1 for d in deliveries if d["id"] == msg_id) + 1
                status = 500 if attempt <= 2 else 200
                payload = json.loads(body) if body else {}
                deliveries.append({"id": msg_id, "attempt": attempt, "status": status, "valid": verify(args.secret, self.headers, body),
                                   "type": payload.get("type"), "object_id": (payload.get("data") or {}).get("id")})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            with lock:
                data = json.dumps(deliveries).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
