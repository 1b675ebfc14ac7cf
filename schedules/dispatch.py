"""Deliver digests, reminders and announcements once each, and never drop one silently.

Every outgoing message carries an idempotency key ("remind:17:2022-12-20T08:00"). The
:class:`Dispatcher` skips a key the delivery log already holds as "sent" or "uncertain", sends
the rest with python-telegram-bot, and turns each Telegram failure into a decision::

    TelegramError
    ├── RetryAfter        flood limit: sleep retry_after, retry (own, larger cap)
    ├── ChatMigrated      group became a supergroup: move the chat in the store, retry there
    ├── Forbidden         bot blocked or removed: chat inactive, "undeliverable"
    ├── NetworkError
    │   ├── BadRequest    chat not found, bad HTML...: "undeliverable" (retrying cannot help)
    │   ├── TimedOut      the request went out and its answer never came: "uncertain", no
    │   │                 retry; not connected yet (connect or pool timeout): retry
    │   ├── (I/O)         connection dropped after sending: "uncertain"; before: retry
    │   └── (5xx)         Telegram answered an error: retry with exponential backoff, jitter
    └── (anything else)   invalid token, conflict: "failed"

Each give-up is written to the delivery log with a detail, so an admin can see why a chat got
nothing.

Claim before send (several processes on one database): before its first attempt a message's
key is *claimed* in the delivery log (``store.claim_delivery``: a "claimed" row written only if
nobody else may be sending it), and only the claimer sends; the outcome then overwrites the
claim. The rule, which every store implements atomically:

* a key with no row, or whose row is "failed" or "undeliverable", may be claimed (those are
  retried, as before);
* a "sent" or "uncertain" row is never claimed: the message is in the chat, or may be;
* a "claimed" row younger than ``CLAIM_TIMEOUT`` (15 min) is somebody's send in progress: the
  caller gets the outcome "claimed" (not sent, not settled: the jobs try again later); an
  older one is a sender that died between claim and outcome, and may be claimed again. So a
  crash right after a send repeats that message at most once, and never within the timeout;
  a message claimed and never sent is late by the timeout, never lost.

A long send (flood waits, backoff) renews its claim before each new attempt, so a live send
never looks dead.

Why "uncertain": Telegram cannot be asked whether a message went out, and a timed-out
sendMessage usually did (in the two storms of issue 12, 8 of 8 and 17 of 19 had arrived).
Resending it at once made those duplicates. So a send whose request may have reached Telegram
is recorded "uncertain" and never repeated with the same key; callers decide what else to do
(the digest jobs carry that day's reminders into the chat's next digest, see
:mod:`schedules.jobs`). What cannot be prevented: a message that really was lost is then late,
not repeated at once; and a crash between a send and its log line still repeats that one
message at the next run.

Flood limits: the Application's ``AIORateLimiter(max_retries=0)`` keeps the bot under 30
messages/s overall and 20/min per group and re-raises RetryAfter to us; on top of it the
dispatcher spaces messages to one chat (1 s, 3 s for groups) because the rate limiter lets a
group take 20 messages in one burst, which Telegram answers with a long flood wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.clock import Clock
from bot.repository import CLAIM_TIMEOUT
from bot.store import StorageError, Store

logger = logging.getLogger(__name__)

SENT = "sent"
SKIPPED = "skipped"
UNDELIVERABLE = "undeliverable"
FAILED = "failed"
UNCERTAIN = "uncertain"
"""The request may have reached Telegram but its answer was lost (read timeout, connection
dropped after sending): the message may or may not be in the chat. Never resent by key."""
CLAIMED = "claimed"
"""Another sender (another process) claimed the key and has not settled it yet: not sent by
this call, to be tried again later (the claim then is settled, or dead and taken over)."""
STATUSES = (SENT, SKIPPED, UNDELIVERABLE, FAILED, UNCERTAIN, CLAIMED)
CLAIM_RENEW = CLAIM_TIMEOUT / 3  # the contract's timeout (bot.repository)
"""A send still retrying renews its claim when it is this old."""
_NOT_SENT_YET = (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout, httpx.ConnectError,
                 httpx.WriteError, httpx.UnsupportedProtocol, httpx.ProxyError)
"""httpx errors raised before the whole request left: Telegram cannot have acted on it."""
_ANSWER_LOST = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)
"""httpx errors raised after the request left: Telegram may have acted on it."""

MAX_MIGRATIONS = 3
"""A chat migrates once in its life; more hops in one send means a loop, not a migration."""
_URL_PREFIXES = ("http://", "https://", "tg://")
_PACE_MEMORY = 4096
"""Forget pacing stamps beyond this many chats (only stamps older than the interval)."""

Rows = Sequence[Sequence[tuple[str, str]]]
Sleep = Callable[[float], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to deliver; ``key`` makes a repeated send (restart, re-run) a no-op."""

    key: str
    chat_id: int
    text: str
    """Telegram HTML; callers escape user and document text."""
    rows: Rows = ()
    """Inline keyboard rows of (label, callback_data); data starting with http(s):// is a URL."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one :class:`Outgoing` (and what the delivery log now says)."""

    key: str
    chat_id: int
    """Final chat id (the supergroup's id after a migration)."""
    status: str
    """"sent", "skipped" (already sent), "undeliverable", "failed" (gave up retrying) or
    "uncertain" (may have arrived; not repeated)."""
    detail: str | None = None
    message_id: int | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    """Counts of a broadcast, for the admin's answer and ``store.log_announcement``."""

    sent: int
    skipped: int
    undeliverable: int
    failed: int
    failed_chats: tuple[int, ...]
    """Chats that did not get the message (undeliverable or failed), in input order."""
    uncertain: int = 0
    uncertain_chats: tuple[int, ...] = ()
    """Chats that may or may not have it (answer lost), in input order; not resent."""
    claimed: int = 0
    """Messages another process was sending at that moment (see "claim before send")."""

    @property
    def delivered(self) -> int:
        """Messages the chats have, whether sent now or by an earlier run."""
        return self.sent + self.skipped


def summarize(outcomes: Iterable[Outcome]) -> Report:
    """Count outcomes by status; list each chat that got nothing once."""
    counts = dict.fromkeys(STATUSES, 0)
    failed: dict[int, None] = {}
    uncertain: dict[int, None] = {}
    for outcome in outcomes:
        counts[outcome.status] += 1
        if outcome.status in (UNDELIVERABLE, FAILED):
            failed[outcome.chat_id] = None
        elif outcome.status == UNCERTAIN:
            uncertain[outcome.chat_id] = None
    return Report(counts[SENT], counts[SKIPPED], counts[UNDELIVERABLE], counts[FAILED],
                  tuple(failed), counts[UNCERTAIN], tuple(c for c in uncertain if c not in failed),
                  counts[CLAIMED])


def answer_may_be_lost(exc: NetworkError) -> bool:
    """True when the request may have reached Telegram and only its answer is missing.

    PTB raises TimedOut for every httpx timeout and NetworkError for other transport errors,
    with the httpx exception as ``__cause__``; an error answer from Telegram (5xx) has no
    httpx cause: the request was answered, so it is safe to repeat.
    """
    cause = exc.__cause__
    if isinstance(cause, _NOT_SENT_YET):
        return False
    if isinstance(cause, _ANSWER_LOST):
        return True
    return isinstance(exc, TimedOut)  # a timeout of unknown kind: assume it went out


def retry_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whether PTB gives an int or (PTB_TIMEDELTA) a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns on each access that the attribute will become a timedelta.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    """Pure (label, data) rows to Telegram's keyboard (same convention as handlers.common)."""
    built = [[InlineKeyboardButton(label, url=data) if data.startswith(_URL_PREFIXES)
              else InlineKeyboardButton(label, callback_data=data) for label, data in row]
             for row in rows]
    built = [row for row in built if row]
    return InlineKeyboardMarkup(built) if built else None


class Dispatcher:
    """Sends :class:`Outgoing` messages with retries, pacing and a delivery log entry each.

    Use from the event loop only (the store has one writer), and keep one instance per bot
    (e.g. in ``bot_data``): per-chat pacing and migrated ids are remembered per instance.
    ``sleep``, ``monotonic`` and ``jitter`` are injectable so tests never wait for real time.
    """

    def __init__(self, bot: Bot, store: Store, clock: Clock, *, max_attempts: int = 5,
                 base_delay: float = 1.0, max_delay: float = 60.0, sleep: Sleep = asyncio.sleep,
                 max_flood_waits: int = 20, max_flood_wait: float = 3600.0,
                 chat_interval: float = 1.0, group_interval: float = 3.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 jitter: Callable[[], float] = random.random) -> None:
        if max_attempts < 1 or max_flood_waits < 0:
            raise ValueError("max_attempts must be >= 1 and max_flood_waits >= 0")
        self.bot = bot
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts
        """Give up after this many network errors (5xx, timeouts) for one message."""
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_flood_waits = max_flood_waits
        """Give up after this many RetryAfter answers for one message."""
        self.max_flood_wait = max_flood_wait
        """A flood wait longer than this (seconds) is a give-up, not a sleep."""
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._jitter = jitter
        self._locks: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        self._last_send: dict[int, float] = {}
        self._migrated: dict[int, int] = {}

    # ------------------------------------------------------------------ public API
    async def send(self, msg: Outgoing) -> Outcome:
        """Deliver one message; never raises for Telegram errors."""
        return await self._send(msg, None)

    async def send_many(self, msgs: Iterable[Outgoing], *,
                        concurrency: int = 30) -> list[Outcome]:
        """Deliver many messages concurrently; one chat's messages go in order.

        At most ``concurrency`` requests are in flight; waits (pacing, flood, backoff) do not
        hold a slot. Outcomes come back in input order.
        """
        items = list(msgs)
        gate = asyncio.Semaphore(max(1, concurrency))
        outcomes: list[Outcome | None] = [None] * len(items)
        chains: dict[int, list[int]] = {}
        for index, msg in enumerate(items):
            chains.setdefault(msg.chat_id, []).append(index)

        async def run(indexes: list[int]) -> None:
            for index in indexes:
                outcomes[index] = await self._send(items[index], gate)

        await asyncio.gather(*(run(indexes) for indexes in chains.values()))
        done = [o for o in outcomes if o is not None]
        assert len(done) == len(items)  # every chain ran to its end (send never raises)
        return done

    # ------------------------------------------------------------------ internals
    async def _send(self, msg: Outgoing, gate: asyncio.Semaphore | None) -> Outcome:
        async with self._chat_lock(msg.chat_id):
            # Checked under the chat's lock, so two runs with the same key cannot both send.
            previous = self.store.delivery(msg.key)
            if previous is not None and previous.status in (SENT, UNCERTAIN):
                chat_id = previous.chat_id if previous.chat_id is not None else msg.chat_id
                if previous.status == UNCERTAIN:  # may be in the chat: never twice by key
                    logger.debug("skip %s: uncertain since %s", msg.key, previous.at)
                    return Outcome(msg.key, chat_id, UNCERTAIN, previous.detail, None, 0)
                logger.debug("skip %s: already sent", msg.key)
                return Outcome(msg.key, chat_id, SKIPPED,
                               f"already sent at {previous.at.isoformat()}", None, 0)
            try:
                return await self._deliver(msg, gate)
            except Exception as exc:  # a bug must not sink a broadcast nor go unlogged
                logger.exception("unexpected error sending %s", msg.key)
                chat_id = self._migrated.get(msg.chat_id, msg.chat_id)
                return self._give_up(msg, chat_id, FAILED, f"unexpected error: {exc!r}", 1)

    def _claim(self, msg: Outgoing, chat_id: int) -> Outcome | None:
        """Claim ``msg.key`` for this send: None when ours, else the outcome to return."""
        try:
            if self.store.claim_delivery(msg.key, chat_id=chat_id, now=self.clock.now()):
                return None
        except StorageError as exc:  # cannot claim: cannot be sure nobody else sends it
            logger.exception("could not claim %s", msg.key)
            return Outcome(msg.key, chat_id, FAILED, f"could not claim: {exc.message}", None, 0)
        return self._not_claimed(msg, chat_id)

    def _not_claimed(self, msg: Outgoing, chat_id: int) -> Outcome:
        """Somebody else holds the key: report what the log says now (it may have settled)."""
        current = self.store.delivery(msg.key)
        if current is not None and current.chat_id is not None:
            chat_id = current.chat_id
        if current is not None and current.status == SENT:
            return Outcome(msg.key, chat_id, SKIPPED,
                           f"already sent at {current.at.isoformat()}", None, 0)
        if current is not None and current.status == UNCERTAIN:
            return Outcome(msg.key, chat_id, UNCERTAIN, current.detail, None, 0)
        since = current.at.isoformat() if current is not None else "?"
        logger.info("skip %s: claimed by another sender since %s", msg.key, since)
        return Outcome(msg.key, chat_id, CLAIMED, f"claimed by another sender since {since}",
                       None, 0)

    async def _deliver(self, msg: Outgoing, gate: asyncio.Semaphore | None) -> Outcome:
        chat_id = self._migrated.get(msg.chat_id, msg.chat_id)
        markup = keyboard(msg.rows)
        attempts = network_errors = flood_waits = migrations = 0
        claimed_at: float | None = None
        while True:
            await self._pace(chat_id)
            if claimed_at is not None and \
                    self._monotonic() - claimed_at >= CLAIM_RENEW.total_seconds():
                # Still ours: renew, so a long flood wait never looks like a dead sender.
                self._safely(self.store.record_delivery, msg.key, chat_id=chat_id,
                             status=CLAIMED, now=self.clock.now())
                claimed_at = self._monotonic()
            attempts += 1
            try:
                async with gate or contextlib.nullcontext():
                    if claimed_at is None:
                        # Claimed once a request slot is ours, right before the first send:
                        # at most ``concurrency`` claims are open when a process dies.
                        refused = self._claim(msg, chat_id)
                        if refused is not None:
                            return refused
                        claimed_at = self._monotonic()
                    message = await self.bot.send_message(
                        chat_id, msg.text, parse_mode=ParseMode.HTML, reply_markup=markup)
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                flood_waits += 1
                if flood_waits > self.max_flood_waits or wait > self.max_flood_wait:
                    return self._give_up(msg, chat_id, FAILED,
                                         f"flood control: {flood_waits} waits, last "
                                         f"retry_after={wait:g}s", attempts)
                logger.info("flood wait %gs for %s (chat %s)", wait, msg.key, chat_id)
                await self._sleep(wait)
            except ChatMigrated as exc:
                migrations += 1
                new_id = int(exc.new_chat_id)
                if migrations > MAX_MIGRATIONS or new_id == chat_id:
                    return self._give_up(msg, chat_id, FAILED,
                                         f"migration loop at chat {new_id}", attempts)
                logger.info("chat %s migrated to %s; resending %s", chat_id, new_id, msg.key)
                self._safely(self.store.migrate_chat, chat_id, new_id, self.clock.now())
                self._migrated[msg.chat_id] = self._migrated[chat_id] = new_id
                chat_id = new_id
            except Forbidden as exc:
                detail = self._scrub(exc.message)
                self._safely(self.store.set_chat_active, chat_id, False, detail,
                             self.clock.now())
                return self._give_up(msg, chat_id, UNDELIVERABLE, detail, attempts)
            except BadRequest as exc:  # before NetworkError: BadRequest subclasses it
                return self._give_up(msg, chat_id, UNDELIVERABLE, self._scrub(exc.message),
                                     attempts)
            except NetworkError as exc:
                detail = self._scrub(exc.message)
                if answer_may_be_lost(exc):
                    # The request may have reached Telegram: count it for the chat's pacing,
                    # and do not repeat it (most such messages did arrive).
                    self._stamp(chat_id)
                    return self._give_up(msg, chat_id, UNCERTAIN,
                                         f"answer lost after attempt {attempts} ({detail}); "
                                         "may have been delivered, not repeated", attempts)
                network_errors += 1
                if network_errors >= self.max_attempts:
                    return self._give_up(msg, chat_id, FAILED,
                                         f"gave up after {attempts} attempts: {detail}",
                                         attempts)
                delay = self._backoff(network_errors)
                logger.info("%s for %s (chat %s), retry in %.2fs", detail, msg.key, chat_id,
                            delay)
                await self._sleep(delay)
            except TelegramError as exc:  # invalid token, conflict...: retrying cannot help
                return self._give_up(msg, chat_id, FAILED, self._scrub(exc.message), attempts)
            else:
                # Recorded right after the send, with no await in between: a crash or restart
                # between these two lines is the only way a message can be sent twice (a
                # request whose answer was lost is "uncertain" and never repeated).
                self._safely(self.store.record_delivery, msg.key, chat_id=chat_id,
                             status=SENT, now=self.clock.now())
                self._stamp(chat_id)
                logger.debug("sent %s to chat %s", msg.key, chat_id)
                return Outcome(msg.key, chat_id, SENT, None, message.message_id, attempts)

    def _give_up(self, msg: Outgoing, chat_id: int, status: str, detail: str,
                 attempts: int) -> Outcome:
        """Write the give-up to the delivery log (nothing is dropped silently)."""
        logger.warning("%s %s for chat %s after %d attempt(s): %s", msg.key, status, chat_id,
                       attempts, detail)
        self._safely(self.store.record_delivery, msg.key, chat_id=chat_id, status=status,
                     now=self.clock.now(), detail=detail)
        return Outcome(msg.key, chat_id, status, detail, None, attempts)

    @staticmethod
    def _safely(write: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """A storage failure is logged, not raised: the message's fate is already decided."""
        try:
            write(*args, **kwargs)
        except StorageError:
            logger.exception("could not record a delivery change (%s)", write.__name__)

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with "equal jitter": between half and all of the step."""
        step = min(self.max_delay, self.base_delay * 2 ** (failures - 1))
        return step / 2 + step / 2 * self._jitter()

    async def _pace(self, chat_id: int) -> None:
        """Wait until the chat's last message is one interval old (groups: 20/min)."""
        last = self._last_send.get(chat_id)
        if last is None:
            return
        interval = self.group_interval if chat_id < 0 else self.chat_interval
        wait = last + interval - self._monotonic()
        if wait > 0:
            await self._sleep(wait)

    def _stamp(self, chat_id: int) -> None:
        now = self._monotonic()
        if len(self._last_send) >= _PACE_MEMORY:
            horizon = now - max(self.chat_interval, self.group_interval)
            self._last_send = {c: t for c, t in self._last_send.items() if t > horizon}
        self._last_send[chat_id] = now

    @contextlib.asynccontextmanager
    async def _chat_lock(self, chat_id: int) -> AsyncIterator[None]:
        """One send at a time per chat, so its messages keep their order and spacing."""
        lock, users = self._locks.setdefault(chat_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[chat_id]

    def _scrub(self, text: str) -> str:
        """Error texts go to logs and the database: make sure the token is never among them."""
        token = getattr(self.bot, "token", "")
        return text.replace(token, "<token>") if token else text
