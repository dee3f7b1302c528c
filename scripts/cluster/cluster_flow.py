#!/usr/bin/env python3
"""Three tagtune replicas on one PostgreSQL behind nginx: the scenarios of issue #17.

Started by scripts/cluster/run.sh, which brings up PostgreSQL (scripts/cluster/pg.sh) and three
nginx instances rendered from the deployment template, and passes their addresses. This script
starts the three `tagtune serve` replicas itself (so that it can kill, pause and restart them):
one PostgreSQL, a shared blobs.dir and models folder, a cache.dir and data_dir each, the test
timings of the design (lease 3 s, heartbeat 1 s, claim poll 0.5 s), one BLAS thread each.

Scenarios, in this order (9 first: it needs the empty database):
  9 migration race   1 cross-replica visibility   2 six jobs exactly once   3 SIGKILL takeover
  4 fencing (SIGSTOP)   5 cancel elsewhere (NOTIFY, then heartbeat)   6 prompt-set propagation, ETag
  7 SIGTERM hand-back   8 PostgreSQL restart   11 cluster gauges exported once, taken over after SIGKILL
  10 /v1/tag throughput through nginx, 1 vs 2 replicas
Each prints one line with its time. A failed scenario prints why and the replicas' log tails, the
cluster is healed (replicas resumed or restarted, leftover jobs cancelled) and the next one runs.
Timings are reported, never checked against a threshold. Python standard library only.

Short jobs use the e2e test's tiny fixture encoder (hf-tiny-f32): a fraction of a second each.
Jobs that must be caught mid-training use the demo model (shapes-clip), whose epochs over the
48-image dataset take about half a second: a job selects its epochs on the validation images
first (no checkpoints), then trains them again with a checkpoint after each epoch.
"""
import argparse
import concurrent.futures
import http.client as httpclient
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURES = REPOSITORY / "Tests/Fixtures/images"
SHORT_MODEL = "hf-tiny-f32"      # the e2e test's fixture encoder
LONG_MODEL = "shapes-clip"       # the embedded demo model (also the replicas' default model)
DEFAULT_PROMPT_SET = "shapes-lt-lmpt"
sys.path.insert(0, str(REPOSITORY / "scripts/e2e"))
from api_flow import image_zip, make_zip  # noqa: E402  (the e2e flow's dataset: 12 fixture images, 3 classes)
TAG_IMAGE = (REPOSITORY / "demo/examples/08-key.png").read_bytes()
FINISHED = ("succeeded", "failed", "cancelled")

# What a missing field or header means: parts of issue #17 that may not have landed in the binary.
CONTRACT = {
    "attempt": "the job object's `attempt` (the fencing token) has not landed",
    "replica": "the job object's `replica` (the lease holder) has not landed",
    "event attempt": "job events' `attempt` and `replica` (which owner attempt wrote each) have not landed",
    "etag": "ETag / If-Match on /v1/prompt-sets/{id} has not landed",
    "listener": "the listener's application_name `tagtune-listener-<replica>` has not landed",
    "metrics label": "the `replica` label on /metrics has not landed",
    "blobs": "the shared dataset blob store (blobs.dir, cache.dir) has not landed",
}


class Failure(Exception):
    pass


def dataset_zip(copies):
    """The e2e dataset's 12 fixture images, `copies` times over (the epochs' length), 3 classes."""
    return make_zip(FIXTURES, copies=copies)


class Response:
    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    def code(self):
        return (self.body.get("error") or {}).get("code") if isinstance(self.body, dict) else None

    def __repr__(self):
        return f"{self.status} {json.dumps(self.body)[:400]}"


def http(base, method, path, body=None, headers=None, timeout=10):
    """A Response for any status; status 0 when nothing answers (refused, reset, timed out)."""
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read()
            status, found = response.status, response.headers
    except urllib.error.HTTPError as error:
        data, status, found = error.read(), error.code, error.headers
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, httpclient.HTTPException):
        return Response(0, {}, {})
    try:
        parsed = json.loads(data) if data[:1] in (b"{", b"[") else {}
    except ValueError:
        parsed = {}
    return Response(status, parsed, found)


def post_json(base, path, payload, headers=None):
    return http(base, "POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


def tag(base, prompt_set=None, timeout=10):
    query = f"?prompt_set={urllib.parse.quote(prompt_set)}" if prompt_set else ""
    return http(base, "POST", "/v1/tag" + query, TAG_IMAGE, {"Content-Type": "image/png"}, timeout=timeout)


def until(what, probe, timeout, interval=0.05):
    """Calls probe() until it returns something truthy and returns that; Failure after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def epoch_of(message):
    """k of "… epoch k/n …"."""
    return int(message.split("epoch ")[1].split("/")[0])


class Replica:
    def __init__(self, name, port, work, args, shared):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.root = work / name
        self.cache = work / f"local-{name}" / "cache"
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path = self.root / "server.log"
        self.arguments = [
            args.binary, "serve", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(self.root / "data"), "--log-level", "info",
            "--set", f"database.url={args.database_url}", "--set", f"replica.id={name}",
            "--set", f"blobs.dir={shared / 'blobs'}", "--set", f"cache.dir={self.cache}",
            "--set", f"batches.dir={shared / 'batches'}", "--set", f"features.dir={shared / 'features'}",
            "--set", f"models.dir={shared / 'models'}", "--set", "models.bundled=", "--set", f"models.default={LONG_MODEL}",
            "--set", f"prompt_sets.bundled={DEFAULT_PROMPT_SET}={REPOSITORY / 'demo/prompt-set'}",
            "--set", f"prompt_sets.default={DEFAULT_PROMPT_SET}",
            # The design's test timings (SCALE-OUT.md 3.3).
            "--set", "jobs.lease_seconds=3", "--set", "jobs.heartbeat_seconds=1", "--set", "jobs.claim_poll_seconds=0.5",
            "--set", "prompt_sets.sweep_seconds=5", "--set", "metrics.cluster_seconds=0.5", "--set", "webhooks.endpoints=",
        ]
        self.process = None
        self.stopped = False   # SIGSTOPped by a scenario

    def start(self):
        log = open(self.log_path, "a")
        log.write(f"===== started by cluster_flow.py at {time.strftime('%H:%M:%S')}\n")
        log.flush()
        # Three servers share two cores: one BLAS thread each (the engine has no thread setting
        # for `serve`). The server refuses unknown TAGTUNE_* variables: none are passed on.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TAGTUNE_")}
        environment.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        self.process = subprocess.Popen(self.arguments, stdout=log, stderr=subprocess.STDOUT, cwd=REPOSITORY,
                                        env=environment, stdin=subprocess.DEVNULL)
        log.close()
        self.stopped = False
        (self.root / "pid").write_text(str(self.process.pid))

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def usable(self):
        return self.alive() and not self.stopped

    def ready(self):
        return http(self.base, "GET", "/readyz", timeout=2).status == 200

    def send(self, sig):
        if self.alive():
            self.process.send_signal(sig)
        if sig == signal.SIGSTOP:
            self.stopped = True
        elif sig == signal.SIGCONT:
            self.stopped = False

    def kill(self):
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.stopped = False

    def stop(self, timeout=40):
        """SIGTERM and the exit status (None when it had to be killed after `timeout` s)."""
        if not self.alive():
            return self.process.returncode if self.process else None
        self.send(signal.SIGCONT)
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def wait_ready(self, timeout=90):
        def ready():
            if not self.alive():
                raise Failure(f"{self.name} exited with status {self.process.returncode} while starting")
            return self.ready()
        until(f"{self.name} to be ready (/readyz 200)", ready, timeout, 0.1)

    def mark(self):
        """Where its log ends now: tail() shows what was written after."""
        try:
            self.log_mark = self.log_path.stat().st_size
        except OSError:
            self.log_mark = 0

    def since_mark(self, needle):
        """Lines its log got since mark() that contain `needle`, shortened."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(getattr(self, "log_mark", 0))
                return [shorten(line) for line in log.read().decode(errors="replace").splitlines() if needle in line]
        except OSError:
            return []

    def tail(self, lines=20):
        """The last lines its log got since mark(), without request lines and PostgresNIO's own
        connection attempts (they drown everything else), long ones shortened in the middle."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(getattr(self, "log_mark", 0))
                text = log.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        kept = [shorten(line) for line in text if "[Server] request" not in line and "[PostgresNIO] Connection creation failed" not in line]
        return "\n".join(kept[-lines:]) or "(nothing new)"


class Cluster:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work)
        self.shared = self.work / "shared"
        models = self.shared / "models"
        models.mkdir(parents=True, exist_ok=True)
        (self.shared / "blobs").mkdir(exist_ok=True)
        # The shared models folder (a ReadWriteMany volume in a cluster): the same weights everywhere.
        for name, target in ((SHORT_MODEL, REPOSITORY / "Tests/Fixtures/clip" / SHORT_MODEL), (LONG_MODEL, REPOSITORY / "demo/model")):
            if not (models / name).exists():
                (models / name).symlink_to(target)
        self.replicas = [Replica(f"r{i + 1}", port, self.work, args, self.shared) for i, port in enumerate(args.ports)]
        self.by_name = {r.name: r for r in self.replicas}
        self.numbers = {}
        self.results = []
        self.dataset = None

    # Helpers.

    def psql(self, sql):
        out = subprocess.run(["psql", self.args.database_url, "-qAtc", sql], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise Failure(f"psql failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def psql_admin(self, sql):
        """psql on the server's `postgres` database (works while tagtune refuses connections)."""
        url = self.args.database_url.rsplit("/", 1)[0] + "/postgres"
        out = subprocess.run(["psql", url, "-qAtc", sql], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise Failure(f"psql failed: {out.stderr.strip()}")
        return out.stdout.strip()

    def live(self, exclude=()):
        return [r for r in self.replicas if r.usable() and r.name not in exclude]

    def via(self, exclude=()):
        """A replica to ask: alive, not paused, not excluded."""
        live = self.live(exclude)
        if not live:
            raise Failure("no replica left to ask")
        return live[0]

    def upload(self, replica):
        response = http(replica.base, "POST", "/v1/datasets?name=cluster", dataset_zip(self.args.copies),
                         {"Content-Type": "application/zip"}, timeout=60)
        if response.status != 201:
            raise Failure(f"upload via {replica.name} → {response}, expected 201")
        return response.body["id"]

    def create(self, replica, long=False, epochs=None):
        """A coop job: short on the tiny encoder, or long on the demo model with the dataset as its own
        validation set (epochs chosen on it first, then trained again with a checkpoint each)."""
        if long:
            payload = {"model": LONG_MODEL, "dataset": self.dataset, "validation_dataset": self.dataset, "method": "coop",
                       "seed": 7, "hyperparameters": {"epochs": epochs or self.args.long_epochs, "batch_size": 1, "n_ctx": 2,
                                                      "early_stop_patience": 0}}
        else:
            payload = {"model": SHORT_MODEL, "dataset": self.dataset, "method": "coop", "seed": 3,
                       "hyperparameters": {"epochs": epochs or 2, "batch_size": 4, "n_ctx": 2}}
        response = post_json(replica.base, "/v1/tuning/jobs", payload)
        if response.status != 201:
            raise Failure(f"create a job via {replica.name} → {response}, expected 201")
        return response.body["id"]

    def job(self, job_id, replica=None, require=()):
        replica = replica or self.via()
        response = http(replica.base, "GET", f"/v1/tuning/jobs/{job_id}")
        if response.status != 200:
            return None
        for key in require:
            if key not in response.body:
                raise Failure(f"GET /v1/tuning/jobs/{{id}} has no `{key}` field: {CONTRACT[key]}")
        return response.body

    def events(self, job_id, base=None):
        """Every event of the job, oldest first."""
        found, after = [], None
        while True:
            path = f"/v1/tuning/jobs/{job_id}/events?limit=100" + (f"&after={after}" if after else "")
            response = http(base or self.via().base, "GET", path)
            if response.status != 200:
                raise Failure(f"GET the events of {job_id} → {response}")
            found += response.body["data"]
            if not response.body.get("has_more"):
                break
            after = response.body["data"][-1]["id"]
        events = list(reversed(found))
        if events and not all("attempt" in e and "replica" in e for e in events):
            raise Failure(f"events have no `attempt`/`replica`: {CONTRACT['event attempt']}")
        return events

    def newest_events(self, job_id, replica, limit=100):
        response = http(replica.base, "GET", f"/v1/tuning/jobs/{job_id}/events?limit={limit}")
        return response.body.get("data", []) if response.status == 200 else []

    def wait_finished(self, job_id, timeout=None, replica=None):
        def done():
            job = self.job(job_id, replica if replica and replica.usable() else None)
            return job if job and job["status"] in FINISHED else None
        return until(f"job {job_id} to finish", done, timeout or self.args.job_timeout, 0.1)

    def wait_checkpoint(self, job_id, timeout=None):
        """(owner replica, attempt, epoch) once the owner has stored a checkpoint of the final training."""
        def seen():
            asked = self.via()
            job = self.job(job_id, asked, require=("attempt", "replica"))
            if not job:
                return None
            if job["status"] in FINISHED:
                raise Failure(f"job {job_id} ended {job['status']} before a checkpoint was seen "
                              f"(its final training had {job['progress']['epochs']} epoch(s)): {job.get('error')}")
            if job["status"] != "running" or not job.get("replica"):
                return None
            for event in self.newest_events(job_id, asked):
                if event["message"].startswith("checkpoint saved after epoch"):
                    if "attempt" not in event:
                        raise Failure(f"events have no `attempt`/`replica`: {CONTRACT['event attempt']}")
                    if event["attempt"] == job["attempt"]:
                        if job["replica"] not in self.by_name:
                            raise Failure(f"job {job_id} is held by an unknown replica {job['replica']!r}")
                        return self.by_name[job["replica"]], job["attempt"], epoch_of(event["message"])
            return None
        return until(f"a 'checkpoint saved after epoch' event of {job_id}", seen, timeout or self.args.job_timeout, 0.1)

    def wait_claimed(self, job_id, attempt, not_by, timeout):
        """The job once a replica other than `not_by` holds it with an attempt above `attempt`."""
        def claimed():
            job = self.job(job_id, self.via(exclude=(not_by,)))
            if job and job["status"] in FINISHED:
                raise Failure(f"job {job_id} ended {job['status']} before another replica claimed it")
            if job and job["attempt"] > attempt and job.get("replica") not in (None, not_by):
                return job
            return None
        return until(f"another replica to claim {job_id} (attempt above {attempt})", claimed, timeout, 0.02)

    def serves_everywhere(self, prompt_set, replicas, timeout=30):
        """Seconds until every replica answers /v1/tag?prompt_set= with 200, per replica."""
        start = time.monotonic()
        times, last = {}, {}
        while len(times) < len(replicas):
            for replica in replicas:
                if replica.name not in times:
                    response = tag(replica.base, prompt_set)
                    last[replica.name] = response
                    if response.status == 200:
                        times[replica.name] = round(time.monotonic() - start, 3)
            if time.monotonic() - start > timeout:
                missing = {r.name: last.get(r.name) for r in replicas if r.name not in times}
                raise Failure(f"prompt set {prompt_set} not served after {timeout} s by {missing}")
            time.sleep(0.01)
        return times

    def checkpoints_of(self, events, attempt):
        return [epoch_of(e["message"]) for e in events
                if e["message"].startswith("checkpoint saved after epoch") and e["attempt"] == attempt]

    def succeeded_once(self, job_id, done, events):
        if done["status"] != "succeeded":
            raise Failure(f"job {job_id} ended {done['status']}: {done.get('error')}")
        successes = [e for e in events if e["message"].startswith("succeeded")]
        if len(successes) != 1 or successes[0]["attempt"] is None:
            raise Failure(f"job {job_id}: {len(successes)} 'succeeded' events, expected one written by an owner attempt: "
                          f"{[(e['attempt'], e['replica']) for e in successes]}")
        holders = {}
        for event in events:
            if event["attempt"] is not None:
                holders.setdefault(event["attempt"], set()).add(event["replica"])
        shared = {a: sorted(r) for a, r in holders.items() if len(r) > 1}
        if shared:
            raise Failure(f"job {job_id}: one attempt number written by two replicas: {shared}")
        return successes[0], holders

    # Scenarios.

    def s9_migration_race(self):
        for replica in self.replicas:   # all three at once, on the empty database
            replica.start()
        for replica in self.replicas:
            replica.wait_ready(120)
        rows = self.psql("SELECT version FROM schema_migration ORDER BY version").split()
        if rows != [str(i + 1) for i in range(len(rows))] or not rows:
            raise Failure(f"schema_migration holds {rows}, expected 1…n once each")
        logged = {r.name: r.log_path.read_text(errors="replace").count("database migrated") for r in self.replicas}
        if sum(logged.values()) != len(rows):
            raise Failure(f"'database migrated' logged {logged} times for {len(rows)} migrations: applied more than once")
        demo = self.psql(f"SELECT count(*) FROM prompt_set WHERE id = '{DEFAULT_PROMPT_SET}'")
        if demo != "1":
            raise Failure(f"the bundled prompt set {DEFAULT_PROMPT_SET} is {demo} times in the database, expected once")
        for replica in self.replicas:
            text = http_text(replica.base + "/metrics")
            if f'replica="{replica.name}"' not in text:
                raise Failure(f"{replica.name}'s /metrics has no replica=\"{replica.name}\" label: {CONTRACT['metrics label']}")
        migrator = ", ".join(f"{n}" for n, c in logged.items() if c) or "none"
        return f"{len(rows)} migrations recorded once (applied by {migrator}), the demo prompt set inserted once, " \
               f"all 3 ready, /metrics labelled replica=… on each"

    def s1_cross_replica(self):
        r1, r2, r3 = self.replicas
        self.dataset = self.upload(r1)
        for replica in (r2, r3):
            response = http(replica.base, "GET", f"/v1/datasets/{self.dataset}")
            if response.status != 200:
                raise Failure(f"the dataset uploaded via r1, read via {replica.name} → {response}")
        blobs = [p for p in (self.shared / "blobs").rglob("*") if p.is_file()]
        if not blobs:
            raise Failure(f"nothing in the shared blobs.dir after the upload via r1: {CONTRACT['blobs']}")
        # r1 paused: the job can only run on r2 or r3, which never saw the upload.
        r1.send(signal.SIGSTOP)
        try:
            job_id = self.create(r2)
            until("the job via r3", lambda: self.job(job_id, r3), 10)
            done = self.wait_finished(job_id, 120, r3)
        finally:
            r1.send(signal.SIGCONT)
        if done["status"] != "succeeded":
            hint = f" ({CONTRACT['blobs']}?)" if (done.get("error") or {}).get("param") == "dataset" else ""
            raise Failure(f"the job created via r2 with r1's upload ended {done['status']}: {done.get('error')}{hint}")
        events = self.events(job_id, self.args.nginx)
        success, _ = self.succeeded_once(job_id, done, events)
        ran_on = self.by_name[success["replica"]]
        unpacked = list((ran_on.cache / "datasets").glob("*")) if (ran_on.cache / "datasets").exists() else []
        if not unpacked:
            raise Failure(f"{ran_on.name} ran the job but its cache.dir has no datasets/<sha256>/: {CONTRACT['blobs']}")
        batch = self.batch_everywhere()
        return f"upload via r1 ({len(blobs)} blob), job via r2, polled via r3, {len(events)} events via nginx; " \
               f"ran on {ran_on.name} (r1 paused) from its own cache.dir; {batch}"

    def batch_everywhere(self):
        """A zip batch posted to r2, run by whichever replica claims it, its results then read through
        every replica: the zip and the results live in the shared batches.dir."""
        r1, r2, r3 = self.replicas
        zipped = image_zip(FIXTURES, broken=False)
        created = http(r2.base, "POST", f"/v1/batches?prompt_set={DEFAULT_PROMPT_SET}", zipped, {"Content-Type": "application/zip"})
        if created.status != 201:
            raise Failure(f"a zip batch via r2 → {created}")
        batch_id = created.body["id"]
        deadline = time.monotonic() + 120
        while True:
            status = http(r3.base, "GET", f"/v1/batches/{batch_id}")
            if status.status == 200 and status.body.get("status") in ("succeeded", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                raise Failure(f"batch {batch_id} did not finish: {status}")
            time.sleep(0.1)
        if status.body["status"] != "succeeded":
            raise Failure(f"batch {batch_id} via r2 ended {status.body['status']}: {status.body.get('error')}")
        bodies = {replica.name: http_text(f"{replica.base}/v1/batches/{batch_id}/results?format=jsonl") for replica in self.replicas}
        if len(set(bodies.values())) != 1 or not next(iter(bodies.values())):
            raise Failure(f"the results of batch {batch_id} differ between replicas or are missing: "
                          f"{ {name: (body or '')[:80] for name, body in bodies.items()} }")
        runners = {e.get("replica") for e in http(r3.base, "GET", f"/v1/batches/{batch_id}/events").body.get("data", []) if e.get("replica")}
        return f"a zip batch via r2 ran on {sorted(runners)}, its results read via all 3"

    def s2_six_jobs(self):
        ids = [self.create(self.replicas[i % 3]) for i in range(6)]
        owners, attempts = {}, {}
        for job_id in ids:
            done = self.wait_finished(job_id, 180)
            events = self.events(job_id)
            success, holders = self.succeeded_once(job_id, done, events)
            if done["attempt"] != max(holders):
                raise Failure(f"job {job_id}: attempt {done['attempt']} in the job, {max(holders)} in its events")
            published = self.psql(f"SELECT count(*) FROM prompt_set WHERE id = '{done['prompt_set']}'")
            if published != "1":
                raise Failure(f"job {job_id}: its prompt set is {published} times in the database")
            owners[job_id] = success["replica"]
            attempts[job_id] = done["attempt"]
        spread = {name: list(owners.values()).count(name) for name in sorted(set(owners.values()))}
        return f"6/6 succeeded once, one replica per attempt; ran on {spread}, attempts {sorted(attempts.values())}"

    def s3_sigkill(self):
        job_id = self.create(self.replicas[0], long=True)
        owner, attempt, seen_epoch = self.wait_checkpoint(job_id)
        killed = time.monotonic()
        owner.kill()
        heir_job = self.wait_claimed(job_id, attempt, owner.name, 30)
        takeover = time.monotonic() - killed
        self.numbers["takeover after SIGKILL (s)"] = round(takeover, 2)
        heir = heir_job["replica"]
        done = self.wait_finished(job_id)
        events = self.events(job_id)
        self.succeeded_once(job_id, done, events)
        saved = self.checkpoints_of(events, attempt)
        last = max(saved)
        if heir_job["attempt"] != attempt + 1:
            raise Failure(f"the takeover's attempt is {heir_job['attempt']}, expected {attempt + 1}")
        mark = f"taken over by {heir} (attempt {attempt + 1})"
        if not any(mark in e["message"] for e in events):
            raise Failure(f"no event says '{mark}': {[e['message'] for e in events if 'taken over' in e['message']]}")
        resumed = [e for e in events if e["message"].startswith("resumed from the checkpoint of epoch") and e["attempt"] == attempt + 1]
        if not resumed or epoch_of(resumed[0]["message"]) != last:
            raise Failure(f"attempt {attempt + 1} did not resume from epoch {last} (the old owner's last checkpoint): "
                          f"{[e['message'] for e in resumed]}")
        # The features are on the shared features.dir: the heir encodes no image again.
        encoding = [e["message"] for e in events if e["attempt"] == attempt + 1 and "from the feature cache" in e["message"]]
        if not encoding or not all(": 0 encoded," in m for m in encoding):
            raise Failure(f"attempt {attempt + 1} encoded images again (features.dir is shared): {encoding}")
        survivors = self.live(exclude=(owner.name,))
        times = self.serves_everywhere(done["prompt_set"], survivors)
        owner.start()
        owner.wait_ready()
        return f"{owner.name} killed after epoch {seen_epoch}/{done['progress']['epochs']} (last checkpoint {last}); {heir} took over as attempt " \
               f"{attempt + 1} {takeover:.2f} s after the kill (lease 3 s), resumed from epoch {last} with every feature from the " \
               f"shared cache, succeeded; " \
               f"its prompt set serves on {sorted(times)}; {owner.name} restarted"

    def s4_fencing(self):
        job_id = self.create(self.replicas[1], long=True)
        owner, attempt, _ = self.wait_checkpoint(job_id)
        paused = time.monotonic()
        owner.send(signal.SIGSTOP)
        try:
            try:
                heir_job = self.wait_claimed(job_id, attempt, owner.name, 30)
            except Failure as failure:
                stuck = self.psql("SELECT application_name || ': ' || left(query, 80) FROM pg_stat_activity "
                                  "WHERE state LIKE 'idle in transaction%'")
                raise Failure(f"{failure}; sessions idle in a transaction (a paused owner holding row locks?): {stuck or 'none'}")
            takeover = time.monotonic() - paused
        finally:
            owner.send(signal.SIGCONT)
        resumed_at = time.monotonic()
        done = self.wait_finished(job_id)
        time.sleep(max(0.0, 2.0 - (time.monotonic() - resumed_at)))   # the old owner has run 2 s again
        events = self.events(job_id)
        success, _ = self.succeeded_once(job_id, done, events)
        takeover_index = next((i for i, e in enumerate(events)
                               if e["message"].startswith("taken over by") and e["attempt"] == attempt + 1), None)
        if takeover_index is None:
            raise Failure(f"no 'taken over by' event of attempt {attempt + 1}")
        late = [f"{e['message'][:60]}" for e in events[takeover_index:] if e["attempt"] == attempt]
        if late:
            raise Failure(f"the paused owner {owner.name} (attempt {attempt}) wrote {len(late)} event(s) after the takeover: {late[:3]}")
        if success["attempt"] != heir_job["attempt"]:
            raise Failure(f"the success was written by attempt {success['attempt']}, not by the heir's {heir_job['attempt']}")
        published = self.psql(f"SELECT count(*) FROM prompt_set WHERE id = '{done['prompt_set']}'")
        if published != "1":
            raise Failure(f"its prompt set is {published} times in the database, expected once")
        said = [line.split("[Server] ")[-1] for line in owner.log_path.read_text(errors="replace").splitlines()
                if job_id in line and ("abandoned" in line or "lost the job's lease" in line)]
        return f"{owner.name} paused, {heir_job['replica']} took over after {takeover:.2f} s; after SIGCONT attempt {attempt} " \
               f"wrote nothing more (its log: {'; '.join(said) or 'nothing about it'}); succeeded once by attempt {success['attempt']}"

    def s5_cancel(self):
        # Two long jobs at once (each replica runs one job at a time): one cancelled through NOTIFY,
        # one while its owner's listener is away, so that only the heartbeat can carry the cancel.
        first = self.create(self.replicas[2], long=True)
        second = self.create(self.replicas[0], long=True)
        details = []
        for job_id, cut in ((first, False), (second, True)):
            owner, _, _ = self.wait_checkpoint(job_id)
            other = self.via(exclude=(owner.name,))
            before = reconnects(owner) or 0
            try:
                if cut:
                    # The listener reconnects within 100 ms and then reads missed cancels from the
                    # tables; to keep it away, new connections to the database are refused first
                    # (ALLOW_CONNECTIONS binds superusers too); the pools' open connections go on.
                    self.psql_admin("ALTER DATABASE tagtune WITH ALLOW_CONNECTIONS false")
                    cut_count = self.psql_admin("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                                f"WHERE application_name = 'tagtune-listener-{owner.name}'")
                    if cut_count != "1":
                        raise Failure(f"{cut_count} connections named tagtune-listener-{owner.name} in pg_stat_activity: "
                                      f"{CONTRACT['listener']}")
                asked = time.monotonic()
                response = http(other.base, "POST", f"/v1/tuning/jobs/{job_id}/cancel")
                if response.status != 200:
                    raise Failure(f"cancel via {other.name} → {response}, expected 200")

                def cancelled():
                    job = self.job(job_id, other)
                    return job if job and job["status"] in FINISHED else None
                done = until(f"the cancel of {job_id} to reach {owner.name}" + (" by its heartbeat" if cut else ""),
                             cancelled, 15, 0.02)
                seconds = time.monotonic() - asked
                during = reconnects(owner) or 0
            finally:
                if cut:
                    self.psql_admin("ALTER DATABASE tagtune WITH ALLOW_CONNECTIONS true")
            if done["status"] != "cancelled":
                raise Failure(f"job {job_id} ended {done['status']} after the cancel via {other.name}")
            label = "listener away, heartbeat" if cut else "NOTIFY"
            self.numbers[f"cancel via another replica, {label} (s)"] = round(seconds, 2)
            details.append(f"{owner.name}'s job via {other.name} ({label}) {seconds:.2f} s")
            if cut:
                if during != before:
                    raise Failure(f"{owner.name}'s tagtune_listener_reconnects_total went {before:g} → {during:g} while "
                                  "connections were refused: the listener was not away during the cancel")
                until(f"{owner.name}'s listener to reconnect (tagtune_listener_reconnects_total above {before:g})",
                      lambda: (reconnects(owner) or 0) > before, 15, 0.2)
                details.append("its listener reconnected only afterwards")
        return "cancelled: " + "; ".join(details)

    def s6_propagation(self):
        r1 = self.replicas[0]
        job_id = self.create(r1)

        def succeeded():
            job = self.job(job_id, r1)
            return job if job and job["status"] in FINISHED else None
        done = until(f"job {job_id} to finish", succeeded, 120, 0.01)
        seen = time.monotonic()
        if done["status"] != "succeeded":
            raise Failure(f"job {job_id} ended {done['status']}: {done.get('error')}")
        times = self.serves_everywhere(done["prompt_set"], self.replicas)
        spent = time.monotonic() - seen
        self.numbers["prompt set serving on every replica after success (s)"] = round(spent, 3)
        success = [e for e in self.events(job_id) if e["message"].startswith("succeeded")][0]
        detail = f"succeeded on {success['replica']}, served by all 3 after {spent:.3f} s ({times}); "
        return detail + self.etags(done["prompt_set"], owner=success["replica"])

    def etags(self, prompt_set, owner):
        """PATCH thresholds on one replica with the current ETag, read them on another, and a stale If-Match."""
        others = [r for r in self.replicas if r.name != owner] + [self.by_name[owner]]
        ry, rz, rx = others[0], others[1], others[2]
        path = f"/v1/prompt-sets/{prompt_set}"
        got = http(ry.base, "GET", path)
        old = got.headers.get("ETag") if got.status == 200 else None
        if got.status != 200 or not old:
            raise Failure(f"GET {path} on {ry.name} → {got.status} without an ETag: {CONTRACT['etag']}")
        if not (old.startswith('"') and old.endswith('"')):
            raise Failure(f"the ETag {old} is not a quoted strong tag")
        on_z = http(rz.base, "GET", path)
        if on_z.headers.get("ETag") != old:
            raise Failure(f"the same prompt set has ETag {old} on {ry.name} and {on_z.headers.get('ETag')} on {rz.name}")
        name = got.body["classes"][0]["name"]
        patched = http(ry.base, "PATCH", path, json.dumps({"thresholds": {name: 0.37}}).encode(),
                       {"Content-Type": "application/json", "If-Match": old})
        new = patched.headers.get("ETag")
        if patched.status != 200 or not new or new == old:
            raise Failure(f"PATCH with the current ETag on {ry.name} → {patched.status}, ETag {new} (was {old})")
        start = time.monotonic()

        def shown():
            seen = http(rz.base, "GET", path)
            return seen.status == 200 and seen.headers.get("ETag") == new and abs(seen.body["classes"][0]["threshold"] - 0.37) < 1e-6
        until(f"{rz.name} to show the PATCH made on {ry.name}", shown, 10, 0.01)
        seconds = time.monotonic() - start
        self.numbers["PATCH visible on another replica (s)"] = round(seconds, 3)
        stale = http(rz.base, "PATCH", path, json.dumps({"thresholds": {name: 0.9}}).encode(),
                     {"Content-Type": "application/json", "If-Match": old})
        if stale.status != 412 or stale.code() != "precondition_failed":
            raise Failure(f"PATCH with the stale ETag on {rz.name} → {stale}, expected 412 precondition_failed")
        if stale.headers.get("ETag") != new:
            raise Failure(f"the 412 names ETag {stale.headers.get('ETag')}, expected the current {new}")
        after = http(rx.base, "GET", path)
        if abs(after.body["classes"][0]["threshold"] - 0.37) > 1e-6 or after.headers.get("ETag") != new:
            raise Failure(f"the refused PATCH changed something: {after.body['classes'][0]} ETag {after.headers.get('ETag')}")
        return f"PATCH on {ry.name} shown on {rz.name} with the new ETag after {seconds:.3f} s; stale If-Match on {rz.name} → 412"

    def s7_sigterm(self):
        job_id = self.create(self.replicas[0], long=True)
        owner, attempt, _ = self.wait_checkpoint(job_id)
        sent = time.monotonic()
        owner.process.send_signal(signal.SIGTERM)
        readiness, claim, exited = [], None, None
        other = self.via(exclude=(owner.name,))
        last_job_poll = 0.0
        while time.monotonic() - sent < 45 and (claim is None or exited is None):
            now = time.monotonic()
            if exited is None:
                if owner.process.poll() is not None:
                    exited = now - sent
                else:
                    readiness.append(http(owner.base, "GET", "/readyz", timeout=0.5).status)
                    if readiness[-1] == 0:
                        time.sleep(0.01)   # no longer listening: the process is on its way out
            if claim is None and now - last_job_poll > 0.02:
                last_job_poll = now
                job = self.job(job_id, other)
                if job and job["status"] in FINISHED:
                    raise Failure(f"job {job_id} ended {job['status']} after the SIGTERM of its owner")
                if job and job["attempt"] > attempt and job.get("replica") not in (None, owner.name):
                    claim = (now - sent, job)
        if exited is None:
            raise Failure(f"{owner.name} still running 45 s after SIGTERM")
        if claim is None:
            raise Failure(f"no other replica claimed the job within 45 s of {owner.name}'s SIGTERM")
        seconds, heir_job = claim
        self.numbers["claimed elsewhere after SIGTERM (s)"] = round(seconds, 2)
        statuses = {s: readiness.count(s) for s in sorted(set(readiness))}
        status = owner.process.returncode
        crash = crash_lines(owner.log_path)
        owner.start()
        done = self.wait_finished(job_id)
        events = self.events(job_id)
        self.succeeded_once(job_id, done, events)
        problems = []
        handed = [e for e in events if e["message"].startswith("handed back at a server shutdown")]
        if not handed or handed[0]["attempt"] != attempt:
            problems.append(f"no 'handed back at a server shutdown' event of attempt {attempt}")
        lapsed = [e["message"] for e in events if e["message"].startswith("taken over by") and e["attempt"] == heir_job["attempt"]]
        if lapsed:
            problems.append(f"the job was taken over after its lease lapsed, not handed back: {lapsed}")
        if 503 not in readiness:
            problems.append(f"/readyz never answered 503 between SIGTERM and the exit {exited:.2f} s later: {statuses}")
        saved = max(self.checkpoints_of(events, attempt))
        resumed = [e for e in events if e["message"].startswith("resumed from the checkpoint of epoch") and e["attempt"] == heir_job["attempt"]]
        if not resumed or epoch_of(resumed[0]["message"]) != saved:
            problems.append(f"attempt {heir_job['attempt']} did not resume from epoch {saved}: {[e['message'] for e in resumed]}")
        if status != 0:
            problems.append(f"{owner.name} exited with status {status} {exit_meaning(status)} {exited:.2f} s after SIGTERM "
                            f"(its log: {crash})")
        owner.wait_ready()
        detail = f"{owner.name} handed its job back; {heir_job['replica']} claimed it {seconds:.2f} s after SIGTERM (lease 3 s), " \
                 f"resumed from epoch {saved}, succeeded; /readyz during the drain {statuses}; exit {status} after {exited:.2f} s; restarted"
        if problems:
            raise Failure("; ".join(problems) + f"\n      ({detail})")
        return detail

    def s8_database_restart(self):
        job_id = self.create(self.replicas[1], long=True)
        owner, attempt, _ = self.wait_checkpoint(job_id)
        pg, folder = REPOSITORY / "scripts/cluster/pg.sh", self.args.pg_dir
        if self.args.pg_outage > 0:
            # A restart with the server down long enough to be seen: stopped, then started on its port.
            port = (Path(folder) / "port").read_text().strip()
            command = ["bash", "-c", f'"{pg}" down "{folder}" && sleep {self.args.pg_outage:g} && "{pg}" up "{folder}" {port}']
        else:
            command = [str(pg), "restart", folder]
        restart = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        began = time.monotonic()
        finished = []   # set once PostgreSQL is back and 3 s have passed: the probes stop
        tags, routes, slowest = [], [], [0.0]

        def probe_tags():   # tagging on every replica, independently of the job routes that may wait
            while not finished:
                for replica in self.replicas:
                    tags.append((replica.name, tag(replica.base, timeout=5).status))
                time.sleep(0.02)

        def probe_routes(replica):
            while not finished:
                asked = time.monotonic()
                response = http(replica.base, "GET", f"/v1/tuning/jobs/{job_id}", timeout=15)
                routes.append((replica.name, response.status, response.code()))
                slowest[0] = max(slowest[0], time.monotonic() - asked)
                time.sleep(0.002)   # often enough that some query is in flight when the server stops
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            probes = [pool.submit(probe_tags)] + [pool.submit(probe_routes, r) for r in self.replicas]
            try:
                restart.wait(timeout=60)
            except subprocess.TimeoutExpired:
                restart.kill()
                finished.append(True)
                raise Failure(f"restarting PostgreSQL still running after 60 s: {' '.join(command)}")
            downtime = time.monotonic() - began
            time.sleep(3)
            finished.append(True)
            for probe in probes:
                probe.result(timeout=30)
        slowest = slowest[0]
        if restart.returncode != 0:
            raise Failure(f"restarting PostgreSQL failed ({' '.join(command)}): {restart.stdout.read()}")
        problems = []
        bad_tags = [t for t in tags if t[1] != 200]
        if bad_tags:
            problems.append(f"/v1/tag with the loaded default prompt set answered {len(bad_tags)} non-200s while PostgreSQL "
                            f"was down: {sorted(set(bad_tags))}")
        bad_routes = [r for r in routes if r[1] != 200 and (r[1], r[2]) != (503, "database_unavailable")]
        if bad_routes:
            problems.append(f"GET /v1/tuning/jobs/{{id}} answered other than 200 or 503 database_unavailable "
                            f"{len(bad_routes)} times: {sorted(set(bad_routes))}")
            # Their causes, which the log tails may not reach: the 500s' own log lines.
            for replica in self.replicas:
                problems += [f"{replica.name}: {line}" for line in replica.since_mark("unhandled error")[:3]]
        done = self.wait_finished(job_id)
        events = self.events(job_id)
        try:
            self.succeeded_once(job_id, done, events)
        except Failure as failure:
            problems.append(str(failure))
        unavailable = sum(1 for r in routes if r[1] == 503)
        finisher = ([e["replica"] for e in events if e["message"].startswith("succeeded")] or ["nobody"])[0]
        how = f"stopped for {self.args.pg_outage:g} s, back" if self.args.pg_outage > 0 else "pg.sh restart"
        detail = f"{how} after {downtime:.2f} s; {len(tags)} tags, {len(bad_tags)} not 200; job route: " \
                 f"{sum(1 for r in routes if r[1] == 200)}×200, {unavailable}×503 database_unavailable, {len(bad_routes)} other " \
                 f"(slowest answer {slowest:.2f} s); the job (on {owner.name}) ended {done['status']} on {finisher} " \
                 f"as attempt {done['attempt']}{' (taken over)' if done['attempt'] > attempt else ''}"
        if problems:
            raise Failure("; ".join(problems) + f"\n      ({detail})")
        return detail

    def job_gauges(self):
        """{replica name: {"kind:status": value}} for each replica whose /metrics has the job gauges."""
        found = {}
        for replica in self.live():
            for line in http_text(replica.base + "/metrics").splitlines():
                for kind, family in (("tuning", "tagtune_tuning_jobs{"), ("batch", "tagtune_batch_jobs{")):
                    if line.startswith(family):
                        if "replica=" in line:
                            raise Failure(f"{replica.name} labels a cluster-wide gauge with its replica: {line}")
                        status = line.split('status="')[1].split('"')[0]
                        found.setdefault(replica.name, {})[f"{kind}:{status}"] = int(float(line.split()[-1]))
        return found

    def one_exporter(self, timeout=10):
        """The one replica exporting the job gauges, once its figures equal the database's."""
        result = {}

        def single():
            gauges = self.job_gauges()
            counts = dict(line.split("|") for line in self.psql(
                "SELECT kind || ':' || status, count(*) FROM job GROUP BY kind, status").splitlines() if line)
            result.update(gauges=gauges, counts=counts)
            if len(gauges) != 1:
                return False
            (name, shown), = gauges.items()
            return all(shown.get(status, 0) == int(n) for status, n in counts.items()) and sum(shown.values()) == sum(map(int, counts.values()))
        try:
            until("exactly one replica exporting the job gauges, equal to the database's counts", single, timeout, 0.1)
        except Failure as error:
            raise Failure(f"{error}: exporting {result.get('gauges')}, database {result.get('counts')}") from None
        return next(iter(result["gauges"]))

    def s11_cluster_gauges(self):
        exporter = self.by_name[self.one_exporter()]
        # It follows the database whoever writes: a job created through another replica shows at once.
        job_id = self.create(self.via(exclude=(exporter.name,)))
        self.wait_finished(job_id)
        if self.one_exporter() != exporter.name:
            raise Failure("the exporter changed while every replica was up")
        killed = time.monotonic()
        exporter.kill()
        heir = self.one_exporter()
        takeover = time.monotonic() - killed
        self.numbers["cluster gauges taken over after SIGKILL (s)"] = round(takeover, 2)
        exporter.start()
        exporter.wait_ready()
        time.sleep(1.5)   # three of its attempts at the lock
        if self.one_exporter() != heir:
            raise Failure(f"{exporter.name} came back and the exporter moved from {heir}")
        return f"only {exporter.name} exported tagtune_tuning_jobs and tagtune_batch_jobs (equal to the database's counts, a job finished " \
               f"through another replica included); killed, {heir} exported it {takeover:.2f} s later " \
               f"(metrics.cluster_seconds 0.5); {exporter.name} restarted and exports nothing"

    def s10_throughput(self):
        figures = {}
        for label, base in (("1 replica", self.args.nginx_one), ("2 replicas", self.args.nginx_two)):
            until(f"nginx ({label}) to answer /v1/tag", lambda: tag(base).status == 200, 20, 0.2)
            url = urllib.parse.urlsplit(base)
            stop = time.monotonic() + self.args.load_seconds

            def client():
                connection = httpclient.HTTPConnection(url.hostname, url.port, timeout=30)
                ok = bad = 0
                while time.monotonic() < stop:
                    try:
                        connection.request("POST", "/v1/tag", TAG_IMAGE, {"Content-Type": "image/png"})
                        response = connection.getresponse()
                        response.read()
                        ok, bad = (ok + 1, bad) if response.status == 200 else (ok, bad + 1)
                    except (OSError, httpclient.HTTPException):
                        bad += 1
                        connection.close()
                        connection = httpclient.HTTPConnection(url.hostname, url.port, timeout=30)
                connection.close()
                return ok, bad
            began = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(self.args.load_clients) as pool:
                counts = list(pool.map(lambda _: client(), range(self.args.load_clients)))
            spent = time.monotonic() - began
            ok, bad = sum(c[0] for c in counts), sum(c[1] for c in counts)
            if bad:
                raise Failure(f"{bad} of {ok + bad} /v1/tag requests through nginx ({label}) did not answer 200")
            figures[label] = round(ok / spent, 1)
        self.numbers["/v1/tag through nginx, requests/s"] = figures
        return f"{self.args.load_clients} clients, {self.args.load_seconds:g} s each: " + \
               ", ".join(f"{k}: {v}/s" for k, v in figures.items())

    # Running.

    SCENARIOS = [
        ("9", "migration race: three fresh replicas on an empty database", "s9_migration_race"),
        ("1", "cross-replica visibility", "s1_cross_replica"),
        ("2", "six short jobs across three replicas, each exactly once", "s2_six_jobs"),
        ("3", "SIGKILL of a job's owner after a checkpoint", "s3_sigkill"),
        ("4", "fencing: owner SIGSTOPped past its lease, then SIGCONT", "s4_fencing"),
        ("5", "cancel via another replica", "s5_cancel"),
        ("6", "prompt-set propagation, ETag and If-Match", "s6_propagation"),
        ("7", "SIGTERM of a job's owner: hand-back and drain", "s7_sigterm"),
        ("8", "PostgreSQL restarted mid-job", "s8_database_restart"),
        ("11", "cluster gauges: one replica exports the job gauges, another after SIGKILL", "s11_cluster_gauges"),
        ("10", "/v1/tag throughput through nginx", "s10_throughput"),
    ]

    def print_tails(self):
        for replica in self.replicas:
            print(f"      --- {replica.name} log during the scenario, last lines (request lines left out)\n"
                  f"{indent(replica.tail())}", flush=True)
        (self.work / ".tails-printed").touch()   # run.sh prints them itself only when this script could not

    def heal(self):
        """Between scenarios: every replica running and ready, no job left running or queued."""
        for replica in self.replicas:
            if replica.stopped:
                replica.send(signal.SIGCONT)
            if not replica.alive():
                replica.start()
        for replica in self.replicas:
            replica.wait_ready()
        asked = self.via()
        listed = http(asked.base, "GET", "/v1/tuning/jobs?limit=100")
        pending = [j["id"] for j in listed.body.get("data", []) if j["status"] not in FINISHED]
        for job_id in pending:
            http(asked.base, "POST", f"/v1/tuning/jobs/{job_id}/cancel")
        for job_id in pending:
            self.wait_finished(job_id, 30)

    def run(self):
        only = set(self.args.only.split(",")) if self.args.only else None
        started = time.monotonic()
        failures = []
        try:
            for number, title, method in self.SCENARIOS:
                if number == "9" and only is not None and "9" not in only:
                    for replica in self.replicas:   # the migration race not asked for: start them anyway
                        replica.start()
                    try:
                        for replica in self.replicas:
                            replica.wait_ready(120)
                    except Failure as error:
                        print(f"FAIL  the replicas did not start: {error}", flush=True)
                        self.print_tails()
                        failures.append("start")
                        break
                    continue
                if only is not None and number not in only:
                    continue
                began = time.monotonic()
                for replica in self.replicas:
                    replica.mark()
                try:
                    if number not in ("9", "1") and self.dataset is None:
                        self.dataset = self.upload(self.replicas[0])
                    detail = getattr(self, method)()
                    print(f"ok    {number:>2}. {title} ({time.monotonic() - began:.1f} s): {detail}", flush=True)
                    self.results.append((number, True))
                except Exception as error:   # noqa: BLE001: any error fails the scenario, not the run
                    message = str(error) if isinstance(error, Failure) else traceback.format_exc()
                    print(f"FAIL  {number:>2}. {title} ({time.monotonic() - began:.1f} s): {message}", flush=True)
                    self.print_tails()
                    failures.append(number)
                    self.results.append((number, False))
                    if number == "9":
                        for replica in self.replicas:
                            if not replica.alive():
                                replica.start()
                try:
                    self.heal()
                except Failure as error:
                    print(f"FAIL  the cluster could not be healed after scenario {number}: {error}", flush=True)
                    self.print_tails()
                    failures.append(f"heal after {number}")
                    break
        finally:
            statuses = {}
            for replica in self.replicas:
                if replica.alive():
                    statuses[replica.name] = replica.stop()
        bad = {name: status for name, status in statuses.items() if status != 0}
        if bad:
            print(f"FAIL  teardown: SIGTERM of the idle replicas: exit statuses {bad} "
                  f"({'; '.join(f'{n}: {crash_lines(self.by_name[n].log_path)}' for n in bad)})", flush=True)
            failures.append("teardown")
        elif statuses:
            print(f"ok        teardown: {len(statuses)} replicas exited 0 on SIGTERM", flush=True)
        print("summary:")
        for key in ("takeover after SIGKILL (s)", "prompt set serving on every replica after success (s)",
                    "/v1/tag through nginx, requests/s"):
            print(f"  {key}: {self.numbers.get(key, 'not measured')}")
        for key, value in self.numbers.items():
            if key not in ("takeover after SIGKILL (s)", "prompt set serving on every replica after success (s)",
                           "/v1/tag through nginx, requests/s"):
                print(f"  {key}: {value}")
        passed = [n for n, ok in self.results if ok]
        print(f"  scenarios passed: {', '.join(passed) or 'none'}; failed: {', '.join(map(str, failures)) or 'none'}; "
              f"{time.monotonic() - started:.0f} s")
        return 1 if failures else 0


def http_text(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError):
        return ""


def reconnects(replica):
    """tagtune_listener_reconnects_total on the replica's /metrics (None when absent)."""
    for line in http_text(replica.base + "/metrics").splitlines():
        if line.startswith("tagtune_listener_reconnects_total"):
            return float(line.split()[-1])
    return None


def exit_meaning(status):
    if status is not None and status < 0:
        return f"(killed by {signal.Signals(-status).name})"
    return "(an error)" if status else ""


def crash_lines(path):
    """The lines of a replica's log since its last start that say why it ended badly, shortened."""
    keys = ("Program crashed", "crashed:", "Fatal error", "Error: ", "precondition")
    text = path.read_text(errors="replace").split("===== started by cluster_flow.py")[-1]
    lines = [line.strip()[:220] for line in text.splitlines() if any(k in line for k in keys)]
    return " | ".join(lines[-4:]) or "nothing"


def shorten(line, head=190, tail=110):
    return line if len(line) <= head + tail + 5 else f"{line[:head]} … {line[-tail:]}"


def indent(text):
    return "\n".join("      " + line for line in text.splitlines())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--pg-dir", required=True, help="scripts/cluster/pg.sh's folder (for the restart)")
    parser.add_argument("--work", required=True, help="a folder for the replicas' data, logs and the shared folder")
    parser.add_argument("--ports", type=int, nargs=3, required=True)
    parser.add_argument("--nginx", required=True, help="nginx in front of all three replicas")
    parser.add_argument("--nginx-one", required=True, help="nginx in front of r1 alone")
    parser.add_argument("--nginx-two", required=True, help="nginx in front of r1 and r2")
    parser.add_argument("--only", help="comma-separated scenario numbers (the replicas start either way)")
    parser.add_argument("--long-epochs", type=int, default=10, help="epochs of the demo-model jobs caught mid-training")
    parser.add_argument("--copies", type=int, default=4, help="copies of the 12 fixture images in the dataset")
    parser.add_argument("--pg-outage", type=float, default=6,
                        help="scenario 8: seconds PostgreSQL stays down (pg.sh down, then up on its port); 0: pg.sh restart")
    parser.add_argument("--job-timeout", type=float, default=120, help="seconds a long job may take")
    parser.add_argument("--load-seconds", type=float, default=8)
    parser.add_argument("--load-clients", type=int, default=4)
    args = parser.parse_args()
    # run.sh's cleanup sends SIGTERM: unwind (the replicas are stopped in run()'s finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return Cluster(args).run()


if __name__ == "__main__":
    sys.exit(main())
