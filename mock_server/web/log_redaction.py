"""Keys out of the fake's logs: every record of its loggers (``gemini_mock`` and its children, uvicorn's)
is redacted when it is created, traceback included, before any handler can write it: the configured
keys verbatim and in pieces, and anything in a key position."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from schemas.wire.redaction import redact_text, worth_redacting

__all__ = ["LOGGER_PREFIXES", "install_log_redaction"]

LOGGER_PREFIXES = ("gemini_mock", "uvicorn")
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def _redacting(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if not record.name.startswith(LOGGER_PREFIXES):
            return record
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info = None
            record.exc_text = None
        with _lock:
            secrets = tuple(_secrets)
        record.msg = redact_text(message, secrets)
        record.args = ()
        return record

    return make


def install_log_redaction(secrets: Iterable[str]) -> None:
    """Redact ``secrets`` (and key-shaped values) from every record of the fake's loggers, process-wide."""
    global _installed
    with _lock:
        _secrets.update(worth_redacting(secrets))
        if _installed:
            return
        _installed = True
    logging.setLogRecordFactory(_redacting(logging.getLogRecordFactory()))
