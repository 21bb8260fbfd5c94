"""The backlog pages as a user sees them: ordering, inline editing, conflicts, role limits,
internal fields, triage, stories, sprints and the board."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from backlog import services
from backlog.choices import FeatureStatus, Framework, IdeaStatus, StoryStatus
from backlog.models import Feature, Idea, UserStory
from tests.backlog.factories import FeatureFactory, IdeaFactory, SprintFactory, StoryFactory
from tests.factories import ThemeFactory

HTMX = {"HX-Request": "true"}


def _url(name, cast, **kwargs):
    return reverse(name, kwargs={"key": cast.product.key, **kwargs})


def _rice(cast, title, reach, effort=1):
    return services.feature_create(
        product=cast.product,
        data={"title": title, "reach": reach, "impact": 1, "confidence": 100, "effort": effort},
        actor=cast.pm,
    )


def test_backlog_lists_features_in_rank_order_with_score_and_breakdown(cast):
    _rice(cast, "Second by score", 100)
    _rice(cast, "First by score", 900)
    html = cast.client("stakeholder").get(_url("backlog", cast)).content.decode()
    assert html.index("Second by score") < html.index("First by score")
    assert "900 × 1 × 100% ÷ 1 = 900" in html


def test_sorting_by_score_or_demand_is_a_view_not_a_rerank(cast):
    low, high = _rice(cast, "Low", 100), _rice(cast, "High", 900)
    services.feature_set_demand(feature=low, customers=9, arr=0)
    client = cast.client("pm")
    by_score = client.get(_url("backlog", cast) + "?sort=score").content.decode()
    assert by_score.index("High") < by_score.index("Low")
    by_demand = client.get(_url("backlog", cast) + "?sort=demand").content.decode()
    assert by_demand.index("Low") < by_demand.index("High")
    assert list(Feature.objects.filter(product=cast.product)) == [low, high]


def test_filters_narrow_the_backlog(cast):
    theme = ThemeFactory(product=cast.product, name="Growth")
    FeatureFactory(product=cast.product, title="Themed bug", theme=theme, kind="bug", moscow="must")
    FeatureFactory(product=cast.product, title="Plain feature", status=FeatureStatus.REFINED)
    client = cast.client("pm")
    for query, shown, hidden in [
        (f"theme={theme.pk}", "Themed bug", "Plain feature"),
        ("kind=bug", "Themed bug", "Plain feature"),
        ("moscow=must", "Themed bug", "Plain feature"),
        ("status=refined", "Plain feature", "Themed bug"),
        ("q=plain", "Plain feature", "Themed bug"),
    ]:
        html = client.get(_url("backlog", cast) + "?" + query, headers=HTMX).content.decode()
        assert shown in html and hidden not in html, query


def test_nonsense_filter_values_are_ignored(cast):
    FeatureFactory(product=cast.product, title="Still here")
    response = cast.client("pm").get(_url("backlog", cast) + "?theme=x&status=nope&sort=zzz")
    assert response.status_code == 200
    assert "Still here" in response.content.decode()


def test_the_backlog_shows_100_rows_then_loads_more(cast):
    keys = services.ranking.keys_between(None, None, 105)
    Feature.objects.bulk_create(
        Feature(product=cast.product, title=f"Item {i:03}", rank=k) for i, k in enumerate(keys)
    )
    client = cast.client("pm")
    first = client.get(_url("backlog", cast)).content.decode()
    assert first.count('data-testid="feature-row"') == 100
    assert "Item 099" in first and "Item 100" not in first
    more = client.get(_url("backlog", cast) + "?offset=100", headers=HTMX).content.decode()
    assert more.count('data-testid="feature-row"') == 5
    assert "Item 104" in more


def test_drag_and_drop_move_is_persisted_and_the_table_comes_back_renumbered(cast):
    a, b, c = (FeatureFactory(product=cast.product, title=t) for t in ("Ant", "Bee", "Cat"))
    response = cast.client("pm").post(
        _url("feature_move", cast, pk=c.pk), {"above": a.pk, "below": b.pk}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Moved “Cat”" in json.loads(response["HX-Trigger"])["toast"]["message"]
    assert list(Feature.objects.filter(product=cast.product)) == [a, c, b]
    html = response.content.decode()
    assert response["HX-Retarget"] == "#feature-table"
    assert html.index(">Ant<") < html.index(">Cat<") < html.index(">Bee<")


def test_moving_next_to_a_feature_of_another_product_is_a_404(cast):
    feature = FeatureFactory(product=cast.product)
    response = cast.client("pm").post(
        _url("feature_move", cast, pk=feature.pk), {"above": FeatureFactory().pk}
    )
    assert response.status_code == 404


def test_inline_score_edit_saves_and_rerenders_the_row(cast):
    feature = _rice(cast, "Inline", 100, effort=2)
    url = _url("feature_score_edit", cast, pk=feature.pk)
    form = cast.client("pm").get(url, headers=HTMX).content.decode()
    assert 'name="effort"' in form and 'name="job_size"' not in form  # RICE inputs only
    response = cast.client("pm").post(
        url,
        {"reach": 100, "impact": 1, "confidence": 100, "effort": 4, "version": 1},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="feature-row"' in html and "100 × 1 × 100% ÷ 4 = 25" in html
    assert "Saved" in json.loads(response.headers["HX-Trigger"])["toast"]["message"]


def test_bad_score_input_is_shown_beside_the_field(cast):
    feature = _rice(cast, "Inline", 100)
    response = cast.client("pm").post(
        _url("feature_score_edit", cast, pk=feature.pk),
        {"reach": 100, "impact": 1, "confidence": 250, "effort": 0, "version": 1},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_confidence_errors"' in html and 'id="id_effort_errors"' in html
    assert Feature.objects.get(pk=feature.pk).version == 1


def test_second_inline_save_of_a_stale_version_is_refused_showing_what_changed(cast):
    feature = _rice(cast, "Contested", 100)
    url = _url("feature_score_edit", cast, pk=feature.pk)
    base = {"reach": 100, "impact": 1, "confidence": 100, "version": 1}
    cast.client("pm").post(url, {**base, "effort": 3}, headers=HTMX)
    response = cast.client("admin").post(url, {**base, "effort": 5}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this" in html and "effort → “3”" in html
    feature.refresh_from_db()
    assert (feature.effort, feature.version) == (3, 2)


def test_feature_edit_conflict_keeps_the_first_save(cast):
    feature = FeatureFactory(product=cast.product, title="Original")
    url = _url("feature_edit", cast, pk=feature.pk)
    data = {"kind": "feature", "status": "backlog", "version": 1}
    saved = cast.client("pm").post(url, {**data, "title": "From PM"}, headers=HTMX)
    assert saved.headers["HX-Refresh"] == "true"
    response = cast.client("admin").post(url, {**data, "title": "From admin"}, headers=HTMX)
    assert "title → “From PM”" in response.content.decode()
    assert Feature.objects.get(pk=feature.pk).title == "From PM"


def test_feature_description_markdown_is_sanitised(cast):
    feature = FeatureFactory(
        product=cast.product,
        description='**Bold** <script>alert("x")</script> <img src=x onerror=alert(1)>',
    )
    html = cast.client("stakeholder").get(_url("feature_detail", cast, pk=feature.pk)).content
    html = html.decode()
    assert "<strong>Bold</strong>" in html
    assert 'alert("x")</script>' not in html and "onerror" not in html


def _roi_feature(cast):
    return services.feature_create(
        product=cast.product,
        data={
            "title": "Pricey",
            "expected_revenue": Decimal("98765"),
            "cost": Decimal("12345"),
            "roi_horizon_months": 12,
        },
        actor=cast.pm,
    )


def test_stakeholders_never_see_cost_or_roi_inputs(cast):
    feature = _roi_feature(cast)
    services.backlog_settings_update(product=cast.product, framework=Framework.ROI, actor=cast.pm)
    for url in [_url("feature_detail", cast, pk=feature.pk), _url("backlog", cast)]:
        pm_html = cast.client("pm").get(url).content.decode()
        stakeholder_html = cast.client("stakeholder").get(url).content.decode()
        assert "12,345" in pm_html
        assert "12,345" not in stakeholder_html and "98,765" not in stakeholder_html
        assert "12345" not in stakeholder_html and "98765" not in stakeholder_html
    assert "Return on investment" not in stakeholder_html


def test_roi_and_payback_period_on_the_feature_page(cast):
    feature = _roi_feature(cast)
    html = cast.client("engineer").get(_url("feature_detail", cast, pk=feature.pk)).content
    # (98,765 − 12,345) ÷ 12,345 = 7.0004 (700%); 98,765 a year pays 12,345 back in 1.5 months
    assert "= 7 (700.04%)" in html.decode() and "= 1.5 months" in html.decode()


def test_zero_or_missing_effort_explains_why_there_is_no_score(cast):
    feature = FeatureFactory(product=cast.product, reach=10, impact=1, confidence=50)
    html = cast.client("pm").get(_url("feature_detail", cast, pk=feature.pk)).content.decode()
    assert "Needs effort to compute a score." in html


def test_stakeholders_do_not_see_archived_features(cast):
    feature = FeatureFactory(product=cast.product, title="Shelved", status=FeatureStatus.ARCHIVED)
    assert "Shelved" not in cast.client("stakeholder").get(_url("backlog", cast)).content.decode()
    url = _url("feature_detail", cast, pk=feature.pk)
    assert cast.client("stakeholder").get(url).status_code == 404
    assert cast.client("engineer").get(url).status_code == 200


def test_readers_get_no_editing_controls(cast):
    FeatureFactory(product=cast.product)
    html = cast.client("stakeholder").get(_url("backlog", cast)).content.decode()
    assert "data-sortable" not in html and "edit-score" not in html and "bulk-form" not in html
    pm_html = cast.client("pm").get(_url("backlog", cast)).content.decode()
    assert "data-sortable" in pm_html and "edit-score" in pm_html


def test_bulk_status_change_of_selected_rows(cast):
    a, b, c = (FeatureFactory(product=cast.product) for _ in range(3))
    response = cast.client("pm").post(
        _url("backlog_bulk_status", cast),
        {"features": [a.pk, b.pk], "new_status": "planned"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "2 features set to Planned" in response.headers["HX-Trigger"]
    statuses = dict(Feature.objects.values_list("pk", "status"))
    assert (statuses[a.pk], statuses[b.pk], statuses[c.pk]) == ("planned", "planned", "backlog")


def test_bulk_status_change_keeps_the_status_filter_of_the_page(cast):
    a, b, c = (FeatureFactory(product=cast.product, status="backlog") for _ in range(3))
    # What the page posts: the filters as hidden inputs, the ticked rows and the new status.
    response = cast.client("pm").post(
        _url("backlog_bulk_status", cast),
        {"status": "backlog", "features": [a.pk, b.pk], "new_status": "refined"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "2 features set to Refined" in response.headers["HX-Trigger"]
    html = response.content.decode()
    # Still the Backlog filter: the two refined rows leave it, the third stays.
    assert html.count('data-testid="feature-row"') == 1
    assert f'id="feature-{c.pk}"' in html
    assert '<input type="hidden" name="status" value="backlog">' in html
    assert Feature.objects.filter(status="refined").count() == 2


def test_bulk_status_with_nothing_selected_says_so(cast):
    response = cast.client("pm").post(
        _url("backlog_bulk_status", cast), {"new_status": "planned"}, headers=HTMX
    )
    assert "Select at least one feature" in response.headers["HX-Trigger"]


def test_sort_by_score_action_reranks_the_backlog(cast):
    low, high = _rice(cast, "Low", 10), _rice(cast, "High", 90)
    cast.client("pm").post(_url("backlog_sort_by_score", cast), headers=HTMX)
    assert list(Feature.objects.filter(product=cast.product)) == [high, low]


def test_framework_switch_rescores_and_relabels_the_column(cast):
    feature = FeatureFactory(product=cast.product, value=8, effort=2)
    cast.client("pm").post(_url("backlog_settings", cast), {"framework": "value_effort"})
    feature.refresh_from_db()
    assert feature.score == 4
    assert "Value ÷ effort" in cast.client("pm").get(_url("backlog", cast)).content.decode()


def test_quick_add_puts_the_feature_at_the_bottom(cast):
    FeatureFactory(product=cast.product, title="Existing")
    response = cast.client("pm").post(
        _url("feature_new", cast), {"title": "Brand new", "kind": "feature"}, headers=HTMX
    )
    assert response.status_code == 200
    assert list(Feature.objects.values_list("title", flat=True)) == ["Existing", "Brand new"]


def test_quick_add_without_a_title_shows_the_error(cast):
    response = cast.client("pm").post(_url("feature_new", cast), {"kind": "feature"}, headers=HTMX)
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert response.headers["HX-Retarget"] == "#new-feature"


# --- ideas --------------------------------------------------------------------------------


def test_capture_and_accept_an_idea(cast):
    client = cast.client("pm")
    client.post(_url("idea_new", cast), {"title": "Slack digest", "source": "sales"}, headers=HTMX)
    idea = Idea.objects.get(title="Slack digest")
    response = client.post(_url("idea_accept", cast, pk=idea.pk), headers=HTMX)
    assert response.status_code == 200
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.ACCEPTED
    assert idea.feature.title == "Slack digest"


def test_declining_without_a_reason_shows_the_error(cast):
    idea = IdeaFactory(product=cast.product)
    url = _url("idea_decline", cast, pk=idea.pk)
    response = cast.client("pm").post(url, {"reason": ""}, headers=HTMX)
    assert "This field is required" in response.content.decode()
    cast.client("pm").post(url, {"reason": "Not our market"}, headers=HTMX)
    assert Idea.objects.get(pk=idea.pk).decline_reason == "Not our market"


def test_merging_an_idea_from_the_page(cast):
    source = IdeaFactory(product=cast.product, votes=4)
    target = IdeaFactory(product=cast.product, votes=1)
    cast.client("pm").post(
        _url("idea_merge", cast, pk=source.pk), {"into": target.pk}, headers=HTMX
    )
    target.refresh_from_db()
    assert target.votes == 5
    assert Idea.objects.get(pk=source.pk).merged_into == target


def test_stakeholders_see_ideas_without_who_asked(cast):
    IdeaFactory(product=cast.product, title="Visible idea", submitter_name="Globex CFO")
    html = cast.client("stakeholder").get(_url("ideas", cast)).content.decode()
    assert "Visible idea" in html and "Globex CFO" not in html
    assert "Globex CFO" in cast.client("pm").get(_url("ideas", cast)).content.decode()


# --- stories ------------------------------------------------------------------------------


def test_pm_adds_a_story_with_criteria_and_gets_the_next_key(cast):
    feature = FeatureFactory(product=cast.product)
    response = cast.client("pm").post(
        _url("story_new", cast, pk=feature.pk),
        {
            "title": "Export",
            "as_a": "PM",
            "i_want": "a CSV",
            "criteria": "Given a list\nWhen I export\n\n",
            "points": "5",
            "status": "todo",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    story = UserStory.objects.get(title="Export")
    assert story.key == "LOD-1" and story.points == 5
    assert [c["text"] for c in story.acceptance_criteria] == ["Given a list", "When I export"]


def test_non_fibonacci_points_are_refused_beside_the_field(cast):
    feature = FeatureFactory(product=cast.product)
    response = cast.client("pm").post(
        _url("story_new", cast, pk=feature.pk),
        {"title": "Export", "points": "4", "status": "todo"},
        headers=HTMX,
    )
    assert 'id="id_points_errors"' in response.content.decode()
    assert not UserStory.objects.exists()


def test_engineer_form_only_offers_status_points_and_assignee(cast):
    story = StoryFactory(feature__product=cast.product, title="Keep me")
    url = _url("story_edit", cast, number=story.number)
    html = cast.client("engineer").get(url, headers=HTMX).content.decode()
    assert 'name="status"' in html and 'name="title"' not in html
    cast.client("engineer").post(
        url,
        {
            "status": "in_progress",
            "points": "8",
            "assignee": cast.engineer.pk,
            "title": "X",
            "version": 1,
        },
        headers=HTMX,
    )
    story.refresh_from_db()
    assert (story.status, story.points, story.assignee, story.title) == (
        "in_progress",
        8,
        cast.engineer,
        "Keep me",
    )


def test_engineer_checks_off_a_criterion(cast):
    story = StoryFactory(
        feature__product=cast.product, acceptance_criteria=[{"text": "Given A", "done": False}]
    )
    url = _url("story_criterion", cast, number=story.number, index=0)
    cast.client("engineer").post(url, {"text": "Given A", "done": "on"}, headers=HTMX)
    story.refresh_from_db()
    assert story.acceptance_criteria == [{"text": "Given A", "done": True}]


def test_stakeholders_see_the_checklist_without_checkboxes(cast):
    story = StoryFactory(
        feature__product=cast.product, acceptance_criteria=[{"text": "Given B", "done": True}]
    )
    html = cast.client("stakeholder").get(_url("story_detail", cast, number=story.number))
    html = html.content.decode()
    assert "Given B" in html and 'type="checkbox"' not in html


# --- sprints and the board ----------------------------------------------------------------


def test_board_drag_changes_status_and_a_stale_card_is_refused(cast):
    story = StoryFactory(feature__product=cast.product, sprint=SprintFactory(product=cast.product))
    url = _url("story_status", cast, number=story.number)
    ok = cast.client("engineer").post(url, {"status": "in_progress", "version": 1}, headers=HTMX)
    assert ok.status_code == 200 and ok["HX-Retarget"] == "#board"
    assert "moved to In progress" in json.loads(ok["HX-Trigger"])["toast"]["message"]
    assert UserStory.objects.get(pk=story.pk).version == 2
    stale = cast.client("pm").post(url, {"status": "done", "version": 1}, headers=HTMX)
    assert stale.status_code == 409
    assert "In progress" in json.loads(stale["HX-Trigger"])["toast"]["message"]
    # The board as saved: the card stays in In progress.
    column = stale.content.decode().split('data-testid="column-in_progress"')[1]
    assert f'data-testid="card-{story.key}"' in column.split('data-testid="column-')[0]
    assert UserStory.objects.get(pk=story.pk).status == StoryStatus.IN_PROGRESS


def test_board_shows_columns_and_commitment(cast):
    sprint = SprintFactory(product=cast.product, capacity=5)
    StoryFactory(feature__product=cast.product, sprint=sprint, points=3, status="done", title="A")
    StoryFactory(feature__product=cast.product, sprint=sprint, points=5, title="B")
    html = cast.client("stakeholder").get(_url("sprint_board", cast, pk=sprint.pk)).content
    html = html.decode()
    assert html.index('data-testid="column-todo"') < html.index(">B<")
    assert html.index('data-testid="column-done"') < html.index(">A<")
    assert "8 / 5 pts" in html and "Over-committed by 3 points" in html
    assert "data-board" not in html  # read-only for stakeholders


def test_planning_moves_stories_in_and_warns_on_over_commit(cast):
    sprint = SprintFactory(product=cast.product, capacity=5)
    story = StoryFactory(feature__product=cast.product, points=8)
    response = cast.client("pm").post(
        _url("sprint_plan_story", cast, pk=sprint.pk),
        {"story": story.number, "action": "add"},
        headers=HTMX,
    )
    assert UserStory.objects.get(pk=story.pk).sprint == sprint
    assert "8 / 5 pts committed" in response.content.decode()
    assert "Over capacity by 3 points" in response.headers["HX-Trigger"]
    cast.client("pm").post(
        _url("sprint_plan_story", cast, pk=sprint.pk),
        {"story": story.number, "action": "remove"},
        headers=HTMX,
    )
    assert UserStory.objects.get(pk=story.pk).sprint is None


def test_sprint_ending_before_it_starts_is_refused_beside_the_field(cast):
    response = cast.client("pm").post(
        _url("sprint_new", cast),
        {"name": "S", "start": "2027-02-10", "end": "2027-02-01", "capacity": 10},
        headers=HTMX,
    )
    assert 'id="id_end_errors"' in response.content.decode()


def test_velocity_chart_has_done_points_of_finished_sprints(cast):
    today = date.today()
    for n, done in enumerate([8, 13], start=1):
        sprint = SprintFactory(
            product=cast.product,
            name=f"Past {n}",
            start=today - timedelta(days=50 - 14 * n),
            end=today - timedelta(days=39 - 14 * n),
        )
        StoryFactory(feature__product=cast.product, sprint=sprint, points=done, status="done")
        StoryFactory(feature__product=cast.product, sprint=sprint, points=2)
    html = cast.client("stakeholder").get(_url("sprints", cast)).content.decode()
    data = json.loads(html.split('id="velocity-data" type="application/json">')[1].split("<")[0])
    assert data == {"labels": ["Past 1", "Past 2"], "done": [8, 13], "committed": [10, 15]}


def test_overview_shows_the_top_of_the_backlog(cast):
    FeatureFactory(product=cast.product, title="Most important")
    html = cast.client("stakeholder").get(reverse("product_overview", args=[cast.product.key]))
    assert "Top of the backlog" in html.content.decode()
    assert "Most important" in html.content.decode()


@pytest.mark.parametrize("role", ["pm", "stakeholder"])
def test_every_page_renders_for_readers_and_editors(cast, role):
    sprint = SprintFactory(product=cast.product)
    story = StoryFactory(feature__product=cast.product, sprint=sprint)
    IdeaFactory(product=cast.product)
    client = cast.client(role)
    for url in [
        _url("ideas", cast),
        _url("backlog", cast),
        _url("feature_detail", cast, pk=story.feature_id),
        _url("story_detail", cast, number=story.number),
        _url("sprints", cast),
        _url("sprint_board", cast, pk=sprint.pk),
    ]:
        assert client.get(url).status_code == 200, url


def test_stories_of_a_feature_can_be_reranked(cast):
    feature = FeatureFactory(product=cast.product)
    a, b, c = (StoryFactory(feature=feature, title=t) for t in "abc")
    response = cast.client("pm").post(
        _url("story_move", cast, number=c.number), {"below": a.number}, headers=HTMX
    )
    assert response.status_code == 200 and response["HX-Retarget"] == "#stories"
    assert list(UserStory.objects.filter(feature=feature)) == [c, a, b]
    html = cast.client("pm").get(_url("feature_detail", cast, pk=feature.pk)).content.decode()
    assert html.index(f"LOD-{c.number}") < html.index(f"LOD-{a.number}")
