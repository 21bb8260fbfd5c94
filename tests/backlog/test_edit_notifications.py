"""Editing in the browser notifies like the API does: a ModelForm changes the instance it
validates, so the services must compare with the stored row, not the instance they are given."""

import pytest
from django.urls import reverse

from backlog import services
from pm.models import Notification


@pytest.fixture
def feature(cast):
    return services.feature_create(
        product=cast.product, data={"title": "Single sign-on"}, actor=cast.pm
    )


@pytest.fixture
def story(cast, feature):
    return services.story_create(feature=feature, data={"title": "SAML login"}, actor=cast.pm)


def test_mentioning_someone_in_the_feature_edit_form_notifies_them(cast, feature):
    response = cast.client("pm").post(
        reverse("feature_edit", args=[cast.product.key, feature.pk]),
        {
            "title": feature.title,
            "description": "@engineer can you size this?",
            "kind": feature.kind,
            "status": feature.status,
            "version": feature.version,
        },
    )

    assert response.status_code == 302
    [note] = Notification.objects.filter(user=cast.engineer)
    assert note.kind == "mention"
    assert note.url == reverse("feature_detail", args=[cast.product.key, feature.pk])


def _story_post(story, **changes):
    data = {
        "title": story.title,
        "status": story.status,
        "criteria": "",
        "version": story.version,
    }
    data.update(changes)
    return data


def test_assigning_a_story_in_its_edit_form_notifies_the_assignee(cast, story):
    response = cast.client("pm").post(
        reverse("story_edit", args=[cast.product.key, story.number]),
        _story_post(story, assignee=cast.engineer.pk),
    )

    assert response.status_code == 302
    [note] = Notification.objects.filter(user=cast.engineer)
    assert note.kind == "assignment"
    assert story.key in note.message


def test_mentioning_someone_in_the_story_edit_form_notifies_them(cast, story):
    response = cast.client("pm").post(
        reverse("story_edit", args=[cast.product.key, story.number]),
        _story_post(story, so_that="@engineer knows what to build"),
    )

    assert response.status_code == 302
    assert list(Notification.objects.values_list("user__username", "kind")) == [
        ("engineer", "mention")
    ]


def test_saving_the_form_again_does_not_notify_twice(cast, story):
    url = reverse("story_edit", args=[cast.product.key, story.number])
    client = cast.client("pm")
    client.post(url, _story_post(story, assignee=cast.engineer.pk, so_that="@engineer hi"))
    story.refresh_from_db()
    client.post(
        url, _story_post(story, assignee=cast.engineer.pk, so_that="@engineer hi", points=3)
    )

    assert Notification.objects.filter(user=cast.engineer).count() == 2  # one of each kind
