"""The idea page's votes and voters (the team's from the page, the portal's confirmed ones),
the “under review” step, and similar ideas ranked by meaning (feedback.semantic) or, before an
idea has its vector, by shared words."""

import pytest
from django.urls import reverse
from django.utils import timezone

from backlog import services
from backlog.models import Idea
from feedback import embeddings, semantic
from feedback.models import PortalPost, PortalVote
from tests.backlog.factories import IdeaFactory
from tests.pm.helpers import text_of

HTMX = {"HX-Request": "true"}


@pytest.fixture
def idea(cast):
    return IdeaFactory(product=cast.product, title="Calendar view of releases", votes=3)


def _page(cast, who, idea):
    return cast.client(who).get(reverse("idea_detail", args=[cast.product.key, idea.pk]))


def _vote(client, cast, idea, voted="1", htmx=True):
    return client.post(
        reverse("idea_vote", args=[cast.product.key, idea.pk]),
        {"voted": voted},
        headers=HTMX if htmx else {},
    )


def test_a_member_votes_once_and_can_take_it_back(cast, idea):
    client = cast.client("engineer")
    response = _vote(client, cast, idea)
    html = response.content.decode()
    assert 'data-testid="idea-vote-count">4<' in html
    assert 'data-testid="unvote-idea"' in html
    assert cast.engineer.get_full_name() in text_of(html[html.index('data-testid="idea-voters"') :])
    # A retried click (the same state) counts once.
    assert 'data-testid="idea-vote-count">4<' in _vote(client, cast, idea).content.decode()
    idea.refresh_from_db()
    assert idea.votes == 4 and list(idea.voters.all()) == [cast.engineer]

    back = _vote(client, cast, idea, voted="0")
    assert 'data-testid="idea-vote-count">3<' in back.content.decode()
    assert 'data-testid="vote-idea"' in back.content.decode()


def test_the_team_sees_who_voted_and_stakeholders_only_how_many(cast, idea):
    cast.share_with_stakeholders("ideas")
    _vote(cast.client("pm"), cast, idea, htmx=False)
    post = PortalPost.objects.create(
        product=cast.product, idea=idea, title=idea.title, status="published", votes=1
    )
    PortalVote.objects.create(
        workspace=cast.workspace,
        post=post,
        email="fan@customer.example",
        confirmed_at=timezone.now(),
    )
    PortalVote.objects.create(
        workspace=cast.workspace, post=post, email="unconfirmed@customer.example"
    )

    team = _page(cast, "engineer", idea).content.decode()
    voters = team[team.index('data-testid="idea-voters"') :]
    assert cast.pm.get_full_name() in voters[: voters.index("</ul>")]
    portal = team[team.index('data-testid="portal-voters"') :]
    assert "fan@customer.example" in portal[: portal.index("</ul>")]
    assert "unconfirmed@customer.example" not in team

    stakeholder = _page(cast, "stakeholder", idea).content.decode()
    assert 'data-testid="idea-vote-count">4<' in stakeholder
    assert 'data-testid="idea-voters"' not in stakeholder
    assert "fan@customer.example" not in stakeholder
    assert cast.pm.get_full_name() not in stakeholder
    # …and may vote themselves.
    assert _vote(cast.client("stakeholder"), cast, idea).status_code == 200


def test_a_merged_idea_takes_no_votes_and_its_voters_move_counting_once(cast, idea):
    dup = IdeaFactory(product=cast.product, title="Release calendar", votes=0)
    services.idea_vote(idea=dup, user=cast.pm, voted=True)
    services.idea_vote(idea=dup, user=cast.engineer, voted=True)
    services.idea_vote(idea=idea, user=cast.pm, voted=True)  # voted on both
    target = services.idea_merge(idea=dup, into=idea, actor=cast.pm)
    assert set(target.voters.all()) == {cast.pm, cast.engineer}
    assert target.votes == 3 + 1 + 2 - 1
    response = _vote(cast.client("admin"), cast, dup)
    assert "was merged" in response.headers["HX-Trigger"]
    assert 'data-testid="vote-idea"' not in response.content.decode()
    dup.refresh_from_db()
    assert dup.votes == 0


def test_start_review_moves_a_new_idea_under_review(cast, idea):
    url = reverse("idea_detail", args=[cast.product.key, idea.pk])
    assert 'data-testid="review-idea"' in _page(cast, "pm", idea).content.decode()
    response = cast.client("pm").post(
        reverse("idea_review", args=[cast.product.key, idea.pk]),
        headers={**HTMX, "HX-Current-URL": f"http://testserver{url}"},
    )
    assert response.headers["HX-Redirect"] == url
    idea.refresh_from_db()
    assert idea.status == "under_review"
    assert 'data-testid="review-idea"' not in _page(cast, "pm", idea).content.decode()


def test_similar_ideas_by_shared_words_before_vectors(cast, idea):
    close = IdeaFactory(product=cast.product, title="Releases on a calendar")
    IdeaFactory(product=cast.product, title="Dark mode")
    merged = IdeaFactory(product=cast.product, title="Calendar of releases", status="merged")
    html = _page(cast, "pm", idea).content.decode()
    panel = html[html.index('data-testid="similar-ideas"') :]
    assert f'data-testid="similar-idea-{close.pk}"' in panel
    assert "Dark mode" not in panel
    assert f"similar-idea-{merged.pk}" not in panel
    assert "Ranked by shared words" in text_of(panel)


def test_similar_ideas_by_meaning(cast, settings):
    semantic.clear_cache()
    a = IdeaFactory(product=cast.product, title="Export the roadmap as a PDF for the board")
    b = IdeaFactory(product=cast.product, title="Download roadmap to PDF file")
    c = IdeaFactory(product=cast.product, title="Slack notifications when a story is done")
    embeddings.refresh("idea", [a.pk, b.pk, c.pk])
    html = _page(cast, "pm", a).content.decode()
    panel = html[
        html.index('data-testid="similar-ideas"') : html.index(
            "</section>", html.index('data-testid="similar-ideas"')
        )
    ]
    assert f'data-testid="similar-idea-{b.pk}"' in panel
    assert f'data-testid="similar-idea-{c.pk}"' not in panel
    assert "Ranked by shared words" not in panel


def test_an_idea_alone_says_so(cast, idea):
    html = _page(cast, "engineer", idea).content.decode()
    assert "No other idea of" in text_of(html)


@pytest.mark.parametrize("n", [2, 30])
def test_voting_query_count(cast, idea, n, django_assert_max_num_queries):
    from tests.factories import UserFactory

    for _ in range(n):
        services.idea_vote(idea=idea, user=UserFactory(), voted=True)
    client = cast.client("engineer")
    _vote(client, cast, idea, voted="0")
    # 25 at both sizes: the page's own queries (session, user, product, membership, the idea), the
    # vote (lock, is a voter, add, count), then the votes card re-rendered with the whole page
    # context it shares with the idea page.
    with django_assert_max_num_queries(25):
        response = _vote(client, cast, idea)
    assert 'data-testid="unvote-idea"' in response.content.decode()
    assert Idea.objects.get(pk=idea.pk).votes == 3 + n + 1
