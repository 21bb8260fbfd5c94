"""The backlog's API routes, included from pm/urls.py under api/v1/."""

from rest_framework.routers import SimpleRouter

from backlog.api import FeatureViewSet, IdeaViewSet, SprintViewSet, StoryViewSet
from backlog.api_retro import ActionItemViewSet, RetroItemViewSet, SprintReviewViewSet

router = SimpleRouter()
router.register("stories", StoryViewSet, basename="api-story")
router.register("sprints", SprintViewSet, basename="api-sprint")
router.register("features", FeatureViewSet, basename="api-feature")
router.register("ideas", IdeaViewSet, basename="api-idea")
router.register("sprint-reviews", SprintReviewViewSet, basename="api-sprint-review")
router.register("retro-items", RetroItemViewSet, basename="api-retro-item")
router.register("action-items", ActionItemViewSet, basename="api-action-item")

urlpatterns = router.urls
