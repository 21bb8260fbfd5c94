"""Prioritisation scores: pure functions of a feature's inputs, each with its formula spelled out.

Every function returns a :class:`Score`. A missing input, or a zero effort / job size / cost,
gives ``value=None`` and a ``reason`` a person can act on — never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from backlog.choices import Framework

FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Score:
    """A computed score (or why there is none) and how it was computed."""

    framework: str
    value: Decimal | None
    formula: str  # the general formula, e.g. "reach × impact × confidence ÷ effort"
    breakdown: str = ""  # the formula with this item's numbers, e.g. "2000 × 2 × 80% ÷ 4 = 800"
    reason: str = ""  # why there is no value
    payback_months: Decimal | None = None  # ROI only

    @property
    def ok(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        return self.breakdown if self.ok else self.reason


FORMULAS = {
    Framework.RICE: "RICE = reach × impact × confidence ÷ effort",
    Framework.ICE: "ICE = impact × confidence × ease (confidence on a 0–10 scale: 80% → 8)",
    Framework.WSJF: "WSJF = (business value + time criticality + risk reduction) ÷ job size",
    Framework.VALUE_EFFORT: "value ÷ effort",
    Framework.ROI: "ROI = (expected revenue or savings − cost) ÷ cost; payback = cost ÷ monthly "
    "return",
}

# Inputs each framework reads (names of Feature fields), in the order shown in the UI.
INPUTS: dict[str, list[str]] = {
    Framework.RICE: ["reach", "impact", "confidence", "effort"],
    Framework.ICE: ["impact", "confidence", "ease"],
    Framework.WSJF: ["business_value", "time_criticality", "risk_reduction", "job_size"],
    Framework.VALUE_EFFORT: ["value", "effort"],
    Framework.ROI: ["expected_revenue", "cost", "roi_horizon_months"],
}
# The Feature fields that feed a score, once each (forms, the API and the services list them
# from here); ROI's are internal (costs and revenue), so they are kept apart.
SCORE_INPUTS = list(
    dict.fromkeys(n for f, names in INPUTS.items() if f != Framework.ROI for n in names)
)
ROI_INPUTS = INPUTS[Framework.ROI]

LABELS = {
    "reach": "reach",
    "impact": "impact",
    "confidence": "confidence",
    "effort": "effort",
    "ease": "ease",
    "business_value": "business value",
    "time_criticality": "time criticality",
    "risk_reduction": "risk reduction",
    "job_size": "job size",
    "value": "value",
    "expected_revenue": "expected revenue or savings",
    "cost": "cost",
    "roi_horizon_months": "ROI horizon",
}


def _dec(value: Any) -> Decimal | None:
    """A Decimal from a number or numeric string; None for blank or unparseable input."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _num(value: Decimal) -> str:
    """A compact human number: 1200 → "1,200", 2.50 → "2.5"."""
    q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if q == q.to_integral():
        return f"{int(q):,}"
    return f"{q:,.2f}".rstrip("0").rstrip(".")


def _round(value: Decimal) -> Decimal:
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def _inputs(framework: Framework, values: dict[str, Decimal | None]) -> list[Decimal] | Score:
    """The inputs in order when all are there; otherwise the Score that says which are missing."""
    present = [v for v in values.values() if v is not None]
    if len(present) == len(values):
        return present
    missing = [LABELS[name] for name, v in values.items() if v is None]
    listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
    return Score(framework, None, FORMULAS[framework], reason=f"Needs {listed} to compute a score.")


def _zero(framework: Framework, name: str) -> Score:
    return Score(
        framework,
        None,
        FORMULAS[framework],
        reason=f"No score: {LABELS[name]} is zero, and the formula divides by it. "
        f"Enter a {LABELS[name]} above zero.",
    )


def rice(*, reach: Any, impact: Any, confidence: Any, effort: Any) -> Score:
    """Reach × impact × confidence (percent) ÷ effort (person-months)."""
    values = {
        "reach": _dec(reach),
        "impact": _dec(impact),
        "confidence": _dec(confidence),
        "effort": _dec(effort),
    }
    inputs = _inputs(Framework.RICE, values)
    if isinstance(inputs, Score):
        return inputs
    r, i, c, e = inputs
    if e <= 0:
        return _zero(Framework.RICE, "effort")
    score = _round(r * i * (c / 100) / e)
    return Score(
        Framework.RICE,
        score,
        FORMULAS[Framework.RICE],
        f"{_num(r)} × {_num(i)} × {_num(c)}% ÷ {_num(e)} = {_num(score)}",
    )


def ice(*, impact: Any, confidence: Any, ease: Any) -> Score:
    """Impact (0–10) × confidence (percent, read on a 0–10 scale) × ease (0–10)."""
    values = {"impact": _dec(impact), "confidence": _dec(confidence), "ease": _dec(ease)}
    inputs = _inputs(Framework.ICE, values)
    if isinstance(inputs, Score):
        return inputs
    i, c, e = inputs
    score = _round(i * (c / 10) * e)
    return Score(
        Framework.ICE,
        score,
        FORMULAS[Framework.ICE],
        f"{_num(i)} × {_num(c / 10)} × {_num(e)} = {_num(score)}",
    )


def wsjf(
    *, business_value: Any, time_criticality: Any, risk_reduction: Any, job_size: Any
) -> Score:
    """Cost of delay (business value + time criticality + risk reduction) ÷ job size."""
    values = {
        "business_value": _dec(business_value),
        "time_criticality": _dec(time_criticality),
        "risk_reduction": _dec(risk_reduction),
        "job_size": _dec(job_size),
    }
    inputs = _inputs(Framework.WSJF, values)
    if isinstance(inputs, Score):
        return inputs
    bv, tc, rr, js = inputs
    if js <= 0:
        return _zero(Framework.WSJF, "job_size")
    score = _round((bv + tc + rr) / js)
    return Score(
        Framework.WSJF,
        score,
        FORMULAS[Framework.WSJF],
        f"({_num(bv)} + {_num(tc)} + {_num(rr)}) ÷ {_num(js)} = {_num(score)}",
    )


def value_effort(*, value: Any, effort: Any) -> Score:
    values = {"value": _dec(value), "effort": _dec(effort)}
    inputs = _inputs(Framework.VALUE_EFFORT, values)
    if isinstance(inputs, Score):
        return inputs
    v, e = inputs
    if e <= 0:
        return _zero(Framework.VALUE_EFFORT, "effort")
    score = _round(v / e)
    return Score(
        Framework.VALUE_EFFORT,
        score,
        FORMULAS[Framework.VALUE_EFFORT],
        f"{_num(v)} ÷ {_num(e)} = {_num(score)}",
    )


def roi(*, expected_revenue: Any, cost: Any, roi_horizon_months: Any = None) -> Score:
    """(Return over the horizon − cost) ÷ cost, and the payback period in months.

    The payback period assumes the return arrives evenly over the horizon: cost ÷ (return ÷
    horizon). Without a horizon the ROI is still computed; the payback period is not.
    """
    values = {"expected_revenue": _dec(expected_revenue), "cost": _dec(cost)}
    inputs = _inputs(Framework.ROI, values)
    if isinstance(inputs, Score):
        return inputs
    gain, c = inputs
    if c <= 0:
        return _zero(Framework.ROI, "cost")
    ratio = _round((gain - c) / c)
    breakdown = f"({_num(gain)} − {_num(c)}) ÷ {_num(c)} = {_num(ratio)} ({_num(ratio * 100)}%)"
    horizon = _dec(roi_horizon_months)
    payback = None
    if horizon is not None and horizon > 0:
        if gain > 0:
            payback = (c / (gain / horizon)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            breakdown += f"; payback {_num(c)} ÷ ({_num(gain)} ÷ {_num(horizon)} months)"
            breakdown += f" = {_num(payback)} months"
        else:
            breakdown += "; no payback: the expected return is zero"
    return Score(Framework.ROI, ratio, FORMULAS[Framework.ROI], breakdown, payback_months=payback)


_FUNCTIONS: dict[Framework, Callable[..., Score]] = {
    Framework.RICE: rice,
    Framework.ICE: ice,
    Framework.WSJF: wsjf,
    Framework.VALUE_EFFORT: value_effort,
    Framework.ROI: roi,
}


def score_inputs(framework: str, inputs: dict[str, Any]) -> Score:
    """Score `inputs` (a dict of Feature field values) with `framework`."""
    try:
        func = _FUNCTIONS[Framework(framework)]
    except ValueError:
        return Score(framework, None, "", reason=f"Unknown framework {framework!r}.")
    names = INPUTS[Framework(framework)]
    return func(**{name: inputs.get(name) for name in names})


def score_feature(feature: Any, framework: str) -> Score:
    """Score a Feature (or anything with the input attributes) with `framework`."""
    names = INPUTS.get(Framework(framework), []) if framework in Framework.values else []
    return score_inputs(framework, {name: getattr(feature, name, None) for name in names})
