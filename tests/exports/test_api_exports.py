"""`GET /api/v1/<resource>/export/?format=…`: the whole list (its filters, the caller's
visibility) as a download, not paginated."""

import pytest
from django.urls import reverse

from tests.backlog.factories import FeatureFactory, IdeaFactory, StoryFactory
from tests.exports.helpers import body, rows
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory
from tests.metrics.factories import KPIFactory
from tests.roadmap.factories import InitiativeFactory, ReleaseFactory

FORMATS = ["csv", "json", "xlsx"]


def _seed(cast, n=2):
    for i in range(n):
        feature = FeatureFactory(product=cast.product, status="planned", title=f"F{i}")
        StoryFactory(
            feature=feature, acceptance_criteria=[{"text": "Given A then B", "done": True}]
        )
        IdeaFactory(product=cast.product, votes=i + 3)
        FeedbackItemFactory(
            product=cast.product, customer=CustomerFactory(workspace=cast.workspace)
        )
        InitiativeFactory(product=cast.product)
        ReleaseFactory(product=cast.product)
        KPIFactory(product=cast.product)


RESOURCES = ["story", "feature", "idea", "feedback", "initiative", "release", "kpi"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_exports_its_whole_list(cast, resource, fmt):
    _seed(cast)
    response = cast.client("pm").get(reverse(f"api-{resource}-export"), {"format": fmt})
    assert response.status_code == 200, body(response)[:300]
    assert "attachment" in response["Content-Disposition"]
    assert len(rows(response, fmt)) == 2


def test_the_list_filters_apply(cast):
    FeatureFactory(product=cast.product, status="planned", title="Wanted")
    FeatureFactory(product=cast.product, status="backlog", title="Other")
    response = cast.client("pm").get(
        reverse("api-feature-export"), {"format": "csv", "status": "planned"}
    )
    assert [r["title"] for r in rows(response, "csv")] == ["Wanted"]


def test_a_bad_filter_is_a_json_400(cast):
    response = cast.client("pm").get(
        reverse("api-feature-export"), {"format": "csv", "status": "nope"}
    )
    assert response.status_code == 400
    assert response.json()["status"]


def test_an_unknown_format_is_a_404_as_for_any_api_url(cast):
    response = cast.client("pm").get(reverse("api-feature-export"), {"format": "pdf"})
    assert response.status_code == 404


def test_the_accept_header_chooses_the_format(cast):
    FeatureFactory(product=cast.product, title="By header")
    response = cast.client("pm").get(reverse("api-feature-export"), headers={"Accept": "text/csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert rows(response, "csv")[0]["title"] == "By header"


def test_stories_carry_their_acceptance_criteria(cast):
    _seed(cast, 1)
    found = rows(cast.client("engineer").get(reverse("api-story-export"), {"format": "csv"}), "csv")
    assert "Given A then B" in found[0]["acceptance_criteria"]


def test_ideas_carry_their_votes(cast):
    IdeaFactory(product=cast.product, votes=17)
    found = rows(cast.client("pm").get(reverse("api-idea-export"), {"format": "json"}), "json")
    assert found[0]["votes"] == 17


def test_a_stakeholder_exports_no_internal_field_and_no_hidden_row(cast):
    FeatureFactory(product=cast.product, status="shipped", title="Out", cost=987654)
    FeatureFactory(product=cast.product, status="archived", title="SENTINEL-archived")
    FeedbackItemFactory(
        product=cast.product,
        content="visible",
        customer=CustomerFactory(workspace=cast.workspace, name="SENTINEL-customer"),
    )
    cast.share_with_stakeholders("feedback")
    client = cast.client("stakeholder")
    for resource in ("feature", "feedback"):
        for fmt in FORMATS:
            text = body(client.get(reverse(f"api-{resource}-export"), {"format": fmt}))
            if fmt != "xlsx":
                assert b"SENTINEL" not in text and b"987654" not in text, resource
    features = rows(client.get(reverse("api-feature-export"), {"format": "xlsx"}), "xlsx")
    assert [f["title"] for f in features] == ["Out"]
    assert "cost" not in features[0]


def test_an_outsider_exports_nothing_of_the_workspace(cast):
    _seed(cast, 1)
    response = cast.client("outsider").get(reverse("api-feature-export"), {"format": "csv"})
    assert rows(response, "csv") == []
    response = cast.client("outsider").get(
        reverse("api-feature-export"), {"format": "csv", "product": "LOD"}
    )
    assert response.status_code == 404


def test_signed_out_is_refused(cast):
    response = cast.client("anonymous").get(reverse("api-feature-export"), {"format": "csv"})
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("resource", RESOURCES)
def test_export_queries_do_not_grow(cast, django_assert_max_num_queries, resource, n):
    _seed(cast, n)
    client = cast.client("pm")
    # session, user, memberships (roles and viewers), the rows (related rows joined or
    # prefetched once per chunk of 500), at most a few lookups of the resource = 8
    with django_assert_max_num_queries(8):
        response = client.get(reverse(f"api-{resource}-export"), {"format": "csv"})
        found = rows(response, "csv")
    assert len(found) == n
