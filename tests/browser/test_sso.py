"""Single sign-on against a real OpenID Connect provider started here: django-oauth-toolkit in a
second Django process (tests/oidc_provider), OIDC on, RS256 with a key generated for the run,
PKCE required. Chromium goes through the whole authorization code flow: Lodestar's button, the
provider's sign-in form, the provider's redirect back with a code, the code exchanged (with the
PKCE verifier) for tokens whose signature, nonce, issuer and audience Lodestar checks.

Also refused: an ID token minted for another application (wrong audience), a disabled Lodestar
account, and someone whose e-mail domain no workspace accepts. Password sign-in can be off."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from playwright.sync_api import expect

from pm.choices import Role
from pm.models import Membership, SsoIdentity
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "lodestar-test"
CLIENT_SECRET = "provider-client-secret-for-tests"
IDP_PASSWORD = "idp-password-42"

# People at the provider: (username, e-mail, first name, last name).
PEOPLE = [
    ("ada", "ada@acme.example", "Ada", "Lovelace"),
    ("mallory", "mallory@acme.example", "Mallory", "Other"),
    ("dora", "dora@acme.example", "Dora", "Disabled"),
    ("olaf", "olaf@elsewhere.example", "Olaf", "Outside"),
]

SETUP = """
from django.contrib.auth.models import User
from oauth2_provider.models import Application
for username, email, first, last in {people!r}:
    User.objects.create_user(username, email=email, password={password!r},
                             first_name=first, last_name=last)
Application.objects.create(
    name="Lodestar", client_id={client_id!r}, client_secret={secret!r},
    client_type="confidential", authorization_grant_type="authorization-code",
    redirect_uris={redirect!r}, algorithm="RS256", skip_authorization=True,
)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rsa_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    """The identity provider, running; yields its base URL and database path."""
    work = tmp_path_factory.mktemp("oidc-provider")
    db = work / "provider.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "PROVIDER_DB": str(db),
        "PROVIDER_RSA_KEY": _rsa_key_pem(),
        "PYTHONPATH": str(ROOT),
    }
    django = [sys.executable, "-m", "django"]
    subprocess.run([*django, "migrate", "-v0"], env=env, cwd=ROOT, check=True, timeout=300)
    setup = SETUP.format(
        people=PEOPLE,
        password=IDP_PASSWORD,
        client_id=CLIENT_ID,
        secret=CLIENT_SECRET,
        redirect=f"{live_server.url}/accounts/sso/callback/",
    )
    subprocess.run([*django, "shell", "-c", setup], env=env, cwd=ROOT, check=True, timeout=120)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (work / "provider.log").open("w")
    server = subprocess.Popen(
        [*django, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        discovery = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(  # noqa: S310 - our own provider on loopback
                    f"{base}/o/.well-known/openid-configuration", timeout=2
                ) as answer:
                    discovery = json.load(answer)
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        assert discovery, (work / "provider.log").read_text()[-3000:]
        yield {"base": base, "db": db, "discovery": discovery, "log": work / "provider.log"}
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture
def sso_settings(settings, provider):
    """Lodestar configured as the README says, from the provider's discovery document."""
    d = provider["discovery"]
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_ISSUER = d["issuer"]
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = d["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = d["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = d["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = d["jwks_uri"]
    settings.OIDC_TIMEOUT = 60  # a busy test machine; the default is 10 s
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "pm.sso.OIDCBackend",
    ]
    return settings


def _sso_sign_in(page, username: str, next_url: str = "") -> None:
    if not hasattr(page, "requested"):
        page.set_default_timeout(60_000)  # two servers and Chromium on a busy machine
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
    page.goto(f"/accounts/login/{'?next=' + next_url if next_url else ''}")
    page.get_by_test_id("sso-sign-in").click()
    page.wait_for_selector("#idp-username")  # the provider's own sign-in page
    page.fill("#idp-username", username)
    page.fill("#idp-password", IDP_PASSWORD)
    page.click("#idp-submit")
    page.wait_for_load_state("networkidle")


def AUTHORIZE(provider) -> str:
    return provider["discovery"]["authorization_endpoint"]


def test_first_sign_in_through_the_provider_joins_by_domain_with_pkce(
    page, cast, sso_settings, provider, screenshot_dir, live_server
):
    cast.workspace.sso_email_domains = ["acme.example"]
    cast.workspace.sso_default_role = Role.ENGINEER
    cast.workspace.save()

    page.set_default_timeout(60_000)
    page.goto("/accounts/login/")
    expect(page.get_by_test_id("sso-sign-in")).to_be_visible()
    page.screenshot(path=screenshot_dir / "sso-sign-in.png", full_page=True)
    _sso_sign_in(page, "ada", next_url=f"/p/{cast.product.key}/")

    assert page.url == f"{live_server.url}/p/{cast.product.key}/", page.url
    expect(page.locator("[data-testid=user-menu]")).to_contain_text("Ada Lovelace")
    identity = SsoIdentity.objects.select_related("user").get()
    assert identity.issuer == provider["discovery"]["issuer"]
    assert identity.user.email == "ada@acme.example"
    assert not identity.user.has_usable_password()
    membership = Membership.objects.get(user=identity.user)
    assert (membership.workspace, membership.role) == (cast.workspace, Role.ENGINEER)
    # The browser went to the provider with a PKCE challenge (S256) and a nonce; the provider
    # requires PKCE, so the code could only be exchanged with the verifier Lodestar kept.
    [authorize] = [u for u in page.requested if u.startswith(AUTHORIZE(provider))][:1]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["nonce"] and query["client_id"] == [CLIENT_ID]
    page.console_errors.clear()  # the test provider's pages have no favicon; Lodestar's do
    page.reload()
    assert page.console_errors == []

    # Signing in again finds the same account by the provider's subject; no second membership.
    page.context.clear_cookies()
    _sso_sign_in(page, "ada")
    assert page.url == f"{live_server.url}/"
    assert (
        SsoIdentity.objects.count() == 1
        and Membership.objects.filter(user=identity.user).count() == 1
    )


def test_an_existing_account_with_the_same_e_mail_is_linked(page, cast, sso_settings):
    cast.pm.email = "ada@acme.example"
    cast.pm.save()
    _sso_sign_in(page, "ada")
    expect(page.locator("[data-testid=user-menu]")).to_be_visible()
    assert SsoIdentity.objects.get().user == cast.pm
    assert Membership.objects.filter(user=cast.pm).count() == 1  # no domain configured


def test_a_token_for_another_audience_is_refused(page, cast, sso_settings, screenshot_dir):
    cast.workspace.sso_email_domains = ["acme.example"]
    cast.workspace.save()
    _sso_sign_in(page, "mallory")
    expect(page.get_by_test_id("sso-error")).to_contain_text("issued for another application")
    page.screenshot(path=screenshot_dir / "sso-refused.png", full_page=True)
    assert "/accounts/login/" in page.url
    assert not SsoIdentity.objects.exists()
    page.goto("/")
    assert "/accounts/login/" in page.url  # not signed in


def test_a_disabled_account_is_refused(page, cast, sso_settings):
    dora = UserFactory(username="dora", email="dora@acme.example", is_active=False)
    MembershipFactory(workspace=cast.workspace, user=dora, role=Role.PM)
    _sso_sign_in(page, "dora")
    expect(page.get_by_test_id("sso-error")).to_contain_text("This account is disabled")
    page.goto("/")
    assert "/accounts/login/" in page.url


def test_disabling_an_account_ends_its_single_sign_on_sessions(page, cast, sso_settings):
    cast.workspace.sso_email_domains = ["acme.example"]
    cast.workspace.save()
    _sso_sign_in(page, "ada")
    user = SsoIdentity.objects.get().user
    user.is_active = False
    user.save()
    page.goto("/")
    assert "/accounts/login/" in page.url


def test_nobody_joins_without_a_workspace_for_their_domain(page, cast, sso_settings):
    cast.workspace.sso_email_domains = ["acme.example"]
    cast.workspace.save()
    _sso_sign_in(page, "olaf")
    expect(page.get_by_test_id("sso-error")).to_contain_text("No workspace here accepts")
    assert not SsoIdentity.objects.exists()


def test_password_sign_in_can_be_switched_off(page, cast, sso_settings, screenshot_dir):
    sso_settings.PASSWORD_LOGIN = False
    cast.workspace.sso_email_domains = ["acme.example"]
    cast.workspace.save()
    page.set_default_timeout(60_000)
    page.goto("/accounts/login/")
    expect(page.get_by_test_id("sso-sign-in")).to_be_visible()
    expect(page.locator("#id_password")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "sso-only-sign-in.png", full_page=True)
    _sso_sign_in(page, "ada")
    expect(page.locator("[data-testid=user-menu]")).to_be_visible()
