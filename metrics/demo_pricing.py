"""Demo pricing (first load only): three plans with the features they include, competitors' price
points, and a Van Westendorp survey of 120 respondents drawn around a €29 sweet spot."""

from __future__ import annotations

import random
from decimal import Decimal

from backlog.models import Feature
from metrics import price_plans
from metrics.models import CompetitorPrice, PricePlan, PriceSurvey
from pm.choices import Role
from pm.models import Competitor

PLANS = [
    ("Free", "For a product manager trying it out.", "0", None, 0),
    ("Team", "For a product team: roadmap sharing, digests, the API.", "29", "290", 3),
    ("Business", "For several teams: SSO, audit log, portals.", "79", "790", 6),
]
COMPETITOR_PRICES = [
    ("Productboard", "Essentials", "25"),
    ("Productboard", "Pro", "75"),
    ("Jira Product Discovery", "Standard", "10"),
    ("Aha! Roadmaps", "Premium", "59"),
]


def _survey_csv(seed: int = 7, respondents: int = 120) -> bytes:
    rng = random.Random(seed)
    lines = ["respondent,too cheap,cheap,expensive,too expensive"]
    for n in range(respondents):
        bargain = max(5.0, rng.gauss(22, 6))
        too_cheap = max(1.0, bargain - abs(rng.gauss(9, 3)))
        expensive = bargain + abs(rng.gauss(16, 5))
        too_expensive = expensive + abs(rng.gauss(20, 7))
        lines.append(f"{n + 1},{too_cheap:.0f},{bargain:.0f},{expensive:.0f},{too_expensive:.0f}")
    return ("\n".join(lines) + "\n").encode()


def load(*, workspace, product, users) -> None:
    pm = users[Role.PM]
    if PricePlan.objects.filter(product=product).exists():
        return
    features = list(Feature.objects.filter(product=product).order_by("rank"))
    for name, description, monthly, annual, extra in PLANS:
        price_plans.plan_create(
            product=product,
            data={
                "name": name,
                "description": description,
                "currency": "EUR",
                "monthly_price": Decimal(monthly),
                "annual_price": Decimal(annual) if annual else None,
            },
            features=features[: 3 + extra],
            actor=pm,
        )
    competitors = {c.name: c for c in Competitor.objects.filter(product=product)}
    for name, plan, monthly in COMPETITOR_PRICES:
        competitor = competitors.get(name)
        if (
            competitor is not None
            and not CompetitorPrice.objects.filter(competitor=competitor, plan_name=plan).exists()
        ):
            price_plans.competitor_price_add(
                product=product,
                competitor=competitor,
                plan_name=plan,
                monthly_price=Decimal(monthly),
                currency="EUR",
                actor=pm,
            )
    if not PriceSurvey.objects.filter(product=product).exists():
        price_plans.survey_upload(
            product=product, name="Pricing page survey, Q3", data=_survey_csv(), actor=pm
        )
