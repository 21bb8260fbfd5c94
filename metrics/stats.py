"""Statistics for experiments and funnels: pure functions, no database.

Experiments use the two-proportion z-test (pooled standard error for the test statistic, unpooled
for the confidence interval of the difference), the usual normal approximation. It is only
trusted when every variant has at least MIN_EVENTS conversions and MIN_EVENTS non-conversions.
"""

import math
from dataclasses import dataclass
from statistics import NormalDist

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
MIN_EVENTS = 5  # conversions and non-conversions per variant for the normal approximation


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class Comparison:
    """A treatment variant against the control."""

    control_rate: float
    rate: float
    difference: float  # absolute, rate - control_rate
    lift: float | None  # relative, difference / control_rate; None when the control rate is 0
    ci_low: float  # 95 % confidence interval of the absolute difference
    ci_high: float
    z: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05

    @property
    def lift_ci(self) -> tuple[float, float] | None:
        """The difference's interval relative to the control rate (treats that rate as known)."""
        if not self.control_rate:
            return None
        return self.ci_low / self.control_rate, self.ci_high / self.control_rate


def rate(conversions: int, exposures: int) -> float:
    return conversions / exposures if exposures else 0.0


def two_proportion_test(
    control_conversions: int,
    control_exposures: int,
    conversions: int,
    exposures: int,
) -> Comparison:
    """Compare a variant's conversion rate with the control's."""
    p_c = rate(control_conversions, control_exposures)
    p_t = rate(conversions, exposures)
    diff = p_t - p_c
    z = p_value = None
    if control_exposures and exposures:
        pooled = (control_conversions + conversions) / (control_exposures + exposures)
        se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / control_exposures + 1 / exposures))
        if se_pooled > 0:
            z = diff / se_pooled
            p_value = normal_two_sided_p(z)
        se = math.sqrt(p_c * (1 - p_c) / control_exposures + p_t * (1 - p_t) / exposures)
    else:
        se = 0.0
    return Comparison(
        control_rate=p_c,
        rate=p_t,
        difference=diff,
        lift=diff / p_c if p_c else None,
        ci_low=diff - Z_95 * se,
        ci_high=diff + Z_95 * se,
        z=z,
        p_value=p_value,
    )


@dataclass(frozen=True)
class RevenueComparison:
    """A pricing variant's revenue per visitor against the control's."""

    control_rpv: float
    rpv: float
    difference: float  # rpv - control_rpv, in money per visitor
    lift: float | None  # difference / control_rpv; None when the control earns nothing
    ci_low: float  # 95 % confidence interval of the difference
    ci_high: float
    z: float | None
    p_value: float | None


def revenue_per_visitor(price: float, conversions: int, exposures: int) -> float:
    """Each conversion pays the price once: price × conversions / exposures."""
    return price * rate(conversions, exposures)


def revenue_per_visitor_test(
    control_price: float,
    control_conversions: int,
    control_exposures: int,
    price: float,
    conversions: int,
    exposures: int,
) -> RevenueComparison:
    """Compare a variant's revenue per visitor with the control's: a visitor pays `price` with
    probability p (price × Bernoulli(p)), so the variance per visitor is price² p (1 − p); the
    two-sided z-test uses the unpooled standard error
    sqrt(price_a² p_a (1 − p_a) / n_a + price_b² p_b (1 − p_b) / n_b)
    (pooling makes no sense across different prices)."""
    p_c = rate(control_conversions, control_exposures)
    p_t = rate(conversions, exposures)
    rpv_c, rpv_t = control_price * p_c, price * p_t
    diff = rpv_t - rpv_c
    z = p_value = None
    se = 0.0
    if control_exposures and exposures:
        se = math.sqrt(
            control_price**2 * p_c * (1 - p_c) / control_exposures
            + price**2 * p_t * (1 - p_t) / exposures
        )
        if se > 0:
            z = diff / se
            p_value = normal_two_sided_p(z)
    return RevenueComparison(
        control_rpv=rpv_c,
        rpv=rpv_t,
        difference=diff,
        lift=diff / rpv_c if rpv_c else None,
        ci_low=diff - Z_95 * se,
        ci_high=diff + Z_95 * se,
        z=z,
        p_value=p_value,
    )


def sample_too_small(conversions: int, exposures: int) -> bool:
    """Whether the normal approximation is unreliable for this variant."""
    return conversions < MIN_EVENTS or exposures - conversions < MIN_EVENTS


@dataclass(frozen=True)
class FunnelRow:
    name: str
    count: int
    from_previous: float | None  # share of the previous step that reached this one
    from_start: float | None  # share of the first step
    drop_off: float | None  # 1 - from_previous
    lost: int  # people lost since the previous step
    largest_drop: bool = False


def funnel_rows(steps: list[tuple[str, int]]) -> list[FunnelRow]:
    """Conversion and drop-off between consecutive steps; the largest relative drop-off (first one
    on a tie) is flagged."""
    rows = []
    first = steps[0][1] if steps else 0
    previous = None
    for name, count in steps:
        if previous is None:
            rows.append(FunnelRow(name, count, None, 1.0 if first else None, None, 0))
        else:
            share = count / previous if previous else None
            rows.append(
                FunnelRow(
                    name,
                    count,
                    share,
                    count / first if first else None,
                    None if share is None else 1 - share,
                    max(previous - count, 0),
                )
            )
        previous = count
    drops = [(row.drop_off, i) for i, row in enumerate(rows) if row.drop_off is not None]
    if drops:
        worst = max(drops, key=lambda d: (d[0], -d[1]))
        if worst[0] > 0:
            i = worst[1]
            r = rows[i]
            rows[i] = FunnelRow(
                r.name, r.count, r.from_previous, r.from_start, r.drop_off, r.lost, True
            )
    return rows


# --- several variants, planning and peeking ----------------------------------------------------

ALPHA = 0.05
POWER = 0.8


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (in the order given; None stays None): the smallest of m
    is multiplied by m, the next by m − 1, …, each at least the one before, at most 1. A variant
    is significant when its adjusted p-value is below 0.05, which keeps the chance of any false
    win among the m comparisons at 5 %."""
    ranked = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(ranked)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(ranked):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def sample_size_per_variant(
    baseline: float,
    relative_effect: float,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    comparisons: int = 1,
) -> int | None:
    """People needed in each variant to detect a change of the conversion rate from `baseline`
    by `relative_effect` (0.1 = +10 %) with a two-sided two-proportion z-test at `alpha` (split
    over `comparisons`, Bonferroni: a safe plan for Holm) and the given power. None when the
    rates make no sense (0 or 1, no effect)."""
    p1 = baseline
    p2 = baseline * (1 + relative_effect)
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2 or comparisons < 1:
        return None
    normal = NormalDist()
    z_alpha = normal.inv_cdf(1 - alpha / comparisons / 2)
    z_power = normal.inv_cdf(power)
    mean = (p1 + p2) / 2
    root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_power * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil(root**2 / (p2 - p1) ** 2)


def peeking(*, running: bool, smallest_arm: int, planned: int | None) -> bool:
    """Whether a running experiment is being read before its planned sample size: checking the
    p-value again and again and stopping at the first “significant” one makes false wins far
    more likely than 5 %."""
    return running and planned is not None and smallest_arm < planned
