"""Template helpers: sanitised markdown, role checks, readable history entries."""

import functools
import re
import threading
from dataclasses import dataclass
from typing import Any

import markdown as md
import nh3
from django import template
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from pm.permissions import role_allows
from pm.visibility import viewer_of

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


_converters = threading.local()


def _converter() -> md.Markdown:
    """This thread's Markdown converter, built once: building one (its extensions, parsers
    and patterns) costs more than converting a paragraph."""
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = md.Markdown(extensions=["extra", "sane_lists"], output_format="html")
        _converters.markdown = converter
    return converter


@functools.lru_cache(maxsize=1024)
def _sanitised_html(text: str) -> str:
    html = _converter().reset().convert(text)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


@register.filter(name="markdown")
def render_markdown(text: str | None) -> str:
    """Markdown to HTML, then sanitised: scripts, handlers and unknown tags never survive.
    Texts up to 4,000 characters are remembered (the same descriptions render on every page
    view: a roadmap re-rendered after one edit converts only the edited text)."""
    if not text:
        return ""
    text = str(text)
    clean = _sanitised_html(text) if len(text) <= 4000 else _sanitised_html.__wrapped__(text)
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 (_sanitised_html)


_TAG_OR_TEXT = re.compile(r"(<[^>]+>)")
_MENTION_WORD = re.compile(r"(?<![\w@/])@([\w.+-]{1,150})")


@register.filter
def comment_markdown(text: str | None) -> str:
    """A comment's sanitised markdown, with @mentions highlighted (outside links and code)."""
    html = str(render_markdown(text))
    parts = _TAG_OR_TEXT.split(html)
    out, inside = [], 0
    for part in parts:
        if part.startswith("<"):
            name = part.strip("</>").split()[0].lower() if part.strip("</>") else ""
            if name in ("a", "code", "pre"):
                inside += -1 if part.startswith("</") else 1
            out.append(part)
        elif inside <= 0:
            out.append(_MENTION_WORD.sub(r'<span class="mention">@\1</span>', part))
        else:
            out.append(part)
    # The parts are nh3's output; the only markup added wraps word characters.
    return mark_safe("".join(out))  # noqa: S308


@register.filter
def can(membership, need: str) -> bool:
    """`{% if product.membership|can:"pm" %}`: does this membership's role meet `need`?"""
    return membership is not None and role_allows(membership.role, need)


@register.filter
def browses(product, section: str | None) -> bool:
    """`{% if product|browses:item.section %}`: may the reader browse that section of the
    product (pm.visibility)? True for no section."""
    if section is None:
        return True
    viewer = viewer_of(product) if getattr(product, "membership", None) is not None else None
    return viewer is not None and viewer.browses(section)


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


# --- history entries ----------------------------------------------------------------------

# Bookkeeping a reader of the history does not care about (derived or internal counters).
# A rank is an opaque sort key ("aU"); moves are logged as "position" in words instead.
_HISTORY_BOOKKEEPING = {"rank", "score", "version", "number", "demand_customers", "demand_arr"}


@dataclass(frozen=True)
class HistoryRow:
    """One changed field of a history entry, ready to print."""

    label: str
    before: str
    after: str


def _history_model(object_type: str):
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _history_label(model, name: str) -> str:
    if model is not None:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is not None and hasattr(field, "verbose_name"):
            return capfirst(str(field.verbose_name))
    return capfirst(str(name).replace("_", " "))


def _history_value(value: Any, people: dict[str, str] | None = None) -> str:
    """A stored before/after value as a person reads it."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if not value:
            return "none"
        if all(isinstance(v, dict) and "text" in v for v in value):
            done = sum(1 for v in value if v.get("done"))
            noun = "criterion" if len(value) == 1 else "criteria"
            return f"{len(value)} {noun}, {done} done"
        return ", ".join(_history_value(v, people) or "—" for v in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{capfirst(str(k).replace('_', ' '))}: {_history_value(v, people) or '—'}"
            for k, v in value.items()
        )
    if people is not None and isinstance(value, str):
        return people.get(value, value)
    return str(value)


def _people(context, workspace_id) -> dict[str, str]:
    """Usernames → names of one workspace's members, loaded once per rendered page."""
    cache = context.render_context.setdefault("lodestar_history_people", {})
    if workspace_id not in cache:
        from django.contrib.auth.models import User

        cache[workspace_id] = {
            u.username: (u.get_full_name() or u.username)
            for u in User.objects.filter(memberships__workspace_id=workspace_id).only(
                "username", "first_name", "last_name"
            )
        }
    return cache[workspace_id]


def _is_person_field(model, name: str) -> bool:
    if model is None:
        return False
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(field.is_relation and field.related_model is get_user_model())


def _custom_value_rows(pair: Any) -> list[HistoryRow]:
    """A custom fields change ({field id: {"field": name, "value": text}} before and after,
    already cut to the fields the reader may see) as one row per field."""
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return []
    before, after = (side if isinstance(side, dict) else {} for side in pair)
    rows = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        named = new if isinstance(new, dict) else old
        label = named.get("field", "Field") if isinstance(named, dict) else "Field"
        rows.append(
            HistoryRow(
                label=capfirst(str(label)),
                before=str(old.get("value", "")) if isinstance(old, dict) else "",
                after=str(new.get("value", "")) if isinstance(new, dict) else "",
            )
        )
    return rows


@register.simple_tag(takes_context=True)
def history_rows(context, entry, changes=None) -> list[HistoryRow]:
    """`{% history_rows e as rows %}`: an activity entry's changes as labelled, readable rows.

    Reads the `changes` dict in Python, so a change named "items" or "keys" cannot collide with
    the dict's methods as `e.changes.items` does in a template. Pass `changes` to render an
    already-filtered mapping (e.g. with an audience's internal fields removed)."""
    changes = entry.changes if changes is None else changes
    if not isinstance(changes, dict):
        return []
    model = _history_model(entry.object_type)
    rows = []
    for name, pair in changes.items():
        if name in _HISTORY_BOOKKEEPING:
            continue
        if name == "custom_values":
            rows.extend(_custom_value_rows(pair))
            continue
        label = _history_label(model, name)
        before, after = (list(pair) + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        people = _people(context, entry.workspace_id) if _is_person_field(model, name) else None
        rows.append(
            HistoryRow(
                label=label,
                before=_history_value(before, people),
                after=_history_value(after, people),
            )
        )
    return rows


@register.filter
def history_name(entry) -> str:
    """The record's name for “…” quoting: a name stored as `Share link “Q3”` (its label and
    its own quotes) becomes `Q3`, so the page does not print share link “Share link “Q3””."""
    text = str(entry.object_repr).strip()
    label = str(entry.object_label)
    if text.lower().startswith(label.lower() + " "):
        rest = text[len(label) :].strip()
        if rest.startswith("“") and rest.endswith("”"):
            return rest[1:-1]
    return text


@register.simple_tag
def merge_note(bound_field):
    """`{% merge_note field as note %}`: after an edit conflict, what the other person saved in
    this field (pm.merge.FieldNote), or None."""
    form = getattr(bound_field, "form", None)
    note = getattr(form, "merge_note", None)
    return note(bound_field.name) if callable(note) else None
