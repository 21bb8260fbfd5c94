"""Roadmap API: the public roadmap behind a share link, as JSON."""

from django.http import HttpResponse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from roadmap import public


class PublicRoadmapView(APIView):
    """`GET /api/v1/roadmap/{token}/`: what the share page shows, as data (the same whitelisted
    public fields). No authentication: the token is the credential; a wrong, expired or revoked
    one gets 404. The JSON is rendered once per change and served as bytes."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request, token: str) -> HttpResponse:
        rendered = public.resolve(token)
        return public.response(request, rendered.json, rendered.json_gzip, "application/json")
