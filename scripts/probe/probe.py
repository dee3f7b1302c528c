#!/usr/bin/env python3
"""The hand-made cases of the December 2026 probe (shared/design/PROBE-2026-12.md), kept as a
regression suite against a running demo server with API keys (scripts/probe/run.sh starts one).
Python standard library only; loopback only; every wait is bounded, and a wait that runs out is a
failure (the server left a client hanging), not a measurement.

Each check prints PASS or FAIL; the last line is "N passed, M failed"."""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

PATIENCE = 30  # seconds a client waits before calling the server stuck

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""), flush=True)


class Server:
    def __init__(self, port, key):
        self.port, self.key = port, key
        self.base = f"http://127.0.0.1:{port}"

    def request(self, method, path, body=None, content_type=None, key=False, timeout=PATIENCE):
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if key:
            request.add_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def raw(self, data, timeout=PATIENCE):
        """Sends raw bytes, returns everything until the server closes (or b'' on a timeout)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as connection:
            connection.sendall(data)
            chunks = []
            try:
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
            except (socket.timeout, ConnectionResetError):
                pass
            return b"".join(chunks)


def status_of(raw):
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def error_of(body):
    try:
        return json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return {}


def wait_ready(server, limit=240):
    deadline = time.monotonic() + limit
    status, body = None, b""
    while time.monotonic() < deadline:
        try:
            status, body = server.request("GET", "/readyz", timeout=5)
        except OSError:
            status = None
        if status == 200:
            return True, body
        time.sleep(0.25)
    return False, body


def example_image():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "demo", "examples", "01-circle-star.png")
    with open(root, "rb") as file:
        return file.read()


def probe_start(server, data_dir):
    ready, body = wait_ready(server)
    check("start-up as an unprivileged user from root-owned files reaches /readyz 200", ready, body[:300])
    prompt_sets = os.path.join(data_dir, "prompt-sets")
    check("prompt sets live inside --data-dir", os.path.isdir(os.path.join(prompt_sets, "shapes-lt-lmpt")),
          str(os.listdir(data_dir)))
    leftovers = [name for name in os.listdir(prompt_sets) if ".bundled-" in name] if os.path.isdir(prompt_sets) else []
    check("no staging folder is left after installing the bundled prompt set", not leftovers, str(leftovers))
    status, body = server.request("POST", "/v1/tag", example_image(), "image/png", key=True)
    check("default tagging works", status == 200, f"{status} {body[:300]}")


MUTATING = [
    ("POST", "/v1/tag"), ("POST", "/v1/datasets?name=x"), ("DELETE", "/v1/datasets/ds-00000000000000000000000x"),
    ("POST", "/v1/tuning/jobs"), ("POST", "/v1/tuning/jobs/ftjob-x/cancel"), ("PATCH", "/v1/prompt-sets/shapes-lt-lmpt"),
]


def probe_auth(server):
    before = server.request("GET", "/v1/prompt-sets/shapes-lt-lmpt")[1]
    body = b'{"thresholds": {"circle": 0.01}}'
    for method, path in MUTATING:
        rest = path[len("/v1"):]
        for form in ["/" + path, "//" + path, "/v1/" + rest, f"http://127.0.0.1:{server.port}/" + path]:
            raw = server.raw(f"{method} {form} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            check(f"{method} {form} without a key is 401", status_of(raw) == 401, raw[:200])
    after = server.request("GET", "/v1/prompt-sets/shapes-lt-lmpt")[1]
    check("the refused PATCHes changed nothing", json.loads(before) == json.loads(after))
    for path in ["/v1/models", "/v1/datasets", "/v1/prompt-sets", "/v1/tuning/jobs/ftjob-x"]:
        status, _ = server.request("PUT", path, b"{}", "application/json", key=True)
        check(f"PUT {path} with a key is 405", status == 405, status)


def probe_oversized_body(server):
    # urllib sends Connection: close and the whole body before it reads the answer.
    start = time.monotonic()
    try:
        status, body = server.request("POST", "/v1/tag", b"\0" * (3 << 20), "image/png", key=True)
    except OSError as error:
        status, body = None, str(error).encode()
    check("an oversized body with Connection: close is answered 413 (the client does not hang)", status == 413,
          f"{status} after {time.monotonic() - start:.1f} s: {body[:200]}")
    message = error_of(body).get("message", "")
    check("the 413 names the configured limit, no internal type", "1048576" in message and "NIO" not in message, message)


def probe_slow_bodies(server, count=70):
    head = ("POST /v1/tag HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + server.key +
            "\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n").encode()
    slow = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE)
        connection.sendall(head + b"x")
        slow.append(connection)
    stop = threading.Event()

    def trickle():  # a byte per connection every half second, as long as the checks run
        while not stop.wait(0.5):
            for connection in slow:
                try:
                    connection.sendall(b"x")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle)
    trickler.start()
    statuses = {"/readyz": [], "/v1/models": [], "/v1/tag": []}
    image = example_image()
    for _ in range(5):
        statuses["/readyz"].append(server.request("GET", "/readyz")[0])
        statuses["/v1/models"].append(server.request("GET", "/v1/models")[0])
        statuses["/v1/tag"].append(server.request("POST", "/v1/tag", image, "image/png", key=True)[0])
    for path, got in statuses.items():
        check(f"{path} answers 200 while {count} slow bodies are open (limit 8 requests)", set(got) == {200}, got)
    stop.set()
    trickler.join()
    closed = 0
    for connection in slow:
        try:
            while connection.recv(65536):
                pass
            closed += 1
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        finally:
            connection.close()
    check(f"the server closes the slow bodies ({closed}/{count} closed)", closed == count)


def probe_idle(server, count=200):
    idle = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        idle.append(connection)
    status, _ = server.request("GET", "/healthz")
    check(f"/healthz answers while {count} heads are unfinished", status == 200, status)
    closed = 0
    for connection in idle:
        try:
            if connection.recv(65536) == b"":
                closed += 1
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        finally:
            connection.close()
    check(f"unfinished heads are closed by the idle timeout ({closed}/{count})", closed == count)


def resident_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def probe_overload(server, pid, clients=64, seconds=8):
    """More clients than request slots (8) tag in a loop: every answer is a 200 or a 429 in the
    error shape with Retry-After (none hangs, none is a 5xx or a reset), memory stays flat, and
    tagging answers normally at once after. How many 429s come depends on the machine's speed."""
    image = example_image()
    answers, lock = [], threading.Lock()
    before = resident_mb(pid) if pid else None
    deadline = time.monotonic() + seconds

    def client():
        while time.monotonic() < deadline:
            request = urllib.request.Request(server.base + "/v1/tag", data=image, method="POST")
            request.add_header("Content-Type", "image/png")
            request.add_header("Authorization", f"Bearer {server.key}")
            try:
                with urllib.request.urlopen(request, timeout=PATIENCE) as response:
                    answer = (response.status, response.headers.get("Retry-After"), response.read())
            except urllib.error.HTTPError as error:
                answer = (error.code, error.headers.get("Retry-After"), error.read())
            except OSError as error:
                answer = (None, None, repr(error).encode())
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * PATIENCE)
    after = resident_mb(pid) if pid else None
    counts = {}
    for status, _, _ in answers:
        counts[status] = counts.get(status, 0) + 1
    print(f"     overload: {len(answers)} answers in {seconds} s from {clients} clients: {counts}; "
          f"resident memory {before and round(before)} → {after and round(after)} MB", flush=True)
    check(f"under overload ({clients} clients, 8 request slots) every answer is 200 or 429",
          answers and set(counts) <= {200, 429} and not any(t.is_alive() for t in threads),
          f"{counts}; first other: {next((a for a in answers if a[0] not in (200, 429)), None)}")
    refused = [a for a in answers if a[0] == 429]
    check("every 429 carries Retry-After and the error shape",
          all(retry and error_of(body).get("code") in ("overloaded", "queue_full") for _, retry, body in refused),
          next((a for a in refused if not a[1] or error_of(a[2]).get("code") not in ("overloaded", "queue_full")), ""))
    if before and after:
        check("resident memory stays flat under overload (< 200 MB more)", after - before < 200, f"{before:.0f} → {after:.0f} MB")
    status, body = server.request("POST", "/v1/tag", image, "image/png", key=True)
    check("tagging answers 200 right after the overload", status == 200, f"{status} {body[:200]}")


def probe_leaks(server, data_dir):
    body = json.dumps({"dataset": "ds-00000000000000000000000x", "model": "nope"}).encode()
    status, answer = server.request("POST", "/v1/tuning/jobs", body, "application/json", key=True)
    check("a job for an unknown model names no server path", data_dir.encode() not in answer and b"/models" not in answer,
          f"{status} {answer[:300]}")


def probe_read_only_delete(server, data_dir):
    """A dataset delete on a read-only disk must not answer 200 and leave the folder (root only: bind mount)."""
    if os.geteuid() != 0:
        print("skip read-only delete: needs root for a read-only bind mount")
        return
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("classes.txt", "circle\n")
        archive.writestr("manifest.jsonl", '{"image": "a.png", "labels": ["circle"]}\n')
        archive.writestr("a.png", example_image())
    status, body = server.request("POST", "/v1/datasets?name=ro", buffer.getvalue(), "application/zip", key=True)
    check("a dataset is uploaded for the read-only delete", status == 201, f"{status} {body[:200]}")
    if status != 201:
        return
    dataset = json.loads(body)["id"]
    datasets = os.path.join(data_dir, "datasets")
    mounted = subprocess.run(["mount", "--bind", datasets, datasets]).returncode == 0 and \
        subprocess.run(["mount", "-o", "remount,ro,bind", datasets]).returncode == 0
    try:
        if not mounted:
            print("skip read-only delete: bind mounts are not permitted here")
            return
        status, body = server.request("DELETE", f"/v1/datasets/{dataset}", key=True)
        check("DELETE on a read-only data folder is refused (503), not 200", status == 503, f"{status} {body[:200]}")
        status, _ = server.request("GET", f"/v1/datasets/{dataset}")
        check("the dataset is still there", status == 200, status)
    finally:
        subprocess.run(["umount", datasets])
    status, _ = server.request("DELETE", f"/v1/datasets/{dataset}", key=True)
    check("once writable again it is deleted", status == 200, status)


def probe_default_deleted(server, data_dir):
    shutil.rmtree(os.path.join(data_dir, "prompt-sets", "shapes-lt-lmpt"))
    status, body = server.request("GET", "/readyz")
    check("/readyz is 503 once the default prompt set's folder is deleted", status == 503, f"{status} {body[:200]}")
    status, body = server.request("POST", "/v1/tag", example_image(), "image/png", key=True)
    check("default tagging then answers 503 no_default", status == 503 and error_of(body).get("code") == "no_default",
          f"{status} {body[:300]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--server-pid", type=int)
    args = parser.parse_args()
    server = Server(args.port, args.key)
    for probe in [lambda: probe_start(server, args.data_dir), lambda: probe_auth(server),
                  lambda: probe_oversized_body(server), lambda: probe_slow_bodies(server), lambda: probe_idle(server),
                  lambda: probe_overload(server, args.server_pid),
                  lambda: probe_leaks(server, args.data_dir), lambda: probe_read_only_delete(server, args.data_dir),
                  lambda: probe_default_deleted(server, args.data_dir)]:
        try:
            probe()
        except Exception as error:  # a probe that cannot even finish is a failure; the others still run
            check("probe finished", False, repr(error))
    if args.server_pid:
        check("the server is still running", os.path.exists(f"/proc/{args.server_pid}"))
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
