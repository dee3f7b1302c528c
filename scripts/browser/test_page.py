"""The web page in a real browser (headless Chromium through Selenium) against a live
`tagtune serve`: load the page, tag a shipped example and compare the labels shown with the
server's answer, see the server's message for a broken image, upload a tiny long-tailed dataset
and check its class chart, run a short tuning job to success, open its results and check the
charts' bars and the thresholds, make its prompt set the default, tag with it, cancel a job,
and (when the server takes API keys) the 401 path. A screenshot of each step goes to
.build/browser-screenshots/.

    python3 scripts/browser/test_page.py --binary .build/release/tagtune
"""
import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_server import PROMPT_SET_NAME, LiveServer  # noqa: E402
from tiny_dataset import COUNTS, write_dataset_zip  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
DESKTOP = (1280, 1000)
PHONE = (390, 844)
EXAMPLE = "01-circle-star.png"


class CheckFailed(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


# ---------------------------------------------------------------------------------------------
# Talking to the server directly, to compare the page with the API's own answers.

def api(server, method, path, body=None, content_type=None, key=None):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type or "application/json"
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content, mime in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: {mime}\r\n\r\n'.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------------------------------------
# The browser.

class Browser:
    def __init__(self, screenshots):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--hide-scrollbars", "--force-device-scale-factor=1", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"]:
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        self.driver = webdriver.Chrome(service=Service(driver_path), options=options)
        self.driver.set_script_timeout(60)
        self.screenshots = screenshots
        self.console = []

    def open(self, url):
        self.driver.get(url)
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete", 30, "the page to load")

    def wait(self, condition, timeout, what):
        try:
            # The page redraws parts of itself as it polls: a vanished element means "look again".
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2,
                                 ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)
        except TimeoutException:
            raise CheckFailed(f"timed out after {timeout} s waiting for {what}") from None

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css, timeout=30):
        return self.wait(lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None),
                         timeout, f"{css} to be shown")

    def screenshot(self, name, size=DESKTOP):
        """The whole page at the given width (the window grows to the page's height)."""
        self.driver.set_window_size(size[0], size[1])
        time.sleep(0.3)
        height = self.driver.execute_script("return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
        self.driver.set_window_size(size[0], min(max(height + 40, size[1]), 6000))
        self.driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.4)
        path = self.screenshots / name
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(*DESKTOP)
        return path

    def horizontal_overflow(self):
        return self.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")

    def script_errors(self):
        """Console errors other than failed requests (those are the tests' own 4xx/5xx answers)."""
        entries = self.driver.get_log("browser")
        self.console.extend(entries)
        return [e for e in entries if e["level"] == "SEVERE" and e.get("source") != "network"]

    def quit(self):
        self.driver.quit()


# ---------------------------------------------------------------------------------------------
# The steps. Each returns what later steps need; a failed check stops the run.

class PageTest:
    def __init__(self, server, browser, workdir, job_timeout):
        self.server = server
        self.browser = browser
        self.workdir = workdir
        self.job_timeout = job_timeout
        self.dataset = None
        self.job = None
        self.prompt_set = None

    def go(self, fragment):
        """A fresh load of the page at #fragment (only the hash changing would keep the page's state)."""
        self.browser.driver.get("about:blank")
        self.browser.open(f"{self.server.url}/#{fragment}")

    def step_page_loads(self):
        b = self.browser
        self.go("tag")
        check(b.driver.title.startswith("TagTune"), f"title is {b.driver.title!r}")
        b.wait(lambda d: d.find_element(By.ID, "ready-text").text not in ("", "checking the server…"), 30, "the status strip")
        ready_text = b.find("#ready-text").text
        _, info = api(self.server, "GET", "/info")
        status, _ = api(self.server, "GET", "/readyz")
        check((status == 200) == (ready_text == "Ready"), f"status strip says {ready_text!r} but /readyz is {status}")
        check(info["version"] in b.find("#status-version").text, "the version from /info is in the status strip")
        limits = b.find("#status-limits").text
        check(f"{info['limits']['max_images_per_request']} images/request" in limits, f"limits shown: {limits!r}")
        examples = b.find_all("#example-list button.example")
        listing = json.loads((REPOSITORY / "demo/examples/examples.json").read_text())["examples"]
        check(len(examples) == len(listing), f"{len(examples)} example buttons for {len(listing)} examples")
        check(all(img.get_attribute("naturalWidth") not in (None, "0") for img in b.find_all("#example-list img")),
              "every example thumbnail loaded")
        errors = b.script_errors()
        check(not errors, f"script errors: {errors}")
        b.screenshot("01-page-loaded.png")
        b.screenshot("02-page-phone.png", PHONE)
        b.driver.set_window_size(*PHONE)
        time.sleep(0.3)
        overflow = b.horizontal_overflow()
        b.driver.set_window_size(*DESKTOP)
        check(overflow <= 0, f"the page is {overflow} px wider than a phone screen")
        return f"ready={status == 200}, {len(examples)} examples"

    def step_tag_example_zero_shot(self):
        b = self.browser
        self.go("tag")
        b.visible("#example-list button.example")
        b.find("#mode-zero-shot").click()
        classes = [c.strip() for c in b.find("#zero-shot-classes").get_attribute("value").split(",") if c.strip()]
        check(len(classes) >= 2, f"zero-shot classes prefilled from the examples: {classes}")
        b.find(f'#example-list button[data-file="{EXAMPLE}"]').click()
        card = b.visible(f'.tag-card[data-filename="{EXAMPLE}"]', 120)
        rows = card.find_elements(By.CSS_SELECTOR, "g.label-row")
        shown = {row.get_attribute("data-label"): "present" in row.get_attribute("class") for row in rows}
        # The server's own answer for the same bytes and classes.
        image = (REPOSITORY / "demo/examples" / EXAMPLE).read_bytes()
        body, content_type = multipart({"classes": ",".join(classes)}, [("image", EXAMPLE, image, "image/png")])
        status, answer = api(self.server, "POST", "/v1/tag", body, content_type)
        check(status == 200, f"direct tag answered {status}: {answer}")
        expected = {label["label"]: label["present"] for label in answer["results"][0]["labels"]}
        check(shown == expected, f"page shows {shown}, the server says {expected}")
        check(len(card.find_elements(By.CSS_SELECTOR, "rect.score-bar")) == len(classes), "one score bar per class")
        check(len(card.find_elements(By.CSS_SELECTOR, "line.threshold")) == len(classes), "one threshold mark per class")
        summary = b.find("#tag-summary").text
        check("Server time" in summary and "ms" in summary, f"server time shown: {summary!r}")
        check("In the picture: circle, star" in card.text, "the example's own labels are shown")
        b.screenshot("03-tag-example-zero-shot.png")
        b.screenshot("03b-tag-example-phone.png", PHONE)
        top = answer["results"][0]["labels"][0]
        return f"{len(rows)} labels, top {top['label']} {top['score']:.2f}, present {[k for k, v in shown.items() if v]}"

    def step_tag_with_shipped_prompt_set(self):
        """With a prompt set on the server, the page starts on it: the default one is chosen."""
        b = self.browser
        self.go("tag")
        b.wait(lambda d: d.find_element(By.ID, "prompt-set-select").get_attribute("value") == PROMPT_SET_NAME, 30,
               f"{PROMPT_SET_NAME} to be the chosen prompt set")
        check(b.find("#mode-prompt-set").is_selected(), "prompt-set mode is chosen when a prompt set exists")
        example = "02-square-star-heart.jpg"
        b.visible(f'#example-list button[data-file="{example}"]').click()
        card = b.visible(f'.tag-card[data-filename="{example}"]', 120)
        shown = {row.get_attribute("data-label"): "present" in row.get_attribute("class")
                 for row in card.find_elements(By.CSS_SELECTOR, "g.label-row")}
        image = (REPOSITORY / "demo/examples" / example).read_bytes()
        body, content_type = multipart({"prompt_set": PROMPT_SET_NAME}, [("image", example, image, "image/jpeg")])
        status, answer = api(self.server, "POST", "/v1/tag", body, content_type)
        check(status == 200, f"direct tag answered {status}: {answer}")
        expected = {label["label"]: label["present"] for label in answer["results"][0]["labels"]}
        check(shown == expected, f"page shows {shown}, the server says {expected}")
        check(PROMPT_SET_NAME in b.find("#tag-summary").text, "the summary names the prompt set")
        b.screenshot("03c-tag-example-shipped-prompt-set.png")
        return f"{len(shown)} labels, present {[k for k, v in shown.items() if v]} (the example shows square, star, heart)"

    def step_broken_image(self):
        b = self.browser
        self.go("tag")
        b.find("#mode-zero-shot").click()
        broken = self.workdir / "broken.png"
        broken.write_bytes(b"this is not a PNG at all")
        b.find("#tag-files").send_keys(str(broken))
        alert = b.visible("#tag-messages .alert.error", 60)
        classes = b.find("#zero-shot-classes").get_attribute("value").replace(" ", "")
        body, content_type = multipart({"classes": classes}, [("image", "broken.png", broken.read_bytes(), "image/png")])
        status, answer = api(self.server, "POST", "/v1/tag", body, content_type)
        check(status >= 400, f"the server accepted a broken image ({status})")
        message = answer["error"]["message"]
        check(message in alert.text, f"the alert {alert.text!r} does not show the server's message {message!r}")
        check(str(status) in alert.text, f"the alert names HTTP {status}")
        b.screenshot("04-broken-image.png")
        return f"HTTP {status}: {message}"

    def step_upload_dataset(self):
        b = self.browser
        self.go("tune")
        archive = self.workdir / "tiny-shapes.zip"
        counts, images = write_dataset_zip(archive)
        b.find("#dataset-name").send_keys("browser-test shapes")
        b.find("#dataset-file").send_keys(str(archive))
        b.find("#dataset-upload").click()
        b.visible("#class-count-chart svg", 180)
        bars = b.find_all("#class-count-chart rect.count-bar")
        check(len(bars) == len(counts), f"{len(bars)} bars for {len(counts)} classes")
        for bar in bars:
            column = bar.find_element(By.XPATH, "..")
            name, count = column.get_attribute("data-class"), int(bar.get_attribute("data-count"))
            check(counts[name] == count, f"{name}: bar says {count}, the zip has {counts[name]}")
            group = "head" if count >= 100 else "medium" if count >= 20 else "tail"
            check(f"group-{group}" in bar.get_attribute("class"), f"{name} ({count}) coloured as {group}")
        heights = [float(bar.get_attribute("height")) for bar in bars]
        check(heights == sorted(heights, reverse=True), "bars are sorted, most images first (the long tail)")
        self.dataset = b.find("#dataset-select").get_attribute("value")
        status, dataset = api(self.server, "GET", f"/v1/datasets/{self.dataset}")
        check(status == 200 and dataset["images"] == images, f"the dataset on the server: {status} {dataset}")
        b.screenshot("05-dataset-uploaded.png")
        b.screenshot("05b-dataset-phone.png", PHONE)
        return f"{self.dataset}: {images} images, {len(counts)} classes"

    def step_hyperparameter_form(self):
        """The advanced fields are the server's hyper-parameter table (from /openapi.json), with
        each method's defaults as placeholders and fields the method does not use disabled."""
        b = self.browser
        self.go("tune")
        _, document = api(self.server, "GET", "/openapi.json")
        schema = document["components"]["schemas"]["HyperparametersRequest"]
        b.find("details.advanced summary").click()
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#hp-fields [data-hp]"), 10, "the hyper-parameter fields")
        shown = [e.get_attribute("data-hp") for e in b.find_all("#hp-fields [data-hp]")]
        check(shown == [n for n in schema["x-order"] if n != "epochs"], f"the fields are the table's, in its order: {shown}")
        method = Select(b.find("#job-method"))
        for name in ("lmpt", "coop", "auto"):
            method.select_by_value(name)
            for field in ("learning_rate", "batch_size"):
                default = schema["properties"][field]["x-defaults"][name]
                placeholder = b.find(f"#hp-{field}").get_attribute("placeholder")
                check(placeholder == f"auto ({default})" or float(placeholder[6:-1]) == default,
                      f"{name}: {field} shows {placeholder}, the table says {default}")
            budget = b.find("#hp-budget_minutes")
            check(budget.is_enabled() == (name in schema["properties"]["budget_minutes"]["x-methods"]),
                  f"{name}: budget_minutes enabled only where the method uses it")
        b.find("details.advanced summary").click()
        return f"{len(shown)} fields from the table; defaults follow the method"

    def step_batch_in_job_list(self):
        """A batch started over the API appears in the jobs list, with its progress and its results' links."""
        b = self.browser
        status, batch = api(self.server, "POST", "/v1/batches", {"dataset": self.dataset, "classes": ["circle", "star", "house"]})
        check(status == 201, f"POST /v1/batches: {status} {batch}")
        self.go("tune")
        row = f'#job-list tr[data-job="{batch["id"]}"]'
        b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f"{row} .badge.status-succeeded"), self.job_timeout, "the batch to succeed")
        images = batch["progress"]["images"]
        progress = b.find(f"{row} .batch-progress").text
        check(f"{images} / {images} images" in progress, f"progress shown: {progress!r}")
        links = {a.text: a.get_attribute("href") for a in b.find_all(f"{row} a")}
        check(set(links) == {"JSONL", "CSV"} and links["CSV"].endswith(f"/v1/batches/{batch['id']}/results?format=csv"), f"links: {links}")
        with urllib.request.urlopen(links["CSV"], timeout=60) as response:
            rows = response.read().decode().split("\r\n")
        check(rows[0].endswith("circle,star,house") and len([r for r in rows if r]) == images + 1, f"the CSV has {len(rows)} lines")
        b.screenshot("12-batch-listed.png")
        return f"{batch['id']}: {images} images listed and downloadable"

    def step_run_job(self, epochs=3):
        b = self.browser
        b.find("#job-epochs").clear()
        b.find("#job-epochs").send_keys(str(epochs))
        b.find("#job-seed").send_keys("1")
        b.find("#job-start").click()
        b.visible("#job-status", 30)
        # A screenshot while it runs, once the chart has its first points.
        try:
            b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#training-chart polyline.loss-line")
                   or d.find_element(By.ID, "job-status").get_attribute("data-status") in ("succeeded", "failed"),
                   self.job_timeout, "the first training step")
        finally:
            b.screenshot("06-job-running.png")
        b.wait(lambda d: d.find_element(By.ID, "job-status").get_attribute("data-status") in ("succeeded", "failed", "cancelled"),
               self.job_timeout, "the job to finish")
        status = b.find("#job-status").get_attribute("data-status")
        job_id = b.find("#job-status").find_element(By.XPATH, "following-sibling::code").text
        _, job = api(self.server, "GET", f"/v1/tuning/jobs/{job_id}")
        b.screenshot("07-job-finished.png")
        check(status == "succeeded", f"the job {job_id} ended {status}: {job.get('error')}")
        # The final training runs as many epochs as the selection chose (at most `epochs`).
        final = job["progress"]["epochs"]
        check(0 <= final <= epochs, f"{final} final epochs of at most {epochs}")
        points = b.find_all("#training-chart circle.map-point")
        check(len(points) == final, f"{len(points)} validation mAP points for {final} epochs")
        if final > 0:
            check(b.find_all("#training-chart polyline.loss-line"), "the loss line is drawn")
        facts = b.find("#job-facts").text
        check(f"epoch {final} of {final}" in facts, f"progress shown: {facts!r}")
        check(not b.find("#job-cancel").is_displayed(), "no cancel button once the job has ended")
        self.job = job
        self.prompt_set = job["prompt_set"]
        return f"{job_id} succeeded, validation mAP {job['metrics']['validation_map']:.1f}, prompt set {self.prompt_set}"

    def step_results(self):
        b = self.browser
        b.find("#open-results").click()
        b.visible("#map-tiles", 30)
        _, prompt_set = api(self.server, "GET", f"/v1/prompt-sets/{self.prompt_set}")
        classes = prompt_set["classes"]
        tiles = b.find("#map-tiles").text
        check(f"{self.job['metrics']['validation_map']:.1f}" in tiles, f"total mAP in the tiles: {tiles!r}")
        rows = b.find_all("#threshold-form tbody tr")
        check(len(rows) == len(classes), f"{len(rows)} threshold rows for {len(classes)} classes")
        metrics = prompt_set.get("metrics") or {}
        note = ""
        if isinstance(metrics.get("per_class"), list):
            with_ap = [row for row in metrics["per_class"] if row.get("ap") is not None]
            tuned = b.find_all("#ap-chart rect.ap-bar.tuned")
            check(len(tuned) == len(with_ap), f"{len(tuned)} tuned AP bars for {len(with_ap)} classes with an AP")
            groups = [g.get_attribute("data-group") for g in b.find_all("#ap-chart g.group-header")]
            check(groups == [g for g in ("head", "medium", "tail") if any(c["group"] == g for c in classes)],
                  f"AP chart groups {groups}")
            zero = (metrics.get("zero_shot") or {}).get("per_class")
            if isinstance(zero, list):
                zero_bars = b.find_all("#ap-chart rect.ap-bar.zero-shot")
                check(len(zero_bars) == len([r for r in zero if r.get("ap") is not None]), "one zero-shot bar per class with an AP")
                note = f"{len(tuned)} tuned and {len(zero_bars)} zero-shot AP bars"
            else:
                note = f"{len(tuned)} tuned AP bars; the server reports no zero-shot AP"
        else:
            check(b.find_all("#ap-missing"), "the page says per-class AP is not reported")
            note = "the server reports no per-class AP (GET /v1/prompt-sets/{id} metrics.per_class): the page says so"
        b.screenshot("08-results.png")
        b.screenshot("08b-results-phone.png", PHONE)
        return note

    def step_edit_threshold_and_default(self):
        b = self.browser
        first = b.find("#threshold-form tbody tr input[type=number]")
        name = first.get_attribute("data-class")
        first.clear()
        first.send_keys("0.65")
        b.find("#thresholds-save").click()
        b.wait(lambda d: "Saved" in d.find_element(By.ID, "threshold-messages").text, 30, "the thresholds to be saved")
        _, prompt_set = api(self.server, "GET", f"/v1/prompt-sets/{self.prompt_set}")
        saved = next(c["threshold"] for c in prompt_set["classes"] if c["name"] == name)
        check(abs(saved - 0.65) < 1e-6, f"{name}'s threshold on the server is {saved}, not 0.65")
        if not prompt_set["default"]:
            b.find("#make-default").click()
            b.wait(lambda d: "default prompt set" in d.find_element(By.ID, "threshold-messages").text, 30, "make default")
            _, prompt_set = api(self.server, "GET", f"/v1/prompt-sets/{self.prompt_set}")
            check(prompt_set["default"], "the prompt set is the default on the server")
        check(b.find("#make-default").get_attribute("disabled") is not None, "the default button is disabled once it is the default")
        b.screenshot("09-thresholds-saved.png")
        return f"{name} threshold 0.65 saved; {self.prompt_set} is the default"

    def step_tag_with_prompt_set(self):
        b = self.browser
        self.go("tag")
        b.wait(lambda d: any(o.get_attribute("value") == self.prompt_set
                             for o in Select(d.find_element(By.ID, "prompt-set-select")).options), 30, "the new prompt set")
        Select(b.find("#prompt-set-select")).select_by_value(self.prompt_set)
        b.find("#mode-prompt-set").click()
        b.find(f'#example-list button[data-file="{EXAMPLE}"]').click()
        b.wait(lambda d: self.prompt_set in d.find_element(By.ID, "tag-summary").text
               if d.find_elements(By.ID, "tag-summary") else False, 120, "tagging with the prompt set")
        card = b.visible(f'.tag-card[data-filename="{EXAMPLE}"]')
        _, prompt_set = api(self.server, "GET", f"/v1/prompt-sets/{self.prompt_set}")
        rows = card.find_elements(By.CSS_SELECTOR, "g.label-row")
        check(len(rows) == len(prompt_set["classes"]), f"{len(rows)} labels for {len(prompt_set['classes'])} classes")
        thresholds = {c["name"]: c["threshold"] for c in prompt_set["classes"]}
        for row in rows:
            title = row.find_element(By.TAG_NAME, "title").get_attribute("textContent")
            name = row.get_attribute("data-label")
            check(f"threshold {thresholds[name]:.3f}" in title, f"{name}: {title!r} shows the prompt set's threshold")
        b.screenshot("10-tag-with-prompt-set.png")
        return f"{len(rows)} labels from {self.prompt_set}"

    def step_cancel_job(self):
        b = self.browser
        self.go("tune")
        Select(b.wait(lambda d: d.find_element(By.ID, "dataset-select"), 10, "datasets")).select_by_value(self.dataset)
        b.find("#job-epochs").clear()
        b.find("#job-epochs").send_keys("200")
        b.find("#job-start").click()
        b.wait(lambda d: d.find_element(By.ID, "job-status").get_attribute("data-status") in ("queued", "running", "validating_files"),
               30, "the long job to start")
        b.wait(lambda d: d.find_element(By.ID, "job-cancel").is_enabled(), 30, "the cancel button")
        b.find("#job-cancel").click()
        b.wait(lambda d: d.find_element(By.ID, "job-status").get_attribute("data-status") == "cancelled", self.job_timeout,
               "the job to be cancelled")
        check(not b.find("#job-cancel").is_displayed(), "no cancel button once the job is cancelled")
        b.screenshot("11-job-cancelled.png")
        job_id = b.find("#job-status").find_element(By.XPATH, "following-sibling::code").text
        _, job = api(self.server, "GET", f"/v1/tuning/jobs/{job_id}")
        check(job["status"] == "cancelled" and job["prompt_set"] is None, f"the server says {job['status']}, {job['prompt_set']}")
        return f"{job_id} cancelled at epoch {job['progress']['epoch']} of {job['progress']['epochs']}"


# A route of each family of the API: a branch of the server without it answers 404 `not_found`,
# and the steps that need it are skipped, loudly, instead of failing on the missing route.
ROUTE_PROBES = {"tagging": "/v1/models", "jobs": "/v1/datasets"}


def missing_route_families(server):
    missing = set()
    for family, path in ROUTE_PROBES.items():
        status, body = api(server, "GET", path)
        if status == 404 and (body or {}).get("error", {}).get("code") == "not_found":
            missing.add(family)
    return missing


class RunningServer:
    """A server started by someone else (--url)."""
    def __init__(self, url):
        self.url = url.rstrip("/")

    def start(self):
        return self

    def stop(self):
        pass

    def log_tail(self, lines=20):
        return "(not started by this script)"


def run_auth_steps(binary, workdir, browser, model):
    """A second server that requires a key: the page shows the 401 message, then works with the key."""
    key = "browser-test-api-key-0001"
    server = LiveServer(binary, REPOSITORY, workdir, model, api_keys=[key], name="auth-server")
    try:
        server.known_keys()
        if "auth.api_keys" not in server.known_keys():
            return "skipped: this server has no API keys yet"
        server.start()
        b = browser
        b.open(f"{server.url}/#tag")
        b.visible("#example-list button.example")
        b.find("#mode-zero-shot").click()
        b.find(f'#example-list button[data-file="{EXAMPLE}"]').click()
        alert = b.visible("#tag-messages .alert.error", 60)
        check(alert.get_attribute("data-status") == "401", f"expected a 401, the page shows {alert.text!r}")
        check("API key" in alert.text, f"the 401 message says what to do: {alert.text!r}")
        b.screenshot("12-auth-401.png")
        if not b.find("#api-key").get_attribute("open"):
            b.find("#api-key summary").click()
        field = b.find("#api-key-input")
        field.clear()
        field.send_keys(key)
        b.find("#api-key-form button[type=submit]").click()
        b.find(f'#example-list button[data-file="{EXAMPLE}"]').click()
        b.visible(f'.tag-card[data-filename="{EXAMPLE}"]', 120)
        check(b.driver.execute_script("return sessionStorage.getItem('tagtune.api_key')") == key, "the key is in session storage")
        b.screenshot("13-auth-with-key.png")
        return "401 shown without a key; tagging works with it"
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPOSITORY / ".build/release/tagtune"))
    parser.add_argument("--model", default=str(REPOSITORY / "demo/model"))
    parser.add_argument("--prompt-set", default=str(REPOSITORY / "demo/prompt-set"))
    parser.add_argument("--screenshots", default=str(REPOSITORY / ".build/browser-screenshots"))
    parser.add_argument("--job-timeout", type=float, default=900, help="longest wait for a tuning job (seconds)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (server logs, data)")
    parser.add_argument("--url", help="test a server that is already running here instead of starting one "
                        "(its data changes; the API-key steps are skipped)")
    args = parser.parse_args()

    screenshots = Path(args.screenshots)
    shutil.rmtree(screenshots, ignore_errors=True)
    screenshots.mkdir(parents=True)
    workdir = Path(tempfile.mkdtemp(prefix="tagtune-browser-"))
    prompt_set = args.prompt_set if Path(args.prompt_set, "prompt_set.json").exists() else None
    server = RunningServer(args.url) if args.url else LiveServer(args.binary, REPOSITORY, workdir, args.model, prompt_set=prompt_set)
    browser = None
    passed, failed, skipped = 0, 0, 0
    try:
        server.start()
        print(f"server {server.url} (prompt set: {PROMPT_SET_NAME + ' from ' + str(prompt_set) if prompt_set else 'none, zero-shot only'}); "
              f"screenshots in {screenshots}", flush=True)
        browser = Browser(screenshots)
        test = PageTest(server, browser, workdir, args.job_timeout)
        tagging, jobs = {"tagging"}, {"jobs"}
        steps = [
            ("page loads with the status strip and examples", set(), test.step_page_loads),
            ("a shipped example is tagged zero-shot", tagging, test.step_tag_example_zero_shot),
            ("an example is tagged with the shipped prompt set", tagging, test.step_tag_with_shipped_prompt_set),
            ("a broken image shows the server's message", tagging, test.step_broken_image),
            ("the tuning form is the server's hyper-parameter table", jobs, test.step_hyperparameter_form),
            ("a dataset zip is uploaded and charted", jobs, test.step_upload_dataset),
            ("a short job runs to success", jobs, test.step_run_job),
            ("its results are charted", tagging | jobs, test.step_results),
            ("thresholds are saved and the prompt set made default", tagging | jobs, test.step_edit_threshold_and_default),
            ("an example is tagged with the new prompt set", tagging | jobs, test.step_tag_with_prompt_set),
            ("a long job is cancelled", jobs, test.step_cancel_job),
            ("a batch is listed with its progress and results", tagging | jobs, test.step_batch_in_job_list),
        ]
        if not args.url:
            steps.append(("the API key: 401 without, success with", tagging,
                          lambda: run_auth_steps(args.binary, workdir, browser, args.model)))
        if not prompt_set and not args.url:
            steps = [step for step in steps if step[2] != test.step_tag_with_shipped_prompt_set]
            print(f"SKIP an example is tagged with the shipped prompt set: no {args.prompt_set}", flush=True)
            skipped += 1
        missing = missing_route_families(server)
        for name, needs, step in steps:
            if needs & missing:
                skipped += 1
                print(f"SKIP {name}: this server has no {' or '.join(sorted(needs & missing))} routes "
                      f"({', '.join(ROUTE_PROBES[f] for f in sorted(needs & missing))} answer 404)", flush=True)
                continue
            started = time.monotonic()
            try:
                note = step()
                errors = browser.script_errors()
                check(not errors, f"script errors in the page: {errors}")
                passed += 1
                print(f"ok   {name} ({time.monotonic() - started:.1f} s): {note}", flush=True)
            except Exception as error:  # noqa: BLE001 - every failure is reported with its screenshot
                failed += 1
                shot = browser.screenshot(f"failed-{passed + failed:02d}.png")
                print(f"FAIL {name}: {error}\n     screenshot {shot}", flush=True)
                if not isinstance(error, CheckFailed):
                    traceback.print_exc()
                print("     server log (last lines):\n" + server.log_tail(20), flush=True)
                break
    finally:
        if browser:
            browser.quit()
        server.stop()
        if args.keep or failed:
            print(f"temporary folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"browser: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
