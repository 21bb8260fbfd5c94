# ruff: noqa: S608 - the table's name is the model's; every value is a parameter.
"""Experiments read from events: who was exposed to which variant, and who converted after.

- a person's variant is the variant property of their *first* exposure event in the experiment's
  dates (later exposures do not move them; exposures without the property are left out);
- they converted when they have a conversion event at or after that first exposure, before the
  end of the experiment's dates;
- each variant is compared with the control by the two-proportion z-test (metrics.stats); with
  more than one comparison the p-values are Holm-adjusted, and significance is read from those;
- the planned sample size per variant comes from the control's rate and the minimum detectable
  effect (Bonferroni over the comparisons), and a running experiment read before it gets the
  peeking warning.

One query on PostgreSQL (exposures and conversions per variant); the same rules in Python for
SQLite (trial mode) and as the tests' reference."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from metrics.models import Event
from metrics.stats import (
    Comparison,
    RevenueComparison,
    holm,
    peeking,
    revenue_per_visitor,
    revenue_per_visitor_test,
    sample_size_per_variant,
    sample_too_small,
    two_proportion_test,
)


@dataclass
class Arm:
    name: str
    exposures: int
    conversions: int
    is_control: bool = False
    comparison: Comparison | None = None
    adjusted_p: float | None = None  # Holm-adjusted when there are several comparisons
    # Pricing experiments: the variant's price, its revenue per visitor against the control's
    # and that comparison's p-value, Holm-adjusted like the conversion one.
    price: Decimal | None = None
    revenue: RevenueComparison | None = None
    revenue_adjusted_p: float | None = None

    @property
    def rate(self) -> float:
        return self.conversions / self.exposures if self.exposures else 0.0

    @property
    def rpv(self) -> float | None:
        if self.price is None:
            return None
        return revenue_per_visitor(float(self.price), self.conversions, self.exposures)

    @property
    def revenue_significant(self) -> bool:
        return self.revenue_adjusted_p is not None and self.revenue_adjusted_p < 0.05

    @property
    def significant(self) -> bool:
        return self.adjusted_p is not None and self.adjusted_p < 0.05


@dataclass
class Readout:
    variants: list[Arm]
    planned_per_variant: int | None = None
    peeking: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def comparisons(self) -> int:
        return sum(1 for v in self.variants if v.comparison is not None)

    @property
    def corrected(self) -> bool:
        return self.comparisons > 1

    @property
    def too_small(self) -> bool:
        return any(sample_too_small(v.conversions, v.exposures) for v in self.variants)

    @property
    def best(self) -> Arm | None:
        winners = [
            v
            for v in self.variants
            if v.significant and v.comparison and v.comparison.difference > 0
        ]
        return max(winners, key=lambda v: v.rate) if winners else None

    @property
    def pricing(self) -> bool:
        """A pricing experiment: every variant carries a price."""
        return bool(self.variants) and all(v.price is not None for v in self.variants)

    @property
    def top_earner(self) -> Arm | None:
        """The price that earns most per visitor (the first on a tie), significant or not."""
        if not self.pricing:
            return None
        return max(self.variants, key=lambda v: v.rpv or 0.0)

    @property
    def revenue_best(self) -> Arm | None:
        """The top earner when it beats the control significantly (Holm-adjusted)."""
        top = self.top_earner
        if top and top.revenue_significant and top.revenue and top.revenue.difference > 0:
            return top
        return None


def control_first(
    rows: list[tuple[str, int, int]], control: str = ""
) -> list[tuple[str, int, int]]:
    """Variants by name with the control first: the named one, else one called “control”,
    else the first by name."""
    rows = sorted(rows, key=lambda r: r[0])
    names = [r[0] for r in rows]
    chosen = control if control in names else "control" if "control" in names else None
    if chosen is not None:
        rows.sort(key=lambda r: r[0] != chosen)
    return rows


def analyse(
    rows: list[tuple[str, int, int]],
    *,
    minimum_detectable_effect: float | None = None,
    running: bool = False,
    prices: list[Decimal | None] | None = None,
) -> Readout:
    """The statistics of (variant, exposures, conversions) rows, the first being the control:
    each other variant against it, Holm when there are several, the plan (from the control's
    rate) and the peeking warning. With a price for every row (a pricing experiment), the
    revenue per visitor too, Holm-adjusted over the same comparisons."""
    arms = [Arm(name, exposures, conversions) for name, exposures, conversions in rows]
    if not arms:
        return Readout(variants=[])
    if prices is not None and len(prices) == len(arms) and None not in prices:
        _revenue(arms, prices)
    base = arms[0]
    base.is_control = True
    for arm in arms[1:]:
        arm.comparison = two_proportion_test(
            base.conversions, base.exposures, arm.conversions, arm.exposures
        )
    adjusted = holm([a.comparison.p_value if a.comparison else None for a in arms])
    for arm, p in zip(arms, adjusted, strict=True):
        arm.adjusted_p = p
    planned = None
    if minimum_detectable_effect and len(arms) > 1:
        planned = sample_size_per_variant(
            base.rate, minimum_detectable_effect / 100, comparisons=len(arms) - 1
        )
    return Readout(
        variants=arms,
        planned_per_variant=planned,
        peeking=peeking(
            running=running,
            smallest_arm=min(a.exposures for a in arms),
            planned=planned,
        ),
    )


def _revenue(arms: list[Arm], prices: list[Decimal | None]) -> None:
    for arm, price in zip(arms, prices, strict=True):
        arm.price = price
    base = arms[0]
    for arm in arms[1:]:
        arm.revenue = revenue_per_visitor_test(
            float(base.price or 0),
            base.conversions,
            base.exposures,
            float(arm.price or 0),
            arm.conversions,
            arm.exposures,
        )
    adjusted = holm([a.revenue.p_value if a.revenue else None for a in arms])
    for arm, p in zip(arms, adjusted, strict=True):
        arm.revenue_adjusted_p = p


def counts_python(
    events: Iterable[tuple[str, datetime, str, dict]],
    *,
    exposure_event: str,
    variant_property: str,
    conversion_event: str,
) -> list[tuple[str, int, int]]:
    """(variant, exposures, conversions) from (person, time, event, properties) tuples."""
    first: dict[str, tuple[datetime, Any]] = {}
    conversions: dict[str, list[datetime]] = defaultdict(list)
    for person, moment, name, properties in events:
        if name == exposure_event and (person not in first or moment < first[person][0]):
            first[person] = (moment, properties.get(variant_property))
        if name == conversion_event:
            conversions[person].append(moment)
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for person, (moment, variant) in first.items():
        if variant is None or variant == "":
            continue
        label = variant if isinstance(variant, str) else json.dumps(variant)
        table[label][0] += 1
        if any(t >= moment for t in conversions.get(person, ())):
            table[label][1] += 1
    return [(name, n, c) for name, (n, c) in sorted(table.items())]


def counts(
    *,
    product_id: int,
    exposure_event: str,
    variant_property: str,
    conversion_event: str,
    start: datetime,
    end: datetime,
) -> list[tuple[str, int, int]]:
    """Exposures and conversions per variant between `start` and `end`: one query."""
    if connection.vendor != "postgresql":
        events = Event.objects.filter(
            product_id=product_id,
            name__in=[exposure_event, conversion_event],
            timestamp__gte=start,
            timestamp__lt=end,
        ).values_list("distinct_id", "timestamp", "name", "properties")
        return counts_python(
            events,
            exposure_event=exposure_event,
            variant_property=variant_property,
            conversion_event=conversion_event,
        )
    table = Event._meta.db_table
    sql = (
        "WITH x AS (SELECT DISTINCT ON (distinct_id) distinct_id AS u, timestamp AS t, "
        "properties ->> %(prop)s AS v "
        f"FROM {table} WHERE product_id = %(product)s AND name = %(exposure)s "
        "AND timestamp >= %(start)s AND timestamp < %(end)s ORDER BY distinct_id, timestamp), "
        "c AS (SELECT DISTINCT x.u FROM x JOIN "
        f"{table} e ON e.distinct_id = x.u AND e.timestamp >= x.t "
        "WHERE e.product_id = %(product)s AND e.name = %(conversion)s "
        "AND e.timestamp >= %(start)s AND e.timestamp < %(end)s) "
        "SELECT x.v, count(*), count(c.u) FROM x LEFT JOIN c ON c.u = x.u "
        "WHERE x.v IS NOT NULL AND x.v <> '' GROUP BY x.v ORDER BY x.v"
    )
    params: dict[str, str | int | datetime] = {
        "prop": variant_property,
        "product": product_id,
        "exposure": exposure_event,
        "conversion": conversion_event,
        "start": start,
        "end": end,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(v, n, c) for v, n, c in cursor.fetchall()]


def readout(
    *,
    product_id: int,
    exposure_event: str,
    variant_property: str,
    conversion_event: str,
    start: datetime,
    end: datetime,
    control: str = "",
    minimum_detectable_effect: float | None = None,
    running: bool = False,
) -> Readout:
    """An events experiment's readout: counts per variant (one query) and their statistics."""
    rows = counts(
        product_id=product_id,
        exposure_event=exposure_event,
        variant_property=variant_property,
        conversion_event=conversion_event,
        start=start,
        end=end,
    )
    return analyse(
        control_first(rows, control),
        minimum_detectable_effect=minimum_detectable_effect,
        running=running,
    )
