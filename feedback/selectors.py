"""Reads for feedback, with their joins and the caller's visibility applied. Every list here runs
a constant number of queries whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower

from backlog.choices import FeatureStatus, IdeaStatus
from backlog.filters import filtered
from backlog.models import Feature, Idea
from feedback import matching
from feedback.choices import FeedbackStatus, Importance, PostStatus, status_rank
from feedback.filters import FeedbackFilter
from feedback.models import (
    Customer,
    FeedbackImport,
    FeedbackItem,
    Insight,
    PortalPost,
    PortalSettings,
    ResearchStudy,
)
from pm import visibility
from pm.models import Membership, Product, Workspace
from pm.permissions import viewer_for_user
from pm.visibility import rows_q, viewer_for

if TYPE_CHECKING:
    import numpy as np
    from django.contrib.postgres.search import SearchQuery
    from django.db.models import Model
    from django.db.models.expressions import RawSQL

    from feedback.semantic import Index

# Ideas still open for linking: not merged away, not declined.
OPEN_IDEAS = ~Q(status__in=[IdeaStatus.MERGED, IdeaStatus.DECLINED])


def can_see_customers(membership: Membership | None) -> bool:
    """Customer names, contacts and ARR are for the team (pm.visibility: Customer rows)."""
    viewer = viewer_for(membership)
    return viewer is not None and rows_q(Customer, viewer) == Q()


def _insights_prefetch() -> Prefetch[str, QuerySet[Insight], str]:
    return Prefetch(
        "insights",
        queryset=Insight.objects.select_related("feature", "idea").order_by("created_at", "id"),
    )


def inbox_items(
    *,
    product: Product,
    status: str | None = None,
    include_archived: bool = False,
    source: str | None = None,
    q: str = "",
    with_customers: bool = True,
) -> QuerySet[FeedbackItem]:
    """The triage inbox: new items first, then triaged, linked and archived; newest first
    within each. Without a status, archived items are left out unless `include_archived`."""
    qs = FeedbackItem.objects.filter(product=product)
    if not status and not include_archived:
        qs = qs.exclude(status=FeedbackStatus.ARCHIVED)
    qs = filtered(FeedbackFilter, qs, {"status": status, "source": source, "q": q})
    related = ["study", "customer"] if with_customers else ["study"]
    qs = qs.select_related(*related).prefetch_related(_insights_prefetch())
    if status:  # one status: its own index (feedback_inbox) gives the order
        return qs.order_by("-received_at", "-id")
    # The expression index feedback_inbox_order gives this order (same expression).
    return qs.annotate(status_rank=status_rank()).order_by("status_rank", "-received_at", "-id")


def status_counts(product: Product) -> dict[str, int]:
    rows = (
        FeedbackItem.objects.filter(product=product)
        .values("status")
        .annotate(n=Count("*"))  # COUNT(*): answered from feedback_status_counts alone
        .order_by()
    )
    counts = {s: 0 for s in FeedbackStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    counts["open"] = sum(v for k, v in counts.items() if k != FeedbackStatus.ARCHIVED)
    counts["all"] = counts["open"] + counts[FeedbackStatus.ARCHIVED]
    return counts


def feedback_item(*, product: Product, pk: int, with_customers: bool = True) -> FeedbackItem:
    related = ["study", "customer", "import_batch"] if with_customers else ["study"]
    return (
        FeedbackItem.objects.select_related(*related)
        .prefetch_related(_insights_prefetch())
        .get(product=product, pk=pk)
    )


def next_new_item(*, product: Product, after: FeedbackItem) -> FeedbackItem | None:
    """The next item to triage after `after`, in inbox order (new items, newest first)."""
    return (
        FeedbackItem.objects.filter(product=product, status=FeedbackStatus.NEW)
        .exclude(pk=after.pk)
        .filter(
            Q(received_at__lt=after.received_at) | Q(received_at=after.received_at, id__lt=after.pk)
        )
        .order_by("-received_at", "-id")
        .first()
        or FeedbackItem.objects.filter(product=product, status=FeedbackStatus.NEW)
        .exclude(pk=after.pk)
        .order_by("-received_at", "-id")
        .first()
    )


def recent_feedback(product: Product, limit: int = 5) -> list[FeedbackItem]:
    return list(
        FeedbackItem.objects.filter(product=product)
        .exclude(status=FeedbackStatus.ARCHIVED)
        .order_by("-received_at", "-id")[:limit]
    )


LINK_TARGETS_SHOWN = 12


def link_targets(
    *, product: Product, q: str = "", limit: int = LINK_TARGETS_SHOWN
) -> list[tuple[str, Feature | Idea]]:
    """What the triage panel's "another idea or feature" combobox offers for `q`: features that
    are not archived and open ideas not yet promoted, titles starting with `q` first, then
    containing it; without `q`, the most recently changed. Two queries, at most `limit` rows
    each, whatever the size of the backlog."""
    q = " ".join(q.split())[:100]
    features = Feature.objects.filter(product=product).exclude(status=FeatureStatus.ARCHIVED)
    ideas = Idea.objects.filter(product=product, feature__isnull=True).filter(OPEN_IDEAS)
    if q:
        order = (
            Case(When(title__istartswith=q, then=Value(0)), default=Value(1)),
            Lower("title"),
            "id",
        )
        features = features.filter(title__icontains=q).order_by(*order)
        ideas = ideas.filter(title__icontains=q).order_by(*order)
    else:
        features = features.order_by("-updated_at", "-id")
        ideas = ideas.order_by("-updated_at", "-id")
    found: list[tuple[str, Feature | Idea]] = [
        ("feature", f) for f in features.only("id", "title", "status")[:limit]
    ]
    found += [("idea", i) for i in ideas.only("id", "title", "status")[:limit]]
    return found


# --- suggestions --------------------------------------------------------------------------


@dataclass
class Suggestion:
    kind: str  # "feature" or "idea"
    obj: Feature | Idea
    score: float


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _or_query(text: str) -> SearchQuery | None:
    from django.contrib.postgres.search import SearchQuery

    raw = matching.tsquery_text(text)
    return SearchQuery(raw, search_type="raw", config="english") if raw else None


def _fts_rank[M: Feature | Idea](qs: QuerySet[M], text: str, limit: int) -> list[tuple[M, float]]:
    """Rank features or ideas by PostgreSQL full-text search of `text` (as an OR query) over
    their stored vector (title weighted A, description B; backlog migration 0005, GIN-indexed).
    Returns [(obj, rank)] with rank > 0, best first."""
    from django.contrib.postgres.search import SearchRank

    query = _or_query(text)
    if query is None:
        return []
    vector = _stored_vector(qs.model)
    # Normalisation 1 divides by 1 + log(document length): long descriptions do not win by
    # size alone.
    rows = (
        qs.annotate(document=vector)
        .filter(document=query)  # @@, answered from the GIN index
        .annotate(search_rank=SearchRank(vector, query, normalization=1))
        .filter(search_rank__gt=0.001)
        .order_by("-search_rank", "-id")[:limit]
    )
    return [(obj, float(obj.search_rank)) for obj in rows]


def _stored_vector(model: type[Model] = FeedbackItem) -> RawSQL:
    """The stored tsvector of a feedback item (feedback migration 0002), a feature or an idea
    (backlog migration 0005): a generated, GIN-indexed column the models do not declare."""
    from django.contrib.postgres.search import SearchVectorField
    from django.db.models.expressions import RawSQL

    table = model._meta.db_table
    # A fixed column name, no input: nothing to inject.
    return RawSQL(f'"{table}"."search_vector"', [], output_field=SearchVectorField())  # noqa: S611


def _candidates_features(product: Product) -> QuerySet[Feature]:
    return Feature.objects.filter(product=product).exclude(status=FeatureStatus.ARCHIVED)


def _candidates_ideas(product: Product) -> QuerySet[Idea]:
    # An idea already turned into a feature is suggested as that feature.
    return Idea.objects.filter(product=product, feature__isnull=True).filter(OPEN_IDEAS)


SUGGESTION_POOL = 50  # how deep each ranked list goes before fusion


def _vector_for(
    product_id: int, text: str, vector: np.ndarray | None, index: Index
) -> np.ndarray | None:
    """The query vector: the stored one when given, else the text embedded now. None when
    there is nothing to compare with (no vectors yet: full-text alone)."""
    if vector is not None:
        return vector
    if not index.keys or not text.strip():
        return None
    from feedback import semantic

    return semantic.embed_query(text)


def suggest_targets(
    *,
    product: Product,
    text: str,
    limit: int = 5,
    vector: np.ndarray | None = None,
    exclude: set[tuple[str, int]] | None = None,
) -> list[Suggestion]:
    """Ideas and features the text is probably about, best first: full-text search and
    similarity of meaning (feedback.semantic), fused by reciprocal rank. A feature is found by
    its title and description and by the quotes of feedback already linked to it.
    `exclude`: (kind, id) pairs not to suggest (say, the row being edited). Four queries with
    vectors (two ranked searches, the fetch of the winners, the index stamp), two without."""
    from feedback import embeddings, semantic

    exclude = exclude or set()
    features = _candidates_features(product)
    ideas = _candidates_ideas(product)
    text_ranked: list[tuple[str, Feature | Idea]]
    if _postgres():
        scored: list[tuple[str, Feature | Idea, float]] = [
            ("feature", o, rank) for o, rank in _fts_rank(features, text, SUGGESTION_POOL)
        ]
        scored += [("idea", o, rank) for o, rank in _fts_rank(ideas, text, SUGGESTION_POOL)]
        text_ranked = [(kind, o) for kind, o, _ in scored]
        by_rank = sorted(scored, key=lambda row: -row[2])
        text_keys = [(kind, o.pk) for kind, o, _ in by_rank]
    else:
        Target = tuple[str, Feature | Idea]
        candidates: list[matching.Candidate[Target]] = [
            matching.Candidate[Target](("feature", f), f.title, f.description)
            for f in features.only("id", "title", "description", "status")[:1000]
        ]
        candidates += [
            matching.Candidate[Target](("idea", i), i.title, i.description)
            for i in ideas.only("id", "title", "description", "status")[:1000]
        ]
        ranked = matching.rank_by_overlap(text, candidates, limit=SUGGESTION_POOL)
        text_ranked = [obj for obj, _ in ranked]
        text_keys = [(kind, o.pk) for kind, o in text_ranked]
    objects = {(kind, o.pk): o for kind, o in text_ranked}
    index = embeddings.target_index(product.pk)
    query = _vector_for(product.pk, text, vector, index)
    if query is None:
        fused = [(key, 1.0 / (1 + n)) for n, key in enumerate(text_keys)]
    else:
        vector_keys = [key for key, _sim in index.top(query, SUGGESTION_POOL)]
        fused = semantic.fuse(
            (semantic.RRF_WEIGHT_VECTOR, vector_keys), (semantic.RRF_WEIGHT_TEXT, text_keys)
        )
    fused = [(key, score) for key, score in fused if key not in exclude]
    wanted = [key for key, _ in fused[: limit * 3] if key not in objects]
    if wanted:
        # Only rows still open for linking: archived features and merged or promoted ideas
        # keep their vectors but are not suggested.
        feature_ids = [pk for kind, pk in wanted if kind == "feature"]
        idea_ids = [pk for kind, pk in wanted if kind == "idea"]
        for f in features.filter(pk__in=feature_ids).only("id", "title", "status", "product"):
            objects[("feature", f.pk)] = f
        for i in ideas.filter(pk__in=idea_ids).only("id", "title", "status", "product", "votes"):
            objects[("idea", i.pk)] = i
    out = [
        Suggestion(kind, objects[(kind, pk)], score)
        for (kind, pk), score in fused
        if (kind, pk) in objects
    ]
    return out[:limit]


def similar_posts(*, product: Product, text: str, limit: int = 5) -> list[PortalPost]:
    """Published portal ideas a visitor's draft probably repeats, best first: their public copy
    by words and by meaning (fused by rank). Only what the portal shows is compared or
    returned."""
    from feedback import embeddings, semantic

    text = " ".join(text.split())[:500]
    if len(text) < 3:
        return []
    published = list(
        PortalPost.objects.filter(product=product, status=PostStatus.PUBLISHED)
        .only("id", "title", "description", "votes", "idea_id")
        .order_by("-votes", "-id")[:2000]
    )
    by_id = {p.pk: p for p in published}
    candidates = [matching.Candidate(p.pk, p.title, p.description) for p in published]
    text_keys = [("post", pk) for pk, _ in matching.rank_by_overlap(text, candidates, limit=20)]
    index = embeddings.post_index(product.pk)
    vector_keys: list[tuple[str, int]] = []
    if index.keys:
        query = semantic.embed_query(text)
        vector_keys = [
            key
            for key, sim in index.top(query, 20)
            if key[1] in by_id and sim >= SIMILAR_POST_MIN_SIMILARITY
        ]
    fused = semantic.fuse(
        (semantic.RRF_WEIGHT_VECTOR, vector_keys), (semantic.RRF_WEIGHT_TEXT, text_keys)
    )
    return [by_id[pk] for (_kind, pk), _score in fused[:limit]]


# e5 similarities of unrelated texts sit around 0.75-0.8; a draft about the same idea scores
# higher. Below this, a visitor would see noise under "similar ideas".
SIMILAR_POST_MIN_SIMILARITY = 0.82


DUPLICATE_WINDOW = 2000
DUPLICATE_MIN_SIMILARITY = 0.9  # e5 similarities sit high: below this, the topic differs


def likely_duplicates(*, item: FeedbackItem, limit: int = 3) -> list[tuple[FeedbackItem, float]]:
    """Earlier or later feedback of the product that says much the same: full-text and meaning
    fused by rank, where the item has a vector; full-text alone otherwise."""
    from feedback import embeddings, semantic

    text_found = _duplicates_by_text(item=item, limit=max(limit, 10))
    vector = embeddings.vector_of("feedback", item.pk)
    if vector is None:
        return text_found[:limit]
    index = embeddings.feedback_index(item.product_id)
    near = [
        (key, sim)
        for key, sim in index.top(vector, limit * 4)
        if key[1] != item.pk and sim >= DUPLICATE_MIN_SIMILARITY
    ]
    fused = semantic.fuse(
        (semantic.RRF_WEIGHT_VECTOR, [key for key, _ in near]),
        (semantic.RRF_WEIGHT_TEXT, [("feedback", obj.pk) for obj, _ in text_found]),
    )
    keep = [pk for (_kind, pk), _ in fused[:limit]]
    rows = {
        obj.pk: obj
        for obj in FeedbackItem.objects.filter(pk__in=keep, product_id=item.product_id).only(
            "id", "content", "status", "received_at"
        )
    }
    return [(rows[pk], score) for (_kind, pk), score in fused[:limit] if pk in rows]


def _duplicates_by_text(*, item: FeedbackItem, limit: int) -> list[tuple[FeedbackItem, float]]:
    """Full-text side of likely_duplicates (one query)."""
    qs = FeedbackItem.objects.filter(product_id=item.product_id).exclude(pk=item.pk)
    if _postgres():
        from django.contrib.postgres.search import SearchRank
        from django.db.models.expressions import RawSQL

        query = _or_query(item.content)
        if query is None:
            return []
        # Ranked among the latest DUPLICATE_WINDOW items sharing a word, found newest first by
        # the feedback_latest index: a common word can match most of a big inbox, and ranking
        # all of those costs hundreds of milliseconds at 100,000 items.
        # (Raw SQL: an ORM subquery would alias the table and leave the stored column behind.
        # `= ANY(ARRAY(…))` runs the window once and fetches its rows by primary key, so only
        # they are ranked.)
        table = FeedbackItem._meta.db_table
        in_window = RawSQL(  # noqa: S611 (parameters only)
            f'"{table}"."id" = ANY(ARRAY(SELECT w.id FROM {table} w '  # noqa: S608 (fixed name)
            "WHERE w.product_id = %s AND w.id <> %s "
            "AND w.search_vector @@ to_tsquery('english'::regconfig, %s) "
            "ORDER BY w.received_at DESC, w.id DESC LIMIT %s))",
            [item.product_id, item.pk, matching.tsquery_text(item.content), DUPLICATE_WINDOW],
            output_field=BooleanField(),
        )
        rows = (
            FeedbackItem.objects.filter(in_window)
            .annotate(
                # The stored vector has no weight labels (D); weigh D fully, as titles are.
                search_rank=SearchRank(
                    _stored_vector(), query, weights=[1.0, 1.0, 1.0, 1.0], normalization=1
                )
            )
            .filter(search_rank__gte=0.05)  # below this, shared words are incidental
            .only("id", "content", "status", "received_at")
            .order_by("-search_rank", "-id")[:limit]
        )
        return [(obj, float(obj.search_rank)) for obj in rows]
    recent = qs.order_by("-received_at").only("id", "content", "status", "received_at")[:500]
    candidates = [matching.Candidate(obj, obj.content) for obj in recent]
    return matching.rank_by_overlap(item.content, candidates, limit=limit)


# --- customers ----------------------------------------------------------------------------


def customers_for_workspace(workspace: Workspace, q: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.filter(workspace=workspace)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(segment__icontains=q) | Q(plan__icontains=q))
    # Correlated subqueries rather than a join + GROUP BY: PostgreSQL pages the customers by
    # name first (index customer_by_name) and counts the feedback of the page's rows only.
    theirs = FeedbackItem.objects.filter(customer=OuterRef("pk")).order_by()
    return qs.annotate(
        feedback_count=Coalesce(
            Subquery(theirs.values("customer").annotate(n=Count("id")).values("n")), 0
        ),
        last_feedback_at=Subquery(theirs.order_by("-received_at").values("received_at")[:1]),
    ).order_by("name", "id")


def customer_feedback(customer: Customer) -> QuerySet[FeedbackItem]:
    return (
        FeedbackItem.objects.filter(customer=customer)
        .select_related("product", "study")
        .prefetch_related(_insights_prefetch())
        .order_by("-received_at", "-id")
    )


_IMPORTANCE_RANK: dict[str, int] = {
    Importance.NICE_TO_HAVE: 1,
    Importance.IMPORTANT: 2,
    Importance.CRITICAL: 3,
}


def customer_requests(customer: Customer) -> list[dict[str, Any]]:
    """The features and ideas this customer asked for, with how often and how much it matters
    (the highest importance they gave), most asked first. One query."""
    rows = (
        Insight.objects.filter(feedback_item__customer=customer)
        .select_related("feature__product", "idea__product")
        .order_by("created_at")
    )
    grouped: dict[tuple[str, int], dict[str, Any]] = {}
    for insight in rows:
        target = insight.target
        assert target is not None, "an insight links a feature or an idea"
        key = ("feature" if insight.feature_id else "idea", target.pk)
        entry = grouped.setdefault(
            key, {"kind": key[0], "target": target, "count": 0, "importance": insight.importance}
        )
        entry["count"] += 1
        if _IMPORTANCE_RANK[insight.importance] > _IMPORTANCE_RANK[entry["importance"]]:
            entry["importance"] = insight.importance
    for entry in grouped.values():
        entry["importance_label"] = Importance(entry["importance"]).label
    return sorted(
        grouped.values(),
        key=lambda e: (-_IMPORTANCE_RANK[e["importance"]], -e["count"], str(e["target"])),
    )


# --- demand on a feature ------------------------------------------------------------------


@dataclass
class DemandRow:
    importance: str
    label: str
    insights: int = 0
    customers: int = 0
    arr: Decimal = Decimal(0)


@dataclass
class Demand:
    rows: list[DemandRow] = field(default_factory=list)
    insights: int = 0
    customers: int = 0
    arr: Decimal = Decimal(0)


def feature_demand(feature: Feature) -> Demand:
    """Linked feedback on a feature by importance: insights, distinct customers and their summed
    ARR (each customer once per row and once in the total). Archived feedback does not count.
    One query."""
    rows = (
        Insight.objects.filter(feature=feature)
        .exclude(feedback_item__status=FeedbackStatus.ARCHIVED)
        .values_list("importance", "feedback_item__customer_id", "feedback_item__customer__arr")
    )
    by_importance: dict[str, dict[int, Decimal]] = defaultdict(dict)
    counts: dict[str, int] = defaultdict(int)
    everyone: dict[int, Decimal] = {}
    for importance, customer_id, arr in rows:
        counts[importance] += 1
        if customer_id is not None:
            by_importance[importance][customer_id] = arr
            everyone[customer_id] = arr
    demand = Demand(
        insights=sum(counts.values()),
        customers=len(everyone),
        arr=sum(everyone.values(), Decimal(0)),
    )
    for value, label in reversed(Importance.choices):
        customers = by_importance[value]
        demand.rows.append(
            DemandRow(
                importance=value,
                label=label,
                insights=counts[value],
                customers=len(customers),
                arr=sum(customers.values(), Decimal(0)),
            )
        )
    return demand


def idea_insights(idea: Idea, *, with_customers: bool) -> QuerySet[Insight]:
    """Feedback linked to an idea, most important first (customers only when allowed)."""
    related = ["feedback_item__customer"] if with_customers else []
    return (
        Insight.objects.filter(idea=idea)
        .select_related("feedback_item", *related)
        .annotate(
            importance_rank=Case(
                *[When(importance=k, then=Value(v)) for k, v in _IMPORTANCE_RANK.items()],
                output_field=IntegerField(),
            )
        )
        .order_by("-importance_rank", "-feedback_item__received_at", "-id")
    )


def feature_insights(feature: Feature, *, with_customers: bool) -> QuerySet[Insight]:
    related = (
        ["feedback_item__customer", "feedback_item__study"]
        if with_customers
        else ["feedback_item__study"]
    )
    return (
        Insight.objects.filter(feature=feature)
        .select_related("feedback_item", *related)
        .annotate(
            importance_rank=Case(
                *[When(importance=k, then=Value(v)) for k, v in _IMPORTANCE_RANK.items()],
                output_field=IntegerField(),
            )
        )
        .order_by("-importance_rank", "-feedback_item__received_at", "-id")
    )


# --- research -----------------------------------------------------------------------------


def studies_for_product(product: Product, user: User) -> QuerySet[ResearchStudy]:
    """The product's studies as `user` may read them (internal fields blanked by the policy)."""
    studies = visibility.apply(
        ResearchStudy.objects.filter(product=product), viewer_for_user(user, product), product
    )
    return studies.annotate(
        finding_count=Count("findings", distinct=True),
        participant_count=Count("participants", distinct=True),
    ).order_by("-created_at")


def study_findings(study: ResearchStudy, *, with_customers: bool) -> QuerySet[FeedbackItem]:
    qs = FeedbackItem.objects.filter(study=study)
    if with_customers:
        qs = qs.select_related("customer")
    return qs.prefetch_related(_insights_prefetch()).order_by("received_at", "id")


# --- imports ------------------------------------------------------------------------------


def recent_imports(product: Product, limit: int = 5) -> list[FeedbackImport]:
    return list(
        FeedbackImport.objects.filter(product=product)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-created_at")[:limit]
    )


# --- portal -------------------------------------------------------------------------------


def portal_for_key(key: str) -> PortalSettings | None:
    """The portal of the product with this key, if it is switched on. Keys are unique per
    workspace, so publishing a portal is refused while another product with the same key has one
    (feedback.services.portal_settings_update); the oldest wins should two ever race."""
    return (
        PortalSettings.objects.select_related("product")
        .filter(product__key=key.upper(), enabled=True)
        .order_by("pk")
        .first()
    )


def public_posts(product: Product, sort: str = "top") -> QuerySet[PortalPost]:
    """What the public portal lists. Only public copy and public status: no customer, no
    submitter, no internal description."""
    qs = (
        PortalPost.objects.filter(product=product, status=PostStatus.PUBLISHED)
        .select_related("idea__feature")
        .only(
            "id",
            "title",
            "description",
            "votes",
            "submitted_at",
            "status",
            "product_id",
            "idea__id",
            "idea__status",
            "idea__feature__id",
            "idea__feature__status",
        )
    )
    if sort == "new":
        return qs.order_by("-submitted_at", "-id")
    return qs.order_by("-votes", "-submitted_at", "-id")


def public_status(post: PortalPost) -> tuple[str, str]:
    """What visitors are told about an idea's progress: (css slug, label)."""
    idea = post.idea
    feature = idea.feature if idea else None
    if feature is not None:
        if feature.status == FeatureStatus.SHIPPED:
            return "shipped", "Shipped"
        if feature.status == FeatureStatus.IN_PROGRESS:
            return "in-progress", "In progress"
        if feature.status == FeatureStatus.ARCHIVED:
            return "not-planned", "Not planned"
        return "planned", "Planned"
    if idea is None:
        return "review", "Under consideration"
    labels: dict[str, tuple[str, str]] = {
        IdeaStatus.ACCEPTED: ("planned", "Planned"),
        IdeaStatus.DECLINED: ("not-planned", "Not planned"),
        IdeaStatus.MERGED: ("merged", "Merged"),
    }
    return labels.get(idea.status, ("review", "Under consideration"))


def pending_posts(product: Product) -> QuerySet[PortalPost]:
    return PortalPost.objects.filter(product=product, status=PostStatus.PENDING).order_by(
        "submitted_at", "id"
    )


def published_posts(product: Product) -> QuerySet[PortalPost]:
    return (
        PortalPost.objects.filter(product=product, status=PostStatus.PUBLISHED)
        .select_related("idea__feature")
        .order_by("-votes", "-submitted_at")
    )


def ideas_not_on_portal(product: Product) -> QuerySet[Idea]:
    return (
        Idea.objects.filter(product=product)
        .filter(OPEN_IDEAS)
        .filter(Q(portal_post__isnull=True) | ~Q(portal_post__status=PostStatus.PUBLISHED))
        .order_by("title")
        .only("id", "title")
    )
