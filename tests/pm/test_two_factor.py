"""Two-factor sign-in (pm.twofactor): set up with the QR code's key, sign in with a code the
test computes itself (RFC 6238, not django-otp's code), recovery codes that work once, the
lockout on wrong codes, and the workspace's requirement that sends members to set it up."""

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from pm.choices import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory
from tests.pm.helpers import alert_text


def totp(secret_b32: str, step_offset: int = 0) -> str:
    """The 6-digit code an authenticator app shows for `secret_b32` (RFC 6238: HMAC-SHA1 over the
    30-second step, dynamic truncation)."""
    key = base64.b32decode(secret_b32)
    counter = int(time.time()) // 30 + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def _seconds_pass():
    """A person retries seconds later: django-otp throttles each device after a wrong code (1 s,
    then 2, 4, …), which the tests wait out by clearing the timestamp, not by sleeping."""
    TOTPDevice.objects.update(throttling_failure_timestamp=None)
    StaticDevice.objects.update(throttling_failure_timestamp=None)


def _sign_in(client, username, password=PASSWORD, next_url="", ip="203.0.113.7"):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data, REMOTE_ADDR=ip)


def _enrol(client) -> tuple[str, list[str]]:
    """Set up two-factor sign-in as the signed-in user; the key and the recovery codes."""
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html  # the QR code to scan
    found = re.search(r'data-testid="totp-secret">([A-Z2-7=]+)<', html)
    assert found is not None, "the set-up page shows the key"
    secret = found.group(1)
    done = client.post(reverse("two_factor_setup"), {"code": totp(secret)})
    assert done.status_code == 200
    codes = re.findall(r'data-testid="recovery-code">([a-z2-7]+)<', done.content.decode())
    return secret, codes


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def enrolled(alice, client):
    client.force_login(alice)
    secret, codes = _enrol(client)
    client.post(reverse("logout"))
    return secret, codes


def test_setting_up_shows_a_qr_code_then_ten_recovery_codes_once(alice, client):
    client.force_login(alice)
    assert "Off" in client.get(reverse("two_factor")).content.decode()

    secret, codes = _enrol(client)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=alice).confirmed
    page = client.get(reverse("two_factor")).content.decode()
    assert 'data-testid="two-factor-state">On' in page
    assert "10 unused" in page
    assert codes[0] not in page  # shown once, never again


def test_a_wrong_code_at_set_up_leaves_it_off(alice, client):
    client.force_login(alice)
    client.get(reverse("two_factor_setup"))
    response = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert response.status_code == 400
    assert "not right" in alert_text(response.content)
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


def test_the_password_alone_no_longer_signs_in(enrolled, client):
    response = _sign_in(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor_verify")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302  # still signed out


def test_the_code_from_the_app_completes_the_sign_in(enrolled, client):
    secret, _ = enrolled
    _sign_in(client, "alice", next_url="/notifications/")
    # The set-up used this step's code; a code is good once, so the app's next one.
    response = client.post(reverse("two_factor_verify"), {"code": totp(secret, 1)})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_code_is_refused_and_a_used_code_cannot_be_replayed(enrolled, client):
    secret, _ = enrolled
    _sign_in(client, "alice")
    wrong = client.post(reverse("two_factor_verify"), {"code": "123456"})
    assert wrong.status_code == 400
    assert "not right" in alert_text(wrong.content)
    # Straight after a wrong code the device is throttled, even for the right one…
    assert client.post(reverse("two_factor_verify"), {"code": totp(secret, 1)}).status_code == 400
    _seconds_pass()
    assert client.post(reverse("two_factor_verify"), {"code": totp(secret, 1)}).status_code == 302
    client.post(reverse("logout"))
    _sign_in(client, "alice")
    replay = client.post(reverse("two_factor_verify"), {"code": totp(secret, 1)})
    assert replay.status_code == 400


def test_a_recovery_code_signs_in_once(enrolled, client):
    _, codes = enrolled
    _sign_in(client, "alice")
    response = client.post(reverse("two_factor_verify"), {"code": codes[0].upper()})
    assert response.status_code == 302
    client.post(reverse("logout"))
    _sign_in(client, "alice")
    assert client.post(reverse("two_factor_verify"), {"code": codes[0]}).status_code == 400
    _seconds_pass()
    assert client.post(reverse("two_factor_verify"), {"code": codes[1]}).status_code == 302


def test_wrong_codes_lock_out_like_wrong_passwords(enrolled, client):
    secret, _ = enrolled
    _sign_in(client, "alice")
    for _ in range(5):
        client.post(reverse("two_factor_verify"), {"code": "999999"})
        _seconds_pass()
    response = client.post(reverse("two_factor_verify"), {"code": totp(secret, 1)})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in alert_text(response.content)
    assert "_auth_user_id" not in client.session


def test_the_code_page_without_a_password_first_sends_to_sign_in(db, client):
    response = client.post(reverse("two_factor_verify"), {"code": "123456"})
    assert response.status_code == 302
    assert response["Location"] == reverse("login")


def test_the_admin_sign_in_asks_for_the_code_too(db, client):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    secret, _ = _enrol(client)
    client.post(reverse("logout"))
    response = client.post(
        reverse("admin_login"), {"username": "boss", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor_verify")
    assert "_auth_user_id" not in client.session
    done = client.post(reverse("two_factor_verify"), {"code": totp(secret, 1)})
    assert done["Location"] == "/admin/"


def test_new_recovery_codes_replace_the_old_ones(enrolled, client, alice):
    secret, old = enrolled
    client.force_login(alice)
    response = client.post(reverse("two_factor_recovery"), {"code": totp(secret, 1)})
    new = re.findall(r'data-testid="recovery-code">([a-z2-7]+)<', response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    client.post(reverse("logout"))
    _sign_in(client, "alice")
    assert client.post(reverse("two_factor_verify"), {"code": old[0]}).status_code == 400
    _seconds_pass()
    assert client.post(reverse("two_factor_verify"), {"code": new[0]}).status_code == 302


def test_turning_it_off_needs_a_code(enrolled, client, alice):
    secret, _ = enrolled
    client.force_login(alice)
    assert client.post(reverse("two_factor_disable"), {"code": "000000"}).status_code == 400
    assert TOTPDevice.objects.filter(user=alice).exists()
    _seconds_pass()
    response = client.post(reverse("two_factor_disable"), {"code": totp(secret, 1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    client.post(reverse("logout"))
    assert _sign_in(client, "alice")["Location"] == reverse("home")


# --- required by the workspace ----------------------------------------------------------------


def _require(cast, on=True):
    response = cast.client("admin").post(
        reverse("workspace_sign_in", args=[cast.workspace.slug]),
        {"require_two_factor": "on" if on else "", "sso_default_role": Role.STAKEHOLDER},
    )
    assert response.status_code == 302
    cast.workspace.refresh_from_db()


def test_a_required_workspace_sends_members_without_it_to_set_it_up(cast, client):
    _require(cast)
    assert cast.workspace.require_two_factor

    response = _sign_in(client, "engineer", next_url=f"/p/{cast.product.key}/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))
    # Every page sends them back to the set-up page until they have done it.
    for url in (reverse("home"), f"/p/{cast.product.key}/", reverse("notification_list")):
        page = client.get(url)
        assert page.status_code == 302 and page["Location"] == reverse("two_factor_setup")
    htmx = client.get(reverse("home"), headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == reverse("two_factor_setup")
    setup = client.get(reverse("two_factor_setup"))
    assert "Acme requires two-factor sign-in." in setup.content.decode()

    secret, codes = _enrol(client)

    assert len(codes) == 10
    assert client.get(f"/p/{cast.product.key}/").status_code == 200
    # …and it cannot be turned off while the workspace requires it.
    refused = client.post(reverse("two_factor_disable"), {"code": totp(secret, 1)})
    assert refused.status_code == 400
    assert "cannot be turned off" in alert_text(refused.content)


def test_members_page_shows_who_has_it(cast):
    _require(cast)
    cast.client("pm").get(reverse("home"))  # a session from before: not asked again mid-session
    page = cast.client("admin").get(reverse("members", args=[cast.workspace.slug]))
    assert page.content.decode().count('data-testid="no-two-factor"') == 4


def test_members_of_other_workspaces_are_not_asked(cast, client):
    other = WorkspaceFactory(require_two_factor=True)
    MembershipFactory(workspace=other, user__username="elsewhere")
    assert _sign_in(client, "stakeholder")["Location"] == reverse("home")
    client.post(reverse("logout"))
    assert _sign_in(client, "elsewhere")["Location"].startswith(reverse("two_factor_setup"))


def test_a_bad_domain_is_a_form_error(cast):
    response = cast.client("admin").post(
        reverse("workspace_sign_in", args=[cast.workspace.slug]),
        {"sso_email_domains": "example.com, not a domain\x00", "sso_default_role": "pm"},
    )
    assert response.status_code == 400
    response = cast.client("admin").post(
        reverse("workspace_sign_in", args=[cast.workspace.slug]),
        {"sso_email_domains": "Example.com; @acme.io", "sso_default_role": "engineer"},
    )
    assert response.status_code == 302
    cast.workspace.refresh_from_db()
    assert cast.workspace.sso_email_domains == ["example.com", "acme.io"]
    assert cast.workspace.sso_default_role == "engineer"


@pytest.mark.parametrize("workspaces", [1, 8])
def test_two_factor_pages_query_count(db, client, django_assert_max_num_queries, workspaces):
    user = UserFactory(username="many")
    for _ in range(workspaces):
        MembershipFactory(user=user, workspace__require_two_factor=True)
    client.force_login(user)
    _enrol(client)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("two_factor"))
    assert "10 unused" in page.content.decode()
    with django_assert_max_num_queries(8):
        page = client.get(reverse("two_factor_setup"), follow=False)
    assert page.status_code == 302
