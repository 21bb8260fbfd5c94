"""List pages' "Export" menu: the rows the page shows (its filters, the reader's visibility),
as CSV, JSON and XLSX, with formula injection neutralised."""

from decimal import Decimal

import pytest
from django.urls import reverse

from pm.exports import CONTENT_TYPES
from tests.backlog.factories import FeatureFactory, IdeaFactory, StoryFactory
from tests.exports.helpers import body, rows
from tests.factories import ThemeFactory

FORMATS = ["csv", "json", "xlsx"]


def _get(client, name, key, *args, **query):
    return client.get(reverse(name, args=[key, *args]), query)


def _download(response, fmt: str, stem: str) -> list[dict]:
    """The rows of an export download, after checking it is one: 200, the format's content
    type, an attachment named `<stem>-<date>.<fmt>`."""
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and f"{stem}-" in disposition
    assert disposition.rstrip('"').endswith(f".{fmt}")
    return rows(response, fmt)


def _csv_within(assert_max_num_queries, queries: int, client, name: str, *args) -> list[dict]:
    """The rows of `name`'s CSV export, read whole within `queries` queries (the download is
    streamed: its queries run while it is read)."""
    with assert_max_num_queries(queries):
        return rows(_get(client, name, "LOD", *args, format="csv"), "csv")


def _offers_export(client, url: str, query: dict) -> str:
    """The page at `url` with `query`, which must show the Export menu; its HTML."""
    html = client.get(url, query).content.decode()
    assert 'data-testid="export-menu"' in html
    return html


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
    html = _offers_export(
        cast.client("pm"), reverse("backlog", args=["LOD"]), {"status": "planned"}
    )
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


# --- ideas --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_ideas_export_holds_the_filtered_ideas_with_votes(cast, fmt):
    IdeaFactory(product=cast.product, title="Dark mode", status="new", votes=7)
    IdeaFactory(product=cast.product, title="Declined one", status="declined")
    response = _get(cast.client("engineer"), "ideas_export", "LOD", format=fmt, status="new")
    found = _download(response, fmt, "lod-ideas")
    assert [r["title"] for r in found] == ["Dark mode"]
    assert str(found[0]["votes"]) == "7"


def test_ideas_export_follows_the_pages_default_and_all_filters(cast):
    IdeaFactory(product=cast.product, title="Open one", status="new")
    IdeaFactory(product=cast.product, title="Declined one", status="declined")
    client = cast.client("pm")
    default = rows(_get(client, "ideas_export", "LOD", format="csv"), "csv")
    assert [r["title"] for r in default] == ["Open one"]  # the page opens on "open" ideas
    every = rows(_get(client, "ideas_export", "LOD", format="csv", status=""), "csv")
    assert {r["title"] for r in every} == {"Open one", "Declined one"}


def test_ideas_export_refuses_whom_the_page_refuses(cast):
    assert _get(cast.client("stakeholder"), "ideas_export", "LOD").status_code == 403
    assert _get(cast.client("outsider"), "ideas_export", "LOD").status_code == 404


def test_a_stakeholder_exports_ideas_without_who_asked(cast):
    cast.share_with_stakeholders("ideas")
    IdeaFactory(product=cast.product, title="Shared idea", submitter_name="SENTINEL Corp")
    response = _get(cast.client("stakeholder"), "ideas_export", "LOD", format="csv")
    text = body(response).decode()
    assert "Shared idea" in text and "SENTINEL" not in text
    assert "submitter_name" not in text.splitlines()[0]


def test_the_ideas_page_offers_the_export_with_its_filters(cast):
    IdeaFactory(product=cast.product, status="new")
    html = _offers_export(cast.client("pm"), reverse("ideas", args=["LOD"]), {"status": "new"})
    assert "ideas/export/?format=csv&amp;status=new" in html


@pytest.mark.parametrize("n", [3, 40])
def test_ideas_export_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    for _ in range(n):
        IdeaFactory(product=cast.product, feature=FeatureFactory(product=cast.product))
    client = cast.client("pm")
    # session, user, product + workspace, membership; the ideas (submitter, feature and
    # merged_into joined) in one chunk = 5
    assert len(_csv_within(django_assert_max_num_queries, 5, client, "ideas_export")) == n


# --- the feedback inbox and customers -----------------------------------------------------


def _feedback(cast, content, **kwargs):
    from tests.feedback.factories import FeedbackItemFactory

    return FeedbackItemFactory(product=cast.product, content=content, **kwargs)


def _customer(cast, name, **kwargs):
    from tests.feedback.factories import CustomerFactory

    return CustomerFactory(workspace=cast.workspace, name=name, **kwargs)


def _insight(item, feature):
    from feedback.models import Insight

    return Insight.objects.create(
        workspace=item.product.workspace, feedback_item=item, feature=feature
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_feedback_export_holds_the_filtered_items_with_customer_and_links(cast, fmt):
    acme = _customer(cast, "Acme Corp", arr=Decimal("54321"))
    item = _feedback(cast, "Export to PDF please", source="email", customer=acme)
    _insight(item, FeatureFactory(product=cast.product, title="PDF export"))
    _feedback(cast, "From a call", source="call")
    response = _get(cast.client("engineer"), "feedback_export", "LOD", format=fmt, source="email")
    found = _download(response, fmt, "lod-feedback")
    assert [r["content"] for r in found] == ["Export to PDF please"]
    assert found[0]["customer_name"] == "Acme Corp"
    assert float(found[0]["customer_arr"]) == 54321
    assert "PDF export" in str(found[0]["linked_to"])


def test_feedback_export_refuses_whom_the_inbox_refuses(cast):
    assert _get(cast.client("stakeholder"), "feedback_export", "LOD").status_code == 403
    assert _get(cast.client("outsider"), "feedback_export", "LOD").status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_stakeholder_exports_feedback_without_the_customer(cast, fmt):
    cast.share_with_stakeholders("feedback")
    _feedback(cast, "Shared feedback", customer=_customer(cast, "SENTINEL Corp", arr=987654))
    response = _get(cast.client("stakeholder"), "feedback_export", "LOD", format=fmt)
    found = _download(response, fmt, "lod-feedback")
    assert [r["content"] for r in found] == ["Shared feedback"]
    # JSON keeps the API's shape (`customer: null`); CSV and XLSX leave the column out.
    assert found[0].get("customer") is None
    assert not {"customer_name", "customer_arr"} & set(found[0])
    assert "SENTINEL" not in str(found) and "987654" not in str(found)


def test_the_inbox_offers_the_export_with_its_filters(cast):
    _feedback(cast, "Hello", source="email")
    url = reverse("feedback_inbox", args=["LOD"])
    html = _offers_export(cast.client("pm"), url, {"source": "email"})
    assert "feedback/export/?format=json&amp;source=email" in html


@pytest.mark.parametrize("n", [3, 40])
def test_feedback_export_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    feature = FeatureFactory(product=cast.product)
    for i in range(n):
        _insight(_feedback(cast, f"Item {i}", customer=_customer(cast, f"C{i}")), feature)
    client = cast.client("pm")
    # session, user, product + workspace, membership; the items (customer and study joined),
    # their insights (feature and idea joined) = 6
    assert len(_csv_within(django_assert_max_num_queries, 6, client, "feedback_export")) == n


@pytest.mark.parametrize("fmt", FORMATS)
def test_customer_export_holds_the_searched_customers(cast, fmt):
    acme = _customer(cast, "Acme Corp", arr=Decimal("54321"))
    _feedback(cast, "One", customer=acme)
    _customer(cast, "Globex")
    response = _get(cast.client("engineer"), "customer_export", "LOD", format=fmt, q="acme")
    found = _download(response, fmt, "lod-customers")
    assert [r["name"] for r in found] == ["Acme Corp"]
    assert float(found[0]["arr"]) == 54321
    assert str(found[0]["feedback_count"]) == "1"


def test_customer_export_refuses_stakeholders_even_with_the_feedback_section(cast):
    cast.share_with_stakeholders("feedback")
    _customer(cast, "SENTINEL Corp")
    assert _get(cast.client("stakeholder"), "customer_export", "LOD").status_code == 403
    assert _get(cast.client("outsider"), "customer_export", "LOD").status_code == 404


def test_the_customers_page_offers_the_export_with_its_search(cast):
    _customer(cast, "Acme Corp")
    url = reverse("customer_list", args=["LOD"])
    html = _offers_export(cast.client("pm"), url, {"q": "acme"})
    assert "customers/export/?format=csv&amp;q=acme" in html


@pytest.mark.parametrize("n", [3, 40])
def test_customer_export_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    for i in range(n):
        _feedback(cast, f"Item {i}", customer=_customer(cast, f"C{i}"))
    client = cast.client("pm")
    # session, user, product + workspace, membership; the customers (feedback counts as
    # subqueries) in one chunk = 5
    assert len(_csv_within(django_assert_max_num_queries, 5, client, "customer_export")) == n


# --- the roadmap: initiatives and releases --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_initiatives_export_holds_the_filtered_initiatives(cast, fmt):
    from tests.roadmap.factories import InitiativeFactory

    theme = ThemeFactory(product=cast.product, name="Growth")
    bet = InitiativeFactory(
        product=cast.product, title="Big bet", status="in_progress", theme=theme
    )
    bet.features.add(FeatureFactory(product=cast.product, title="Wizard"))
    InitiativeFactory(product=cast.product, title="Done one", status="done")
    response = _get(
        cast.client("stakeholder"), "initiatives_export", "LOD", format=fmt, status="in_progress"
    )
    found = _download(response, fmt, "lod-initiatives")
    assert [r["title"] for r in found] == ["Big bet"]
    assert found[0]["theme_name"] == "Growth"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_stakeholder_exports_the_public_roadmap_only(cast, fmt):
    from tests.roadmap.factories import InitiativeFactory, ReleaseFactory

    shared = InitiativeFactory(product=cast.product, title="Public one", internal_notes="SECRET")
    shared.features.add(FeatureFactory(product=cast.product, title="SENTINEL draft"))
    InitiativeFactory(product=cast.product, title="SENTINEL internal", visibility="internal")
    ReleaseFactory(product=cast.product, name="Public release", internal_notes="SECRET")
    ReleaseFactory(product=cast.product, name="SENTINEL release", visibility="internal")
    client = cast.client("stakeholder")
    initiatives = rows(_get(client, "initiatives_export", "LOD", format=fmt), fmt)
    releases = rows(_get(client, "releases_export", "LOD", format=fmt), fmt)
    assert [r["title"] for r in initiatives] == ["Public one"]
    assert [r["name"] for r in releases] == ["Public release"]
    for found in (initiatives, releases):
        assert "SENTINEL" not in str(found) and "SECRET" not in str(found)
        assert "internal_notes" not in found[0]


def test_roadmap_exports_refuse_outsiders(cast):
    for name in ("initiatives_export", "releases_export"):
        assert _get(cast.client("outsider"), name, "LOD").status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_releases_export_holds_the_releases_with_their_features(cast, fmt):
    from tests.roadmap.factories import ReleaseFactory

    release = ReleaseFactory(product=cast.product, name="=cmd|' /C calc'!A0")
    release.features.add(FeatureFactory(product=cast.product, title="Wizard"))
    response = _get(cast.client("engineer"), "releases_export", "LOD", format=fmt)
    found = _download(response, fmt, "lod-releases")
    assert found[0]["name"] == ("=cmd|' /C calc'!A0" if fmt == "json" else "'=cmd|' /C calc'!A0")
    assert "Wizard" in str(found[0]["feature_titles"])


def test_the_roadmap_pages_offer_their_exports(cast):
    from tests.roadmap.factories import InitiativeFactory, ReleaseFactory

    InitiativeFactory(product=cast.product, status="in_progress")
    ReleaseFactory(product=cast.product)
    client = cast.client("stakeholder")
    url = reverse("roadmap", args=["LOD"])
    html = _offers_export(client, url, {"status": "in_progress"})
    assert "initiatives/export/?format=csv&amp;status=in_progress" in html
    assert "releases/export/?format=csv" in _offers_export(client, url + "releases/", {})


@pytest.mark.parametrize("n", [3, 40])
def test_roadmap_exports_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    from tests.roadmap.factories import InitiativeFactory, ReleaseFactory

    theme = ThemeFactory(product=cast.product)
    for _ in range(n):
        feature = FeatureFactory(product=cast.product)
        InitiativeFactory(product=cast.product, theme=theme).features.add(feature)
        ReleaseFactory(product=cast.product).features.add(feature)
    client = cast.client("pm")
    # session, user, product + workspace, membership; the filter choices (themes,
    # objectives); the initiatives (theme joined, health and feature counts annotated),
    # their objectives, their features = 9
    assert len(_csv_within(django_assert_max_num_queries, 9, client, "initiatives_export")) == n
    # session, user, product + workspace, membership; the releases, their features = 6
    assert len(_csv_within(django_assert_max_num_queries, 6, client, "releases_export")) == n


# --- KPIs -----------------------------------------------------------------------------------


def _kpi(cast, name, *values, **kwargs):
    """A daily KPI whose rollups hold `values`, the last one two days ago (a complete day)."""
    from datetime import timedelta

    from django.utils import timezone

    from metrics.models import Rollup
    from tests.metrics.factories import KPIFactory

    kpi = KPIFactory(product=cast.product, name=name, **kwargs)
    today = timezone.localdate()
    for age, value in enumerate(reversed(values), start=2):
        Rollup.objects.create(
            workspace_id=cast.workspace.pk,
            kpi=kpi,
            granularity="day",
            bucket_start=today - timedelta(days=age),
            value=value,
            count=1,
        )
    return kpi


@pytest.mark.parametrize("fmt", FORMATS)
def test_kpi_export_holds_the_kpis_with_latest_value_and_target(cast, fmt):
    _kpi(cast, "Signups", 10, 25, target_value=Decimal("100"))
    response = _get(cast.client("stakeholder"), "kpi_export", "LOD", format=fmt)
    found = _download(response, fmt, "lod-kpis")
    assert [r["name"] for r in found] == ["Signups"]
    assert float(found[0]["latest_value"]) == 25
    assert float(found[0]["target_value"]) == 100


def test_kpi_export_refuses_outsiders(cast):
    assert _get(cast.client("outsider"), "kpi_export", "LOD").status_code == 404


def test_the_kpi_page_offers_the_export(cast):
    _kpi(cast, "Signups")
    html = _offers_export(cast.client("stakeholder"), reverse("kpi_list", args=["LOD"]), {})
    assert "kpis/export/?format=xlsx" in html


@pytest.mark.parametrize("n", [3, 40])
def test_kpi_export_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    for i in range(n):
        _kpi(cast, f"KPI {i}", i, i + 1)
    client = cast.client("pm")
    # session, user, product + workspace, membership; the KPIs (owner, numerator and
    # denominator joined), their latest rollups (one window query) = 6
    assert len(_csv_within(django_assert_max_num_queries, 6, client, "kpi_export")) == n


# --- a sprint's stories -----------------------------------------------------------------


def _sprint(cast, **kwargs):
    from tests.backlog.factories import SprintFactory

    return SprintFactory(product=cast.product, **kwargs)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sprint_export_holds_the_sprints_stories_of_a_status(cast, fmt):
    sprint = _sprint(cast)
    feature = FeatureFactory(product=cast.product, title="Onboarding")
    StoryFactory(feature=feature, sprint=sprint, title="Doing one", status="in_progress")
    StoryFactory(feature=feature, sprint=sprint, title="Done one", status="done")
    StoryFactory(feature=feature, title="Not in the sprint", status="in_progress")
    client = cast.client("engineer")
    response = _get(client, "sprint_stories_export", "LOD", sprint.pk, format=fmt)
    assert {r["title"] for r in _download(response, fmt, "lod-stories")} == {
        "Doing one",
        "Done one",
    }
    response = _get(
        client, "sprint_stories_export", "LOD", sprint.pk, format=fmt, status="in_progress"
    )
    found = _download(response, fmt, "lod-stories")
    assert [r["title"] for r in found] == ["Doing one"]
    assert found[0]["feature_title"] == "Onboarding"


def test_sprint_export_refuses_whom_the_board_refuses(cast):
    sprint = _sprint(cast)
    assert (
        _get(cast.client("stakeholder"), "sprint_stories_export", "LOD", sprint.pk).status_code
        == 403
    )
    assert (
        _get(cast.client("outsider"), "sprint_stories_export", "LOD", sprint.pk).status_code == 404
    )
    assert _get(cast.client("pm"), "sprint_stories_export", "LOD", 10**9).status_code == 404


def test_the_sprint_board_offers_the_export(cast):
    sprint = _sprint(cast)
    StoryFactory(feature=FeatureFactory(product=cast.product), sprint=sprint)
    url = reverse("sprint_board", args=["LOD", sprint.pk])
    html = _offers_export(cast.client("engineer"), url, {})
    assert f"sprints/{sprint.pk}/export/?format=csv" in html


@pytest.mark.parametrize("n", [3, 40])
def test_sprint_export_queries_do_not_grow(cast, django_assert_max_num_queries, n):
    sprint = _sprint(cast)
    for _ in range(n):
        StoryFactory(feature=FeatureFactory(product=cast.product), sprint=sprint)
    client = cast.client("pm")
    # session, user, product + workspace, membership; the sprint (with its points); the
    # stories (feature, assignee, sprint, persona joined) = 7
    found = _csv_within(
        django_assert_max_num_queries, 7, client, "sprint_stories_export", sprint.pk
    )
    assert len(found) == n


# --- formula injection, in every page export --------------------------------------------

HOSTILE = "=cmd|' /C calc'!A0"


def _hostile_initiative(cast):
    from tests.roadmap.factories import InitiativeFactory

    InitiativeFactory(product=cast.product, title=HOSTILE)


def _hostile_release(cast):
    from tests.roadmap.factories import ReleaseFactory

    ReleaseFactory(product=cast.product, name=HOSTILE)


# (export, a row with a hostile text, the columns that hold it)
HOSTILE_ROWS = [
    ("ideas_export", lambda cast: IdeaFactory(product=cast.product, title=HOSTILE), ["title"]),
    (
        "feedback_export",
        lambda cast: _feedback(cast, HOSTILE, customer=_customer(cast, HOSTILE)),
        ["content", "customer_name"],
    ),
    ("customer_export", lambda cast: _customer(cast, HOSTILE), ["name"]),
    ("initiatives_export", _hostile_initiative, ["title"]),
    ("releases_export", _hostile_release, ["name"]),
    ("kpi_export", lambda cast: _kpi(cast, HOSTILE), ["name"]),
]


def _hostile_story(cast):
    sprint = _sprint(cast)
    StoryFactory(feature=FeatureFactory(product=cast.product), sprint=sprint, title=HOSTILE)
    return (sprint.pk,)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("name", "make", "columns"), HOSTILE_ROWS, ids=[c[0] for c in HOSTILE_ROWS]
)
def test_page_exports_neutralise_formulas(cast, name, make, columns, fmt):
    make(cast)
    (found,) = rows(_get(cast.client("pm"), name, "LOD", format=fmt), fmt)
    assert [found[c] for c in columns] == ["'" + HOSTILE] * len(columns)
