"""Number formatting for KPI pages: values with their unit, percentages, signed changes."""

from decimal import Decimal

from django import template

register = template.Library()

_PREFIX_UNITS = {"€", "$", "£", "¥"}


def format_number(value: float | Decimal | int | None) -> str:
    if value is None:
        return "—"
    number = float(value)
    size = abs(number)
    if size >= 100:
        text = f"{number:,.0f}"
    elif size >= 10:
        text = f"{number:,.1f}"
    elif size >= 0.1 or size == 0:
        text = f"{number:,.2f}"
    else:
        text = f"{number:.3g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@register.filter
def kpi_value(value, kpi) -> str:
    """`{{ summary.latest|kpi_value:kpi }}` → “€1,234”, “4.2%”, “812 users”."""
    text = format_number(value)
    unit = getattr(kpi, "unit", "") or ""
    if value is None or not unit:
        return text
    if unit in _PREFIX_UNITS:
        return f"−{unit}{text[1:]}" if text.startswith("-") else f"{unit}{text}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}"


@register.filter
def number(value) -> str:
    return format_number(value)


@register.filter
def percent(value, digits: int = 1) -> str:
    """A 0–1 share as a percentage: 0.1234 → “12.3%”."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def signed_percent(value, digits: int = 1) -> str:
    """A change already in percent: 3.2 → “+3.2%”, -1 → “−1.0%”."""
    if value is None:
        return "—"
    text = f"{float(value):+.{int(digits)}f}%"
    return text.replace("-", "−")


@register.filter
def signed_points(value, digits: int = 1) -> str:
    """A difference of two 0–1 rates in percentage points: 0.031 → “+3.1 pp”."""
    if value is None:
        return "—"
    return f"{float(value) * 100:+.{int(digits)}f} pp".replace("-", "−")


@register.filter
def p_value(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


@register.filter
def signed_share(value, digits: int = 1) -> str:
    """A 0–1 relative change as a signed percentage: 0.3 → “+30.0%”."""
    if value is None:
        return "—"
    return f"{float(value) * 100:+.{int(digits)}f}%".replace("-", "−")


@register.filter
def money(value, currency: str = "") -> str:
    """An amount with two decimals and thousands separators, then the currency if known:
    1234.5 → “1,234.50 EUR”."""
    if value is None:
        return "—"
    text = f"{float(value):,.2f}"
    return f"{text} {currency}" if currency else text


@register.filter
def signed_money(value, currency: str = "") -> str:
    """A difference of amounts: 0.5 → “+0.50”, with the currency if known."""
    if value is None:
        return "—"
    text = f"{float(value):+,.2f}".replace("-", "−")
    return f"{text} {currency}" if currency else text


@register.filter
def price(value, currency: str = "") -> str:
    """A price as the plans show it: whole amounts without decimals (29 → “29 EUR”), else two
    (49.5 → “49.50 EUR”)."""
    if value is None:
        return "—"
    text = f"{float(value):,.0f}" if value == int(value) else f"{float(value):,.2f}"
    return f"{text} {currency}" if currency else text
