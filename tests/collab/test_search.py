"""Global search: prefix matching, ranked, grouped by kind, a story key jumps to the story, and a
stakeholder finds only what the pages would show them."""

import pytest
from django.urls import reverse

from pm import search as global_search
from pm.visibility import viewer_for_role
from roadmap.models import Initiative
from tests.api import data
from tests.factories import (
    CompetitorFactory,
    MembershipFactory,
    PersonaFactory,
    ProductFactory,
    WorkspaceFactory,
)
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory
from tests.metrics.factories import KPIFactory

HTMX = {"HX-Request": "true"}


def _search(client, q, quick=False, **headers):
    url = reverse("search_quick" if quick else "search")
    return client.get(url, {"q": q}, headers=headers)


@pytest.fixture
def world(cast):
    feature = data.feature(cast.product, cast.pm, title="Dark mode for the dashboard")
    story = data.story(feature, cast.pm, title="Dark palette tokens")
    data.idea(cast.product, cast.pm, title="Darker charts")
    FeedbackItemFactory(product=cast.product, content="Please add a dark theme, my eyes hurt")
    CustomerFactory(workspace=cast.workspace, name="Darkstar Industries")
    Initiative.objects.create(
        product=cast.product, title="Darkness initiative", visibility="public"
    )
    KPIFactory(product=cast.product, name="Dark mode adoption")
    PersonaFactory(product=cast.product, name="Darla the designer")
    CompetitorFactory(product=cast.product, name="DarkCorp")
    return feature, story


def test_one_prefix_finds_every_kind_grouped(cast, world):
    html = _search(cast.client("pm"), "dar").content.decode()
    for label in (
        "Features",
        "User stories",
        "Ideas",
        "Feedback",
        "Customers",
        "Initiatives",
        "KPIs",
        "Personas",
        "Competitors",
    ):
        assert f"<h3>{label}</h3>" in html, label
    assert "Dark mode for the dashboard" in html and "Darkstar Industries" in html


def test_every_word_must_match_and_the_best_match_comes_first(cast, world):
    data.feature(cast.product, cast.pm, title="Mode switch", description="dark dark dark")
    hits = global_search.run(
        workspace=cast.workspace, viewer=viewer_for_role("pm"), text="dark mod"
    ).groups
    features = dict((kind.key, found) for kind, found in hits)["feature"]
    assert [h.title for h in features] == ["Dark mode for the dashboard", "Mode switch"]


def test_a_story_key_jumps_to_the_story(cast, world):
    _feature, story = world
    response = _search(cast.client("engineer"), story.key.lower())
    assert response.status_code == 302
    assert response["Location"] == reverse("story_detail", args=["LOD", story.number])
    quick = _search(cast.client("engineer"), story.key, quick=True, **HTMX).content.decode()
    assert 'data-testid="search-jump"' in quick and story.title in quick


def test_a_stakeholder_finds_only_what_they_may_see(cast, world):
    feature, story = world
    html = _search(cast.client("stakeholder"), "dar").content.decode()
    # Strategy, roadmap and KPIs are theirs; the backlog (unreleased), ideas, feedback and
    # customers are not.
    for seen in ("Darkness initiative", "Dark mode adoption", "Darla the designer", "DarkCorp"):
        assert seen in html, seen
    for hidden in ("Dark mode for the dashboard", "Dark palette", "Darker charts", "eyes hurt"):
        assert hidden not in html, hidden
    assert "Darkstar" not in html
    # A story key names nothing for them either.
    assert _search(cast.client("stakeholder"), story.key).status_code == 200
    # Once the feature ships, it is theirs to find.
    from backlog.models import Feature

    Feature.objects.filter(pk=feature.pk).update(status="shipped")
    html = _search(cast.client("stakeholder"), "dar").content.decode()
    assert "Dark mode for the dashboard" in html


def test_internal_initiatives_stay_hidden_from_stakeholders(cast):
    Initiative.objects.create(product=cast.product, title="Secret merger", visibility="internal")
    assert "Secret merger" not in _search(cast.client("stakeholder"), "secret").content.decode()
    assert "Secret merger" in _search(cast.client("pm"), "secret").content.decode()


def test_another_workspace_is_never_searched(cast, world):
    other = ProductFactory(workspace=WorkspaceFactory(), key="OTH")
    owner = MembershipFactory(workspace=other.workspace, role="pm").user
    data.feature(other, owner, title="Dark matter")
    assert "Dark matter" not in _search(cast.client("pm"), "dark").content.decode()
    # … not even when asked for by slug.
    response = cast.client("pm").get(reverse("search"), {"q": "dark", "w": other.workspace.slug})
    assert "Dark matter" not in response.content.decode()


def test_punctuation_and_operators_are_just_text(cast, world):
    for q in ("dark & | ! :* ( ' \"", "'; drop table", "\\", "(((", "a" * 5000, "🌙 dark"):
        response = _search(cast.client("pm"), q)
        assert response.status_code == 200, q


def test_a_nul_in_the_query_is_a_400(cast):
    assert cast.client("pm").get(reverse("search") + "?q=a%00b").status_code == 400


def test_an_empty_query_explains_what_to_do(cast):
    html = _search(cast.client("pm"), "").content.decode()
    assert "Search your workspace." in html


def test_nothing_found_says_so(cast, world):
    html = _search(cast.client("pm"), "zebra").content.decode()
    assert "Nothing matches “zebra”." in html


def test_the_header_has_the_search_box_and_the_quick_jump_dialog(cast):
    html = cast.client("stakeholder").get(reverse("home")).content.decode()
    assert 'data-testid="header-search"' in html and 'id="quick-jump"' in html


@pytest.mark.parametrize("n", [3, 40])
def test_search_takes_the_same_queries_at_any_size(cast, n, django_assert_max_num_queries):
    for i in range(n):
        feature = data.feature(cast.product, cast.pm, title=f"Export number {i}")
        data.story(feature, cast.pm, title=f"Export part {i}")
        data.idea(cast.product, cast.pm, title=f"Export idea {i}")
        FeedbackItemFactory(product=cast.product, content=f"Export please {i}")
    client = cast.client("pm")
    # session, user, memberships, products, then one query per kind (10) and the story key
    with django_assert_max_num_queries(15):
        response = _search(client, "export", quick=True, **HTMX)
    assert response.content.decode().count('data-testid="search-hit"') == 4 * min(n, 5)
