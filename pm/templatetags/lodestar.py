"""Template helpers: sanitised markdown, role checks."""

import markdown as md
import nh3
from django import template
from django.utils.safestring import mark_safe

from pm.permissions import role_allows

register = template.Library()

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
}


@register.filter(name="markdown")
def render_markdown(text: str | None) -> str:
    """Markdown to HTML, then sanitised: scripts, handlers and unknown tags never survive."""
    if not text:
        return ""
    html = md.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


@register.filter
def can(membership, need: str) -> bool:
    """`{% if product.membership|can:"pm" %}`: does this membership's role meet `need`?"""
    return membership is not None and role_allows(membership.role, need)


@register.filter
def fieldlabel(name: str) -> str:
    """`target_customers` → `Target customers`."""
    return name.replace("_", " ").capitalize()


@register.filter
def actor_name(user) -> str:
    """Who did it: full name, else username; "Lodestar" for changes made by the system."""
    if user is None:
        return "Lodestar"
    return user.get_full_name() or user.username
