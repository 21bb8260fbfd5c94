from django.urls import path

from backlog import views
from backlog import views_fields as fields_views
from backlog import views_sprint_review as review_views

P = "p/<str:key>/"

urlpatterns = [
    # ideas
    path(P + "ideas/", views.ideas, name="ideas"),
    path(P + "ideas/new/", views.idea_new, name="idea_new"),
    path(P + "ideas/<int:pk>/", views.idea_detail, name="idea_detail"),
    path(P + "ideas/<int:pk>/edit/", views.idea_edit, name="idea_edit"),
    path(P + "ideas/<int:pk>/accept/", views.idea_accept, name="idea_accept"),
    path(P + "ideas/<int:pk>/decline/", views.idea_decline, name="idea_decline"),
    path(P + "ideas/<int:pk>/merge/", views.idea_merge, name="idea_merge"),
    # the backlog
    path(P + "backlog/", views.backlog, name="backlog"),
    path(P + "backlog/new/", views.feature_new, name="feature_new"),
    path(P + "backlog/settings/", views.backlog_settings, name="backlog_settings"),
    path(P + "backlog/sort-by-score/", views.backlog_sort_by_score, name="backlog_sort_by_score"),
    path(P + "backlog/bulk-status/", views.backlog_bulk_status, name="backlog_bulk_status"),
    path(P + "backlog/<int:pk>/row/", views.feature_row, name="feature_row"),
    path(P + "backlog/<int:pk>/score/", views.feature_score_edit, name="feature_score_edit"),
    path(P + "backlog/<int:pk>/move/", views.feature_move, name="feature_move"),
    # features and stories
    path(P + "features/<int:pk>/", views.feature_detail, name="feature_detail"),
    path(P + "features/<int:pk>/edit/", views.feature_edit, name="feature_edit"),
    path(P + "features/<int:pk>/stories/new/", views.story_new, name="story_new"),
    path(P + "stories/<int:number>/", views.story_detail, name="story_detail"),
    path(P + "stories/<int:number>/edit/", views.story_edit, name="story_edit"),
    path(P + "stories/<int:number>/status/", views.story_status, name="story_status"),
    path(P + "stories/<int:number>/move/", views.story_move, name="story_move"),
    path(
        P + "stories/<int:number>/criteria/<int:index>/",
        views.story_criterion,
        name="story_criterion",
    ),
    # sprints
    path(P + "sprints/", views.sprints, name="sprints"),
    path(P + "sprints/new/", views.sprint_new, name="sprint_new"),
    path(P + "sprints/<int:pk>/", views.sprint_board, name="sprint_board"),
    path(P + "sprints/<int:pk>/edit/", views.sprint_edit, name="sprint_edit"),
    path(P + "sprints/<int:pk>/plan/", views.sprint_plan, name="sprint_plan"),
    path(P + "sprints/<int:pk>/review/", review_views.sprint_review, name="sprint_review"),
    path(P + "sprints/<int:pk>/retro/", review_views.sprint_retro, name="sprint_retro"),
    path(P + "sprints/<int:pk>/retro/items/", review_views.retro_item_add, name="retro_item_add"),
    path(
        P + "sprints/<int:pk>/retro/items/<int:item>/vote/",
        review_views.retro_item_vote,
        name="retro_item_vote",
    ),
    path(
        P + "sprints/<int:pk>/retro/items/<int:item>/delete/",
        review_views.retro_item_delete,
        name="retro_item_delete",
    ),
    path(P + "sprints/<int:pk>/retro/actions/", review_views.action_add, name="action_add"),
    path(
        P + "sprints/<int:pk>/retro/actions/<int:action>/done/",
        review_views.action_done,
        name="action_done",
    ),
    path(P + "sprints/<int:pk>/plan/story/", views.sprint_plan_story, name="sprint_plan_story"),
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
    path(P + "features/<int:pk>/fields/", fields_views.feature_values, name="feature_values"),
    path(P + "ideas/<int:pk>/fields/", fields_views.idea_values, name="idea_values"),
    path(P + "stories/<int:number>/fields/", fields_views.story_values, name="story_values"),
]
