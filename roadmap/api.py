"""Roadmap API: the public roadmap behind a share link, as JSON."""

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from roadmap.views import _public_headers, resolve_share_token


class PublicRoadmapView(APIView):
    """`GET /api/v1/roadmap/{token}/`: what the share page shows, as data. No authentication:
    the token is the credential; a wrong, expired or revoked one gets 404."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request, token: str) -> Response:
        _link, data = resolve_share_token(token)
        return _public_headers(Response(data))
