"""The users bench/load.py lets loose on gunicorn (locust, headless). Everything they request
comes from LOAD_PLAN, a JSON document load.py writes after seeding: the password, the engineer's
API token and, per role, the pages (name, path, weight).

Users start signed in (a session made before the run, as on any working day) and about every
three minutes sign in again through the form (password hashing included), so sign-in is sampled
all along; with --sign-in-storm every user signs in when it starts instead. `LOAD_HEALTHZ=1`
makes every user request /healthz only, as fast as it can (the ceiling)."""

from __future__ import annotations

import json
import os
import random
import time

from locust import HttpUser, between, constant, events, task

PLAN = json.loads(os.environ.get("LOAD_PLAN", "{}"))
HEALTHZ_ONLY = os.environ.get("LOAD_HEALTHZ") == "1"
HEADERS = {"Host": "127.0.0.1"}
# Every request's (seconds since start, name, milliseconds, failed), written to LOAD_TIMES when
# locust stops: load.py computes the percentiles itself (per endpoint, and pages without sign-in).
_TIMES: list[tuple[float, str, float, bool]] = []
_START = time.monotonic()


@events.request.add_listener
def _record(name: str, response_time: float, exception: object = None, **_kw: object) -> None:
    _TIMES.append((time.monotonic() - _START, name, response_time, exception is not None))


@events.quitting.add_listener
def _dump(**_kw: object) -> None:
    if os.environ.get("LOAD_TIMES"):
        with open(os.environ["LOAD_TIMES"], "w") as f:
            json.dump(_TIMES, f)


class _Person(HttpUser):
    abstract = True
    # A busy user clicks about once a second; the /healthz ceiling asks as fast as it can.
    wait_time = constant(0) if HEALTHZ_ONLY else between(0.5, 1.5)
    role = ""

    def on_start(self) -> None:
        if HEALTHZ_ONLY:
            return
        sessions = PLAN.get("sessions", {}).get(self.role)
        if sessions:  # signed in earlier (a session cookie, as on any working day)
            self.client.cookies.set("sessionid", sessions.pop())
        else:  # --sign-in-storm: everybody signs in now
            self.sign_in()

    def sign_in(self) -> None:
        self.client.cookies.clear()
        self.client.get("/accounts/login/", name="sign-in form", headers=HEADERS)
        self.client.post(
            "/accounts/login/",
            {
                "username": self.role,
                "password": PLAN["password"],
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            headers={**HEADERS, "Referer": f"{self.host}/accounts/login/"},
            name="sign-in (POST, password hash)",
            allow_redirects=False,
        )

    @task(1)
    def sign_in_again(self) -> None:  # about once every 3 minutes per user (another device)
        if not HEALTHZ_ONLY:
            self.sign_in()

    @task(180)
    def browse(self) -> None:
        if HEALTHZ_ONLY:
            self.client.get("/healthz", name="/healthz", headers=HEADERS)
            return
        pages = PLAN["pages"][self.role]
        name, path, api = random.choices(pages, weights=[p[3] for p in pages])[0][:3]
        headers = dict(HEADERS)
        if api:
            headers["Authorization"] = f"Token {PLAN['token']}"
        self.client.get(path, name=name, headers=headers)


class ProductManager(_Person):
    weight = 2
    role = "pm"


class Engineer(_Person):
    weight = 2
    role = "engineer"


class Stakeholder(_Person):
    weight = 1
    role = "stakeholder"
