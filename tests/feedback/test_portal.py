"""The public ideas portal: opt-in, moderated submissions, one vote per confirmed e-mail or per
signed-in user, rate limits per IP, a honeypot — and votes kept in step with the backlog."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from backlog import services as backlog_services
from backlog.models import Idea
from feedback.models import PortalPost, PortalSettings, PortalVote
from feedback.services.portal import (
    portal_post_publish,
    portal_post_submit,
    portal_vote_by_user,
    portal_vote_confirm,
    portal_vote_request,
)
from tests.feedback.factories import make_idea
from tests.pm.helpers import field_errors, text_of


@pytest.fixture
def portal(cast):
    return PortalSettings.objects.create(product=cast.product, enabled=True, intro="Hello")


@pytest.fixture
def post(cast, portal):
    idea = make_idea(
        cast.product, "Calendar view", "Internal: asked by a big account", actor=cast.pm
    )
    return portal_post_publish(
        idea=idea, title="A calendar view", description="See releases by month.", actor=cast.pm
    )


def url(name, cast, *args):
    return reverse(name, args=[cast.product.key, *args])


def vote_by_email(client, cast, post, email, capture, **extra):
    with capture(execute=True):
        return client.post(url("portal_vote", cast, post.pk), {"email": email, **extra})


def confirm_link(message) -> str:
    link = re.search(r"http://[^\s]+/votes/([^/\s]+)/", message.body)
    assert link, "the e-mail has no confirmation link"
    return link.group(0)


def test_a_product_without_a_portal_shows_nothing(cast):
    client = Client()
    assert client.get(url("portal_home", cast)).status_code == 404
    PortalSettings.objects.create(product=cast.product, enabled=False)
    assert client.get(url("portal_home", cast)).status_code == 404
    assert client.get(url("portal_submit", cast)).status_code == 404


def test_visitors_see_published_ideas_with_their_public_copy_and_status(cast, post):
    hidden = PortalPost.objects.create(product=cast.product, title="Pending thing")
    response = Client().get(url("portal_home", cast))
    page = text_of(response.content)
    assert "A calendar view" in page and "Under consideration" in page
    assert "Pending thing" not in page
    assert "Internal: asked by a big account" not in page
    assert Client().get(url("portal_idea", cast, hidden.pk)).status_code == 404
    backlog_services.idea_accept(idea=post.idea, actor=cast.pm)
    assert "Planned" in text_of(Client().get(url("portal_idea", cast, post.pk)).content)


def test_a_submission_waits_for_a_pm_then_lands_in_the_ideas_list(cast, portal):
    response = Client().post(
        url("portal_submit", cast),
        {"title": "Keyboard shortcuts", "description": "j/k to move", "email": "Ann@Example.com"},
    )
    assert response.status_code == 200
    assert "Thanks for your idea" in text_of(response.content)
    submission = PortalPost.objects.get()
    assert submission.status == "pending" and submission.idea is None
    assert submission.author_email == "ann@example.com"
    assert "Keyboard shortcuts" not in text_of(Client().get(url("portal_home", cast)).content)
    assert not Idea.objects.exists()

    response = cast.client("pm").post(
        url("portal_moderate", cast, submission.pk),
        {"decision": "approve", "title": "Keyboard shortcuts in the backlog"},
    )
    assert response.status_code == 302
    idea = Idea.objects.get()
    assert (idea.title, idea.source, idea.votes) == (
        "Keyboard shortcuts in the backlog",
        "portal",
        0,
    )
    assert "Keyboard shortcuts in the backlog" in text_of(
        Client().get(url("portal_home", cast)).content
    )


def test_a_rejected_submission_never_shows(cast, portal):
    portal_post_submit(product=cast.product, title="Buy my crypto", description="")
    submission = PortalPost.objects.get()
    cast.client("pm").post(url("portal_moderate", cast, submission.pk), {"decision": "reject"})
    submission.refresh_from_db()
    assert submission.status == "rejected" and not Idea.objects.exists()
    assert Client().get(url("portal_idea", cast, submission.pk)).status_code == 404


def test_the_honeypot_is_answered_like_success_but_stores_nothing(
    cast, post, mailoutbox, django_capture_on_commit_callbacks
):
    response = Client().post(
        url("portal_submit", cast), {"title": "Cheap pills", "website": "http://spam.example"}
    )
    assert "Thanks for your idea" in text_of(response.content)
    assert PortalPost.objects.count() == 1  # only the published one
    response = vote_by_email(
        Client(),
        cast,
        post,
        "bot@example.com",
        django_capture_on_commit_callbacks,
        website="x",
    )
    assert "Check your inbox" in text_of(response.content)
    assert not PortalVote.objects.exists() and mailoutbox == []


def test_an_email_vote_counts_once_confirmed_and_only_once(
    cast, post, mailoutbox, django_capture_on_commit_callbacks
):
    client = Client()
    response = vote_by_email(
        client, cast, post, "Voter@Example.com", django_capture_on_commit_callbacks
    )
    assert "Check your inbox" in text_of(response.content)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["voter@example.com"]
    post.refresh_from_db()
    assert post.votes == 0  # not before the link is followed

    link = confirm_link(mailoutbox[0])
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert "Confirm my vote" in text_of(client.get("/" + path).content)
    assert PortalPost.objects.get(pk=post.pk).votes == 0  # a GET (link scanners) counts nothing
    response = client.post("/" + path)
    assert "Your vote counts" in text_of(response.content)
    client.post("/" + path)  # a second click changes nothing
    post.refresh_from_db()
    assert post.votes == 1
    assert Idea.objects.get(pk=post.idea_id).votes == 1

    # The same address again, in other letters: no new vote, no second e-mail.
    vote_by_email(client, cast, post, "VOTER@example.com", django_capture_on_commit_callbacks)
    assert PortalVote.objects.count() == 1 and len(mailoutbox) == 1
    assert PortalPost.objects.get(pk=post.pk).votes == 1


def test_asking_again_before_confirming_resends_the_link_but_keeps_one_vote(
    cast, post, mailoutbox, django_capture_on_commit_callbacks
):
    client = Client()
    vote_by_email(client, cast, post, "a@example.com", django_capture_on_commit_callbacks)
    vote_by_email(client, cast, post, "a@example.com", django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2 and PortalVote.objects.count() == 1
    for message in mailoutbox:
        path = "/" + confirm_link(message).split("://", 1)[1].split("/", 1)[1]
        client.post(path)
    assert PortalPost.objects.get(pk=post.pk).votes == 1


def test_a_forged_or_foreign_link_counts_nothing(
    cast, post, mailoutbox, django_capture_on_commit_callbacks
):
    client = Client()
    vote_by_email(client, cast, post, "a@example.com", django_capture_on_commit_callbacks)
    token = confirm_link(mailoutbox[0]).rstrip("/").rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.post(url("portal_vote_confirm", cast, forged))
    assert response.status_code == 400
    assert PortalPost.objects.get(pk=post.pk).votes == 0


def test_an_invalid_email_is_explained_beside_the_field(cast, post):
    response = Client().post(url("portal_vote", cast, post.pk), {"email": "not-an-address"})
    assert response.status_code == 200
    assert field_errors(response.content, "email") == ["Enter a valid email address."]
    assert not PortalVote.objects.exists()


def test_a_signed_in_user_votes_in_one_click_once(cast, post):
    client = cast.client("engineer")
    client.post(url("portal_vote", cast, post.pk))
    client.post(url("portal_vote", cast, post.pk))
    post.refresh_from_db()
    assert post.votes == 1 and Idea.objects.get(pk=post.idea_id).votes == 1
    assert "You voted for this idea" in text_of(
        client.get(url("portal_idea", cast, post.pk)).content
    )


def test_votes_and_submissions_are_rate_limited_per_ip(
    cast, post, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FEEDBACK_PORTAL_VOTES_PER_HOUR = 3
    settings.FEEDBACK_PORTAL_SUBMISSIONS_PER_HOUR = 1
    visitor = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(3):
        response = vote_by_email(
            visitor, cast, post, f"v{n}@example.com", django_capture_on_commit_callbacks
        )
        assert response.status_code == 200
    response = vote_by_email(
        visitor, cast, post, "v9@example.com", django_capture_on_commit_callbacks
    )
    assert response.status_code == 429
    assert "Too many attempts" in text_of(response.content)
    assert PortalVote.objects.count() == 3 and len(mailoutbox) == 3
    # Another address is not held back by this one.
    other = Client(REMOTE_ADDR="198.51.100.4")
    assert (
        vote_by_email(
            other, cast, post, "w@example.com", django_capture_on_commit_callbacks
        ).status_code
        == 200
    )

    assert visitor.post(url("portal_submit", cast), {"title": "First idea"}).status_code == 200
    assert visitor.post(url("portal_submit", cast), {"title": "Second idea"}).status_code == 429
    assert PortalPost.objects.filter(status="pending").count() == 1


def test_submissions_can_be_switched_off(cast, portal):
    portal.accept_submissions = False
    portal.save()
    response = Client().post(url("portal_submit", cast), {"title": "An idea"})
    assert "Submissions are closed" in text_of(response.content)
    assert not PortalPost.objects.exists()


def test_merging_ideas_moves_portal_votes_without_counting_a_voter_twice(cast, portal):
    a = make_idea(cast.product, "Calendar", actor=cast.pm)
    b = make_idea(cast.product, "Release calendar", actor=cast.pm)
    post_a = portal_post_publish(idea=a, title="Calendar", description="", actor=cast.pm)
    post_b = portal_post_publish(idea=b, title="Release calendar", description="", actor=cast.pm)
    for email in ("x@example.com", "both@example.com"):
        vote, _ = portal_vote_request(post=post_a, email=email)
        portal_vote_confirm(vote=vote)
    vote, _ = portal_vote_request(post=post_b, email="both@example.com")
    portal_vote_confirm(vote=vote)
    portal_vote_by_user(post=post_b, user=cast.engineer)
    assert Idea.objects.get(pk=b.pk).votes == 2

    backlog_services.idea_merge(idea=a, into=b, actor=cast.pm)
    post_b.refresh_from_db()
    assert post_b.votes == 3  # x, both (once) and the engineer
    assert Idea.objects.get(pk=b.pk).votes == 3
    assert PortalVote.objects.filter(post=post_b).count() == 3
    assert PortalPost.objects.get(pk=post_a.pk).status == "rejected"


def test_the_vote_confirmation_task_skips_votes_already_confirmed(cast, post, mailoutbox):
    from feedback.tasks import send_vote_confirmation

    vote, _ = portal_vote_request(post=post, email="a@example.com")
    portal_vote_confirm(vote=vote)
    assert send_vote_confirmation(vote.pk) is False
    assert mailoutbox == []
