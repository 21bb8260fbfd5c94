"""Custom field values in the API: in features and ideas, public ones only for stakeholders,
and the lists' query counts stay flat with values present."""

import pytest

from backlog import custom_fields
from tests.backlog.factories import FeatureFactory, IdeaFactory


def _fields(cast):
    public = custom_fields.custom_field_create(
        product=cast.product,
        applies_to="feature",
        name="Platform",
        kind="text",
        public=True,
        actor=cast.pm,
    )
    internal = custom_fields.custom_field_create(
        product=cast.product, applies_to="feature", name="Deal", kind="number", actor=cast.pm
    )
    return public, internal


def test_features_carry_custom_values_and_stakeholders_only_public_ones(cast, api):
    public, internal = _fields(cast)
    feature = FeatureFactory(
        product=cast.product, status="shipped", custom_values={public.key: "Web", internal.key: 9}
    )
    team = api("engineer").get(f"/api/v1/features/{feature.pk}/").json()
    assert team["custom_fields"] == {public.key: "Web", internal.key: 9}
    outside = api("stakeholder", scope="read").get(f"/api/v1/features/{feature.pk}/").json()
    assert outside["custom_fields"] == {public.key: "Web"}
    listed = api("stakeholder", scope="read").get("/api/v1/features/").json()["results"]
    assert [f["custom_fields"] for f in listed] == [{public.key: "Web"}]


def test_ideas_carry_custom_values(cast, api):
    segment = custom_fields.custom_field_create(
        product=cast.product, applies_to="idea", name="Segment", kind="text", actor=cast.pm
    )
    idea = IdeaFactory(product=cast.product, custom_values={segment.key: "SMB"})
    body = api("engineer").get(f"/api/v1/ideas/{idea.pk}/").json()
    assert body["custom_fields"] == {segment.key: "SMB"}


@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize("role", ["engineer", "stakeholder"])
def test_feature_list_queries_stay_flat_with_custom_values(
    cast, api, django_assert_max_num_queries, rows, role
):
    public, internal = _fields(cast)
    for _ in range(rows):
        FeatureFactory(
            product=cast.product,
            status="shipped",
            custom_values={public.key: "Web", internal.key: 1},
        )
    client = api(role, scope="read")
    client.get("/api/v1/products/")  # records the token's first use
    # token, memberships, COUNT, the page (tests/api/test_queries.py: 4); for stakeholders
    # also whether reach is internal (the product's backlog settings) and the product's
    # public field ids, once, when a row has values (pm.visibility) = 6
    with django_assert_max_num_queries(4 if role == "engineer" else 6):
        response = client.get("/api/v1/features/?page_size=100")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == rows
    expected = {public.key} if role == "stakeholder" else {public.key, internal.key}
    assert all(set(r["custom_fields"]) == expected for r in results)
