#!/usr/bin/env python3
"""The datasets, tuning-jobs, batch and embeddings API end to end, against a running `tagtune serve`.

Embeds texts and images (checking an open_clip folder without tokenizer files against its PyTorch
reference), uploads a small dataset zip (fixture photos, made-up labels), starts a tuning job on the tiny
fixture encoder, polls it to `succeeded`, reads its events, cancels a second job, and checks that
bad inputs get the right status in the error shape: a zip with a `../` path (422), an unknown
dataset (404), an unknown hyper-parameter (422), cancelling a finished job (409).

Standard library only (urllib, zipfile), so it runs wherever Python 3 does:

    python3 scripts/e2e/api_flow.py --base-url http://127.0.0.1:8080 --model hf-tiny-f32
"""
import argparse
import base64
import io
import json
import math
import struct
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
IMAGES = [
    "jpeg_422.jpg", "jpeg_444.jpg", "jpeg_baseline_420.jpg", "jpeg_cmyk.jpg", "jpeg_exif3.jpg", "jpeg_exif6.jpg",
    "jpeg_gray.jpg", "jpeg_progressive.jpg", "png_rgb.png", "png_gray.png", "png_palette_4bit.png", "png_interlaced.png",
]
CLASSES = ["forklift", "pallet", "safety vest"]


class Client:
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")

    def request(self, method, path, body=None, content_type=None):
        """Returns (status, parsed JSON body) for any status, errors included."""
        headers = {"Content-Type": content_type} if content_type else {}
        request = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def json(self, method, path, payload):
        return self.request(method, path, json.dumps(payload).encode(), "application/json")

    def text(self, path):
        with urllib.request.urlopen(self.base_url + path, timeout=60) as response:
            return response.read().decode()


def make_zip(fixtures, extra=None, copies=1):
    """A dataset zip in the manifest format; `extra` adds raw entries (even unsafe paths); `copies`
    repeats the images under other names (longer epochs: the cluster test)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("classes.txt", "\n".join(CLASSES) + "\n")
        lines = []
        for copy in range(copies):
            for i, name in enumerate(IMAGES):
                labels = [CLASSES[i % 3]] + (["pallet"] if i % 4 == 0 and i % 3 != 1 else [])
                path = f"images/{i:02d}-{name}" if copies == 1 else f"images/{copy:02d}-{i:02d}-{name}"
                archive.writestr(path, (fixtures / name).read_bytes())
                lines.append(json.dumps({"image": path, "labels": labels}))
        archive.writestr("manifest.jsonl", "\n".join(lines) + "\n")
        for path, data in (extra or {}).items():
            archive.writestr(zipfile.ZipInfo(path), data)
    return buffer.getvalue()


class Checks:
    def __init__(self):
        self.failures = 0

    def expect(self, condition, what, detail=""):
        print(("ok    " if condition else "FAIL  ") + what + ("" if condition else f": {detail}"))
        if not condition:
            self.failures += 1
        return condition


def read_safetensors(path, name):
    """One float32 tensor of a safetensors file, as rows (standard library only)."""
    data = path.read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    info = json.loads(data[8:8 + size])[name]
    assert info["dtype"] == "F32", info
    start, end = info["data_offsets"]
    values = struct.unpack(f"<{(end - start) // 4}f", data[8 + size + start:8 + size + end])
    width = info["shape"][-1]
    return [list(values[i:i + width]) for i in range(0, len(values), width)]


def embeddings_flow(client, check, model, fixtures):
    """POST /v1/embeddings: texts and images in order, unit length, base64 equal to floats, an open_clip
    folder without tokenizer files equal to PyTorch's embeddings, and a refused body."""
    png = base64.b64encode((fixtures / "png_rgb.png").read_bytes()).decode()
    inputs = ["a photo of a forklift", {"image": png}, {"text": "a pallet"}]
    status, body = client.json("POST", "/v1/embeddings", {"model": model, "input": inputs})
    data = body.get("data", [])
    check.expect(status == 200 and body.get("object") == "list" and [d.get("index") for d in data] == [0, 1, 2],
                 "embed two texts and an image → 200, in input order", f"{status} {body}"[:300])
    norms = [math.sqrt(sum(v * v for v in d["embedding"])) for d in data]
    check.expect(norms and all(abs(n - 1) < 1e-4 for n in norms), "unit-length vectors", norms)
    check.expect(body.get("usage", {}).get("images") == 1 and body.get("usage", {}).get("prompt_tokens", 0) > 0, "usage counts", body.get("usage"))
    status, packed = client.json("POST", "/v1/embeddings", {"model": model, "input": inputs, "encoding_format": "base64"})
    raw = [base64.b64decode(d["embedding"]) for d in packed.get("data", []) if isinstance(d.get("embedding"), str)]
    unpacked = [list(struct.unpack(f"<{len(b) // 4}f", b)) for b in raw]
    # JSON floats carry float32 values exactly once read back as float32.
    floats = [[struct.unpack("<f", struct.pack("<f", v))[0] for v in d["embedding"]] for d in data]
    check.expect(status == 200 and unpacked == floats, "base64 encoding gives the same float32 values", status)
    status, body = client.json("POST", "/v1/embeddings", {"model": model, "input": [[49406, 320, 49407]]})
    check.expect(status == 422 and body.get("error", {}).get("param") == "input[0]", "token ids → 422 naming the input", f"{status} {body}")

    folder = REPOSITORY / "Tests/Fixtures/clip/openclip-standard-vocab-f16"
    texts = json.loads((folder / "reference.json").read_text())["texts"]
    expected = read_safetensors(folder / "reference.safetensors", "text.embeds")
    status, body = client.json("POST", "/v1/embeddings", {"model": folder.name, "input": texts, "normalize": False})
    got = [d["embedding"] for d in body.get("data", [])]
    scale = max(abs(v) for row in expected for v in row)
    error = max((abs(a - b) for g, e in zip(got, expected) for a, b in zip(g, e)), default=math.inf) / scale
    check.expect(status == 200 and len(got) == len(texts) and error < 1e-4,
                 f"open_clip folder without tokenizer files: {len(texts)} texts equal PyTorch's (relative error {error:.1e})",
                 f"{status} {str(body)[:300]}")


def image_zip(fixtures, broken=True):
    """A zip of the fixture photos in a folder, a truncated PNG and a file that is not an image."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in IMAGES:
            archive.writestr(f"shelf/{name}", (fixtures / name).read_bytes())
        if broken:
            archive.writestr("shelf/zz-broken.png", (fixtures / "png_rgb.png").read_bytes()[:100])
        archive.writestr("notes.txt", "not an image")
    return buffer.getvalue()


def batch_flow(client, check, model, fixtures, dataset_id, prompt_set, timeout):
    """A zip of images tagged zero-shot and a dataset tagged with a tuned prompt set, results in
    both formats, per-image errors, and refused requests."""
    status, batch = client.request("POST", f"/v1/batches?model={model}&classes=forklift,pallet&threshold=0.3",
                                   image_zip(fixtures), "application/zip")
    check.expect(status == 201 and batch.get("object") == "batch" and batch.get("progress", {}).get("images") == len(IMAGES) + 1,
                 f"a zip of {len(IMAGES) + 1} images → 201 batch", f"{status} {batch}")
    batch = wait_for(client, batch.get("id", ""), finished, timeout, collection="batches")
    check.expect(batch["status"] == "succeeded" and batch.get("image_counts") == {"total": len(IMAGES) + 1, "completed": len(IMAGES), "failed": 1},
                 "the batch succeeded; the broken image failed its own row", batch)
    with urllib.request.urlopen(client.base_url + batch["results"]["jsonl"], timeout=60) as response:
        rows = [json.loads(line) for line in response.read().decode().splitlines()]
    check.expect([r["index"] for r in rows] == list(range(len(IMAGES) + 1))
                 and [r["image"] for r in rows] == sorted(f"shelf/{n}" for n in IMAGES) + ["shelf/zz-broken.png"],
                 "JSON Lines results, one row per image in path order", [r.get("image") for r in rows])
    check.expect(rows[-1].get("error", {}).get("code") == "invalid_image", "the broken image's row names the error", rows[-1])
    # The same scores as /v1/tag gives the image alone.
    first = rows[0]
    status, tagged = client.request("POST", f"/v1/tag?model={model}&classes=forklift,pallet&threshold=0.3",
                                    (fixtures / first["image"].split("/")[-1]).read_bytes(),
                                    "image/png" if first["image"].endswith(".png") else "image/jpeg")
    expected = {l["label"]: l["score"] for l in tagged["results"][0]["labels"]}
    got = {l["label"]: l["score"] for l in first["labels"]}
    check.expect(status == 200 and expected.keys() == got.keys() and all(abs(expected[k] - got[k]) < 1e-4 for k in got),
                 "a batch row scores as /v1/tag does", f"{got} vs {expected}")
    with urllib.request.urlopen(client.base_url + batch["results"]["csv"], timeout=60) as response:
        table = response.read().decode().split("\r\n")
    check.expect(table[0] == "index,image,width,height,labels,error,forklift,pallet" and len([r for r in table if r]) == len(IMAGES) + 2,
                 "CSV results with a score column per class", table[:2])

    status, batch = client.json("POST", "/v1/batches", {"dataset": dataset_id, "prompt_set": prompt_set})
    batch = wait_for(client, batch.get("id", ""), finished, timeout, collection="batches") if status == 201 else batch
    check.expect(batch.get("status") == "succeeded" and batch.get("image_counts", {}).get("total") == len(IMAGES),
                 "a dataset tagged with the tuned prompt set", f"{status} {batch}")
    status, body = client.json("POST", "/v1/batches", {"dataset": "ds-doesnotexist", "prompt_set": prompt_set})
    check.expect(status == 404 and body.get("error", {}).get("param") == "dataset", "batch of an unknown dataset → 404", f"{status} {body}")
    status, body = client.request("POST", "/v1/batches", b"not a zip", "application/zip")
    check.expect(status == 422 and body.get("error", {}).get("code") == "invalid_archive", "not a zip → 422 invalid_archive", f"{status} {body}")
    status, body = client.request("POST", f"/v1/batches/{batch.get('id')}/cancel")
    check.expect(status == 409, "cancel a finished batch → 409", f"{status} {body}")


def webhook_flow(client, check, receiver, expected):
    """Every finished job named in `expected` reached the receiver signed, after two 500s, and each
    attempt is in the job's events."""
    deadline = time.monotonic() + 60
    while True:
        with urllib.request.urlopen(receiver + "/deliveries", timeout=10) as response:
            deliveries = json.loads(response.read())
        done = {d["object_id"]: d for d in deliveries if d["status"] == 200}
        if all(j in done for j in expected) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for job_id, event_type in expected.items():
        attempts = [d for d in deliveries if d["object_id"] == job_id]
        check.expect([d["status"] for d in attempts] == [500, 500, 200] and all(d["valid"] for d in attempts)
                     and {d["type"] for d in attempts} == {event_type} and len({d["id"] for d in attempts}) == 1,
                     f"webhook {event_type}: signed, one id, 500 twice then 200", attempts)
        status, events = client.request("GET", f"/v1/tuning/jobs/{job_id}/events?limit=100")
        logged = [e["message"] for e in events.get("data", []) if e["message"].startswith(f"webhook {event_type}")]
        check.expect(len(logged) == 3 and "delivered" in logged[0], f"each {event_type} attempt is a job event", logged)


def wait_for(client, job_id, done, timeout, collection="tuning/jobs"):
    """Polls a tuning job (or, with collection "batches", a batch) until `done` holds."""
    deadline = time.monotonic() + timeout
    while True:
        status, job = client.request("GET", f"/v1/{collection}/{job_id}")
        if status != 200:
            raise RuntimeError(f"GET job {job_id}: {status} {job}")
        if done(job):
            return job
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} did not get there in {timeout} s: {job}")
        time.sleep(0.05)


def finished(job):
    return job["status"] in ("succeeded", "failed", "cancelled")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--model", default="hf-tiny-f32", help="an encoder folder name in the server's models.dir")
    parser.add_argument("--fixtures", type=Path, default=REPOSITORY / "Tests/Fixtures/images")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a job may take")
    parser.add_argument("--webhook-receiver", help="scripts/e2e/webhook_receiver.py's URL, when the server posts webhooks to it")
    args = parser.parse_args()
    client, check = Client(args.base_url), Checks()

    status, body = client.request("GET", "/healthz")
    if status != 200:
        sys.exit(f"no server answering at {args.base_url}: {status} {body}")

    embeddings_flow(client, check, args.model, args.fixtures)

    # Upload.
    status, dataset = client.request("POST", "/v1/datasets?name=e2e", make_zip(args.fixtures), "application/zip")
    check.expect(status == 201, "upload a dataset zip → 201", f"{status} {dataset}")
    dataset_id = dataset.get("id", "")
    check.expect(dataset.get("images") == len(IMAGES), f"the dataset has {len(IMAGES)} images", dataset)
    check.expect([c["name"] for c in dataset.get("classes", [])] == CLASSES, "classes in classes.txt order", dataset)
    check.expect(set(dataset.get("groups", {})) == {"head", "medium", "tail"}, "head/medium/tail group sizes", dataset)
    status, listed = client.request("GET", "/v1/datasets")
    count_before = len(listed.get("data", []))

    # Bad inputs: each in the error shape with the right status, changing nothing.
    status, body = client.request("POST", "/v1/datasets", make_zip(args.fixtures, {"../escape.txt": b"x"}), "application/zip")
    error = body.get("error", {})
    check.expect(status == 422 and error.get("code") == "invalid_dataset", "zip with a ../ path → 422 invalid_dataset", f"{status} {body}")
    check.expect(any(p.get("field") == "../escape.txt" for p in error.get("problems", [])), "the problem names the entry", body)
    status, listed = client.request("GET", "/v1/datasets")
    check.expect(len(listed.get("data", [])) == count_before, "the refused upload left no dataset", listed)
    status, body = client.json("POST", "/v1/tuning/jobs", {"model": args.model, "dataset": "ds-doesnotexist"})
    check.expect(status == 404 and body.get("error", {}).get("param") == "dataset", "unknown dataset → 404 naming dataset", f"{status} {body}")
    status, body = client.json("POST", "/v1/tuning/jobs", {"model": "no-such-model", "dataset": dataset_id})
    check.expect(status == 404 and body.get("error", {}).get("param") == "model", "unknown model → 404 naming model", f"{status} {body}")
    status, body = client.json("POST", "/v1/tuning/jobs",
                               {"model": args.model, "dataset": dataset_id, "hyperparameters": {"warmup": 3}})
    check.expect(status == 422 and body.get("error", {}).get("param") == "hyperparameters.warmup",
                 "unknown hyper-parameter → 422 naming it", f"{status} {body}")

    # A job to succeeded.
    status, job = client.json("POST", "/v1/tuning/jobs", {
        "model": args.model, "dataset": dataset_id, "method": "lmpt", "seed": 1, "suffix": "e2e",
        "hyperparameters": {"epochs": 3, "batch_size": 4, "n_ctx": 2, "learning_rate": "auto"}})
    check.expect(status == 201 and job.get("object") == "tuning.job", "create a job → 201 tuning.job", f"{status} {job}")
    job_id = job.get("id", "")
    started = time.monotonic()
    job = wait_for(client, job_id, finished, args.timeout)
    check.expect(job["status"] == "succeeded", f"the job succeeded in {time.monotonic() - started:.1f} s", job)
    progress = job.get("progress", {})
    # The final training runs the epochs the selection chose (0 to 3): progress ends at its own end.
    check.expect(progress.get("epoch") == progress.get("epochs") and 0 <= progress.get("epochs", -1) <= 3
                 and progress.get("step") == progress.get("steps"), "progress at the end", progress)
    check.expect(isinstance((job.get("metrics") or {}).get("validation_map"), (int, float)), "validation mAP reported", job)
    check.expect(str(job.get("prompt_set", "")).startswith("ps-e2e-"), "the job names its prompt set", job)

    status, events = client.request("GET", f"/v1/tuning/jobs/{job_id}/events?limit=100")
    rows = events.get("data", [])
    metrics_rows = [e for e in rows if e.get("type") == "metrics"]
    # Webhook attempts are logged after the end, so the newest event that is not one says it succeeded.
    own = [e for e in rows if not e["message"].startswith("webhook ")]
    check.expect(status == 200 and own and own[0]["message"].startswith("succeeded"), "events, newest first", rows[:2])
    check.expect(any((e.get("data") or {}).get("validation_map") is not None for e in metrics_rows), "metrics rows with validation mAP",
                 metrics_rows[:2])
    candidates = [e for e in metrics_rows if (e.get("data") or {}).get("candidate") is not None]
    check.expect(len(candidates) == 1 and isinstance(candidates[0]["data"].get("selection_score"), (int, float)),
                 "one scored setting for lmpt, with its selection score", candidates)
    steps = [e for e in metrics_rows if (e.get("data") or {}).get("candidate") is None]
    check.expect(all(isinstance((e.get("data") or {}).get("loss"), (int, float)) for e in steps), "training rows with loss")
    status, page = client.request("GET", f"/v1/tuning/jobs/{job_id}/events?limit=2")
    check.expect(page.get("has_more") is True and len(page.get("data", [])) == 2, "events page with has_more", page)

    status, body = client.request("POST", f"/v1/tuning/jobs/{job_id}/cancel")
    check.expect(status == 409, "cancel a finished job → 409", f"{status} {body}")

    batch_flow(client, check, args.model, args.fixtures, dataset_id, job.get("prompt_set", ""), args.timeout)

    # Cancel a running job (a preset with no early stop: `auto` may finish a 1000-epoch job early).
    status, long_job = client.json("POST", "/v1/tuning/jobs", {
        "model": args.model, "dataset": dataset_id, "method": "coop",
        "hyperparameters": {"epochs": 1000, "batch_size": 1, "n_ctx": 2, "early_stop_patience": 0}})
    long_id = long_job.get("id", "")
    wait_for(client, long_id, lambda j: j["status"] == "running" or finished(j), args.timeout)
    status, body = client.request("POST", f"/v1/tuning/jobs/{long_id}/cancel")
    check.expect(status == 200, "cancel a running job → 200", f"{status} {body}")
    long_job = wait_for(client, long_id, finished, args.timeout)
    check.expect(long_job["status"] == "cancelled", "it stops as cancelled", long_job)

    if args.webhook_receiver:
        webhook_flow(client, check, args.webhook_receiver, {job_id: "tuning.job.succeeded", long_id: "tuning.job.cancelled"})

    status, jobs = client.request("GET", "/v1/tuning/jobs?limit=1")
    check.expect(jobs.get("object") == "list" and jobs.get("has_more") is True, "job list with cursor pagination", jobs)
    metrics = client.text("/metrics")
    check.expect('tagtune_tuning_jobs{status="succeeded"}' in metrics, "jobs-by-status gauge in /metrics")
    check.expect('tagtune_batch_jobs{status="succeeded"}' in metrics, "batches-by-status gauge in /metrics")
    check.expect("tagtune_tuning_job_step_duration_seconds_bucket" in metrics, "step-time histogram in /metrics")

    print(f"{'all checks passed' if check.failures == 0 else f'{check.failures} checks failed'}")
    sys.exit(1 if check.failures else 0)


if __name__ == "__main__":
    main()
