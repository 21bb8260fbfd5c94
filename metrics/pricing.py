"""Van Westendorp's price sensitivity meter: pure functions, no database.

Each respondent names four prices: so cheap they would doubt the quality (too cheap), a bargain
(cheap), getting expensive (expensive), and too expensive to consider. At every price p:

- too cheap:      the share who named a too-cheap price at or above p (falls as p rises)
- not cheap:      1 − the share who named a bargain price at or above p (rises)
- not expensive:  1 − the share who named an expensive price at or below p (falls)
- too expensive:  the share who named a too-expensive price at or below p (rises)

The acceptable range runs from the point of marginal cheapness (too cheap × not cheap) to the
point of marginal expensiveness (too expensive × not expensive); the optimal price point is
where too cheap meets too expensive, the indifference price point where not cheap meets not
expensive. Crossings between two surveyed prices are interpolated linearly.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    too_cheap: float
    cheap: float
    expensive: float
    too_expensive: float

    @property
    def consistent(self) -> bool:
        """The four prices in the order the questions imply (the usual cleaning rule)."""
        return 0 <= self.too_cheap <= self.cheap <= self.expensive <= self.too_expensive


@dataclass(frozen=True)
class Curves:
    prices: list[float]
    too_cheap: list[float]
    not_cheap: list[float]
    not_expensive: list[float]
    too_expensive: list[float]


@dataclass(frozen=True)
class Analysis:
    respondents: int
    excluded: int  # inconsistent answers left out
    curves: Curves
    marginal_cheapness: float | None
    marginal_expensiveness: float | None
    optimal: float | None
    indifference: float | None

    @property
    def acceptable_range(self) -> tuple[float, float] | None:
        low, high = self.marginal_cheapness, self.marginal_expensiveness
        return (low, high) if low is not None and high is not None else None


def curves(answers: Sequence[Answer]) -> Curves:
    """The four curves at every price anyone named, in ascending order."""
    n = len(answers)
    if not n:
        raise ValueError("No answers.")
    prices = sorted(
        {p for a in answers for p in (a.too_cheap, a.cheap, a.expensive, a.too_expensive)}
    )
    too_cheap = sorted(a.too_cheap for a in answers)
    cheap = sorted(a.cheap for a in answers)
    expensive = sorted(a.expensive for a in answers)
    too_expensive = sorted(a.too_expensive for a in answers)

    def at_or_above(values: list[float], p: float) -> float:
        return (n - bisect_left(values, p)) / n

    def at_or_below(values: list[float], p: float) -> float:
        return bisect_right(values, p) / n

    return Curves(
        prices=prices,
        too_cheap=[at_or_above(too_cheap, p) for p in prices],
        not_cheap=[1 - at_or_above(cheap, p) for p in prices],
        not_expensive=[1 - at_or_below(expensive, p) for p in prices],
        too_expensive=[at_or_below(too_expensive, p) for p in prices],
    )


def crossing(
    prices: Sequence[float], falling: Sequence[float], rising: Sequence[float]
) -> float | None:
    """The price where a falling curve meets a rising one, interpolated between surveyed prices
    (None when they never meet in the surveyed range)."""
    for i, price in enumerate(prices):
        gap = falling[i] - rising[i]
        if gap == 0:
            return price
        if gap < 0:
            if i == 0:
                return None
            before = falling[i - 1] - rising[i - 1]
            share = before / (before - gap)  # where the gap reaches zero between i-1 and i
            return prices[i - 1] + share * (price - prices[i - 1])
    return None


def analyse(answers: Sequence[Answer]) -> Analysis:
    kept = [a for a in answers if a.consistent]
    if not kept:
        raise ValueError(
            "No consistent answers: each needs too cheap ≤ cheap ≤ expensive ≤ too expensive."
        )
    c = curves(kept)

    def cross(falling: list[float], rising: list[float]) -> float | None:
        return crossing(c.prices, falling, rising)

    return Analysis(
        respondents=len(kept),
        excluded=len(answers) - len(kept),
        curves=c,
        marginal_cheapness=cross(c.too_cheap, c.not_cheap),
        marginal_expensiveness=cross(c.not_expensive, c.too_expensive),
        optimal=cross(c.too_cheap, c.too_expensive),
        indifference=cross(c.not_expensive, c.not_cheap),
    )
