"""User journey maps: services (validated writes with history) and selectors (what a reader sees).

A journey is a persona's path to a goal, drawn as a grid: one column per stage, rows for actions,
touchpoints, thoughts and pains, and a line for the persona's emotion across the stages.
Opportunities hang off a stage and link the backlog item that answers them (feature), and the
idea or feedback item that shows the need; a reader sees only the links their visibility gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from backlog.models import Feature, Idea
from feedback.models import FeedbackItem
from pm.journey_models import (
    Journey,
    JourneyOpportunity,
    JourneyStage,
)
from pm.models import Persona, Product
from pm.services import record_create, record_delete, versioned_update
from pm.visibility import Viewer, apply, visible

# --- services -------------------------------------------------------------------------------


def _persona_of(product: Product, persona_id: Any) -> Persona:
    persona = Persona.objects.filter(product=product, pk=persona_id).first()
    if persona is None:
        raise ValidationError({"persona": "Choose one of this product's personas."})
    return persona


def _name_taken(product: Product, persona: Persona | None, name: str, exclude: int | None) -> bool:
    rows = Journey.objects.filter(product=product, persona=persona, name__iexact=name.strip())
    return rows.exclude(pk=exclude).exists() if exclude else rows.exists()


def journey_create(
    *, product: Product, persona_id: Any, name: str, goal: str = "", actor: User
) -> Journey:
    """A new journey map for one of the product's personas. The name is unique per persona, so
    a retried "Create" finds the journey it made instead of making a second one."""
    persona = _persona_of(product, persona_id)
    name = name.strip()
    existing = Journey.objects.filter(product=product, persona=persona, name__iexact=name).first()
    if existing is not None:
        if existing.goal == goal.strip():
            return existing
        raise ValidationError({"name": f"{persona.name} already has a journey called “{name}”."})
    journey = Journey(product=product, persona=persona, name=name, goal=goal.strip())
    return record_create(instance=journey, actor=actor)


def journey_update(
    *, journey: Journey, data: dict[str, Any], expected_version: int, actor: User
) -> Journey:
    data = dict(data)
    if "persona" in data:
        persona = data["persona"]
        data["persona"] = _persona_of(journey.product, getattr(persona, "pk", persona))
    persona = data.get("persona", journey.persona)
    name = data.get("name", journey.name)
    if _name_taken(journey.product, persona, name, exclude=journey.pk):
        raise ValidationError({"name": "This persona already has a journey with that name."})
    return versioned_update(
        instance=journey, data=data, expected_version=expected_version, actor=actor
    )


def journey_delete(*, journey: Journey, actor: User) -> None:
    record_delete(instance=journey, actor=actor)


def stage_add(*, journey: Journey, name: str, actor: User, **fields: Any) -> JourneyStage:
    """A stage at the end of the journey."""
    with transaction.atomic():
        # Lock the journey: two stages added at once still get distinct positions.
        Journey.objects.select_for_update().filter(pk=journey.pk).first()
        last = journey.stages.aggregate(last=Max("position"))["last"]
        stage = JourneyStage(
            product=journey.product,
            journey=journey,
            position=0 if last is None else last + 1,
            name=name.strip(),
            **fields,
        )
        return record_create(instance=stage, actor=actor)


def stage_update(
    *, stage: JourneyStage, data: dict[str, Any], expected_version: int, actor: User
) -> JourneyStage:
    return versioned_update(
        instance=stage, data=data, expected_version=expected_version, actor=actor
    )


@transaction.atomic
def stage_move(*, stage: JourneyStage, direction: str, seen_position: int | None) -> bool:
    """Swap the stage with its neighbour to the left or right. `seen_position` is where the page
    showed it: when the stage is no longer there (a retried click already moved it), nothing
    moves again. Returns whether it moved."""
    if direction not in ("left", "right"):
        raise ValidationError({"direction": "Move a stage left or right."})
    stages = list(
        JourneyStage.objects.select_for_update()
        .filter(journey_id=stage.journey_id)
        .order_by("position", "id")
    )
    index = next((i for i, s in enumerate(stages) if s.pk == stage.pk), None)
    if index is None:
        return False
    if seen_position is not None and stages[index].position != seen_position:
        return False
    other = index - 1 if direction == "left" else index + 1
    if not 0 <= other < len(stages):
        return False
    stages[index], stages[other] = stages[other], stages[index]
    # Renumber densely (positions may have gaps after deletions); only changed rows are written.
    for position, row in enumerate(stages):
        if row.position != position:
            JourneyStage.objects.filter(pk=row.pk).update(position=position)
    Journey.objects.filter(pk=stage.journey_id).update(updated_at=timezone.now())
    return True


def stage_delete(*, stage: JourneyStage, actor: User) -> None:
    record_delete(instance=stage, actor=actor)


# The models an opportunity links to.
LinkedModel = type[Feature] | type[Idea] | type[FeedbackItem]


def _linked(model: LinkedModel, product: Product, pk: Any, label: str) -> Any:
    if pk in (None, ""):
        return None
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise ValidationError({label: f"Choose a {label} of this product."}) from None
    row = model.objects.filter(product=product, pk=number).first()
    if row is None:
        raise ValidationError({label: f"Choose a {label} of this product."})
    return row


def opportunity_add(
    *,
    stage: JourneyStage,
    text: str,
    actor: User,
    feature_id: Any = None,
    idea_id: Any = None,
    feedback_id: Any = None,
) -> JourneyOpportunity:
    """An opportunity at a stage. Its text is its natural key on the stage: the same text added
    twice (a retried submit) is one opportunity, with the links of the latest submit."""
    text = " ".join(text.split())
    if not text:
        raise ValidationError({"text": "Say what the opportunity is."})
    product = stage.product
    links = {
        "feature": _linked(Feature, product, feature_id, "feature"),
        "idea": _linked(Idea, product, idea_id, "idea"),
        "feedback": _linked(FeedbackItem, product, feedback_id, "feedback"),
    }
    with transaction.atomic():
        existing = (
            JourneyOpportunity.objects.select_for_update()
            .filter(stage=stage, text__iexact=text)
            .first()
        )
        if existing is not None:
            changed = [name for name, row in links.items() if getattr(existing, name) != row]
            for name in changed:
                setattr(existing, name, links[name])
            if changed:
                existing.save(update_fields=changed)
            return existing
        opportunity = JourneyOpportunity(
            product=product, stage=stage, text=text, created_by=actor, **links
        )
        return record_create(instance=opportunity, actor=actor)


def opportunity_delete(*, opportunity: JourneyOpportunity, actor: User) -> None:
    record_delete(instance=opportunity, actor=actor)


# --- selectors ------------------------------------------------------------------------------


@dataclass
class JourneyRow:
    journey: Journey
    stages: int
    opportunities: int
    mood: float | None  # the average emotion across stages


def journeys_for_product(
    product: Product, viewer: Viewer | None, *, persona_id: int | None = None
) -> list[JourneyRow]:
    """Every journey of the product the viewer sees (of one persona, when given), by persona.
    One query."""
    queryset = Journey.objects.filter(product=product)
    if persona_id is not None:
        queryset = queryset.filter(persona_id=persona_id)
    rows = (
        apply(queryset, viewer, product)
        .select_related("persona")
        .annotate(
            stage_count=Count("stages", distinct=True),
            opportunity_count=Count("stages__opportunities", distinct=True),
            # A subquery: averaged over the join with opportunities, a stage with two of them
            # would count twice.
            mood=Subquery(
                JourneyStage.objects.filter(journey=OuterRef("pk"))
                .values("journey")
                .annotate(mood=Avg("emotion"))
                .values("mood")
            ),
        )
        .order_by("persona__name", "name", "id")
    )
    return [
        JourneyRow(
            journey=j,
            stages=j.stage_count,
            opportunities=j.opportunity_count,
            mood=j.mood,
        )
        for j in rows
    ]


def journeys_of_persona(persona: Persona, viewer: Viewer | None) -> QuerySet[Journey]:
    return apply(Journey.objects.filter(persona=persona), viewer, persona.product)


@dataclass
class Link:
    kind: str  # "feature", "idea" or "feedback"
    pk: int
    label: str


@dataclass
class OpportunityView:
    opportunity: JourneyOpportunity
    links: list[Link] = field(default_factory=list)


@dataclass
class StageView:
    stage: JourneyStage
    opportunities: list[OpportunityView]
    # The emotion line's piece in this stage's cell (an SVG box 200 wide, 100 high): from the
    # midpoint with the previous stage, through this stage's point, to the midpoint with the
    # next — the pieces join into one line across the map's columns.
    points: str = ""


@dataclass
class JourneyMap:
    journey: Journey
    stages: list[StageView]
    mood: float | None  # the average emotion
    low: StageView | None  # the stage where the persona feels worst (the first, on a tie)


def _visible_ids(model: LinkedModel, ids: set[int], viewer: Viewer | None) -> set[int]:
    if not ids:
        return set()
    return set(visible(model.objects.filter(pk__in=ids), viewer).values_list("pk", flat=True))


def _y(emotion: int) -> float:
    """Delighted at the top of the cell (y=10), frustrated at the bottom (y=90)."""
    return 50.0 - emotion * 20.0


def journey_map(journey: Journey, viewer: Viewer | None) -> JourneyMap:
    """The grid: stages in order, each with its opportunities and the links the viewer may
    follow (a stakeholder sees a feature only where the roadmap or backlog shows it to them, no
    feedback unless the feedback section is shared). Five queries whatever the size."""
    opportunities = JourneyOpportunity.objects.select_related("feature", "idea", "feedback")
    stages = list(
        apply(JourneyStage.objects.filter(journey=journey), viewer, journey.product)
        .prefetch_related(Prefetch("opportunities", queryset=opportunities))
        .order_by("position", "id")
    )
    wanted: dict[str, set[int]] = {"feature": set(), "idea": set(), "feedback": set()}
    for stage in stages:
        for opp in stage.opportunities.all():
            for kind in wanted:
                pk = getattr(opp, f"{kind}_id")
                if pk:
                    wanted[kind].add(pk)
    allowed = {
        "feature": _visible_ids(Feature, wanted["feature"], viewer),
        "idea": _visible_ids(Idea, wanted["idea"], viewer),
        "feedback": _visible_ids(FeedbackItem, wanted["feedback"], viewer),
    }
    views: list[StageView] = []
    for stage in stages:
        items = []
        for opp in stage.opportunities.all():
            links = []
            if opp.feature_id in allowed["feature"]:
                assert opp.feature is not None
                links.append(Link("feature", opp.feature.pk, opp.feature.title))
            if opp.idea_id in allowed["idea"]:
                assert opp.idea is not None
                links.append(Link("idea", opp.idea.pk, opp.idea.title))
            if opp.feedback_id in allowed["feedback"]:
                assert opp.feedback is not None
                # The quote only: who said it (customer) is internal and not loaded here.
                links.append(Link("feedback", opp.feedback.pk, opp.feedback.content[:90]))
            items.append(OpportunityView(opp, links))
        views.append(StageView(stage, items))
    ys = [_y(v.stage.emotion) for v in views]
    for i, view in enumerate(views):
        points = [f"100,{ys[i]:g}"]
        if i > 0:
            points.insert(0, f"0,{(ys[i - 1] + ys[i]) / 2:g}")
        if i + 1 < len(views):
            points.append(f"200,{(ys[i] + ys[i + 1]) / 2:g}")
        view.points = " ".join(points)
    emotions = [v.stage.emotion for v in views]
    return JourneyMap(
        journey=journey,
        stages=views,
        mood=sum(emotions) / len(emotions) if emotions else None,
        low=min(views, key=lambda v: v.stage.emotion) if views else None,
    )
