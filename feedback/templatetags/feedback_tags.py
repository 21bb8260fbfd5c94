"""Template helpers for feedback pages: quotes highlighted in feedback text, compact amounts."""

import re
from decimal import Decimal

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def highlight_quotes(content: str, insights) -> str:
    """The feedback text, escaped, with each linked insight's quote wrapped in <mark>.
    Matching ignores case and runs of whitespace; a quote not found verbatim is left out."""
    text: str = escape(content or "")
    quotes = sorted(
        {i.quote.strip() for i in (insights or []) if getattr(i, "quote", "").strip()},
        key=len,
        reverse=True,
    )
    for quote in quotes:
        words = [re.escape(escape(w)) for w in quote.split()]
        if not words:
            continue
        pattern = re.compile(r"\s+".join(words), re.IGNORECASE)
        text = pattern.sub(lambda m: f'<mark class="quote-mark">{m.group(0)}</mark>', text, 1)
    return mark_safe(text)  # noqa: S308 - built from escaped text only


@register.filter
def compact(amount) -> str:
    """12000 → 12k, 1250000 → 1.25M; for ARR in tight spaces."""
    if amount in (None, ""):
        return "—"
    value = Decimal(amount)
    for limit, suffix in ((Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M")):
        if value >= limit:
            return f"{(value / limit).quantize(Decimal('0.01')).normalize():f}{suffix}"
    if value >= 1000:
        return f"{(value / 1000).quantize(Decimal('0.1')).normalize():f}k"
    return f"{value.quantize(Decimal('1')):f}"
