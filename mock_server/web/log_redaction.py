"""Keys out of the fake's logs: every record of its loggers is redacted, traceback included, before a
handler writes it (the configured keys verbatim and in pieces, anything in a key position)."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterable

from schemas.wire.redaction import redact_text, worth_redacting

__all__ = ["LOGGERS", "install_log_redaction"]

LOGGERS = ("gemini_mock", "uvicorn.error")
_secrets: set[str] = set()
_lock = threading.Lock()


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info = None
            record.exc_text = None
        with _lock:
            secrets = tuple(_secrets)
        record.msg = redact_text(message, secrets)
        record.args = ()
        return True


_FILTER = _RedactingFilter()


def install_log_redaction(secrets: Iterable[str]) -> None:
    """Redact ``secrets`` (and key-shaped values) from every record of the fake's loggers, process-wide."""
    with _lock:
        _secrets.update(worth_redacting(secrets))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
