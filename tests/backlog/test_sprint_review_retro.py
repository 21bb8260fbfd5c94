"""Sprint review and retrospective: what the team and stakeholders see and can do."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from backlog import retro
from backlog.choices import StoryStatus
from backlog.models import ActionItem, RetroItem, SprintReview
from pm.models import ActivityLog
from pm.visibility import Section
from tests.backlog.factories import FeatureFactory, SprintFactory, StoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sprint(cast):
    today = date.today()
    sprint = SprintFactory(
        product=cast.product,
        name="Sprint 7",
        start=today - timedelta(days=20),
        end=today - timedelta(days=7),
    )
    feature = FeatureFactory(product=cast.product, title="Inbox")
    StoryFactory(
        feature=feature, sprint=sprint, title="Done one", points=5, status=StoryStatus.DONE
    )
    StoryFactory(
        feature=feature, sprint=sprint, title="Done two", points=3, status=StoryStatus.DONE
    )
    StoryFactory(
        feature=feature, sprint=sprint, title="Still open", points=8, status=StoryStatus.IN_REVIEW
    )
    return sprint


def _url(name, sprint, *extra):
    return reverse(name, args=["LOD", sprint.pk, *extra])


def test_the_review_splits_done_from_not_done_with_points(cast, sprint):
    page = cast.client("pm").get(_url("sprint_review", sprint)).content.decode()
    done = page.split('data-testid="review-done"')[1].split("</section>")[0]
    not_done = page.split('data-testid="review-not-done"')[1].split("</section>")[0]
    assert "Done one" in done and "Done two" in done and "Still open" not in done
    assert "Still open" in not_done and "In review" in not_done
    assert "8 of 16 pts done (50%)" in page


def test_a_pm_saves_review_notes_and_they_go_to_history(cast, sprint):
    client = cast.client("pm")
    response = client.post(
        _url("sprint_review", sprint),
        {
            "demo_notes": "Showed the inbox.",
            "stakeholder_feedback": "Sales loved it.",
            "version": 1,
        },
    )
    assert response.status_code == 302
    review = SprintReview.objects.get(sprint=sprint)
    assert review.demo_notes == "Showed the inbox." and review.version == 2
    assert ActivityLog.objects.filter(object_type="backlog.sprintreview").exists()
    page = client.get(_url("sprint_review", sprint)).content.decode()
    assert "Sales loved it." in page


def test_two_people_writing_the_first_notes_at_once_get_a_conflict_not_an_overwrite(cast, sprint):
    retro.review_save(
        sprint=sprint, data={"demo_notes": "Mine first"}, expected_version=1, actor=cast.admin
    )
    response = cast.client("pm").post(
        _url("sprint_review", sprint),
        {"demo_notes": "Theirs", "stakeholder_feedback": "", "version": 1},
    )
    assert response.status_code == 200
    assert "Someone else saved this" in response.content.decode()
    assert SprintReview.objects.get(sprint=sprint).demo_notes == "Mine first"


@pytest.mark.parametrize(
    ("role", "status"), [("engineer", 403), ("stakeholder", 403), ("outsider", 404)]
)
def test_only_pms_write_the_review(cast, sprint, role, status):
    if role == "stakeholder":
        cast.share_with_stakeholders(Section.SPRINTS)
    response = cast.client(role).post(
        _url("sprint_review", sprint), {"demo_notes": "x", "stakeholder_feedback": "", "version": 1}
    )
    assert response.status_code == status
    assert not SprintReview.objects.exists()


def test_stakeholders_read_the_review_only_where_sprints_are_shared(cast, sprint):
    retro.review_save(
        sprint=sprint, data={"demo_notes": "Shown"}, expected_version=1, actor=cast.pm
    )
    cast.share_with_stakeholders()  # (the backlog tests' cast shares sprints by default)
    client = cast.client("stakeholder")
    assert client.get(_url("sprint_review", sprint)).status_code == 403
    cast.share_with_stakeholders(Section.SPRINTS)
    page = client.get(_url("sprint_review", sprint)).content.decode()
    assert "Shown" in page and 'data-testid="review-form"' not in page
    assert 'data-testid="tab-retro"' not in page


def test_the_team_adds_cards_and_votes_once_each(cast, sprint):
    engineer = cast.client("engineer")
    response = engineer.post(
        _url("retro_item_add", sprint), {"column": "to_improve", "text": "  Too many  meetings "}
    )
    assert response.status_code == 302
    item = RetroItem.objects.get()
    assert item.text == "Too many meetings" and item.author == cast.engineer
    for client in (engineer, engineer, cast.client("pm")):  # the second click takes it back
        client.post(_url("retro_item_vote", sprint, item.pk))
    assert list(item.voters.all()) == [cast.pm]
    page = cast.client("pm").get(_url("sprint_retro", sprint)).content.decode()
    column = page.split('data-testid="retro-to_improve"')[1]
    assert "Too many meetings" in column and "▲ 1" in column


def test_an_empty_card_is_refused_and_nothing_is_saved(cast, sprint):
    response = cast.client("engineer").post(
        _url("retro_item_add", sprint), {"column": "ideas", "text": "   "}
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not RetroItem.objects.exists()


def test_htmx_swaps_the_board(cast, sprint):
    response = cast.client("engineer").post(
        _url("retro_item_add", sprint),
        {"column": "ideas", "text": "Pair more"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="retro"') and "Pair more" in body


def test_authors_delete_their_cards_pms_any_others_none(cast, sprint):
    item = retro.retro_add(sprint=sprint, column="ideas", text="Mine", actor=cast.engineer)
    other = retro.retro_add(sprint=sprint, column="ideas", text="Admin's", actor=cast.admin)
    assert (
        cast.client("engineer").post(_url("retro_item_delete", sprint, other.pk)).status_code == 403
    )
    assert (
        cast.client("engineer").post(_url("retro_item_delete", sprint, item.pk)).status_code == 302
    )
    assert cast.client("pm").post(_url("retro_item_delete", sprint, other.pk)).status_code == 302
    assert not RetroItem.objects.exists()


@pytest.mark.parametrize("name", ["sprint_retro", "retro_item_add", "action_add"])
def test_the_retro_is_the_teams_own(cast, sprint, name):
    cast.share_with_stakeholders(Section.SPRINTS)
    method = "get" if name == "sprint_retro" else "post"
    data = {"column": "ideas", "text": "x"}
    assert getattr(cast.client("stakeholder"), method)(_url(name, sprint), data).status_code == 403
    assert getattr(cast.client("outsider"), method)(_url(name, sprint), data).status_code == 404
    anonymous = getattr(cast.client("anonymous"), method)(_url(name, sprint), data)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert not RetroItem.objects.exists() and not ActionItem.objects.exists()


def test_open_action_items_carry_into_the_next_sprints_planning_until_done(cast, sprint):
    next_sprint = SprintFactory(
        product=cast.product,
        name="Sprint 8",
        start=date.today(),
        end=date.today() + timedelta(days=13),
    )
    client = cast.client("pm")
    client.post(
        _url("action_add", sprint),
        {"text": "Write criteria before planning", "owner": cast.engineer.pk},
    )
    action = ActionItem.objects.get()
    assert action.owner == cast.engineer
    plan = client.get(_url("sprint_plan", next_sprint)).content.decode()
    assert "Write criteria before planning" in plan.split('data-testid="plan-actions"')[1]
    response = client.post(
        _url("action_done", next_sprint, action.pk), {"done": "1", "next": "plan"}
    )
    assert response.status_code == 302 and response["Location"].endswith(
        f"/sprints/{next_sprint.pk}/plan/"
    )
    client.post(_url("action_done", next_sprint, action.pk), {"done": "1"})  # twice: no change
    assert (
        ActivityLog.objects.filter(object_type="backlog.actionitem", action="updated").count() == 1
    )
    plan = client.get(_url("sprint_plan", next_sprint)).content.decode()
    assert 'data-testid="plan-actions"' not in plan


def test_an_owner_from_another_workspace_is_refused(cast, sprint):
    response = cast.client("pm").post(
        _url("action_add", sprint), {"text": "Do it", "owner": cast.outsider.pk}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_retro_cards_and_actions_never_reach_stakeholder_history(cast, sprint):
    retro.retro_add(sprint=sprint, column="ideas", text="Secret retro talk", actor=cast.pm)
    cast.share_with_stakeholders(Section.SPRINTS)
    page = cast.client("stakeholder").get(reverse("product_history", args=["LOD"])).content.decode()
    assert "Secret retro talk" not in page


@pytest.mark.parametrize("n", [3, 30])
def test_the_retro_board_runs_a_constant_number_of_queries(
    cast, sprint, django_assert_max_num_queries, n
):
    for i in range(n):
        item = retro.retro_add(
            sprint=sprint, column="went_well", text=f"Card {i}", actor=cast.engineer
        )
        retro.retro_vote(item=item, voter=cast.pm)
        retro.action_add(sprint=sprint, text=f"Action {i}", owner=cast.engineer, actor=cast.pm)
    client = cast.client("pm")
    client.get(_url("sprint_retro", sprint))
    # session, user, product, membership, sprint, backlog settings; cards with votes, actions,
    # carried actions, owner choices; the layout's navigation, products, unread count.
    with django_assert_max_num_queries(14):
        response = client.get(_url("sprint_retro", sprint))
    assert response.content.decode().count('data-testid="retro-card"') == n


def test_a_retried_vote_click_counts_once(cast, sprint):
    item = retro.retro_add(sprint=sprint, column="ideas", text="Pair more", actor=cast.engineer)
    client = cast.client("pm")
    for _ in range(2):  # the same click sent twice (a retry)
        client.post(_url("retro_item_vote", sprint, item.pk), {"voted": "1"})
    assert list(item.voters.all()) == [cast.pm]
    client.post(_url("retro_item_vote", sprint, item.pk), {"voted": "0"})
    client.post(_url("retro_item_vote", sprint, item.pk), {"voted": "0"})
    assert not item.voters.exists()


def test_a_retried_card_or_action_submit_adds_it_once(cast, sprint):
    client = cast.client("engineer")
    for _ in range(2):  # the browser retrying the same submit
        client.post(_url("retro_item_add", sprint), {"column": "went_well", "text": "Pairing"})
        client.post(_url("action_add", sprint), {"text": "Demo on Thursdays"})
    assert RetroItem.objects.filter(sprint=sprint).count() == 1
    assert ActionItem.objects.filter(sprint=sprint).count() == 1
    # Someone else's card with the same words is their own card.
    cast.client("pm").post(
        _url("retro_item_add", sprint), {"column": "went_well", "text": "Pairing"}
    )
    assert RetroItem.objects.filter(sprint=sprint).count() == 2
    # The same action agreed again with an owner gives it that owner, still one action.
    cast.client("pm").post(
        _url("action_add", sprint), {"text": "demo on thursdays", "owner": cast.engineer.pk}
    )
    assert list(ActionItem.objects.values_list("owner", flat=True)) == [cast.engineer.pk]
