"""The API's published version and its deprecation signals (docs/api-changelog.md).

Every response under /api/ carries `API-Version` (the same string as the schema's
`info.version`). Something on its way out is listed in DEPRECATED by URL name: its responses
then carry `Deprecation` (RFC 9745: when it was deprecated), `Sunset` (RFC 8594: when it goes)
and a `Link` to the changelog entry, for at least the notice period the changelog promises.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.http import http_date

API_VERSION = "1.2.0"
CHANGELOG_URL = "/static/docs/api-changelog.md"
# The least time between a deprecation and its sunset (the policy in docs/api-changelog.md).
NOTICE_DAYS = 180


@dataclass(frozen=True)
class Deprecation:
    since: datetime
    sunset: datetime
    note: str = ""


# {URL name: its deprecation}. Empty: nothing in version 1 is deprecated yet.
DEPRECATED: dict[str, Deprecation] = {}


def mark_deprecated(response, deprecation: Deprecation, link: str = CHANGELOG_URL):
    """Add the deprecation headers to `response` (and return it)."""
    response["Deprecation"] = f"@{int(deprecation.since.astimezone(UTC).timestamp())}"
    response["Sunset"] = http_date(deprecation.sunset.timestamp())
    existing = response.get("Link")
    notice = f'<{link}>; rel="deprecation"; type="text/markdown"'
    response["Link"] = f"{existing}, {notice}" if existing else notice
    return response


class ApiVersionMiddleware:
    """`API-Version` on every API response; the deprecation headers where DEPRECATED says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            response["API-Version"] = API_VERSION
            match = getattr(request, "resolver_match", None)
            deprecation = DEPRECATED.get(match.url_name) if match else None
            if deprecation is not None:
                mark_deprecated(response, deprecation)
        return response
