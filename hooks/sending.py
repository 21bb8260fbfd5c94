"""Sending one delivery: the address check (no private networks unless allowed), the body for
its endpoint's kind, the signature, and the HTTP request (no redirects followed).

Claims work like the digests' (pm.digests): a delivery is *claimed* with a conditional UPDATE
(pending and due, or in flight by a worker whose lease ran out → `sending`, attempts + 1) just
before its request, and marked right after the answer. A worker killed in between leaves the row
in `sending`; once its lease runs out it is sent again with the same `X-Lodestar-Delivery` id, so
a receiver that deduplicates by that id handles it once.

Order per object: the claim also requires that no earlier delivery of the same object to the same
endpoint is unfinished. When a delivery finishes (delivered or given up) the next one of its
object is handed to the queue."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import os
import socket
import ssl
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from hooks.models import Attempt, Delivery, Endpoint

log = logging.getLogger(__name__)

RESPONSE_EXCERPT = 1000
USER_AGENT = "Lodestar-Webhooks/1"


# --- addresses ----------------------------------------------------------------------------


class RefusedAddress(ValueError):
    pass


def _allowed_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.is_global:
        return True
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return True
    return bool(settings.WEBHOOK_ALLOW_LOOPBACK and ip.is_loopback)


def resolve(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, ip) of `url`, or RefusedAddress: only http(s), and only public
    addresses unless a setting allows private or loopback ones (WEBHOOK_ALLOW_*)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedAddress("Not a valid URL.") from exc
    if parts.scheme not in ("http", "https"):
        raise RefusedAddress("Only http:// and https:// addresses can receive webhooks.")
    host = parts.hostname
    if not host:
        raise RefusedAddress("The address has no host.")
    if parts.username or parts.password:
        raise RefusedAddress("Put no user name or password in the address.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"The host {host} cannot be resolved.") from exc
    ips = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    refused = [ip for ip in ips if not _allowed_ip(ip)]
    if refused or not ips:
        shown = refused[0] if refused else "?"
        raise RefusedAddress(
            f"{host} resolves to a private, loopback or reserved address ({shown}); "
            "webhooks only go to public addresses."
        )
    return parts.scheme, host, port, str(ips[0])


class Unresolvable(RefusedAddress):
    pass


def validate_url(url: str) -> None:
    """For forms and services: a ValidationError with the reason. A name that does not resolve
    (yet) is accepted here — every delivery checks the address again before it connects."""
    try:
        resolve(url)
    except Unresolvable as exc:
        host = (urlsplit(url).hostname or "").lower()
        allowed = settings.WEBHOOK_ALLOW_LOOPBACK or settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
        if (host == "localhost" or host.endswith(".localhost")) and not allowed:
            raise ValidationError("webhooks only go to public addresses, not localhost.") from exc
    except RefusedAddress as exc:
        raise ValidationError(str(exc)) from exc


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to whatever the name resolves to a
    moment later (DNS rebinding)."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


# --- bodies and signatures ----------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of `timestamp.body` with the endpoint's secret, hex."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signatures(endpoint: Endpoint, timestamp: str, body: bytes, now: datetime) -> str:
    """`sha256=<hex>`; for a day after a rotation also the old secret's, comma-separated."""
    values = [f"sha256={signature(endpoint.secret, timestamp, body)}"]
    if (
        endpoint.previous_secret
        and endpoint.rotated_at
        and now - endpoint.rotated_at < timedelta(hours=24)
    ):
        values.append(f"sha256={signature(endpoint.previous_secret, timestamp, body)}")
    return ",".join(values)


def body_for(delivery: Delivery) -> bytes:
    from hooks import chat

    endpoint = delivery.endpoint
    if endpoint.kind == Endpoint.Kind.SLACK:
        document = chat.slack(delivery.payload)
    elif endpoint.kind == Endpoint.Kind.TEAMS:
        document = chat.teams(delivery.payload)
    else:
        document = {"id": str(delivery.uuid), **delivery.payload}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def headers_for(delivery: Delivery, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Lodestar-Event": delivery.event,
        "X-Lodestar-Delivery": str(delivery.uuid),
        "X-Lodestar-Timestamp": timestamp,
        "X-Lodestar-Signature": signatures(delivery.endpoint, timestamp, body, now),
    }


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """(status, response excerpt); OSError/RefusedAddress when no answer came."""
    scheme, host, port, ip = resolve(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = cls(host, port, ip, timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(16 * 1024).decode("utf-8", errors="replace")
        return response.status, text[:RESPONSE_EXCERPT]
    except http.client.HTTPException as exc:
        raise OSError(f"Bad HTTP answer: {exc!r}") from exc
    finally:
        connection.close()


# --- claims -------------------------------------------------------------------------------


def run_owner(task_id: str | None = None) -> str:
    return f"{task_id or 'direct'}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[
        :200
    ]


def lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)


def _earlier_unfinished() -> Exists:
    return Exists(
        Delivery.objects.filter(
            endpoint_id=OuterRef("endpoint_id"),
            object_key=OuterRef("object_key"),
            pk__lt=OuterRef("pk"),
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING],
        )
    )


def claimable(now: datetime) -> Q:
    """Due, or in flight by a run whose lease ran out (combine with `not_blocked()`)."""
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Delivery.Status.SENDING, lease_until__lt=now
    )


def not_blocked():
    """No earlier delivery of the same object to the same endpoint is unfinished."""
    return ~_earlier_unfinished()


def claim(delivery_id: int, owner: str, now: datetime) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery_id)
        .filter(claimable(now))
        .filter(not_blocked())
        .update(
            status=Delivery.Status.SENDING,
            claimed_by=owner,
            lease_until=now + lease(),
            attempts=F("attempts") + 1,
        )
    )


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: doubling from the base, at most the cap."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    return float(min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS))


def next_of_object(delivery: Delivery) -> list[int]:
    """The delivery that waited for `delivery` (the next unfinished one of its object)."""
    nxt = (
        Delivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            object_key=delivery.object_key,
            pk__gt=delivery.pk,
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING],
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return [nxt] if nxt else []


def attempt(delivery_id: int, *, owner: str) -> dict:
    """Claim, send and mark one delivery. Returns {"outcome": …, "retry_in": seconds or None,
    "next": [delivery ids now free to go]}.

    Outcomes: delivered, retry (failed, another attempt is due in `retry_in`), failed (given up),
    busy (someone else holds it: try again in `retry_in`), waiting (an earlier delivery of the
    object is unfinished, or it is not due yet), done (nothing left to do)."""
    now = timezone.now()
    if not claim(delivery_id, owner, now):
        row = (
            Delivery.objects.filter(pk=delivery_id)
            .values("status", "lease_until", "next_attempt_at")
            .first()
        )
        if row is None or row["status"] in (Delivery.Status.SUCCEEDED, Delivery.Status.FAILED):
            return {"outcome": "done", "retry_in": None, "next": []}
        if row["status"] == Delivery.Status.SENDING and row["lease_until"]:
            wait = (row["lease_until"] - now).total_seconds() + 1
            return {"outcome": "busy", "retry_in": max(wait, 1), "next": []}
        if row["next_attempt_at"] > now:
            wait = (row["next_attempt_at"] - now).total_seconds()
            return {"outcome": "waiting", "retry_in": max(wait, 0.5), "next": []}
        return {"outcome": "waiting", "retry_in": None, "next": []}

    delivery = Delivery.objects.select_related("endpoint__workspace").get(pk=delivery_id)
    endpoint = delivery.endpoint
    mine = Delivery.objects.filter(pk=delivery.pk, claimed_by=owner, status=Delivery.Status.SENDING)
    if not endpoint.active:
        mine.update(
            status=Delivery.Status.FAILED,
            claimed_by="",
            lease_until=None,
            last_error="The endpoint is disabled.",
        )
        return {"outcome": "failed", "retry_in": None, "next": next_of_object(delivery)}

    body = body_for(delivery)
    started = timezone.now()
    clock = time.monotonic()
    status_code, excerpt, error = None, "", ""
    try:
        status_code, excerpt = post(endpoint.url, body, headers_for(delivery, body, started))
    except (OSError, RefusedAddress) as exc:
        error = str(exc)[:500] or exc.__class__.__name__
    duration = int((time.monotonic() - clock) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    finished = timezone.now()
    Attempt.objects.create(
        workspace_id=endpoint.workspace_id,
        delivery=delivery,
        started_at=started,
        duration_ms=duration,
        status_code=status_code,
        response_excerpt=excerpt,
        error=error,
    )
    common = {
        "claimed_by": "",
        "lease_until": None,
        "last_status_code": status_code,
        "last_response": excerpt,
        "last_error": error,
    }
    if ok:
        mine.update(status=Delivery.Status.SUCCEEDED, delivered_at=finished, **common)
        if endpoint.failing_since:
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return {"outcome": "delivered", "retry_in": None, "next": next_of_object(delivery)}

    Endpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=started)
    disable_if_failing_too_long(endpoint.pk, finished)
    wait = backoff(delivery.attempts)
    if finished + timedelta(seconds=wait) > delivery.give_up_at:
        mine.update(status=Delivery.Status.FAILED, **common)
        return {"outcome": "failed", "retry_in": None, "next": next_of_object(delivery)}
    mine.update(
        status=Delivery.Status.PENDING,
        next_attempt_at=finished + timedelta(seconds=wait),
        **common,
    )
    return {"outcome": "retry", "retry_in": wait, "next": []}


def disable_if_failing_too_long(endpoint_id: int, now: datetime) -> bool:
    """An endpoint failing without a single success for WEBHOOK_DISABLE_AFTER_DAYS is turned off,
    and the workspace's admins are told by e-mail."""
    from hooks.services import endpoint_disable_failing

    cutoff = now - timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
    endpoint = Endpoint.objects.filter(
        pk=endpoint_id, active=True, failing_since__lte=cutoff
    ).first()
    if endpoint is None:
        return False
    return endpoint_disable_failing(endpoint=endpoint, now=now)


def orphans(now: datetime, limit: int = 500) -> list[int]:
    """Deliveries due for a while that no task is working on (its queue message was lost, or
    its worker died mid-request): the beat hands them out again."""
    grace = timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    return list(
        Delivery.objects.filter(claimable(now - grace))
        .filter(not_blocked())
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
