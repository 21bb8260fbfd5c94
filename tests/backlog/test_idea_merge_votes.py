"""Merging ideas says what happened to the votes: the count shown, the History and the portal
agree, and voters who had voted on both are counted once — out loud."""

import pytest
from django.urls import reverse

from backlog.models import Idea
from feedback.models import PortalSettings
from feedback.services.portal import portal_post_publish, portal_vote_confirm, portal_vote_request
from tests.feedback.factories import make_idea
from tests.pm.helpers import text_of

HTMX = {"HX-Request": "true"}


def _voted(cast, title: str, emails: list[str]):
    idea = make_idea(cast.product, title, actor=cast.pm)
    post = portal_post_publish(idea=idea, title=title, description="", actor=cast.pm)
    for email in emails:
        vote, _ = portal_vote_request(post=post, email=email)
        portal_vote_confirm(vote=vote)
    return Idea.objects.get(pk=idea.pk)


@pytest.fixture
def ideas(cast):
    PortalSettings.objects.create(product=cast.product, enabled=True)
    both = [f"both{i}@example.com" for i in range(6)]
    small = _voted(cast, "Calendar", both + ["a1@example.com", "a2@example.com"])
    big = _voted(cast, "Release calendar", both + [f"b{i}@example.com" for i in range(12)])
    assert (small.votes, big.votes) == (8, 18)
    return small, big


def test_merge_message_history_and_count_agree_and_name_the_double_voters(cast, ideas):
    small, big = ideas
    response = cast.client("pm").post(
        reverse("idea_merge", args=[cast.product.key, small.pk]), {"into": big.pk}, headers=HTMX
    )

    assert response.status_code == 200
    toast = response.headers["HX-Trigger"].encode().decode("unicode_escape")
    assert "20 votes now: 8 moved over, 6 voters had voted on both and count once." in toast
    assert Idea.objects.get(pk=big.pk).votes == 20

    history = text_of(
        cast.client("pm").get(reverse("product_history", args=[cast.product.key])).content
    )
    assert "Votes 18 → 20" in history
    assert "6 voters had voted on both" in history
    assert "→ 26" not in history


def test_merging_ideas_without_shared_voters_adds_the_votes(cast):
    PortalSettings.objects.create(product=cast.product, enabled=True)
    a = _voted(cast, "A", ["x@example.com"])
    b = _voted(cast, "B", ["y@example.com", "z@example.com"])
    response = cast.client("pm").post(
        reverse("idea_merge", args=[cast.product.key, a.pk]), {"into": b.pk}, headers=HTMX
    )
    toast = response.headers["HX-Trigger"].encode().decode("unicode_escape")
    assert "3 votes now: 1 moved over." in toast
    assert Idea.objects.get(pk=b.pk).votes == 3
