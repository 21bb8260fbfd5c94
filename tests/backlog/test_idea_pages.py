"""The ideas list is paginated and says how many there are; every idea has its own page with
votes, linked feedback, history and a versioned edit form."""

import pytest
from django.urls import reverse

from backlog.models import Idea
from feedback.services.insights import insight_create
from tests.backlog.factories import IdeaFactory
from tests.factories import UserFactory
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory
from tests.pm.helpers import form_data, text_of

HTMX = {"HX-Request": "true"}


def _ideas(cast, n):
    Idea.objects.bulk_create(
        [Idea(product=cast.product, title=f"Idea {i:03}", votes=i % 7) for i in range(n)]
    )


def test_the_ideas_list_is_paginated_and_counts_all_ideas(cast):
    _ideas(cast, 205)
    url = reverse("ideas", args=[cast.product.key])

    first = cast.client("pm").get(url)
    html = first.content.decode()
    assert html.count('data-testid="idea"') == 50
    assert "1–50 of 205 ideas" in text_of(html)
    assert 'data-testid="next-ideas"' in html

    last = cast.client("pm").get(url, {"status": "open", "page": 5}, headers=HTMX)
    html = last.content.decode()
    assert html.count('data-testid="idea"') == 5
    assert "201–205 of 205 ideas" in text_of(html)
    assert 'data-testid="next-ideas"' not in html


def test_page_links_keep_the_filters(cast):
    _ideas(cast, 60)
    html = (
        cast.client("pm")
        .get(reverse("ideas", args=[cast.product.key]), {"sort": "votes", "q": "Idea"})
        .content.decode()
    )
    assert "status=open&amp;q=Idea&amp;sort=votes&amp;page=2" in html


@pytest.mark.parametrize("n", [10, 60])
def test_the_ideas_list_query_count_does_not_grow_with_ideas(
    cast, n, django_assert_max_num_queries
):
    _ideas(cast, n)
    client = cast.client("pm")
    url = reverse("ideas", args=[cast.product.key])
    client.get(url)  # warm the session and caches
    # session, user, product+membership, backlog settings, count, the page of ideas, plus
    # the base template's notification count and workspace list.
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    assert "Idea 0" in response.content.decode()


@pytest.fixture
def idea(cast):
    idea = IdeaFactory(
        product=cast.product,
        title="Calendar view",
        description="A **calendar** of releases",
        submitter_name="Olga at Initech",
        votes=4,
    )
    item = FeedbackItemFactory(
        product=cast.product,
        content="We plan our launches in a calendar",
        customer=CustomerFactory(workspace=cast.workspace, name="Initech"),
    )
    insight_create(item=item, idea=idea, actor=cast.pm, quote="in a calendar")
    return idea


def test_the_idea_page_shows_votes_linked_feedback_and_history(cast, idea):
    response = cast.client("pm").get(reverse("idea_detail", args=[cast.product.key, idea.pk]))

    assert response.status_code == 200
    text = text_of(response.content)
    assert "Calendar view" in text and "From Olga at Initech" in text
    assert 'data-testid="idea-vote-count">4<' in response.content.decode()
    assert "Initech “in a calendar”" in text
    assert 'data-testid="idea-history"' in response.content.decode()


def test_stakeholders_see_the_idea_without_who_asked_or_customers(cast, idea):
    response = cast.client("stakeholder").get(
        reverse("idea_detail", args=[cast.product.key, idea.pk])
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Calendar view" in html
    assert "Olga" not in html and "Initech" not in html
    assert 'data-testid="idea-history"' not in html and 'data-testid="edit-idea"' not in html


def test_the_list_links_each_idea_to_its_page(cast, idea):
    html = cast.client("pm").get(reverse("ideas", args=[cast.product.key])).content.decode()
    assert f'href="{reverse("idea_detail", args=[cast.product.key, idea.pk])}"' in html


def test_editing_an_idea_is_versioned_and_recorded(cast, idea):
    url = reverse("idea_edit", args=[cast.product.key, idea.pk])
    client = cast.client("pm")
    data = form_data(client.get(url).content)
    data["title"] = ["Release calendar view"]

    response = client.post(url, data)

    assert response.status_code == 302
    idea.refresh_from_db()
    assert (idea.title, idea.version) == ("Release calendar view", 2)
    page = text_of(client.get(reverse("idea_detail", args=[cast.product.key, idea.pk])).content)
    assert "Title Calendar view → Release calendar view" in page


def test_a_stale_idea_edit_merges_instead_of_overwriting(cast, idea):
    url = reverse("idea_edit", args=[cast.product.key, idea.pk])
    admin = cast.client("admin")
    opened = form_data(admin.get(url).content)
    cast.client("pm").post(url, {**form_data(cast.client("pm").get(url).content), "title": "New"})

    opened["description"] = ["Admin's words"]
    conflict = admin.post(url, opened)
    assert conflict.status_code == 200
    assert "Someone else saved this" in text_of(conflict.content)
    admin.post(url, form_data(conflict.content))

    idea.refresh_from_db()
    assert (idea.title, idea.description) == ("New", "Admin's words")


def test_declining_from_the_idea_page_returns_to_it(cast, idea):
    url = reverse("idea_detail", args=[cast.product.key, idea.pk])
    response = cast.client("pm").post(
        reverse("idea_decline", args=[cast.product.key, idea.pk]),
        {"reason": "Out of scope"},
        headers={**HTMX, "HX-Current-URL": f"http://testserver{url}"},
    )
    assert response.headers["HX-Redirect"] == url
    idea.refresh_from_db()
    assert idea.status == "declined"


@pytest.mark.parametrize("n", [2, 12])
def test_the_idea_page_query_count_does_not_grow_with_feedback_merges_or_history(
    cast, n, django_assert_max_num_queries
):
    from backlog import services as backlog_services

    idea = IdeaFactory(product=cast.product, title="Target")
    for i in range(n):
        item = FeedbackItemFactory(
            product=cast.product, customer=CustomerFactory(workspace=cast.workspace)
        )
        insight_create(item=item, idea=idea, actor=cast.pm)
        dup = IdeaFactory(product=cast.product, title=f"Duplicate {i}", votes=1)
        backlog_services.idea_merge(idea=dup, into=idea, actor=cast.pm)
        backlog_services.idea_vote(idea=idea, user=UserFactory(), voted=True)
    client = cast.client("pm")
    url = reverse("idea_detail", args=[cast.product.key, idea.pk])
    client.get(url)
    # 18 at both sizes: session, user, product, membership, settings, the idea, its history,
    # members' names for the history, merged ideas, team voters, linked feedback (customers
    # joined), its portal post, the product's custom fields on ideas, similar ideas (its
    # vector, the candidates), and the base template's notifications and workspaces.
    with django_assert_max_num_queries(18):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert idea.title in html and "Duplicate 0" in html
    assert html.count("<li>", html.index('data-testid="idea-voters"')) >= n
