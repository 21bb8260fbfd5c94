"""The generated leak test: nothing the visibility policy hides reaches any surface.

Driven by the one declaration (pm.visibility: `visibility_rules` on the models) and the URL
configuration, so a new internal field, a new model with rules or a new URL is covered without
editing this file:

1. the demo workspace is loaded, reach is taken from customers' ARR (so reach is internal too),
   and a share link is made;
2. a sentinel goes into **every** internal field of every row of every declared model, and into
   every text field of every row the stakeholder may not see (archived features, internal
   initiatives and releases, ideas, stories, sprints, feedback, customers, imports, pending portal
   posts…); each such row also gets an activity entry carrying the sentinel;
3. as a stakeholder, a share-link visitor and a portal visitor, every GET URL of the URL
   configuration is requested (each id parameter filled with the ids of the sentinel rows, story
   keys too; history pages with each type filter; pages with and without htmx), plus the digest
   as it would be e-mailed;
4. no response may contain the sentinel.
"""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from backlog.models import BacklogSettings
from feedback.models import FeedbackImport
from pm import visibility
from pm.choices import ActivityAction
from pm.digests import digest_preview
from pm.models import ActivityLog, Invitation, Product
from pm.registry import registry
from pm.visibility import STAKEHOLDER_SECTIONS, WIDENABLE_SECTIONS, Audience, Viewer
from tests.roadmap.factories import make_share_link

SENTINEL = "zqxsentinel"
NUMBER = Decimal("8765432.19")
SMALL = 31337
NEEDLES = (SENTINEL, "8765432", "8,765,432", "8 765 432", "31337", "31,337")

# The stakeholder as PRODUCT.md has it, and as a workspace that shares every section it may
# (ideas, backlog, sprints, feedback) has it: inside those, internal fields stay hidden.
STAKEHOLDERS = {
    "default sections": Viewer(Audience.STAKEHOLDER, STAKEHOLDER_SECTIONS),
    "every section shared": Viewer(
        Audience.STAKEHOLDER, STAKEHOLDER_SECTIONS | frozenset(WIDENABLE_SECTIONS)
    ),
}
IDS_PER_MODEL = 1  # hidden rows and rows with internal fields, per model, tried in each URL
SKIP_NAMESPACES = ("admin:",)  # Django's admin: staff only, its own access control


def _concrete(model: type[models.Model], name: str) -> models.Field:
    """A field of the model's own table (the policy names no reverse relations)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model._meta.label}.{name} is not a column"
    return field


def _text_fields(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not f.choices
        and not f.unique
        and not f.primary_key
        and (f.max_length is None or f.max_length >= 40)
        and f.name not in {"key", "slug", "token_hash", "token_hint", "colour", "time_zone"}
    ]


def _sentinel_value(field: models.Field, pk: int):
    if isinstance(field, models.EmailField):
        return f"{SENTINEL}{pk}@example.com"
    if isinstance(field, models.CharField | models.TextField):
        return f"{SENTINEL}-{field.name}-{pk}"
    if isinstance(field, models.DecimalField):
        return NUMBER if field.max_digits - field.decimal_places >= 7 else Decimal(SMALL % 10**3)
    if isinstance(field, models.IntegerField):
        return SMALL
    if isinstance(field, models.ForeignKey):
        return None  # the related row itself is hidden and carries the sentinel
    if isinstance(field, models.JSONField):
        return {"note": SENTINEL}
    raise AssertionError(f"No sentinel for {field!r}: teach this test its type")


def _plant_keys(model, rows, product: Product, entries: list, picked: list) -> list:
    """Dict fields readers outside the team see only some keys of (`Rules.shown_keys`: custom
    field values): a sentinel under every other key — each internal custom field's id, and one
    naming no field — in every row, and in a history entry of each row."""
    from backlog.models import CustomField

    rules = visibility.rules_for(model)
    more = []
    for name, shown in rules.shown_keys.items():
        hidden = {str(pk) for pk in CustomField.objects.values_list("pk", flat=True)}
        hidden = (hidden - shown(Product.objects.get(pk=product.pk))) | {"0"}
        for row in rows:
            values = {**(getattr(row, name) or {}), **{k: f"{SENTINEL}-{k}" for k in hidden}}
            model._default_manager.filter(pk=row.pk).update(**{name: values})
            logged = {k: {"field": f"{SENTINEL}-f", "value": f"{SENTINEL}-v"} for k in hidden}
            entries.append(
                ActivityLog(
                    workspace_id=product.workspace_id,
                    product_id=_product_id(row, product.pk),
                    action=ActivityAction.UPDATED,
                    object_type=model._meta.label_lower,
                    object_id=row.pk,
                    object_repr="A visible row",
                    changes={name: [logged, logged]},
                    created_at=timezone.now(),
                )
            )
            if row not in picked and row not in more:
                more.append(row)
    return more


def _product_id(instance, default: int) -> int:
    return getattr(instance, "product_id", None) or default


def _plant(product: Product, stakeholder: Viewer) -> dict[str, list]:
    """Sentinels everywhere the policy hides something; returns {model label: [rows]}."""
    planted: dict[str, list] = {}
    entries = []
    for model in visibility.declared_models():
        rules = visibility.rules_for(model)
        internal = [_concrete(model, n) for n in (*rules.internal, *rules.internal_if)]
        hidden_q = visibility.rows_q(model, stakeholder)
        hidden_ids = set(
            model._default_manager.exclude(hidden_q).values_list("pk", flat=True)
            if hidden_q != models.Q()
            else []
        )
        rows = list(model._default_manager.all())
        assert rows, (
            f"No {model._meta.label} rows to plant sentinels in: make the demo (or this "
            "test's set-up) create some"
        )
        label = model._meta.label_lower
        picked = []
        for row in rows:
            fields = list(internal)
            if row.pk in hidden_ids:
                fields += [f for f in _text_fields(model) if f not in fields]
            if not fields:
                continue
            values = {f.attname: _sentinel_value(f, row.pk) for f in fields}
            model._default_manager.filter(pk=row.pk).update(**values)
            entries.append(
                ActivityLog(
                    workspace_id=product.workspace_id,
                    product_id=_product_id(row, product.pk),
                    action=ActivityAction.UPDATED,
                    object_type=label,
                    object_id=row.pk,
                    object_repr=f"{SENTINEL}-repr" if row.pk in hidden_ids else "A visible row",
                    changes={f.name: [f"{SENTINEL}-old", f"{SENTINEL}-new"] for f in fields},
                    created_at=timezone.now(),
                )
            )
            picked.append(row)
        picked += _plant_keys(model, rows, product, entries, picked)
        if not picked and not internal and not hidden_ids:
            continue  # nothing of this model is hidden from this stakeholder (a shared section)
        assert picked, f"No {model._meta.label} row carries a sentinel"
        planted[label] = picked
    ActivityLog.objects.bulk_create(entries)
    return planted


@pytest.fixture(params=list(STAKEHOLDERS))
def world(db, request):
    call_command("load_demo", verbosity=0)
    product = Product.objects.select_related("workspace").get(key="LOD")
    stakeholder = STAKEHOLDERS[request.param]
    product.workspace.stakeholder_sections = sorted(stakeholder.sections - STAKEHOLDER_SECTIONS)
    product.workspace.save(update_fields=["stakeholder_sections"])
    BacklogSettings.objects.update_or_create(
        product=product, defaults={"reach_source": BacklogSettings.ReachSource.ARR}
    )
    from backlog.models import Feature
    from roadmap.models import Initiative, Release

    # Rows of each kind the stakeholder may not see, whatever the demo holds.
    Feature.objects.filter(pk=Feature.objects.filter(product=product).first().pk).update(
        status="archived"
    )
    Initiative.objects.filter(pk=Initiative.objects.filter(product=product).first().pk).update(
        visibility="internal"
    )
    Release.objects.filter(pk=Release.objects.filter(product=product).first().pk).update(
        visibility="internal"
    )
    Invitation.objects.create(
        workspace=product.workspace, email="someone@example.com", role="pm", token_hash="h" * 64
    )
    FeedbackImport.objects.create(
        product=product,
        filename="calls.csv",
        encoding="utf-8",
        content="content,source,received_at\nHello,email,2026-01-02\n",
        row_count=1,
    )
    from feedback.models import FeedbackTheme

    FeedbackTheme.objects.create(product=product, label="Dark mode, eyes", centroid=b"", size=2)
    _link, token = make_share_link(product, product.workspace.memberships.get(role="pm").user)
    planted = _plant(product, stakeholder)
    return product, token, planted, request.param


def _patterns(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield namespace + (entry.name or ""), prefix + str(entry.pattern)


_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _fill(route: str, values: dict[str, list[str]]) -> list[str]:
    """Every URL from a route pattern, each parameter taking each of its candidate values."""
    urls, ints = [route], 0
    for match in _PARAM.finditer(route):
        name = match["name"]
        options = values.get(name) or values["*int" if match["converter"] == "int" else "*str"]
        if name == "key" and not route.startswith("api/"):
            options = options[:1]  # story keys only where the API takes them
        if match["converter"] == "int":
            ints += 1
            if ints > 1:
                options = options[:3]  # a second id: a few, not every pair
        urls = [u.replace(match[0], str(v), 1) for u in urls for v in options]
    return ["/" + u.lstrip("^").rstrip("$") for u in urls]


def _urls(product: Product, token: str, planted: dict[str, list]) -> list[str]:
    ids, story_keys, numbers = set(), [], set()
    for label, rows in planted.items():
        for row in rows[:IDS_PER_MODEL]:
            ids.add(row.pk)
            if label == "backlog.userstory":
                numbers.add(row.number)
                story_keys.append(f"{product.key}-{row.number}")
    from pm.views import SECTIONS

    values = {
        "key": [product.key, *story_keys],
        "slug": [product.workspace.slug],
        "token": [token, "not-a-token"],
        "section": list(SECTIONS),
        "number": sorted(numbers),
        "index": [0],
        "kind": sorted(registry.commentables),
        "*int": sorted(ids),
        "*str": ["x"],
    }
    urls = []
    for name, route in _patterns():
        if name.startswith(SKIP_NAMESPACES) or "(?P<format>" in route or "\\." in route:
            continue
        route = route.replace("^", "").replace("$", "")
        if "(?P<path>" in route:  # the API's catch-all 404
            urls.append("/api/v1/no-such-thing/")
            continue
        urls += _fill(route, values)
    history = [u for u in urls if u.endswith("/history/")]
    urls += [f"{u}?type={label}" for u in history for label in planted]
    # Global search and its quick-jump, asked for the sentinel (and each hidden story's key).
    searches = [u for u in urls if u in ("/search/", "/search/quick/")]
    assert len(searches) == 2, "the search routes moved: teach this test their new URLs"
    urls += [f"{u}?q={q}" for u in searches for q in (SENTINEL, f"{SENTINEL[:5]}", *story_keys)]
    return sorted(set(urls))


def _leaks(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace").lower()
    found = []
    for needle in NEEDLES:
        at = text.find(needle)
        if at >= 0:
            found.append(text[max(0, at - 80) : at + 40].replace("\n", " "))
    return found


def test_no_sentinel_reaches_any_surface(world, capsys):
    product, token, planted, shared = world
    stakeholder = product.workspace.memberships.get(role="stakeholder").user
    clients = {"stakeholder": Client(), "share-link visitor": Client(), "portal visitor": Client()}
    clients["stakeholder"].force_login(stakeholder)
    urls = _urls(product, token, planted)
    # Positive control: the team does see the sentinels (so they really were planted), in the
    # history and through search.
    team = Client()
    team.force_login(product.workspace.memberships.get(role="engineer").user)
    assert _leaks(team.get(f"/p/{product.key}/history/").content)
    assert _leaks(team.get(f"/search/?q={SENTINEL}").content)
    leaks, checked, statuses = [], 0, {}
    for audience, client in clients.items():
        variants = [{}, {"HX-Request": "true"}] if audience == "stakeholder" else [{}]
        for url in urls:
            for headers in variants:
                response = client.get(url, headers=headers)
                checked += 1
                statuses[audience, response.status_code] = (
                    statuses.get((audience, response.status_code), 0) + 1
                )
                assert response.status_code < 500, (audience, url, response.status_code)
                body = getattr(response, "content", b"") if not response.streaming else b""
                if url.startswith("/search/"):
                    # The page repeats the query; a planted value is "zqxsentinel-…" or
                    # "zqxsentinel<id>@…", which this leaves in.
                    body = re.sub(rf"{SENTINEL}(?![-0-9])".encode(), b"", body)
                for snippet in _leaks(body):
                    leaks.append(f"{audience} GET {url} {headers or ''} → …{snippet}…")
    # The digest as the stakeholder would get it by e-mail (HTML and text).
    digest = digest_preview(user=stakeholder, product=product, role="stakeholder")
    rendered = digest["rendered"]
    parts = rendered.values() if isinstance(rendered, dict) else [rendered]
    for part in parts:
        for snippet in _leaks(str(part).encode()):
            leaks.append(f"digest e-mail → …{snippet}…")
    checked += 1
    with capsys.disabled():
        print(
            f"\nvisibility leak test ({shared}): {len(urls)} URLs × {len(clients)} audiences "
            f"({checked} requests incl. htmx variants and the digest e-mail), "
            f"{sum(len(r) for r in planted.values())} sentinel rows in {len(planted)} models; "
            f"statuses: {dict(sorted(statuses.items()))}"
        )
    assert not leaks, "Sentinels leaked:\n" + "\n".join(leaks[:60])
    assert len(urls) > 200  # the URL configuration was really walked
    assert statuses.get(("stakeholder", 200), 0) > 100  # and many pages really rendered
    if shared == "every section shared":
        # the shared sections really opened to the stakeholder
        for section in ("ideas", "backlog", "sprints", "feedback", "feedback/research"):
            url = f"/p/{product.key}/{section}/"
            assert clients["stakeholder"].get(url).status_code == 200, url
