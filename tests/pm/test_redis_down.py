"""Redis unreachable: a real Redis client pointed at a port where nothing listens (no mocks).

Sign-in fails open on the lockout counter (the password is still checked) with a logged
warning; the API keeps answering JSON (its rate limit fails open too, and a server error is a
JSON 500); /healthz names the dependency that is down, answers 503, never an exception class,
and carries the security headers."""

import logging
import socket

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.conftest import token_client
from tests.factories import PASSWORD, UserFactory


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


@pytest.fixture
def redis_down(settings):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    caches, broker = settings.CACHES, settings.CELERY_BROKER_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from django.core.cache import cache
    from redis.exceptions import ConnectionError as RedisConnectionError

    with pytest.raises(RedisConnectionError):  # really unreachable
        cache.get("anything")
    yield url
    # Back to the suite's Redis before the suite's own teardown clears the cache.
    settings.CACHES, settings.CELERY_BROKER_URL = caches, broker


def test_sign_in_works_with_redis_down_and_logs_a_warning(db, redis_down, caplog):
    UserFactory(username="alice")
    client = Client()
    with caplog.at_level(logging.WARNING, logger="lodestar.security"):
        wrong = client.post(reverse("login"), {"username": "alice", "password": "nope"})
        right = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert wrong.status_code == 200
    assert b"Please enter a correct username and password" in wrong.content
    assert right.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    warnings = [r for r in caplog.records if r.name == "lodestar.security"]
    assert warnings and all(r.levelno == logging.WARNING for r in warnings)
    assert "cache is unreachable" in warnings[0].getMessage()
    assert all(r.exc_info is None for r in warnings)  # one line each, no traceback


def test_the_admin_sign_in_works_with_redis_down(db, redis_down):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    response = client.post(
        "/admin/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_api_answers_json_with_redis_down(cast, redis_down):
    # Tokens made while the cache is down: nothing about tokens needs Redis.
    api = token_client(cast.engineer)
    response = api.get("/api/v1/products/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert [p["key"] for p in response.json()["results"]] == ["LOD"]

    anonymous = Client().get("/api/v1/products/")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": anonymous.json()["detail"]}


@pytest.mark.urls("tests.pm.urls_failing")
def test_an_unexpected_api_error_is_a_json_500_and_a_page_error_the_html_one(db):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/failing/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
    assert "RuntimeError" not in response.content.decode()

    page = client.get("/failing/")
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")
    assert b"Something went wrong" in page.content


def test_healthz_is_503_naming_the_cache_and_broker_with_redis_down(db, redis_down):
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "checks": {"database": "ok", "cache": "unavailable", "broker": "unavailable"},
    }
    body = response.content.decode()
    assert "Error" not in body and "Exception" not in body
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reports_every_dependency_when_all_answer(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = settings.CACHES["default"]["LOCATION"]
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response
    head = Client().head("/healthz")  # load balancers often probe with HEAD
    assert head.status_code == 200 and head.content == b""


def test_the_ideas_portal_takes_submissions_with_redis_down(cast, redis_down):
    from feedback.models import PortalPost, PortalSettings

    PortalSettings.objects.create(product=cast.product, enabled=True)
    response = Client().post(
        reverse("portal_submit", args=["LOD"]),
        {"title": "Keyboard shortcuts", "description": "", "email": "ann@example.com"},
    )
    assert response.status_code == 200
    assert b"Thanks for your idea" in response.content
    assert PortalPost.objects.filter(title="Keyboard shortcuts").exists()


def test_password_reset_mails_with_redis_down(db, redis_down, mailoutbox):
    UserFactory(username="alice", email="alice@example.com")
    response = Client().post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
