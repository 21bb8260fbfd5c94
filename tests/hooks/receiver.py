"""A real HTTP receiver on loopback for webhook tests: a threaded http.server that records every
request, verifies signatures, deduplicates by `X-Lodestar-Delivery` and answers what the test
scripted.

    with Receiver(secret=endpoint.secret) as receiver:
        endpoint.url = receiver.url
        receiver.fail_first(2)            # the first two requests of each delivery get a 500
        ...
        receiver.wait_for(3)              # three distinct deliveries accepted
        receiver.accepted()               # [(delivery id, parsed body), …] in arrival order
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    delivery: str
    event: str
    timestamp: str
    signature: str
    body: bytes
    at: float
    status: int
    signature_ok: bool
    duplicate: bool = False
    headers: dict = field(default_factory=dict)

    def json(self) -> dict:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        delivery = self.headers.get("X-Lodestar-Delivery", "")
        timestamp = self.headers.get("X-Lodestar-Timestamp", "")
        signature = self.headers.get("X-Lodestar-Signature", "")
        with receiver.lock:
            receiver.started += 1
        if receiver.delay:
            time.sleep(receiver.delay)
        with receiver.lock:
            tries = receiver.tries.get(delivery, 0) + 1
            receiver.tries[delivery] = tries
            status = 500 if tries <= receiver.failures_per_delivery else 200
            if receiver.fail_all:
                status = 500
            duplicate = status == 200 and delivery in receiver.seen
            if status == 200:
                receiver.seen.add(delivery)
            receiver.requests.append(
                Received(
                    delivery=delivery,
                    event=self.headers.get("X-Lodestar-Event", ""),
                    timestamp=timestamp,
                    signature=signature,
                    body=body,
                    at=time.monotonic(),
                    status=status,
                    signature_ok=receiver.verify(timestamp, body, signature),
                    duplicate=duplicate,
                    headers=dict(self.headers),
                )
            )
        answer = b'{"ok": true}' if status == 200 else b"receiver is down (scripted)"
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:
            pass


class Receiver:
    def __init__(self, secret: str = "", delay: float = 0.0) -> None:
        self.secret = secret
        self.delay = delay
        self.failures_per_delivery = 0
        self.fail_all = False
        self.started = 0  # requests whose body was read (answered or not)
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.tries: dict[str, int] = {}
        self.seen: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.receiver = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/in"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_first(self, n: int) -> None:
        self.failures_per_delivery = n

    def verify(self, timestamp: str, body: bytes, header: str) -> bool:
        if not self.secret:
            return False
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return any(
            hmac.compare_digest(f"sha256={expected}", part.strip()) for part in header.split(",")
        )

    def accepted(self) -> list[Received]:
        """First successful receipt of each delivery, in arrival order."""
        with self.lock:
            return [r for r in self.requests if r.status == 200 and not r.duplicate]

    def duplicates(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.duplicate]

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.accepted()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(self.accepted())} deliveries accepted, waited for {count}; "
                    f"{len(self.requests)} requests"
                )
            time.sleep(0.05)
        return self.accepted()
