"""Personal access tokens: writes (create, revoke) and the lookup used by authentication.

Tokens belong to a user, not a workspace, so they are not in the workspace activity log; the
token row itself records when it was created, last used and revoked.
"""

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from pm.models import ApiToken

# last_used_at is refreshed at most this often, so a busy script costs one UPDATE a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scope: str = ApiToken.Scope.READ,
    expires_at: datetime | None = None,
    actor: User,
) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the key, which is never stored."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise ValidationError("Tokens can only be created for yourself.")
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Give the token a name, such as “CI” or “my laptop”."
    if scope not in ApiToken.Scope.values:
        errors["scope"] = "Choose read or read-write."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "Choose an expiry in the future."
    if errors:
        raise ValidationError(errors)
    key = ApiToken.new_key()
    token = ApiToken(
        user=user,
        name=name,
        scope=scope,
        key_hash=ApiToken.hash_key(key),
        prefix=key[: ApiToken.DISPLAY_LENGTH],
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke the token at once; revoking twice keeps the first time."""
    if actor.pk != token.user_id and not actor.is_superuser:
        raise ValidationError("You can only revoke your own tokens.")
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_for_key(key: str) -> ApiToken | None:
    """The active token with this key (and its user), or None. Touches last_used_at when it
    is older than LAST_USED_RESOLUTION: one conditional UPDATE, skipped on most requests."""
    if not key.startswith(ApiToken.KEY_PREFIX) or len(key) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
    now = timezone.now()
    if token is None or not token.is_active(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_for_user(user: User) -> QuerySet[ApiToken]:
    """Active tokens first, newest first."""
    return ApiToken.objects.filter(user=user).order_by(
        F("revoked_at").asc(nulls_first=True), "-created_at", "-id"
    )
