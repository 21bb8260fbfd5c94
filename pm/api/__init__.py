"""The REST API platform (`/api/v1/`), shared by every app's resources.

Adding a resource is an output serializer (and an input serializer if it is writable), a
viewset built on :class:`pm.api.viewsets.ResourceViewSet`, and a route on the app's router
(`<app>/api_urls.py`, included from `pm/urls.py`). The platform supplies, from the settings in
`REST_FRAMEWORK`: session and token authentication, read-only tokens, role checks through
`pm.permissions`, one error shape (:mod:`pm.api.exceptions`), throttling, pagination,
conditional requests (:mod:`pm.api.conditional`) and the documented error responses in the
OpenAPI schema (:mod:`pm.api.schema`).
"""
