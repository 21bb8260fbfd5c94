"""Logging filters."""

import logging


class ClientErrorsOneLine(logging.Filter):
    """`django.request` logs a refused request (403 and other 4xx) with the exception's whole
    traceback; under normal use that is hundreds of lines of noise. Keep one warning line with
    the reason, and every traceback of a 5xx."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500 and record.exc_info:
            exc = record.exc_info[1]
            message = record.getMessage()
            if exc is not None and str(exc):
                message = f"{message} ({exc})"
            record.msg, record.args = message, ()
            record.exc_info, record.exc_text = None, None
        return True
