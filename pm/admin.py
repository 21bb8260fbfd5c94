from django.contrib import admin

from pm.models import (
    ActivityLog,
    Competitor,
    Invitation,
    KeyResult,
    Membership,
    Objective,
    Persona,
    Product,
    StrategicTheme,
    Workspace,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "workspace__name"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "workspace", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["workspace", "role"]
    exclude = ["token_hash"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "workspace", "updated_at"]
    search_fields = ["name", "key"]
    list_filter = ["workspace"]


class KeyResultInline(admin.TabularInline):
    model = KeyResult
    extra = 0


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["title", "product", "period", "status"]
    list_filter = ["product", "status"]
    inlines = [KeyResultInline]


for model in (StrategicTheme, Persona, Competitor):
    admin.site.register(model, list_display=["name", "product"], list_filter=["product"])


@admin.register(ActivityLog)
class ActivityLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_repr", "product"]
    list_filter = ["action", "object_type", "workspace"]
    search_fields = ["object_repr"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
