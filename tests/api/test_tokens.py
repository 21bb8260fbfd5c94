"""Personal access tokens: created on the settings page (shown once, stored hashed), used with
`Authorization: Token <key>`, listed with their last use, refused once expired or revoked;
read tokens cannot write; `manage.py create_token` prints one for scripts and CI."""

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from pm.api.tokens import api_token_create
from pm.models import ApiToken
from tests.api.conftest import token_client

HX = {"HX-Request": "true"}
KEY = re.compile(r"lod_[A-Za-z0-9_-]{43}")


def _bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _create_on_page(client, **data) -> tuple[str, str]:
    data = {"name": "CI", "scope": "read-write", "expires": "90", **data}
    response = client.post(reverse("api_tokens"), data, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    keys = KEY.findall(html)
    return (keys[0] if keys else ""), html


def test_an_engineer_creates_a_token_that_is_shown_once_and_stored_hashed(cast):
    client = cast.client("engineer")
    key, html = _create_on_page(client, name="Laptop")
    assert key, "the new key is shown"
    assert "shown only this once" in html
    token = ApiToken.objects.get(user=cast.engineer)
    assert token.name == "Laptop" and token.scope == "read-write"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12]
    # Nothing stored is the key itself.
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(isinstance(v, str) and key in v for v in row.values())
    # Reloading the page lists the token by its prefix, never the key again.
    page = client.get(reverse("api_tokens")).content.decode()
    assert "Laptop" in page and token.prefix in page
    assert key not in page and not KEY.search(page)


def test_a_new_token_works_and_its_last_use_is_listed(cast):
    client = cast.client("engineer")
    key, _ = _create_on_page(client)
    assert "never used" in client.get(reverse("api_tokens")).content.decode()
    response = _bearer(key).get("/api/v1/products/")
    assert response.status_code == 200
    assert [p["key"] for p in response.json()["results"]] == ["LOD"]
    token = ApiToken.objects.get(user=cast.engineer)
    assert token.last_used_at is not None
    assert "last used" in client.get(reverse("api_tokens")).content.decode()


def test_last_use_is_written_at_most_once_a_minute(cast):
    token, key = api_token_create(user=cast.engineer, name="CI", actor=cast.engineer)
    client = _bearer(key)

    def token_updates() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/products/").status_code == 200
        return sum(
            q["sql"].startswith("UPDATE") and ApiToken._meta.db_table in q["sql"] for q in queries
        )

    assert token_updates() == 1  # first use
    assert token_updates() == 0  # a second later: no write
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    assert token_updates() == 1


def test_an_expired_token_is_refused(cast):
    token, key = api_token_create(
        user=cast.engineer,
        name="Short",
        expires_at=timezone.now() + timedelta(days=1),
        actor=cast.engineer,
    )
    assert _bearer(key).get("/api/v1/products/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _bearer(key).get("/api/v1/products/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, expired or revoked token."}
    assert "expired" in cast.client("engineer").get(reverse("api_tokens")).content.decode()


def test_the_expiry_choice_sets_the_expiry(cast):
    client = cast.client("engineer")
    _create_on_page(client, name="Month", expires="30")
    _create_on_page(client, name="Forever", expires="never")
    month = ApiToken.objects.get(name="Month")
    assert abs(month.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert ApiToken.objects.get(name="Forever").expires_at is None


def test_a_revoked_token_stops_working_at_once(cast):
    client = cast.client("engineer")
    key, _ = _create_on_page(client)
    token = ApiToken.objects.get(user=cast.engineer)
    assert _bearer(key).get("/api/v1/products/").status_code == 200
    response = client.post(reverse("api_token_revoke", args=[token.pk]), headers=HX)
    assert response.status_code == 200
    assert "revoked" in response.content.decode()
    assert "toast" in response["HX-Trigger"]
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = _bearer(key).get("/api/v1/products/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_nobody_can_revoke_someone_elses_token(cast):
    token, key = api_token_create(user=cast.engineer, name="CI", actor=cast.engineer)
    response = cast.client("admin").post(reverse("api_token_revoke", args=[token.pk]), headers=HX)
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert _bearer(key).get("/api/v1/products/").status_code == 200


def test_the_page_lists_only_your_own_tokens(cast):
    api_token_create(user=cast.pm, name="PM laptop", actor=cast.pm)
    api_token_create(user=cast.engineer, name="Engineer CI", actor=cast.engineer)
    html = cast.client("engineer").get(reverse("api_tokens")).content.decode()
    assert "Engineer CI" in html and "PM laptop" not in html


def test_a_token_needs_a_name(cast):
    client = cast.client("engineer")
    key, html = _create_on_page(client, name="   ")
    assert not key
    assert 'id="id_name_errors"' in html
    assert not ApiToken.objects.exists()


def test_a_read_token_can_read_but_not_write(cast, backlog):
    client = token_client(cast.engineer, scope="read")
    url = f"/api/v1/stories/{backlog.stories[0].key}/"
    assert client.get(url).status_code == 200
    response = client.patch(url, {"status": "done"}, format="json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    backlog.stories[0].refresh_from_db()
    assert backlog.stories[0].status == "ready"
    assert token_client(cast.engineer).patch(url, {"status": "done"}).status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Token", "Token lod_nope", "Token a b", "token lod_" + "x" * 43, "Token \u00e9\u00e9"],
)
def test_bad_or_unknown_tokens_get_401(cast, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/products/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"detail"}


def test_no_credentials_get_401_with_a_token_challenge(cast):
    response = APIClient().get("/api/v1/stories/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_tokens_of_a_deactivated_user_stop_working(cast):
    _token, key = api_token_create(user=cast.engineer, name="CI", actor=cast.engineer)
    cast.engineer.is_active = False
    cast.engineer.save()
    assert _bearer(key).get("/api/v1/products/").status_code == 401


def test_create_token_prints_a_working_token(cast):
    out, err = StringIO(), StringIO()
    call_command("create_token", "engineer", "--name", "CI", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert KEY.fullmatch(key)
    token = ApiToken.objects.get(user=cast.engineer, name="CI")
    assert token.scope == "read" and token.expires_at is None
    assert "cannot be shown again" in err.getvalue()
    assert _bearer(key).get("/api/v1/products/").status_code == 200


def test_create_token_takes_a_scope_and_expiry(cast):
    out = StringIO()
    call_command(
        "create_token",
        "pm",
        "--scope",
        "read-write",
        "--expires-in-days",
        "7",
        stdout=out,
        stderr=StringIO(),
    )
    token = ApiToken.objects.get(user=cast.pm)
    assert token.scope == "read-write"
    assert token.expires_at > timezone.now() + timedelta(days=6)
    response = _bearer(out.getvalue().strip()).post(
        "/api/v1/ideas/", {"product": "LOD", "title": "From CI"}, format="json"
    )
    assert response.status_code == 201


def test_create_token_refuses_an_unknown_user(cast):
    with pytest.raises(CommandError, match="No user called 'nobody'"):
        call_command("create_token", "nobody", stdout=StringIO(), stderr=StringIO())


def test_the_user_menu_links_to_the_tokens_page(cast):
    html = cast.client("stakeholder").get(reverse("home")).content.decode()
    assert f'href="{reverse("api_tokens")}"' in html
