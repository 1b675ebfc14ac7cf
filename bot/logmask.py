"""Keep the bot token out of every log line, whichever library writes it.

The token is part of every Bot API address (``https://api.telegram.org/bot<token>/getMe``),
which httpx logs at INFO, and of python-telegram-bot's ``InvalidToken`` message ("The token
`123456:…` was rejected by the server."), which can reach a log as an exception, a traceback or
an argument. :class:`TokenFilter` rewrites each record before any handler formats it: the
message with its arguments, the exception's traceback and the stack, with the known secrets
and anything shaped like a bot token replaced by ``***``.

:func:`install_token_filter` puts one filter on every handler of the root logger (and on
:data:`logging.lastResort`), so it sees the records of every logger that propagates there,
from any library; it is called at start-up, right after logging is configured and before the
bot makes its first request. :func:`log_uncaught_exceptions` sends the tracebacks Python would
print itself through the same handlers.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from types import TracebackType
from urllib.parse import quote

__all__ = ["MASK", "TOKEN_SHAPE", "TokenFilter", "install_token_filter",
           "log_uncaught_exceptions"]

logger = logging.getLogger(__name__)

MASK = "***"
TOKEN_SHAPE = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{20,}")
"""What BotFather hands out ("123456789:AAH…", 35 characters after the colon), so that a token
the filter was not told about (a second bot, an old one in a stack) is masked too."""
_FORMATTER = logging.Formatter()


class TokenFilter(logging.Filter):
    """Mask secrets in a record's message, arguments, traceback and stack; never drops one."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Mask these too (and their URL-encoded form: ":" becomes "%3A" in a query)."""
        found = set(self._secrets)
        for secret in secrets:
            if secret:
                found.update({secret, quote(secret, safe="")})
        self._secrets = tuple(sorted(found, key=len, reverse=True))

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return TOKEN_SHAPE.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad %-arguments: the handler reports those; mask what is there
            message = f"{record.msg} {record.args}"
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatted here, once, so the handler prints the masked text (Formatter.format
            # reuses exc_text when it is set).
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def install_token_filter(secrets: Iterable[str | None] = ()) -> TokenFilter:
    """Put a :class:`TokenFilter` on every root handler and on ``logging.lastResort``.

    A handler that already has one gets the new secrets added to it; returns the filter.
    """
    handlers = [*logging.getLogger().handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    token_filter = next((f for h in handlers for f in h.filters if isinstance(f, TokenFilter)),
                        None)
    if token_filter is None:
        token_filter = TokenFilter()
    token_filter.add(*secrets)
    for handler in handlers:
        if token_filter not in handler.filters:
            handler.addFilter(token_filter)
    return token_filter


def _log_uncaught(kind: type[BaseException], value: BaseException,
                  traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logger.critical("uncaught error", exc_info=(kind, value, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    logger.critical("uncaught error in thread %s", getattr(args.thread, "name", "?"),
                    exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def log_uncaught_exceptions() -> None:
    """Route the tracebacks Python prints for uncaught exceptions (main thread and others)
    through logging, where :class:`TokenFilter` masks them."""
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
