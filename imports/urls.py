from django.urls import path

from imports import views

P = "p/<str:key>/import/"

urlpatterns = [
    path(P, views.tool_import, name="tool_import"),
    path(P + "<int:pk>/", views.tool_import_preview, name="tool_import_preview"),
    path(P + "<int:pk>/run/", views.tool_import_run, name="tool_import_run"),
    path(P + "<int:pk>/progress/", views.tool_import_progress, name="tool_import_progress"),
]
