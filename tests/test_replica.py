"""The optional read replica (pm/dbrouter.py) against a second real PostgreSQL database.

The "replica" is a copy of the test database taken after the test's rows exist
(`CREATE DATABASE … TEMPLATE`), and nothing replicates into it afterwards. So a row changed on
one side only shows where each read went: the replica's copy says "(replica)", and what a user
just wrote exists on the primary alone — exactly what a lagging replica looks like."""

import json
import runpy
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest
from django.db import connection, connections, router, transaction
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from backlog.models import Feature
from pm import dbrouter
from pm.api.tokens import api_token_create
from pm.models import ApiToken
from tests.backlog.factories import FeatureFactory
from tests.factories import PASSWORD
from tests.worker import _database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HX-Request": "true"}


def _settings_with(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "pm" / "settings.py"), run_name="settings_with_replica")


def _admin_execute(sql: str) -> None:
    server = {**connection.settings_dict, "NAME": "postgres"}
    with psycopg.connect(_database_url(server), autocommit=True) as conn:
        conn.execute(sql)


def _copy_database(source: str, target: str) -> None:
    """CREATE DATABASE … TEMPLATE needs the source to have no other session. Ours are closed,
    but under xdist an earlier test's server thread or worker process may still be hanging up:
    give them a few seconds, then end them (nothing of theirs is needed any more)."""
    server = {**connection.settings_dict, "NAME": "postgres"}
    with psycopg.connect(_database_url(server), autocommit=True) as conn:
        for attempt in range(40):
            try:
                conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
                return
            except psycopg.errors.ObjectInUse:
                if attempt >= 20:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()",
                        [source],
                    )
                time.sleep(0.25)
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


@pytest.fixture
def replica(cast, settings, monkeypatch):
    """A copy of the test database as the "replica" alias, with the settings pm/settings.py
    builds from DATABASE_REPLICA_URL (router, middleware); yields a function that runs SQL on
    the replica only."""
    primary = connection.settings_dict["NAME"]
    name = f"{primary}_replica"
    FeatureFactory(product=cast.product, title="Offline mode")
    # Signed in before the copy: their sessions are on both sides, as replication would have it.
    Replica.browsers = {role: cast.client(role) for role in ("pm", "engineer")}
    for conn in connections.all():
        conn.close()
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}"')
    _copy_database(primary, name)
    url = _database_url({**connection.settings_dict, "NAME": name})
    app = _settings_with(monkeypatch, DATABASE_URL=_database_url(connection.settings_dict))
    assert "replica" not in app["DATABASES"] and not app.get("DATABASE_ROUTERS")
    app = _settings_with(monkeypatch, DATABASE_REPLICA_URL=url)
    connections.configure_settings(
        {"default": connections.settings["default"], "replica": app["DATABASES"]["replica"]}
    )
    connections.settings["replica"] = app["DATABASES"]["replica"]
    connections["replica"]  # noqa: B018 - the connection object, created while the alias exists
    # ...and then no longer listed, which makes it a "dynamically created connection" that
    # Django's test case lets this test use (pytest-django only knows the aliases it set up).
    del connections.settings["replica"]
    settings.DATABASE_ROUTERS = app["DATABASE_ROUTERS"]
    settings.MIDDLEWARE = app["MIDDLEWARE"]
    settings.REPLICA_PIN_SECONDS = app["REPLICA_PIN_SECONDS"]

    def on_replica(sql: str, *params) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql, params)

    on_replica("UPDATE backlog_feature SET title = title || ' (replica)'")
    try:
        yield Replica(execute=on_replica)
    finally:
        connections["replica"].close()
        delattr(connections._connections, "replica")
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}"')


@dataclass
class Replica:
    execute: Callable[..., None]  # SQL on the replica only
    browsers: ClassVar[dict[str, Client]] = {}  # signed in before the copy was taken

    def browser(self, role: str) -> Client:
        return self.browsers[role]


def _feature_page(client: Client, cast, feature: Feature) -> str:
    url = reverse("feature_detail", args=[cast.product.key, feature.pk])
    response = client.get(url)
    assert response.status_code == 200, response
    return response.content.decode()


def test_pages_read_from_the_replica(cast, replica):
    feature = Feature.objects.get(title="Offline mode")  # a test: outside a request, primary
    assert "Offline mode (replica)" in _feature_page(replica.browser("engineer"), cast, feature)


def test_after_an_edit_the_same_browser_reads_the_primary_and_others_the_replica_until_the_pin_ends(
    cast, replica, monkeypatch
):
    feature = Feature.objects.get(title="Offline mode")
    pm, engineer = replica.browser("pm"), replica.browser("engineer")
    edit = reverse("feature_edit", args=[cast.product.key, feature.pk])
    data = {"kind": "feature", "status": "backlog", "version": 1, "title": "Offline sync"}
    saved = pm.post(edit, data, headers=HTMX)
    assert saved.headers["HX-Refresh"] == "true"
    assert saved.cookies[dbrouter.COOKIE]["max-age"] == 11  # REPLICA_PIN_SECONDS (10) + 1
    # The editor sees the edit at once although the (lagging) replica does not have it yet.
    assert "Offline sync" in _feature_page(pm, cast, feature)
    assert "Offline mode (replica)" in _feature_page(engineer, cast, feature)
    # Once the pin has passed, the editor reads the replica again (caught up, in real life).
    later = time.time() + 12
    monkeypatch.setattr(dbrouter.time, "time", lambda: later)
    assert "Offline mode (replica)" in _feature_page(pm, cast, feature)


def test_a_fresh_sign_in_is_not_lost_to_the_replica(cast, replica):
    # The new session row exists on the primary only; without the pin the next page would
    # find no session there and send the user back to the sign-in page.
    browser = Client()
    signed_in = browser.post(reverse("login"), {"username": "pm", "password": PASSWORD})
    assert signed_in.status_code == 302 and dbrouter.COOKIE in signed_in.cookies
    assert browser.get(reverse("backlog", args=[cast.product.key])).status_code == 200


def test_an_api_token_reads_its_own_writes_for_the_pin_and_other_tokens_read_the_replica(
    cast, replica, settings
):
    settings.REPLICA_PIN_SECONDS = 1

    def token_client(user) -> APIClient:
        _token, key = api_token_create(
            user=user, name="replica", scope=ApiToken.Scope.READ_WRITE, actor=user
        )
        client = APIClient()  # no cookies kept between calls: the pin must not need them
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    pm, engineer = token_client(cast.pm), token_client(cast.engineer)
    # The tokens were created outside a request: on the primary only. Copy them over, as
    # replication would have by now (just used: no last-used touch, which is a write, follows).
    ApiToken.objects.update(last_used_at=timezone.now())
    for row in ApiToken.objects.values_list("pk", flat=True):
        _copy_row("pm_apitoken", row, replica.execute)

    def titles(client: APIClient) -> set[str]:
        client.cookies.clear()
        return {f["title"] for f in client.get("/api/v1/features/").json()["results"]}

    created = pm.post("/api/v1/features/", {"product": "LOD", "title": "Bulk export"})
    assert created.status_code == 201, created.json()
    assert "Bulk export" in titles(pm)
    assert "Bulk export" not in titles(engineer)
    assert "Offline mode (replica)" in titles(engineer)
    time.sleep(2.1)  # the pin has passed
    assert "Bulk export" not in titles(pm)


def _copy_row(table: str, pk: int, on_replica) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t WHERE id = %s", [pk])
        (row,) = cursor.fetchone()
    on_replica(
        f"INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, %s::json)", row
    )


def _aliases_seen_by_a_request(view) -> list[str]:
    middleware = dbrouter.ReadYourWritesMiddleware(view)
    request = HttpRequest()
    response = middleware(request)
    return json.loads(response.content)


def test_within_a_request_reads_follow_a_write_and_transactions_to_the_primary(cast, replica):
    def view(request):
        seen = [Feature.objects.all().db]
        with transaction.atomic():
            seen.append(Feature.objects.all().db)
        seen.append(Feature.objects.all().db)
        Feature.objects.filter(title__startswith="Offline").update(effort=3)
        seen.append(Feature.objects.all().db)
        return JsonResponse(seen, safe=False)

    assert _aliases_seen_by_a_request(view) == ["replica", "default", "replica", "default"]


def test_tasks_and_commands_read_the_primary_and_migrations_stay_off_the_replica(replica):
    # Outside a web request: a task queued on commit must find the rows its request wrote.
    assert Feature.objects.all().db == "default"
    assert router.allow_migrate("default", "backlog") is True
    assert router.allow_migrate("replica", "backlog") is False
