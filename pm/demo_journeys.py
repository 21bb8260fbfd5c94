"""Demo user journeys (load_demo runs this after the apps' demo loaders, because opportunities
link demo features, ideas and feedback). Idempotent: a journey that exists is left alone."""

from __future__ import annotations

from django.contrib.auth.models import User

from backlog.models import Feature, Idea
from feedback.models import FeedbackItem
from pm import journeys
from pm.journey_models import Journey
from pm.models import Persona, Product

# (persona, journey, goal, stages); a stage is (name, actions, touchpoints, thoughts, pains,
# emotion, opportunities); an opportunity is (text, feature title, idea title, feedback words).
_Opportunity = tuple[str, str | None, str | None, str | None]
_Stage = tuple[str, str, str, str, str, int, list[_Opportunity]]
JOURNEYS: list[tuple[str, str, str, list[_Stage]]] = [
    (
        "Priya, product manager",
        "From scattered feedback to a defended priority",
        "Show the leadership team which problem to solve next, and prove it with evidence.",
        [
            (
                "Collect",
                "Copies quotes from support tickets, sales notes and interviews.",
                "Helpdesk, CRM, interview notes",
                "Where did I see that request last week?",
                "Feedback lives in five tools; nothing links to customers.",
                -1,
                [
                    (
                        "One inbox for every source",
                        "Unified feedback inbox",
                        None,
                        "Triaging feedback from support",
                    ),
                ],
            ),
            (
                "Triage",
                "Reads each item, tags it and links it to a feature.",
                "Feedback inbox on her phone",
                "Is this the same thing as the request from Hooli?",
                "Cramped pages on the phone; duplicates slip through.",
                -2,
                [
                    (
                        "Triage comfortably on a phone",
                        "Mobile-friendly sprint board",
                        None,
                        "I triage on my phone",
                    ),
                    ("Catch duplicate ideas as they arrive", None, "Darker dark mode", None),
                ],
            ),
            (
                "Prioritise",
                "Scores the candidates with RICE and weighs customer ARR.",
                "Backlog, scoring panel",
                "Which of these moves activation the most?",
                "Reach is a guess unless customers are linked.",
                0,
                [("Reach from linked customers' ARR", "Customer-weighted reach", None, None)],
            ),
            (
                "Present",
                "Walks leadership through the roadmap and the evidence.",
                "Roadmap share link, weekly digest",
                "Will they trust the numbers this time?",
                "",
                1,
                [
                    (
                        "A roadmap executives read without a walkthrough",
                        "Public roadmap share links",
                        "Printable roadmap",
                        "Sharing the roadmap with a secret link",
                    ),
                ],
            ),
            (
                "Follow up",
                "Checks whether the shipped feature moved the KPI.",
                "KPI page, launch impact",
                "Did it work?",
                "Before/after numbers take a day in a spreadsheet.",
                1,
                [
                    (
                        "Launch impact next to the KPI",
                        "Launch impact: before/after KPI windows",
                        None,
                        "After a launch we want to see",
                    )
                ],
            ),
        ],
    ),
    (
        "Eli, tech lead",
        "Sprint planning to done",
        "Start the sprint with stories the team understands and finish what was committed.",
        [
            (
                "Refine",
                "Reads the stories and asks for acceptance criteria.",
                "Backlog, story page",
                "What does done look like here?",
                "Criteria missing on half the stories.",
                -1,
                [("Reusable acceptance criteria", "Story templates", None, "A library of story")],
            ),
            (
                "Plan",
                "Pulls stories into the sprint up to the team's capacity.",
                "Sprint planning page",
                "Are we over-committing again?",
                "",
                0,
                [("Warn before the sprint is over-committed", None, None, "We plan sprints")],
            ),
            (
                "Build",
                "Moves cards across the board; links branches and merge requests.",
                "Sprint board, GitLab",
                "Why do I update the status in two places?",
                "Status drifts from the code.",
                -1,
                [("Status follows the merge request", None, None, "Could a story's status")],
            ),
            (
                "Review",
                "Demos what was done; runs the retrospective.",
                "Sprint review and retro pages",
                "",
                "",
                1,
                [],
            ),
        ],
    ),
]


def _first_id(model: journeys.LinkedModel, product: Product, **lookup: str) -> int | None:
    return model.objects.filter(product=product, **lookup).values_list("pk", flat=True).first()


def load(*, product: Product, actor: User) -> None:
    for persona_name, name, goal, stages in JOURNEYS:
        persona = Persona.objects.filter(product=product, name=persona_name).first()
        if persona is None or Journey.objects.filter(product=product, name=name).exists():
            continue
        journey = journeys.journey_create(
            product=product, persona_id=persona.pk, name=name, goal=goal, actor=actor
        )
        for stage_name, actions, touchpoints, thoughts, pains, emotion, opportunities in stages:
            stage = journeys.stage_add(
                journey=journey,
                name=stage_name,
                actions=actions,
                touchpoints=touchpoints,
                thoughts=thoughts,
                pains=pains,
                emotion=emotion,
                actor=actor,
            )
            for text, feature, idea, feedback in opportunities:
                journeys.opportunity_add(
                    stage=stage,
                    text=text,
                    actor=actor,
                    feature_id=feature and _first_id(Feature, product, title=feature),
                    idea_id=idea and _first_id(Idea, product, title=idea),
                    feedback_id=feedback
                    and _first_id(FeedbackItem, product, content__startswith=feedback),
                )
