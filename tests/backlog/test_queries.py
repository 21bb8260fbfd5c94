"""Pages run a constant number of SQL queries whatever the number of rows (two sizes each)."""

import pytest
from django.urls import reverse

from tests.backlog.factories import FeatureFactory, SprintFactory, StoryFactory
from tests.factories import ThemeFactory


def _backlog(cast, n):
    themes = [ThemeFactory(product=cast.product) for _ in range(3)]
    for i in range(n):
        feature = FeatureFactory(
            product=cast.product, theme=themes[i % 3], reach=10, impact=1, confidence=80, effort=2
        )
        StoryFactory(feature=feature, assignee=cast.engineer)


@pytest.mark.parametrize("n", [3, 40])
@pytest.mark.parametrize("role", ["pm", "stakeholder"])
def test_backlog_page_queries_do_not_grow_with_rows(cast, django_assert_max_num_queries, n, role):
    _backlog(cast, n)
    if role == "stakeholder":  # the workspace shares the whole backlog with stakeholders
        cast.workspace.stakeholder_sections = ["backlog"]
        cast.workspace.save()
    client = cast.client(role)
    url = reverse("backlog", args=[cast.product.key])
    # session, user, product + workspace, memberships (permission), backlog settings,
    # features (theme joined, story count and points as subqueries), themes for the filter,
    # themes for the quick-add form (pm only), the product's custom fields (filters, sorts,
    # columns), nav memberships, unread notifications, nav products = 12
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="feature-row"') == n


@pytest.mark.parametrize("n", [3, 40])
def test_sprint_board_queries_do_not_grow_with_stories(cast, django_assert_max_num_queries, n):
    sprint = SprintFactory(product=cast.product, capacity=100)
    feature = FeatureFactory(product=cast.product)
    statuses = ["todo", "ready", "in_progress", "in_review", "done"]
    for i in range(n):
        StoryFactory(feature=feature, sprint=sprint, status=statuses[i % 5], assignee=cast.engineer)
    client = cast.client("engineer")
    url = reverse("sprint_board", args=[cast.product.key, sprint.pk])
    # session, user, product + workspace, memberships, backlog settings, the sprint with
    # committed/done points, its stories (feature, assignee, product joined), the sprint
    # switcher, nav memberships, unread notifications, nav products = 11
    with django_assert_max_num_queries(11):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="story-card"') == n


@pytest.mark.parametrize("n", [3, 30])
def test_feature_page_and_sprints_page_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    sprint = SprintFactory(product=cast.product)
    feature = FeatureFactory(product=cast.product)
    for _ in range(n):
        StoryFactory(feature=feature, sprint=sprint, assignee=cast.engineer)
    client = cast.client("pm")
    # The feature page adds: stories, history, ideas, and the panels other apps register
    # (each must itself be constant); the bound is generous for those panels.
    with django_assert_max_num_queries(25):
        response = client.get(reverse("feature_detail", args=[cast.product.key, feature.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert feature.title in html
    assert all(s.title in html for s in feature.stories.all())
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sprints", args=[cast.product.key]))
    assert response.status_code == 200
    assert sprint.name in response.content.decode()


@pytest.mark.parametrize("n", [3, 30])
def test_ideas_and_planning_pages_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    from tests.backlog.factories import IdeaFactory

    sprint = SprintFactory(product=cast.product)
    feature = FeatureFactory(product=cast.product)
    for i in range(n):
        IdeaFactory(product=cast.product, submitter=cast.pm, feature=feature if i % 2 else None)
        StoryFactory(feature=feature, sprint=sprint if i % 2 else None, assignee=cast.engineer)
    client = cast.client("pm")
    # session, user, product, memberships, settings, the count of matching ideas (the list
    # is paginated), one page of ideas (submitter, feature, merged-into joined), nav
    # memberships, notifications, nav products = 10
    with django_assert_max_num_queries(10):
        response = client.get(reverse("ideas", args=[cast.product.key]))
    assert response.status_code == 200
    assert "Idea " in response.content.decode()
    # ... and planning: session, user, product, memberships, the sprint with its points,
    # settings, candidate stories, planned stories, open retrospective action items, nav
    # memberships, notifications, nav products = 12
    with django_assert_max_num_queries(12):
        response = client.get(reverse("sprint_plan", args=[cast.product.key, sprint.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert all(s.title in html for s in sprint.stories.all())
