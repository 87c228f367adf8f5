"""Logging for the SDK: the ``getsales_async`` logger and redaction of secrets.

The SDK never logs headers or bodies. As a second line of defence, :func:`register_secret` adds an
API key to a filter that masks it in every record of the ``getsales_async``, ``httpx`` and
``httpcore`` loggers, whatever formats the message.
"""

from __future__ import annotations

import logging
import threading

__all__ = ["REDACTED", "logger", "register_secret"]

REDACTED = "[REDACTED]"
logger = logging.getLogger("getsales_async")
# Logger filters apply only to records created on that exact logger, so the children are listed.
_WATCHED = (
    "getsales_async",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


class _SecretsFilter(logging.Filter):
    """Replaces registered secrets in log records with ``[REDACTED]``."""

    def __init__(self) -> None:
        super().__init__("getsales_async.redact")
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        with self._lock:
            self._secrets.add(secret)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        scrubbed = self._scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_FILTER = _SecretsFilter()
for _name in _WATCHED:
    logging.getLogger(_name).addFilter(_FILTER)


def register_secret(secret: str) -> None:
    """Mask ``secret`` (at least 8 characters) in all SDK and httpx log records from now on."""
    if len(secret) >= 8:
        _FILTER.add(secret)
