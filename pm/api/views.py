"""Core API resources (products) and the API's own pages: the interactive docs and the JSON
404 for unknown API paths."""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from pm.api.serializers import ProductFilterSerializer, ProductSerializer
from pm.api.viewsets import ListMixin, ResourceViewSet
from pm.models import Product


class ProductViewSet(ListMixin, ResourceViewSet):
    """Products in the caller's workspaces, by name."""

    output_serializer_class = ProductSerializer
    filter_serializer_class = ProductFilterSerializer
    schema_summaries = {"list": "Products you can see, with your role"}

    def get_queryset(self) -> QuerySet[Product]:
        queryset = Product.objects.filter(workspace_id__in=self.workspace_ids()).select_related(
            "workspace"
        )
        filters = self.filters() if self.action == "list" else {}
        if "updated_since" in filters:
            queryset = queryset.filter(updated_at__gte=filters["updated_since"])
        return queryset.order_by("name", "id")


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
