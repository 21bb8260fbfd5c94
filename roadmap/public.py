"""Serving the public roadmap behind share links: fast, never stale by more than a minute,
and closed the moment a link is revoked.

- The link itself is read from the database on every request (one indexed query, see
  selectors.share_link_for_token): a revoked link answers 404 to every request that starts
  after the revocation commits, whatever any cache holds.
- The shared cache (Redis) holds each product's public data with a *stamp*, a random version
  string, for at most PUBLIC_CACHE_SECONDS; roadmap writes delete them on commit.
- Each process keeps the rendered page and JSON bytes of the stamp it last saw, so a hit costs
  that query and one cache read, and no rendering.
- Browsers and API clients revalidate on every visit (`Cache-Control: no-cache`, an ETag of the
  content): an unchanged roadmap answers 304 without a body, a revoked link 404.
"""

import gzip
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags

from roadmap import selectors, services
from roadmap.timeline import build as build_timeline

_MAX_LOCAL = 64  # products whose rendered pages one process keeps
# When the data was read from the database (the page's "Updated …"): left out of the ETags, so
# a roadmap that did not change keeps them when its cache entry is rebuilt.
_GENERATED_AT = re.compile(rb"<time data-generated-at[^>]*>[^<]*</time>")


@dataclass(frozen=True)
class Rendered:
    """One stamp's page and JSON, plain and gzipped (compressed once, not per request; the
    page holds no secret and echoes no input, so compressing it is safe from BREACH), with
    their ETags (weak: the plain and gzipped bytes are the same content)."""

    stamp: str
    html: bytes
    json: bytes
    html_gzip: bytes
    json_gzip: bytes
    html_etag: str
    json_etag: str


_rendered: dict[int, Rendered] = {}
_touched: dict[int, float] = {}


def _remember(product_id: int, rendered: Rendered) -> None:
    if product_id not in _rendered and len(_rendered) >= _MAX_LOCAL:
        _rendered.pop(next(iter(_rendered)))
    _rendered[product_id] = rendered


def _touch(link_id: int) -> None:
    """last_used_at, written at most once a minute per link (the cache arbitrates between
    processes; each process also skips asking within the minute)."""
    now = time.monotonic()
    if now - _touched.get(link_id, -1e9) < services.LAST_USED_RESOLUTION:
        return
    if len(_touched) > 10_000:
        _touched.clear()
    _touched[link_id] = now
    services.share_link_touch(link_id=link_id)


def _data_with_stamp(product_id: int) -> tuple[str, dict[str, Any]] | None:
    """The product's public data and its stamp, from the cache or built afresh."""
    keys = [services.public_stamp_key(product_id), services.public_cache_key(product_id)]
    found = cache.get_many(keys)
    if len(found) == 2:
        return found[keys[0]], found[keys[1]]
    data = selectors.public_roadmap_for(product_id)
    if data is None:
        return None
    stamp = uuid.uuid4().hex
    cache.set_many({keys[0]: stamp, keys[1]: data}, selectors.PUBLIC_CACHE_SECONDS)
    return stamp, data


def _etag(content: bytes) -> str:
    return f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'


def _render(stamp: str, data: dict[str, Any]) -> Rendered:
    html = render_page(data).encode()
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    timeless = {k: v for k, v in data.items() if k != "generated_at"}
    return Rendered(
        stamp=stamp,
        html=html,
        json=body,
        html_gzip=gzip.compress(html, compresslevel=6, mtime=0),
        json_gzip=gzip.compress(body, compresslevel=6, mtime=0),
        # The page as rendered, so a new template or a new day (the timeline's "today") is a
        # new ETag too.
        html_etag=_etag(_GENERATED_AT.sub(b"", html)),
        json_etag=_etag(json.dumps(timeless, cls=DjangoJSONEncoder, sort_keys=True).encode()),
    )


def _not_modified(request, etag: str) -> bool:
    """If-None-Match names `etag` (weak comparison, as RFC 9110 asks for GET)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag.removeprefix("W/") in {t.removeprefix("W/") for t in tags}


def response(request, body: bytes, compressed: bytes, content_type: str, etag: str) -> HttpResponse:
    """The body (gzipped when the client accepts it), or 304 when the client's copy is
    current, with headers for a link-only page."""
    result: HttpResponse
    if _not_modified(request, etag):
        result = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        result = HttpResponse(compressed, content_type=content_type)
        result.headers["Content-Encoding"] = "gzip"
    else:
        result = HttpResponse(body, content_type=content_type)
    result.headers["ETag"] = etag
    patch_vary_headers(result, ["Accept-Encoding"])
    # Every visit revalidates (a revoked link must not show from a browser's copy); shared
    # caches keep nothing (the URL is the credential).
    patch_cache_control(result, no_cache=True, private=True)
    result.headers["X-Robots-Tag"] = "noindex, nofollow"
    result.headers["Referrer-Policy"] = "no-referrer"
    return result


def resolve(token: str) -> Rendered:
    """The rendered public roadmap behind `token`; Http404 for a wrong, expired or revoked
    token. Touches the link's last_used_at (at most once a minute)."""
    link = selectors.share_link_for_token(token)  # the database, every time
    if link is None:
        raise Http404("No such roadmap.")
    rendered = _rendered.get(link.product_id)
    stamp = cache.get(services.public_stamp_key(link.product_id))
    if rendered is None or stamp is None or rendered.stamp != stamp:
        fresh = _data_with_stamp(link.product_id)
        if fresh is None:
            raise Http404("No such roadmap.")
        if rendered is None or rendered.stamp != fresh[0]:
            rendered = _render(*fresh)
            _remember(link.product_id, rendered)
    _touch(link.id)
    return rendered


def _date(value: str) -> date:
    return date.fromisoformat(value)


def render_page(data: dict[str, Any]) -> str:
    """The share page for `data` (it holds no token and nothing per visitor, so every link of
    the product shares it)."""
    items = selectors.public_timeline_items(data)
    markers = [
        (r["name"], _date(r["shipped_date"] or r["target_date"]), bool(r["shipped_date"]), "")
        for r in data["releases"]
    ]
    columns: dict[str, list] = {"now": [], "next": [], "later": []}
    for i in data["initiatives"]:
        columns[i["horizon"]].append(i)
    return render_to_string(
        "roadmap/public.html",
        {
            "data": data,
            "generated_at": datetime.fromisoformat(data["generated_at"]),
            "releases": [
                {
                    **r,
                    "target_date": _date(r["target_date"]),
                    "shipped_date": _date(r["shipped_date"]) if r["shipped_date"] else None,
                }
                for r in data["releases"]
            ],
            "changes": [{**c, "at": datetime.fromisoformat(c["at"])} for c in data["changes"]],
            "timeline": build_timeline(items, markers, timezone.localdate()),
            "scale": "month",
            "columns": [
                ("now", "Now", columns["now"]),
                ("next", "Next", columns["next"]),
                ("later", "Later", columns["later"]),
            ],
        },
    )
