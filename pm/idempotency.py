"""`Idempotency-Key` on every API POST, so a client may retry a request whose answer it never
received without doing the work twice.

The first request with a key runs inside a transaction that first inserts the key's row
(pm.models.IdempotentRequest); a 2xx response is stored in that row when the view returns, and
both commit together. A duplicate sent meanwhile blocks on the row's unique index until the
first commits, then gets the stored response; one sent later gets it at once (with the header
`Idempotent-Replayed: true`). A response other than 2xx is not kept: the request changed
nothing, and the client may retry with the same key. The same key with a different request
(another path or body) is refused with 422. Keys belong to their user and expire after
IDEMPOTENCY_TTL (purged by pm.tasks.purge_idempotency_keys)."""

import hashlib
import io
import re
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from pm.models import IdempotentRequest

HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
KEPT_HEADERS = ("Location", "ETag", "Vary")
REPLAYED = "Idempotent-Replayed"


def _caller(request: HttpRequest) -> User | None:
    """The user the API will see: the token's owner, or the signed-in user of the session."""
    from pm.api.tokens import api_token_for_key

    parts = request.headers.get("Authorization", "").split()
    if len(parts) == 2 and parts[0].lower() == "token":
        token = api_token_for_key(parts[1])
        return token.user if token else None
    if parts:
        return None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(
        f"{request.method} {request.path}?{request.META.get('QUERY_STRING', '')}\n".encode()
    )
    digest.update(_body(request))
    return digest.hexdigest()


def _body(request: HttpRequest) -> bytes:
    """The raw body, left readable for the parser. DRF reads the stream itself, not
    `request.body` (which refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE), so a batch the API
    accepts without a key must not be refused with one: read it the way `body` does."""
    if not hasattr(request, "_body"):
        request._body = request.read()
        request._stream = io.BytesIO(request._body)
    return request._body


def _claim(user: User, key: str, fingerprint: str, path: str) -> tuple[IdempotentRequest, bool]:
    """The key's row, and whether this request created it (and so must execute)."""
    IdempotentRequest.objects.filter(
        user=user, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_TTL
    ).delete()
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(
                user=user, key=key, fingerprint=fingerprint, path=path[:2000]
            )
        return record, True
    except IntegrityError:
        # The row exists, or a concurrent first request committed it while we waited.
        return IdempotentRequest.objects.get(user=user, key=key), False


def _replay(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        record.body, status=record.status_code, content_type=record.content_type or None
    )
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED] = "true"
    return response


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({HEADER: [message]}, status=status)


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path_info.startswith("/api/"):
            return self.get_response(request)
        if not VALID_KEY.fullmatch(key):
            return _error(400, "Use 1 to 255 printable ASCII characters, e.g. a UUID.")
        if request.content_type == "multipart/form-data":  # the API takes JSON only: 415
            return self.get_response(request)
        user = _caller(request)
        if user is None:  # the API answers 401
            return self.get_response(request)
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            record, first = _claim(user, key, fingerprint, request.path)
            if not first:
                if record.fingerprint != fingerprint:
                    return _error(
                        422,
                        f"This key was already used for a different request (POST "
                        f"{record.path}, another body) on "
                        f"{record.created_at:%Y-%m-%d %H:%M} UTC. Send a new key for a new "
                        "request.",
                    )
                if record.status_code is None:  # only if the first one failed mid-way
                    return _error(409, "A request with this key is still running; retry later.")
                return _replay(record)
            response = self.get_response(request)
            if 200 <= response.status_code < 300 and not response.streaming:
                record.status_code = response.status_code
                record.content_type = response.get("Content-Type", "")
                record.headers = {h: response[h] for h in KEPT_HEADERS if h in response}
                record.body = response.content.decode(response.charset or "utf-8", "replace")
                record.save(update_fields=["status_code", "content_type", "headers", "body"])
            elif response.status_code >= 500:
                transaction.set_rollback(True)  # nothing of a failed request is kept
            else:
                record.delete()  # refused: nothing was done; the key may be used again
        return response


def purge_expired(now=None) -> int:
    """Forget keys older than IDEMPOTENCY_TTL."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
