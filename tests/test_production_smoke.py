"""The production smoke: what the image does, then what its users do, on a fresh stack.

One module-scoped stack, built the way the Dockerfile builds the image (tests/imagebuild.py runs
the Dockerfile's own ENV/COPY/RUN lines): a fresh virtualenv with a non-editable install from the
lock file, `collectstatic` with DEBUG=0 and the manifest storage. Then, with production settings
behind a (simulated) TLS proxy: `migrate` on a fresh PostgreSQL database, `load_demo` twice, and
the commands of docker-compose.yml's web, worker and beat services (gunicorn on a free port, the
real Celery workers of every queue group and beat with the heartbeat scheduler).

Against that stack: each write flow once (create, edit, triage, import, ship, share and revoke,
invite), every page of the URL configuration as each demo role (links, htmx URLs and form targets
followed from the pages, and every named route not reached that way requested with arguments
taken from one that was), asserting no 5xx; the main pages in Chromium without console errors;
static files hashed and cacheable; beat's health check going red when beat hangs; and the
README's pg_dump/pg_restore backup restoring every row.
"""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg
import pytest
import yaml
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from tests import imagebuild
from tests.worker import mailed

# One module-scoped stack: under pytest-xdist the whole module runs on one worker (loadgroup).
pytestmark = [
    pytest.mark.smoke,
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.xdist_group("production_smoke"),
]

ROOT = imagebuild.ROOT
ROLES = ("admin", "pm", "engineer", "stakeholder")
PASSWORD = "lodestar-demo"
KEY = "LOD"

# Named routes a crawl cannot reach, with the reason; everything else must have been requested.
UNREACHABLE = {
    "digest_unsubscribe": "a signed token that only a digest e-mail carries",
    "portal_vote_confirm": "a token that only a vote confirmation e-mail carries",
    "github_receiver": "a receiver id GitHub posts to (shown to admins as text, not a link)",
    "gitlab_receiver": "a receiver id GitLab posts to (shown to admins as text, not a link)",
    # The crawl opens one URL per route shape: the one sprint retro and feature page it opens
    # need not be those with cards or comments (their own tests and the role matrix cover them).
    "retro_item_vote": "a card's button, on the one retrospective that has cards",
    "retro_item_delete": "a card's button, on the one retrospective that has cards",
    "comment_edit": "a comment's link, on the one feature page that has comments",
    "comment_delete": "a comment's button, on the one feature page that has comments",
}


# --- the stack ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _compose_command(service: str) -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"][service]["command"]
    return " ".join(command) if isinstance(command, list) else " ".join(command.split())


def _compose_worker_services() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return [
        name
        for name, spec in compose["services"].items()
        if "celery -A pm worker" in " ".join(str(spec.get("command", "")).split())
    ]


def _worker_logs(stack) -> list[Path]:
    return [stack.logs / f"{name}.log" for name in _compose_worker_services()]


def _wait(predicate, what: str, timeout: float, logs=()) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p}\n{Path(p).read_text()[-4000:]}" for p in logs)
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.3)


@dataclass
class Stack:
    base: str
    port: int
    env: dict[str, str]
    app: Path
    logs: Path
    database_url: str
    database: str
    mail_dir: Path
    processes: dict[str, subprocess.Popen]

    def manage(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["python", "manage.py", *args],
            cwd=self.app,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}\n{result.stdout}{result.stderr}"
        return result

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()


def _admin_url(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lodestar")
    assert base_url.startswith("postgres"), "the production smoke needs PostgreSQL"
    database = f"lodestar_smoke_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _admin_url(base_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    database_url = _admin_url(base_url, database)

    tmp = tmp_path_factory.mktemp("smoke")
    logs = tmp / "logs"
    logs.mkdir()
    mail_dir = tmp / "mail"
    port = _free_port()
    drop = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "EMAIL_HOST", "PYTHONPATH"}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("SECURE_", "SESSION_", "CSRF_", "PYTEST", "VIRTUAL"))
    }
    build = imagebuild.build(tmp, sys.executable, env, logs / "build.log")
    assert build.skipped == ["useradd --create-home --uid 1000 lodestar"], build.skipped
    # Production settings behind a TLS proxy, as docker-compose.yml runs them.
    env = {
        **build.env,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"https://127.0.0.1:{port}",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "BEHIND_TLS_PROXY": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "CACHE_KEY_PREFIX": f"smoke-{database}",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PORT": str(port),
        "GUNICORN_BIND_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "BEAT_HEARTBEAT_FILE": str(tmp / "beat-heartbeat"),
        "BEAT_HEARTBEAT_SECONDS": "1",
        "BEAT_HEARTBEAT_MAX_AGE": "4",
    }
    stack = Stack(
        base=f"http://127.0.0.1:{port}",
        port=port,
        env=env,
        app=build.app,
        logs=logs,
        database_url=database_url,
        database=database,
        mail_dir=mail_dir,
        processes={},
    )
    stack.build = build
    try:
        stack.manage("migrate", "--noinput")
        first = stack.manage("load_demo")
        after_first = _counts(database_url)
        stack.manage("load_demo")
        stack.demo = (first.stdout, after_first, _counts(database_url))
        # Every worker service (one per group of queues), one process each on this small machine.
        workers = {
            name: _compose_command(name).replace("--concurrency=2", "--concurrency=1")
            for name in _compose_worker_services()
        }
        commands = {
            "web": _compose_command("web"),
            **workers,
            "beat": _compose_command("beat").replace(
                "/tmp/celerybeat-schedule", str(tmp / "celerybeat-schedule")
            ),
        }
        stack.commands = commands
        for name, command in commands.items():
            with (logs / f"{name}.log").open("w") as out:
                stack.processes[name] = subprocess.Popen(
                    ["sh", "-c", f"exec {command}" if name != "web" else command],
                    cwd=build.app,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        all_logs = [logs / f"{n}.log" for n in commands]

        def web_up() -> bool:
            assert stack.processes["web"].poll() is None, stack.log("web")
            try:
                return Client(stack).get("/healthz").status == 200
            except OSError:
                return False

        _wait(web_up, "gunicorn to answer /healthz", 120, all_logs)
        for name in workers:
            _wait(lambda name=name: "ready." in stack.log(name), f"the {name} worker", 90, all_logs)
        _wait(lambda: Path(env["BEAT_HEARTBEAT_FILE"]).exists(), "beat's heartbeat", 60, all_logs)
        yield stack
    finally:
        for process in stack.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGCONT)
                os.killpg(process.pid, signal.SIGTERM)
        for process in stack.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- a small HTTP client: cookies (Secure ones too: TLS ends at the proxy), CSRF, forms -------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    path: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _mail_text(stack: Stack, to: str) -> str:
    """The plain-text body of the first e-mail the worker wrote to `to`, or "" (none yet)."""
    messages = mailed(stack.mail_dir, timeout=0) if stack.mail_dir.exists() else []
    found = [m for m in messages if to in str(m["To"])]
    body = found[0].get_body(preferencelist=("plain",)) if found else None
    return body.get_content() if body is not None else ""


class Client:
    def __init__(self, stack: Stack):
        self.stack = stack
        self.cookies: dict[str, str] = {}
        # Set by the crawl: who is signed in, and the links pages fetch with htmx.
        self.who = ""
        self.htmx_urls: set[str] = set()

    def request(self, method, path, fields=None, files=None, headers=None, raw=None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=60)
        origin = f"https://127.0.0.1:{self.stack.port}"
        sent = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{self.stack.port}"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method != "GET":
            sent.update(Origin=origin, Referer=origin + path)
            if "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
            if raw is not None:
                body = raw
            elif files:
                boundary = uuid.uuid4().hex
                body = _multipart(fields or [], files, boundary)
                sent["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            else:
                body = urllib.parse.urlencode(fields or []).encode()
                sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        conn.request(method, path, body=body, headers=sent)
        raw = conn.getresponse()
        response = Response(raw.status, raw.msg, raw.read(), path)
        conn.close()
        for header in raw.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path, headers=None) -> Response:
        return self.request("GET", path, headers=headers)

    def follow(self, response: Response, limit: int = 5) -> Response:
        while response.status in (301, 302, 303) and limit:
            location = urllib.parse.urlsplit(response.headers["Location"])
            response = self.get(location.path + (f"?{location.query}" if location.query else ""))
            limit -= 1
        return response

    def sign_in(self, username: str) -> Client:
        assert self.get("/accounts/login/").status == 200
        response = self.submit("/accounts/login/", {"username": username, "password": PASSWORD})
        assert response.status == 302, response.text[:2000]
        return self

    def form(self, path: str, match=None) -> tuple[str, str, list[tuple[str, str]]]:
        """(method, action, fields) of the first form on the page whose action contains
        `match` (or the first form with fields when `match` is None)."""
        page = self.get(path)
        assert page.status == 200, (path, page.status)
        for form in _forms(page.text):
            action = form["action"] or path
            if match is None and not form["fields"]:
                continue
            if match is None or match in action:
                return form["method"], action, form["fields"]
        raise AssertionError(f"no form matching {match!r} on {path}")

    def submit(self, path: str, values: dict, match=None, files=None) -> Response:
        method, action, fields = self.form(path, match)
        merged = [(k, v) for k, v in fields if k not in values]
        merged += [(k, v) for k, v in values.items() if v is not None]
        return self.request(method, action, merged, files=files)


def _multipart(fields, files, boundary: str) -> bytes:
    out = b""
    for name, value in fields:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    for name, (filename, content, content_type) in files.items():
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._selected = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": html.unescape(a.get("action") or a.get("hx-post") or ""),
                    "method": (a.get("method") or ("post" if a.get("hx-post") else "get")).upper(),
                    "fields": [],
                }
            )
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and a.get("name") and not a.get("disabled"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_first, self._selected = a["name"], None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                fields.append((self._select, value))
                self._selected = True
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._selected and self._select_first is not None:
                self.forms[-1]["fields"].append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.forms[-1]["fields"].append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None


def _forms(page: str) -> list[dict]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


_URL_ATTR = re.compile(r'\b(href|hx-get|hx-post|hx-delete|hx-patch|action)="(/[^"#]*)"')


def _urls(page: str) -> list[tuple[str, str]]:
    return [(attr, html.unescape(url)) for attr, url in _URL_ATTR.findall(page)]


def _options(page: str, name: str) -> list[str]:
    """The non-empty option values of the select called `name`."""
    select = _first(rf'(<select[^>]*name="{name}".*?</select>)', page.replace("\n", " "))
    return [v for v in re.findall(r'<option[^>]*value="([^"]*)"', select) if v]


def _first(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found"
    return match.group(1)


# --- the image's own checks ---------------------------------------------------------------------


def test_the_dockerfile_steps_ran_as_written_and_match_compose(stack):
    build = stack.build
    assert build.cmd == ["gunicorn", "pm.wsgi:application"]
    assert any(step.startswith("pip install --require-hashes") for step in build.steps)
    assert any("collectstatic" in step for step in build.steps)
    # Compose starts the same program the image's CMD names, with the same settings file.
    assert " ".join(build.cmd) in stack.commands["web"]
    assert (stack.app / "gunicorn.conf.py").exists()
    # Lodestar was installed, not linked to the working tree.
    result = subprocess.run(
        ["python", "-m", "pip", "show", "-f", "lodestar"],
        cwd="/",
        env=stack.env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Editable project location" not in result.stdout
    assert "pm/settings.py" in result.stdout
    # The context left out what the image must not carry.
    for absent in ("tests", "bench", ".ci", ".git", "Makefile", "bin"):
        assert not (stack.app / absent).exists(), absent


def test_load_demo_twice_changes_nothing_the_second_time(stack):
    output, after_first, after_second = stack.demo
    for username in ROLES:
        assert username in output
    assert after_first["backlog_feature"] > 0
    assert after_second == after_first


def test_static_files_are_served_hashed_and_cacheable(stack):
    client = Client(stack).sign_in("pm")
    page = client.get(f"/p/{KEY}/sprints/")  # the velocity chart: Chart.js
    assert page.status == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for asset in assets:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", asset), f"not hashed: {asset}"
        response = client.get(asset)
        assert response.status == 200, asset
        assert "immutable" in response.headers.get("Cache-Control", ""), asset
    # The vendored Chart.js source map made it through the manifest storage.
    chart = next(a for a in assets if "chart.umd" in a)
    source_map = _first(r"sourceMappingURL=(\S+)", client.get(chart).text)
    assert re.search(r"\.[0-9a-f]{12}\.map$", source_map)
    assert client.get(chart.rsplit("/", 1)[0] + "/" + source_map).status == 200


# --- write flows ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flows(stack):
    """Each write flow once, through the pages as a PM/admin submits them; returns what later
    checks need (a live share token, an invitation link)."""
    pm = Client(stack).sign_in("pm")
    admin = Client(stack).sign_in("admin")
    done = {}

    # Create a feature, then edit it (the form carries its version).
    title = f"Smoke feature {secrets.token_hex(3)}"
    created = pm.submit(f"/p/{KEY}/backlog/new/", {"title": title}, match="/backlog/new/")
    assert created.status == 302, created.text[:3000]
    feature_path = urllib.parse.urlsplit(created.headers["Location"]).path
    edited = pm.submit(feature_path + "edit/", {"title": title + " (edited)"}, match="/edit/")
    assert edited.status in (200, 302), edited.text[:3000]
    assert title + " (edited)" in pm.follow(edited).text or title + " (edited)" in html.unescape(
        pm.get(feature_path).text
    )
    done["feature"] = feature_path

    # Triage a feedback item from the inbox.
    inbox = pm.get(f"/p/{KEY}/feedback/")
    assert inbox.status == 200
    detail = _first(rf'href="(/p/{KEY}/feedback/\d+/)"', inbox.text)
    triaged = pm.request(
        "POST", detail + "status/", [("status", "triaged")], headers={"Referer": detail}
    )
    assert triaged.status in (200, 302), triaged.text[:3000]
    assert "Triaged" in pm.get(detail).text

    # Link that feedback to the new feature (an insight), and a KPI to a key result.
    feature_pk = _first(r"/features/(\d+)/", feature_path)
    linked = pm.submit(
        detail, {"target": "other", "other": f"feature:{feature_pk}"}, match="/link/"
    )
    assert linked.status == 302, linked.text[:3000]
    assert "/insights/" in pm.get(detail).text  # its unlink form
    done["feedback"] = detail
    kpi_path = _first(rf'href="(/p/{KEY}/kpis/\d+/)"', pm.get(f"/p/{KEY}/kpis/").text)
    kpi_page = pm.get(kpi_path).text
    key_result = _options(kpi_page, "key_result")[0]
    linked = pm.submit(kpi_path, {"key_result": key_result}, match="/key-results/")
    assert linked.status == 302, linked.text[:3000]
    assert "/unlink/" in pm.get(kpi_path).text
    done["kpi"] = kpi_path

    # Import feedback from a CSV: upload, preview, run; the rows reach the inbox.
    marker = f"Smoke import {secrets.token_hex(4)}"
    csv = (
        "content,source,received_at,customer\n"
        f"{marker} one,interview,2026-11-02,Initech\n"
        f"{marker} two,survey,2026-11-03,Hooli\n"
    ).encode()
    uploaded = pm.submit(
        f"/p/{KEY}/feedback/import/",
        {"encoding": "utf-8"},
        match="/import/",
        files={"file": ("smoke.csv", csv, "text/csv")},
    )
    assert uploaded.status == 302, uploaded.text[:3000]
    preview_path = urllib.parse.urlsplit(uploaded.headers["Location"]).path
    ran = pm.submit(preview_path, {}, match="/run/")
    assert ran.status in (200, 302), ran.text[:3000]
    _wait(
        lambda: (
            marker in pm.get(f"/p/{KEY}/feedback/?q={urllib.parse.quote(marker)}").text
            or marker in pm.get(f"/p/{KEY}/feedback/").text
        ),
        "imported feedback in the inbox",
        60,
        _worker_logs(stack),
    )
    done["import_progress"] = preview_path + "progress/"  # what the preview polls meanwhile

    # Import a Linear export from the backlog's Import page: upload, map, run; a worker adds
    # its stories (the import page then lists it, which is how the crawl finds the preview).
    marker = f"Smoke Linear {secrets.token_hex(4)}"
    linear = f'ID,Title,Status,Project\nSMK-1,"{marker}",In Progress,Smoke project\n'.encode()
    import_page = _first(rf'href="(/p/{KEY}/import/)"', pm.get(f"/p/{KEY}/backlog/").text)
    uploaded = pm.submit(
        import_page,
        {"tool": "linear", "encoding": "utf-8"},
        match="/import/",
        files={"file": ("linear.csv", linear, "text/csv")},
    )
    assert uploaded.status == 302, uploaded.text[:3000]
    tool_preview = urllib.parse.urlsplit(uploaded.headers["Location"]).path
    ran = pm.submit(tool_preview, {}, match="/run/")
    assert ran.status in (200, 302), ran.text[:3000]
    _wait(
        lambda: "import-done" in pm.get(tool_preview).text,
        "the Linear export imported",
        60,
        _worker_logs(stack),
    )

    # Upload a KPI CSV; a worker stores it while the page polls the upload's progress.
    uploaded = pm.submit(
        kpi_path,
        {},
        match="/upload/",
        files={"file": ("smoke.csv", b"date,value\n2026-11-01,5\n", "text/csv")},
    )
    assert uploaded.status == 302, uploaded.text[:3000]
    with psycopg.connect(stack.database_url) as conn:
        (upload_id,) = conn.execute("SELECT max(id) FROM metrics_pointsupload").fetchone()
    done["upload_progress"] = f"{kpi_path}upload/{upload_id}/"
    _wait(
        lambda: "point stored" in pm.get(done["upload_progress"]).text,
        "the KPI upload stored",
        60,
        _worker_logs(stack),
    )

    # Themes: two items saying the same thing; once the embeddings worker has embedded them they
    # share a theme, and the themes page offers to link it to a feature (the PM asks for the
    # themes to be worked out again meanwhile, as one would on an empty page).
    for _ in range(2):
        said = pm.submit(
            f"/p/{KEY}/feedback/new/",
            {"content": "Exports to spreadsheets keep timing out on our biggest board"},
            match="/feedback/new/",
        )
        assert said.status == 302, said.text[:3000]
    themes = f"/p/{KEY}/feedback/themes/"

    asked = [0.0]

    def theme_linkable() -> bool:
        if re.search(rf"/p/{KEY}/feedback/themes/\d+/link/", pm.get(themes).text):
            return True
        if time.monotonic() - asked[0] > 10:
            asked[0] = time.monotonic()
            assert pm.submit(themes, {}, match="/recluster/").status == 302
        return False

    _wait(theme_linkable, "feedback themes with a link form", 180, _worker_logs(stack))

    # Ship a release that is not shipped yet.
    releases = pm.get(f"/p/{KEY}/roadmap/releases/")
    ship_actions = [f["action"] for f in _forms(releases.text) if "/ship/" in f["action"]]
    assert ship_actions, "no release left to ship in the demo"
    shipped = pm.submit(f"/p/{KEY}/roadmap/releases/", {}, match=ship_actions[0])
    assert shipped.status in (200, 302), shipped.text[:3000]
    if shipped.status == 200:
        # Features with open stories: the page asks first, and "Ship anyway" confirms.
        confirm = [
            f
            for f in _forms(shipped.text)
            if f["action"] == ship_actions[0] and any(k == "with_open_work" for k, _ in f["fields"])
        ]
        assert confirm, shipped.text[:3000]
        shipped = pm.request("POST", confirm[0]["action"], confirm[0]["fields"])
        assert shipped.status == 302, shipped.text[:3000]
    assert ship_actions[0] not in pm.get(f"/p/{KEY}/roadmap/releases/").text

    # Share links: create two, revoke one; the revoked one answers 404, the other the roadmap.
    tokens = []
    for label in ("Smoke board", "Smoke revoked"):
        response = pm.submit(f"/p/{KEY}/roadmap/share-links/", {"label": label}, match="share")
        response = pm.follow(response)
        assert response.status == 200, response.text[:3000]
        tokens.append(_first(r"/share/([A-Za-z0-9_\-]{16,})/", response.text))
    keep, revoke = tokens
    anonymous = Client(stack)
    assert anonymous.get(f"/share/{revoke}/").status == 200
    links_page = pm.get(f"/p/{KEY}/roadmap/share-links/")
    revoke_actions = [f["action"] for f in _forms(links_page.text) if "/revoke/" in f["action"]]
    # The newest link is listed first; revoke the one labelled "Smoke revoked".
    row = links_page.text[links_page.text.index("Smoke revoked") :]
    action = next(a for a in revoke_actions if a in row)
    revoked = pm.submit(f"/p/{KEY}/roadmap/share-links/", {}, match=action)
    assert revoked.status in (200, 302), revoked.text[:3000]
    assert anonymous.get(f"/share/{revoke}/").status == 404
    assert anonymous.get(f"/share/{keep}/").status == 200
    done["share_token"] = keep

    # Invite a member: the worker sends the e-mail, with a link on SITE_URL.
    invitee = f"smoke-{secrets.token_hex(3)}@example.org"
    invited = admin.submit(
        "/w/acme/members/", {"email": invitee, "role": "engineer"}, match="/invitations/"
    )
    assert invited.status in (200, 302), invited.text[:3000]

    def invitation() -> str:
        return _mail_text(stack, invitee)

    _wait(invitation, "the invitation e-mail", 60, _worker_logs(stack))
    link = _first(rf"({re.escape(stack.env['SITE_URL'])}/invite/[^\s\"<]+/)", invitation())
    done["invitation"] = urllib.parse.urlsplit(link).path

    # Forgotten password: the reset e-mail carries a link that opens the set-password form.
    requested = Client(stack).submit(
        "/accounts/password_reset/", {"email": "engineer@acme.example"}, match="password_reset"
    )
    assert requested.status == 302, requested.text[:3000]

    def reset_mail() -> str:
        return _mail_text(stack, "engineer@acme.example")

    _wait(reset_mail, "the password-reset e-mail", 60, _worker_logs(stack))
    done["password_reset"] = urllib.parse.urlsplit(
        _first(r"(https?://[^\s\"<]+/accounts/reset/[^\s\"<]+/)", reset_mail())
    ).path

    # A KPI data point through the API with a token from the command line.
    token = stack.manage("create_token", "pm", "--scope", "read-write", "--name", "smoke")
    token = token.stdout.strip().splitlines()[-1]
    api = Client(stack)
    kpis = json.loads(api.get("/api/v1/kpis/", {"Authorization": f"Token {token}"}).body)
    results = kpis["results"] if isinstance(kpis, dict) else kpis
    kpi = next(k for k in results if k.get("aggregation", "sum") != "ratio")
    when = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(time.time() - 3600))
    posted = api.request(
        "POST",
        f"/api/v1/kpis/{kpi['id']}/datapoints/",
        raw=json.dumps([{"timestamp": when, "value": 7}]).encode(),
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
    )
    assert posted.status in (200, 201, 202), posted.text[:2000]
    done["api_token"] = token
    return done


def test_every_write_flow_works_once(flows):
    assert flows["feature"].startswith(f"/p/{KEY}/features/")
    assert flows["share_token"]
    assert flows["invitation"].startswith("/invite/")


# --- every page as each role ------------------------------------------------------------------


def _named_patterns(resolver=None, prefix="", namespace="") -> dict[str, str]:
    resolver = resolver or get_resolver()
    found = {}
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.update(_named_patterns(entry, prefix + str(entry.pattern), ns))
        elif isinstance(entry, URLPattern) and entry.name:
            pattern = (prefix + str(entry.pattern)).replace("^", "").replace("$", "")
            found.setdefault(namespace + entry.name, pattern)
    return found


_SKIP = ("/static/", "/accounts/logout/", "/admin/")


def _crawl(client: Client, seeds: list[str], visited: dict, limit: int = 900) -> None:
    """Breadth-first over links, htmx URLs and form targets, one URL per route and query shape."""
    queue = list(seeds)
    seen_shapes: set = set()
    count = 0
    while queue and count < limit:
        url = queue.pop(0)
        parts = urllib.parse.urlsplit(url)
        if parts.path.startswith(_SKIP):
            continue
        try:
            match = resolve(parts.path)
        except Resolver404:
            continue
        name = match.view_name
        shape = (name, tuple(sorted(urllib.parse.parse_qs(parts.query))))
        if shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        count += 1
        htmx = {"HX-Request": "true"} if url in client.htmx_urls else {}
        response = client.get(url, headers=htmx)
        visited.setdefault(name, []).append((client.who, url, response.status, dict(match.kwargs)))
        assert response.status < 500, f"{client.who} GET {url}: {response.status}"
        if response.status == 200 and "html" in response.headers.get("Content-Type", ""):
            for attr, link in _urls(response.text):
                if attr == "hx-get":
                    client.htmx_urls.add(link)
                queue.append(link)
        elif response.status == 200 and "json" in response.headers.get("Content-Type", ""):
            # An API list: its first item's detail URL.
            data = json.loads(response.body)
            results = data.get("results") if isinstance(data, dict) else data
            if isinstance(results, list) and results and isinstance(results[0], dict):
                ident = results[0].get("key") or results[0].get("id")
                if ident is not None:
                    queue.append(f"{parts.path}{ident}/")


def test_every_page_answers_each_role_without_a_server_error(stack, flows):
    visited: dict[str, list] = {}
    seeds = [
        "/",
        f"/p/{KEY}/",
        "/w/acme/",
        "/w/acme/members/",
        "/notifications/",
        "/settings/tokens/",
        f"/p/{KEY}/digest/",
        f"/p/{KEY}/digest/email/",
        "/api/docs/",
        "/api/schema/",
        f"/share/{flows['share_token']}/",
        f"/api/v1/roadmap/{flows['share_token']}/",
        f"/portal/{KEY}/",
        flows["feedback"],
        flows["kpi"],
        flows["import_progress"],
        flows["upload_progress"],
    ]
    seeds += [f"/api/v1/{r}/" for r in ("products", "stories", "sprints", "features", "ideas")]
    seeds += [f"/api/v1/{r}/" for r in ("initiatives", "releases", "share-links", "feedback")]
    seeds += ["/api/v1/kpis/", "/api/v1/journeys/"]
    seeds += [f"/api/v1/{r}/" for r in ("initiative-updates", "sprint-reviews", "retro-items")]
    seeds += [f"/api/v1/{r}/" for r in ("action-items", "price-plans", "price-surveys")]
    seeds += [f"{seed}?product={KEY}" for seed in seeds if seed.startswith("/api/v1/")]
    seeds += ["/api/v1/me/", "/api/v1/members/", "/api/v1/members/?workspace=acme"]
    clients = {}
    for who in (*ROLES, "anonymous"):
        client = Client(stack) if who == "anonymous" else Client(stack).sign_in(who)
        client.who, client.htmx_urls = who, set()
        clients[who] = client
        extra = [flows["invitation"], flows["password_reset"]] if who == "anonymous" else []
        _crawl(client, seeds + extra, visited)

    # Routes no page linked to: their URL arguments come from a visited route whose pattern
    # shares the prefix up to that argument (a feature's pk from its detail page, and so on).
    patterns = _named_patterns()
    pending = [
        n for n in patterns if n not in visited and not n.startswith("admin:") and n != "logout"
    ]
    for name in pending:
        kwargs = {}
        for arg in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", patterns[name]):
            arg = arg[0] or arg[1]
            head = re.split(rf"<(?:\w+:)?{arg}>|\(\?P<{arg}>", patterns[name])[0]
            for other, hits in visited.items():
                if patterns.get(other, "").startswith(head) and arg in hits[0][3]:
                    kwargs[arg] = hits[0][3][arg]
                    break
        try:
            url = reverse(name, kwargs=kwargs)
        except Exception:  # noqa: S112 - arguments not found: reported below
            continue
        for who in ROLES:
            client = clients[who]
            response = client.get(url, headers={"HX-Request": "true"})
            assert response.status < 500, f"{who} GET {url}: {response.status}"
            visited.setdefault(name, []).append((who, url, response.status, kwargs))

    # Every route as every role (and anonymous): what one role reached through a link, the
    # others request by URL; a refusal (403/404/redirect to sign-in) is fine, a 5xx is not.
    for name, hits in list(visited.items()):
        asked = {h[0] for h in hits}
        url = hits[0][1]
        for who in (*ROLES, "anonymous"):
            if who in asked:
                continue
            response = clients[who].get(url, headers={"HX-Request": "true"})
            assert response.status < 500, f"{who} GET {url}: {response.status}"
            hits.append((who, url, response.status, hits[0][3]))

    missing = sorted(set(pending) - set(visited) - set(UNREACHABLE))
    assert not missing, f"routes never requested: {missing}"
    requests = sum(len(hits) for hits in visited.values())
    by_all = [n for n, hits in visited.items() if {*ROLES, "anonymous"} <= {h[0] for h in hits}]
    print(
        f"\nsmoke: {len(visited)} routes requested ({requests} requests), {len(by_all)} of them "
        f"by all {len(ROLES)} roles and anonymous; not reachable: {sorted(UNREACHABLE)}"
    )
    log = stack.log("web")
    assert "Traceback" not in log, log[-6000:]


# --- Chromium on the main pages ---------------------------------------------------------------

MAIN_PAGES = [
    "/",
    f"/p/{KEY}/",
    f"/p/{KEY}/strategy/",
    f"/p/{KEY}/ideas/",
    f"/p/{KEY}/backlog/",
    f"/p/{KEY}/sprints/",
    f"/p/{KEY}/roadmap/",
    f"/p/{KEY}/roadmap/board/",
    f"/p/{KEY}/roadmap/releases/",
    f"/p/{KEY}/feedback/",
    f"/p/{KEY}/kpis/",
    f"/p/{KEY}/history/",
    "/api/docs/",
]


def test_main_pages_have_no_console_errors_in_chromium(stack, flows, browser):
    # `browser` is the run's one Playwright session (tests/conftest.py): a second sync session
    # cannot start while the browser tests' one is alive.
    session = Client(stack).sign_in("pm").cookies
    context = browser.new_context(
        base_url=stack.base, extra_http_headers={"X-Forwarded-Proto": "https"}
    )
    try:
        context.add_cookies(
            [{"name": k, "value": v, "url": stack.base} for k, v in session.items()]
        )
        page = context.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        pages = [*MAIN_PAGES, f"/share/{flows['share_token']}/", flows["feature"]]
        for path in pages:
            response = page.goto(path)
            assert response.status == 200, (path, response.status)
            page.wait_for_load_state("networkidle")
        assert not problems, problems
    finally:
        context.close()


# --- beat's health check ----------------------------------------------------------------------


def test_beat_health_check_goes_red_when_beat_hangs_and_green_again(stack):
    def check() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["python", "-m", "pm.beat", "check"],
            cwd=stack.app,
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert check().returncode == 0, check().stderr
    beat = stack.processes["beat"]
    os.killpg(beat.pid, signal.SIGSTOP)  # a hung beat: alive, but its loop does not turn
    try:
        _wait(lambda: check().returncode == 1, "the check to fail on a hung beat", 20)
        assert "beat unhealthy" in check().stderr
    finally:
        os.killpg(beat.pid, signal.SIGCONT)
    _wait(lambda: check().returncode == 0, "the check to recover", 20)


# --- backup and restore, as the README says -----------------------------------------------------


def _readme_commands(start: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Backups") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    return [
        line.strip()
        for block in re.findall(r"```sh\n(.*?)```", section, re.S)
        for line in block.splitlines()
        if line.strip().startswith(start)
    ]


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            t: (conn.execute(f'SELECT count(*) FROM "{t}"').fetchone() or (0,))[0] for t in tables
        }


def test_backup_and_restore_as_the_readme_says(stack, flows, tmp_path):
    """The README's commands, with `docker compose exec -T postgres` taken off and this
    machine's server and user put in: the restored database has every row."""
    parts = urllib.parse.urlsplit(stack.database_url)
    local = {"-U lodestar": f"-U {parts.username or 'postgres'}"}
    env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432)}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    prefix = "docker compose exec -T postgres "
    # The whole-database backup (the README also shows dumping one detached KPI partition, `-t`).
    dumps = [c for c in _readme_commands(prefix) if "pg_dump" in c and " -t " not in c]
    restores = [c for c in _readme_commands(prefix) if "pg_restore" in c]
    assert len(dumps) == 1 and len(restores) == 1, (dumps, restores)
    before = _counts(stack.database_url)
    assert before["backlog_feature"] > 0
    restored = f"{stack.database}_restored"
    with psycopg.connect(_admin_url(stack.database_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{restored}"')
    try:

        def run(command: str, database: str, stdin=None, stdout=None) -> None:
            command = command.removeprefix(prefix)
            for old, new in local.items():
                command = command.replace(old, new)
            command = re.sub(r"-d lodestar\b", f"-d {database}", command)
            command = command.split(">")[0].split("<")[0].strip()
            result = subprocess.run(
                command, shell=True, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE
            )
            assert result.returncode == 0, (command, result.stderr.decode())

        dump = tmp_path / "lodestar.dump"
        with dump.open("wb") as out:
            run(dumps[0], stack.database, stdout=out)
        assert dump.stat().st_size > 10_000
        with dump.open("rb") as source:
            run(restores[0], restored, stdin=source)
        assert _counts(_admin_url(stack.database_url, restored)) == before
    finally:
        with psycopg.connect(_admin_url(stack.database_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
