"""Single sign-on without a provider: what the pages do when it is off, when it is on (the start
of the flow carries PKCE and a nonce), and when password sign-in is switched off. The whole flow
against a real provider is tests/browser/test_sso.py."""

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from pm import lockout
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sso_on(settings):
    settings.OIDC_RP_CLIENT_ID = "lodestar"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.example/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example/jwks"
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "pm.sso.OIDCBackend",
    ]
    return settings


def test_without_a_provider_there_is_no_button_and_the_routes_are_404(db, client):
    page = client.get(reverse("login")).content.decode()
    assert 'data-testid="sso-sign-in"' not in page
    assert client.get(reverse("sso_start")).status_code == 404
    assert client.get(reverse("sso_callback"), {"code": "x", "state": "y"}).status_code == 404


def test_the_button_starts_the_code_flow_with_pkce_and_a_nonce(db, client, sso_on):
    page = client.get(reverse("login"), {"next": "/notifications/"}).content.decode()
    assert 'data-testid="sso-sign-in"' in page
    assert "?next=/notifications/" in page

    response = client.get(reverse("sso_start"), {"next": "/notifications/"})

    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://idp.example/authorize"
    query = parse_qs(url.query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["lodestar"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["http://testserver/accounts/sso/callback/"]


def test_a_callback_with_a_state_that_is_not_ours_is_refused_and_counted(db, client, sso_on):
    client.get(reverse("sso_start"))
    response = client.get(reverse("sso_callback"), {"code": "c", "state": "forged"})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    page = client.get(reverse("login")).content.decode()
    assert "Single sign-on did not complete" in page
    assert "_auth_user_id" not in client.session


def test_callbacks_lock_out_after_repeated_refusals(db, client, sso_on, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.get(reverse("sso_callback"), {"code": "c", "state": "forged"})
    client.get(reverse("sso_callback"), {"code": "c", "state": "forged"})
    assert "Too many failed sign-in attempts" in client.get(reverse("login")).content.decode()


def test_the_provider_saying_no_is_a_refusal(db, client, sso_on):
    response = client.get(reverse("sso_callback"), {"error": "access_denied"})
    assert response["Location"] == reverse("login")
    assert "Single sign-on did not complete" in client.get(reverse("login")).content.decode()


def test_password_sign_in_switched_off(db, client, sso_on, settings):
    settings.PASSWORD_LOGIN = False
    UserFactory(username="alice")
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' not in page and "Forgot password?" not in page
    assert 'data-testid="sso-sign-in"' in page

    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})

    assert response.status_code == 403
    assert "Password sign-in is turned off" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("password_reset")).status_code == 404
    admin = client.post(reverse("admin_login"), {"username": "alice", "password": PASSWORD})
    assert admin.status_code == 302 and admin["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_the_password_lockout_is_unchanged_with_sso_on(db, client, sso_on, settings):
    UserFactory(username="alice")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert 'data-testid="sso-sign-in"' in response.content.decode()
    assert lockout.lockout_minutes() >= 1


def _settings_error(**env) -> str:
    code = "import django; django.setup()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "pm.settings",
            "SECRET_KEY": "x",
            "SITE_URL": "http://testserver",
            **env,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stderr


@pytest.mark.slow
def test_incomplete_configuration_fails_at_start_up():
    assert "needs OIDC_OP_AUTHORIZATION_ENDPOINT" in _settings_error(OIDC_RP_CLIENT_ID="x")
    assert "PASSWORD_LOGIN=0 leaves no way to sign in" in _settings_error(PASSWORD_LOGIN="0")
