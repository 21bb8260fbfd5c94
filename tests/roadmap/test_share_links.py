"""Share links: create (token shown once, only a hash stored), use (last_used_at), expire,
revoke → 404; the public page and its JSON; changes show without waiting for the cache."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pm.models import ActivityLog
from roadmap import services
from roadmap.choices import Horizon, Visibility
from roadmap.models import ShareLink
from tests.roadmap.factories import InitiativeFactory, ReleaseFactory, make_share_link

pytestmark = pytest.mark.django_db


def _page(token):
    return Client().get(reverse("share_roadmap", args=[token]))


def _json(token):
    return Client().get(reverse("api_public_roadmap", args=[token]))


def test_a_pm_creates_a_link_and_sees_its_url_once(cast):
    client = cast.client("pm")
    response = client.post(
        reverse("share_links", args=[cast.product.key]),
        {"label": "Board", "expires_on": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    link = ShareLink.objects.get(product=cast.product)
    html = response.content.decode()
    url = html.split('data-testid="new-link-url"')[0].rsplit('value="', 1)[1].split('"')[0]
    token = url.rstrip("/").rsplit("/", 1)[1]
    # At least 128 bits from secrets (32 bytes, URL-safe base64 → 43 characters).
    assert len(token) >= 43
    assert link.token_hash == ShareLink.hash_token(token)
    assert token not in link.token_hash and token not in str(link.__dict__)
    assert "Board" in html
    # The list does not show the token again, only its first characters.
    listing = client.get(reverse("share_links", args=[cast.product.key])).content.decode()
    assert token not in listing
    assert token[:6] in listing
    assert _page(token).status_code == 200


def test_a_label_is_required_and_the_error_shows_beside_the_field(cast):
    response = cast.client("admin").post(
        reverse("share_links", args=[cast.product.key]),
        {"label": " "},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ShareLink.objects.exists()


def test_an_expiry_in_the_past_is_refused(cast):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = cast.client("pm").post(
        reverse("share_links", args=[cast.product.key]),
        {"label": "Old", "expires_on": yesterday.isoformat()},
        headers={"HX-Request": "true"},
    )
    assert "Choose today or a later day" in response.content.decode()
    assert not ShareLink.objects.exists()


def test_using_a_link_records_when_it_was_last_used(cast):
    link, token = make_share_link(cast.product, cast.pm)
    assert link.last_used_at is None
    assert _page(token).status_code == 200
    link.refresh_from_db()
    first_use = link.last_used_at
    assert first_use is not None and timezone.now() - first_use < timedelta(seconds=10)
    # Within the minute, further hits do not write again.
    assert _json(token).status_code == 200
    link.refresh_from_db()
    assert link.last_used_at == first_use
    listing = cast.client("pm").get(reverse("share_links", args=[cast.product.key]))
    assert "Never" not in listing.content.decode().split('data-testid="last-used"')[1][:80]


def test_an_expired_link_gets_404(cast):
    link, token = make_share_link(
        cast.product, cast.pm, expires_at=timezone.now() + timedelta(hours=1)
    )
    assert _page(token).status_code == 200  # the page is now cached
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _page(token).status_code == 404
    assert _json(token).status_code == 404


def test_a_cached_link_expires_on_time(cast, monkeypatch):
    link, token = make_share_link(
        cast.product, cast.pm, expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert _page(token).status_code == 200
    later = timezone.now() + timedelta(minutes=6)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert _page(token).status_code == 404


def test_a_revoked_link_gets_404_at_once_even_after_it_was_cached(
    cast, django_capture_on_commit_callbacks
):
    link, token = make_share_link(cast.product, cast.pm)
    assert _page(token).status_code == 200
    assert _json(token).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("pm").post(
            reverse("share_link_revoke", args=[cast.product.key, link.pk]),
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200
    assert "Revoked" in response.content.decode()
    assert _page(token).status_code == 404
    assert _json(token).status_code == 404
    assert (
        ActivityLog.objects.filter(object_type="roadmap.sharelink", object_id=link.pk).count() == 2
    )


def test_wrong_tokens_get_404(cast):
    make_share_link(cast.product, cast.pm)
    for token in ["nope", "x" * 43, "a" * 500]:
        assert _page(token).status_code == 404
        assert _json(token).status_code == 404


def test_a_link_shows_only_its_own_product(cast):
    other = InitiativeFactory(title="Another product's plan")
    InitiativeFactory(product=cast.product, title="Our plan")
    _link, token = make_share_link(cast.product, cast.pm)
    html = _page(token).content.decode()
    assert "Our plan" in html
    assert other.title not in html


def test_the_public_page_needs_no_sign_in_and_sets_no_cookie(cast):
    InitiativeFactory(product=cast.product, title="Public plan", horizon=Horizon.NOW)
    ReleaseFactory(product=cast.product, name="Spring release", notes="Faster *boards*.")
    _link, token = make_share_link(cast.product, cast.pm)
    response = _page(token)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Public plan" in html and "Spring release" in html
    assert "<em>boards</em>" in html
    assert not response.cookies
    assert "noindex" in response["X-Robots-Tag"]
    cache_control = {d.strip() for d in response["Cache-Control"].split(",")}
    assert cache_control == {"private", "no-cache"}
    assert response["ETag"].startswith('W/"')


def test_the_json_has_the_same_public_items(cast):
    InitiativeFactory(product=cast.product, title="Public plan", horizon=Horizon.NOW)
    InitiativeFactory(product=cast.product, title="Secret", visibility=Visibility.INTERNAL)
    ReleaseFactory(product=cast.product, name="Spring release")
    _link, token = make_share_link(cast.product, cast.pm)
    data = _json(token).json()
    assert data["product"] == {"key": "LOD", "name": "Lodestar Cloud"}
    assert [i["title"] for i in data["initiatives"]] == ["Public plan"]
    assert set(data["initiatives"][0]) == {
        "id",
        "title",
        "description",
        "theme",
        "status",
        "status_label",
        "horizon",
        "horizon_label",
        "start",
        "start_precision",
        "end",
        "end_precision",
        "timeframe",
        "confidence",
    }
    assert data["initiatives"][0]["timeframe"] == "2027 Q1 – 2027 Q2"
    assert [r["name"] for r in data["releases"]] == ["Spring release"]
    assert set(data["releases"][0]) == {"id", "name", "target_date", "shipped_date", "notes"}


def test_a_change_shows_on_the_public_page_without_waiting_for_the_cache(
    cast, django_capture_on_commit_callbacks
):
    initiative = InitiativeFactory(product=cast.product, title="Before")
    _link, token = make_share_link(cast.product, cast.pm)
    assert "Before" in _page(token).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_update(
            initiative=initiative, data={"title": "After"}, expected_version=1, actor=cast.pm
        )
    html = _page(token).content.decode()
    assert "After" in html and "Before" not in html
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_update(
            initiative=initiative,
            data={"visibility": Visibility.INTERNAL},
            expected_version=2,
            actor=cast.pm,
        )
    assert "After" not in _page(token).content.decode()
    assert _json(token).json()["initiatives"] == []


def test_a_change_made_elsewhere_shows_within_a_minute(cast):
    """A theme renamed on the Strategy page does not tell the roadmap: the cached copies live
    at most a minute in the shared cache (and processes re-check the stamp on every hit)."""
    from django.core.cache import cache

    _link, token = make_share_link(cast.product, cast.pm)
    assert _page(token).status_code == 200
    keys = [
        services.public_stamp_key(cast.product.pk),
        services.public_cache_key(cast.product.pk),
    ]
    client = cache._cache.get_client(write=False)
    for key in keys:
        ttl = client.ttl(cache.make_and_validate_key(key))
        assert 0 < ttl <= 60, (key, ttl)
    # Once the stamp is gone (expired or dropped), the next hit rebuilds from the database.
    from pm.models import StrategicTheme

    theme = StrategicTheme.objects.create(product=cast.product, name="Old name")
    InitiativeFactory(product=cast.product, theme=theme)
    StrategicTheme.objects.filter(pk=theme.pk).update(name="New name")
    cache.delete(services.public_stamp_key(cast.product.pk))
    html = _page(token).content.decode()
    assert "New name" in html and "Old name" not in html


def test_browsers_get_the_page_and_json_gzipped(cast):
    import gzip

    InitiativeFactory(product=cast.product, title="Compressed plan")
    _link, token = make_share_link(cast.product, cast.pm)
    for url in (
        reverse("share_roadmap", args=[token]),
        reverse("api_public_roadmap", args=[token]),
    ):
        plain = Client().get(url)
        packed = Client().get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed["Vary"]
        assert gzip.decompress(packed.content) == plain.content
        assert b"Compressed plan" in plain.content


@pytest.mark.parametrize("name", ["share_roadmap", "api_public_roadmap"])
def test_browsers_revalidate_304_while_unchanged_and_404_once_revoked(
    cast, name, django_capture_on_commit_callbacks, monkeypatch
):
    """`no-cache` + ETag: each visit asks again; an unchanged roadmap costs a bodyless 304 (also
    after its cache entry is rebuilt), a change a new ETag, a revocation a 404."""
    from django.core.cache import cache

    initiative = InitiativeFactory(product=cast.product, title="Before")
    link, token = make_share_link(cast.product, cast.pm)
    url = reverse(name, args=[token])
    first = Client().get(url)
    etag = first["ETag"]
    gzipped = Client().get(url, headers={"Accept-Encoding": "gzip"})
    assert gzipped["ETag"] == etag  # the same content, whichever encoding

    again = Client().get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert "no-cache" in again["Cache-Control"]
    # Strong or weak, in a list: matched weakly, as for any GET.
    listed = Client().get(url, headers={"If-None-Match": f'"nope", {etag.removeprefix("W/")}'})
    assert listed.status_code == 304

    # Minutes later the cached data expires and is read afresh: a new "Updated …" time, but the
    # same roadmap, so the same ETag.
    later = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr(timezone, "now", lambda: later)
    cache.delete(services.public_stamp_key(cast.product.pk))
    rebuilt = Client().get(url)
    assert rebuilt.content != first.content  # generated_at moved on
    assert rebuilt["ETag"] == etag
    assert Client().get(url, headers={"If-None-Match": etag}).status_code == 304

    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_update(
            initiative=initiative, data={"title": "After"}, expected_version=1, actor=cast.pm
        )
    changed = Client().get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert b"After" in changed.content
    assert changed["ETag"] != etag

    services.share_link_revoke(link=link, actor=cast.pm)
    revoked = Client().get(url, headers={"If-None-Match": changed["ETag"]})
    assert revoked.status_code == 404
    assert b"After" not in revoked.content


@pytest.mark.parametrize("name", ["share_roadmap", "api_public_roadmap"])
def test_the_public_page_keeps_its_own_cache_headers_for_signed_in_visitors(cast, name):
    """Signed-in responses are `private, no-store` (pm.middleware); the share page sets its own
    header, revalidation included, whoever opens it."""
    _link, token = make_share_link(cast.product, cast.pm)
    client = cast.client("stakeholder")
    response = client.get(reverse(name, args=[token]))
    assert response.status_code == 200
    assert {d.strip() for d in response["Cache-Control"].split(",")} == {"private", "no-cache"}
    again = client.get(reverse(name, args=[token]), headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    assert {d.strip() for d in again["Cache-Control"].split(",")} == {"private", "no-cache"}
