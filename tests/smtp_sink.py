"""A slow SMTP server for tests about killed workers: a real SMTP conversation on a local port that
takes `delay` seconds before accepting each message, so a test can kill a worker while messages
are going out.

A message counts as delivered when the sink *answers* 250 to its data, exactly like a real
server: the one a worker was killed waiting for is not counted (it never got its answer).

    with SlowSMTPSink(delay=0.1) as sink:
        env = sink.worker_env()      # EMAIL_HOST/PORT for the worker's SMTP mailer
        ...
        sink.wait_for(10)            # at least ten messages accepted
        sink.recipients()            # one entry per accepted message
"""

from __future__ import annotations

import email
import socketserver
import threading
import time
from email import policy


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        sink: SlowSMTPSink = self.server.sink  # type: ignore[attr-defined]
        self.reply("220 sink.test ESMTP")
        recipients: list[str] = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink.test")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if not data or data in (b".\r\n", b".\n"):
                        break
                    chunks.append(data[1:] if data.startswith(b"..") else data)
                if not data:
                    return  # the client went away mid-message: nothing delivered
                time.sleep(sink.delay)  # the slow part: the server "writes it to disk"
                message = email.message_from_bytes(b"".join(chunks), policy=policy.default)
                # Record before answering: from here on, the message is the server's.
                with sink.lock:
                    sink.messages.append((recipients, message))
                try:
                    self.reply("250 OK queued")
                except OSError:
                    return
            elif verb == "RSET":
                recipients = []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SlowSMTPSink:
    def __init__(self, delay: float = 0.1) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]

    def __enter__(self) -> SlowSMTPSink:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def worker_env(self) -> dict[str, str | None]:
        return {
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_USE_SSL": "0",
            "EMAIL_HOST_USER": None,
            "EMAIL_HOST_PASSWORD": None,
            "EMAIL_FILE_PATH": None,
        }

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def recipients(self) -> list[str]:
        with self.lock:
            return [address for to, _m in self.messages for address in to]

    def wait_for(self, count: int, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.count()} messages accepted, waited for {count}")
            time.sleep(0.02)
        return self.count()
