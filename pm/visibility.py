"""The one visibility policy: who may see which rows, fields and sections.

Everything that decides what a reader sees starts here:

- **Audiences**: the team (admin, pm, engineer) sees everything of its workspace; a stakeholder
  reads strategy, the roadmap, KPIs and released features; a share-link visitor sees the public
  roadmap; a portal visitor the published posts of a product's ideas portal. A digest is built
  for its reader's role, so it is the audience of that role.
- **Sections** a member may browse (`SECTIONS`): the team every one; stakeholders
  `STAKEHOLDER_SECTIONS` plus whatever the workspace's `stakeholder_sections` setting adds
  (ideas, the whole backlog, sprints, feedback). Pages of a section the reader may not browse
  answer 403, and their tabs are hidden.
- **Rows and fields** per model: each model that holds something not everyone may read declares
  a `visibility_rules = Rules(...)` class attribute — its internal fields (never shown outside
  the team), fields internal under a product setting, and which rows each audience sees.
  Selectors apply them with `visible()` (rows, as one `Q`, so query counts stay flat) and
  `redacted()` (internal fields blanked on every loaded instance, before any template, serializer
  or score sees them). The API (`pm.api`), history, digests and the public pages read through
  the same functions, and tests/test_visibility_leaks.py puts a sentinel into every declared
  field and row and proves no surface shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import Field, Model, Q, QuerySet
from django.db.models.query import ModelIterable

if TYPE_CHECKING:
    from pm.models import ActivityLog, Membership, Product, Workspace


class Audience(StrEnum):
    ADMIN = "admin"
    PM = "pm"
    ENGINEER = "engineer"
    STAKEHOLDER = "stakeholder"
    SHARE_LINK = "share_link"
    PORTAL = "portal"


TEAM = frozenset({Audience.ADMIN, Audience.PM, Audience.ENGINEER})


class Section(StrEnum):
    """The parts of a product a reader may browse."""

    STRATEGY = "strategy"
    ROADMAP = "roadmap"
    KPIS = "kpis"
    RELEASED = "released"  # shipped features (their pages, their launch impact)
    IDEAS = "ideas"
    BACKLOG = "backlog"  # the whole backlog: every feature not archived, and its stories
    SPRINTS = "sprints"
    FEEDBACK = "feedback"  # the inbox, feedback items, research studies
    CUSTOMERS = "customers"  # never widened: customer names and ARR are internal


SECTION_LABELS = {
    Section.IDEAS: "Ideas",
    Section.BACKLOG: "The whole backlog (features not yet released, and their stories)",
    Section.SPRINTS: "Sprints and the sprint board",
    Section.FEEDBACK: "Feedback inbox and research studies (without customer names)",
}

# What PRODUCT.md gives stakeholders: strategy, roadmap, KPIs and released features.
STAKEHOLDER_SECTIONS = frozenset(
    {Section.STRATEGY, Section.ROADMAP, Section.KPIS, Section.RELEASED}
)
# What a workspace admin may add for stakeholders (Workspace.stakeholder_sections).
WIDENABLE_SECTIONS = (Section.IDEAS, Section.BACKLOG, Section.SPRINTS, Section.FEEDBACK)
ALL_SECTIONS = frozenset(Section)


@dataclass(frozen=True)
class Viewer:
    """Who reads, as far as visibility goes: an audience and the sections it may browse."""

    audience: Audience
    sections: frozenset[str] = frozenset()

    @property
    def is_team(self) -> bool:
        return self.audience in TEAM

    def browses(self, section: str | None) -> bool:
        return section is None or section in self.sections


def viewer_for_role(role: str | None, workspace: Workspace | None = None) -> Viewer | None:
    """The viewer of a member with `role` in `workspace` (None for a non-member)."""
    if role is None:
        return None
    audience = Audience(role)
    if audience in TEAM:
        return Viewer(audience, ALL_SECTIONS)
    extra = getattr(workspace, "stakeholder_sections", None) or ()
    widened = {s for s in extra if s in WIDENABLE_SECTIONS}
    return Viewer(audience, STAKEHOLDER_SECTIONS | frozenset(widened))


def viewer_for(membership: Membership | None, workspace: Workspace | None = None) -> Viewer | None:
    if membership is None:
        return None
    return viewer_for_role(membership.role, workspace)


def viewer_of(product: Product) -> Viewer | None:
    """The viewer of a product fetched with its membership (pm.permissions), cached on it."""
    viewer = getattr(product, "_viewer", None)
    if viewer is None:
        viewer = viewer_for(getattr(product, "membership", None), product.workspace)
        product._viewer = viewer
    return viewer


SHARE_LINK = Viewer(Audience.SHARE_LINK, frozenset({Section.ROADMAP}))
PORTAL = Viewer(Audience.PORTAL, frozenset())


# --- per-model rules ---------------------------------------------------------------------------

NOTHING = Q(pk__in=[])


def _everything(viewer: Viewer) -> Q:
    return Q()


def team_only(viewer: Viewer) -> Q:
    return Q() if viewer.is_team else NOTHING


def public_rows(viewer: Viewer) -> Q:
    """Rows with visibility "public" for everyone outside the team."""
    return Q() if viewer.is_team else Q(visibility="public")


def in_section(section: str) -> Callable[[Viewer], Q]:
    """All rows for readers who browse `section`, none for the others."""

    def rows(viewer: Viewer) -> Q:
        return Q() if viewer.is_team or viewer.browses(section) else NOTHING

    return rows


def _prefixed(condition: Q, prefix: str) -> Q:
    copy = Q()
    copy.connector, copy.negated = condition.connector, condition.negated
    copy.children = [
        _prefixed(c, prefix) if isinstance(c, Q) else (prefix + c[0], c[1])  # type: ignore[index]  # a Q's children are Qs and (lookup, value) pairs; the stubs say Node
        for c in condition.children
    ]
    return copy


def through(lookup: str, model_label: str, viewer: Viewer) -> Q:
    """The rows whose `lookup` (a foreign key) points at a row of `model_label` that `viewer`
    sees — for rows that are visible exactly when their parent is."""
    model = apps.get_model(model_label)
    condition = rows_q(model, viewer)
    if not condition:
        # Every parent row: an empty Q would vanish when OR-ed (Q(a) | Q() is Q(a)), hiding the
        # rows with a parent from the team in `Q(feature__isnull=True) | through(...)`.
        return Q(**{f"{lookup}__isnull": False})
    return _prefixed(condition, f"{lookup}__")


@dataclass(frozen=True)
class Rules:
    """What a model shows to whom. Declared once, on the model (`visibility_rules`).

    - `internal`: fields only the team sees (costs, ROI inputs, internal notes, customer data).
    - `internal_if`: {field: predicate(product)} — internal when the product says so (reach,
      when it is the summed ARR of customers).
    - `rows`: viewer → Q of the rows it sees (the product's membership is checked before).
    - `workspace`: the lookup from the model to its workspace id, for lists across workspaces.
    - `shown_keys`: {JSON field: keys(product)} — a dict field of which readers outside the team
      see only the keys `keys(product)` names (custom field values: the public fields' ids).
    """

    internal: tuple[str, ...] = ()
    internal_if: dict[str, Callable[[Any], bool]] = field(default_factory=dict)
    rows: Callable[[Viewer], Q] = _everything
    workspace: str = "product__workspace_id"
    shown_keys: dict[str, Callable[[Any], frozenset[str]]] = field(default_factory=dict)


NO_RULES = Rules()


def rules_for(model: type[Model] | Model) -> Rules:
    return getattr(model, "visibility_rules", None) or NO_RULES


def declared_models() -> list[type[Model]]:
    """Every model that declares rules (the leak test walks them)."""
    return [m for m in apps.get_models() if getattr(m, "visibility_rules", None) is not None]


def hidden_fields(
    model: type[Model] | Model, viewer: Viewer | None, product: Product | None = None
) -> frozenset[str]:
    """Fields of `model` that `viewer` may not read (in `product`, for conditional ones)."""
    rules = rules_for(model)
    if viewer is not None and viewer.is_team:
        return frozenset()
    hidden = set(rules.internal)
    for name, predicate in rules.internal_if.items():
        if product is None or predicate(product):
            hidden.add(name)
    return frozenset(hidden)


class _Keys:
    """The keys of a dict field a reader may see in one product, looked up on first use and
    then remembered: rows with nothing in the field cost no query at all."""

    def __init__(self, lookup: Callable[[Any], frozenset[str]], product: Any) -> None:
        self._lookup, self._product = lookup, product
        self._keys: frozenset[str] | None = None

    def __call__(self) -> frozenset[str]:
        if self._keys is None:
            self._keys = self._lookup(self._product)
        return self._keys


# {dict field: the keys to keep}, for readers outside the team.
KeptKeys = dict[str, _Keys]


def kept_keys(
    model: type[Model] | Model, viewer: Viewer | None, product: Product | None = None
) -> KeptKeys:
    """The dict fields of `model` of which `viewer` reads only some keys, with those keys
    (none of them without a product). Empty for the team."""
    rules = rules_for(model)
    if not rules.shown_keys or (viewer is not None and viewer.is_team):
        return {}
    return {name: _Keys(lookup, product) for name, lookup in rules.shown_keys.items()}


def _trim(instance: Model, kept: KeptKeys) -> None:
    for name, keys in kept.items():
        value = instance.__dict__.get(name)
        if isinstance(value, dict) and value and not keys().issuperset(value):
            instance.__dict__[name] = {k: v for k, v in value.items() if k in keys()}


def rows_q(model: type[Model], viewer: Viewer | None) -> Q:
    """The rows of `model` `viewer` sees, as a filter (nothing for no viewer)."""
    if viewer is None:
        return NOTHING
    return rules_for(model).rows(viewer)


def visible[M: Model](queryset: QuerySet[M], viewer: Viewer | None) -> QuerySet[M]:
    """`queryset` limited to the rows `viewer` sees."""
    return queryset.filter(rows_q(queryset.model, viewer))


def visible_across(queryset: QuerySet, viewers: dict[int, Viewer]) -> QuerySet:
    """`queryset` limited to the caller's workspaces ({workspace id: viewer}) and, in each, to
    the rows its viewer sees — one filter, whatever the number of workspaces."""
    path = rules_for(queryset.model).workspace
    condition = NOTHING
    for workspace_id, viewer in viewers.items():
        condition |= Q(**{path: workspace_id}) & rows_q(queryset.model, viewer)
    return queryset.filter(condition)


def _blank(instance: Model, names: Iterable[str]) -> None:
    for name in names:
        model_field = instance._meta.get_field(name)
        assert isinstance(model_field, Field), f"{name} is a field of {instance._meta.label}"
        instance.__dict__[model_field.attname] = None
        if model_field.is_relation:  # a related row loaded with it goes too
            instance._state.fields_cache.pop(model_field.name, None)
        instance.__dict__.setdefault("_redacted", set()).add(name)


def _no_keys(instance: Model) -> KeptKeys:
    return {}


class _RedactingIterable(ModelIterable):
    hide: Callable[[Model], Iterable[str]]
    keep: Callable[[Model], KeptKeys]

    def __iter__(self):
        for instance in super().__iter__():
            names = self.hide(instance)
            if names:
                _blank(instance, names)
            kept = self.keep(instance)
            if kept:
                _trim(instance, kept)
            yield instance


def redacted(
    queryset: QuerySet,
    hide: Callable[[Model], Iterable[str]],
    keep: Callable[[Model], KeptKeys] = _no_keys,
) -> QuerySet:
    """`queryset` whose instances come with the fields `hide(instance)` names blanked (None),
    and the dict fields `keep(instance)` names cut down to the keys it gives: no template,
    serializer or score computed from them can show those values. (The iterable class survives
    filtering, slicing and `get()`.)"""
    clone = queryset.all()
    clone._iterable_class = type(
        "RedactingIterable",
        (_RedactingIterable,),
        {"hide": staticmethod(hide), "keep": staticmethod(keep)},
    )
    return clone


def apply[M: Model](
    queryset: QuerySet[M], viewer: Viewer | None, product: Product | None = None
) -> QuerySet[M]:
    """Rows and fields for one viewer in one product: what page selectors return."""
    queryset = visible(queryset, viewer)
    names = hidden_fields(queryset.model, viewer, product)
    kept = kept_keys(queryset.model, viewer, product)
    if not names and not kept:
        return queryset
    return redacted(queryset, lambda instance: names, lambda instance: kept)


def apply_across(queryset: QuerySet, viewers: dict[int, Viewer]) -> QuerySet:
    """Rows and fields for a caller in several workspaces (API lists)."""
    queryset = visible_across(queryset, viewers)
    rules = rules_for(queryset.model)
    if not rules.internal and not rules.internal_if and not rules.shown_keys:
        return queryset
    path = rules.workspace.split("__")
    known: dict[tuple[int | None, int | None], tuple[frozenset[str], KeptKeys]] = {}

    def decide(instance) -> tuple[frozenset[str], KeptKeys]:
        target = instance
        for step in path[:-1]:
            target = getattr(target, step)
        workspace_id = getattr(target, path[-1])
        product_id = getattr(instance, "product_id", None)
        # Once per product, not per row: a conditional field may need a query to decide.
        if (workspace_id, product_id) not in known:
            viewer, product = viewers.get(workspace_id), getattr(instance, "product", None)
            known[workspace_id, product_id] = (
                hidden_fields(type(instance), viewer, product),
                kept_keys(type(instance), viewer, product),
            )
        return known[workspace_id, product_id]

    return redacted(
        queryset, lambda instance: decide(instance)[0], lambda instance: decide(instance)[1]
    )


def redact[M: Model](instance: M, viewer: Viewer | None, product: Product | None = None) -> M:
    """Blank the fields `viewer` may not read on one loaded instance."""
    product = product or getattr(instance, "product", None)
    names = hidden_fields(instance, viewer, product)
    if names:
        _blank(instance, names)
    kept = kept_keys(instance, viewer, product)
    if kept:
        _trim(instance, kept)
    return instance


def is_redacted(instance: Model, name: str) -> bool:
    return name in instance.__dict__.get("_redacted", ())


# --- history -----------------------------------------------------------------------------------

REDACTED_CHANGE = "changed internal fields"


def product_of(instance: Model) -> Product | None:
    from pm.models import Product

    if isinstance(instance, Product):
        return instance
    product = getattr(instance, "product", None)
    return product if isinstance(product, Product) else None


def activity_q(viewer: Viewer | None) -> Q:
    """Activity entries about rows `viewer` sees: for each model whose rows are limited, only
    entries whose row exists and passes its rules (entries about deleted rows only the team
    reads, since their titles may be internal)."""
    if viewer is None:
        return NOTHING
    if viewer.is_team:
        return Q()
    condition = Q()
    for model in declared_models():
        rows = rows_q(model, viewer)
        if rows == Q():
            continue
        visible_pks = model._default_manager.filter(rows).values("pk")
        condition &= ~Q(object_type=model._meta.label_lower) | Q(object_id__in=visible_pks)
    return condition


def history_visible_ids(entries: list, viewer: Viewer | None) -> set[tuple[str, int]]:
    """The (object type, id) pairs of `entries` whose objects `viewer` may see: one query per
    model type present, whatever the number of entries. Deleted objects are judged by the
    rules' rows too — an entry about a deleted row the reader could not see stays hidden."""
    by_type: dict[str, set[int]] = {}
    for entry in entries:
        by_type.setdefault(entry.object_type, set()).add(entry.object_id)
    seen: set[tuple[str, int]] = set()
    for label, ids in by_type.items():
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        rules = rules_for(model)
        if viewer is not None and viewer.is_team:
            seen |= {(label, pk) for pk in ids}
            continue
        if viewer is None:
            continue
        condition = rules.rows(viewer)
        if condition == Q():
            # Every row is visible; deleted rows are too (their entries carry no content).
            seen |= {(label, pk) for pk in ids}
            continue
        found = model._default_manager.filter(condition, pk__in=ids).values_list("pk", flat=True)
        seen |= {(label, pk) for pk in found}
    return seen


def _trim_change(change: Any, keys: frozenset[str]) -> tuple[Any, bool]:
    """A logged [before, after] of a dict field with only `keys` left; whether any went."""
    if not isinstance(change, list | tuple):
        return [None, None], True
    trimmed: list[dict[str, Any] | None] = []
    cut = False
    for side in change:
        if isinstance(side, dict):
            kept = {k: v for k, v in side.items() if k in keys}
            cut = cut or len(kept) != len(side)
            trimmed.append(kept)
        else:
            trimmed.append(None)
            cut = cut or side is not None
    return trimmed, cut


def history_for(
    entries: list[ActivityLog],
    viewer: Viewer | None,
    product: Product | None = None,
    *,
    rows_checked: bool = False,
) -> list[ActivityLog]:
    """Activity entries as `viewer` may read them: entries about rows it may not see left out,
    internal fields of the others replaced by one "changed internal fields" line. Each entry
    gets `shown` ({field: [before, after]}) and `redacted` (bool); `changes` is replaced by
    `shown` so no template can reach the raw values."""
    visible_ids = None if rows_checked else history_visible_ids(entries, viewer)
    result = []
    for entry in entries:
        if visible_ids is not None and (entry.object_type, entry.object_id) not in visible_ids:
            continue
        try:
            model = apps.get_model(entry.object_type)
        except (LookupError, ValueError):
            model = None
        hidden = hidden_fields(model, viewer, product) if model is not None else frozenset()
        kept = kept_keys(model, viewer, product) if model is not None else {}
        changes = entry.changes or {}
        shown = {k: v for k, v in changes.items() if k not in hidden}
        entry.redacted = len(shown) != len(changes)
        for name, keys in kept.items():
            if name in shown:
                shown[name], cut = _trim_change(shown[name], keys())
                entry.redacted = entry.redacted or cut
        entry.changes = shown
        entry.shown = shown
        result.append(entry)
    return result
