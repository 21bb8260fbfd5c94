"""User journey maps: a PM maps a persona's journey stage by stage, links opportunities to the
backlog, ideas and feedback; everyone who reads strategy reads the map, and sees only the links
the visibility policy gives them."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pm import journeys
from pm.journey_models import Journey, JourneyOpportunity, JourneyStage
from pm.models import ActivityLog
from pm.visibility import viewer_for_role
from tests.backlog.factories import FeatureFactory, IdeaFactory
from tests.factories import PersonaFactory, ProductFactory
from tests.feedback.factories import FeedbackItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def journey(cast):
    persona = PersonaFactory(product=cast.product, name="Priya")
    return journeys.journey_create(
        product=cast.product, persona_id=persona.pk, name="Buy", goal="Get a tool", actor=cast.pm
    )


def test_a_pm_maps_a_journey_through_the_pages(cast):
    persona = PersonaFactory(product=cast.product, name="Eli")
    feature = FeatureFactory(product=cast.product, title="Story templates")
    client = cast.client("pm")

    created = client.post(
        reverse("journey_list", args=[cast.product.key]),
        {"persona": persona.pk, "name": "Sprint to done", "goal": "Finish what we commit"},
    )
    journey = Journey.objects.get(name="Sprint to done")
    assert created.status_code == 302 and created["Location"].endswith(f"/journeys/{journey.pk}/")

    for name, emotion in (("Refine", "-1"), ("Plan", "0"), ("Build", "-2"), ("Review", "2")):
        added = client.post(
            reverse("journey_stage_add", args=[cast.product.key, journey.pk]),
            {"name": name, "emotion": emotion, "pains": f"{name} hurts"},
        )
        assert added.status_code == 302
    refine = journey.stages.get(name="Refine")
    added = client.post(
        reverse("journey_opportunity_add", args=[cast.product.key, journey.pk, refine.pk]),
        {"text": "Reusable criteria", "feature": feature.pk},
    )
    assert added.status_code == 302

    page = client.get(reverse("journey_detail", args=[cast.product.key, journey.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    # Stages in the order added, with their emotion; the lowest point named.
    names = [v.stage.name for v in page.context["map"].stages]
    assert names == ["Refine", "Plan", "Build", "Review"]
    assert [v.stage.emotion for v in page.context["map"].stages] == [-1, 0, -2, 2]
    assert "lowest point: <strong>Build</strong>" in html
    assert "Reusable criteria" in html and "Feature: Story templates" in html
    assert reverse("feature_detail", args=[cast.product.key, feature.pk]) in html

    listing = client.get(reverse("journey_list", args=[cast.product.key]))
    row = listing.context["rows"][0]
    assert (row.stages, row.opportunities, row.mood) == (4, 1, pytest.approx(-0.25))


def test_the_emotion_line_joins_the_stages_through_their_levels(cast, journey):
    for name, emotion in (("A", 2), ("B", -2), ("C", 0)):
        journeys.stage_add(journey=journey, name=name, emotion=emotion, actor=cast.pm)
    stages = journeys.journey_map(journey, viewer_for_role("pm")).stages
    # y: +2 → 10, 0 → 50, −2 → 90; each cell runs from the midpoint with its neighbours.
    assert [s.points for s in stages] == [
        "100,10 200,50",
        "0,50 100,90 200,70",
        "0,70 100,50",
    ]


def test_creating_the_same_journey_twice_makes_one_and_a_clash_is_a_field_error(cast, journey):
    again = journeys.journey_create(
        product=cast.product,
        persona_id=journey.persona_id,
        name="buy ",
        goal="Get a tool",
        actor=cast.pm,
    )
    assert again.pk == journey.pk and Journey.objects.count() == 1
    with pytest.raises(ValidationError) as error:
        journeys.journey_create(
            product=cast.product,
            persona_id=journey.persona_id,
            name="Buy",
            goal="Something else",
            actor=cast.pm,
        )
    assert "already has a journey" in str(error.value.message_dict["name"])


def test_a_persona_of_another_product_is_refused(cast):
    elsewhere = PersonaFactory(product=ProductFactory(workspace=cast.workspace, key="OTH"))
    response = cast.client("pm").post(
        reverse("journey_list", args=[cast.product.key]),
        {"persona": elsewhere.pk, "name": "Buy"},
    )
    assert response.status_code == 400
    assert "persona" in response.context["form"].errors
    assert not Journey.objects.exists()


def test_moving_a_stage_swaps_it_with_its_neighbour_and_a_retried_move_does_nothing(cast, journey):
    a, b, c = (journeys.stage_add(journey=journey, name=n, actor=cast.pm) for n in ("A", "B", "C"))
    url = reverse("journey_stage_move", args=[cast.product.key, journey.pk, c.pk])
    client = cast.client("pm")
    for _ in range(2):  # the second is the browser retrying the same click
        assert client.post(url, {"direction": "left", "position": 2}).status_code == 302
    order = list(JourneyStage.objects.filter(journey=journey).values_list("name", flat=True))
    assert order == ["A", "C", "B"]
    assert journeys.stage_move(stage=a, direction="left", seen_position=None) is False
    with pytest.raises(ValidationError):
        journeys.stage_move(stage=b, direction="up", seen_position=None)


def test_an_opportunity_is_its_text_on_its_stage_so_a_retry_does_not_double_it(cast, journey):
    stage = journeys.stage_add(journey=journey, name="Evaluate", actor=cast.pm)
    idea = IdeaFactory(product=cast.product)
    url = reverse("journey_opportunity_add", args=[cast.product.key, journey.pk, stage.pk])
    client = cast.client("pm")
    for _ in range(2):
        assert client.post(url, {"text": "A free  trial", "idea": idea.pk}).status_code == 302
    assert list(JourneyOpportunity.objects.values_list("text", "idea_id")) == [
        ("A free trial", idea.pk)
    ]


def test_links_must_be_the_products_own_and_bad_input_is_a_field_error(cast, journey):
    stage = journeys.stage_add(journey=journey, name="Evaluate", actor=cast.pm)
    other = FeedbackItemFactory(product=ProductFactory(workspace=cast.workspace, key="OTH"))
    url = reverse("journey_opportunity_add", args=[cast.product.key, journey.pk, stage.pk])
    client = cast.client("pm")
    response = client.post(url, {"text": "Trial", "feedback": other.pk})
    assert response.status_code == 400
    assert "feedback" in response.context["opportunity_form"].errors
    response = client.post(url, {"text": "Trial\x00", "feedback": "99999999999999999999"})
    assert response.status_code == 400
    stage_url = reverse("journey_stage_add", args=[cast.product.key, journey.pk])
    response = client.post(stage_url, {"name": "X", "emotion": "7"})
    assert response.status_code == 400 and "emotion" in response.context["stage_form"].errors
    assert not JourneyOpportunity.objects.exists()
    assert JourneyStage.objects.count() == 1


def test_a_stale_stage_edit_shows_the_merge_instead_of_overwriting(cast, journey):
    stage = journeys.stage_add(journey=journey, name="Evaluate", pains="Slow", actor=cast.pm)
    url = reverse("journey_stage_edit", args=[cast.product.key, journey.pk, stage.pk])
    journeys.stage_update(
        stage=stage, data={"pains": "Pricing unclear"}, expected_version=1, actor=cast.admin
    )
    response = cast.client("pm").post(
        url, {"version": 1, "name": "Evaluate", "pains": "Too slow", "emotion": "0"}
    )
    assert response.status_code == 400
    assert "Someone else saved this" in response.content.decode()
    stage.refresh_from_db()
    assert (stage.pains, stage.version) == ("Pricing unclear", 2)


def test_stakeholders_read_the_map_but_only_the_links_they_may_see(cast, journey):
    stage = journeys.stage_add(journey=journey, name="Evaluate", actor=cast.pm)
    shipped = FeatureFactory(product=cast.product, title="Shipped thing", status="shipped")
    secret = FeatureFactory(product=cast.product, title="Unreleased plan", status="backlog")
    quote = FeedbackItemFactory(product=cast.product, content="Confidential quote")
    idea = IdeaFactory(product=cast.product, title="Raw idea")
    journeys.opportunity_add(stage=stage, text="Shipped one", feature_id=shipped.pk, actor=cast.pm)
    journeys.opportunity_add(
        stage=stage,
        text="Hidden links",
        feature_id=secret.pk,
        idea_id=idea.pk,
        feedback_id=quote.pk,
        actor=cast.pm,
    )
    html = (
        cast.client("stakeholder")
        .get(reverse("journey_detail", args=[cast.product.key, journey.pk]))
        .content.decode()
    )
    assert "Hidden links" in html and "Shipped thing" in html
    for hidden in ("Unreleased plan", "Confidential quote", "Raw idea"):
        assert hidden not in html
    assert "Add opportunity" not in html and "Add a stage" not in html

    api = cast.client("stakeholder").get(f"/api/v1/journeys/{journey.pk}/").json()
    links = [
        (o["text"], o["feature"], o["idea"], o["feedback"])
        for s in api["stages"]
        for o in s["opportunities"]
    ]
    assert links == [("Shipped one", shipped.pk, None, None), ("Hidden links", None, None, None)]
    team = cast.client("engineer").get(f"/api/v1/journeys/{journey.pk}/").json()
    assert team["stages"][0]["opportunities"][1]["feedback"] == quote.pk


def test_the_journeys_history_is_on_its_page_for_the_team(cast, journey):
    journeys.stage_add(journey=journey, name="Evaluate", actor=cast.pm)
    assert ActivityLog.objects.filter(object_type="pm.journey", object_id=journey.pk).exists()
    page = cast.client("engineer").get(
        reverse("journey_detail", args=[cast.product.key, journey.pk])
    )
    assert "created Buy" in page.content.decode()


def _fill(cast, journey, stages: int) -> None:
    for n in range(stages):
        stage = journeys.stage_add(journey=journey, name=f"S{n}", actor=cast.pm)
        journeys.opportunity_add(
            stage=stage,
            text=f"O{n}",
            feature_id=FeatureFactory.create(product=cast.product).pk,
            idea_id=IdeaFactory.create(product=cast.product).pk,
            feedback_id=FeedbackItemFactory.create(product=cast.product).pk,
            actor=cast.pm,
        )


@pytest.mark.parametrize("stages", [2, 12])
def test_the_map_list_and_api_cost_the_same_queries_at_any_size(
    cast, journey, stages, django_assert_max_num_queries
):
    _fill(cast, journey, stages)
    client = cast.client("stakeholder")
    with django_assert_max_num_queries(16):
        page = client.get(reverse("journey_detail", args=[cast.product.key, journey.pk]))
    assert page.status_code == 200 and f"S{stages - 1}" in page.content.decode()
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("journey_list", args=[cast.product.key]))
    assert listing.status_code == 200 and "Buy" in listing.content.decode()
    with django_assert_max_num_queries(14):
        api = client.get(f"/api/v1/journeys/?product={cast.product.key}")
    assert len(api.json()["results"][0]["stages"]) == stages
