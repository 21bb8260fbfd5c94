"""Core API resources (products) and the API's own pages: the interactive docs and the JSON
404 for unknown API paths."""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pm.api.serializers import (
    MemberFilterSerializer,
    MemberSerializer,
    MeSerializer,
    ProductFilterSerializer,
    ProductSerializer,
)
from pm.api.viewsets import ListMixin, ResourceViewSet
from pm.choices import Role
from pm.http import signed_in
from pm.models import ApiToken, Membership, Product
from pm.permissions import get_workspace_for_user, role_allows


class ProductViewSet(ListMixin, ResourceViewSet):
    """Products in the caller's workspaces, by name."""

    output_serializer_class = ProductSerializer
    filter_serializer_class = ProductFilterSerializer
    schema_summaries = {"list": "Products you can see, with your role"}
    search_fields = ("name", "key")
    ordering_fields = ("name", "key", "updated_at")

    def get_queryset(self) -> QuerySet[Product]:
        queryset = Product.objects.filter(workspace_id__in=self.workspace_ids()).select_related(
            "workspace"
        )
        filters = self.filters() if self.action == "list" else {}
        if "updated_since" in filters:
            queryset = queryset.filter(updated_at__gte=filters["updated_since"])
        return queryset.order_by("name", "id")


class MemberViewSet(ListMixin, ResourceViewSet):
    """Members of the caller's workspaces (engineers and up: the team's names for `assignee`
    ids), by username. `?workspace=` narrows to one workspace (404 outside it, 403 for a
    stakeholder)."""

    output_serializer_class = MemberSerializer
    filter_serializer_class = MemberFilterSerializer
    read_need = Role.ENGINEER
    search_fields = ("user__username", "user__first_name", "user__last_name")
    ordering_fields = ("created_at",)
    schema_summaries = {"list": "Members of your workspaces (engineers and up)"}

    def get_queryset(self) -> QuerySet[Membership]:
        queryset = Membership.objects.select_related("user", "workspace").filter(
            user__is_active=True
        )
        filters = self.filters() if self.action == "list" else {}
        if "workspace" in filters:
            workspace = get_workspace_for_user(
                signed_in(self.request), filters["workspace"], need=Role.ENGINEER
            )
            queryset = queryset.filter(workspace=workspace)
        else:
            team = [ws for ws, role in self.roles().items() if role_allows(role, Role.ENGINEER)]
            queryset = queryset.filter(workspace_id__in=team)
        if "role" in filters:
            queryset = queryset.filter(role=filters["role"])
        return queryset.order_by("workspace__slug", "user__username", "id")


class MeView(APIView):
    """`GET /api/v1/me/`: who the caller is."""

    @extend_schema(summary="Who you are, and your role in each workspace", responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = signed_in(request)
        memberships = Membership.objects.filter(user=user).select_related("workspace")
        token = request.auth if isinstance(request.auth, ApiToken) else None
        data = {
            "id": user.pk,
            "username": user.username,
            "name": user.get_full_name() or user.username,
            "email": user.email,
            "memberships": list(memberships.order_by("workspace__name", "workspace_id")),
            "token_scope": token.scope if token is not None else None,
        }
        return Response(MeSerializer(data).data)


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI from the vendored drf-spectacular-sidecar files, started by a static script
    (the CSP allows no inline script or style)."""
    return render(request, "pm/api_docs.html", {"schema_url": reverse("api-schema")})


@csrf_exempt  # answers every method with a 404 and changes nothing
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Unknown paths under /api/ answer in the API's error shape, not with an HTML page."""
    detail = "No such API endpoint."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail += f" Did you mean {request.path}/ (with the trailing slash)?"
    return JsonResponse({"detail": detail}, status=404)
