"""A throw-away JupyterLab server and a headless Chromium that drives it.

Both use only what is on the machine: the server is the virtual environment's JupyterLab,
the browser is Debian's ``chromium`` with its ``chromedriver`` (``apt-get install chromium
chromium-driver``). The driver's path is given to Selenium, so Selenium Manager is never
run and nothing is downloaded.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing_browser():
    """The browser files that are not installed (an empty list when all are there)."""
    return [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).is_file()]


def require_browser():
    """Skip the calling test when Chromium or its driver is missing, except under CI (``CI``
    set), where that fails it: CI must run the browser tests (.ci/run installs them as root)."""
    import pytest

    if missing := missing_browser():
        why = f"{', '.join(missing)} not found; install with: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI must run this test: .ci/run installs them as root)", pytrace=False)
        pytest.skip(why)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` serving the folder ``root`` on 127.0.0.1, with a random token.

    Its config, runtime, data, settings and workspace folders live in ``home`` (a temporary
    folder), so a test run neither reads nor changes the user's Jupyter set-up."""

    def __init__(self, root, home, log_path):
        self.root, self.home, self.log_path = Path(root), Path(home), Path(log_path)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.process = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def start(self, timeout=60):
        """Start the server and wait until its REST API answers."""
        env = dict(os.environ)
        for name, folder in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                             ("JUPYTER_DATA_DIR", "data"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                             ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")]:
            env[name] = str(self.home / folder)
        # No "get Jupyter news?" prompt and no update check: the page shows only the notebook.
        notification = self.home / "settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True, exist_ok=True)
        notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                   f"--port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                   "--LabApp.news_url=None", "--allow-root"]  # CI runs as root
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {self.process.returncode}; "
                                   f"the end of its log ({self.log_path}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"jupyter lab did not answer /api/status within {timeout} s: see {self.log_path}")

    def log_tail(self, lines=15):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        """Stop the server (and so its kernels): SIGTERM, then SIGKILL if it hangs."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def chromium(log_path, size=(1400, 1000)):
    """A headless Chromium driven through Debian's chromedriver, keeping the console log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={size[0]},{size[1]}"):
        options.add_argument(argument)  # --no-sandbox: Chromium's sandbox refuses to run as root
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(log_path)), options=options)
