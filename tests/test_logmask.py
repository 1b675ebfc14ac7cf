"""Tests for bot.logmask: the bot token never reaches a log line, from any library."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from bot.logmask import TokenFilter, install_token_filter, log_uncaught_exceptions
from localchat.fakeapi import FakeBotApi

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """A root handler writing to a string, with the token filter installed as at start-up;
    the filter comes off every handler afterwards."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    install_token_filter((TOKEN,))
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for each in [*root.handlers, logging.lastResort]:
            for token_filter in [f for f in each.filters if isinstance(f, TokenFilter)]:
                each.removeFilter(token_filter)


def test_httpx_request_line_has_the_token_masked(log: io.StringIO) -> None:
    """A real record: httpx logs every request URL at INFO, and Bot API URLs hold the token."""
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    httpx_logger.setLevel(logging.INFO)
    try:
        with FakeBotApi(token=TOKEN) as api, httpx.Client() as client:
            response = client.post(f"{api.base_url}{TOKEN}/getMe")
    finally:
        httpx_logger.setLevel(level)
    assert response.status_code == 200
    text = log.getvalue()
    assert "INFO httpx: HTTP Request: POST http://127.0.0.1:" in text
    assert "/bot***/getMe" in text and TOKEN not in text


def test_exception_message_and_traceback_have_the_token_masked(log: io.StringIO) -> None:
    from telegram.error import InvalidToken

    def initialize() -> None:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")

    try:
        initialize()
    except InvalidToken as exc:
        logging.getLogger("telegram.ext").exception("start-up failed: %s", exc)
    text = log.getvalue()
    assert "ERROR telegram.ext: start-up failed: The token `***` was rejected" in text
    assert "Traceback (most recent call last)" in text
    assert "telegram.error.InvalidToken: The token `***` was rejected by the server." in text
    assert TOKEN not in text and TOKEN.split(":")[1] not in text


def test_arguments_stack_and_encoded_forms_are_masked(log: io.StringIO) -> None:
    logger = logging.getLogger("some.library")
    logger.warning("calling %s with %r", f"https://api.telegram.org/bot{TOKEN}/getUpdates",
                   {"token": TOKEN}, stack_info=True)
    logger.warning("query ?token=%s", TOKEN.replace(":", "%3A"))
    text = log.getvalue()
    assert "calling https://api.telegram.org/bot***/getUpdates with {'token': '***'}" in text
    assert "query ?token=***" in text and "Stack (most recent call last)" in text
    assert TOKEN not in text and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in text


@pytest.mark.parametrize(("message", "expected"), [
    ("old bot 987654321:AAF_another-token-of-35-characters__", "old bot ***"),
    ("hạn 15/12/2023 lúc 16:30, mã 12345:abc", "hạn 15/12/2023 lúc 16:30, mã 12345:abc"),
    ("update 123456789 of chat -100123456", "update 123456789 of chat -100123456"),
])
def test_anything_shaped_like_a_token_is_masked_and_nothing_else(
        log: io.StringIO, message: str, expected: str) -> None:
    logging.getLogger("x").info(message)
    assert log.getvalue() == f"INFO x: {expected}\n"


def test_uncaught_exceptions_are_logged_through_the_filter(
        log: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    log_uncaught_exceptions()
    try:
        raise RuntimeError(f"GET /bot{TOKEN}/getMe failed")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())

    def fail() -> None:
        raise ValueError(f"token {TOKEN}")

    thread = threading.Thread(target=fail, name="poller")
    thread.start()
    thread.join()
    text = log.getvalue()
    assert "CRITICAL bot.logmask: uncaught error\n" in text
    assert "RuntimeError: GET /bot***/getMe failed" in text
    assert "uncaught error in thread poller" in text and "ValueError: token ***" in text
    assert TOKEN not in text


def test_installing_twice_keeps_one_filter_per_handler(log: io.StringIO) -> None:
    install_token_filter(("222222222:AAAnother-secret-token-for-a-test",))
    handler = logging.getLogger().handlers[-1]
    assert sum(isinstance(f, TokenFilter) for f in handler.filters) == 1
    logging.getLogger("x").info("%s and %s", TOKEN, "222222222:AAAnother-secret-token-for-a-test")
    assert log.getvalue() == "INFO x: *** and ***\n"
