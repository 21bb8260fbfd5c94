"""Serving the public roadmap behind share links, fast and never stale by more than a minute.

Three layers:
- the shared cache (Redis) holds each share link's resolution (by token hash) and each product's
  public data with a *stamp*, a random version string, for at most PUBLIC_CACHE_SECONDS;
  roadmap writes and revocations delete them on commit;
- each process keeps the rendered page and JSON bytes of the stamp it last saw, so a hit costs
  one cache round trip (the link and the stamp together) and no rendering;
- a link's product never changes, so the process also remembers which product a token hash
  belongs to, which lets it ask for the link and the stamp in that single round trip.
"""

import gzip
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

from roadmap import selectors, services
from roadmap.models import ShareLink
from roadmap.timeline import build as build_timeline

_MAX_LOCAL = 64  # products whose rendered pages one process keeps


@dataclass(frozen=True)
class Rendered:
    """One stamp's page and JSON, plain and gzipped (compressed once, not per request; the
    page holds no secret and echoes no input, so compressing it is safe from BREACH)."""

    stamp: str
    html: bytes
    json: bytes
    html_gzip: bytes
    json_gzip: bytes


_rendered: dict[int, Rendered] = {}
_product_of_link: dict[str, int] = {}
_touched: dict[str, float] = {}


def _remember(product_id: int, rendered: Rendered) -> None:
    if product_id not in _rendered and len(_rendered) >= _MAX_LOCAL:
        _rendered.pop(next(iter(_rendered)))
    _rendered[product_id] = rendered


def _touch(link_id: int, token_hash: str) -> None:
    """last_used_at, written at most once a minute per link (the cache arbitrates between
    processes; each process also skips asking within the minute)."""
    now = time.monotonic()
    if now - _touched.get(token_hash, -1e9) < services.LAST_USED_RESOLUTION:
        return
    if len(_touched) > 10_000:
        _touched.clear()
    _touched[token_hash] = now
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


def _render(stamp: str, data: dict[str, Any]) -> Rendered:
    html = render_page(data).encode()
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
    return Rendered(
        stamp=stamp,
        html=html,
        json=body,
        html_gzip=gzip.compress(html, compresslevel=6, mtime=0),
        json_gzip=gzip.compress(body, compresslevel=6, mtime=0),
    )


def response(request, body: bytes, compressed: bytes, content_type: str) -> HttpResponse:
    """The body, gzipped when the client accepts it, with headers for a link-only page."""
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        result = HttpResponse(compressed, content_type=content_type)
        result.headers["Content-Encoding"] = "gzip"
    else:
        result = HttpResponse(body, content_type=content_type)
    patch_vary_headers(result, ["Accept-Encoding"])
    # Holders of the link may keep a copy briefly; shared caches may not (revocation).
    patch_cache_control(result, private=True, max_age=30)
    result.headers["X-Robots-Tag"] = "noindex, nofollow"
    result.headers["Referrer-Policy"] = "no-referrer"
    return result


def resolve(token: str) -> Rendered:
    """The rendered public roadmap behind `token`; Http404 for a wrong, expired or revoked
    token. Touches the link's last_used_at (at most once a minute)."""
    if not token or len(token) > 100:
        raise Http404("No such roadmap.")
    token_hash = ShareLink.hash_token(token)
    link_key = services.share_link_cache_key(token_hash)
    product_id = _product_of_link.get(token_hash)
    stamp_key = services.public_stamp_key(product_id) if product_id else None
    found = cache.get_many([link_key, stamp_key] if stamp_key else [link_key])
    link = found.get(link_key)
    if link is None:
        link = selectors.share_link_for_token(token)  # reads and caches the link
        if link is None:
            raise Http404("No such roadmap.")
    if not link.is_active(timezone.now()):
        raise Http404("No such roadmap.")
    _product_of_link[token_hash] = link.product_id
    rendered = _rendered.get(link.product_id)
    stamp = found.get(stamp_key) if stamp_key else None
    if rendered is None or stamp is None or rendered.stamp != stamp:
        fresh = _data_with_stamp(link.product_id)
        if fresh is None:
            raise Http404("No such roadmap.")
        if rendered is None or rendered.stamp != fresh[0]:
            rendered = _render(*fresh)
            _remember(link.product_id, rendered)
    _touch(link.id, token_hash)
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
