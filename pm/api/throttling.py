"""Rate limits: one bucket per token, one per signed-in user of the browser session, one per
IP address for anonymous callers. Counters live in the default cache (Redis in production),
so every worker process shares them. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
under the scopes "token", "user" and "anon"; a 429 carries `Retry-After`."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from pm.models import ApiToken


class ApiRateThrottle(SimpleRateThrottle):
    cache_format = "api-throttle:%(scope)s:%(ident)s"

    def __init__(self):  # the scope depends on the request, so the rate is read per request
        pass

    def get_rate(self) -> str | None:
        # Read at request time (not import time) so the settings can change, e.g. in tests.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            self.scope, ident = "token", request.auth.pk
        elif request.user and request.user.is_authenticated:
            self.scope, ident = "user", request.user.pk
        else:
            self.scope, ident = "anon", self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        self.key = self.get_cache_key(request, view)
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()
