#!/usr/bin/env python3
"""deploy/nginx/tagtune.conf.template in a live nginx, in front of two stub replicas (stdlib only).

Replica A is broken: it answers 429 on /v1/tag and drops the connection on everything else.
Replica B answers 200. Through nginx:
  - POST /v1/tag always ends 200 (retried on B after A's 429: tagging is a pure function);
  - POST /v1/datasets and /v1/tuning/jobs reach a replica exactly once each and fail when that one is A
    (creation is never sent twice);
  - GET /v1/datasets ends 200 (idempotent, retried after A's error);
  - X-Request-ID: the client's reaches the replica and comes back once; without one, nginx makes one.
Failure accounting is switched off (max_fails=0) so that A keeps being chosen.

Usage: nginx_smoke.py --nginx /usr/sbin/nginx --dir .build/deploy-check/nginx-smoke
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    broken = False
    hits: list = []

    def log_message(self, *args):  # quiet
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).hits.append((self.command, self.path, self.headers.get("X-Request-ID"), len(body)))
        if self.broken and self.path == "/v1/tag":
            self.reply(429, b'{"error":{"code":"queue_full"}}')
        elif self.broken:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.reply(200, b'{"ok":true}', request_id=self.headers.get("X-Request-ID"))

    def reply(self, status, body, request_id=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if request_id:
            self.send_header("X-Request-ID", request_id)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = handle_any


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # A's dropped connections are the point
        pass


def stub(broken: bool):
    handler = type("BrokenStub" if broken else "GoodStub", (Stub,), {"broken": broken, "hits": []})
    server = QuietServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.headers.get_all("X-Request-ID") or []


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nginx", required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()

    shutil.rmtree(args.dir, ignore_errors=True)
    a_server, a = stub(broken=True)
    b_server, b = stub(broken=False)
    listen = free_port()
    env = dict(os.environ, TAGTUNE_NGINX_SERVER_PARAMS="max_fails=0")
    conf = subprocess.run(
        [os.path.join(HERE, "nginx_conf.sh"), "--standalone", args.dir, f"127.0.0.1:{listen}",
         f"127.0.0.1:{a_server.server_port}", f"127.0.0.1:{b_server.server_port}"],
        check=True, capture_output=True, text=True, env=env).stdout.strip()
    base = [args.nginx, "-p", args.dir, "-e", os.path.join(args.dir, "error.log"), "-c", conf]
    subprocess.run(base, check=True)
    failures = []

    def expect(condition, message):
        print(("ok   " if condition else "FAIL ") + message)
        if not condition:
            failures.append(message)

    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", listen), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)

        statuses = [request(listen, "POST", "/v1/tag", b"x" * 1000)[0] for _ in range(6)]
        a_tag = sum(1 for h in a.hits if h[1] == "/v1/tag")
        expect(statuses == [200] * 6 and a_tag > 0,
               f"POST /v1/tag: {statuses}, replica A answered 429 {a_tag} times and B took over each time")

        for path in ("/v1/datasets", "/v1/tuning/jobs"):
            before = len(a.hits) + len(b.hits)
            statuses = [request(listen, "POST", path, b"y" * 300_000)[0] for _ in range(6)]
            sent = len(a.hits) + len(b.hits) - before
            expect(sent == 6 and 502 in statuses and 200 in statuses,
                   f"POST {path}: {statuses}, {sent} requests reached a replica for 6 sent (never retried)")

        statuses = [request(listen, "GET", "/v1/datasets")[0] for _ in range(4)]
        expect(statuses == [200] * 4, f"GET /v1/datasets: {statuses} (retried after a dropped connection)")

        status, ids = request(listen, "POST", "/v1/tag", b"z", {"X-Request-ID": "smoke-request-42"})
        seen = [h[2] for h in b.hits][-1]
        expect(status == 200 and ids == ["smoke-request-42"] and seen == "smoke-request-42",
               f"X-Request-ID passed through: replica saw {seen!r}, client got {ids}")
        status, ids = request(listen, "GET", "/v1/models")
        seen = [h[2] for h in a.hits + b.hits if h[1] == "/v1/models"][-1]
        expect(len(ids) == 1 and re.fullmatch(r"[0-9a-f]{32}", ids[0] or "") is not None and seen == ids[0],
               f"X-Request-ID made by nginx when absent: {ids}, replica saw {seen!r}")
    finally:
        subprocess.run(base + ["-s", "quit"], check=False)
        a_server.shutdown()
        b_server.shutdown()
    if failures:
        print(f"nginx smoke: {len(failures)} failed; log: {os.path.join(args.dir, 'error.log')}")
        return 1
    print("nginx smoke: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
