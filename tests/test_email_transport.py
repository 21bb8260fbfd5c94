"""SMTP transports as configured from the environment, against a real (tiny) SMTP server on
this machine: a relay without STARTTLS with EMAIL_USE_TLS=0, and implicit TLS (the port-465 kind)
with EMAIL_USE_SSL=1 and a certificate the client verifies."""

import os
import socketserver
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP: no STARTTLS, no AUTH offered; messages go to server.received."""

    def handle(self):
        def send(line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")
            self.wfile.flush()

        send("220 localhost test SMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                send("250-localhost")
                send("250 8BITMIME")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                send("250 OK")
            elif verb == "DATA":
                send("354 go ahead")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    data += chunk
                self.server.received.append(data)
                send("250 queued")
            elif verb == "QUIT":
                send("221 bye")
                return
            else:
                send("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context: ssl.SSLContext | None):
        self.received: list[bytes] = []
        self.context = context
        super().__init__(("127.0.0.1", 0), _SMTPHandler)

    def get_request(self):
        sock, address = super().get_request()
        if self.context is not None:
            sock = self.context.wrap_socket(sock, server_side=True)
        return sock, address


@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def _serve(context=None) -> _Server:
    server = _Server(context)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _send(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup()\n"
        "from django.core.mail import send_mail\n"
        "send_mail('Transport check', 'It arrived.', None, ['someone@example.org'])\n"
    )
    drop = {"EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_FILE_PATH", "DJANGO_SETTINGS_MODULE"}
    base = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "pm.settings",
            "EMAIL_HOST": "localhost",
            "EMAIL_TIMEOUT": "10",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_relay_without_starttls_works_with_email_use_tls_off():
    server = _serve()
    try:
        port = str(server.server_address[1])
        refused = _send({"EMAIL_PORT": port})  # the default STARTTLS, which this relay lacks
        assert refused.returncode != 0
        assert "STARTTLS" in refused.stderr
        sent = _send({"EMAIL_PORT": port, "EMAIL_USE_TLS": "0"})
        assert sent.returncode == 0, sent.stderr
        assert len(server.received) == 1
        assert b"Subject: Transport check" in server.received[0]
    finally:
        server.shutdown()
        server.server_close()


def test_implicit_tls_with_email_use_ssl_and_a_verified_certificate(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _serve(context)
    try:
        port = str(server.server_address[1])
        # The client verifies the server's certificate: trusted through SSL_CERT_FILE here.
        sent = _send({"EMAIL_PORT": port, "EMAIL_USE_SSL": "1", "SSL_CERT_FILE": str(cert)})
        assert sent.returncode == 0, sent.stderr
        assert len(server.received) == 1
        assert b"It arrived." in server.received[0]
        # An unverifiable certificate is refused, not silently accepted.
        untrusted = _send({"EMAIL_PORT": port, "EMAIL_USE_SSL": "1"})
        assert untrusted.returncode != 0
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        assert len(server.received) == 1
    finally:
        server.shutdown()
        server.server_close()
