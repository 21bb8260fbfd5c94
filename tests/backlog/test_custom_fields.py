"""Custom fields: PMs define typed fields per product; values are edited inline on the item pages,
validated per type, versioned, and shown to stakeholders only when the field is public."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from backlog import custom_fields
from backlog.models import CustomField, Feature, UserStory
from pm.models import ActivityLog
from tests.backlog.factories import FeatureFactory, IdeaFactory, StoryFactory
from tests.feedback.factories import FeedbackItemFactory


def _field(cast, name="Platform", kind="text", target="feature", **kw) -> CustomField:
    return custom_fields.custom_field_create(
        product=cast.product, applies_to=target, name=name, kind=kind, actor=cast.pm, **kw
    )


# --- values, per type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "raw", "stored"),
    [
        ("text", [], "  Northwind  ", "Northwind"),
        ("number", [], "1,250.5", 1250.5),
        ("number", [], 42, 42),
        ("select", ["Web", "iOS"], "iOS", "iOS"),
        ("multi_select", ["Web", "iOS", "API"], ["API", "Web", "API"], ["Web", "API"]),
        ("date", [], "2026-12-15", "2026-12-15"),
        ("url", [], "https://example.com/spec", "https://example.com/spec"),
        ("text", [], "", None),
    ],
)
def test_each_type_stores_a_clean_value(cast, kind, options, raw, stored):
    field = _field(cast, kind=kind, options=options)
    assert custom_fields.clean_value(field, raw) == stored


@pytest.mark.parametrize(
    ("kind", "options", "raw"),
    [
        ("text", [], "a\x00b"),
        ("text", [], "x" * 501),
        ("text", [], {"deep": {"er": [1, [2, [3]]]}}),
        ("number", [], "1e400"),
        ("number", [], "NaN"),
        ("number", [], 10**30),
        ("number", [], "0.000001"),
        ("number", [], True),
        ("number", [], [1]),
        ("select", ["Web"], "Desktop"),
        ("multi_select", ["Web"], "Web"),
        ("multi_select", ["Web"], [{"a": 1}]),
        ("date", [], "9999-12-31"),
        ("date", [], "0001-01-01"),
        ("date", [], "yesterday"),
        ("url", [], "javascript:alert(1)"),
        ("user", [], 10**40),
    ],
)
def test_hostile_values_are_field_errors(cast, kind, options, raw):
    field = _field(cast, kind=kind, options=options)
    with pytest.raises(ValidationError):
        custom_fields.clean_value(field, raw, member_ids={cast.pm.pk})


def test_a_member_field_takes_members_of_the_workspace_only(cast):
    field = _field(cast, kind="user")
    members = custom_fields.member_ids(cast.product)
    assert custom_fields.clean_value(field, str(cast.engineer.pk), members) == cast.engineer.pk
    with pytest.raises(ValidationError):
        custom_fields.clean_value(field, cast.outsider.pk, members)


# --- the settings page ------------------------------------------------------------------------


def test_pm_adds_a_select_field_on_the_settings_page(cast):
    client = cast.client("pm")
    url = reverse("custom_fields", args=[cast.product.key])
    response = client.post(
        url,
        {"applies_to": "feature", "name": "Platform", "kind": "select", "options": "Web\niOS\n"},
    )
    assert response.status_code == 302
    field = CustomField.objects.get(product=cast.product)
    assert (field.name, field.kind, field.options, field.public) == (
        "Platform",
        "select",
        ["Web", "iOS"],
        False,
    )
    page = client.get(url).content.decode()
    assert "Platform" in page and "Web, iOS" in page


def test_a_select_field_without_options_is_refused_next_to_the_field(cast):
    client = cast.client("pm")
    url = reverse("custom_fields", args=[cast.product.key])
    response = client.post(url, {"applies_to": "idea", "name": "Segment", "kind": "select"})
    assert response.status_code == 200
    assert "needs at least one option" in response.content.decode()
    assert not CustomField.objects.exists()


def test_two_fields_with_one_name_on_the_same_items_are_refused(cast):
    _field(cast, name="Platform")
    with pytest.raises(ValidationError):
        _field(cast, name="platform")
    _field(cast, name="Platform", target="story")  # on other items it is fine


def test_pm_renames_reorders_and_archives_fields(cast):
    first, second = _field(cast, name="A"), _field(cast, name="B")
    client = cast.client("pm")
    key = cast.product.key
    client.post(
        reverse("custom_field_edit", args=[key, second.pk]), {"name": "Bee", "public": "on"}
    )
    client.post(reverse("custom_field_move", args=[key, second.pk]), {"direction": "up"})
    names = [f.name for f in custom_fields.fields_for(cast.product, "feature")]
    assert names == ["Bee", "A"]
    assert CustomField.objects.get(pk=second.pk).public
    client.post(reverse("custom_field_archive", args=[key, first.pk]), {"archived": "1"})
    assert [f.name for f in custom_fields.fields_for(cast.product, "feature")] == ["Bee"]
    client.post(reverse("custom_field_archive", args=[key, first.pk]), {"archived": "0"})
    assert len(custom_fields.fields_for(cast.product, "feature")) == 2


def test_the_type_of_a_field_cannot_change(cast):
    field = _field(cast, kind="number")
    cast.client("pm").post(
        reverse("custom_field_edit", args=[cast.product.key, field.pk]),
        {"name": "Fit", "kind": "text", "applies_to": "idea"},
    )
    field.refresh_from_db()
    assert (field.name, field.kind, field.applies_to) == ("Fit", "number", "feature")


@pytest.mark.parametrize("role", ["engineer", "stakeholder"])
def test_only_pms_define_fields(cast, role):
    response = cast.client(role).post(
        reverse("custom_fields", args=[cast.product.key]),
        {"applies_to": "feature", "name": "X", "kind": "text"},
    )
    assert response.status_code == 403
    assert not CustomField.objects.exists()


def test_an_outsider_gets_404(cast):
    response = cast.client("outsider").get(reverse("custom_fields", args=[cast.product.key]))
    assert response.status_code == 404


# --- values on the item pages -----------------------------------------------------------------


def test_pm_fills_in_feature_fields_inline_and_the_history_says_so(cast):
    platform = _field(cast, name="Platform", kind="multi_select", options=["Web", "iOS"])
    fit = _field(cast, name="Strategic fit", kind="number")
    feature = FeatureFactory(product=cast.product)
    client = cast.client("pm")
    url = reverse("feature_values", args=[cast.product.key, feature.pk])
    form = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert f'name="cf_{platform.pk}"' in form
    response = client.post(
        url,
        {"version": feature.version, f"cf_{platform.pk}": ["iOS", "Web"], f"cf_{fit.pk}": "7.5"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Web, iOS" in response.content.decode()
    feature.refresh_from_db()
    assert feature.custom_values == {platform.key: ["Web", "iOS"], fit.key: 7.5}
    assert feature.version == 2
    page = client.get(reverse("feature_detail", args=[cast.product.key, feature.pk]))
    html = page.content.decode()
    assert "Strategic fit" in html and "7.5" in html
    entry = ActivityLog.objects.filter(object_id=feature.pk, changes__has_key="custom_values")
    assert entry.exists()


def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_saved(cast):
    when = _field(cast, name="Target date", kind="date")
    feature = FeatureFactory(product=cast.product)
    response = cast.client("pm").post(
        reverse("feature_values", args=[cast.product.key, feature.pk]),
        {"version": feature.version, f"cf_{when.pk}": "3026-01-01"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Enter a date between" in response.content.decode()
    feature.refresh_from_db()
    assert feature.custom_values == {} and feature.version == 1


def test_a_stale_edit_gets_the_merge_form_not_an_overwrite(cast):
    fit = _field(cast, name="Fit", kind="number")
    feature = FeatureFactory(product=cast.product)
    custom_fields.custom_values_update(
        instance=feature, fields=[fit], values={fit.key: 3}, expected_version=1, actor=cast.admin
    )
    response = cast.client("pm").post(
        reverse("feature_values", args=[cast.product.key, feature.pk]),
        {"version": 1, f"cf_{fit.pk}": "9"},
        headers={"HX-Request": "true"},
    )
    assert "Someone else saved this" in response.content.decode()
    feature.refresh_from_db()
    assert feature.custom_values == {fit.key: 3}


def test_engineers_edit_story_fields_but_not_feature_fields(cast):
    component = _field(cast, name="Component", kind="select", options=["API"], target="story")
    story = StoryFactory(feature__product=cast.product)
    client = cast.client("engineer")
    response = client.post(
        reverse("story_values", args=[cast.product.key, story.number]),
        {"version": story.version, f"cf_{component.pk}": "API"},
    )
    assert response.status_code == 302
    assert UserStory.objects.get(pk=story.pk).custom_values == {component.key: "API"}
    feature = FeatureFactory(product=cast.product)
    response = client.get(reverse("feature_values", args=[cast.product.key, feature.pk]))
    assert response.status_code == 403


def test_idea_and_feedback_pages_show_their_fields(cast):
    segment = _field(cast, name="Segment", kind="select", options=["SMB"], target="idea")
    risk = _field(cast, name="Churn risk", kind="text", target="feedback")
    idea = IdeaFactory(product=cast.product, custom_values={segment.key: "SMB"})
    item = FeedbackItemFactory(product=cast.product, custom_values={risk.key: "High churn"})
    client = cast.client("pm")
    html = client.get(reverse("idea_detail", args=[cast.product.key, idea.pk])).content.decode()
    assert "SMB" in html
    html = client.get(reverse("feedback_detail", args=[cast.product.key, item.pk])).content.decode()
    assert "High churn" in html
    response = client.post(
        reverse("feedback_values", args=[cast.product.key, item.pk]),
        {"version": item.version, f"cf_{risk.pk}": ""},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.custom_values == {}


def test_archived_fields_keep_their_values_out_of_sight(cast):
    fit = _field(cast, name="Fit", kind="number")
    feature = FeatureFactory(product=cast.product, custom_values={fit.key: 5})
    custom_fields.custom_field_archive(field=fit, archived=True, actor=cast.pm)
    client = cast.client("pm")
    html = client.get(reverse("feature_detail", args=[cast.product.key, feature.pk])).content
    assert b"Fit" not in html
    custom_fields.custom_values_update(
        instance=feature, fields=[], values={}, expected_version=1, actor=cast.pm
    )
    assert Feature.objects.get(pk=feature.pk).custom_values == {fit.key: 5}


# --- visibility -------------------------------------------------------------------------------


def test_stakeholders_see_public_fields_only(cast):
    public = _field(cast, name="Platform", public=True)
    internal = _field(cast, name="Sales commitment")
    feature = FeatureFactory(
        product=cast.product,
        status="shipped",
        custom_values={public.key: "Web and iOS", internal.key: "Promised to Northwind"},
    )
    custom_fields.custom_values_update(
        instance=feature,
        fields=[public, internal],
        values={public.key: "Web", internal.key: "Promised to Initech"},
        expected_version=feature.version,
        actor=cast.pm,
    )
    url = reverse("feature_detail", args=[cast.product.key, feature.pk])
    html = cast.client("stakeholder").get(url).content.decode()
    assert "Platform" in html and "Web" in html
    assert "Sales commitment" not in html
    assert "Northwind" not in html and "Initech" not in html
    team = cast.client("engineer").get(url).content.decode()
    assert "Promised to Initech" in team


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 12])
def test_feature_page_queries_do_not_grow_with_custom_fields(
    cast, django_assert_max_num_queries, n
):
    feature = FeatureFactory(product=cast.product)
    values = {}
    for i in range(n):
        field = _field(cast, name=f"Field {i}", kind="number", public=True)
        values[field.key] = i + 100
    user = _field(cast, name="Reviewer", kind="user")
    values[user.key] = cast.engineer.pk
    Feature.objects.filter(pk=feature.pk).update(custom_values=values)
    client = cast.client("pm")
    url = reverse("feature_detail", args=[cast.product.key, feature.pk])
    # The feature page's own queries (tests/backlog/test_queries.py: up to 25) plus the
    # product's fields and the members a member field names = 27, whatever the number of fields.
    with django_assert_max_num_queries(27):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="custom-value"') == n + 1
    assert f"Field {n - 1}" in html


@pytest.mark.parametrize("n", [2, 12])
def test_value_form_queries_do_not_grow_with_custom_fields(cast, django_assert_max_num_queries, n):
    story = StoryFactory(feature__product=cast.product)
    for i in range(n):
        _field(cast, name=f"Field {i}", kind="select", options=["a", "b"], target="story")
    _field(cast, name="Pair", kind="user", target="story")
    client = cast.client("engineer")
    url = reverse("story_values", args=[cast.product.key, story.number])
    # session, user, product + workspace, membership, the story, its fields, assignable
    # members, nav memberships, notifications, nav products (+ slack)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('name="cf_') == n + 1


def test_settings_page_queries_do_not_grow_with_fields(cast, django_assert_max_num_queries):
    client = cast.client("pm")
    url = reverse("custom_fields", args=[cast.product.key])
    for size in (2, 20):
        while CustomField.objects.count() < size:
            _field(cast, name=f"Field {CustomField.objects.count()}")
        with django_assert_max_num_queries(10):
            response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count('data-testid="custom-field"') == size


def test_dates_far_away_are_refused_on_the_page_too(cast):
    when = _field(cast, name="Due", kind="date")
    feature = FeatureFactory(product=cast.product)
    for value in ("0001-01-01", "99999-01-01", "2026-02-30"):
        response = cast.client("pm").post(
            reverse("feature_values", args=[cast.product.key, feature.pk]),
            {"version": feature.version, f"cf_{when.pk}": value},
        )
        assert response.status_code == 200, value
    assert Feature.objects.get(pk=feature.pk).custom_values == {}


# --- the backlog: filters, sorting, columns -----------------------------------------------------


def _titles(response) -> list[str]:
    import re

    return re.findall(r'class="item-title" href="[^"]+">([^<]+)</a>', response.content.decode())


def test_backlog_filters_by_custom_fields(cast):
    platform = _field(cast, name="Platform", kind="multi_select", options=["Web", "iOS"])
    fit = _field(cast, name="Fit", kind="number")
    owner = _field(cast, name="Champion", kind="user")
    FeatureFactory(product=cast.product, title="Alpha", custom_values={platform.key: ["Web"]})
    FeatureFactory(
        product=cast.product,
        title="Beta",
        custom_values={platform.key: ["Web", "iOS"], fit.key: 8, owner.key: cast.pm.pk},
    )
    FeatureFactory(product=cast.product, title="Gamma", custom_values={fit.key: 3})
    client = cast.client("pm")
    url = reverse("backlog", args=[cast.product.key])
    assert _titles(client.get(url, {f"cf{platform.pk}": "iOS"})) == ["Beta"]
    assert _titles(client.get(url, {f"cf{platform.pk}": "none"})) == ["Gamma"]
    assert _titles(client.get(url, {f"cf{fit.pk}": "5..10"})) == ["Beta"]
    assert _titles(client.get(url, {f"cf{fit.pk}": "..5"})) == ["Gamma"]
    assert _titles(client.get(url, {f"cf{owner.pk}": str(cast.pm.pk)})) == ["Beta"]
    # Nonsense is ignored, as the other filters' is: never an error.
    for junk in ("Desktop", "1e999", "a..b", "x" * 500):
        response = client.get(url, {f"cf{platform.pk}": junk, f"cf{fit.pk}": junk})
        assert response.status_code == 200


def test_backlog_sorts_by_a_custom_number_with_empty_values_last(cast):
    fit = _field(cast, name="Fit", kind="number")
    FeatureFactory(product=cast.product, title="Low", custom_values={fit.key: 2})
    FeatureFactory(product=cast.product, title="None")
    FeatureFactory(product=cast.product, title="High", custom_values={fit.key: 10})
    client = cast.client("pm")
    url = reverse("backlog", args=[cast.product.key])
    assert _titles(client.get(url, {"sort": f"-cf{fit.pk}"})) == ["High", "Low", "None"]
    assert _titles(client.get(url, {"sort": f"cf{fit.pk}"})) == ["Low", "High", "None"]


def test_backlog_shows_chosen_fields_as_columns_and_remembers_them(cast):
    platform = _field(cast, name="Platform", kind="select", options=["Web"])
    FeatureFactory(product=cast.product, custom_values={platform.key: "Web"})
    client = cast.client("pm")
    url = reverse("backlog", args=[cast.product.key])
    assert 'data-testid="custom-column"' not in client.get(url).content.decode()
    html = client.get(url, {"cols_set": "1", "cols": str(platform.pk)}).content.decode()
    assert 'data-testid="custom-column"' in html and ">Web<" in html
    assert 'data-testid="custom-column"' in client.get(url).content.decode()  # remembered
    client.get(url, {"cols_set": "1"})
    assert 'data-testid="custom-column"' not in client.get(url).content.decode()


def test_stakeholders_cannot_filter_or_sort_by_internal_fields(cast):
    """A filter on a field they may not see would tell its values row by row."""
    cast.share_with_stakeholders("backlog")
    secret = _field(cast, name="Deal size", kind="number")
    FeatureFactory(product=cast.product, title="Big", custom_values={secret.key: 900})
    FeatureFactory(product=cast.product, title="Small", custom_values={secret.key: 1})
    client = cast.client("stakeholder")
    url = reverse("backlog", args=[cast.product.key])
    assert sorted(_titles(client.get(url, {f"cf{secret.pk}": "500.."}))) == ["Big", "Small"]
    html = client.get(url, {"cols_set": "1", "cols": str(secret.pk)}).content.decode()
    assert "Deal size" not in html and "900" not in html


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("role", ["pm", "stakeholder"])
def test_backlog_queries_stay_flat_with_custom_fields(cast, django_assert_max_num_queries, n, role):
    fields = [
        _field(cast, name=f"Field {i}", kind="select", options=["a", "b"], public=True)
        for i in range(4)
    ]
    member = _field(cast, name="Champion", kind="user", public=True)
    for i in range(n):
        FeatureFactory(
            product=cast.product,
            custom_values={fields[0].key: "a", fields[1].key: "b", member.key: cast.pm.pk},
        )
    if role == "stakeholder":
        cast.share_with_stakeholders("backlog")
    client = cast.client(role)
    url = reverse("backlog", args=[cast.product.key])
    client.get(url, {"cols_set": "1", "cols": [str(f.pk) for f in fields] + [str(member.pk)]})
    # The backlog page's 11 (tests/backlog/test_queries.py) plus the feature fields, the
    # members for the member filter, the members' names for the member column, and (for
    # stakeholders) the public fields' ids that visibility keeps = 15
    with django_assert_max_num_queries(15):
        response = client.get(url, {f"cf{fields[0].pk}": "a", "sort": f"-cf{fields[1].pk}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="feature-row"') == n
    assert html.count('data-testid="custom-cell"') == n * 5
