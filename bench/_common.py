"""What every bench script shares: Django set up for benchmarking, a throwaway PostgreSQL
database (`bench_<name>_<pid>`, created and migrated, dropped afterwards unless kept) and
interleaved timing (A/B rounds in turns, so that load from other processes on a busy machine
weighs on every side alike).

    import _common  # first: it puts the project on sys.path and sets up Django
    with _common.throwaway_database():
        ...
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pm.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("SITE_URL", "http://127.0.0.1")  # required in production settings
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DEBUG", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

# Static URLs resolve without a collectstatic manifest (the pages render as in production).
# override_settings, not an assignment: it resets the storages Django set up already.
override_settings(
    STORAGES={
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
).enable()

from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)


@contextmanager
def throwaway_database(*, keep: bool = False) -> Iterator[str]:
    """A fresh, migrated database named after DATABASE_URL's (bench_<name>_<pid>), never the
    real one; dropped on the way out, whatever happened, unless `keep`."""
    if connection.vendor != "postgresql":
        sys.exit("The bench scripts need a PostgreSQL DATABASE_URL.")
    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})
    name = f"bench_{connection.settings_dict['NAME']}_{os.getpid()}"
    connection.settings_dict["TEST"]["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        if keep:
            print(f"kept the bench database {name}")
            connection.close()
            connection.settings_dict["NAME"] = old_name
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def analyze() -> None:
    """Fresh planner statistics and visibility maps after a bulk fill, as autovacuum would
    give a real database in time."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def interleaved(fns: dict[str, Callable], runs: int, warmup: int = 3) -> dict[str, float]:
    """Median milliseconds of each function, run in turns."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def median_ms(fn: Callable, runs: int, warmup: int = 3) -> float:
    return interleaved({"fn": fn}, runs, warmup)["fn"]


def measure(fn: Callable[[], bytes]) -> tuple[float, int, int]:
    """One call of `fn` (which returns a response body): milliseconds, queries, bytes."""
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        body = fn()
        elapsed = time.perf_counter() - start
    return elapsed * 1000, len(queries.captured_queries), len(body)
