"""The whole workspace as one JSON document, and back (`manage.py export_workspace SLUG`,
`manage.py import_workspace FILE`, the admin's buttons on the workspace settings page).

What is in the document:

- **every tenant model**, found in the app registry by the rule tests/test_tenant_columns.py
  enforces (a required foreign key to the workspace or to a product), so a model added later is
  exported without editing this module; many-to-many links go with their owner;
- rows numbered **per model from 1**, in primary-key order, and every reference (foreign keys,
  many-to-many, the generic ids that apps declare with `registry.add_generic_ref`: history
  entries, comments, watches, embeddings, suggestion decisions) written with those numbers: the
  document does not depend on the instance's ids, so importing it anywhere and exporting again
  gives the same document;
- **users by e-mail** (by username when they have none): on import, a user with that e-mail is
  reused; otherwise one is created, without a password (they set one with "Forgot password");
- the history (ActivityLog) like any other row.

Values are JSON: dates and times in ISO 8601, decimals as strings, binary fields in base64. A
value inside a JSON field that happens to be an id (a history entry's changed theme, say) is
copied as it is. A reference to a row that no longer exists (history of a deleted feature) is
`null` in the document and 0 once imported.
"""

from __future__ import annotations

import base64
import datetime
import secrets
import uuid
from collections.abc import Iterable
from typing import Any, cast

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, models, transaction

from pm.models import Product, Workspace
from pm.registry import registry

FORMAT = "lodestar-workspace"
VERSION = 1
BATCH = 1000

# Models whose rows are not copied, with why (tests/pm/test_workspace_io.py checks that every
# tenant model is either exported or listed here).
EXCLUDED: dict[str, str] = {}


class ImportRefused(Exception):
    """The document cannot be imported (the message says why, for a person)."""


# --- which models -----------------------------------------------------------------------------


def tenant_path(model: type[models.Model]) -> models.ForeignKey | None:
    """The required foreign key that ties `model`'s rows to one workspace (directly or through
    their product), or None for a model that is not tenant data."""
    for field in model._meta.concrete_fields:
        if (
            isinstance(field, models.ForeignKey)
            and not field.null
            and field.related_model in (Workspace, Product)
        ):
            return field
    return None


def tenant_models() -> list[type[models.Model]]:
    """Every model holding a workspace's rows, Workspace excluded, in an order where a model
    comes after the models its required foreign keys point at."""
    found = [
        m
        for m in apps.get_models()
        if m._meta.managed
        and not m._meta.proxy
        and m is not Workspace
        and tenant_path(m) is not None
        and m._meta.label not in EXCLUDED
    ]
    return _ordered(found)


def _ordered(found: list[type[models.Model]]) -> list[type[models.Model]]:
    labels = {m._meta.label: m for m in found}
    needs = {
        m._meta.label: {
            _related(f)._meta.label
            for f in m._meta.concrete_fields
            if f.is_relation
            and f.related_model is not m
            and _related(f)._meta.label in labels
            and not f.null
        }
        for m in found
    }
    done: list[type[models.Model]] = []
    placed: set[str] = set()
    while len(done) < len(found):
        ready = sorted(label for label in labels if label not in placed and needs[label] <= placed)
        if not ready:
            raise RuntimeError(
                f"Cycle of required foreign keys among {sorted(set(labels) - placed)}"
            )
        for label in ready:
            done.append(labels[label])
            placed.add(label)
    return done


def _related(field: models.Field) -> type[models.Model]:
    """The model a relational field points at (Django sets it for every relation once the apps
    are loaded; the stubs allow None for the fields that are not relations)."""
    return cast("type[models.Model]", field.related_model)


def _through(field: models.ManyToManyField) -> type[models.Model]:
    """A many-to-many field's link model (Django resolves it, or makes one, as the apps load)."""
    return cast("type[models.Model]", field.remote_field.through)


def _is_user(model: Any) -> bool:
    return model is get_user_model()


def _generic_refs(model: type[models.Model]) -> dict[str, Any]:
    return {r.id_field: r.target for r in registry.generic_refs if r.model == model._meta.label}


def _plain_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and not isinstance(f, models.GeneratedField)
    ]


# --- export ---------------------------------------------------------------------------------


def _user_ref(user_id: int | None, users: dict[int, Any]) -> str | None:
    if user_id is None:
        return None
    user = users[user_id]
    return user.email.lower() if user.email else f"username:{user.username}"


def export_workspace(workspace: Workspace) -> dict[str, Any]:
    """The document of `workspace` (a dict ready for json.dump with DjangoJSONEncoder)."""
    User = get_user_model()
    order = tenant_models()
    # {label: {pk: number}} for every model, filled before any reference is written.
    numbers: dict[str, dict[Any, int]] = {}
    querysets: dict[str, models.QuerySet] = {}
    for model in order:
        label = model._meta.label
        path = tenant_path(model)
        assert path is not None
        condition = (
            {path.name: workspace}
            if path.related_model is Workspace
            else {f"{path.name}__workspace": workspace}
        )
        querysets[label] = model._default_manager.filter(**condition).order_by("pk")
        numbers[label] = {
            pk: n for n, pk in enumerate(_row_order(model, querysets[label]), start=1)
        }
    numbers[Workspace._meta.label] = {workspace.pk: 1}
    user_ids: set[int] = set()
    content_types = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}

    def ref(target: Any, value: Any) -> Any:
        if value is None:
            return None
        if _is_user(target):
            user_ids.add(value)
            return ("user", value)
        if target is ContentType:
            return content_types.get(value)
        label = target._meta.label
        if label not in numbers:
            raise RuntimeError(f"A reference to {label}, which is not workspace data")
        return numbers[label].get(value)

    rows: dict[str, list[dict[str, Any]]] = {}
    for model in order:
        label = model._meta.label
        fields = _plain_fields(model)
        m2m = [f for f in model._meta.local_many_to_many if _through(f)._meta.auto_created]
        generic = _generic_refs(model)
        queryset = querysets[label]
        if m2m:
            queryset = queryset.prefetch_related(*(f.name for f in m2m))
        out = []
        for instance in queryset.iterator(chunk_size=BATCH):
            row: dict[str, Any] = {"id": numbers[label][instance.pk]}
            for field in fields:
                value = getattr(instance, field.attname)
                if field.is_relation:
                    row[field.name] = ref(field.related_model, value)
                elif isinstance(field, models.BinaryField):
                    row[field.name] = None if value is None else base64.b64encode(value).decode()
                else:
                    row[field.name] = value
            for field in m2m:
                targets = [
                    ref(field.related_model, o.pk) for o in getattr(instance, field.name).all()
                ]
                row[field.name] = sorted(targets, key=_sort_key)
            for id_field, target in generic.items():
                row[id_field] = _generic_number(numbers, target(row), row[id_field])
            out.append(row)
        rows[label] = sorted(out, key=lambda row: row["id"])
    users = {u.pk: u for u in User._default_manager.filter(pk__in=user_ids)}
    # User references become the user's e-mail (or username) now that all are known.
    for out in rows.values():
        for row in out:
            for name, value in row.items():
                if isinstance(value, tuple) and value[:1] == ("user",):
                    row[name] = _user_ref(value[1], users)
                elif isinstance(value, list) and value and isinstance(value[0], tuple):
                    row[name] = sorted(_user_ref(v[1], users) for v in value)
    return {
        "format": FORMAT,
        "version": VERSION,
        "workspace": {f.name: getattr(workspace, f.attname) for f in _plain_fields(Workspace)},
        "users": sorted(
            (
                {
                    "ref": _user_ref(u.pk, users),
                    "email": u.email,
                    "username": u.username,
                    "first_name": u.first_name,
                    "last_name": u.last_name,
                }
                for u in users.values()
            ),
            key=lambda u: u["ref"],
        ),
        "models": rows,
    }


def _self_refs(model: type[models.Model]) -> list[models.Field]:
    return [f for f in _plain_fields(model) if f.is_relation and f.related_model is model]


def _row_order(model: type[models.Model], queryset: models.QuerySet) -> list[Any]:
    """The model's primary keys in document order: by primary key, except that a row pointing
    at another row of its model (a ratio KPI at its two parts) comes after it — so an import
    in document order can write every reference at once (check constraints may need them)."""
    refs = _self_refs(model)
    if not refs:
        return list(queryset.values_list("pk", flat=True))
    rows = list(queryset.values_list("pk", *(f.attname for f in refs)))
    placed: set[Any] = set()
    order: list[Any] = []
    remaining = rows
    while remaining:
        wave = [r for r in remaining if all(v is None or v in placed or v == r[0] for v in r[1:])]
        if not wave:  # a cycle: the rest by primary key (their references are set afterwards)
            wave = remaining
        order.extend(r[0] for r in wave)
        placed.update(r[0] for r in wave)
        taken = {r[0] for r in wave}
        remaining = [r for r in remaining if r[0] not in taken]
    return order


def _sort_key(value: Any) -> Any:
    return (0, value) if isinstance(value, int) else (1, str(value))


def _generic_number(numbers: dict[str, dict[Any, int]], label: str | None, value: Any) -> Any:
    if label is None or value is None:
        return None
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return numbers.get(model._meta.label, {}).get(value)


class _ExactEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but times keep their microseconds (it cuts them to milliseconds, so
    a restored row would differ from the original)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.time):
            text = o.isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return super().default(o)


def dumps(document: dict[str, Any]) -> str:
    """The document as text, keys sorted: the same workspace gives the same bytes."""
    import json

    return json.dumps(document, cls=_ExactEncoder, sort_keys=True, indent=1, ensure_ascii=False)


# --- import ---------------------------------------------------------------------------------


def _username_free(base: str) -> str:
    User = get_user_model()
    name, n = base[:140] or "user", 1
    while User._default_manager.filter(username=name).exists():
        n += 1
        name = f"{base[:140]}-{n}"
    return name


def _users(document: dict[str, Any]) -> dict[str, int]:
    """{user ref: user id}, reusing users by e-mail (or username) and creating the others."""
    User = get_user_model()
    found: dict[str, int] = {}
    for entry in document.get("users", []):
        ref = entry["ref"]
        if ref.startswith("username:"):
            user = User._default_manager.filter(username=entry["username"]).first()
        else:
            user = User._default_manager.filter(email__iexact=entry["email"]).order_by("pk").first()
        if user is None:
            user = User._default_manager.create(
                username=_username_free(entry["username"]),
                email=entry["email"],
                first_name=entry.get("first_name", ""),
                last_name=entry.get("last_name", ""),
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
        found[ref] = user.pk
    return found


def _value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, models.BinaryField):
        return base64.b64decode(value)
    if isinstance(field, models.JSONField):
        return value
    return field.to_python(value)


def _fresh(field: models.Field) -> Any:
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    length = getattr(field, "max_length", None) or 64
    return secrets.token_hex(max(8, min(32, length // 2)))


def import_workspace(
    document: dict[str, Any], *, slug: str | None = None, admin: Any = None
) -> Workspace:
    """A new workspace holding the document's rows — all of them or none (ImportRefused, with
    a reason for a person, when it cannot be). `admin` (the user importing through the web
    page) is made an admin of it if the document does not already make them one."""
    try:
        return _import(document, slug=slug, admin=admin)
    except ImportRefused:
        raise
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        ValidationError,
        DatabaseError,
        RecursionError,
    ) as exc:
        raise ImportRefused(f"The file is damaged or incomplete ({type(exc).__name__}).") from exc


@transaction.atomic
def _import(document: dict[str, Any], *, slug: str | None, admin: Any) -> Workspace:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportRefused("This is not a Lodestar workspace export.")
    if document.get("version") != VERSION:
        raise ImportRefused(f"This export is version {document.get('version')}; we read {VERSION}.")
    data = dict(document["workspace"])
    if slug:
        data["slug"] = slug
    if Workspace.objects.filter(slug=data.get("slug")).exists():
        raise ImportRefused(
            f"A workspace with the address “{data.get('slug')}” exists: choose another one."
        )
    workspace = Workspace(
        **{
            f.attname: _value(f, data.get(f.name))
            for f in _plain_fields(Workspace)
            if f.name in data
        }
    )
    try:
        workspace.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ImportRefused(f"The workspace is not valid: {exc}") from exc
    workspace.save()
    if data.get("created_at"):  # auto_now_add stamped "now": the exported time back
        workspace.created_at = _value(Workspace._meta.get_field("created_at"), data["created_at"])
        Workspace.objects.filter(pk=workspace.pk).update(created_at=workspace.created_at)
    users = _users(document)
    known = {m._meta.label: m for m in tenant_models()}
    unknown = sorted(set(document.get("models", {})) - set(known))
    if unknown:
        raise ImportRefused(f"This export holds data this version does not know: {unknown}")
    ids: dict[str, dict[int, Any]] = {Workspace._meta.label: {1: workspace.pk}}
    content_types = {f"{ct.app_label}.{ct.model}": ct.pk for ct in ContentType.objects.all()}
    later: list[tuple[type[models.Model], list[models.Model], list[dict[str, Any]]]] = []

    for label, model in known.items():
        rows = document.get("models", {}).get(label, [])
        fields = _plain_fields(model)
        auto_times = [
            f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        self_refs = _self_refs(model)
        ids[label] = {}
        created: list[models.Model] = []
        pending: list[tuple[dict[str, Any], models.Model]] = []

        def flush(model=model, label=label, pending=pending, created=created) -> None:
            if not pending:
                return
            instances = [instance for _, instance in pending]
            _fresh_unique_values(model, instances)
            if label in registry.before_import:
                registry.before_import[label](instances)
            objects = model._default_manager.bulk_create(instances)
            for (row, _), obj in zip(pending, objects, strict=True):
                ids[label][row["id"]] = obj.pk
            created.extend(objects)
            pending.clear()

        for row in rows:
            waiting = {row_id for row_id, _ in ((r["id"], i) for r, i in pending)}
            if any(row.get(f.name) in waiting for f in self_refs):
                flush()  # the rows this one points at go in first
            values: dict[str, Any] = {}
            for field in fields:
                if field.name not in row:
                    continue
                value = row[field.name]
                if field.is_relation:
                    target = _related(field)
                    if value is None:
                        values[field.attname] = None
                    elif _is_user(target):
                        values[field.attname] = users.get(value)
                    elif target is ContentType:
                        values[field.attname] = content_types.get(value)
                    elif target._meta.label not in ids:
                        values[field.attname] = None  # set once its rows exist (below)
                    else:
                        values[field.attname] = ids[target._meta.label].get(value)
                elif field.name in _generic_refs(model):
                    values[field.attname] = 0  # set once every row exists (below)
                else:
                    values[field.attname] = _value(field, value)
            pending.append((row, model(**values)))
            if len(pending) >= BATCH:
                flush()
        flush()
        if auto_times:
            # bulk_create stamped "now" on auto_now(_add) fields: put the exported times back.
            for row, obj in zip(rows, created, strict=True):
                for field in auto_times:
                    setattr(obj, field.attname, _value(field, row.get(field.name)))
            model._default_manager.bulk_update(
                created, [f.name for f in auto_times], batch_size=BATCH
            )
        later.append((model, created, rows))

    for model, created, rows in later:
        _link(model, created, rows, ids, users)
    if admin is not None:
        from pm.choices import Role
        from pm.models import Membership

        Membership.objects.update_or_create(
            workspace=workspace, user=admin, defaults={"role": Role.ADMIN}
        )
    return workspace


def _fresh_unique_values(model: type[models.Model], instances: list[models.Model]) -> None:
    """Unique values that this instance already holds (a share link's token hash, imported
    next to the workspace it came from) are replaced by new random ones."""
    for field in _plain_fields(model):
        if not field.unique or field.is_relation:
            continue
        values = [getattr(i, field.attname) for i in instances if getattr(i, field.attname)]
        taken = (
            set(
                model._default_manager.filter(**{f"{field.attname}__in": values}).values_list(
                    field.attname, flat=True
                )
            )
            if values
            else set()
        )
        for instance in instances:
            if getattr(instance, field.attname) in taken:
                setattr(instance, field.attname, _fresh(field))


def _link(
    model: type[models.Model],
    created: list[models.Model],
    rows: list[dict[str, Any]],
    ids: dict[str, dict[int, Any]],
    users: dict[str, int],
) -> None:
    """The references that could not be written at insert time: foreign keys to rows of the
    same model (or of a model inserted later), generic ids, and many-to-many links."""
    deferred = [
        f
        for f in _plain_fields(model)
        if f.is_relation
        and not _is_user(f.related_model)
        and f.related_model is not ContentType
        and (f.related_model is model or _related(f)._meta.label not in _before(model, ids))
    ]
    generic = _generic_refs(model)
    changed: set[str] = set()
    for obj, row in zip(created, rows, strict=True):
        for field in deferred:
            value = row.get(field.name)
            if value is not None:
                setattr(obj, field.attname, ids.get(_related(field)._meta.label, {}).get(value))
                changed.add(field.name)
        for id_field, target in generic.items():
            label = target(row)
            number = row.get(id_field)
            pk = 0
            if label and number is not None:
                try:
                    pk = ids.get(apps.get_model(label)._meta.label, {}).get(number, 0)
                except (LookupError, ValueError):
                    pk = 0
            setattr(obj, id_field, pk)
            changed.add(id_field)
    if changed and created:
        model._default_manager.bulk_update(created, sorted(changed), batch_size=BATCH)
    for field in model._meta.local_many_to_many:
        through = _through(field)
        if not through._meta.auto_created:
            continue
        source = field.m2m_field_name() + "_id"
        target_name = field.m2m_reverse_field_name() + "_id"
        target = _related(field)
        links = []
        for obj, row in zip(created, rows, strict=True):
            for value in row.get(field.name) or []:
                target_pk = (
                    users.get(value)
                    if _is_user(target)
                    else ids.get(target._meta.label, {}).get(value)
                )
                if target_pk is not None:
                    links.append(through(**{source: obj.pk, target_name: target_pk}))
        through._default_manager.bulk_create(links, batch_size=BATCH)


def _before(model: type[models.Model], ids: dict[str, dict[int, Any]]) -> set[str]:
    """The models inserted before `model` (their ids were known when its rows went in)."""
    order = [m._meta.label for m in tenant_models()]
    return {Workspace._meta.label, *order[: order.index(model._meta.label)]}


def counts(document: dict[str, Any]) -> dict[str, int]:
    return {label: len(rows) for label, rows in document.get("models", {}).items() if rows}


def labels(models_: Iterable[type[models.Model]]) -> list[str]:
    return [m._meta.label for m in models_]
