from django.urls import path

from backlog import views_fields as fields_views
from backlog.choices import CustomFieldTarget
from backlog.views import features, ideas, sprint_review, sprints, stories

P = "p/<str:key>/"

urlpatterns = [
    # ideas
    path(P + "ideas/", ideas.ideas, name="ideas"),
    path(P + "ideas/new/", ideas.idea_new, name="idea_new"),
    path(P + "ideas/export/", ideas.ideas_export, name="ideas_export"),
    path(P + "ideas/<int:pk>/", ideas.idea_detail, name="idea_detail"),
    path(P + "ideas/<int:pk>/edit/", ideas.idea_edit, name="idea_edit"),
    path(P + "ideas/<int:pk>/vote/", ideas.idea_vote, name="idea_vote"),
    path(P + "ideas/<int:pk>/review/", ideas.idea_review, name="idea_review"),
    path(P + "ideas/<int:pk>/accept/", ideas.idea_accept, name="idea_accept"),
    path(P + "ideas/<int:pk>/decline/", ideas.idea_decline, name="idea_decline"),
    path(P + "ideas/<int:pk>/merge/", ideas.idea_merge, name="idea_merge"),
    # the backlog
    path(P + "backlog/", features.backlog, name="backlog"),
    path(P + "backlog/new/", features.feature_new, name="feature_new"),
    path(P + "backlog/export/", features.backlog_export, name="backlog_export"),
    path(P + "backlog/settings/", features.backlog_settings, name="backlog_settings"),
    path(
        P + "backlog/sort-by-score/", features.backlog_sort_by_score, name="backlog_sort_by_score"
    ),
    path(P + "backlog/bulk-status/", features.backlog_bulk_status, name="backlog_bulk_status"),
    path(P + "backlog/<int:pk>/row/", features.feature_row, name="feature_row"),
    path(P + "backlog/<int:pk>/score/", features.feature_score_edit, name="feature_score_edit"),
    path(P + "backlog/<int:pk>/move/", features.feature_move, name="feature_move"),
    # features and stories
    path(P + "features/<int:pk>/", features.feature_detail, name="feature_detail"),
    path(P + "features/<int:pk>/edit/", features.feature_edit, name="feature_edit"),
    path(P + "features/<int:pk>/stories/new/", features.story_new, name="story_new"),
    path(P + "stories/<int:number>/", stories.story_detail, name="story_detail"),
    path(P + "stories/<int:number>/edit/", stories.story_edit, name="story_edit"),
    path(P + "stories/<int:number>/status/", stories.story_status, name="story_status"),
    path(P + "stories/<int:number>/move/", stories.story_move, name="story_move"),
    path(
        P + "stories/<int:number>/criteria/<int:index>/",
        stories.story_criterion,
        name="story_criterion",
    ),
    # sprints
    path(P + "sprints/", sprints.sprints, name="sprints"),
    path(P + "sprints/new/", sprints.sprint_new, name="sprint_new"),
    path(P + "sprints/<int:pk>/", sprints.sprint_board, name="sprint_board"),
    path(P + "sprints/<int:pk>/edit/", sprints.sprint_edit, name="sprint_edit"),
    path(
        P + "sprints/<int:pk>/export/",
        sprints.sprint_stories_export,
        name="sprint_stories_export",
    ),
    path(P + "sprints/<int:pk>/plan/", sprints.sprint_plan, name="sprint_plan"),
    path(P + "sprints/<int:pk>/review/", sprint_review.sprint_review, name="sprint_review"),
    path(P + "sprints/<int:pk>/retro/", sprint_review.sprint_retro, name="sprint_retro"),
    path(P + "sprints/<int:pk>/retro/items/", sprint_review.retro_item_add, name="retro_item_add"),
    path(
        P + "sprints/<int:pk>/retro/items/<int:item>/vote/",
        sprint_review.retro_item_vote,
        name="retro_item_vote",
    ),
    path(
        P + "sprints/<int:pk>/retro/items/<int:item>/delete/",
        sprint_review.retro_item_delete,
        name="retro_item_delete",
    ),
    path(P + "sprints/<int:pk>/retro/actions/", sprint_review.action_add, name="action_add"),
    path(
        P + "sprints/<int:pk>/retro/actions/<int:action>/done/",
        sprint_review.action_done,
        name="action_done",
    ),
    path(P + "sprints/<int:pk>/plan/story/", sprints.sprint_plan_story, name="sprint_plan_story"),
]

urlpatterns += [
    # custom fields: the settings page, and their values on features, ideas and stories
    path(P + "fields/", fields_views.custom_fields_page, name="custom_fields"),
    path(P + "fields/<int:pk>/edit/", fields_views.custom_field_edit, name="custom_field_edit"),
    path(P + "fields/<int:pk>/move/", fields_views.custom_field_move, name="custom_field_move"),
    path(
        P + "fields/<int:pk>/archive/",
        fields_views.custom_field_archive,
        name="custom_field_archive",
    ),
    path(
        P + "features/<int:pk>/fields/",
        fields_views.item_values,
        {"target": CustomFieldTarget.FEATURE},
        name="feature_values",
    ),
    path(
        P + "ideas/<int:pk>/fields/",
        fields_views.item_values,
        {"target": CustomFieldTarget.IDEA},
        name="idea_values",
    ),
    path(
        P + "stories/<int:number>/fields/",
        fields_views.item_values,
        {"target": CustomFieldTarget.STORY},
        name="story_values",
    ),
]
