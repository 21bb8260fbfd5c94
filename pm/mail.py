"""E-mail plumbing: the backend for a production server with no mail server configured, trial
mode's readable console backend, and the plain-words reason an admin sees when an e-mail could
not be sent."""

import smtplib
import socket

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

UNCONFIGURED = "pm.mail.UnconfiguredBackend"


class EmailNotConfigured(OSError):
    """Raised instead of sending when the server has no mail server configured (an OSError, so
    callers that handle an unreachable mail server handle this too)."""


class UnconfiguredBackend(BaseEmailBackend):
    """Production without EMAIL_HOST: refuse to send (the caller records the failure and
    admins see a banner) rather than print invitation links — bearer tokens — to stdout."""

    def send_messages(self, email_messages):
        raise EmailNotConfigured(
            "E-mail is not set up on this server (EMAIL_HOST is unset); nothing was sent."
        )


class ConsoleBackend(DjangoConsoleBackend):
    """Trial mode's console mailer: each message as a person reads it. Django's prints the raw
    MIME message, where quoted-printable breaks a long link (`=` at line ends, `=3D` for `=`),
    so an invitation link could not be copied from the terminal. This prints the headers and the
    decoded text part (other parts only named), every link whole on its line."""

    HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date")

    def write_message(self, message) -> None:
        msg = message.message()
        lines = [f"{name}: {msg[name]}" for name in self.HEADERS if msg[name]]
        body = msg.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        others = [
            part.get_content_type()
            for part in msg.walk()
            if not part.is_multipart() and part is not body
        ]
        self.stream.write("\n".join(lines) + "\n\n" + text.rstrip() + "\n")
        if others:
            self.stream.write(f"\n[Also in this message: {', '.join(others)}]\n")
        self.stream.write("-" * 79 + "\n")


def email_configured() -> bool:
    """False when the default mailer is the refusing one (production without EMAIL_HOST)."""
    mailers = getattr(settings, "MAILERS", None) or {}
    return mailers.get("default", {}).get("BACKEND") != UNCONFIGURED


def failure_reason(exc: BaseException) -> str:
    """What went wrong, in words an admin can act on (at most 300 characters)."""
    if isinstance(exc, EmailNotConfigured):
        reason = str(exc)
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        reason = "The mail server refused the address: " + "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        reason = "The mail server refused Lodestar's user name or password (EMAIL_HOST_USER)."
    elif isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        if isinstance(message, bytes):
            message = message.decode(errors="replace")
        reason = f"The mail server answered {exc.smtp_code}: {message}"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        reason = "The mail server closed the connection."
    elif isinstance(exc, socket.timeout | TimeoutError):
        reason = "The mail server did not answer in time."
    elif isinstance(exc, ConnectionRefusedError):
        reason = "The mail server refused the connection (check EMAIL_HOST and EMAIL_PORT)."
    elif isinstance(exc, socket.gaierror):
        reason = "The mail server's name could not be resolved (check EMAIL_HOST)."
    elif isinstance(exc, OSError) and exc.strerror:
        reason = f"Could not reach the mail server: {exc.strerror}."
    else:
        reason = "The e-mail could not be sent; the server log has the details."
    return reason[:300]


def retryable(exc: BaseException) -> bool:
    """Worth trying again later: the server was unreachable or answered a temporary 4xx."""
    if isinstance(
        exc, EmailNotConfigured | smtplib.SMTPRecipientsRefused | smtplib.SMTPAuthenticationError
    ):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, OSError)


@register(Tags.mail, deploy=True)
def check_email_configured(app_configs, **kwargs):
    """`manage.py check --deploy` fails on a production install that cannot send e-mail."""
    if email_configured():
        return []
    return [
        Error(
            "E-mail is not configured: invitations, password resets and digests cannot be sent.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD).",
            id="lodestar.E001",
        )
    ]
