"""Logging of a bot process: one configuration, the token filter, PTB's start-up tracebacks."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from bot.logmask import install_token_filter, log_uncaught_exceptions


class FatalStartupTraceback(logging.Filter):
    """Drop the traceback python-telegram-bot logs for the error that ends its start-up (a
    refused token, an unreachable API) just before raising it: :func:`run_telegram` turns that
    error into a Vietnamese message, and the log keeps PTB's one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from telegram.error import BadRequest, InvalidToken, NetworkError

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, InvalidToken | NetworkError) and not isinstance(error, BadRequest):
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(level: int = logging.INFO, stream: TextIO = sys.stderr,
                      secrets: tuple[str | None, ...] = ()) -> None:
    """One basicConfig, then the token filter on its handlers before any library logs (see
    :mod:`bot.logmask`), uncaught tracebacks through logging, and no traceback for the error
    that ends PTB's start-up (:class:`FatalStartupTraceback`)."""
    logging.basicConfig(level=level, stream=stream,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_token_filter(secrets)
    log_uncaught_exceptions()
    # PTB's retry loop (logger "telegram.ext") logs the error that aborts it, then raises it.
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, FatalStartupTraceback) for f in ptb.filters):
        ptb.addFilter(FatalStartupTraceback())
    # httpx logs every request URL at INFO, and Bot API URLs contain the token (masked by the
    # filter all the same; one line per request is noise).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # With max_retries=0 the limiter logs a traceback for each 429 it hands to the
    # dispatcher, which waits and retries (and logs what it gives up on).
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
