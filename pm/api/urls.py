"""Core API routes, included from pm/urls.py under api/v1/."""

from rest_framework.routers import SimpleRouter

from pm.api.views import ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="api-product")

urlpatterns = router.urls
