"""Lodestar through a real PgBouncer in transaction pooling, with the settings an operator gets
from `DATABASE_HOST=pgbouncer` and `DISABLE_SERVER_SIDE_CURSORS=1` (docs/scaling.md).

The test database is migrated directly; then the app's connection is pointed at PgBouncer with a
pool of ONE server connection, so every transaction of the test, of the views and of a real
Celery worker runs on the same server session, one after the other. Whatever one of them left
behind (a prepared statement, a cursor, a session advisory lock, a `SET`) would reach the next
client; after real flows the session must be clean."""

import re
import runpy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from backlog.models import Feature
from metrics.models import Rollup
from pm import digests
from pm.api.tokens import api_token_create
from pm.choices import DeliveryStatus
from pm.models import ApiToken, DigestDelivery
from pm.tasks import schedule_digests
from tests.backlog.factories import FeatureFactory
from tests.digests.test_digests_worker import _subscribed
from tests.factories import PASSWORD
from tests.metrics.factories import KPIFactory
from tests.pgbouncer import running_pgbouncer
from tests.worker import mailed, running_worker

pytestmark = [pytest.mark.pgbouncer, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HX-Request": "true"}


def _app_database_settings(monkeypatch, bouncer) -> dict:
    """DATABASES["default"] as pm/settings.py builds it from the operator's variables."""
    monkeypatch.setenv("DATABASE_URL", bouncer.url())
    monkeypatch.setenv("DISABLE_SERVER_SIDE_CURSORS", "1")
    module = runpy.run_path(str(ROOT / "pm" / "settings.py"), run_name="settings_behind_pgbouncer")
    return module["DATABASES"]["default"]


@pytest.fixture
def bouncer(transactional_db, monkeypatch):
    """The app's database connection through PgBouncer for the duration of the test (the
    settings dict is shared with settings.DATABASES, so a worker started now goes there too)."""
    settings_dict = connection.settings_dict
    saved = {**settings_dict, "OPTIONS": dict(settings_dict.get("OPTIONS", {}))}
    with running_pgbouncer(settings_dict) as bouncer:
        app = _app_database_settings(monkeypatch, bouncer)
        connection.close()
        for key in ("HOST", "PORT", "NAME", "DISABLE_SERVER_SIDE_CURSORS", "OPTIONS"):
            settings_dict[key] = app[key]
        try:
            yield bouncer
        finally:
            connection.close()
            settings_dict.clear()
            settings_dict.update(saved)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _assert_clean(bouncer) -> None:
    session = bouncer.server_session()
    assert session["backend"] == _backend_pid()  # the very session the app used
    assert {k: v for k, v in session.items() if k != "backend" and v} == {}


def test_the_operator_settings_disable_cursors_and_prepared_statements(bouncer):
    assert connection.settings_dict["PORT"] == bouncer.port
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    connection.ensure_connection()
    assert connection.connection.prepare_threshold is None
    pools = [p for p in bouncer.admin("SHOW POOLS") if p["database"] == bouncer.database]
    assert pools and pools[0]["pool_mode"] == "transaction"


def test_a_team_works_through_pgbouncer_and_leaves_nothing_on_the_server_connection(bouncer, cast):
    key = cast.product.key
    # Sign in with a password (the session row is written through the pooler).
    pm = Client()
    signed_in = pm.post(reverse("login"), {"username": "pm", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.content[:500]
    assert pm.get(reverse("backlog", args=[key])).status_code == 200

    # Pages: quick add, then a versioned edit (row lock in a transaction).
    added = pm.post(
        reverse("feature_new", args=[key]),
        {"title": "Offline mode", "kind": "feature"},
        headers=HTMX,
    )
    assert added.status_code == 200
    feature = Feature.objects.get(title="Offline mode")
    edit = reverse("feature_edit", args=[key, feature.pk])
    data = {"kind": "feature", "status": "backlog", "version": 1, "title": "Offline sync"}
    assert pm.post(edit, data, headers=HTMX).headers["HX-Refresh"] == "true"  # saved
    stale = pm.post(edit, {**data, "title": "Lost"}, headers=HTMX)
    assert "Someone else saved this" in stale.content.decode()

    # The API with a token, a retried create under one idempotency key, and the lists.
    _token, token = api_token_create(
        user=cast.pm, name="ci", scope=ApiToken.Scope.READ_WRITE, actor=cast.pm
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    retry = {"Idempotency-Key": "through-pgbouncer"}
    body = {"product": key, "title": "Bulk export"}
    first = api.post("/api/v1/features/", body, format="json", headers=retry)
    again = api.post("/api/v1/features/", body, format="json", headers=retry)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Feature.objects.filter(title="Bulk export").count() == 1
    titles = [f["title"] for f in api.get("/api/v1/features/").json()["results"]]
    assert {"Offline sync", "Bulk export"} <= set(titles)
    assert api.get("/api/v1/stories/").status_code == 200

    # KPI points in; the recalculation (in-process here) follows on commit.
    kpi = KPIFactory(product=cast.product, aggregation="sum")
    points = [
        {"timestamp": (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i)).isoformat()}
        | {"value": 1}
        for i in range(48)
    ]
    stored = pm.post(f"/api/v1/kpis/{kpi.pk}/datapoints/", points, content_type="application/json")
    assert stored.status_code == 201, stored.content
    assert Rollup.objects.filter(kpi=kpi).exists()

    # Digests: scheduled and sent, claims and marks committed one by one.
    _subscribed(cast, cast.pm, cast.stakeholder)
    ids = digests.digests_schedule()
    assert digests.digests_send(delivery_ids=ids)["sent"] == ids
    assert len(mail.outbox) == 2

    # A long list read in chunks, stopped half-way (no cursor is left open for it).
    chunks = Feature.objects.order_by("pk").iterator(chunk_size=1)
    assert next(chunks).title == "Offline sync"

    _assert_clean(bouncer)
    stats = [s for s in bouncer.admin("SHOW STATS") if s["database"] == bouncer.database]
    assert stats[0]["total_xact_count"] > 20  # it all went through the pooler


@pytest.mark.worker
def test_a_real_worker_recalculates_and_sends_digests_through_pgbouncer(bouncer, cast, tmp_path):
    kpi = KPIFactory(product=cast.product, aggregation="sum")
    _subscribed(cast, cast.pm, cast.engineer)
    logins_before = bouncer.log().count("login attempt")
    assert settings.DATABASES["default"]["PORT"] == bouncer.port  # what the worker is given
    env = {
        "DISABLE_SERVER_SIDE_CURSORS": "1",
        "EMAIL_HOST": None,
        "EMAIL_FILE_PATH": str(tmp_path),
    }
    with running_worker(env=env) as worker:
        pm = Client()
        pm.force_login(cast.pm)
        points = [{"timestamp": f"2026-02-0{d}T12:00:00Z", "value": d} for d in range(1, 8)]
        stored = pm.post(
            f"/api/v1/kpis/{kpi.pk}/datapoints/", points, content_type="application/json"
        )
        assert stored.status_code == 201 and stored.json()["recalculation"] == "queued"
        worker.wait_for_log("metrics.tasks.recalculate_kpi[")
        assert schedule_digests.delay().get(timeout=60) == 2
        messages = mailed(tmp_path, count=2)
        worker.wait_for_log("'sent': [")
    assert sorted(m["To"] for m in messages) == sorted([cast.pm.email, cast.engineer.email])
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 2
    day_sums = Rollup.objects.filter(kpi=kpi, granularity="day").values_list("sum", flat=True)
    assert sorted(day_sums) == list(range(1, 8))
    assert bouncer.log().count("login attempt") > logins_before  # the worker came through it
    _assert_clean(bouncer)


def test_the_session_check_sees_what_transaction_pooling_would_leak(bouncer, cast):
    # What the clean-session assertions above would catch, done on purpose by another client:
    # each lands on the one server connection and reaches whoever uses it next.
    with psycopg.connect(bouncer.url(), autocommit=True, prepare_threshold=0) as careless:
        careless.execute("SELECT 1 WHERE %s", [True])  # prepared at once (threshold 0)
        careless.execute("SET synchronous_commit = off")
        careless.execute("SELECT pg_advisory_lock(4242)")
        session = bouncer.server_session()
        careless.execute("SELECT pg_advisory_unlock(4242)")
    assert session["prepared statements"]
    assert session["settings"] == ["synchronous_commit=off"]
    assert session["advisory locks"] == [4242]
    # And a server-side cursor, as QuerySet.iterator() makes without the switch.
    FeatureFactory.create_batch(3, product=cast.product)
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = False
    connection.close()
    chunks = Feature.objects.iterator(chunk_size=1)
    assert next(chunks)
    assert len(bouncer.server_session()["cursors"]) == 1


# --- the source ---------------------------------------------------------------------------------

_SESSION_STATE = [
    # SET / RESET without LOCAL outlive the transaction on the pooled server connection
    # (SET CONSTRAINTS and SET TRANSACTION are transaction-scoped).
    (
        re.compile(
            r"""execute\(\s*[rbf]?["']\s*(RE)?SET\s+(?!LOCAL\b|CONSTRAINTS\b|TRANSACTION\b)""",
            re.I,
        ),
        "session SET",
    ),
    (re.compile(r"set_config\([^)]*,\s*false\s*\)", re.I), "set_config(..., false)"),
    (re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.I), "session advisory lock"),
    (re.compile(r"""execute\(\s*[rbf]?["']\s*(PREPARE|DECLARE|LISTEN)\b""", re.I), "session"),
]


def _app_sources() -> list[Path]:
    from django.apps import apps

    paths = []
    for config in apps.get_app_configs():
        path = Path(config.path)
        if ROOT in path.parents and ".venv" not in path.parts:
            paths += [p for p in path.rglob("*.py") if "migrations" not in p.parts]
    return paths


def test_the_code_keeps_no_session_level_state():
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in _app_sources()
        for pattern, what in _SESSION_STATE
        if pattern.search(path.read_text())
    ]
    assert _app_sources() and not found, (
        "session-level state breaks behind PgBouncer in transaction pooling "
        "(use SET LOCAL, pg_advisory_xact_lock): " + "; ".join(found)
    )
