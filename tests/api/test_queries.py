"""Every list endpoint runs a constant number of SQL queries whatever the page size (10 or 100)
and however many rows there are."""

import pytest

from tests.api import data

# With a token whose last use was recorded in the past minute (otherwise +1 UPDATE, at most
# once a minute per token), the queries are:
#   1 the token with its user (select_related)
#   2 the caller's memberships (role per workspace, cached for the request)
#   then per endpoint:
#   - products, sprints, features, ideas: 3 COUNT for the page numbers, 4 the page
#     (sprints: committed and done points are aggregates in that same query)
#   - stories (cursor pagination, no COUNT): 3 the page
#     ?product=LOD adds the product with its workspace (get_product_for_user);
#     ?sprint=current adds each product's current sprint (one query with a subquery).
EXPECTED = {
    "/api/v1/products/": 4,
    "/api/v1/stories/": 3,
    "/api/v1/stories/?product=LOD&sprint=current&assignee=me&status=ready": 5,
    "/api/v1/sprints/?product=LOD": 5,
    "/api/v1/features/": 4,
    "/api/v1/ideas/?product=LOD": 5,
}


@pytest.mark.parametrize("rows", [12, 120])
@pytest.mark.parametrize("url", list(EXPECTED))
def test_list_endpoints_run_a_constant_number_of_queries(
    cast, api, django_assert_max_num_queries, url, rows
):
    data.fill(cast.product, cast.engineer, rows)
    client = api("engineer")
    client.get("/api/v1/products/")  # records the token's first use
    for page_size in (10, 100):
        separator = "&" if "?" in url else "?"
        with django_assert_max_num_queries(EXPECTED[url]):
            response = client.get(f"{url}{separator}page_size={page_size}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(page_size, rows)


def test_the_story_list_reads_rows_and_no_internal_column():
    """The list renders .values() rows (backlog.api.StoryViewSet.list), which is only right
    while none of its columns is internal to the team (pm.visibility)."""
    from backlog.api import STORY_ROW
    from backlog.models import UserStory

    rules = UserStory.visibility_rules
    assert not {*rules.internal, *rules.internal_if} & set(STORY_ROW)
