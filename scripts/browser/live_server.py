"""A live `tagtune serve` for the browser tests: a free loopback port, a temporary data folder,
a models folder holding the demo model (linked, as `shapes-clip`, the name `make serve` gives it), the page and examples
from the repository, and optionally a copy of a prompt set (a copy, because the page's threshold
edits write to it). Configuration keys the binary does not know are left out, so the same script
runs against older and newer servers."""
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


# The names `make serve` gives the bundled model and prompt set (config/tagtune.yaml).
PROMPT_SET_NAME = "shapes-lt-lmpt"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    def __init__(self, binary, repository, workdir, model, prompt_set=None, api_keys=None, name="server"):
        self.binary = Path(binary).resolve()
        self.repository = Path(repository).resolve()
        self.workdir = Path(workdir)
        self.model = Path(model).resolve()
        self.prompt_set = Path(prompt_set).resolve() if prompt_set else None
        self.api_keys = api_keys
        self.name = name
        self.process = None
        self.port = None
        self.log_path = self.workdir / f"{name}.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def known_keys(self):
        """The configuration keys this binary knows (from --print-config, run where no config file is)."""
        output = subprocess.run([str(self.binary), "serve", "--print-config"], cwd=self.workdir,
                                capture_output=True, text=True, check=True).stdout
        return {line.split(" = ", 1)[0].strip() for line in output.splitlines() if " = " in line}

    def start(self, timeout=120):
        self.workdir.mkdir(parents=True, exist_ok=True)
        data = self.workdir / f"{self.name}-data"
        models = self.workdir / f"{self.name}-models"
        prompt_sets = data / "prompt-sets"
        models.mkdir(parents=True, exist_ok=True)
        prompt_sets.mkdir(parents=True, exist_ok=True)
        link = models / "shapes-clip"
        if not link.exists():
            link.symlink_to(self.model, target_is_directory=True)
        if self.prompt_set and not (prompt_sets / PROMPT_SET_NAME).exists():
            shutil.copytree(self.prompt_set, prompt_sets / PROMPT_SET_NAME)

        known = self.known_keys()
        settings = {
            "server.public_dir": self.repository / "Public",
            "web.examples_dir": self.repository / "demo" / "examples",
            "models.dir": models,
            "prompt_sets.dir": prompt_sets,
            "log.level": "info",
        }
        if self.api_keys:
            settings["auth.api_keys"] = ",".join(self.api_keys)
        self.port = free_port()
        command = [str(self.binary), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(data)]
        for key, value in settings.items():
            if key in known:
                command += ["--set", f"{key}={value}"]
            elif key == "auth.api_keys":
                raise RuntimeError("this server has no auth.api_keys setting")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TAGTUNE_")}
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT, env=environment)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer /healthz within {timeout} s; see {self.log_path}")

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
