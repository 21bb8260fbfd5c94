"""List pages' "Export" menu: the rows the page shows (its filters, the reader's visibility),
as CSV, JSON and XLSX, with formula injection neutralised."""

import pytest
from django.urls import reverse

from tests.backlog.factories import FeatureFactory, StoryFactory
from tests.exports.helpers import body, rows
from tests.factories import ThemeFactory

FORMATS = ["csv", "json", "xlsx"]


def _get(client, name, key, **query):
    return client.get(reverse(name, args=[key]), query)


@pytest.mark.parametrize("fmt", FORMATS)
def test_backlog_export_holds_the_filtered_features_with_scores(cast, fmt):
    theme = ThemeFactory(product=cast.product, name="Growth")
    planned = FeatureFactory(
        product=cast.product, title="Planned one", status="planned", theme=theme, score=42
    )
    StoryFactory(feature=planned, points=5)
    FeatureFactory(product=cast.product, title="In backlog", status="backlog")
    response = _get(cast.client("pm"), "backlog_export", "LOD", format=fmt, status="planned")
    assert response.status_code == 200
    assert f".{fmt}" in response["Content-Disposition"]
    found = rows(response, fmt)
    assert [r["title"] for r in found] == ["Planned one"]
    assert float(found[0]["score"]) == 42
    assert found[0]["theme_name"] == "Growth"
    assert str(found[0]["story_points"]) == "5"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hostile_titles_are_exported_as_text(cast, fmt):
    FeatureFactory(product=cast.product, title='=HYPERLINK("http://evil","x")')
    FeatureFactory(product=cast.product, title="-2+3")
    found = rows(_get(cast.client("pm"), "backlog_export", "LOD", format=fmt), fmt)
    assert {r["title"] for r in found} == {'\'=HYPERLINK("http://evil","x")', "'-2+3"}


def test_json_keeps_values_verbatim(cast):
    FeatureFactory(product=cast.product, title="=1+1")
    found = rows(_get(cast.client("pm"), "backlog_export", "LOD", format="json"), "json")
    assert found[0]["title"] == "=1+1"


def test_a_stakeholder_exports_no_internal_field(cast):
    cast.share_with_stakeholders("backlog")
    FeatureFactory(product=cast.product, title="Shared", cost=987654, expected_revenue=123456)
    response = _get(cast.client("stakeholder"), "backlog_export", "LOD", format="csv")
    text = body(response).decode()
    assert "Shared" in text
    assert "987654" not in text and "123456" not in text
    assert "cost" not in text.splitlines()[0]


def test_the_team_exports_internal_fields(cast):
    FeatureFactory(product=cast.product, title="Costly", cost=987654)
    found = rows(_get(cast.client("engineer"), "backlog_export", "LOD", format="csv"), "csv")
    assert found[0]["cost"].startswith("987654")


def test_an_unknown_format_is_a_400(cast):
    assert _get(cast.client("pm"), "backlog_export", "LOD", format="pdf").status_code == 400


def test_a_stakeholder_without_the_backlog_section_is_refused(cast):
    assert _get(cast.client("stakeholder"), "backlog_export", "LOD").status_code == 403


def test_the_backlog_page_offers_the_export_with_its_filters(cast):
    FeatureFactory(product=cast.product, status="planned")
    page = cast.client("pm").get(reverse("backlog", args=["LOD"]), {"status": "planned"})
    html = page.content.decode()
    assert 'data-testid="export-menu"' in html
    assert "export/?format=xlsx&amp;status=planned" in html


@pytest.mark.parametrize("n", [3, 40])
def test_backlog_export_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    theme = ThemeFactory(product=cast.product)
    for _ in range(n):
        StoryFactory(feature=FeatureFactory(product=cast.product, theme=theme))
    client = cast.client("pm")
    # session, user, product + workspace, membership; the features (theme joined, story
    # counts as subqueries) in one chunk = 5
    with django_assert_max_num_queries(5):
        response = _get(client, "backlog_export", "LOD", format="csv")
        found = rows(response, "csv")
    assert len(found) == n


def test_the_public_roadmap_page_links_its_json_download(cast):
    from roadmap.services import share_link_create
    from tests.roadmap.factories import InitiativeFactory

    InitiativeFactory(product=cast.product, title="Public one")
    InitiativeFactory(product=cast.product, title="SENTINEL internal", visibility="internal")
    _link, token = share_link_create(product=cast.product, label="x", actor=cast.pm)
    client = cast.client("anonymous")
    page = client.get(f"/share/{token}/").content.decode()
    assert 'href="roadmap.json"' in page
    response = client.get(f"/share/{token}/roadmap.json")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert "Public one" in text and "SENTINEL" not in text
    assert client.get("/share/not-a-token/roadmap.json").status_code == 404
