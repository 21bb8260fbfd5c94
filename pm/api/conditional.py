"""Conditional requests: an ETag on every detail response and every list page,
`If-None-Match` → 304, and the `If-Match` precondition for writes (412 when stale).

The ETag is derived from the row's `version` and `updated_at` (both change on every service
write) and from the audience, because stakeholders get a representation without internal
fields.
"""

import hashlib
import json

from django.db import models
from django.utils.http import parse_etags


def etag_for(instance: models.Model, audience: str = "") -> str:
    updated_at = getattr(instance, "updated_at", None)
    basis = ":".join(
        [
            instance._meta.label_lower,
            str(instance.pk),
            str(getattr(instance, "version", "")),
            updated_at.isoformat() if updated_at else "",
            audience,
        ]
    )
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def list_response(request, response):
    """A list answer with a weak ETag of its body (the caller's view of that page): the same
    page asked again with `If-None-Match` gets 304 and no body, so polling costs little."""
    if response.status_code != 200:
        return response
    body = json.dumps(response.data, sort_keys=True, default=str, separators=(",", ":"))
    etag = 'W/"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    response["ETag"] = etag
    response["Vary"] = "Accept, Authorization, Cookie"
    if none_match(request.headers.get("If-None-Match"), etag):
        response.status_code = 304
        response.data = None
    return response


def _tags(header: str) -> list[str]:
    return parse_etags(header)


def none_match(header: str | None, etag: str) -> bool:
    """True when `If-None-Match` names the current ETag (weak comparison): answer 304."""
    if not header:
        return False
    tags = _tags(header)
    bare = etag.removeprefix("W/")
    return "*" in tags or any(t.removeprefix("W/") == bare for t in tags)


def match_fails(header: str | None, etag: str) -> bool:
    """True when an `If-Match` header is present and names no current ETag (strong
    comparison): the write must be refused with 412."""
    if not header:
        return False
    tags = _tags(header)
    return "*" not in tags and etag not in tags
