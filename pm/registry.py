"""Registries that the domain apps fill from their AppConfig.ready(), so that pm, which never
imports them, can show their navigation entries and overview panels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from pm.models import Product


@dataclass(frozen=True)
class NavItem:
    """An entry in a product's navigation."""

    label: str
    url_name: str  # reversed with the product key
    order: int
    need: str = "stakeholder"
    section: str | None = None  # pm.visibility.Section the tab opens (hidden if not browsed)


@dataclass(frozen=True)
class OverviewPanel:
    """A panel on the product Overview. `context` returns the template context, or None to hide
    the panel. It must run a constant number of queries."""

    template: str
    order: int
    context: Callable[[HttpRequest, Product], dict | None]
    need: str = "stakeholder"
    section: str | None = None  # shown only to readers who browse this section


@dataclass(frozen=True)
class FeaturePanel:
    """A panel on the backlog's feature detail page contributed by another app (linked feedback,
    launch impact, roadmap initiatives). `context(request, feature)` returns a dict or None."""

    template: str
    order: int
    context: Callable[[HttpRequest, object], dict | None]
    need: str = "stakeholder"


@dataclass(frozen=True)
class DigestSection:
    """A section of the digest e-mail. `build(product=, since=, until=, role=)` returns the
    section's context, or None when there is nothing to say; it must only include what `role`
    may see, and run a constant number of queries. Templates get `section` (that context),
    `product` and `site_url`."""

    key: str
    title: str
    order: int
    build: Callable[..., dict | None]
    html_template: str
    text_template: str


@dataclass(frozen=True)
class Commentable:
    """A kind of object the team can comment on and follow (pm.collab). The app that owns the
    model says how to show it: `url(obj)`, `title(obj)`, and who follows it by assignment
    (`assigned(obj)`: user ids, e.g. a story's assignee, a feature's owner)."""

    kind: str  # in URLs: "feature", "story", "idea", "initiative", "feedback"
    model: str  # app_label.model_name; the model has a `product` foreign key
    label: str  # "feature", "user story", …
    url: Callable[[Any], str]
    title: Callable[[Any], str]
    assigned: Callable[[Any], list[int]] = lambda obj: []
    # The object's key in URLs when it is not its primary key (stories: their number).
    lookup: str = "pk"


@dataclass(frozen=True)
class SearchHit:
    """One search result: what it is, where it goes, one line of context."""

    kind: str
    title: str
    url: str
    detail: str = ""
    rank: float = 0.0


@dataclass(frozen=True)
class SearchKind:
    """A kind of thing global search finds (pm.search). `search(scope)` returns at most
    `scope.limit` SearchHits, best first, in one query, reading only rows the scope's viewer may
    see (pm.visibility) and matching only fields it may read."""

    key: str
    label: str  # plural, for the group heading: "Features"
    order: int
    search: Callable[[Any], list[SearchHit]]
    # A query that names one thing exactly (a story key such as LOD-42): the hit to jump to.
    jump: Callable[[Any], SearchHit | None] | None = None


@dataclass(frozen=True)
class GenericRef:
    """A field holding the id of a row whose model another field names (history entries,
    comments, embeddings): the whole-workspace export (pm.workspace_io) remaps it like a
    foreign key. `target(row)` gets the row's values as the document has them and returns the
    model label ("backlog.feature") of the row `id_field` points at, or None."""

    model: str  # app_label.ModelName of the model holding the field
    id_field: str
    target: Callable[[dict[str, Any]], str | None]


@dataclass
class Registry:
    nav: list[NavItem] = field(default_factory=list)
    overview_panels: list[OverviewPanel] = field(default_factory=list)
    feature_panels: list[FeaturePanel] = field(default_factory=list)
    # Same shape, on the idea detail page: `context(request, idea)` (linked feedback, portal).
    idea_panels: list[FeaturePanel] = field(default_factory=list)
    # Same shape, on the story detail page: `context(request, story)` (development links).
    story_panels: list[FeaturePanel] = field(default_factory=list)
    initiative_panels: list[FeaturePanel] = field(default_factory=list)
    digest_sections: list[DigestSection] = field(default_factory=list)
    # Callables(workspace=, product=, users={role: user}) that extend `load_demo`, idempotently.
    demo_loaders: list[Callable[..., None]] = field(default_factory=list)
    commentables: dict[str, Commentable] = field(default_factory=dict)
    search_kinds: list[SearchKind] = field(default_factory=list)
    # pm.workspace_io: generic ids to remap, and {model label: prepare(instances)} run before
    # a model's rows are inserted by import_workspace (KPI data points need their partitions).
    generic_refs: list[GenericRef] = field(default_factory=list)
    before_import: dict[str, Callable[[list[Any]], None]] = field(default_factory=dict)

    def add_generic_ref(self, ref: GenericRef) -> None:
        if all((r.model, r.id_field) != (ref.model, ref.id_field) for r in self.generic_refs):
            self.generic_refs.append(ref)

    def add_commentable(self, item: Commentable) -> None:
        self.commentables[item.kind] = item

    def add_search_kind(self, kind: SearchKind) -> None:
        if all(k.key != kind.key for k in self.search_kinds):
            self.search_kinds.append(kind)
            self.search_kinds.sort(key=lambda k: k.order)

    def add_nav(self, item: NavItem) -> None:
        if item not in self.nav:
            self.nav.append(item)
            self.nav.sort(key=lambda i: i.order)

    def add_feature_panel(self, panel: FeaturePanel) -> None:
        if panel not in self.feature_panels:
            self.feature_panels.append(panel)
            self.feature_panels.sort(key=lambda p: p.order)

    def add_idea_panel(self, panel: FeaturePanel) -> None:
        if panel not in self.idea_panels:
            self.idea_panels.append(panel)
            self.idea_panels.sort(key=lambda p: p.order)

    def add_initiative_panel(self, panel: FeaturePanel) -> None:
        if panel not in self.initiative_panels:
            self.initiative_panels.append(panel)
            self.initiative_panels.sort(key=lambda p: p.order)

    def add_story_panel(self, panel: FeaturePanel) -> None:
        if panel not in self.story_panels:
            self.story_panels.append(panel)
            self.story_panels.sort(key=lambda p: p.order)

    def add_digest_section(self, section: DigestSection) -> None:
        if all(s.key != section.key for s in self.digest_sections):
            self.digest_sections.append(section)
            self.digest_sections.sort(key=lambda s: s.order)

    def add_overview_panel(self, panel: OverviewPanel) -> None:
        if panel not in self.overview_panels:
            self.overview_panels.append(panel)
            self.overview_panels.sort(key=lambda p: p.order)


registry = Registry()
