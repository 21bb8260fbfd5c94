"""Load test: many signed-in users at once against gunicorn, per gunicorn worker class.

Builds a throwaway database with bench/scale.py's big workspace (`--size small`: 1,000 features,
5,000 stories, 10,000 feedback items; `full`: ten times that), adds an engineer and a stakeholder
and an API token, then for each gunicorn configuration starts gunicorn on a free loopback port
and runs locust headless (bench/_locustfile.py): `--users` people (PMs, engineers, stakeholders
2:2:1) who sign in through the form (real password hashing), click about once a second through
pages and the API, and now and then sign out and in again. Prints req/s and p50/p95/p99 per
endpoint, the /healthz ceiling (the same gunicorn, every user requesting /healthz only), and the
cost of one password hash. Configurations run in interleaved rounds (A, B, A, B…) so a noisy
neighbour weighs on all of them alike.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/load.py \\
        --users 50 --duration 60 --configs sync:2 gthread:2x4

Loopback only, bounded (users × duration × configurations × rounds). Locust runs on the same
machine and takes CPU from gunicorn: on 2 cores the figures are a floor, not a ceiling. Goal
(issue 15): p99 ≤ 1 s at 50 users on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import _common
import scale

ROOT = _common.ROOT
PASSWORD = "load-test-password-1"  # noqa: S105 - a throwaway database's users

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--users", type=int, default=50)
parser.add_argument("--duration", type=int, default=60, help="seconds per configuration run")
parser.add_argument("--spawn-rate", type=float, default=5, help="users started per second")
parser.add_argument("--size", choices=sorted(scale.SIZES), default="small")
parser.add_argument(
    "--configs",
    nargs="+",
    default=["sync:2", "gthread:2x4"],
    help="gunicorn configurations: sync:WORKERS or gthread:WORKERSxTHREADS",
)
parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of all configs")
parser.add_argument("--healthz-seconds", type=int, default=15)
parser.add_argument(
    "--sign-in-storm",
    action="store_true",
    help="every user signs in when it starts (otherwise users start with a session)",
)
args = parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(db: dict) -> str:
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}{port}/{db['NAME']}"


SETTINGS = '''"""pm.settings, except: static URLs resolve without a collectstatic manifest (locust
fetches no static files), and no API throttling (all engineers share one token here)."""
from pm.settings import *  # noqa: F403

STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
'''


def seed() -> dict:
    """The big workspace plus the three roles; returns locust's plan."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.urls import reverse

    from backlog.models import Feature
    from pm.api.tokens import api_token_create
    from pm.models import ApiToken, Membership

    product, pm = scale.fill(scale.SIZES[args.size])
    pm.password = make_password(PASSWORD)
    pm.save(update_fields=["password"])
    people = {"pm": pm}
    for role in ("engineer", "stakeholder"):
        people[role] = User.objects.create_user(role, password=PASSWORD)
        Membership.objects.create(workspace=product.workspace, user=people[role], role=role)
    _token, token = api_token_create(
        user=people["engineer"], name="load", scope=ApiToken.Scope.READ, actor=people["engineer"]
    )
    key = product.key
    features = list(Feature.objects.filter(product=product).values_list("pk", flat=True)[:200])

    def page(name: str, path: str, weight: float, api: bool = False) -> list:
        return [name, path, api, weight]

    details = [page("feature page", reverse("feature_detail", args=[key, f]), 3 / 50) for f in
               features[:50]]  # fmt: skip
    overview, roadmap = reverse("product_overview", args=[key]), reverse("roadmap", args=[key])
    sessions: dict[str, list[str]] = {}
    if not args.sign_in_storm:
        from django.test import Client

        for role, user in people.items():
            for _ in range(args.users):
                client = Client()
                client.force_login(user)
                sessions.setdefault(role, []).append(client.cookies["sessionid"].value)
    return {
        "sessions": sessions,
        "password": PASSWORD,
        "token": token,
        "pages": {
            "pm": [
                page("overview", overview, 2),
                page("backlog", reverse("backlog", args=[key]), 3),
                page("feedback inbox", reverse("feedback_inbox", args=[key]), 2),
                page("roadmap", roadmap, 1),
                *details,
            ],
            "engineer": [
                page("sprints", reverse("sprints", args=[key]), 2),
                page("API stories", f"/api/v1/stories/?product={key}&page_size=50", 3, True),
                page("API features", f"/api/v1/features/?product={key}", 2, True),
                *details,
            ],
            "stakeholder": [page("overview", overview, 2), page("roadmap", roadmap, 2)],
        },
    }


def hash_cost_ms() -> tuple[float, float]:
    """One sign-in's password check: median CPU milliseconds (what it costs the machine) and
    wall milliseconds (what it took here, with the neighbours' load)."""
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(PASSWORD)
    cpu, wall = [], []
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        check_password(PASSWORD, encoded)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(cpu) * 1000, statistics.median(wall) * 1000


def start_gunicorn(config: str, env: dict) -> tuple[subprocess.Popen, int]:
    kind, shape = config.split(":")
    workers, _, threads = shape.partition("x")
    port = free_port()
    command = [
        shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn",
        "pm.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        workers,
        "--worker-class",
        kind,
        "--access-logfile",
        "/dev/null",
    ]
    if threads:
        command += ["--threads", threads]
    log = open(env["LOAD_LOG_DIR"] + f"/gunicorn-{kind}-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_locust(port: int, env: dict, users: int, seconds: int, healthz: bool) -> list:
    """Runs locust; returns every request as (seconds since start, name, ms, failed)."""
    times = tempfile.mktemp(prefix="locust-times-", suffix=".json", dir=env["LOAD_LOG_DIR"])
    command = [
        shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust",
        "-f",
        str(ROOT / "bench" / "_locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users if healthz else args.spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "5",
    ]
    locust_env = {**env, "LOAD_HEALTHZ": "1" if healthz else "0", "LOAD_TIMES": times}
    subprocess.run(command, env=locust_env, cwd=ROOT, check=False, capture_output=True)
    with open(times) as f:
        return [tuple(row) for row in json.load(f)]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _line(name: str, rows: list, seconds: float) -> str:
    ms = [r[2] for r in rows]
    fails = sum(1 for r in rows if r[3])
    return (
        f"  {name[:34]:<34} {len(rows):>7} {fails:>5} {len(rows) / seconds:>7.1f} "
        f"{_pct(ms, 0.5):>7.0f} {_pct(ms, 0.95):>7.0f} {_pct(ms, 0.99):>7.0f}"
    )


def report(title: str, times: list, seconds: float) -> dict:
    """Per endpoint, then pages and API without sign-in (whole run, and after the ramp), and
    all requests. Returns the figures of the summary."""
    ramp = args.users / args.spawn_rate
    print(f"\n{title}")
    print(f"  {'endpoint':<34} {'count':>7} {'fails':>5} {'req/s':>7} {'p50':>7} {'p95':>7} "
          f"{'p99':>7}  (ms)")  # fmt: skip
    for name in sorted({r[1] for r in times}):
        print(_line(name, [r for r in times if r[1] == name], seconds))
    pages = [r for r in times if not r[1].startswith("sign-")]
    steady = [r for r in pages if r[0] > ramp]
    signin = [r for r in times if r[1].startswith("sign-in (POST")]
    print("  " + "-" * 86)
    print(_line("pages and API (no sign-in)", pages, seconds))
    print(_line(f"  … after the {ramp:.0f} s ramp", steady, max(seconds - ramp, 1)))
    print(_line("all requests", times, seconds))
    return {
        "rps": len(times) / seconds,
        "p50": _pct([r[2] for r in pages], 0.5),
        "p99": _pct([r[2] for r in pages], 0.99),
        "steady_p99": _pct([r[2] for r in steady], 0.99),
        "signin_p50": _pct([r[2] for r in signin], 0.5),
        "fails": sum(1 for r in times if r[3]),
    }


def main() -> None:
    from django.db import connection, connections

    with _common.throwaway_database() as name:
        started = time.perf_counter()
        plan = seed()
        _common.analyze()
        seeded_in = time.perf_counter() - started
        hash_ms = hash_cost_ms()
        db = {**connection.settings_dict, "NAME": name}
        connections.close_all()
        workdir = tempfile.mkdtemp(prefix="lodestar-load-")
        Path(workdir, "load_settings.py").write_text(SETTINGS)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([workdir, str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "load_settings",
            "DATABASE_URL": database_url(db),
            "SECRET_KEY": "load-test-only-secret-key",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CACHE_KEY_PREFIX": f"load-{os.getpid()}",
            "LOG_LEVEL": "WARNING",
            "LOAD_PLAN": json.dumps(plan),
            "LOAD_LOG_DIR": workdir,
        }
        print(
            f"seeded {args.size} workspace in {seeded_in:.0f} s ({scale.SIZES[args.size]}); "
            f"{os.cpu_count()} CPUs, shared with whatever else runs; locust on the same machine"
        )
        from django.contrib.auth.hashers import get_hasher

        hasher = get_hasher()
        iterations = getattr(hasher, "iterations", 0)
        print(
            f"password hashing ({hasher.algorithm}, {iterations:,} iterations): one "
            f"sign-in check costs {hash_ms[0]:.0f} ms of CPU ({hash_ms[1]:.0f} ms wall here); "
            f"{args.users} users signing in at once need {args.users * hash_ms[0] / 1000:.1f} "
            f"CPU-seconds; load average now {os.getloadavg()[0]:.1f}"
        )
        summary: dict[str, list[dict]] = {}
        ceilings: dict[str, list[float]] = {}
        try:
            for round_ in range(args.rounds):
                for config in args.configs:
                    proc, port = start_gunicorn(config, env)
                    try:
                        # The ceiling first, on the fresh gunicorn: after the mixed run its
                        # backlog of queued requests would still be draining.
                        times = run_locust(
                            port, env, args.users, args.healthz_seconds, healthz=True
                        )
                        ceiling = len(times) / args.healthz_seconds
                        ceilings.setdefault(config, []).append(ceiling)
                        healthz_p99 = _pct([r[2] for r in times], 0.99)
                        times = run_locust(port, env, args.users, args.duration, healthz=False)
                        figures = report(
                            f"== {config}, round {round_ + 1}: {args.users} users, "
                            f"{args.duration} s, mixed pages and API (load average "
                            f"{os.getloadavg()[0]:.1f})",
                            times,
                            args.duration,
                        )
                        summary.setdefault(config, []).append(figures)
                        print(f"  /healthz ceiling: {ceiling:.0f} req/s (p99 {healthz_p99:.0f} ms)")
                    finally:
                        stop(proc)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print("\n== summary (median over rounds; pages and API exclude sign-in)")
        for config, runs in summary.items():

            def med(key: str, runs: list = runs) -> float:
                return statistics.median(r[key] for r in runs)

            verdict = "meets" if med("steady_p99") <= 1000 else "misses"
            print(
                f"  {config:<12} {med('rps'):6.1f} req/s  pages p50 {med('p50'):5.0f} ms "
                f"p99 {med('p99'):6.0f} ms, after the ramp p99 {med('steady_p99'):6.0f} ms "
                f"({verdict} p99 <= 1 s)  sign-in p50 {med('signin_p50'):6.0f} ms  "
                f"fails {med('fails'):.0f}  /healthz {statistics.median(ceilings[config]):5.0f} "
                "req/s"
            )


if __name__ == "__main__":
    main()
