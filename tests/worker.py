"""A real Celery worker for tests about background work.

`running_worker()` starts `celery -A pm worker --pool=solo` in a subprocess, connected to the same
Redis broker as the test process and to the *current test database* (pytest-django's `test_…`),
switches the test process's Celery app out of eager mode, waits until the worker answers a ping,
and on exit stops the worker and restores eager mode.

The worker is a separate process with its own database connection, so it only sees rows that are
committed: use it from tests marked `@pytest.mark.django_db(transaction=True)` (it refuses to start
inside an open transaction, where everything it was asked to do would be invisible to it).

Usage::

    import pytest
    from tests.worker import running_worker
    from pm.tasks import ping

    pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

    def test_ping_round_trips_through_the_broker():
        with running_worker() as worker:
            assert ping.delay("x").get(timeout=30)["echo"] == "x"

    def test_the_worker_sends_the_email(cast, tmp_path):
        # EMAIL_FILE_PATH makes the worker's mailer write messages as files in tmp_path
        # (EMAIL_HOST=None so a developer's SMTP settings do not win).
        env = {"EMAIL_HOST": None, "EMAIL_FILE_PATH": str(tmp_path)}
        with running_worker(env=env) as worker:
            services.invitation_create(...)  # its on_commit hook enqueues the task
            worker.wait_for_log("pm.tasks.send_invitation_email[")
            (message,) = mailed(tmp_path)  # parsed email.message.EmailMessage objects

`queues=["digests"]` makes the worker consume only those queues; `pool="prefork"` runs tasks in one
child process (`worker.children()`), as in production, instead of in the worker itself; `env` adds
or overrides environment variables of the worker process (`None` as a value removes one).
`worker.log()` is everything the worker printed so far, which makes failures easy to read.
"""

from __future__ import annotations

import email
import email.message
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from celery import Celery

ROOT = Path(__file__).resolve().parent.parent


def _database_url(db: Mapping) -> str:
    """A DATABASE_URL for Django's current default database settings (the test database)."""
    engine = db["ENGINE"]
    if "postgresql" not in engine:
        raise RuntimeError(
            f"running_worker() needs PostgreSQL (the worker is another process); got {engine}."
        )
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Worker:
    """A running worker: its process, node name and log file."""

    process: subprocess.Popen
    hostname: str
    log_path: Path
    started_in: float = 0.0
    _app: Celery | None = field(default=None, repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30) -> str:
        """Wait until `text` appears in the worker's output; returns the whole log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.log()
            if text in output:
                return output
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not in the worker's output:\n{self.log()[-4000:]}")

    def children(self) -> list[int]:
        """Process ids of the pool's child processes (prefork)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def ping(self, timeout: float = 1.0) -> bool:
        assert self._app is not None, "a worker started by start_worker knows its app"
        replies = self._app.control.ping(destination=[self.hostname], timeout=timeout)
        return any(self.hostname in reply for reply in replies or [])


@contextmanager
def running_worker(
    *,
    queues: Sequence[str] | None = None,
    env: Mapping[str, str | None] | None = None,
    startup_timeout: float = 60,
    pool: str = "solo",
) -> Iterator[Worker]:
    from django.conf import settings
    from django.db import connection

    from pm.celery import app

    if connection.in_atomic_block:
        raise RuntimeError(
            "running_worker() inside an open transaction: the worker could not see this test's "
            "rows. Mark the test @pytest.mark.django_db(transaction=True)."
        )
    redis_url = getattr(settings, "REDIS_URL", "") or os.environ.get("REDIS_URL", "")
    if not redis_url:
        raise RuntimeError("running_worker() needs REDIS_URL: the worker talks to a real broker.")

    hostname = f"lodestar-test-{uuid.uuid4().hex[:10]}@{os.uname().nodename}"
    worker_env = {
        **os.environ,
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "REDIS_URL": redis_url,
        "DB_CONN_MAX_AGE": "0",  # no connection left behind when the test database is dropped
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in (env or {}).items():
        if value is None:
            worker_env.pop(name, None)
        else:
            worker_env[name] = value
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "pm",
        "worker",
        f"--pool={pool}",
        "-l",
        "info",
        "-n",
        hostname,
        "--without-gossip",
        "--without-mingle",
    ]
    if queues:
        command += ["-Q", ",".join(queues)]
    if pool == "prefork":
        command += ["--concurrency=1"]

    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally below
        prefix="celery-worker-", suffix=".log", delete=False
    )
    was_eager = app.conf.task_always_eager
    process = subprocess.Popen(
        command, cwd=ROOT, env=worker_env, stdout=log_file, stderr=subprocess.STDOUT
    )
    worker = Worker(process=process, hostname=hostname, log_path=Path(log_file.name), _app=app)
    started = time.monotonic()
    try:
        app.conf.task_always_eager = False
        while not worker.ping():
            if process.poll() is not None:
                raise RuntimeError(
                    f"The Celery worker exited with {process.returncode}:\n{worker.log()[-4000:]}"
                )
            if time.monotonic() - started > startup_timeout:
                raise RuntimeError(
                    f"The Celery worker did not answer a ping within {startup_timeout}s:\n"
                    f"{worker.log()[-4000:]}"
                )
        worker.started_in = time.monotonic() - started
        yield worker
    finally:
        app.conf.task_always_eager = was_eager
        if process.poll() is None:
            process.terminate()  # warm shutdown: finishes the task in hand
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        log_file.close()
        if os.environ.get("KEEP_WORKER_LOGS") != "1":
            worker.log_path.unlink(missing_ok=True)


def mailed(
    directory: Path, *, count: int = 1, timeout: float = 30
) -> list[email.message.EmailMessage]:
    """The messages Django's file mailer wrote in `directory` (EMAIL_FILE_PATH), once at least
    `count` are there (or `timeout` passed). The mailer writes one file per connection, with
    messages separated by a line of 79 dashes."""
    deadline = time.monotonic() + timeout
    messages: list[email.message.EmailMessage] = []
    while True:
        chunks = b"".join(f.read_bytes() for f in sorted(Path(directory).glob("*.log")))
        # Only messages followed by their separator are complete (the file may be mid-write).
        complete = chunks.split(b"\n" + b"-" * 79 + b"\n")[:-1]
        messages = [
            email.message_from_bytes(chunk.strip(), policy=policy.default)
            for chunk in complete
            if chunk.strip()
        ]
        if len(messages) >= count or time.monotonic() > deadline:
            return messages
        time.sleep(0.1)
