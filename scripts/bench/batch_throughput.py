#!/usr/bin/env python3
"""Batch tagging throughput against the vision tower's own, side by side in one run.

Starts `tagtune serve` on the demo model and prompt set (a temporary data folder, a free loopback
port), posts a zip of Shapes-LT test images as a batch job, and reads the batch's images/s; then runs
`tagtune bench towers` on the same model at the batcher's batch size. Both numbers come from the same
machine in the same minute; the ratio is what the job machinery, decoding and writing cost on top of
the encoder. Standard library only.

    python3 scripts/bench/batch_throughput.py --images 1000 [--binary .build/release/tagtune] [--rounds 2]
"""
import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, method, path, body=None, content_type=None):
    headers = {"Content-Type": content_type} if content_type else {}
    with urllib.request.urlopen(urllib.request.Request(base + path, data=body, method=method, headers=headers), timeout=600) as r:
        return json.loads(r.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(REPOSITORY / ".build/release/tagtune"))
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="batch, tower, batch, tower, … alternated")
    parser.add_argument("--batch-size", type=int, default=16, help="batching.max_batch_size, and the tower's batch")
    args = parser.parse_args()

    folder = REPOSITORY / "demo/shapes-lt/test/images"
    names = sorted(os.listdir(folder))[:args.images]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in names:
            archive.write(folder / name, f"images/{name}")
    archive_bytes = buffer.getvalue()

    work = tempfile.mkdtemp(prefix="tagtune-batch-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [args.binary, "serve", "--config", str(REPOSITORY / "config/tagtune.yaml"), "--port", str(port), "--data-dir", work,
         "--log-level", "warning", "--set", f"batching.max_batch_size={args.batch_size}"],
        cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        rows = []
        for round_ in range(args.rounds):
            batch = request(base, "POST", "/v1/batches", archive_bytes, "application/zip")
            started = time.monotonic()
            while batch["status"] not in ("succeeded", "failed", "cancelled"):
                time.sleep(0.2)
                batch = request(base, "GET", f"/v1/batches/{batch['id']}")
            wall = time.monotonic() - started
            assert batch["status"] == "succeeded", batch
            bench = subprocess.run([args.binary, "bench", "towers", "--model", str(REPOSITORY / "demo/model"), "--batches",
                                    str(args.batch_size), "--text-batch", "0", "--seconds", "5", "--json"],
                                   cwd=REPOSITORY, check=True, capture_output=True, text=True)
            tower = json.loads(bench.stdout)
            tower_rate = next(c["per_second"] for c in tower["cases"] if c["tower"] == "vision" and c["batch"] == args.batch_size)
            rows.append((batch["images_per_second"], len(names) / wall, tower_rate))
            print(f"round {round_ + 1}: batch {batch['images_per_second']:.1f} images/s (runner), {len(names) / wall:.1f} images/s "
                  f"(wall, with polling), tower alone at batch {args.batch_size}: {tower_rate:.1f} images/s, "
                  f"ratio {batch['images_per_second'] / tower_rate:.2f}", flush=True)
        best = max(rows, key=lambda r: r[0] / r[2])
        print(json.dumps({"images": len(names), "batch_images_per_second": round(best[0], 1),
                          "tower_images_per_second": round(best[2], 1), "ratio": round(best[0] / best[2], 3)}))
    finally:
        server.terminate()
        server.wait(timeout=60)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
