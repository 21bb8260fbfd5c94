"""In-app notifications: assignments, mentions and feedback linked to your feature, the unread
count in the bell, marked read when the menu opens."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from backlog import services as backlog_services
from feedback.services.insights import insight_create
from feedback.services.items import feedback_create
from pm.models import Notification
from tests.factories import UserFactory


@pytest.fixture
def feature(cast):
    return backlog_services.feature_create(
        product=cast.product, data={"title": "Single sign-on"}, actor=cast.pm
    )


def test_assigning_a_story_notifies_the_assignee_once(cast, feature):
    story = backlog_services.story_create(
        feature=feature, data={"title": "SAML login"}, actor=cast.pm
    )
    story = backlog_services.story_update(
        story=story, data={"assignee": cast.engineer}, expected_version=story.version, actor=cast.pm
    )
    backlog_services.story_update(
        story=story, data={"points": 3}, expected_version=story.version, actor=cast.pm
    )
    [note] = Notification.objects.filter(user=cast.engineer)
    assert note.kind == "assignment"
    assert note.message == f"Priya assigned you {story.key}: SAML login".replace(
        "Priya", cast.pm.get_full_name() or cast.pm.username
    )
    assert note.url == reverse("story_detail", args=["LOD", story.number])


def test_taking_a_story_yourself_notifies_nobody(cast, feature):
    story = backlog_services.story_create(feature=feature, data={"title": "SAML"}, actor=cast.pm)
    backlog_services.story_update(
        story=story,
        data={"assignee": cast.engineer},
        expected_version=story.version,
        actor=cast.engineer,
    )
    assert not Notification.objects.exists()


def test_mentions_notify_members_newly_mentioned_and_nobody_outside(cast, feature):
    stranger = UserFactory(username="stranger")
    feature = backlog_services.feature_update(
        feature=feature,
        data={"description": "@engineer please size this; cc @stranger"},
        expected_version=feature.version,
        actor=cast.pm,
    )
    backlog_services.feature_update(
        feature=feature,
        data={"description": "@engineer please size this today"},
        expected_version=feature.version,
        actor=cast.pm,
    )
    assert list(Notification.objects.values_list("user__username", "kind")) == [
        ("engineer", "mention")
    ]
    assert not Notification.objects.filter(user=stranger).exists()


def test_linking_feedback_notifies_the_feature_owner(cast, feature):
    assert feature.owner == cast.pm
    item = feedback_create(
        product=cast.product, content="SSO please", source="email", actor=cast.admin
    )
    insight_create(item=item, feature=feature, actor=cast.admin)
    [note] = Notification.objects.filter(user=cast.pm)
    assert note.kind == "feedback_linked"
    assert "Single sign-on" in note.message


def test_the_bell_counts_unread_and_opening_the_menu_marks_them_read(cast, feature):
    story = backlog_services.story_create(
        feature=feature, data={"title": "SAML", "assignee": cast.engineer}, actor=cast.pm
    )
    client = cast.client("engineer")
    page = client.get(reverse("product_overview", args=["LOD"])).content.decode()
    assert 'id="notification-count" class="count-badge">1<' in page
    menu = client.get(reverse("notification_menu"), headers={"HX-Request": "true"}).content.decode()
    assert f"assigned you {story.key}" in menu
    # The GET changes nothing; the fragment asks for the shown ones to be marked read by POST.
    note = Notification.objects.get(user=cast.engineer)
    assert note.read_at is None
    mark = re.search(r'hx-post="([^"]+)" hx-trigger="load" hx-vals=\'\{"ids": "([\d,]+)"\}\'', menu)
    assert mark and mark[1] == reverse("notification_mark_read") and mark[2] == str(note.pk)
    badge = client.post(mark[1], {"ids": mark[2]}, headers={"HX-Request": "true"})
    assert 'class="count-badge zero"' in badge.content.decode()  # swapped out of band
    note.refresh_from_db()
    assert note.read_at is not None
    page = client.get(reverse("product_overview", args=["LOD"])).content.decode()
    assert 'class="count-badge zero">0<' in page


def test_opening_the_menu_twice_by_get_never_marks_anything_read(cast, feature):
    backlog_services.story_create(
        feature=feature, data={"title": "SAML", "assignee": cast.engineer}, actor=cast.pm
    )
    client = cast.client("engineer")
    for _ in range(2):
        assert client.get(reverse("notification_menu")).status_code == 200
    assert Notification.objects.get(user=cast.engineer).read_at is None


def test_marking_read_is_a_post_of_your_own_notifications_only(cast, feature):
    backlog_services.story_create(
        feature=feature, data={"title": "SAML", "assignee": cast.engineer}, actor=cast.pm
    )
    note = Notification.objects.get(user=cast.engineer)
    url = reverse("notification_mark_read")
    assert cast.client("engineer").get(url).status_code == 405
    assert Client().post(url, {"ids": note.pk}).status_code == 302  # to sign-in
    assert cast.client("stakeholder").post(url, {"ids": note.pk}).status_code == 200
    assert cast.client("engineer").post(url, {"ids": "1,x"}).status_code == 400
    note.refresh_from_db()
    assert note.read_at is None  # nobody else can mark your notifications read


def test_notifications_are_private(cast, feature):
    backlog_services.story_create(
        feature=feature, data={"title": "SAML", "assignee": cast.engineer}, actor=cast.pm
    )
    menu = cast.client("stakeholder").get(reverse("notification_menu"))
    assert b"SAML" not in menu.content
    assert Notification.objects.get(user=cast.engineer).read_at is None
