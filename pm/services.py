"""Writes for the core app. Each service validates, writes, records the activity log and
enqueues its tasks on commit."""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from pm.choices import ActivityAction, EmailStatus, Role
from pm.models import (
    ActivityLog,
    Invitation,
    KeyResult,
    Membership,
    Product,
    Versioned,
    Workspace,
    is_time_zone,
)

log = logging.getLogger(__name__)

# --- activity log -------------------------------------------------------------------------


def field_display(instance: models.Model, field_name: str) -> Any:
    """A JSON-safe, human-readable value of one field (a many-to-many one: its sorted names),
    for the activity log."""
    field = instance._meta.get_field(field_name)
    if field.many_to_many:
        return ", ".join(sorted(str(o) for o in getattr(instance, field_name).all())) or None
    if field.is_relation or not isinstance(field, models.Field):
        related = getattr(instance, field_name)
        return None if related is None else str(related)
    value = getattr(instance, field_name)
    if field.choices and value is not None:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def workspace_of(instance: models.Model) -> Workspace:
    """The workspace of a row that has no product (a membership, an invitation, a product)."""
    workspace = getattr(instance, "workspace", None)
    if not isinstance(workspace, Workspace):
        raise TypeError(f"{instance._meta.label} has neither a product nor a workspace")
    return workspace


def product_of(instance: models.Model) -> Product | None:
    if isinstance(instance, Product):
        return instance
    return getattr(instance, "product", None)


def activity_record(
    *,
    instance: models.Model,
    action: str,
    actor: User | None,
    changes: dict[str, list[Any]] | None = None,
    workspace: Workspace | None = None,
) -> ActivityLog:
    """Append one entry to the activity log for `instance`."""
    product = product_of(instance)
    if workspace is None:
        workspace = product.workspace if product else workspace_of(instance)
    return ActivityLog.objects.create(
        workspace=workspace,
        product=product,
        actor=actor,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        changes=changes or {},
        object_version=getattr(instance, "version", None),
    )


# --- versioned writes ---------------------------------------------------------------------


@dataclass
class EditConflict(Exception):
    """The record changed since the editor loaded it; nothing was written."""

    current: Versioned
    entries: list[ActivityLog]

    def __str__(self) -> str:
        return self.message()

    def message(self) -> str:
        parts = []
        for entry in self.entries:
            who = entry.actor.get_full_name() or entry.actor.username if entry.actor else "someone"
            fields = ", ".join(
                f"{name.replace('_', ' ')} → “{after if after not in (None, '') else '—'}”"
                for name, (_before, after) in entry.changes.items()
            )
            when = timezone.localtime(entry.created_at).strftime("%H:%M")
            parts.append(f"{who} at {when}: {fields or 'changed it'}")
        detail = "; ".join(parts) if parts else "it was changed"
        return (
            f"Someone else saved this while you were editing ({detail}). Nothing was "
            "overwritten: review their changes below, then save again to keep yours."
        )


def changed_since(instance: Versioned, version: int) -> list[ActivityLog]:
    return list(
        ActivityLog.objects.filter(
            object_type=instance._meta.label_lower,
            object_id=instance.pk,
            object_version__gt=version,
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )


def _field_names(instance: models.Model) -> set[str]:
    return {f.name for f in instance._meta.concrete_fields}


def versioned_update[V: Versioned](
    *,
    instance: V,
    data: dict[str, Any],
    expected_version: int,
    actor: User | None,
    extra_changes: dict[str, list[Any]] | None = None,
) -> V:
    """Apply `data` to the row if nobody saved it since `expected_version`, and log the diff
    (plus `extra_changes`, notes for the history that are not fields).

    The row is locked for the check and the write, so two concurrent saves of the same
    version cannot both succeed.
    """
    model = type(instance)
    unknown = set(data) - _field_names(instance)
    if unknown:
        raise ValueError(f"Unknown fields for {model.__name__}: {sorted(unknown)}")
    with transaction.atomic():
        current = model._default_manager.select_for_update().get(pk=instance.pk)
        if current.version != expected_version:
            raise EditConflict(current=current, entries=changed_since(current, expected_version))
        changes: dict[str, list[Any]] = {}
        for name, value in data.items():
            before = field_display(current, name)
            setattr(current, name, value)
            after = field_display(current, name)
            if before != after:
                changes[name] = [before, after]
        if not changes:
            return current
        changes.update(extra_changes or {})
        current.full_clean()
        current.version += 1
        update_fields = [*data, "version"]
        if any(f.name == "updated_at" for f in current._meta.concrete_fields):
            update_fields.append("updated_at")
        current.save(update_fields=update_fields)
        activity_record(
            instance=current, action=ActivityAction.UPDATED, actor=actor, changes=changes
        )
    return current


def record_create[M: models.Model](*, instance: M, actor: User | None) -> M:
    """Validate and insert a new record, logging every filled field as the 'after' value."""
    with transaction.atomic():
        instance.full_clean()
        instance.save()
        changes = {
            f.name: [None, field_display(instance, f.name)]
            for f in instance._meta.concrete_fields
            if f.editable
            and not f.primary_key
            and f.name not in {"product", "workspace", "objective", "version"}
            and getattr(instance, f.attname) not in (None, "")
        }
        activity_record(
            instance=instance, action=ActivityAction.CREATED, actor=actor, changes=changes
        )
    return instance


def record_delete(*, instance: models.Model, actor: User) -> None:
    with transaction.atomic():
        product = product_of(instance)
        entry = ActivityLog(
            workspace=product.workspace if product else workspace_of(instance),
            product=product,
            actor=actor,
            action=ActivityAction.DELETED,
            object_type=instance._meta.label_lower,
            object_id=instance.pk,
            object_repr=str(instance)[:200],
        )
        instance.delete()
        entry.save()


# --- workspaces and members ---------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def workspace_create(*, name: str, actor: User, time_zone: str = "UTC") -> Workspace:
    """Create a workspace with `actor` as its first admin."""
    if not is_time_zone(time_zone):
        raise ValidationError({"time_zone": "Unknown time zone."})
    workspace = Workspace(name=name.strip(), slug=_unique_slug(name), time_zone=time_zone)
    workspace.full_clean()
    workspace.save()
    Membership.objects.create(workspace=workspace, user=actor, role=Role.ADMIN)
    activity_record(
        instance=workspace,
        action=ActivityAction.CREATED,
        actor=actor,
        changes={"name": [None, workspace.name]},
        workspace=workspace,
    )
    return workspace


@transaction.atomic
def invitation_create(
    *, workspace: Workspace, email: str, role: str, actor: User
) -> tuple[Invitation, str]:
    """Invite `email` with `role`; returns the invitation and its one-time token."""
    email = email.strip().lower()
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise ValidationError({"email": "Someone with this e-mail is already a member."})
    # A new invitation replaces any pending one for the same address.
    Invitation.objects.filter(
        workspace=workspace, email=email, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())
    token = Invitation.new_token()
    invitation = Invitation(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=Invitation.hash_token(token),
        invited_by=actor,
    )
    invitation.full_clean()
    invitation.save()
    activity_record(
        instance=invitation,
        action=ActivityAction.CREATED,
        actor=actor,
        changes={"email": [None, email], "role": [None, role]},
        workspace=workspace,
    )
    transaction.on_commit(lambda: _invitation_email_enqueue(invitation.pk, token))
    return invitation, token


def _invitation_email_enqueue(invitation_id: int, token: str) -> None:
    """Hand the e-mail to a worker; if the queue (Redis) cannot be reached, say so on the
    invitation instead of failing the page that created it."""
    from pm.tasks import send_invitation_email

    try:
        send_invitation_email.delay(invitation_id, token)
    except Exception:
        log.warning("invitation %s: the task queue is unreachable", invitation_id, exc_info=True)
        Invitation.objects.filter(pk=invitation_id, token_hash=Invitation.hash_token(token)).update(
            email_status=EmailStatus.FAILED,
            email_error="The task queue could not be reached; resend once it is back.",
        )


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User) -> tuple[Invitation, str]:
    """E-mail a pending invitation again with a fresh link (the old link stops working) and a
    fresh expiry; returns the invitation and its new token."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(f"This invitation was already {invitation.state}.")
    token = Invitation.new_token()
    invitation.token_hash = Invitation.hash_token(token)
    invitation.expires_at = Invitation._meta.get_field("expires_at").get_default()
    invitation.email_status = EmailStatus.QUEUED
    invitation.email_error = ""
    invitation.email_sent_at = None
    invitation.save(
        update_fields=["token_hash", "expires_at", "email_status", "email_error", "email_sent_at"]
    )
    activity_record(
        instance=invitation,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"email": [None, "re-sent with a new link"]},
        workspace=invitation.workspace,
    )
    transaction.on_commit(lambda: _invitation_email_enqueue(invitation.pk, token))
    return invitation, token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Revoke a pending invitation; one already accepted or revoked is left (and logged) as is."""
    revoked = Invitation.objects.filter(pk=invitation.pk, revoked_at=None, accepted_at=None).update(
        revoked_at=timezone.now()
    )
    invitation.refresh_from_db()
    if not revoked:
        return invitation
    activity_record(
        instance=invitation,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"state": ["pending", "revoked"]},
        workspace=invitation.workspace,
    )
    return invitation


def invitation_by_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("workspace")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the workspace; the conditional update makes a token usable once."""
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).update(accepted_at=timezone.now(), accepted_by=user)
    if not claimed:
        raise ValidationError("This invitation has expired, was revoked or was already used.")
    membership, created = Membership.objects.get_or_create(
        workspace=invitation.workspace, user=user, defaults={"role": invitation.role}
    )
    if created:
        activity_record(
            instance=membership,
            action=ActivityAction.CREATED,
            actor=user,
            changes={"user": [None, user.username], "role": [None, invitation.role]},
            workspace=invitation.workspace,
        )
    return membership


def _admins_left(workspace: Workspace, excluding: Membership) -> bool:
    return (
        Membership.objects.filter(workspace=workspace, role=Role.ADMIN)
        .exclude(pk=excluding.pk)
        .exists()
    )


@transaction.atomic
def workspace_set_sign_in(
    *,
    workspace: Workspace,
    require_two_factor: bool,
    sso_email_domains: list[str],
    sso_default_role: str,
    actor: User,
) -> Workspace:
    """The workspace's sign-in rules: two-factor sign-in required of password accounts, and the
    e-mail domains whose people join at their first single sign-on, with which role."""
    if sso_default_role not in Role.values:
        raise ValidationError({"sso_default_role": "Choose a role."})
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    changes: dict[str, list[str]] = {}
    if workspace.require_two_factor != require_two_factor:
        changes["require_two_factor"] = [
            str(workspace.require_two_factor),
            str(require_two_factor),
        ]
    if list(workspace.sso_email_domains or []) != sso_email_domains:
        changes["sso_email_domains"] = [
            ", ".join(workspace.sso_email_domains or []),
            ", ".join(sso_email_domains),
        ]
    if workspace.sso_default_role != sso_default_role:
        changes["sso_default_role"] = [workspace.sso_default_role, sso_default_role]
    if not changes:
        return workspace
    workspace.require_two_factor = require_two_factor
    workspace.sso_email_domains = sso_email_domains
    workspace.sso_default_role = sso_default_role
    workspace.save(update_fields=["require_two_factor", "sso_email_domains", "sso_default_role"])
    activity_record(
        instance=workspace,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes=changes,
        workspace=workspace,
    )
    return workspace


def workspace_set_stakeholder_sections(
    *, workspace: Workspace, sections: list[str], actor: User
) -> Workspace:
    """Which sections stakeholders may browse beyond strategy, roadmap, KPIs and released
    features (pm.visibility.WIDENABLE_SECTIONS; anything else is refused)."""
    from pm.visibility import WIDENABLE_SECTIONS

    unknown = set(sections) - {s.value for s in WIDENABLE_SECTIONS}
    if unknown:
        raise ValidationError({"sections": f"Unknown sections: {', '.join(sorted(unknown))}."})
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    chosen = [s.value for s in WIDENABLE_SECTIONS if s.value in sections]
    before = list(workspace.stakeholder_sections or [])
    if before == chosen:
        return workspace
    workspace.stakeholder_sections = chosen
    workspace.save(update_fields=["stakeholder_sections"])
    activity_record(
        instance=workspace,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"stakeholder_sections": [", ".join(before), ", ".join(chosen)]},
        workspace=workspace,
    )
    return workspace


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, actor: User) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if role not in Role.values:
        raise ValidationError({"role": "Choose a valid role."})
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        # Lock every admin row so two demotions at once cannot leave the workspace adminless.
        list(
            Membership.objects.select_for_update().filter(
                workspace_id=membership.workspace_id, role=Role.ADMIN
            )
        )
        if not _admins_left(membership.workspace, membership):
            raise ValidationError({"role": "A workspace needs at least one admin."})
    before = membership.role
    if before == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    activity_record(
        instance=membership,
        action=ActivityAction.UPDATED,
        actor=actor,
        changes={"role": [before, role]},
        workspace=membership.workspace,
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    list(
        Membership.objects.select_for_update().filter(
            workspace_id=membership.workspace_id, role=Role.ADMIN
        )
    )
    if membership.role == Role.ADMIN and not _admins_left(membership.workspace, membership):
        raise ValidationError("A workspace needs at least one admin.")
    activity_record(
        instance=membership,
        action=ActivityAction.DELETED,
        actor=actor,
        changes={"user": [membership.user.username, None]},
        workspace=membership.workspace,
    )
    membership.delete()


# --- products and strategy ----------------------------------------------------------------


def product_create(*, workspace: Workspace, data: dict[str, Any], actor: User) -> Product:
    """Create a product in `workspace`; the key must be unique within the workspace."""
    product = Product(workspace=workspace, **data)
    product.key = (product.key or "").upper()
    if Product.objects.filter(workspace=workspace, key=product.key).exists():
        raise ValidationError({"key": "This workspace already has a product with this key."})
    try:
        with transaction.atomic():
            return record_create(instance=product, actor=actor)
    except IntegrityError as exc:  # two creations racing for the same key
        raise ValidationError(
            {"key": "This workspace already has a product with this key."}
        ) from exc


def product_update(
    *, product: Product, data: dict[str, Any], expected_version: int, actor: User
) -> Product:
    if "key" in data and data["key"] != product.key:
        raise PermissionDenied("A product's key is fixed once stories use it.")
    return versioned_update(
        instance=product, data=data, expected_version=expected_version, actor=actor
    )


def strategy_item_create[M: models.Model](*, instance: M, actor: User) -> M:
    """Add a theme, objective, key result, persona or competitor (already bound to its product;
    a key result to its objective, whose product's workspace it is recorded in)."""
    if isinstance(instance, KeyResult):
        instance.workspace_id = instance.objective.product.workspace_id
    try:
        return record_create(instance=instance, actor=actor)
    except IntegrityError as exc:
        raise ValidationError({"name": "This name is already used in this product."}) from exc


def strategy_item_update[V: Versioned](
    *, instance: V, data: dict[str, Any], expected_version: int, actor: User
) -> V:
    if isinstance(instance, KeyResult) and "current_value" in data:
        _refuse_typed_value_of_linked_result(instance, data["current_value"])
    return versioned_update(
        instance=instance, data=data, expected_version=expected_version, actor=actor
    )


def _refuse_typed_value_of_linked_result(kr: KeyResult, value: Any) -> None:
    """A key result linked to a KPI takes its current value from the KPI's data points only: a
    typed value would be overwritten silently by the next point."""
    row = (
        KeyResult.objects.filter(pk=kr.pk, kpi_link__isnull=False)
        .values("current_value", "kpi_link__kpi__name")
        .first()
    )
    if row is None or (value is not None and Decimal(str(value)) == row["current_value"]):
        return
    raise ValidationError(
        {
            "current_value": f"This key result follows the KPI “{row['kpi_link__kpi__name']}”; "
            "its current value is set by the KPI's data points."
        }
    )


def strategy_item_delete(*, instance: models.Model, actor: User) -> None:
    record_delete(instance=instance, actor=actor)
