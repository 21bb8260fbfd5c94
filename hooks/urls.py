from django.urls import path

from hooks import views

urlpatterns = [
    path("w/<slug:slug>/webhooks/", views.endpoint_list, name="webhook_list"),
    path("w/<slug:slug>/webhooks/<int:pk>/", views.endpoint_detail, name="webhook_detail"),
    path(
        "w/<slug:slug>/webhooks/<int:pk>/rotate/",
        views.endpoint_rotate,
        name="webhook_rotate",
    ),
    path(
        "w/<slug:slug>/webhooks/<int:pk>/delete/",
        views.endpoint_delete,
        name="webhook_delete",
    ),
    path(
        "w/<slug:slug>/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        views.delivery_redeliver,
        name="webhook_redeliver",
    ),
    path("p/<str:key>/development/", views.development, name="development_settings"),
    path("p/<str:key>/development/jira/", views.jira_import, name="jira_import"),
    path("hooks/github/<str:token>/", views.github_receiver, name="github_receiver"),
    path("hooks/gitlab/<str:token>/", views.gitlab_receiver, name="gitlab_receiver"),
]
