"""Global search: one query string across the kinds of things the apps register
(`pm.registry.SearchKind`), grouped by kind, each group ranked, honouring the reader's visibility.

On PostgreSQL each kind is one full-text query with prefix matching (`to_tsquery('english',
'dark:* & mod:*')`, ranked by `ts_rank`), over a stored, GIN-indexed vector where the table has one
(features, ideas, stories, feedback, customers) and over the few short fields of the small tables
otherwise. SQLite (the trial mode) matches every word with `icontains` instead.

Rows come through pm.visibility (`visible()`: the reader's rows only) and a kind never matches on
a field the reader may not read (`hidden_fields()`), so a stakeholder finds what the pages would
show them and nothing else. A story key ("LOD-42") is a jump straight to the story.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Model, Q, QuerySet

from pm.http import AuthedHttpRequest
from pm.models import Membership, Product, Workspace
from pm.registry import SearchHit, SearchKind, registry
from pm.visibility import Viewer, hidden_fields, rules_for, viewer_for, visible

MAX_WORDS = 8
MAX_QUERY = 200
STORY_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]{1,9})-(\d{1,9})\s*$")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def query_words(text: str) -> list[str]:
    """The words of a query, lower-cased: letters and digits only, so the tsquery built from them
    can never be a syntax error."""
    return [w for w in _WORD.findall((text or "")[:MAX_QUERY].lower())][:MAX_WORDS]


def prefix_tsquery(words: list[str]) -> str:
    """`dark mod` → `dark:* & mod:*`: every word, each as a prefix."""
    return " & ".join(f"{w}:*" for w in words)


@dataclass
class Scope:
    """One search: who reads (a workspace and the viewer they are in it), what, how many."""

    workspace: Workspace
    viewer: Viewer
    text: str
    limit: int = 5
    products: list[Product] = field(default_factory=list)
    words: list[str] = field(init=False)
    postgres: bool = field(init=False)

    def __post_init__(self) -> None:
        self.words = query_words(self.text)
        self.postgres = connection.vendor == "postgresql"

    @property
    def first_product(self) -> Product | None:
        return self.products[0] if self.products else None

    def in_workspace(self, model: type[Model]) -> Q:
        return Q(**{rules_for(model).workspace: self.workspace.pk})


def _stored_vector(model: type[Model]):
    """The stored, GIN-indexed tsvector column of a table (declared by a migration, not the
    model: SQLite has no tsvector)."""
    from django.contrib.postgres.search import SearchVectorField
    from django.db.models.expressions import RawSQL

    table = model._meta.db_table
    # A fixed column name, no input: nothing to inject.
    return RawSQL(f'"{table}"."search_vector"', [], output_field=SearchVectorField())  # noqa: S611


def matching(
    qs: QuerySet,
    scope: Scope,
    *,
    fields: tuple[str, ...],
    stored: bool = False,
    config: str = "english",
) -> QuerySet:
    """`qs` (already visible to the reader) limited to rows matching every word as a prefix,
    best first, at most `scope.limit` (one query). `fields` are what is matched; `stored` says
    the table has a `search_vector` column built from them."""
    hidden = hidden_fields(qs.model, scope.viewer)
    fields = tuple(f for f in fields if f not in hidden)
    if not scope.words or not fields:
        return qs.none()
    if scope.postgres:
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        query = SearchQuery(prefix_tsquery(scope.words), search_type="raw", config=config)
        vector = _stored_vector(qs.model) if stored else SearchVector(*fields, config=config)
        return (
            qs.annotate(document=vector)
            .filter(document=query)  # @@, from the GIN index where the vector is stored
            .annotate(search_rank=SearchRank(vector, query))
            .order_by("-search_rank", "-pk")[: scope.limit]
        )
    condition = Q()
    for word in scope.words:
        any_field = Q()
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": word})
        condition &= any_field
    return qs.filter(condition).order_by("-pk")[: scope.limit]


def model_kind(
    *,
    key: str,
    label: str,
    order: int,
    model: str,
    fields: tuple[str, ...],
    title: Callable[[Any], str],
    url: Callable[[Any, Scope], str],
    detail: Callable[[Any], str] = lambda obj: "",
    stored: bool = False,
    only: tuple[str, ...] = (),
    related: tuple[str, ...] = ("product",),
    config: str = "english",
) -> SearchKind:
    """A SearchKind for one model: its rows in the reader's workspace that the reader sees,
    matched on `fields`."""

    def search(scope: Scope) -> list[SearchHit]:
        from django.apps import apps

        model_class = apps.get_model(model)
        rows_in_workspace = model_class._default_manager.filter(scope.in_workspace(model_class))
        qs = visible(rows_in_workspace, scope.viewer)
        if related:
            qs = qs.select_related(*related)
        if only:
            qs = qs.only(*only)
        rows = matching(qs, scope, fields=fields, stored=stored, config=config)
        return [
            SearchHit(
                kind=key,
                title=title(obj),
                url=url(obj, scope),
                detail=detail(obj),
                rank=float(getattr(obj, "search_rank", 0) or 0),
            )
            for obj in rows
        ]

    return SearchKind(key=key, label=label, order=order, search=search)


def excerpt(text: str | None, length: int = 110) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


# --- the search -----------------------------------------------------------------------------


@dataclass
class Results:
    text: str
    groups: list[tuple[SearchKind, list[SearchHit]]]
    jump: SearchHit | None = None

    @property
    def count(self) -> int:
        return sum(len(hits) for _kind, hits in self.groups)


def jump_target(scope: Scope) -> SearchHit | None:
    """The one thing the query names exactly (a story key), if the reader may see it."""
    for kind in registry.search_kinds:
        if kind.jump is not None:
            hit = kind.jump(scope)
            if hit is not None:
                return hit
    return None


def run(
    *, workspace: Workspace, viewer: Viewer, text: str, limit: int = 5, products=None
) -> Results:
    """Every registered kind searched for `text` in `workspace` as `viewer` reads it: one query
    per kind (and one for a story key)."""
    if products is None:
        products = list(Product.objects.filter(workspace=workspace).only("id", "key", "name"))
    scope = Scope(workspace=workspace, viewer=viewer, text=text, limit=limit, products=products)
    jump = jump_target(scope)
    groups = []
    if scope.words:
        for kind in registry.search_kinds:
            hits = kind.search(scope)
            if hits:
                groups.append((kind, hits))
    return Results(text=text, groups=groups, jump=jump)


def reader_workspace(request: AuthedHttpRequest) -> tuple[Workspace, Viewer] | None:
    """The workspace a search looks in: `?w=<slug>` if the user is a member, else the one they
    are working in (the session's), else their first; with the viewer they are there."""
    user = request.user
    wanted = request.GET.get("w")
    memberships: list[Membership] = list(
        Membership.objects.filter(user=user).select_related("workspace").order_by("workspace_id")
    )
    if not memberships:
        return None
    chosen = None
    if wanted:
        chosen = next((m for m in memberships if m.workspace.slug == wanted), None)
    if chosen is None:
        current = request.session.get("workspace_id")
        chosen = next((m for m in memberships if m.workspace_id == current), memberships[0])
    viewer = viewer_for(chosen, chosen.workspace)
    if viewer is None:
        return None
    return chosen.workspace, viewer


def register_strategy_kinds() -> None:
    """Personas and competitors (pm's own models), on the strategy pages."""
    from django.urls import reverse

    def section_url(section: str):
        return lambda obj, scope: reverse("strategy_section", args=[obj.product.key, section])

    registry.add_search_kind(
        model_kind(
            key="persona",
            label="Personas",
            order=90,
            model="pm.Persona",
            fields=("name", "segment"),
            title=lambda p: p.name,
            url=section_url("personas"),
            detail=lambda p: " · ".join(x for x in ("Persona", p.segment) if x),
            only=("id", "name", "segment", "product__key"),
        )
    )
    registry.add_search_kind(
        model_kind(
            key="competitor",
            label="Competitors",
            order=100,
            model="pm.Competitor",
            fields=("name", "positioning"),
            title=lambda c: c.name,
            url=section_url("competitors"),
            detail=lambda c: "Competitor",
            only=("id", "name", "product__key"),
        )
    )
