"""Password reset by e-mail (an expiring, single-use link) and password change when signed in."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.pm.helpers import field_errors

NEW = "a-brand-new-passphrase-42"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", email="alice@example.com")


def _reset_link(client, mailoutbox, settings, email="alice@example.com") -> str:
    response = client.post(reverse("password_reset"), {"email": email})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    [message] = mailoutbox
    assert message.to == [email]
    assert message.subject == "Reset your Lodestar password"
    [link] = re.findall(rf"{re.escape(settings.SITE_URL)}/accounts/reset/\S+/", message.body)
    return link.removeprefix(settings.SITE_URL)


def _sign_in(password: str) -> int:
    return Client().post(reverse("login"), {"username": "alice", "password": password}).status_code


def test_the_sign_in_page_links_to_password_reset(db, client):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}">Forgot password?</a>' in page
    assert client.get(reverse("password_reset")).status_code == 200


def test_reset_by_email_round_trip(alice, client, mailoutbox, settings):
    settings.SITE_URL = "https://lodestar.example.org"
    link = _reset_link(client, mailoutbox, settings)
    assert "expires in 1 hour" in mailoutbox[0].body

    form = client.get(link, follow=True)  # Django swaps the token into the session
    assert form.status_code == 200
    assert b"<h1>Choose a new password" in form.content
    set_url = form.redirect_chain[-1][0]

    mismatch = client.post(set_url, {"new_password1": NEW, "new_password2": NEW + "x"})
    assert mismatch.status_code == 200
    assert field_errors(mismatch.content, "new_password2")

    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    assert b"Your password was changed" in client.get(done["Location"]).content

    assert _sign_in(NEW) == 302
    assert _sign_in(PASSWORD) == 200  # the old password no longer works

    again = Client().get(link, follow=True)  # the link is used up
    assert b"expired or was already used" in again.content
    assert b"<h1>Choose a new password" not in again.content


def test_an_expired_link_is_refused(alice, client, mailoutbox, settings):
    link = _reset_link(client, mailoutbox, settings)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is now older than its lifetime
    page = client.get(link, follow=True)
    assert b"expired or was already used" in page.content
    assert _sign_in(PASSWORD) == 302


def test_an_unknown_address_gets_the_same_answer_and_no_mail(alice, client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_a_malformed_address_is_a_field_error(db, client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "not an address"})
    assert response.status_code == 200
    assert field_errors(response.content, "email")
    assert mailoutbox == []


def test_the_link_uses_site_url_not_the_host_header(alice, client, mailoutbox, settings):
    settings.SITE_URL = "https://lodestar.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    client.post(reverse("password_reset"), {"email": "alice@example.com"}, HTTP_HOST="evil.test")
    assert "evil.test" not in mailoutbox[0].body
    assert "https://lodestar.example.org/accounts/reset/" in mailoutbox[0].body


# --- change -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_for_password_change(db, client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.post(reverse("password_change"), {}).status_code == 302


def test_change_password_when_signed_in_signs_out_other_sessions(alice):
    here, elsewhere = Client(), Client()
    here.force_login(alice)
    elsewhere.force_login(alice)
    page = here.get(reverse("password_change"))
    assert page.status_code == 200
    assert reverse("password_change") in here.get(reverse("home")).content.decode()  # user menu

    wrong = here.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
    )
    assert wrong.status_code == 200
    assert field_errors(wrong.content, "old_password")

    done = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == reverse("home")
    assert SESSION_KEY in here.session  # this session stays signed in
    assert elsewhere.get(reverse("home")).status_code == 302  # the other one is signed out
    assert _sign_in(NEW) == 302


def test_reset_emails_are_limited_per_address_with_the_same_answer(alice, client, mailoutbox):
    statuses = [
        client.post(
            reverse("password_reset"), {"email": "alice@example.com"}, REMOTE_ADDR=f"192.0.2.{n}"
        )
        for n in range(5)
    ]
    assert {(r.status_code, r["Location"]) for r in statuses} == {
        (302, reverse("password_reset_done"))
    }
    assert len(mailoutbox) == 3  # PASSWORD_RESET_PER_HOUR, whichever address asks


def test_one_client_address_cannot_spray_the_reset_form(db, client, mailoutbox):
    for n in range(16):
        UserFactory(username=f"user{n}", email=f"user{n}@example.com")
        client.post(reverse("password_reset"), {"email": f"user{n}@example.com"})
    assert len(mailoutbox) == 15  # five times the per-address limit, from one address
