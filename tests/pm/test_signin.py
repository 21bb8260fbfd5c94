"""Sign-in and its lockout after repeated failures (per username and IP, and per IP), kept in
the shared cache (Redis in the suite)."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.pm.helpers import alert_text

LOCKED = "Too many failed sign-in attempts."


def _attempt(client, username, password, ip="203.0.113.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def test_right_password_signs_in(alice, client):
    response = _attempt(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_wrong_password_is_refused_with_a_message(alice, client):
    response = _attempt(client, "alice", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in alert_text(response.content)


def test_sixth_attempt_after_five_failures_is_locked_out_even_with_the_right_password(
    alice, client
):
    for _ in range(5):
        assert _attempt(client, "alice", "wrong").status_code == 200

    response = _attempt(client, "alice", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in alert_text(response.content)
    assert "15 minutes" in alert_text(response.content)
    assert "_auth_user_id" not in client.session


def test_the_lockout_ignores_the_usernames_case(alice, client):
    for name in ("alice", "Alice", "ALICE", "aLice", "alicE"):
        _attempt(client, name, "wrong")
    assert _attempt(client, "alice", PASSWORD).status_code == 429


def test_other_users_from_the_same_ip_are_not_locked_out(alice, client):
    UserFactory(username="bob")
    for _ in range(5):
        _attempt(client, "alice", "wrong")
    assert _attempt(client, "bob", PASSWORD).status_code == 302


def test_the_same_user_from_another_ip_is_not_locked_out(alice, client):
    for _ in range(5):
        _attempt(client, "alice", "wrong", ip="203.0.113.7")
    assert _attempt(client, "alice", PASSWORD, ip="198.51.100.9").status_code == 302


def test_four_failures_then_success_resets_the_count(alice, client):
    for _ in range(4):
        _attempt(client, "alice", "wrong")
    assert _attempt(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        _attempt(client, "alice", "wrong")
    assert _attempt(client, "alice", PASSWORD).status_code == 302


def test_one_ip_guessing_many_usernames_is_locked_out(db, client):
    UserFactory(username="victim")
    for n in range(25):  # five times the per-user limit, spread over usernames
        _attempt(client, f"guess{n}", "wrong")
    assert _attempt(client, "victim", PASSWORD).status_code == 429
    assert _attempt(client, "victim", PASSWORD, ip="198.51.100.9").status_code == 302


def test_the_lockout_is_shared_through_the_cache(alice, client, settings):
    # Another web process (a fresh client here) sees the same counters.
    from django.test import Client

    for _ in range(5):
        _attempt(client, "alice", "wrong")
    assert _attempt(Client(), "alice", PASSWORD).status_code == 429
    assert "RedisCache" in settings.CACHES["default"]["BACKEND"]


def test_during_a_lockout_the_password_is_not_even_checked(alice, client):
    from django.contrib.auth.signals import user_login_failed

    for _ in range(5):
        _attempt(client, "alice", "wrong")
    checked = []

    def record(sender, credentials, **kwargs):
        checked.append(credentials["username"])

    user_login_failed.connect(record)
    try:
        response = _attempt(client, "alice", "still-wrong")
    finally:
        user_login_failed.disconnect(record)
    assert response.status_code == 429
    assert checked == []  # no password hashing, no oracle, while locked
    assert 'value="alice"' in response.content.decode()  # the username stays filled in
