"""Serializers shared by every resource (filters), and the core resource, products."""

from datetime import UTC, datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from pm.api.permissions import parse_id
from pm.choices import Role
from pm.models import Membership, Product


class UpdatedSinceField(serializers.DateTimeField):
    """An ISO 8601 date or date-time (`2027-01-31`, `2027-01-31T09:00:00Z`). A `+hh:mm` offset
    that arrived unencoded in a query string (so as a space) is read as `+`."""

    default_error_messages = {
        "invalid": "Use an ISO 8601 date or date-time, such as 2027-01-31T09:00:00Z."
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", "Only items changed at or after this ISO 8601 date or date-time."
        )
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        text = str(value).strip()
        if " " in text and "T" in text:
            text = text.replace(" ", "+")
        try:
            parsed = parse_datetime(text)
            if parsed is None and (day := parse_date(text)) is not None:
                parsed = datetime.combine(day, time.min)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        try:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("invalid")


class ProductRefField(serializers.CharField):
    """A product by id (`42`) or key (`LOD`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", "Product id or key, e.g. 42 or LOD.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return super().to_internal_value(str(data))


class IdOrWordField(serializers.CharField):
    """A filter taking an id or one of a few words (`me`, `current`, `none`)."""

    def __init__(self, *, words: tuple[str, ...], **kwargs):
        self.words = words
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip().lower()
        if value in self.words:
            return value
        if (number := parse_id(value)) is not None:
            return number
        raise serializers.ValidationError(f"Use an id or one of: {', '.join(self.words)}.")


class ProductFilterSerializer(serializers.Serializer):
    updated_since = UpdatedSinceField()


class ProductSerializer(serializers.ModelSerializer):
    """A product the caller can see, and the caller's role in its workspace."""

    workspace: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    role = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "key", "name", "workspace", "role", "updated_at"]
        read_only_fields = fields

    def get_role(self, product: Product) -> str:
        return self.context["roles"][product.workspace_id]


class RedactedFieldsMixin(serializers.BaseSerializer):
    """Leaves out of the representation every field the visibility policy blanked on the
    instance (pm.visibility.redacted/redact) — stakeholders get no key, not a null."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in getattr(instance, "__dict__", {}).get("_redacted", ()):
            data.pop(name, None)
        return data


class MemberSerializer(serializers.ModelSerializer):
    """A member of one of the caller's workspaces: how to turn an `assignee` id into a name."""

    id = serializers.IntegerField(source="user_id", help_text="User id (as in `assignee`).")
    username = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField(help_text="Full name, else the username.")
    workspace: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    joined_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Membership
        fields = ["id", "username", "name", "workspace", "role", "joined_at"]
        read_only_fields = fields

    def get_name(self, membership: Membership) -> str:
        return membership.user.get_full_name() or membership.user.username


class MemberFilterSerializer(serializers.Serializer):
    workspace = serializers.SlugField(
        required=False, max_length=60, help_text="Workspace slug, e.g. acme."
    )
    role = serializers.ChoiceField(choices=Role.choices, required=False)


class MembershipOut(serializers.Serializer):
    workspace = serializers.CharField(source="workspace.slug", help_text="Workspace slug.")
    workspace_name = serializers.CharField(source="workspace.name")
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.Serializer):
    """The caller: who the token or session belongs to, and their role in each workspace."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(help_text="Full name, else the username.")
    email = serializers.EmailField(allow_blank=True)
    memberships = MembershipOut(many=True)
    token_scope = serializers.ChoiceField(
        choices=["read", "read-write"],
        allow_null=True,
        help_text="The token's scope; null for a browser session.",
    )
