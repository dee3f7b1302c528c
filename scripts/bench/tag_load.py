#!/usr/bin/env python3
"""Latency and throughput of POST /v1/tag under concurrent load, on loopback only.

Starts `tagtune serve` on a free 127.0.0.1 port with a models folder holding one checkpoint
(default: the tiny test fixture) and a prompt set tuned on it for one epoch by `tagtune tune`,
waits for /readyz, then sends a fixed number of requests at each concurrency level from Python
threads (one keep-alive connection each) and prints latency percentiles, throughput and the mean
batch size the server reports. Everything is bounded: request counts are fixed, each request has a
timeout, and the server is stopped at the end. Standard library only.

    make release   # or any build of .build/release/tagtune
    scripts/bench/tag_load.py --concurrency 1,4,16 --requests 400
    scripts/bench/tag_load.py --model models/clip-vit-base-patch32 --requests 100   # a real checkpoint
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "Tests", "Fixtures")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(workdir, binary, model):
    """models/<name> (a link to the checkpoint) and prompt-sets/bench (tuned for one epoch)."""
    name = os.path.basename(os.path.normpath(model))
    models = os.path.join(workdir, "models")
    os.makedirs(models)
    os.symlink(os.path.abspath(model), os.path.join(models, name))
    dataset = os.path.join(workdir, "dataset")
    os.makedirs(dataset)
    images = sorted(f for f in os.listdir(os.path.join(FIXTURES, "images"))
                    if f.startswith("jpeg_orientation_") or f in ("jpeg_baseline_420.jpg", "png_rgb.png", "png_rgba.png"))
    classes = ["cat", "dog", "traffic light"]
    with open(os.path.join(dataset, "manifest.jsonl"), "w") as manifest:
        for i, image in enumerate(images):
            shutil.copy(os.path.join(FIXTURES, "images", image), dataset)
            manifest.write(json.dumps({"image": image, "labels": [classes[i % 3]]}) + "\n")
    with open(os.path.join(dataset, "classes.txt"), "w") as f:
        f.write("\n".join(classes) + "\n")
    prompt_sets = os.path.join(workdir, "prompt-sets")
    subprocess.run([binary, "tune", "--model", os.path.join(models, name), "--dataset", dataset,
                    "--out", os.path.join(prompt_sets, "bench"), "--epochs", "1", "--n-ctx", "4",
                    "--batch-size", "8", "--cache", os.path.join(workdir, "cache")],
                   check=True, stdout=subprocess.DEVNULL)
    return models, prompt_sets, name


def start_server(binary, workdir, models, prompt_sets, model_name, port, args):
    settings = {
        "models.dir": models, "models.default": model_name, "prompt_sets.dir": prompt_sets,
        "data_dir": os.path.join(workdir, "data"), "log.level": "warning",
        "batching.max_batch_size": args.max_batch_size, "batching.max_wait_ms": args.max_wait_ms,
        "batching.max_queue": args.max_queue, "limits.max_concurrent_requests": 1024,
    }
    command = [binary, "serve", "--host", "127.0.0.1", "--port", str(port)]
    for key, value in settings.items():
        command += ["--set", f"{key}={value}"]
    log = open(os.path.join(workdir, "server.log"), "w")
    # cwd is the scratch folder, so no config/tagtune.yaml is picked up: built-in defaults + these flags.
    server = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}; see {log.name}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("the server was not ready within 120 s")


def run_level(port, body, content_type, concurrency, requests):
    """Sends `requests` requests from `concurrency` threads; returns latencies (s), wall time, batch sizes, errors."""
    local = threading.local()
    latencies, batch_sizes, errors = [], [], []
    lock = threading.Lock()

    def one(_):
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start = time.perf_counter()
        try:
            local.connection.request("POST", "/v1/tag", body=body, headers={"Content-Type": content_type})
            response = local.connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - start
        except (OSError, http.client.HTTPException) as error:
            local.connection.close()
            del local.connection
            with lock:
                errors.append(str(error))
            return
        with lock:
            if response.status == 200:
                latencies.append(elapsed)
                batch_sizes.extend(r["timings"]["batch_size"] for r in json.loads(payload)["results"])
            else:
                errors.append(f"{response.status} {payload[:200]!r}")

    wall_start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(requests)))
    return latencies, time.perf_counter() - wall_start, batch_sizes, errors


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "tagtune"))
    parser.add_argument("--model", default=os.path.join(FIXTURES, "clip", "hf-tiny-f32"))
    parser.add_argument("--image", default=os.path.join(FIXTURES, "images", "jpeg_baseline_420.jpg"))
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    parser.add_argument("--max-batch-size", type=int, default=16)
    parser.add_argument("--max-wait-ms", type=float, default=5)
    parser.add_argument("--max-queue", type=int, default=256)
    parser.add_argument("--json", action="store_true", help="print one JSON object per level instead of a table")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)   # the server runs in a scratch folder
    if not os.path.exists(args.binary):
        raise SystemExit(f"no binary at {args.binary}: build it first (make release)")
    with open(args.image, "rb") as f:
        body = f.read()
    content_type = "image/png" if args.image.lower().endswith(".png") else "image/jpeg"

    workdir = tempfile.mkdtemp(prefix="tagtune-bench-")
    server = None
    try:
        models, prompt_sets, model_name = prepare(workdir, args.binary, args.model)
        port = free_port()
        server = start_server(args.binary, workdir, models, prompt_sets, model_name, port, args)
        run_level(port, body, content_type, 2, 20)   # warm the connections and caches
        if not args.json:
            print(f"model {model_name}, image {os.path.basename(args.image)} ({len(body)} bytes), "
                  f"max_batch_size {args.max_batch_size}, max_wait_ms {args.max_wait_ms}, {args.requests} requests per level")
            print(f"{'concurrency':>11} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean batch':>10} {'errors':>6}")
        for level in (int(c) for c in args.concurrency.split(",")):
            latencies, wall, batches, errors = run_level(port, body, content_type, level, args.requests)
            if not latencies:
                print(f"concurrency {level}: every request failed, e.g. {errors[:1]}", file=sys.stderr)
                continue
            row = {
                "concurrency": level, "requests": args.requests, "ok": len(latencies), "errors": len(errors),
                "throughput_rps": len(latencies) / wall,
                "p50_ms": percentile(latencies, 0.50) * 1000, "p95_ms": percentile(latencies, 0.95) * 1000,
                "p99_ms": percentile(latencies, 0.99) * 1000, "max_ms": max(latencies) * 1000,
                "mean_ms": statistics.mean(latencies) * 1000, "mean_batch_size": statistics.mean(batches),
            }
            if args.json:
                print(json.dumps(row))
            else:
                print(f"{level:>11} {row['throughput_rps']:>8.1f} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} "
                      f"{row['p99_ms']:>8.2f} {row['max_ms']:>8.2f} {row['mean_batch_size']:>10.2f} {len(errors):>6}")
            if errors:
                print(f"  first error: {errors[0]}", file=sys.stderr)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
