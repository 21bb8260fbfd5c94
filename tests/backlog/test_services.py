"""Backlog services: creation, scoring, shipping, demand, conflicts, ideas triage."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog import services
from backlog.choices import FeatureStatus, Framework, IdeaStatus, StoryStatus
from backlog.models import BacklogSettings, Feature, Idea, UserStory
from backlog.signals import idea_merged
from pm.models import ActivityLog
from pm.services import EditConflict
from tests.backlog.factories import FeatureFactory, IdeaFactory, SprintFactory
from tests.factories import ThemeFactory


def _feature(cast, **data):
    return services.feature_create(
        product=cast.product, data={"title": "Bulk edit", **data}, actor=cast.pm
    )


def test_new_features_go_to_the_bottom_of_the_backlog(cast):
    first = _feature(cast, title="First")
    second = _feature(cast, title="Second")
    assert list(Feature.objects.filter(product=cast.product)) == [first, second]


def test_feature_create_scores_with_the_products_framework(cast):
    feature = _feature(cast, reach=1000, impact=2, confidence=50, effort=2)
    assert feature.score == Decimal("500")
    assert ActivityLog.objects.filter(object_id=feature.pk, action="created").exists()


def test_feature_create_refuses_a_theme_of_another_product(cast):
    with pytest.raises(ValidationError) as exc:
        _feature(cast, theme=ThemeFactory())
    assert "theme" in exc.value.message_dict


def test_feature_update_recomputes_the_score(cast):
    feature = _feature(cast, reach=1000, impact=2, confidence=50, effort=2)
    feature = services.feature_update(
        feature=feature, data={"effort": Decimal("4")}, expected_version=1, actor=cast.pm
    )
    assert feature.score == Decimal("250")
    feature.refresh_from_db()
    assert feature.score == Decimal("250")
    assert feature.version == 2


def test_second_save_of_the_same_version_is_refused_with_what_changed(cast):
    feature = _feature(cast, title="Bulk edit")
    services.feature_update(
        feature=feature, data={"title": "Bulk editing"}, expected_version=1, actor=cast.pm
    )
    with pytest.raises(EditConflict) as exc:
        services.feature_update(
            feature=feature, data={"title": "Mass edit"}, expected_version=1, actor=cast.admin
        )
    assert "Bulk editing" in exc.value.message()
    feature.refresh_from_db()
    assert feature.title == "Bulk editing"


def test_feature_ship_marks_it_shipped_and_bumps_the_version(cast):
    feature = _feature(cast)
    when = datetime(2027, 1, 15, 12, tzinfo=UTC)
    feature = services.feature_ship(feature=feature, shipped_at=when, actor=cast.pm)
    feature.refresh_from_db()
    assert feature.status == FeatureStatus.SHIPPED
    assert feature.shipped_at == when
    assert feature.version == 2


def test_leaving_shipped_clears_the_ship_date(cast):
    feature = services.feature_ship(feature=_feature(cast), shipped_at=None, actor=cast.pm)
    feature = services.feature_update(
        feature=feature,
        data={"status": FeatureStatus.IN_PROGRESS},
        expected_version=feature.version,
        actor=cast.pm,
    )
    assert feature.shipped_at is None


def test_demand_sets_reach_only_when_reach_comes_from_feedback(cast):
    feature = _feature(cast, reach=10, impact=1, confidence=100, effort=1)
    services.feature_set_demand(feature=feature, customers=7, arr=Decimal("70000"))
    feature.refresh_from_db()
    assert (feature.demand_customers, feature.reach, feature.score) == (7, 10, 10)

    services.backlog_settings_update(
        product=cast.product, reach_source=BacklogSettings.ReachSource.CUSTOMERS, actor=cast.pm
    )
    feature.refresh_from_db()
    assert (feature.reach, feature.score) == (7, 7)
    services.feature_set_demand(feature=feature, customers=12, arr=Decimal("90000"))
    feature.refresh_from_db()
    assert (feature.reach, feature.score, feature.version) == (12, 12, 1)


def test_switching_framework_rescores_every_feature(cast):
    feature = _feature(cast, value=9, effort=3, reach=100, impact=1, confidence=100)
    assert feature.score == Decimal("33.3333")
    services.backlog_settings_update(
        product=cast.product, framework=Framework.VALUE_EFFORT, actor=cast.pm
    )
    feature.refresh_from_db()
    assert feature.score == Decimal("3")


def test_sort_by_score_reranks_highest_first_with_unscored_last(cast):
    low = _feature(cast, title="low", value=1, effort=1)
    unscored = _feature(cast, title="unscored")
    high = _feature(cast, title="high", value=9, effort=1)
    services.backlog_settings_update(
        product=cast.product, framework=Framework.VALUE_EFFORT, actor=cast.pm
    )
    services.features_sort_by_score(product=cast.product, actor=cast.pm)
    assert list(Feature.objects.filter(product=cast.product)) == [high, low, unscored]


def test_bulk_status_change_bumps_versions_and_logs_each(cast):
    a, b = _feature(cast), _feature(cast)
    changed = services.features_set_status(
        product=cast.product, feature_ids=[a.pk, b.pk], status="refined", actor=cast.pm
    )
    assert changed == 2
    a.refresh_from_db()
    assert (a.status, a.version) == ("refined", 2)
    assert ActivityLog.objects.filter(object_id=b.pk, changes__status__1="Refined").exists()


# --- ideas --------------------------------------------------------------------------------


def test_accepting_an_idea_creates_a_linked_feature(cast):
    idea = services.idea_create(
        product=cast.product, data={"title": "Dark mode", "description": "Eyes"}, actor=cast.pm
    )
    feature = services.idea_accept(idea=idea, actor=cast.pm)
    idea.refresh_from_db()
    assert (idea.status, idea.feature) == (IdeaStatus.ACCEPTED, feature)
    assert feature.title == "Dark mode"
    with pytest.raises(ValidationError):
        services.idea_accept(idea=idea, actor=cast.pm)


def test_declining_needs_a_reason(cast):
    idea = IdeaFactory(product=cast.product)
    with pytest.raises(ValidationError):
        services.idea_decline(idea=idea, reason="  ", actor=cast.pm)
    services.idea_decline(idea=idea, reason="Out of scope", actor=cast.pm)
    idea.refresh_from_db()
    assert (idea.status, idea.decline_reason) == (IdeaStatus.DECLINED, "Out of scope")


def test_merging_moves_votes_links_and_earlier_merges(cast):
    feature = FeatureFactory(product=cast.product)
    target = IdeaFactory(product=cast.product, votes=3)
    source = IdeaFactory(product=cast.product, votes=5, feature=feature)
    earlier = IdeaFactory(product=cast.product, status=IdeaStatus.MERGED, merged_into=source)
    heard = []
    handler = lambda **kw: heard.append((kw["source"].pk, kw["target"].pk))  # noqa: E731
    idea_merged.connect(handler)
    try:
        services.idea_merge(idea=source, into=target, actor=cast.pm)
    finally:
        idea_merged.disconnect(handler)
    target.refresh_from_db()
    source.refresh_from_db()
    earlier.refresh_from_db()
    assert (target.votes, target.feature) == (8, feature)
    assert (source.status, source.merged_into, source.votes) == ("merged", target, 0)
    assert earlier.merged_into == target
    assert heard == [(source.pk, target.pk)]


def test_an_idea_cannot_be_merged_into_itself_or_another_product(cast):
    idea = IdeaFactory(product=cast.product)
    with pytest.raises(ValidationError):
        services.idea_merge(idea=idea, into=idea, actor=cast.pm)
    with pytest.raises(ValidationError):
        services.idea_merge(idea=idea, into=IdeaFactory(), actor=cast.pm)
    assert Idea.objects.get(pk=idea.pk).status == IdeaStatus.NEW


# --- stories ------------------------------------------------------------------------------


def _story(cast, feature=None, **data):
    feature = feature or FeatureFactory(product=cast.product)
    return services.story_create(
        feature=feature, data={"title": "Export CSV", **data}, actor=cast.pm
    )


def test_story_keys_count_up_per_product(cast):
    a, b = _story(cast), _story(cast)
    assert (a.key, b.key) == ("LOD-1", "LOD-2")
    assert list(UserStory.objects.filter(product=cast.product)) == [a, b]


def test_story_criteria_are_cleaned_into_text_and_done(cast):
    story = _story(
        cast,
        acceptance_criteria=["Given a list when I export then I get a CSV", {"text": " "}],
    )
    assert story.acceptance_criteria == [
        {"text": "Given a list when I export then I get a CSV", "done": False}
    ]


def test_story_points_must_be_fibonacci(cast):
    with pytest.raises(ValidationError):
        _story(cast, points=4)


def test_engineer_may_change_status_points_assignee_and_check_offs(cast):
    story = _story(cast, acceptance_criteria=["Given A then B"])
    story = services.story_update(
        story=story,
        data={
            "status": StoryStatus.IN_PROGRESS,
            "points": 5,
            "assignee": cast.engineer,
            "acceptance_criteria": [{"text": "Given A then B", "done": True}],
        },
        expected_version=1,
        actor=cast.engineer,
    )
    assert (story.status, story.points, story.assignee) == ("in_progress", 5, cast.engineer)
    assert story.acceptance_criteria[0]["done"] is True


@pytest.mark.parametrize(
    "data",
    [
        {"title": "Renamed"},
        {"sprint": None},
        {"acceptance_criteria": [{"text": "Reworded", "done": False}]},
    ],
)
def test_engineer_may_not_change_anything_else(cast, data):
    story = _story(cast, acceptance_criteria=["Given A then B"])
    with pytest.raises(PermissionDenied):
        services.story_update(story=story, data=data, expected_version=1, actor=cast.engineer)


def test_stakeholder_may_not_edit_a_story(cast):
    story = _story(cast)
    with pytest.raises(PermissionDenied):
        services.story_update(
            story=story, data={"status": "done"}, expected_version=1, actor=cast.stakeholder
        )


def test_check_off_refuses_a_criterion_that_was_reworded(cast):
    story = _story(cast, acceptance_criteria=["Given A then B"])
    services.story_update(
        story=story,
        data={"acceptance_criteria": [{"text": "Given A then C", "done": False}]},
        expected_version=1,
        actor=cast.pm,
    )
    with pytest.raises(EditConflict):
        services.story_set_criterion(
            story=story, index=0, text="Given A then B", done=True, actor=cast.engineer
        )
    story = services.story_set_criterion(
        story=story, index=0, text="Given A then C", done=True, actor=cast.engineer
    )
    assert story.acceptance_criteria == [{"text": "Given A then C", "done": True}]


def test_story_in_a_sprint_of_another_product_is_refused(cast):
    with pytest.raises(ValidationError):
        _story(cast, sprint=SprintFactory())


def test_sprint_must_end_after_it_starts(cast):
    from datetime import date

    with pytest.raises(ValidationError):
        services.sprint_create(
            product=cast.product,
            data={"name": "S1", "start": date(2027, 1, 10), "end": date(2027, 1, 1), "capacity": 5},
            actor=cast.pm,
        )


def test_votes_can_be_added_and_taken_back_but_never_below_zero(cast):
    idea = IdeaFactory(product=cast.product, votes=2)
    assert services.idea_add_votes(idea=idea, delta=3).votes == 5
    assert services.idea_add_votes(idea=idea, delta=-9).votes == 0
    idea.refresh_from_db()
    assert (idea.votes, idea.version) == (0, 1)
