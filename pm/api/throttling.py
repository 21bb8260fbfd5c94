"""Rate limits: one bucket per token, one per signed-in user of the browser session, one per
IP address for anonymous callers. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
under the scopes "token", "user" and "anon"; a 429 carries `Retry-After`.

Counters are fixed windows in the default cache (Redis in production, shared by every worker):
one atomic INCR per request, where DRF's sliding log would read and rewrite a list of up to
`rate` timestamps on every call."""

import logging
import math
import time

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from pm.clientip import client_ip
from pm.lockout import CACHE_ERRORS, window_count
from pm.models import ApiToken

log = logging.getLogger("lodestar.security")


class ApiRateThrottle(SimpleRateThrottle):
    """Borrows DRF's rate format ("100/min", parse_rate); counts its own way (see above)."""

    _wait = 0.0  # seconds until the window resets, for Retry-After

    def __init__(self) -> None:
        # DRF's reads one scope's rate here; the scope is known only per request.
        pass

    def allow_request(self, request, view) -> bool:
        ident: object
        if isinstance(request.auth, ApiToken):
            scope, ident = "token", request.auth.pk
        elif request.user and request.user.is_authenticated:
            scope, ident = "user", request.user.pk
        else:
            scope, ident = "anon", self.get_ident(request)
        # Read at request time (not import time) so the settings can change, e.g. in tests.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if not isinstance(rate, str):  # None: unlimited ("100/min" otherwise; DRF's stubs say int)
            return True
        limit, duration = self.parse_rate(rate)
        if limit is None or duration is None:
            return True
        now = time.time()
        window = int(now // duration)
        key = f"api-throttle:{scope}:{ident}:{window}"
        self._wait = (window + 1) * duration - now
        try:
            count = window_count(key, duration + 1)
        except CACHE_ERRORS:
            # Redis is down: serve the request unthrottled rather than fail every API call.
            log.warning("API rate limit skipped: the cache is unreachable (failing open).")
            return True
        return count <= limit

    def get_ident(self, request) -> str:
        # DRF's own believes any X-Forwarded-For; ours only the configured proxies'.
        return client_ip(request)

    def wait(self) -> float:
        # Whole seconds, rounded up: Retry-After is an integer and must not be too early.
        return float(max(1, math.ceil(self._wait)))
