"""The leak test: every internal field holds a sentinel, and the sentinel must appear nowhere a
share-link holder or a stakeholder can look."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from roadmap import services
from roadmap.choices import Horizon, Visibility
from tests.backlog.factories import FeatureFactory
from tests.roadmap.factories import InitiativeFactory, ReleaseFactory, make_share_link

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-c0ffee"
COST = Decimal("987654.32")  # numbers cannot hold the sentinel: look for their digits
REVENUE = Decimal("876543.21")


@pytest.fixture
def roadmap_with_secrets(cast, django_capture_on_commit_callbacks):
    """Public items with internal fields filled, and internal items, all marked."""
    feature = FeatureFactory(
        product=cast.product,
        title=f"Feature {SENTINEL} title",
        description=f"Feature {SENTINEL} description",
        cost=COST,
        expected_revenue=REVENUE,
        roi_horizon_months=18,
    )
    public = InitiativeFactory(
        product=cast.product,
        title="Public initiative",
        description="What everyone may read.",
        internal_notes=f"Notes {SENTINEL} on the public initiative",
        horizon=Horizon.NOW,
    )
    public.features.set([feature])
    internal = InitiativeFactory(
        product=cast.product,
        title=f"Internal {SENTINEL} initiative",
        description=f"Internal {SENTINEL} description",
        internal_notes=f"Internal {SENTINEL} notes",
        visibility=Visibility.INTERNAL,
        horizon=Horizon.NEXT,
    )
    release = ReleaseFactory(
        product=cast.product,
        name="Public release",
        notes="Public release notes.",
        internal_notes=f"Release {SENTINEL} internal notes",
    )
    release.features.set([feature])
    ReleaseFactory(
        product=cast.product,
        name=f"Internal {SENTINEL} release",
        notes=f"Internal release {SENTINEL} notes",
        visibility=Visibility.INTERNAL,
    )
    # History that only the team may see: internal edits land in the activity log too.
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_update(
            initiative=internal,
            data={"horizon": Horizon.NOW, "title": f"Internal {SENTINEL} renamed"},
            expected_version=1,
            actor=cast.pm,
        )
        services.initiative_update(
            initiative=public,
            data={"internal_notes": f"Edited {SENTINEL} notes", "horizon": Horizon.NEXT},
            expected_version=1,
            actor=cast.pm,
        )
    return {"public": public, "internal": internal}


def _assert_clean(text: str, where: str) -> None:
    assert SENTINEL not in text, f"{where} leaks an internal field"
    assert "987654" not in text and "876543" not in text, f"{where} leaks cost or ROI inputs"


def test_the_public_page_and_json_hold_no_internal_field(cast, roadmap_with_secrets):
    _link, token = make_share_link(cast.product, cast.pm)
    page = Client().get(reverse("share_roadmap", args=[token]))
    data = Client().get(reverse("api_public_roadmap", args=[token]))
    assert page.status_code == data.status_code == 200
    html, body = page.content.decode(), data.content.decode()
    # The public items are there (so the test would notice an empty page)...
    assert "Public initiative" in html and "Public release" in html
    assert "Public initiative" in body and "Public release" in body
    assert "moved from Now to Next" in body
    # ...and nothing internal is.
    _assert_clean(html, "The share page")
    _assert_clean(body, "The public JSON")


PAGES = ["roadmap", "roadmap_board", "roadmap_changes", "releases"]


@pytest.mark.parametrize("name", PAGES)
def test_a_stakeholder_sees_no_internal_field(cast, roadmap_with_secrets, name):
    response = cast.client("stakeholder").get(reverse(name, args=[cast.product.key]))
    assert response.status_code == 200
    html = response.content.decode()
    if name != "roadmap_changes":
        assert "Public initiative" in html or "Public release" in html
    _assert_clean(html, f"The stakeholder's {name} page")


def test_a_stakeholder_sees_the_public_initiative_but_not_the_internal_one(
    cast, roadmap_with_secrets
):
    client = cast.client("stakeholder")
    public, internal = roadmap_with_secrets["public"], roadmap_with_secrets["internal"]
    response = client.get(reverse("initiative_detail", args=[cast.product.key, public.pk]))
    assert response.status_code == 200
    assert "What everyone may read." in response.content.decode()
    _assert_clean(response.content.decode(), "The stakeholder's initiative page")
    hidden = client.get(reverse("initiative_detail", args=[cast.product.key, internal.pk]))
    assert hidden.status_code == 404


def test_the_team_does_see_the_internal_fields(cast, roadmap_with_secrets):
    """The other side of the leak test: the sentinel is really in what the pages could show."""
    client = cast.client("engineer")
    html = client.get(reverse("roadmap", args=[cast.product.key])).content.decode()
    assert SENTINEL in html  # the internal initiative's title
    public = roadmap_with_secrets["public"]
    detail = client.get(reverse("initiative_detail", args=[cast.product.key, public.pk]))
    assert f"Edited {SENTINEL} notes" in detail.content.decode()


def test_the_overview_glance_shows_a_stakeholder_no_internal_item(cast, roadmap_with_secrets):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from pm.permissions import get_product_for_user
    from roadmap import panels

    request = RequestFactory().get("/")
    request.user = cast.stakeholder
    product = get_product_for_user(cast.stakeholder, cast.product.key)
    html = render_to_string(
        "roadmap/panels/glance.html", {"panel": panels.glance(request, product)}
    )
    assert "Roadmap glance" in html
    _assert_clean(html, "The stakeholder's roadmap glance")
    # One public initiative (in Next after the move), the internal one not counted.
    assert 'data-testid="glance-now"><strong>0</strong>Now' in html
    assert 'data-testid="glance-next"><strong>1</strong>Next' in html
