"""Public roadmap benchmark: the share-link page after an edit, and served by gunicorn.

Sets up a throwaway PostgreSQL database (bench/_common.py) with a product of 200 initiatives
(150 public), 12 releases and their change history. In-process, it edits an initiative and times
the share page's first request after each edit (the edit's commit drops the cached data, so the
request reads and renders it afresh) against the next request, in turns. Then it starts gunicorn
(2 sync workers) on 127.0.0.1, and prints requests per second for the public page
`/share/<token>/` (cached; revalidated with If-None-Match, i.e. 304; and, with Redis, uncached:
the product's cached data dropped before each request), its JSON, and `/healthz` (one `SELECT
1`), from the same client at the same concurrency, with their ratios. Cleans up: stops gunicorn,
drops the database and deletes its cache keys.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything [REDIS_URL=redis://…/N]
       python bench/public_roadmap.py [--seconds 5] [--concurrency 4] [--keep]
The database is bench_<name>_<pid> on DATABASE_URL's server. Without REDIS_URL each worker caches
in memory (and the in-process edits cannot reach the workers' copies).
"""

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

CACHE_PREFIX = f"lodestar-bench-roadmap-{os.getpid()}"
# This process and the gunicorn workers share the cache keys (the edits here invalidate what
# the workers cached).
os.environ["CACHE_KEY_PREFIX"] = CACHE_PREFIX

import _common  # noqa: E402

ROOT = _common.ROOT

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--initiatives", type=int, default=200)
parser.add_argument("--seconds", type=float, default=6.0, help="measuring time per URL")
parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (load drifts)")
parser.add_argument("--concurrency", type=int, default=4, help="client threads")
parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
parser.add_argument("--edits", type=int, default=30, help="in-process: edit + first render runs")
parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
args = parser.parse_args()

url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
parts = urlsplit(url)


def bench_env(settings_dir: str, database: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(parts._replace(path=f"/{database}")),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([settings_dir, str(ROOT)]),
        "SECRET_KEY": "bench-only-secret-key",
        "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1"),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CACHE_KEY_PREFIX": CACHE_PREFIX,
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


SETTINGS = '''"""pm.settings, except: static URLs resolve without a collectstatic manifest
(the bench serves no static files, and the page's HTML is cached either way); and no API
throttling: the JSON shares the API's anonymous limit (60/min per address), and the bench
measures serving."""
from pm.settings import *  # noqa: F403

STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
'''


def populate(n: int) -> tuple[str, int]:
    """The product, its roadmap and a share link; returns the link's token and the product's
    id."""
    from datetime import date, timedelta

    from django.contrib.auth.models import User

    from pm.choices import Role
    from pm.models import Membership, Objective, Product, StrategicTheme, Workspace
    from roadmap import services
    from roadmap.choices import Horizon, InitiativeStatus, Visibility

    pm = User.objects.create_user("bench-pm")
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    Membership.objects.create(workspace=workspace, user=pm, role=Role.PM)
    product = Product.objects.create(workspace=workspace, name="Bench product", key="BEN")
    themes = [
        StrategicTheme.objects.create(product=product, name=f"Theme {i}", colour="#4f46e5")
        for i in range(6)
    ]
    objectives = [
        Objective.objects.create(product=product, title=f"Objective {i}", period="2027")
        for i in range(6)
    ]
    horizons, statuses = list(Horizon), list(InitiativeStatus)
    today = date.today().replace(day=1)
    for i in range(n):
        start = (today + timedelta(days=31 * (i % 18) - 90)).replace(day=1)
        initiative = services.initiative_create(
            product=product,
            data={
                "title": f"Initiative {i}: a plan with a reasonably long title",
                # Each its own text (a cache of rendered markdown gets no free hits).
                "description": f"Why {i} matters, in **markdown**, with a [link](https://x.test/{i}).",
                "theme": themes[i % 6],
                "horizon": horizons[i % 3],
                "status": statuses[i % 4],
                "visibility": Visibility.INTERNAL if i % 4 == 0 else Visibility.PUBLIC,
                "start": start,
                "end": start + timedelta(days=80 + 30 * (i % 5)),
                "internal_notes": "Internal notes",
            },
            objectives=[objectives[i % 6]],
            actor=pm,
        )
        if i % 5 == 0:
            services.initiative_move(
                initiative=initiative,
                horizon=horizons[(i + 1) % 3],
                above=None,
                below=None,
                expected_version=initiative.version,
                actor=pm,
            )
    for j in range(12):
        services.release_create(
            product=product,
            data={
                "name": f"Release {j}",
                "target_date": today + timedelta(days=30 * j - 60),
                "notes": f"What ships in release {j}, for customers.",
                "visibility": Visibility.PUBLIC,
            },
            actor=pm,
        )
    _link, token = services.share_link_create(product=product, label="Bench", actor=pm)
    return token, product.pk


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, int, str | None]:
    """Status, body size and ETag."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        # Like a browser: gzip accepted (the public page is served pre-compressed).
        headers = {"Host": "127.0.0.1", "Accept-Encoding": "gzip", **(headers or {})}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, len(response.read()), response.getheader("ETag")
    finally:
        conn.close()


class Probe:
    """One measured URL: the path, request headers, the expected status, and something to do
    before each request (outside the timing)."""

    def __init__(self, path, headers=None, expect=200, before=None):
        self.path, self.headers, self.expect, self.before = path, headers, expect, before


def wait_until_up(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}")
        try:
            if get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer within 30 s")


def measure(port: int, probe: Probe, seconds: float) -> dict:
    """Requests per second over `seconds` with `args.concurrency` client threads."""
    latencies: list[float] = []
    errors = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client():
        mine = []
        while time.monotonic() < stop:
            if probe.before:
                probe.before()
            t0 = time.perf_counter()
            status, _size, _etag = get(port, probe.path, probe.headers)
            mine.append(time.perf_counter() - t0)
            if status != probe.expect:
                errors.append(status)
        with lock:
            latencies.extend(mine)

    for _ in range(20):  # warm the workers and the cache
        get(port, probe.path, probe.headers)
    threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        sys.exit(f"{probe.path}: {len(errors)} answers not {probe.expect}, e.g. {errors[0]}")
    latencies.sort()
    return {"latencies": latencies, "elapsed": elapsed}


def interleaved(port: int, paths: dict[str, Probe]) -> dict[str, dict]:
    """Each URL measured in turn, `args.rounds` times, so a change in the machine's load
    (other processes) affects them alike; figures are over all rounds."""
    latencies_of: dict[str, list[float]] = {name: [] for name in paths}
    elapsed_of: dict[str, float] = dict.fromkeys(paths, 0.0)
    for _ in range(args.rounds):
        for name, probe in paths.items():
            result = measure(port, probe, args.seconds / args.rounds)
            latencies_of[name] += result["latencies"]
            elapsed_of[name] += result["elapsed"]
    out = {}
    for name in paths:
        latencies = sorted(latencies_of[name])
        out[name] = {
            "rps": len(latencies) / elapsed_of[name],
            "median_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
            "n": len(latencies),
        }
    return out


def cache_dropper(env: dict, product_id: int):
    """Deletes the product's cached public data (as a roadmap change does), so the next
    request reads and renders it afresh."""
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    keys = [
        f"{CACHE_PREFIX}:1:roadmap:public-stamp:{product_id}",
        f"{CACHE_PREFIX}:1:roadmap:public:{product_id}",
    ]
    return lambda: client.delete(*keys)


def drop_cache_keys(env: dict) -> None:
    redis_url = env.get("REDIS_URL")
    if not redis_url:
        return
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{CACHE_PREFIX}:*"))
    if keys:
        client.delete(*keys)


def first_render_after_edit(token: str, product_id: int) -> None:
    """In-process: the share page's first request after a roadmap edit (the edit's commit drops
    the cached data: the request reads it from the database and renders it), against a request
    served from this process's rendered copy, in turns (A/B), plus what the uncached request
    spends reading and rendering."""
    from django.contrib.auth.models import User
    from django.test import Client

    from roadmap import public, selectors, services
    from roadmap.models import Initiative

    client = Client()
    page = f"/share/{token}/"
    pm = User.objects.get(username="bench-pm")
    found = Initiative.objects.filter(product_id=product_id, visibility="public").first()
    assert found is not None, "the bench's roadmap has a public initiative"
    initiative: Initiative = found
    edits = iter(range(10**6))

    def edit() -> None:
        nonlocal initiative
        initiative = services.initiative_update(
            initiative=initiative,
            data={"title": f"Initiative, edited {next(edits)} times"},
            expected_version=initiative.version,
            actor=pm,
        )

    def request() -> None:
        response = client.get(page)
        assert response.status_code == 200, response.status_code

    uncached: list[float] = []
    cached: list[float] = []
    for _ in range(3):  # warm up both
        edit()
        request()
        request()
    for _ in range(args.edits):
        edit()  # not timed: its commit empties the cache
        start = time.perf_counter()
        request()
        uncached.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        request()
        cached.append((time.perf_counter() - start) * 1000)
    read = _common.median_ms(lambda: selectors.public_roadmap_for(product_id), runs=args.edits)
    data = selectors.public_roadmap_for(product_id)
    assert data is not None, "the bench's product is there"
    render = _common.median_ms(lambda: public._render("x", data), runs=args.edits)
    print(f"In-process, {args.edits} edits, each followed by two requests of the share page:")
    print(
        f"  first request after an edit (uncached)   median {statistics.median(uncached):6.1f} ms"
    )
    print(f"    reading the public data (5 queries)    median {read:6.1f} ms")
    print(f"    rendering page + JSON, gzip, ETags     median {render:6.1f} ms")
    print(f"  the next request (rendered copy)         median {statistics.median(cached):6.1f} ms")


def main() -> None:
    settings_dir = tempfile.mkdtemp(prefix="lodestar-bench-")
    Path(settings_dir, "bench_settings.py").write_text(SETTINGS)
    env: dict[str, str] = {}
    try:
        with _common.throwaway_database(keep=args.keep) as database:
            env = bench_env(settings_dir, database)
            t0 = time.perf_counter()
            token, product_id = populate(args.initiatives)
            print(
                f"Set up {database}: {args.initiatives} initiatives, 12 releases "
                f"in {time.perf_counter() - t0:.1f} s; cache: "
                f"{'Redis ' + env['REDIS_URL'] if env.get('REDIS_URL') else 'per-worker memory'}"
            )
            first_render_after_edit(token, product_id)
            serve_and_measure(env, token, product_id)  # stops gunicorn before the drop
    finally:
        drop_cache_keys(env)
        shutil.rmtree(settings_dir, ignore_errors=True)


def serve_and_measure(env: dict[str, str], token: str, product_id: int) -> None:
    """gunicorn on a free port against the bench database; requests per second per URL."""
    from django.db import connections

    connections.close_all()
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    proc = subprocess.Popen(
        [
            gunicorn,
            "pm.wsgi:application",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        wait_until_up(port, proc)
        measure_served(port, env, token, product_id)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def measure_served(port: int, env: dict[str, str], token: str, product_id: int) -> None:
    page = f"/share/{token}/"
    status, size, etag = get(port, page)
    assert status == 200, status
    print(
        f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; client: "
        f"{args.concurrency} threads, {args.seconds:g} s per URL in {args.rounds} interleaved "
        f"rounds; page {size / 1024:.0f} KiB gzipped"
    )
    probes = {
        "/healthz (trivial view)": Probe("/healthz"),
        "/share/<token>/ (public page)": Probe(page),
        "/share/<token>/ revalidated (304)": Probe(
            page, headers={"If-None-Match": etag}, expect=304
        ),
        "/api/v1/roadmap/<token>/ (JSON, unthrottled)": Probe(f"/api/v1/roadmap/{token}/"),
    }
    if env.get("REDIS_URL"):
        probes["/share/<token>/ uncached (data rebuilt)"] = Probe(
            page, before=cache_dropper(env, product_id)
        )
    results = interleaved(port, probes)
    for name, r in results.items():
        print(
            f"  {name:<46} {r['rps']:6.0f} req/s   median {r['median_ms']:6.2f} ms   "
            f"p95 {r['p95_ms']:6.2f} ms   ({r['n']} requests)"
        )
    trivial = results["/healthz (trivial view)"]["rps"]
    page_rps = results["/share/<token>/ (public page)"]["rps"]
    json_rps = results["/api/v1/roadmap/<token>/ (JSON, unthrottled)"]["rps"]
    print(f"Ratio public page / trivial view: {page_rps / trivial:.2f}")
    print(f"Ratio public JSON / trivial view: {json_rps / trivial:.2f}")
    print(
        "(/healthz is answered by the first middleware, before routing and the rest of the "
        "stack; the public page goes through all of it, one indexed query for the link's "
        "state and one cache read.)"
    )


if __name__ == "__main__":
    main()
