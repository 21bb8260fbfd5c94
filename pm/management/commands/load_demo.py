"""Build the demo workspace "Acme": the product LOD, its strategy, and one user per role.

Idempotent: a second run changes nothing. Other apps add their demo data through the
`demo_loaders` hook in pm.registry (called in order after the core)."""

from datetime import date

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction

from pm import demo_journeys
from pm.choices import ObjectiveStatus, Role
from pm.models import (
    Competitor,
    KeyResult,
    Membership,
    Objective,
    Persona,
    Product,
    StrategicTheme,
    Workspace,
)
from pm.registry import registry
from pm.services import record_create

DEMO_PASSWORD = "lodestar-demo"

USERS = [
    ("admin", "Ada", "Admin", Role.ADMIN),
    ("pm", "Priya", "Menon", Role.PM),
    ("engineer", "Eli", "Novak", Role.ENGINEER),
    ("stakeholder", "Sam", "Holder", Role.STAKEHOLDER),
]

PRODUCT = {
    "name": "Lodestar Cloud",
    "key": "LOD",
    "vision": (
        "Every product team knows **why** they build what they build: one place where "
        "strategy, evidence from customers and delivery stay connected, so the roadmap is "
        "a promise the team can keep."
    ),
    "mission": "Help product managers turn customer evidence into outcomes, not output.",
    "target_customers": (
        "Product managers and product leaders at software companies of 20–500 people who "
        "outgrew spreadsheets but don't want a heavyweight enterprise suite."
    ),
    "value_proposition": (
        "Strategy, backlog, roadmap, feedback and KPIs in one self-hosted tool: decisions are "
        "traceable from a customer quote to a shipped feature to a moved metric."
    ),
    "business_model": (
        "Open-source core, self-hosted for free. Paid *Cloud* plan per editor seat "
        "(€19/month); stakeholders and engineers are free. Enterprise support contracts."
    ),
}

THEMES = [
    ("Customer evidence", "Make every decision traceable to customer feedback.", "#0f8a5f"),
    ("Delivery flow", "Shorten the path from refined idea to shipped story.", "#4f46e5"),
    ("Outcome measurement", "Know whether what we shipped moved the needle.", "#b25e09"),
    ("Stakeholder trust", "A roadmap that executives and customers can rely on.", "#c2253b"),
]

OBJECTIVES = [
    (
        "Make feedback the first input to prioritisation",
        "2027 Q1",
        "Customer evidence",
        ObjectiveStatus.ON_TRACK,
        [
            ("Share of backlog features linked to customer feedback", 22, 70, 41, "%"),
            ("Median time from feedback received to triaged", 9, 2, 5, "days"),
        ],
    ),
    (
        "Ship refined work faster",
        "2027 Q1",
        "Delivery flow",
        ObjectiveStatus.AT_RISK,
        [
            ("Median cycle time of user stories", 11, 6, 9, "days"),
            ("Sprints that meet their goal", 40, 80, 55, "%"),
        ],
    ),
    (
        "Measure the impact of every launch",
        "2027 H1",
        "Outcome measurement",
        ObjectiveStatus.ON_TRACK,
        [
            ("Shipped features with a linked KPI", 10, 60, 34, "%"),
        ],
    ),
    (
        "Executives read the roadmap instead of asking for slides",
        "2027 H1",
        "Stakeholder trust",
        ObjectiveStatus.OFF_TRACK,
        [
            ("Weekly stakeholder roadmap views", 15, 120, 38, "views"),
            ("Roadmap dates moved without notice", 12, 0, 7, "per quarter"),
        ],
    ),
]

PERSONAS = [
    (
        "Priya, product manager",
        "Scale-up SaaS",
        "Spend less time assembling evidence; defend priorities with data.",
        "Feedback is scattered across support, sales notes and spreadsheets.",
        "I know customers want it, but I can't show how many or who.",
    ),
    (
        "Marco, head of product",
        "Mid-size software company",
        "Align five teams on one strategy and report progress to the board.",
        "Each team keeps its own roadmap format; outcomes are invisible.",
        "I need one roadmap I can put in front of the CEO without rewriting it.",
    ),
    (
        "Eli, tech lead",
        "Engineering",
        "Clear, well-refined stories with acceptance criteria before the sprint starts.",
        "Stories change mid-sprint; context lives in someone's head.",
        "Just give me the story, the why, and what done looks like.",
    ),
]

COMPETITORS = [
    (
        "Productboard",
        "https://www.productboard.com",
        "Customer-centric product management for larger teams.",
        "Strong feedback insights, polished UI.",
        "Expensive per maker; no self-hosting; delivery lives elsewhere.",
        "Per maker per month; enterprise tiers.",
    ),
    (
        "Jira Product Discovery",
        "https://www.atlassian.com/software/jira/product-discovery",
        "Idea prioritisation bolted onto Jira.",
        "Tight Jira integration, cheap for Atlassian shops.",
        "Thin strategy and KPI support; cloud only.",
        "Per creator; free tier for small teams.",
    ),
    (
        "Aha! Roadmaps",
        "https://www.aha.io",
        "Strategy-first roadmapping suite.",
        "Deep strategy modelling, many roadmap views.",
        "Complex to set up; steep price.",
        "Per user per month, annual contracts.",
    ),
]


class Command(BaseCommand):
    help = (
        "Create (or complete) the demo workspace Acme with the product LOD and one user per role."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        workspace, _ = Workspace.objects.get_or_create(
            slug="acme", defaults={"name": "Acme", "time_zone": "Europe/Amsterdam"}
        )
        users = {}
        for username, first, last, role in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@acme.example",
                    "is_staff": role == Role.ADMIN,
                    "is_superuser": role == Role.ADMIN,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            Membership.objects.get_or_create(
                workspace=workspace, user=user, defaults={"role": role}
            )
            users[role] = user
        pm = users[Role.PM]

        product = Product.objects.filter(workspace=workspace, key=PRODUCT["key"]).first()
        if product is None:
            product = record_create(instance=Product(workspace=workspace, **PRODUCT), actor=pm)

        themes = {}
        for name, description, colour in THEMES:
            theme = StrategicTheme.objects.filter(product=product, name=name).first()
            if theme is None:
                theme = record_create(
                    instance=StrategicTheme(
                        product=product, name=name, description=description, colour=colour
                    ),
                    actor=pm,
                )
            themes[name] = theme

        for title, period, theme_name, status, key_results in OBJECTIVES:
            if Objective.objects.filter(product=product, title=title).exists():
                continue
            objective = record_create(
                instance=Objective(
                    product=product,
                    title=title,
                    period=period,
                    theme=themes[theme_name],
                    status=status,
                ),
                actor=pm,
            )
            for description, start, target, current, unit in key_results:
                record_create(
                    instance=KeyResult(
                        workspace_id=product.workspace_id,
                        objective=objective,
                        description=description,
                        start_value=start,
                        target_value=target,
                        current_value=current,
                        unit=unit,
                    ),
                    actor=pm,
                )

        for name, segment, goals, pains, quote in PERSONAS:
            if not Persona.objects.filter(product=product, name=name).exists():
                record_create(
                    instance=Persona(
                        product=product,
                        name=name,
                        segment=segment,
                        goals=goals,
                        pains=pains,
                        quote=quote,
                    ),
                    actor=pm,
                )

        for name, url, positioning, strengths, weaknesses, pricing in COMPETITORS:
            if not Competitor.objects.filter(product=product, name=name).exists():
                record_create(
                    instance=Competitor(
                        product=product,
                        name=name,
                        url=url,
                        positioning=positioning,
                        strengths=strengths,
                        weaknesses=weaknesses,
                        pricing_notes=pricing,
                        last_reviewed=date(2026, 10, 1),
                    ),
                    actor=pm,
                )

        for loader in registry.demo_loaders:
            loader(workspace=workspace, product=product, users=users)
        # Journeys last: their opportunities link the apps' demo features, ideas and feedback.
        demo_journeys.load(product=product, actor=pm)

        self.stdout.write(self.style.SUCCESS("Demo workspace “Acme” is ready (product LOD)."))
        self.stdout.write(f"Sign in with any of these users, password {DEMO_PASSWORD}:")
        for username, _first, _last, role in USERS:
            self.stdout.write(f"  {username:<12} {role}")
