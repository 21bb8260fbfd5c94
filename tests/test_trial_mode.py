"""The trial mode end to end, in subprocesses: DEBUG=1, an embedded SQLite database, no Redis.
It migrates, loads the demo, serves the Overview to a signed-in user, and runs tasks in-process."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One migrated SQLite database and one server for the module: under pytest-xdist the whole
# module runs on one worker (loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("trial_mode")]


@pytest.fixture(scope="module")
def trial_env(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("trial")
    drop = {"REDIS_URL", "SECRET_KEY", "EMAIL_HOST", "EMAIL_FILE_PATH", "CELERY_BROKER_URL"}
    drop |= {"SITE_URL", "PORT"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("SECURE_")}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="pm.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(env, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def demo_loaded(trial_env):
    _run(trial_env, "manage.py", "migrate", "--noinput")
    return _run(trial_env, "manage.py", "load_demo")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(trial_env, demo_loaded, tmp_path_factory):
    port = _free_port()
    # As `make run PORT=...` does: SITE_URL is not set, so e-mail links follow the port.
    trial_env = {**trial_env, "PORT": str(port)}
    log_path = tmp_path_factory.mktemp("server") / "runserver.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=trial_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "runserver did not start:\n" + (
                    log_path.read_text()
                )
                time.sleep(0.2)
            yield base, log_path
        finally:
            process.terminate()
            process.wait(timeout=10)


class Browser:
    """Just enough of a browser: cookies, CSRF token, no redirects followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect
        )

    def request(self, path, data=None, headers=None) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def csrf(self) -> str:
        return next(c.value or "" for c in self.jar if c.name == "csrftoken")

    def sign_in(self, username, password) -> None:
        status, _, _ = self.request("/accounts/login/")
        assert status == 200
        status, headers, body = self.request(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": self.csrf()},
        )
        assert status == 302, body[:2000]


def test_load_demo_prints_the_logins(demo_loaded):
    for username in ("admin", "pm", "engineer", "stakeholder"):
        assert username in demo_loaded.stdout
    assert "lodestar-demo" in demo_loaded.stdout


def test_trial_server_serves_the_overview_to_a_signed_in_pm(server):
    base, _log = server
    browser = Browser(base)
    status, headers, _ = browser.request("/p/LOD/")
    assert status == 302 and "/accounts/login/" in headers["Location"]

    browser.sign_in("pm", "lodestar-demo")
    status, headers, body = browser.request("/p/LOD/")
    assert status == 200
    assert "Lodestar Cloud" in body
    assert "Customer evidence" in body  # a demo theme
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    # Static files are served too (whitenoise / runserver in trial mode).
    status, _, css = browser.request("/static/css/app.css")
    assert status == 200 and "--" in css


def test_trial_server_sends_an_invitation_in_process_without_a_broker(server):
    base, log_path = server
    browser = Browser(base)
    browser.sign_in("admin", "lodestar-demo")
    status, headers, body = browser.request(
        "/w/acme/invitations/",
        {"email": "trial.invitee@example.com", "role": "pm"},
        headers={"HX-Request": "true", "X-CSRFToken": browser.csrf()},
    )
    assert status == 200, body[:2000]
    assert "trial.invitee@example.com" in headers["HX-Trigger"]
    # The task ran eagerly inside the web process: the console mailer printed the e-mail.
    deadline = time.monotonic() + 10
    while "To: trial.invitee@example.com" not in log_path.read_text():
        assert time.monotonic() < deadline, log_path.read_text()[-3000:]
        time.sleep(0.1)
    log = log_path.read_text()
    assert "You're invited to Acme on Lodestar" in log
    # The link is whole on one line (no quoted-printable "=" breaks), on this server's port, and
    # opening it shows the invitation.
    assert "Content-Transfer-Encoding" not in log and "=3D" not in log
    link = re.search(rf"^.*({re.escape(base)}/invite/[A-Za-z0-9_-]+/)\s*$", log, re.M)
    assert link, log[-3000:]
    status, _, page = Browser(base).request(link.group(1).removeprefix(base))
    assert status == 200 and "Acme" in page
    # Trial mode has no broker: nothing may warn about one (kombu, Celery, connection retries).
    noisy = [
        line
        for line in log.splitlines()
        if re.search(r"kombu|broker|amqp|warning|retry", line, re.I)
        and "This is a development server" not in line  # runserver's own notice
    ]
    assert not noisy, noisy


def test_tasks_run_eagerly_without_a_broker_whatever_their_queue(trial_env, demo_loaded):
    # Queues by kind only matter with a broker: without one, every kind runs at once, in-process.
    code = (
        "import django; django.setup()\n"
        "from metrics.tasks import sweep_dirty_ranges\n"
        "from pm.celery import app\n"
        "from pm.tasks import ping, schedule_digests\n"
        "assert app.conf.task_always_eager, 'not eager'\n"
        "assert app.amqp.router.route({}, schedule_digests.name)['queue'].name == 'digests'\n"
        "echo = ping.delay('trial').get(timeout=5)['echo']\n"
        "print(echo, schedule_digests.delay().get(timeout=5), sweep_dirty_ranges.delay().get())\n"
    )
    result = _run(trial_env, "-c", code)
    assert result.stdout.strip().splitlines()[-1] == "trial 0 []"
