"""Issue 21, "the PM's whole job", in real headless Chromium: user journeys, pricing, sprint review
and retrospective, forecast and OKR health, confidence from evidence, and what a stakeholder may
read. Each test does what a PM would, reloads, and checks what they would see; screenshots go to
test-results/pm-job-*.png for a human to look at."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from feedback.services.insights import insight_create
from metrics import services
from metrics.demo_pricing import _survey_csv
from pm import journeys
from roadmap import services as roadmap_services
from roadmap.models import Initiative
from tests.backlog.factories import FeatureFactory, SprintFactory
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, PersonaFactory
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature
from tests.roadmap.test_forecast_page import _history, _plan, _sprint_end

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, path) -> None:
    """A full-page screenshot from the top (a page scrolled to an anchor would otherwise draw
    the sticky header in the middle of the picture)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=True)


def _submit(page, form, url_part: str):
    """Submit a form with its submit button and wait for the POST's answer."""
    with page.expect_response(lambda r: url_part in r.url and r.request.method == "POST") as resp:
        form.locator("button[type=submit], button:not([type])").last.click()
    page.wait_for_load_state("load")
    return resp.value


def test_pm_maps_a_user_journey(page, cast, screenshot_dir):
    PersonaFactory(product=cast.product, name="Priya")
    FeatureFactory(product=cast.product, title="Guided setup")
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/journeys/")
    form = page.locator('[data-testid="journey-form"]')
    form.locator("select[name=persona]").select_option(label="Priya")
    form.locator("input[name=name]").fill("First week")
    form.locator("textarea[name=goal]").fill("Get value on day one")
    _submit(page, form, "/journeys/")
    page.locator('[data-testid="journey"]', has_text="First week").wait_for()

    for name, emotion in [("Sign up", "1"), ("Onboard", "-2")]:
        stage_form = page.locator('[data-testid="stage-form"]')
        stage_form.locator("input[name=name]").fill(name)
        stage_form.locator("select[name=emotion]").select_option(emotion)
        _submit(page, stage_form, "/stages/")
        page.locator('[data-testid="stage"]', has_text=name).wait_for()

    onboard = page.locator('[data-testid="opportunity-form"]').nth(1)
    page.locator("details.opp-add summary").nth(1).click()
    onboard.locator("input[name=text]").fill("Skip the empty dashboard")
    onboard.locator("select[name=feature]").select_option(label="Guided setup")
    _submit(page, onboard, "/opportunities/")

    page.reload()
    stages = page.locator('[data-testid="stage"]')
    assert stages.count() == 2
    assert "1. Sign up" in stages.nth(0).inner_text()
    assert "2. Onboard" in stages.nth(1).inner_text()
    emotions = page.locator('[data-testid="emotion"]')
    assert [emotions.nth(i).get_attribute("data-emotion") for i in range(2)] == ["1", "-2"]
    assert page.locator('[data-testid="emotion"] svg polyline').count() == 2
    opp = page.locator('[data-testid="opportunity"]')
    assert opp.count() == 1
    assert "Skip the empty dashboard" in opp.inner_text()
    assert "Feature: Guided setup" in opp.inner_text()
    assert "lowest point" in page.locator('[data-testid="journey"]').inner_text()
    _shot(page, screenshot_dir / "pm-job-journeys.png")
    assert page.console_errors == []


def test_pm_prices_the_product(page, cast, screenshot_dir):
    services.experiment_create(
        product=cast.product,
        data={"name": "Team price test", "hypothesis": "Higher prices pay."},
        variants=[
            {"name": "Control", "exposures": 1000, "conversions": 60, "price": Decimal(29)},
            {"name": "Higher", "exposures": 1000, "conversions": 50, "price": Decimal(39)},
        ],
        actor=cast.pm,
    )
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/pricing/")
    page.locator('[data-testid="new-plan"]').click()
    form = page.locator('[data-testid="plan-form"]')
    form.locator("input[name=name]").fill("Team")
    form.locator("[name=currency]").fill("EUR")
    form.locator("input[name=monthly_price]").fill("29")
    form.locator("input[name=annual_price]").fill("290")
    _submit(page, form, "/plans/new/")
    page.locator('[data-testid="plan"]', has_text="Team").wait_for()

    survey = page.locator('[data-testid="survey-form"]')
    survey.locator("input[name=name]").fill("Spring survey")
    survey.locator("input[name=file]").set_input_files(
        files=[{"name": "survey.csv", "mimeType": "text/csv", "buffer": _survey_csv()}]
    )
    _submit(page, survey, "/pricing/surveys/")

    page.reload()
    assert page.locator('[data-testid="plan"]').count() == 1
    assert page.locator('[data-testid="plan"]').text_content().startswith("Team")
    plans = page.locator('[data-testid="plans"]').inner_text()
    assert "29 EUR" in plans and "290 EUR" in plans
    result = page.locator('[data-testid="survey"]', has_text="Spring survey")
    assert re.fullmatch(
        r"\d+\.\d\d – \d+\.\d\d", result.locator('[data-testid="acceptable-range"]').inner_text()
    )
    assert re.fullmatch(r"\d+\.\d\d", result.locator('[data-testid="optimal-price"]').inner_text())
    chart = result.locator('[data-testid="vw-chart"]')
    assert chart.is_visible() and chart.locator("polyline").count() == 4
    experiment = page.locator('[data-testid="pricing-experiment"]')
    assert experiment.count() == 1 and "Team price test" in experiment.inner_text()
    _shot(page, screenshot_dir / "pm-job-pricing.png")
    assert page.console_errors == []


def test_pm_runs_the_sprint_review_and_retrospective(page, cast, screenshot_dir):
    today = date.today()
    sprint = SprintFactory(product=cast.product, name="Sprint 7", start=today - timedelta(days=13))
    following = SprintFactory(
        product=cast.product, name="Sprint 8", start=today + timedelta(days=1)
    )
    base = f"/p/{cast.product.key}/sprints"
    sign_in(page, "pm", PASSWORD)

    page.goto(f"{base}/{sprint.pk}/review/")
    review = page.locator('[data-testid="review-form"]')
    review.locator("textarea[name=demo_notes]").fill("Demoed the new inbox to sales.")
    _submit(page, review, "/review/")
    page.reload()
    assert review.locator("textarea[name=demo_notes]").input_value() == (
        "Demoed the new inbox to sales."
    )
    _shot(page, screenshot_dir / "pm-job-sprint-review.png")

    page.goto(f"{base}/{sprint.pk}/retro/")
    add = page.locator('[data-testid="retro-add"]')
    add.locator("select[name=column]").select_option("went_well")
    add.locator("input[name=text]").fill("Pairing on the importer")
    with page.expect_response(lambda r: "/retro/items/" in r.url):
        add.locator("button[type=submit]").click()
    card = page.locator('[data-testid="retro-went_well"] [data-testid="retro-card"]')
    card.filter(has_text="Pairing on the importer").wait_for()
    with page.expect_response(lambda r: "/vote/" in r.url):
        card.locator('[data-testid="vote"]').click()
    page.locator('[data-testid="vote"][aria-pressed="true"]').wait_for()

    actions = page.locator('[data-testid="action-form"]')
    actions.locator("[name=text]").fill("Write the importer runbook")
    actions.locator("select[name=owner]").select_option(str(cast.engineer.pk))
    with page.expect_response(lambda r: "/retro/actions/" in r.url):
        actions.locator("button[type=submit]").click()
    page.locator('[data-testid="action-item"]', has_text="Write the importer runbook").wait_for()

    page.reload()
    went_well = page.locator('[data-testid="retro-went_well"] [data-testid="retro-card"]')
    assert went_well.count() == 1
    assert went_well.locator('[data-testid="vote"]').inner_text() == "▲ 1"
    item = page.locator('[data-testid="action-item"]')
    assert item.count() == 1 and "Write the importer runbook" in item.inner_text()
    _shot(page, screenshot_dir / "pm-job-sprint-retro.png")

    page.goto(f"{base}/{following.pk}/plan/")
    carried = page.locator('[data-testid="plan-action"]')
    assert carried.count() == 1
    assert "Write the importer runbook" in carried.inner_text()
    assert "Sprint 7" in carried.inner_text()
    _shot(page, screenshot_dir / "pm-job-sprint-plan.png")
    assert page.console_errors == []


def test_pm_reads_the_forecast_and_posts_an_at_risk_update(page, cast, screenshot_dir):
    _history(cast.product)  # three finished sprints of 10 points each
    _plan(cast)  # "Soon and sure": 15 open points, "Too tight": 35 ahead of its last story
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/roadmap/forecast/")
    rows = page.locator('[data-testid="forecast-row"]')
    assert rows.count() == 2
    sure = rows.filter(has_text="Soon and sure").locator("td")
    two = _sprint_end(2).strftime("%-d %b %Y")
    assert [sure.nth(i).inner_text() for i in (3, 4, 5)] == [two, two, two]  # 50/85/95 %
    assert sure.nth(6).inner_text() == "100%"
    tight = rows.filter(has_text="Too tight").locator("td")
    assert tight.nth(3).inner_text() == _sprint_end(4).strftime("%-d %b %Y")
    assert tight.nth(6).inner_text() == "0%"
    _shot(page, screenshot_dir / "pm-job-forecast.png")

    initiative = Initiative.objects.get(product=cast.product, title="Too tight")
    page.goto(f"/p/{cast.product.key}/roadmap/initiatives/{initiative.pk}/")
    form = page.locator('[data-testid="status-update-form"]')
    form.locator("input[name=status][value=at_risk]").check()
    form.locator("textarea[name=note]").fill("Vendor API slipped two weeks.")
    _submit(page, form, "/update")
    page.reload()
    assert page.locator('[data-testid="initiative-health"]').inner_text() == "At risk"
    updates = page.locator('[data-testid="status-update"]')
    assert updates.count() == 1
    assert "At risk" in updates.inner_text()
    assert "Vendor API slipped two weeks." in updates.inner_text()
    _shot(page, screenshot_dir / "pm-job-initiative.png")

    page.goto(f"/p/{cast.product.key}/roadmap/")
    health = page.locator('[data-testid="timeline-health"]')
    assert health.count() == 1 and health.inner_text() == "At risk"
    page.goto(f"/p/{cast.product.key}/roadmap/board/")
    card = page.locator('[data-testid="card"]', has_text="Too tight")
    assert card.locator('[data-testid="card-health"]').inner_text() == "At risk"
    assert page.console_errors == []


def test_pm_applies_the_confidence_the_evidence_suggests(page, cast, screenshot_dir):
    # A big customer who asked for nothing: the three who did hold little of the ARR.
    CustomerFactory(workspace=cast.workspace, arr=Decimal(1_000_000))
    feature = make_feature(cast.product, "SSO", actor=cast.pm, confidence=80)
    for _ in range(3):  # three customers asked: the suggestion is 50 %
        insight_create(
            item=FeedbackItemFactory(
                product=cast.product, customer=CustomerFactory(workspace=cast.workspace)
            ),
            feature=feature,
            actor=cast.pm,
        )
    sign_in(page, "pm", PASSWORD)
    page.goto(f"/p/{cast.product.key}/features/{feature.pk}/")
    panel = page.locator('[data-testid="confidence-panel"]')
    assert panel.locator('[data-testid="suggested-confidence"]').inner_text() == "50%"
    assert panel.locator('[data-testid="current-confidence"]').inner_text() == "80%"
    assert "Several customers asked (3)." in panel.inner_text()
    assert "Customers asking\n3" in page.locator('[data-testid="demand-card"]').inner_text()
    with page.expect_response(lambda r: "/confidence/" in r.url):
        panel.locator('[data-testid="apply-confidence"]').click()
    page.locator(".toast", has_text="Confidence set to 50%").wait_for()

    page.reload()
    panel = page.locator('[data-testid="confidence-panel"]')
    assert panel.locator('[data-testid="current-confidence"]').inner_text() == "50%"
    assert (
        page.locator("dt", has_text="Confidence")
        .locator("xpath=following-sibling::dd[1]")
        .inner_text()
        == "50%"
    )
    feature.refresh_from_db()
    assert feature.confidence == 50
    _shot(page, screenshot_dir / "pm-job-confidence.png")
    assert page.console_errors == []


def _edit_controls(page) -> list[str]:
    """What on the page would change something: POST forms, edit/new links, inputs to fill."""
    main = page.locator("main")
    found = main.locator('form[method="post"]').evaluate_all(
        "forms => forms.map(f => 'form ' + f.getAttribute('action'))"
    )
    found += main.locator('a[href*="/edit/"], a[href*="/new/"]').evaluate_all(
        "links => links.map(a => 'link ' + a.getAttribute('href'))"
    )
    # Fields of GET forms are filters (the roadmap's theme/objective filters), not edits.
    found += main.locator("textarea, select, input:not([type=hidden])").evaluate_all(
        "xs => xs.filter(x => !x.closest('form[method=get]')).map(x => 'field ' + x.name)"
    )
    return found


def test_a_stakeholder_reads_what_product_md_allows_and_edits_nothing(page, cast, screenshot_dir):
    persona = PersonaFactory(product=cast.product, name="Priya")
    journey = journeys.journey_create(
        product=cast.product, persona_id=persona.pk, name="First week", goal="", actor=cast.pm
    )
    journeys.stage_add(journey=journey, name="Sign up", emotion=1, actor=cast.pm)
    journeys.stage_add(journey=journey, name="Onboard", emotion=-1, actor=cast.pm)
    _history(cast.product)
    _plan(cast)
    initiative = Initiative.objects.get(product=cast.product, title="Too tight")
    roadmap_services.initiative_post_update(
        initiative=initiative, status="at_risk", note="Vendor API slipped.", actor=cast.pm
    )
    sprint = SprintFactory(product=cast.product)
    key = cast.product.key
    sign_in(page, "stakeholder", PASSWORD)

    readable = {
        "journeys": f"/p/{key}/journeys/",
        "journey": f"/p/{key}/journeys/{journey.pk}/",
        "roadmap": f"/p/{key}/roadmap/",
        "board": f"/p/{key}/roadmap/board/",
        "initiative": f"/p/{key}/roadmap/initiatives/{initiative.pk}/",
    }
    for name, path in readable.items():
        response = page.goto(path)
        assert response.status == 200, name
        assert _edit_controls(page) == [], name
        if name == "journey":
            assert page.locator('[data-testid="stage"]').count() == 2
            assert page.locator('[data-testid="emotion"] svg polyline').count() == 2
            _shot(page, screenshot_dir / "pm-job-stakeholder-journey.png")
        if name == "initiative":
            assert (
                "Vendor API slipped." in page.locator('[data-testid="status-updates"]').inner_text()
            )
            assert page.locator('[data-testid="status-update-form"]').count() == 0
            _shot(page, screenshot_dir / "pm-job-stakeholder-initiative.png")
        if name == "roadmap":
            assert page.locator('[data-testid="timeline-health"]').inner_text() == "At risk"

    assert page.console_errors == []

    forbidden = {
        "forecast": f"/p/{key}/roadmap/forecast/",
        "pricing": f"/p/{key}/pricing/",
        "plan-new": f"/p/{key}/pricing/plans/new/",
        "sprint-review": f"/p/{key}/sprints/{sprint.pk}/review/",
        "sprint-retro": f"/p/{key}/sprints/{sprint.pk}/retro/",
        "journey-edit": f"/p/{key}/journeys/{journey.pk}/edit/",
    }
    statuses = {name: page.goto(path).status for name, path in forbidden.items()}
    assert all(status in (403, 404) for status in statuses.values()), statuses
    # The browser logs each refused document; nothing else went wrong.
    assert all(
        e.startswith("Failed to load resource: the server responded with a status of 403")
        for e in page.console_errors
    ), page.console_errors
    _shot(page, screenshot_dir / "pm-job-stakeholder-forbidden.png")
