"""The test suite's settings: pm.settings, with a SITE_URL for e-mail links when none is set.

Production refuses to start without SITE_URL; the suite runs with DEBUG=0 and only needs links
that look real. Set in os.environ, so the workers, servers and commands that tests start in
subprocesses load the same value.

Under pytest-xdist (`-n 2`) each worker process gets its own Redis database: the suite clears
the cache (a FLUSHDB) around every test and real Celery workers share the broker, so two pytest
workers on one database would wipe and steal each other's keys and tasks. Worker gwN uses the
database number of REDIS_URL plus N (gw0 keeps it); pytest-django already gives each worker its
own PostgreSQL database (test_…_gwN)."""

import os
import re

os.environ.setdefault("SITE_URL", "http://testserver")


def _redis_url_for_worker(url: str, worker: str) -> str:
    """REDIS_URL with its database number moved up by the xdist worker's index."""
    index = int(worker.removeprefix("gw"))
    match = re.fullmatch(r"(?P<base>rediss?://[^/]*)(?:/(?P<db>\d*))?", url)
    if not match:
        raise RuntimeError(f"REDIS_URL {url!r}: expected redis://host:port/<db number>")
    db = int(match["db"] or 0) + index
    if db > 15:
        raise RuntimeError(
            f"xdist worker {worker} would use Redis database {db}; Redis has 0-15. "
            "Point TEST_REDIS_URL at a lower database number or run fewer workers."
        )
    return f"{match['base']}/{db}"


_worker = os.environ.get("PYTEST_XDIST_WORKER")
# Celery workers and servers that a test starts inherit the moved REDIS_URL, this settings module
# and PYTEST_XDIST_WORKER: the marker keeps them from moving it a second time.
if _worker and os.environ.get("REDIS_URL") and os.environ.get("LODESTAR_REDIS_DB_OF") != _worker:
    os.environ["REDIS_URL"] = _redis_url_for_worker(os.environ["REDIS_URL"], _worker)
    os.environ["LODESTAR_REDIS_DB_OF"] = _worker

from pm.settings import *  # noqa: E402, F403

# Most tests save rows without caring about their meaning; the tests of feedback.semantic turn
# embedding on write back on (tests/feedback/test_semantic*.py).
SEMANTIC_EMBED_ON_WRITE = False
