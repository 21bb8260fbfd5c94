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


def test_failures_of_25_others_behind_one_nat_do_not_lock_out_a_colleague(alice, client):
    # An office behind one address: 25 colleagues each mistype their password once.
    for n in range(25):
        UserFactory(username=f"colleague{n}")
        _attempt(client, f"colleague{n}", "wrong")
    assert _attempt(client, "alice", PASSWORD).status_code == 302


def test_one_ip_guessing_many_usernames_is_locked_out_at_the_ip_limit(db, client, settings):
    UserFactory(username="victim")
    assert settings.LOGIN_IP_FAILURE_LIMIT == 100  # the documented default
    for n in range(100):  # four guesses each over 25 usernames: never the per-user limit
        _attempt(client, f"guess{n % 25}", "wrong")
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


# --- the admin's sign-in ------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _admin_attempt(client, username, password, ip="203.0.113.7"):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def test_the_admin_sign_in_page_still_works(staff, client):
    assert client.get("/admin/login/").status_code == 200
    response = _admin_attempt(client, "root", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_forty_wrong_admin_passwords_then_the_right_one_is_refused(staff, client):
    statuses = [_admin_attempt(client, "root", f"guess-{n}").status_code for n in range(40)]
    assert statuses[:5] == [200] * 5  # the admin's form with its error
    assert set(statuses[5:]) == {429}

    response = _admin_attempt(client, "root", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in alert_text(response.content)
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still signed out


def test_failures_on_the_admin_sign_in_count_for_the_site_sign_in_too(staff, client):
    for _ in range(3):
        _admin_attempt(client, "root", "wrong")
    for _ in range(2):
        _attempt(client, "root", "wrong")
    assert _attempt(client, "root", PASSWORD).status_code == 429
    assert _admin_attempt(client, "root", PASSWORD).status_code == 429


# --- which address: X-Forwarded-For only from trusted proxies -------------------------------


def _via(client, username, password, *, peer, forwarded=None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_a_rotating_forwarded_header_from_an_untrusted_peer_gives_no_extra_guesses(
    alice, client, settings
):
    settings.BEHIND_TLS_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = []
    for n in range(5):
        _via(client, "alice", "wrong", peer="198.51.100.66", forwarded=f"192.0.2.{n}")
    response = _via(client, "alice", PASSWORD, peer="198.51.100.66", forwarded="192.0.2.99")
    assert response.status_code == 429


def test_a_spoofed_victim_address_does_not_lock_out_the_victim(alice, client):
    for _ in range(200):  # past both limits, all claiming to come from alice's address
        _via(client, "alice", "wrong", peer="198.51.100.66", forwarded="203.0.113.7")
    assert _via(client, "alice", PASSWORD, peer="203.0.113.7").status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_used(alice, client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(5):
        # A client prepending a fake address gains nothing: the proxy appends the real one.
        _via(client, "alice", "wrong", peer="10.0.0.2", forwarded="192.0.2.1, 203.0.113.7")
    assert _via(
        client, "alice", PASSWORD, peer="10.0.0.2", forwarded="203.0.113.7"
    ).status_code == (429)
    # Another client through the same proxy is not affected.
    assert _via(
        client, "alice", PASSWORD, peer="10.0.0.2", forwarded="198.51.100.9"
    ).status_code == (302)


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ([], "203.0.113.7", "192.0.2.1", "203.0.113.7"),
        (["10.0.0.0/8"], "203.0.113.7", "192.0.2.1", "203.0.113.7"),
        (["10.0.0.0/8"], "10.1.2.3", "192.0.2.1", "192.0.2.1"),
        (["10.0.0.0/8"], "10.1.2.3", "192.0.2.9, 192.0.2.1, 10.0.0.5", "192.0.2.1"),
        (["10.0.0.0/8"], "10.1.2.3", "", "10.1.2.3"),
        (["10.0.0.0/8"], "10.1.2.3", "10.0.0.9", "10.0.0.9"),
        (["10.0.0.0/8"], "10.1.2.3", "not-an-ip", "10.1.2.3"),
        (["127.0.0.1"], "127.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        (["::1"], "::1", "198.51.100.4:5000", "198.51.100.4"),
        ([], "::ffff:203.0.113.7", "", "203.0.113.7"),
    ],
)
def test_client_ip(rf, settings, trusted, peer, forwarded, expected):
    from pm.clientip import client_ip

    settings.TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_bad_trusted_proxies_value_fails_at_start_up():
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.com"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "pm.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr and "proxy.example.com" in result.stderr
