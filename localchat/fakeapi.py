"""A local fake of the Telegram Bot API, so the bot runs end to end without a token or network.

A real python-telegram-bot ``Application`` is pointed at it with::

    ApplicationBuilder().token(api.token).base_url(api.base_url)
        .base_file_url(api.base_file_url)

Tests (and the local console) inject what users do (:meth:`FakeBotApi.user_message`,
:meth:`FakeBotApi.press_button`, :meth:`FakeBotApi.upload_document`) and observe what the bot
sent (:attr:`FakeBotApi.sent`). Faults that the real service produces (429 flood waits, 5xx,
slow answers, blocked users, migrated groups) can be injected with
:meth:`FakeBotApi.fail_next`, :meth:`FakeBotApi.block_chat` and
:meth:`FakeBotApi.enforce_limits`.

Webhooks: after ``setWebhook`` the fake behaves as Telegram does: ``getUpdates`` answers 409,
and each injected update is POSTed to the webhook URL with the registered
``X-Telegram-Bot-Api-Secret-Token`` (from a thread of its own; :attr:`FakeBotApi.webhook_log`
records each post's HTTP status). :meth:`FakeBotApi.post_webhook` posts one update to any URL
with any secret (or none), for testing the bot's checks; :attr:`FakeBotApi.webhook_calls`
lists the setWebhook calls.

Standard library only and no ``telegram`` import: the core must not depend on the client
library, and the fake must speak the wire format, not the library's objects.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import math
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.text import utf16_len

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:FAKE-token-for-local-tests"
MAX_TEXT_CHARS = 4096
MAX_CAPTION_CHARS = 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""Telegram lets a bot download files of at most 20 MB through getFile."""
MAX_POLL_SECONDS = 50.0
MAX_FAULT_DELAY = 15.0

SEND_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
"""Methods that deliver a new message (blocked chats, migration and flood limits apply)."""
EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup"})
_CHAT_METHODS = SEND_METHODS | EDIT_METHODS | {"deleteMessage"}
_ALWAYS_TRUE = frozenset({
    "logOut", "close", "sendChatAction", "setMyDescription",
    "setMyShortDescription", "setMyName",
})
FAULT_KINDS = ("429", "500", "timeout", "403", "migrate")
STORM_KINDS = ("429", "500", "timeout", "timeout_delivered")
"""Transient faults of :meth:`FakeBotApi.storm`, drawn per call in this order."""
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")

# Form values are JSON-encoded by python-telegram-bot except plain strings, which are sent as
# they are; these keys always hold strings, so "123" stays the text "123".
_STRING_KEYS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "file_id", "inline_message_id",
    "language_code", "url", "description", "short_description", "name", "action", "title",
    "business_connection_id", "message_effect_id", "custom_title", "emoji", "document",
    "photo", "offset_text", "secret_token",
})

_ALLOWED_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
})
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_DEC_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class FakeApiError(Exception):
    """An error answer of the fake API (HTTP status, Telegram description, parameters)."""

    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad_request(description: str) -> FakeApiError:
    return FakeApiError(400, f"Bad Request: {description}")


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Telegram's reading of the ``&`` at ``pos``: (character, end) or None (a literal "&").

    As tdlib's ``decode_html_entity``: ``&#NNN``, ``&#xHH`` and the four named entities
    ``&lt`` ``&gt`` ``&amp`` ``&quot``, each with or without the ``;``; anything else (a bare
    "&", "&nbsp;", "&#0;") stays as it is written.
    """
    end = pos + 1
    if text.startswith("#", end):
        end += 1
        hexadecimal = text.startswith("x", end)
        if hexadecimal:
            end += 1
        digits = _HEX_DIGITS if hexadecimal else _DEC_DIGITS
        start = end
        while end < len(text) and text[end] in digits:
            end += 1
        value = int(text[start:end], 16 if hexadecimal else 10) if end > start else 0
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        char = _NAMED_ENTITIES.get(text[pos + 1:end], "")
        if not char:
            return None
    if text.startswith(";", end):
        end += 1
    return char, end


def literal_ampersands(text: str) -> int:
    """How many "&" of ``text`` (outside tags) Telegram shows as they are.

    Telegram accepts them, so this is no error; but in the bot's own HTML one means some text
    was not escaped (user text "R&D &lt;x&gt;" would show as "R&D <x>"). Tests assert none.
    """
    count = 0
    pos = 0
    while True:
        pos = text.find("&", pos)
        if pos < 0:
            return count
        tag_start = text.rfind("<", 0, pos)
        if tag_start >= 0 and text.find(">", tag_start, pos) < 0:
            pos += 1  # inside a tag's attributes
            continue
        if _decode_entity(text, pos) is None:
            count += 1
        pos += 1


def check_html(text: str) -> str:
    """Return the visible text of Telegram HTML, or raise the 400 Telegram would answer.

    Telegram refuses a message whose HTML has an unknown tag, a stray ``<`` or unbalanced
    tags, or whose entities decode to a lone surrogate; catching that here keeps the bot's
    escaping honest in tests. A "&" that starts no entity is shown as it is, as Telegram does
    (see :func:`literal_ampersands`).
    """
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "<":
            match = _TAG_RE.match(text, pos)
            offset = len(text[:pos].encode())
            if not match:
                raise _bad_request(
                    f"can't parse entities: Unsupported start tag \"\" at byte offset {offset}")
            closing, name = match.group(1), match.group(2).lower()
            if name not in _ALLOWED_TAGS:
                raise _bad_request(
                    f"can't parse entities: Unsupported start tag \"{name}\" "
                    f"at byte offset {offset}")
            if closing:
                if not stack or stack[-1] != name:
                    raise _bad_request(
                        f"can't parse entities: Unexpected end tag at byte offset {offset}")
                stack.pop()
            else:
                stack.append(name)
            pos = match.end()
        elif char == "&" and (decoded := _decode_entity(text, pos)) is not None:
            out.append(decoded[0])
            pos = decoded[1]
        else:
            out.append(char)
            pos += 1
    if stack:
        raise _bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"")
    visible = "".join(out)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in visible):
        raise _bad_request("can't parse entities: Text contains invalid Unicode characters after "
                           "decoding HTML entities, check for unmatched surrogate code units")
    return visible


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, tuple]]:
    """Split a multipart/form-data body byte-exactly into form fields and files."""
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if not boundary:
        raise _bad_request("multipart body without boundary")
    delimiter = b"--" + str(boundary).encode()
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        raw_headers, _, content = chunk.partition(b"\r\n\r\n")
        part = Message()
        for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name:
                part[name.strip()] = value.strip()
        field = part.get_param("name", header="content-disposition")
        if not isinstance(field, str):
            continue
        filename = part.get_filename()
        if filename is None:
            fields[field] = content.decode("utf-8", "replace")
        else:
            files[field] = (unquote(filename), content,
                            part.get("Content-Type", "application/octet-stream"))
    return fields, files


def _png_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0


def _buttons(markup: dict | None) -> list[dict]:
    if not isinstance(markup, dict):
        return []
    return [button for row in markup.get("inline_keyboard") or [] for button in row]


class FakeBotApi:
    """A Telegram Bot API server on 127.0.0.1 (ephemeral port), driven from tests.

    Every public method is thread-safe: the HTTP server answers in its own threads while a
    test injects updates and reads what was sent.
    """

    def __init__(self, *, token: str = DEFAULT_TOKEN, clock: Callable[[], float] = time.time,
                 bot_username: str = "fake_plan_bot", bot_first_name: str = "Bot Kế hoạch",
                 validate_html: bool = True) -> None:
        self.token = token
        self.clock = clock
        self.validate_html = validate_html
        prefix = token.split(":", 1)[0]
        self.bot_user = {
            "id": int(prefix) if prefix.isdigit() else 123456789, "is_bot": True,
            "first_name": bot_first_name, "username": bot_username,
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._poll_generation = 0
        self._waiting_polls = 0
        self._ids = itertools.count(1)
        self._next_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], dict] = {}
        self._chats: dict[int | str, dict] = {}
        self._users: dict[int, dict] = {}
        self._members: dict[tuple[int | str, int], str] = {}
        self._files: dict[str, dict] = {}
        self._file_paths: dict[str, str] = {}
        self._local_dir: Path | None = None
        self._callbacks: dict[str, dict] = {}
        self._sent: list[dict] = []
        self._commands: list[dict] = []
        self._command_store: dict[tuple[str, str], list] = {}
        self._menu_buttons: dict[int | str | None, dict] = {}
        self._answered: list[dict] = []
        self._faults: list[dict] = []
        self._blocked: set[int | str] = set()
        self._migrated: dict[int | str, int] = {}
        self._limits: dict[str, float] | None = None
        self._windows: dict[Any, collections.deque] = collections.defaultdict(collections.deque)
        self._responses_429: list[dict] = []
        self._storm: dict[str, Any] | None = None
        self._storm_calls: collections.Counter = collections.Counter()
        self._storm_log: list[dict] = []
        self._webhook: dict | None = None
        self._webhook_calls: list[dict] = []
        self._webhook_log: list[dict] = []
        # Bot API method names are case-insensitive; calls are recorded under the usual name.
        handlers: dict[str, Callable[[dict, dict, dict], Any] | None] = {
            "getMe": self._get_me,
            "getWebhookInfo": self._get_webhook_info,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
        }
        handlers.update(dict.fromkeys(_ALWAYS_TRUE))
        self._dispatch = {name.lower(): (name, fn) for name, fn in handlers.items()}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeBotApi:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            return self
        api = self

        class Handler(_Handler):
            fake = api

        self._closing.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fake-bot-api", daemon=True)
        self._thread.start()
        logger.debug("Fake Bot API listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Wake long polls, stop serving and free the port."""
        if self._server is None:
            return
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:40123``."""
        if self._server is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url`` (PTB appends the token)."""
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ observation
    @property
    def sent(self) -> list[dict]:
        """Snapshot of every call the bot made (except getUpdates), failed ones included.

        Each record has ``method``, ``ok``, ``error_code``, ``description``, ``chat_id``,
        ``text``, ``parse_mode``, ``reply_markup``, ``message_id``, ``params`` (all decoded
        arguments), ``time`` and, for uploads, ``file`` (bytes), ``filename``, ``mime_type``
        and ``document``/``photo`` (the same bytes).
        """
        with self._lock:
            return list(self._sent)

    @property
    def unescaped(self) -> list[dict]:
        """Calls whose HTML had a "&" that starts no entity (Telegram shows it as written).

        Telegram accepts those, so the fake does too; an e2e test asserts this list is empty
        to prove the bot escaped every text it put into HTML.
        """
        with self._lock:
            return [r for r in self._sent if r.get("literal_amp")]

    @property
    def sent_count(self) -> int:
        """len(sent) without copying (cheap inside wait_for predicates)."""
        with self._lock:
            return len(self._sent)

    def messages_to(self, chat_id: int | str) -> list[dict]:
        """Records of messages successfully delivered to ``chat_id`` (sends only, no edits)."""
        with self._lock:
            return [r for r in self._sent
                    if r["ok"] and r["method"] in SEND_METHODS and r["chat_id"] == chat_id]

    def message(self, chat_id: int | str, message_id: int) -> dict | None:
        """The message as the server holds it now (after edits), or None if absent/deleted."""
        with self._lock:
            stored = self._messages.get((chat_id, message_id))
            return json.loads(json.dumps(stored)) if stored else None

    def last_message_with_buttons(self, chat_id: int | str) -> dict | None:
        """The newest live bot message in ``chat_id`` that has an inline keyboard."""
        with self._lock:
            found = [m for (chat, _), m in self._messages.items()
                     if chat == chat_id and m.get("from", {}).get("is_bot")
                     and _buttons(m.get("reply_markup"))]
            return max(found, key=lambda m: m["message_id"]) if found else None

    @property
    def commands(self) -> list[dict]:
        """Every setMyCommands payload: ``{"commands", "scope", "language_code"}``."""
        with self._lock:
            return list(self._commands)

    def commands_for(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """Commands currently stored for a scope and language (what getMyCommands answers)."""
        with self._lock:
            return list(self._command_store.get(self._scope_key(scope, language_code), []))

    @property
    def answered_callbacks(self) -> list[dict]:
        """answerCallbackQuery payloads in order."""
        with self._lock:
            return list(self._answered)

    @property
    def count_429(self) -> int:
        """How many 429 answers were given (injected and enforced)."""
        with self._lock:
            return len(self._responses_429)

    @property
    def responses_429(self) -> list[dict]:
        """Details of every 429: ``{"method", "chat_id", "retry_after", "reason"}``."""
        with self._lock:
            return list(self._responses_429)

    @property
    def waiting_polls(self) -> int:
        """getUpdates calls currently held open (lets a test know the bot is listening)."""
        with self._lock:
            return self._waiting_polls

    @property
    def pending_updates(self) -> int:
        """Updates injected but not yet confirmed by a later getUpdates offset."""
        with self._lock:
            return len(self._updates)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Block until ``predicate()`` is truthy; return its value, or the falsy one on timeout.

        The predicate is re-checked whenever the server's state changes, so nothing waits
        longer than needed.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                remaining = deadline - time.monotonic()
                if value or remaining <= 0:
                    return value
                self._cond.wait(remaining)

    async def async_wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """:meth:`wait_for` without blocking the event loop the bot runs in."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout)

    async def await_sent(self, count: int, timeout: float = 5.0) -> list[dict]:
        """Wait until at least ``count`` calls are recorded; return :attr:`sent`.

        Raises TimeoutError (listing what was sent) so a test fails with a clear reason.
        """
        if not await self.async_wait_for(lambda: self.sent_count >= count, timeout):
            methods = [r["method"] for r in self.sent]
            raise TimeoutError(f"expected {count} calls within {timeout}s, got {methods}")
        return self.sent

    # ------------------------------------------------------------------ configuration
    def set_member_status(self, chat_id: int | str, user_id: int, status: str) -> None:
        """Set what getChatMember answers for a user in a chat."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}, not {status!r}")
        with self._cond:
            self._members[(chat_id, user_id)] = status
            self._cond.notify_all()

    def block_chat(self, chat_id: int | str) -> None:
        """The user blocked the bot: every send to ``chat_id`` answers 403."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int | str) -> None:
        with self._cond:
            self._blocked.discard(chat_id)

    def fail_next(self, method: str, kind: str, n: int = 1, **kw: Any) -> None:
        """Make the next ``n`` calls of ``method`` ("*" for any) fail like Telegram can.

        kind: "429" (kw ``retry_after``, default 1), "500", "timeout" (kw ``delay`` seconds,
        default 6, at most 15, before a 504 that comes after the client gave up;
        ``deliver=True`` performs the call at once and holds only its answer, as when
        Telegram delivered the message and the answer was lost), "403" (bot blocked),
        "migrate" (kw ``migrate_to_chat_id``).
        kw ``chat_id`` restricts the fault to calls for that chat.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}, not {kind!r}")
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._cond:
            self._faults.append({"method": method, "kind": kind, "left": n, **kw})

    def storm(self, seed: int | str, rates: dict[str, float], *, down: Any = (),
              retry_after: tuple[int, int] = (1, 3), delay: float = 1.0,
              methods: Any = SEND_METHODS) -> None:
        """Start a seeded fault storm on ``methods`` until :meth:`calm`.

        The n-th call to a chat meets the fault drawn from ``(seed, chat, n)``, whatever the
        order in which chats are served, so two versions of the bot meet the same storm call
        for call. ``rates`` gives each kind of :data:`STORM_KINDS` a probability: "429"
        (``retry_after`` drawn in the range), "500", "timeout" (nothing done, the answer
        never comes in time) and "timeout_delivered" (the message is delivered, its answer
        held ``delay`` seconds: the client times out). Chats in ``down`` answer 500 to every
        call. Faults queued by :meth:`fail_next` come first.
        """
        unknown = set(rates) - set(STORM_KINDS)
        if unknown or sum(rates.values()) > 1:
            raise ValueError(f"rates: kinds among {STORM_KINDS}, summing to at most 1")
        with self._cond:
            self._storm = {"seed": seed, "rates": dict(rates), "down": set(down),
                           "retry_after": retry_after, "delay": delay,
                           "methods": frozenset(methods)}
            self._storm_calls.clear()

    def calm(self) -> None:
        """End the storm (blocked chats stay blocked)."""
        with self._cond:
            self._storm = None

    @property
    def storm_log(self) -> list[dict]:
        """Faults the storm injected: ``{"chat_id", "n", "kind"}`` (n counts from 0)."""
        with self._lock:
            return list(self._storm_log)

    def enforce_limits(self, per_chat_per_sec: float = 1, overall_per_sec: float = 30,
                       group_per_min: float = 20, *, enabled: bool = True) -> None:
        """Answer 429 like Telegram when sends exceed its flood limits (sliding windows).

        Windows: per chat over 1 s, all chats over 1 s, and per group (negative id) over 60 s.
        """
        with self._cond:
            self._windows.clear()
            self._limits = ({"chat": per_chat_per_sec, "overall": overall_per_sec,
                             "group": group_per_min} if enabled else None)

    @property
    def webhook_calls(self) -> list[dict]:
        """Every setWebhook call: url, secret_token, allowed_updates, time."""
        with self._lock:
            return [dict(c) for c in self._webhook_calls]

    @property
    def webhook(self) -> dict | None:
        """The webhook now set (url, secret_token...), None when none is."""
        with self._lock:
            return dict(self._webhook) if self._webhook else None

    @property
    def webhook_log(self) -> list[dict]:
        """Updates the fake posted to the webhook: update_id, url, status (0: unreachable)."""
        with self._lock:
            return [dict(e) for e in self._webhook_log]

    def post_webhook(self, update: dict, *, url: str | None = None,
                     secret_token: str | None = "", timeout: float = 10.0) -> int:
        """POST ``update`` to ``url`` (default: the webhook set) as Telegram does; returns the
        HTTP status (0 when nothing answered). ``secret_token`` "" (default) sends the
        registered one, None sends no header, anything else is sent as given. Blocking: from
        the bot's own event loop, call it through ``asyncio.to_thread``."""
        with self._lock:
            hook = dict(self._webhook) if self._webhook else {}
        target = url or hook.get("url")
        if not target:
            raise ValueError("no webhook set and no url given")
        secret = hook.get("secret_token") if secret_token == "" else secret_token
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(target, data=json.dumps(update).encode(),
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as err:
            return int(err.code)
        except (OSError, urllib.error.URLError):
            return 0

    def _deliver_to_webhook(self, update: dict) -> None:
        """Telegram pushes updates to the webhook: post it from a thread of its own."""
        def post() -> None:
            status = self.post_webhook(update)
            with self._cond:
                self._webhook_log.append({"update_id": update["update_id"], "status": status,
                                          "url": (self._webhook or {}).get("url")})
                self._cond.notify_all()

        threading.Thread(target=post, name="fake-webhook-post", daemon=True).start()

    # ------------------------------------------------------------------ injection
    def add_chat(self, chat_id: int | str, chat_type: str = "private", *,
                 title: str | None = None, first_name: str | None = None) -> dict:
        """Make a chat known without a message (Telegram answers "chat not found" otherwise)."""
        with self._cond:
            return self._chat(chat_id, chat_type, title=title, first_name=first_name)

    def user_message(self, chat_id: int | str, text: str, *, user_id: int,
                     chat_type: str = "private", first_name: str = "Người dùng",
                     username: str | None = None, chat_title: str | None = None,
                     is_group_admin: bool | None = None) -> dict:
        """Queue a text message from a user; return the update as the bot will receive it.

        A leading ``/word`` gets a ``bot_command`` entity as Telegram adds one.
        ``is_group_admin`` sets the user's getChatMember status in that chat.
        """
        with self._cond:
            return self._push_update({"message": self._text_message(
                chat_id, text, user_id, chat_type, first_name, username, chat_title,
                is_group_admin)})

    def message_update(self, chat_id: int | str, text: str, *, user_id: int,
                       chat_type: str = "private", first_name: str = "Người dùng") -> dict:
        """The update :meth:`user_message` would make, with a fresh update_id, neither queued
        nor posted: for :meth:`post_webhook`."""
        with self._cond:
            message = self._text_message(chat_id, text, user_id, chat_type, first_name, None,
                                         None, None)
            return json.loads(json.dumps({"update_id": next(self._update_ids),
                                          "message": message}))

    def _text_message(self, chat_id: int | str, text: str, user_id: int, chat_type: str,
                      first_name: str, username: str | None, chat_title: str | None,
                      is_group_admin: bool | None) -> dict:
        message = self._user_message_base(chat_id, user_id, chat_type, first_name,
                                          username, chat_title, is_group_admin)
        message["text"] = text
        if text.startswith("/") and len(text) > 1:
            word = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(word)}]
        return message

    def command(self, chat_id: int | str, text: str, **kw: Any) -> dict:
        """Alias of :meth:`user_message` that adds the leading "/" when missing."""
        return self.user_message(chat_id, text if text.startswith("/") else f"/{text}", **kw)

    def press_button(self, chat_id: int | str, message_id: int, callback_data: str, *,
                     user_id: int, first_name: str = "Người dùng") -> dict:
        """Queue a callback_query as if the user pressed a button of a bot message.

        Raises ValueError when the message does not exist or has no button with that data:
        Telegram could never send such a query, so the test itself is wrong.
        """
        with self._cond:
            stored = self._messages.get((chat_id, message_id))
            if stored is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            data = [b.get("callback_data") for b in _buttons(stored.get("reply_markup"))]
            if callback_data not in data:
                raise ValueError(f"message {message_id} has no button with data "
                                 f"{callback_data!r} (buttons: {data})")
            return self._callback_query(chat_id, message_id, stored, callback_data, user_id,
                                        first_name)

    def forge_callback(self, chat_id: int | str, message_id: int, callback_data: str, *,
                       user_id: int, first_name: str = "Người dùng") -> dict:
        """Queue a callback_query with any data on a bot message, buttons or not.

        Telegram does not check callback data against the message's keyboard, and a modified
        client can send anything up to 64 bytes: bots must check rights on every press.
        """
        if not 1 <= len(callback_data.encode("utf-8")) <= 64:
            raise ValueError("callback_data must be 1-64 bytes")
        with self._cond:
            stored = self._messages.get((chat_id, message_id))
            if stored is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            return self._callback_query(chat_id, message_id, stored, callback_data, user_id,
                                        first_name)

    def _callback_query(self, chat_id: int | str, message_id: int, stored: dict,
                        callback_data: str, user_id: int, first_name: str) -> dict:
        """Queue the update (the caller holds the lock)."""
        query_id = str(next(self._ids) + 10**12)
        query = {
            "id": query_id, "from": self._user(user_id, first_name, None),
            "message": json.loads(json.dumps(stored)),
            "chat_instance": str(abs(hash(chat_id))), "data": callback_data,
        }
        self._callbacks[query_id] = {"chat_id": chat_id, "message_id": message_id,
                                     "user_id": user_id, "data": callback_data}
        return self._push_update({"callback_query": query})

    def upload_document(self, chat_id: int | str, filename: str, data: bytes, *,
                        user_id: int, caption: str | None = None,
                        mime_type: str = "application/octet-stream",
                        chat_type: str = "private", first_name: str = "Người dùng",
                        is_group_admin: bool | None = None) -> dict:
        """Queue a message with a document; the bot can fetch ``data`` through getFile."""
        with self._cond:
            message = self._user_message_base(chat_id, user_id, chat_type, first_name, None,
                                              None, is_group_admin)
            stored = self._store_file(filename, bytes(data), mime_type, "documents")
            message["document"] = self._document_json(stored)
            if caption:
                message["caption"] = caption
            return self._push_update({"message": message})

    def group_migrated(self, old_chat_id: int, new_chat_id: int, *, user_id: int = 1,
                       title: str = "Nhóm thử nghiệm") -> list[dict]:
        """The group became a supergroup: service messages in both chats; sends to the old id
        then answer 400 with ``migrate_to_chat_id``."""
        with self._cond:
            old = self._chat(old_chat_id, "group", title=title)
            new = self._chat(new_chat_id, "supergroup", title=title)
            user = self._user(user_id, "Người dùng", None)
            updates = [
                self._push_update({"message": {
                    "message_id": self._new_message_id(old_chat_id), "from": user,
                    "chat": old, "date": self._now(), "migrate_to_chat_id": new_chat_id}}),
                self._push_update({"message": {
                    "message_id": self._new_message_id(new_chat_id), "from": user,
                    "chat": new, "date": self._now(), "migrate_from_chat_id": old_chat_id}}),
            ]
            self._migrated[old_chat_id] = new_chat_id
            for (chat, member), status in list(self._members.items()):
                if chat == old_chat_id:
                    self._members[(new_chat_id, member)] = status
            return updates

    def bot_status(self, chat_id: int | str, status: str, *, user_id: int,
                   chat_type: str = "private", title: str | None = None,
                   old_status: str | None = None) -> dict:
        """The bot's own membership changed, as Telegram reports it (a ``my_chat_member``
        update): "kicked" in a private chat is the user blocking the bot, "member" afterwards
        unblocking it; "left"/"kicked" in a group is the bot removed, "member" re-added.
        Sends to a chat where the bot is "left" or "kicked" answer 403 until it is back."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}, not {status!r}")
        gone = status in ("left", "kicked")
        if old_status is None:
            old_status = "member" if gone else ("left" if chat_type != "private" else "kicked")
        with self._cond:
            chat = self._chat(chat_id, chat_type, title=title)
            bot_id = self.bot_user["id"]
            if gone:
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)
            self._members[(chat_id, bot_id)] = status
            return self._push_update({"my_chat_member": {
                "chat": chat, "from": self._user(user_id, "Người dùng", None),
                "date": self._now(),
                "old_chat_member": self._member_json(chat_id, bot_id, old_status),
                "new_chat_member": self._member_json(chat_id, bot_id, status)}})

    def local_files(self, folder: str | Path | None) -> None:
        """Act as a self-hosted Bot API server started with ``--local``: files sent from now
        on are written under ``folder`` and getFile answers their absolute path (which the
        server does not serve over HTTP); None goes back to Telegram's relative paths."""
        with self._cond:
            self._local_dir = Path(folder) if folder is not None else None

    # ------------------------------------------------------------------ internals (locked)
    def _now(self) -> int:
        return int(self.clock())

    def _user(self, user_id: int, first_name: str, username: str | None) -> dict:
        user = self._users.setdefault(user_id, {"id": user_id, "is_bot": False,
                                                "first_name": first_name,
                                                "language_code": "vi"})
        if username:
            user["username"] = username
        return dict(user)

    def _chat(self, chat_id: int | str, chat_type: str, *, title: str | None = None,
              first_name: str | None = None) -> dict:
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        if chat_type == "private" and isinstance(chat_id, int) and chat_id < 0:
            raise ValueError(f"chat {chat_id} is negative: use chat_type='group' or 'supergroup'")
        chat = self._chats.get(chat_id)
        if chat is None or chat["type"] != chat_type:
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = first_name or "Người dùng"
            else:
                chat["title"] = title or "Nhóm thử nghiệm"
            self._chats[chat_id] = chat
        elif title and chat_type != "private":
            chat["title"] = title
        return dict(chat)

    def _user_message_base(self, chat_id: int | str, user_id: int, chat_type: str,
                           first_name: str, username: str | None, chat_title: str | None,
                           is_group_admin: bool | None) -> dict:
        chat = self._chat(chat_id, chat_type, title=chat_title, first_name=first_name)
        if is_group_admin is not None and chat_type != "private":
            self._members[(chat_id, user_id)] = "administrator" if is_group_admin else "member"
        elif (chat_id, user_id) not in self._members and chat_type != "private":
            self._members[(chat_id, user_id)] = "member"
        return {"message_id": self._new_message_id(chat_id),
                "from": self._user(user_id, first_name, username),
                "chat": chat, "date": self._now()}

    def _new_message_id(self, chat_id: int | str) -> int:
        value = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = value + 1
        return value

    def _push_update(self, payload: dict) -> dict:
        update = {"update_id": next(self._update_ids), **payload}
        if self._webhook is not None:
            self._deliver_to_webhook(json.loads(json.dumps(update)))
        else:
            self._updates.append(update)
        self._cond.notify_all()
        return json.loads(json.dumps(update))

    def _store_file(self, filename: str, data: bytes, mime_type: str, folder: str) -> dict:
        number = next(self._ids)
        suffix = re.sub(r"[^A-Za-z0-9.]", "", filename.rsplit(".", 1)[-1])[:8] \
            if "." in filename else ""
        path = f"{folder}/file_{number}" + (f".{suffix}" if suffix else "")
        stored = {"file_id": f"FILE-{number}-{len(data)}", "file_unique_id": f"U{number}",
                  "file_name": filename, "mime_type": mime_type, "file_size": len(data),
                  "file_path": path, "data": data}
        self._files[stored["file_id"]] = stored
        if self._local_dir is not None:  # --local: an absolute path, not served over HTTP
            target = (self._local_dir / self.token.replace(":", "_") / path).resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            stored["file_path"] = str(target)
            return stored
        self._file_paths[path] = stored["file_id"]
        return stored

    @staticmethod
    def _document_json(stored: dict) -> dict:
        return {key: stored[key] for key in
                ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")}

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    def _take_fault(self, method: str, chat_id: Any) -> dict | None:
        for fault in self._faults:
            if fault["method"] not in ("*", method):
                continue
            if "chat_id" in fault and fault["chat_id"] != chat_id:
                continue
            fault["left"] -= 1
            if fault["left"] <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _storm_fault(self, method: str, chat_id: Any) -> dict | None:
        storm = self._storm
        if storm is None or method not in storm["methods"]:
            return None
        n = self._storm_calls[chat_id]
        self._storm_calls[chat_id] += 1
        rng = random.Random(f"{storm['seed']}:{chat_id}:{n}")
        draw = rng.random()
        kind = "500" if chat_id in storm["down"] else None
        for name in STORM_KINDS:
            if kind is not None:
                break
            draw -= storm["rates"].get(name, 0.0)
            if draw < 0:
                kind = name
        if kind is None:
            return None
        self._storm_log.append({"chat_id": chat_id, "n": n, "kind": kind})
        if kind == "429":
            return {"kind": "429", "retry_after": rng.randint(*storm["retry_after"])}
        if kind.startswith("timeout"):
            return {"kind": "timeout", "delay": storm["delay"],
                    "deliver": kind == "timeout_delivered"}
        return {"kind": kind}

    def _too_many(self, method: str, chat_id: Any, retry_after: int, reason: str) -> FakeApiError:
        self._responses_429.append({"method": method, "chat_id": chat_id,
                                    "retry_after": retry_after, "reason": reason})
        return FakeApiError(429, f"Too Many Requests: retry after {retry_after}",
                            {"retry_after": retry_after})

    def _check_limits(self, method: str, chat_id: Any) -> None:
        """Raise 429 if one more send would break a window; otherwise count it."""
        if self._limits is None or method not in SEND_METHODS:
            return
        now = self.clock()
        windows = [(("chat", chat_id), 1.0, self._limits["chat"], "chat"),
                   (("overall",), 1.0, self._limits["overall"], "overall")]
        if isinstance(chat_id, int) and chat_id < 0:
            windows.append((("group", chat_id), 60.0, self._limits["group"], "group"))
        for key, span, limit, reason in windows:
            window = self._windows[key]
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, math.ceil(window[0] + span - now))
                raise self._too_many(method, chat_id, retry_after, reason)
        for key, *_ in windows:
            self._windows[key].append(now)

    # ------------------------------------------------------------------ request handling
    def handle_call(self, token: str, method: str, params: dict,
                    files: dict[str, tuple[str, bytes, str]]) -> tuple[int, dict]:
        """Answer one API call: ``(http_status, json_body)``. Runs in a server thread."""
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method.lower() == "getupdates":
            return self._get_updates(params)
        if method.lower() not in self._dispatch:
            return 404, {"ok": False, "error_code": 404,
                         "description": "Not Found: method not found"}
        method, handler = self._dispatch[method.lower()]
        for key in ("chat_id", "user_id", "message_id"):
            value = params.get(key)
            if isinstance(value, str) and value.lstrip("-").isdigit():
                params[key] = int(value)  # Telegram accepts numbers sent as strings
        chat_id = params.get("chat_id")
        record = {"method": method, "ok": True, "error_code": None, "description": None,
                  "chat_id": chat_id, "text": params.get("text", params.get("caption")),
                  "parse_mode": params.get("parse_mode"),
                  "reply_markup": params.get("reply_markup"),
                  "message_id": params.get("message_id"), "params": params,
                  "time": self.clock()}
        try:
            with self._cond:
                fault = self._take_fault(method, chat_id) or self._storm_fault(method, chat_id)
            late = None
            if fault is not None and fault["kind"] == "timeout":
                late = min(float(fault.get("delay", 6.0)), MAX_FAULT_DELAY)
                if fault.get("deliver"):
                    fault = None  # performed now; only the answer is late (the client gave up)
                else:
                    self._closing.wait(late)  # nothing happens; a 504 after the client gave up
                    late = None
            with self._cond:
                try:
                    if fault is not None:
                        raise self._fault_error(fault, method, chat_id)
                    if method in _CHAT_METHODS:
                        self._check_chat(method, chat_id)
                    result = True if handler is None else handler(params, files, record)
                except FakeApiError as err:
                    record.update(ok=False, error_code=err.status, description=err.description)
                    raise
                finally:
                    record["answer_lost"] = late is not None
                    self._sent.append(record)
                    self._cond.notify_all()
            if late is not None:
                self._closing.wait(late)
            return 200, {"ok": True, "result": result}
        except FakeApiError as err:
            body: dict[str, Any] = {"ok": False, "error_code": err.status,
                                    "description": err.description}
            if err.parameters:
                body["parameters"] = err.parameters
            return err.status, body

    def _fault_error(self, fault: dict, method: str, chat_id: Any) -> FakeApiError:
        kind = fault["kind"]
        if kind == "429":
            return self._too_many(method, chat_id, int(fault.get("retry_after", 1)), "injected")
        if kind == "403":
            return FakeApiError(403, "Forbidden: bot was blocked by the user")
        if kind == "migrate":
            new_id = fault.get("migrate_to_chat_id", fault.get("new_chat_id"))
            if new_id is None:
                new_id = -(10**12 + abs(chat_id)) if isinstance(chat_id, int) else -10**12
            return FakeApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                                {"migrate_to_chat_id": new_id})
        if kind == "timeout":
            return FakeApiError(504, "Gateway Timeout")
        return FakeApiError(500, "Internal Server Error")

    def _check_chat(self, method: str, chat_id: Any) -> None:
        if chat_id is None:
            raise _bad_request("chat_id is empty")
        if chat_id in self._migrated:
            raise FakeApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                               {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id in self._blocked:
            raise FakeApiError(403, "Forbidden: bot was blocked by the user")
        self._check_limits(method, chat_id)

    def _get_updates(self, params: dict) -> tuple[int, dict]:
        offset = params.get("offset")
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook is not None:
                return 409, {"ok": False, "error_code": 409,
                             "description": "Conflict: can't use getUpdates method while "
                                            "webhook is active; use deleteWebhook to delete "
                                            "the webhook first"}
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            if isinstance(offset, int) and offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif isinstance(offset, int) and offset < 0:
                self._updates = self._updates[offset:]
            self._waiting_polls += 1
            self._cond.notify_all()
            try:
                while not self._updates and not self._closing.is_set():
                    if generation != self._poll_generation:
                        return 409, {"ok": False, "error_code": 409,
                                     "description": "Conflict: terminated by other getUpdates "
                                                    "request; make sure that only one bot "
                                                    "instance is running"}
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            finally:
                self._waiting_polls -= 1
                self._cond.notify_all()
            batch = self._updates[:max(1, min(limit, 100))]
            return 200, {"ok": True, "result": json.loads(json.dumps(batch))}

    def download(self, token: str, file_path: str) -> tuple[int, bytes]:
        """Serve ``{base_file_url}{token}/{file_path}``."""
        with self._lock:
            file_id = self._file_paths.get(file_path)
            if token != self.token or file_id is None:
                return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
            return 200, self._files[file_id]["data"]

    # ------------------------------------------------------------------ API methods
    # Each runs under the lock, gets decoded params, files and the call's record to enrich;
    # __init__ maps the Bot API name (getMe) to the method (_get_me).
    def _get_me(self, params: dict, files: dict, record: dict) -> dict:
        return dict(self.bot_user)

    def _get_webhook_info(self, params: dict, files: dict, record: dict) -> dict:
        return {"url": (self._webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _set_webhook(self, params: dict, files: dict, record: dict) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        call = {"url": url, "secret_token": secret,
                "allowed_updates": params.get("allowed_updates"), "time": self.clock()}
        self._webhook_calls.append(call)
        if not url:  # Telegram: an empty url removes the webhook
            self._webhook = None
            return True
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = call
        return True

    def _delete_webhook(self, params: dict, files: dict, record: dict) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _bot_message(self, chat_id: Any, params: dict) -> dict:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad_request("chat not found")
        message: dict[str, Any] = {"message_id": self._new_message_id(chat_id),
                                   "from": dict(self.bot_user), "chat": dict(chat),
                                   "date": self._now()}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            self._check_markup(markup)
            message["reply_markup"] = markup
        return message

    @staticmethod
    def _check_markup(markup: dict) -> None:
        for button in _buttons(markup):
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad_request("can't parse inline keyboard button: Text buttons are "
                                   "unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise _bad_request("BUTTON_DATA_INVALID")

    def _visible_text(self, text: Any, parse_mode: Any, limit: int, *, required: bool,
                      record: dict) -> str:
        if not isinstance(text, str) or not text.strip():
            if required:
                raise _bad_request("message text is empty")
            return ""
        visible = text
        if self.validate_html and str(parse_mode or "").upper() == "HTML":
            visible = check_html(text)
            record["literal_amp"] = literal_ampersands(text)
        if utf16_len(visible) > limit:  # Telegram counts UTF-16 code units: "📋" is 2
            raise _bad_request("message is too long" if limit == MAX_TEXT_CHARS
                               else "message caption is too long")
        return visible

    def _send_message(self, params: dict, files: dict, record: dict) -> dict:
        text = params.get("text")
        self._visible_text(text, params.get("parse_mode"), MAX_TEXT_CHARS, required=True,
                           record=record)
        message = self._bot_message(params.get("chat_id"), params)
        message["text"] = text
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        record["message_id"] = message["message_id"]
        return json.loads(json.dumps(message))

    def _send_file(self, kind: str, params: dict, files: dict, record: dict) -> dict:
        caption = params.get("caption")
        self._visible_text(caption, params.get("parse_mode"), MAX_CAPTION_CHARS, required=False,
                           record=record)
        if kind in files:
            filename, data, mime = files[kind]
            stored = self._store_file(filename, data, mime, f"{kind}s")
        elif isinstance(params.get(kind), str) and params[kind] in self._files:
            stored = self._files[params[kind]]
        else:
            raise _bad_request(f"there is no {kind} in the request")
        message = self._bot_message(params.get("chat_id"), params)
        if kind == "photo":
            width, height = _png_size(stored["data"])
            message["photo"] = [{"file_id": stored["file_id"],
                                 "file_unique_id": stored["file_unique_id"],
                                 "width": width, "height": height,
                                 "file_size": stored["file_size"]}]
        else:
            message["document"] = self._document_json(stored)
        if caption:
            message["caption"] = caption
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        record.update(message_id=message["message_id"], file=stored["data"],
                      filename=stored["file_name"], mime_type=stored["mime_type"],
                      caption=caption, **{kind: stored["data"]})
        return json.loads(json.dumps(message))

    def _send_document(self, params: dict, files: dict, record: dict) -> dict:
        return self._send_file("document", params, files, record)

    def _send_photo(self, params: dict, files: dict, record: dict) -> dict:
        return self._send_file("photo", params, files, record)

    def _target(self, params: dict, action: str) -> dict | None:
        if params.get("inline_message_id"):
            return None
        stored = self._messages.get((params.get("chat_id"), params.get("message_id")))
        if stored is None:
            raise _bad_request(f"message to {action} not found")
        return stored

    def _edit_message_text(self, params: dict, files: dict, record: dict) -> dict | bool:
        text = params.get("text")
        self._visible_text(text, params.get("parse_mode"), MAX_TEXT_CHARS, required=True,
                           record=record)
        stored = self._target(params, "edit")
        if stored is None:
            return True
        if "text" not in stored:
            raise _bad_request("there is no text in the message to edit")
        markup = params.get("reply_markup")
        if stored["text"] == text and stored.get("reply_markup") == markup:
            raise _bad_request("message is not modified: specified new message content and "
                               "reply markup are exactly the same as a current content and "
                               "reply markup of the message")
        stored["text"] = text
        self._set_markup(stored, markup)
        stored["edit_date"] = self._now()
        return json.loads(json.dumps(stored))

    def _edit_message_reply_markup(self, params: dict, files: dict,
                                  record: dict) -> dict | bool:
        stored = self._target(params, "edit")
        if stored is None:
            return True
        markup = params.get("reply_markup")
        if stored.get("reply_markup") == markup or (not markup and "reply_markup" not in stored):
            raise _bad_request("message is not modified: specified new message content and "
                               "reply markup are exactly the same as a current content and "
                               "reply markup of the message")
        self._set_markup(stored, markup)
        stored["edit_date"] = self._now()
        return json.loads(json.dumps(stored))

    def _set_markup(self, stored: dict, markup: Any) -> None:
        if isinstance(markup, dict) and _buttons(markup):
            self._check_markup(markup)
            stored["reply_markup"] = markup
        else:
            stored.pop("reply_markup", None)

    def _delete_message(self, params: dict, files: dict, record: dict) -> bool:
        key = (params.get("chat_id"), params.get("message_id"))
        if key not in self._messages:
            raise _bad_request("message to delete not found")
        del self._messages[key]
        return True

    def _answer_callback_query(self, params: dict, files: dict, record: dict) -> bool:
        query_id = str(params.get("callback_query_id"))
        query = self._callbacks.pop(query_id, None)
        if query is None:
            raise _bad_request("query is too old and response timeout expired or query ID is "
                               "invalid")
        record.update(chat_id=query["chat_id"], message_id=query["message_id"])
        self._answered.append({"callback_query_id": query_id, "text": params.get("text"),
                               "show_alert": bool(params.get("show_alert")),
                               "url": params.get("url"), "data": query["data"],
                               "chat_id": query["chat_id"],
                               "message_id": query["message_id"]})
        return True

    def _get_file(self, params: dict, files: dict, record: dict) -> dict:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        if self._local_dir is None and stored["file_size"] > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        return {key: stored[key] for key in
                ("file_id", "file_unique_id", "file_size", "file_path")}

    def _set_my_commands(self, params: dict, files: dict, record: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("commands must be a list")
        for item in commands:
            name = item.get("command", "") if isinstance(item, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name) or not item.get("description"):
                raise _bad_request("BOT_COMMAND_INVALID")
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        self._command_store[key] = commands
        self._commands.append({"commands": commands,
                               "scope": params.get("scope") or {"type": "default"},
                               "language_code": params.get("language_code") or ""})
        return True

    def _get_my_commands(self, params: dict, files: dict, record: dict) -> list:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        return list(self._command_store.get(key, []))

    def _delete_my_commands(self, params: dict, files: dict, record: dict) -> bool:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        self._command_store.pop(key, None)
        return True

    def _set_chat_menu_button(self, params: dict, files: dict, record: dict) -> bool:
        self._menu_buttons[params.get("chat_id")] = params.get("menu_button") or {
            "type": "default"}
        return True

    def _get_chat_menu_button(self, params: dict, files: dict, record: dict) -> dict:
        return self._menu_buttons.get(params.get("chat_id"), {"type": "default"})

    def _get_chat(self, params: dict, files: dict, record: dict) -> dict:
        chat = self._chats.get(params.get("chat_id"))
        if chat is None:
            raise _bad_request("chat not found")
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}

    def _member_json(self, chat_id: Any, user_id: int, status: str) -> dict:
        user = dict(self.bot_user) if user_id == self.bot_user["id"] else self._users.get(
            user_id, {"id": user_id, "is_bot": False, "first_name": "Người dùng"})
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys(
                ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                 "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                 "can_change_info", "can_invite_users", "can_post_stories",
                 "can_edit_stories", "can_delete_stories"), False))
            member.update(can_manage_chat=True, can_delete_messages=True,
                          can_invite_users=True)
        elif status == "kicked":
            member["until_date"] = 0
        elif status == "restricted":
            member.update(dict.fromkeys(
                ("is_member", "can_send_messages", "can_send_audios", "can_send_documents",
                 "can_send_photos", "can_send_videos", "can_send_video_notes",
                 "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
                 "can_add_web_page_previews", "can_change_info", "can_invite_users",
                 "can_pin_messages", "can_manage_topics"), False))
            member.update(is_member=True, until_date=0)
        return member

    def _get_chat_member(self, params: dict, files: dict, record: dict) -> dict:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        if chat_id not in self._chats:
            raise _bad_request("chat not found")
        if not isinstance(user_id, int):
            raise _bad_request("invalid user_id specified")
        status = self._members.get((chat_id, user_id))
        if status is None:
            private = self._chats[chat_id]["type"] == "private"
            status = "member" if private and chat_id == user_id else "left"
        return self._member_json(chat_id, user_id, status)

    def _get_chat_administrators(self, params: dict, files: dict, record: dict) -> list:
        chat_id = params.get("chat_id")
        if chat_id not in self._chats:
            raise _bad_request("chat not found")
        return [self._member_json(chat_id, user, status)
                for (chat, user), status in self._members.items()
                if chat == chat_id and status in ("creator", "administrator")]


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` to the fake."""

    fake: FakeBotApi
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one small answer per call: avoid 40 ms delayed ACKs
    _CALL_RE = re.compile(r"^/bot([^/]+)/([A-Za-z]+)/?$")
    _FILE_RE = re.compile(r"^/file/bot([^/]+)/(.+)$")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("fake api: %s", format % args)

    def do_GET(self) -> None:
        match = self._FILE_RE.match(unquote(urlsplit(self.path).path))
        if match:
            status, data = self.fake.download(match.group(1), match.group(2))
            ctype = "application/octet-stream" if status == 200 else "application/json"
            self._reply(status, data, ctype)
            return
        self._call()

    def do_POST(self) -> None:
        self._call()

    def _call(self) -> None:
        split = urlsplit(self.path)
        match = self._CALL_RE.match(unquote(split.path))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not match:
            self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        try:
            params, files = self._params(split.query, body)
        except FakeApiError as err:
            self._json(err.status, {"ok": False, "error_code": err.status,
                                    "description": err.description})
            return
        try:
            status, answer = self.fake.handle_call(match.group(1), match.group(2), params,
                                                   files)
        except Exception as err:  # a malformed argument must not kill the connection silently
            logger.exception("fake api: %s failed", match.group(2))
            status, answer = 500, {"ok": False, "error_code": 500,
                                   "description": f"Internal Server Error: {err!r}"}
        self._json(status, answer)

    def _params(self, query: str, body: bytes) -> tuple[dict, dict]:
        params: dict[str, Any] = {k: _decode_form_value(k, v)
                                  for k, v in parse_qsl(query, keep_blank_values=True)}
        files: dict[str, tuple] = {}
        ctype = self.headers.get("Content-Type", "")
        if not body:
            return params, files
        if ctype.startswith("application/json"):
            try:
                loaded = json.loads(body)
            except ValueError as err:
                raise _bad_request("can't parse JSON body") from err
            if not isinstance(loaded, dict):
                raise _bad_request("JSON body must be an object")
            params.update(loaded)
        elif ctype.startswith("multipart/form-data"):
            fields, files = _parse_multipart(body, ctype)
            params.update({k: _decode_form_value(k, v) for k, v in fields.items()})
        else:
            pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            params.update({k: _decode_form_value(k, v) for k, v in pairs})
        return params, files

    def _json(self, status: int, answer: dict) -> None:
        data = json.dumps(answer, ensure_ascii=False).encode()
        self._reply(status, data, "application/json")

    def _reply(self, status: int, data: bytes, ctype: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("fake api: client went away before the answer")
