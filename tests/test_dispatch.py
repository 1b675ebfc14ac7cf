"""schedules.dispatch against the fake Bot API with a real ExtBot and AIORateLimiter."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest
from telegram.error import NetworkError, TimedOut
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.clock import FixedClock
from bot.models import DocumentInfo, ParsedPlan, Period, Task
from bot.store import Store
from localchat.fakeapi import FakeBotApi
from schedules.dispatch import (
    FAILED,
    SENT,
    SKIPPED,
    UNCERTAIN,
    UNDELIVERABLE,
    Dispatcher,
    Outcome,
    Outgoing,
    Report,
    summarize,
)

# The real AIORateLimiter logs every re-raised RetryAfter (max_retries=0) as an exception.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2:telegram.warnings.PTBDeprecationWarning")

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
PRIVATE = 5001
OTHER = 5002
BLOCKED = 5003
GROUP = -1001
SUPERGROUP = -1001234567890


class FakeTime:
    """Injected sleep and monotonic clock: records delays, returns at once, time jumps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)

    def monotonic(self) -> float:
        return self.now


def one_unit_plan() -> ParsedPlan:
    period = Period("Quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31))
    task = Task(line=1, end_line=1, section="I.1", text="Tổ chức tiêm chủng mở rộng",
                lead=("Phòng Y tế",), due=date(2022, 12, 25), due_kind="period")
    info = DocumentInfo(kind="ke_hoach", number="12/KH-UBND", issuer="UBND thành phố Cẩm Phả",
                        issued=date(2022, 10, 5), title="Kế hoạch quý IV", period=period,
                        locality="Cẩm Phả")
    return ParsedPlan(document=info, tasks=(task,))


class Env:
    """A started fake server, a tmp store with subscribed chats, a fixed clock, fake time."""

    def __init__(self, api: FakeBotApi, store: Store) -> None:
        self.api = api
        self.store = store
        self.clock = FixedClock(NOW)
        self.time = FakeTime()
        store.import_plan(one_unit_plan(), filename="kh.txt", file_hash="kh", actor=1, now=NOW)
        unit = store.units()[0].key
        for chat, kind in ((PRIVATE, "private"), (OTHER, "private"), (BLOCKED, "private"),
                           (GROUP, "group")):
            store.subscribe(chat, unit, title=f"chat {chat}", chat_type=kind, actor=1, now=NOW)
            api.add_chat(chat, kind)
        api.block_chat(BLOCKED)

    def run(self, scenario, *, read_timeout: float = 5.0, **options):
        """Run ``async scenario(dispatcher)`` with a real ExtBot pointed at the fake."""

        async def main():
            bot = ExtBot(self.api.token, base_url=self.api.base_url,
                         request=HTTPXRequest(read_timeout=read_timeout),
                         rate_limiter=AIORateLimiter(max_retries=0))
            async with bot:
                options.setdefault("jitter", lambda: 1.0)
                dispatcher = Dispatcher(bot, self.store, self.clock, sleep=self.time.sleep,
                                        monotonic=self.time.monotonic, **options)
                return await scenario(dispatcher)

        return asyncio.run(main())

    def send(self, msg: Outgoing, **options) -> Outcome:
        return self.run(lambda d: d.send(msg), **options)

    def texts(self, chat_id: int) -> list[str]:
        return [r["text"] for r in self.api.messages_to(chat_id)]

    def send_calls(self, chat_id: int) -> list[dict]:
        return [r for r in self.api.sent if r["method"] == "sendMessage"
                and r["chat_id"] == chat_id]


@pytest.fixture
def env(tmp_path: Path):
    with FakeBotApi() as api:
        store = Store(tmp_path / "db.json")
        try:
            yield Env(api, store)
        finally:
            store.close()


def msg(key: str, chat_id: int = PRIVATE, text: str | None = None, rows=()) -> Outgoing:
    return Outgoing(key, chat_id, text if text is not None else f"Nhắc việc <b>{key}</b>", rows)


# ----------------------------------------------------------------------------- single sends
def test_send_delivers_html_with_buttons_and_records_sent(env: Env) -> None:
    rows = ((("Đã xong", "done:17"), ("Hoãn 1 ngày", "snz:17:1")),)
    outcome = env.send(msg("remind:17:2022-12-20T08:00", rows=rows))

    delivered = env.api.messages_to(PRIVATE)
    assert len(delivered) == 1
    assert delivered[0]["parse_mode"] == "HTML"
    assert delivered[0]["text"] == "Nhắc việc <b>remind:17:2022-12-20T08:00</b>"
    buttons = delivered[0]["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in buttons] == [["done:17", "snz:17:1"]]
    assert outcome == Outcome("remind:17:2022-12-20T08:00", PRIVATE, SENT, None,
                              delivered[0]["message_id"], 1)
    entry = env.store.delivery("remind:17:2022-12-20T08:00")
    assert (entry.status, entry.chat_id, entry.at) == (SENT, PRIVATE, NOW)
    assert env.time.sleeps == []


def test_same_key_twice_is_skipped_and_not_resent(env: Env) -> None:
    first = env.send(msg("digest:5001:2022-12-20:1"))
    second = env.send(msg("digest:5001:2022-12-20:1"))

    assert first.status == SENT
    assert (second.status, second.attempts, second.chat_id) == (SKIPPED, 0, PRIVATE)
    assert len(env.send_calls(PRIVATE)) == 1


def test_retry_after_sleeps_that_long_and_delivers_once(env: Env) -> None:
    env.api.fail_next("sendMessage", "429", retry_after=7)
    outcome = env.send(msg("remind:1:a"))

    assert (outcome.status, outcome.attempts) == (SENT, 2)
    assert env.time.sleeps == [7.0]
    assert env.api.count_429 == 1
    assert len(env.api.messages_to(PRIVATE)) == 1


@pytest.mark.parametrize(("jitter", "expected"), [
    (1.0, [1.0, 2.0]),   # full steps: base_delay, then doubled
    (0.0, [0.5, 1.0]),   # equal jitter never waits less than half a step
])
def test_server_errors_back_off_exponentially_then_deliver(env: Env, jitter, expected) -> None:
    env.api.fail_next("sendMessage", "500", n=2)
    outcome = env.send(msg("remind:2:a"), jitter=lambda: jitter)

    assert (outcome.status, outcome.attempts) == (SENT, 3)
    assert env.time.sleeps == expected
    assert len(env.api.messages_to(PRIVATE)) == 1
    assert env.store.delivery_status("remind:2:a") == SENT


def test_backoff_is_capped_by_max_delay(env: Env) -> None:
    env.api.fail_next("sendMessage", "500", n=4)
    outcome = env.send(msg("remind:3:a"), base_delay=2.0, max_delay=5.0)

    assert outcome.status == SENT
    assert env.time.sleeps == [2.0, 4.0, 5.0, 5.0]


def test_timeout_that_lost_only_the_answer_is_uncertain_and_never_repeated(env: Env) -> None:
    env.api.fail_next("sendMessage", "timeout", delay=0.75, deliver=True)
    outcome = env.send(msg("remind:4:a"), read_timeout=0.25)

    assert (outcome.status, outcome.attempts) == (UNCERTAIN, 1)
    assert "may have been delivered" in outcome.detail
    assert len(env.api.messages_to(PRIVATE)) == 1  # it did arrive: no duplicate follows
    entry = env.store.delivery("remind:4:a")
    assert (entry.status, entry.detail) == (UNCERTAIN, outcome.detail)
    again = env.send(msg("remind:4:a"))  # a re-run (restart, retry) does not resend it
    assert (again.status, again.attempts) == (UNCERTAIN, 0)
    assert len(env.send_calls(PRIVATE)) == 1
    assert env.time.sleeps == []


def test_timeout_without_delivery_is_uncertain_too(env: Env) -> None:
    """The client cannot tell the two timeouts apart: this one is lost, and said to be
    uncertain (the digest jobs carry its reminders into the chat's next digest)."""
    env.api.fail_next("sendMessage", "timeout", delay=0.75)
    outcome = env.send(msg("remind:5:a"), read_timeout=0.25)

    assert (outcome.status, outcome.attempts) == (UNCERTAIN, 1)
    env.api.wait_for(lambda: env.send_calls(PRIVATE), timeout=3)
    assert len(env.send_calls(PRIVATE)) == 1 and env.api.messages_to(PRIVATE) == []


@pytest.mark.parametrize(("cause", "error", "status"), [
    (httpx.ConnectTimeout("connect"), TimedOut, SENT),      # never left: retried
    (httpx.PoolTimeout("pool"), TimedOut, SENT),
    (httpx.ConnectError("refused"), NetworkError, SENT),
    (httpx.ReadTimeout("read"), TimedOut, UNCERTAIN),       # left, answer lost: not repeated
    (httpx.RemoteProtocolError("closed"), NetworkError, UNCERTAIN),
    (None, TimedOut, UNCERTAIN),                            # unknown timeout: assume it left
])
def test_transport_errors_are_retried_only_when_nothing_left(env: Env, cause, error,
                                                             status) -> None:
    async def scenario(dispatcher: Dispatcher):
        real = dispatcher.bot.send_message
        calls = []

        async def flaky(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                if cause is None:
                    raise error("Timed out")
                raise error(f"httpx.{type(cause).__name__}") from cause
            return await real(*args, **kwargs)

        dispatcher.bot = SimpleNamespace(send_message=flaky, token=dispatcher.bot.token)
        return await dispatcher.send(msg("remind:11:a")), len(calls)

    outcome, calls = env.run(scenario)
    assert outcome.status == status
    assert calls == (2 if status == SENT else 1)
    assert env.store.delivery_status("remind:11:a") == status


def test_blocked_chat_becomes_inactive_without_retry_storm(env: Env) -> None:
    outcome = env.send(msg("remind:6:a", BLOCKED))

    assert (outcome.status, outcome.attempts) == (UNDELIVERABLE, 1)
    assert "blocked" in outcome.detail
    assert env.store.chat(BLOCKED).active is False
    assert BLOCKED not in [c.id for c in env.store.chats(active_only=True)]
    entry = env.store.delivery("remind:6:a")
    assert (entry.status, entry.detail) == (UNDELIVERABLE, outcome.detail)
    assert len(env.send_calls(BLOCKED)) == 1
    assert env.time.sleeps == []


def test_migrated_group_moves_in_store_and_gets_the_message(env: Env) -> None:
    units = env.store.chat_units(GROUP)
    env.api.group_migrated(GROUP, SUPERGROUP)

    async def scenario(dispatcher: Dispatcher):
        first = await dispatcher.send(msg("digest:-1001:2022-12-20:1", GROUP))
        second = await dispatcher.send(msg("digest:-1001:2022-12-20:2", GROUP))
        return first, second

    first, second = env.run(scenario)

    assert (first.status, first.chat_id, first.attempts) == (SENT, SUPERGROUP, 2)
    # The dispatcher remembers the move: no second round trip to the old id.
    assert (second.status, second.chat_id, second.attempts) == (SENT, SUPERGROUP, 1)
    assert env.store.chat(GROUP) is None
    moved = env.store.chat(SUPERGROUP)
    assert (moved.type, moved.unit_keys, moved.active) == ("supergroup", units, True)
    assert env.texts(SUPERGROUP) == ["Nhắc việc <b>digest:-1001:2022-12-20:1</b>",
                                     "Nhắc việc <b>digest:-1001:2022-12-20:2</b>"]
    assert env.store.delivery("digest:-1001:2022-12-20:1").chat_id == SUPERGROUP


def test_gives_up_after_max_attempts_and_logs_why(env: Env) -> None:
    env.api.fail_next("sendMessage", "500", n=10)
    outcome = env.send(msg("remind:7:a"), max_attempts=3)

    assert (outcome.status, outcome.attempts) == (FAILED, 3)
    assert len(env.time.sleeps) == 2
    entry = env.store.delivery("remind:7:a")
    assert entry.status == FAILED
    assert "3 attempts" in entry.detail and "Internal Server Error" in entry.detail
    assert env.api.messages_to(PRIVATE) == []
    assert len(env.send_calls(PRIVATE)) == 3


@pytest.mark.parametrize(("options", "retry_after", "sleeps", "attempts"), [
    ({"max_flood_waits": 2}, 1, [1.0, 1.0], 3),       # third 429 in a row: give up
    ({"max_flood_wait": 60.0}, 3600, [], 1),          # an hour's ban is not slept through
])
def test_flood_waits_have_their_own_cap(env: Env, options, retry_after, sleeps,
                                        attempts) -> None:
    env.api.fail_next("sendMessage", "429", n=5, retry_after=retry_after)
    outcome = env.send(msg("remind:8:a"), **options)

    assert (outcome.status, outcome.attempts) == (FAILED, attempts)
    assert env.time.sleeps == sleeps
    assert "flood control" in env.store.delivery("remind:8:a").detail


@pytest.mark.parametrize(("chat_id", "text", "detail"), [
    (PRIVATE, "<b>thẻ không đóng", "can't parse entities"),
    (777, "Chào", "chat not found"),
])
def test_bad_requests_are_undeliverable_at_once(env: Env, chat_id, text, detail) -> None:
    outcome = env.send(msg("announce:1:x", chat_id, text))

    assert (outcome.status, outcome.attempts) == (UNDELIVERABLE, 1)
    assert detail in outcome.detail.lower()
    assert env.store.delivery("announce:1:x").status == UNDELIVERABLE
    assert env.time.sleeps == []


def test_a_failed_key_is_tried_again_later(env: Env) -> None:
    env.api.fail_next("sendMessage", "500", n=2)
    assert env.send(msg("remind:9:a"), max_attempts=2).status == FAILED
    again = env.send(msg("remind:9:a"))
    assert (again.status, again.attempts) == (SENT, 1)
    assert env.store.delivery_status("remind:9:a") == SENT


@pytest.mark.parametrize(("chat_id", "interval"), [(PRIVATE, 1.0), (GROUP, 3.0)])
def test_messages_to_one_chat_are_spaced(env: Env, chat_id, interval) -> None:
    async def scenario(dispatcher: Dispatcher):
        return [await dispatcher.send(msg(f"k:{i}", chat_id)) for i in range(3)]

    outcomes = env.run(scenario)
    assert [o.status for o in outcomes] == [SENT] * 3
    assert env.time.sleeps == [interval, interval]


def test_token_never_reaches_our_logs_or_the_database(env: Env, caplog) -> None:
    env.api.fail_next("sendMessage", "500", n=5)
    with caplog.at_level(logging.DEBUG, logger="schedules.dispatch"):
        outcome = env.send(msg("remind:10:a"), max_attempts=2)
    ours = [r.getMessage() for r in caplog.records if r.name == "schedules.dispatch"]
    assert ours and outcome.status == FAILED
    assert not any(env.api.token in line for line in ours)
    assert env.api.token not in (env.store.delivery("remind:10:a").detail or "")


# ----------------------------------------------------------------------------- many
def test_send_many_keeps_chat_order_input_order_and_logs_everything(env: Env) -> None:
    env.send(msg("done-before", OTHER))
    env.api.fail_next("sendMessage", "500", chat_id=PRIVATE)
    env.api.fail_next("sendMessage", "429", retry_after=2, chat_id=GROUP)
    batch = [
        msg("p1", PRIVATE), msg("g1", GROUP), msg("o1", OTHER), msg("p2", PRIVATE),
        msg("b1", BLOCKED), msg("done-before", OTHER), msg("g2", GROUP), msg("p3", PRIVATE),
        msg("o2", OTHER),
    ]
    outcomes = env.run(lambda d: d.send_many(batch, concurrency=3))

    assert [o.key for o in outcomes] == [m.key for m in batch]
    assert {o.key: o.status for o in outcomes} == {
        "p1": SENT, "g1": SENT, "o1": SENT, "p2": SENT, "b1": UNDELIVERABLE,
        "done-before": SKIPPED, "g2": SENT, "p3": SENT, "o2": SENT}
    for chat, keys in ((PRIVATE, ["p1", "p2", "p3"]), (GROUP, ["g1", "g2"]),
                       (OTHER, ["done-before", "o1", "o2"])):
        assert env.texts(chat) == [f"Nhắc việc <b>{k}</b>" for k in keys]
    for outcome in outcomes:
        entry = env.store.delivery(outcome.key)
        assert entry is not None
        assert entry.status == (SENT if outcome.status == SKIPPED else outcome.status)
    report = summarize(outcomes)
    assert report == Report(sent=7, skipped=1, undeliverable=1, failed=0,
                            failed_chats=(BLOCKED,))
    assert report.delivered == 8


def test_send_many_bounds_requests_in_flight(env: Env) -> None:
    chats = list(range(6001, 6013))
    for chat in chats:
        env.api.add_chat(chat)
    peak = 0

    async def scenario(dispatcher: Dispatcher):
        nonlocal peak
        original = dispatcher.bot.send_message
        active = 0

        async def counting(*args, **kwargs):
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                await asyncio.sleep(0.01)  # keep the request open so overlaps are visible
                return await original(*args, **kwargs)
            finally:
                active -= 1

        dispatcher.bot = SimpleNamespace(send_message=counting, token=dispatcher.bot.token)
        return await dispatcher.send_many([msg(f"m{c}", c) for c in chats], concurrency=4)

    outcomes = env.run(scenario)
    assert [o.status for o in outcomes] == [SENT] * len(chats)
    assert peak == 4


def test_a_bug_in_one_send_is_logged_and_does_not_sink_the_batch(env: Env) -> None:
    async def scenario(dispatcher: Dispatcher):
        real = dispatcher.bot.send_message

        async def flaky(chat_id, *args, **kwargs):
            if chat_id == OTHER:
                raise RuntimeError("boom")
            return await real(chat_id, *args, **kwargs)

        dispatcher.bot = SimpleNamespace(send_message=flaky, token=dispatcher.bot.token)
        return await dispatcher.send_many([msg("x1", OTHER), msg("x2", PRIVATE)])

    first, second = env.run(scenario)
    assert (first.status, second.status) == (FAILED, SENT)
    assert "boom" in env.store.delivery("x1").detail
    assert env.store.delivery_status("x2") == SENT


def test_summarize_counts_and_lists_failed_chats_once() -> None:
    outcomes = [Outcome("a", 1, SENT), Outcome("b", 2, FAILED, "x"),
                Outcome("c", 2, UNDELIVERABLE, "y"), Outcome("d", 3, SKIPPED),
                Outcome("e", -4, UNDELIVERABLE, "z")]
    assert summarize(outcomes) == Report(1, 1, 2, 1, (2, -4))
    assert summarize([]) == Report(0, 0, 0, 0, ())
    mixed = summarize([Outcome("a", 1, UNCERTAIN, "lost"), Outcome("b", 2, UNCERTAIN),
                       Outcome("c", 2, FAILED), Outcome("d", 3, SENT)])
    assert mixed == Report(1, 0, 0, 1, (2,), 2, (1,))  # a chat counts once, failed first
    assert mixed.delivered == 1


# ----------------------------------------------------------------------------- library facts
@pytest.mark.parametrize(("chat_id", "grouped"), [(-1001, True), ("@kenh", True), (5001, False)])
def test_aioratelimiter_applies_group_limit_to_negative_ids(chat_id, grouped) -> None:
    """The dispatcher relies on PTB limiting groups (negative ids) to 20 per minute."""

    async def scenario():
        limiter = AIORateLimiter(max_retries=0)

        async def call(*args, **kwargs):
            return True

        for _ in range(20):
            await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat_id},
                                          None)
        group = limiter._group_limiters.get(chat_id)
        return group is not None and not group.has_capacity()

    assert asyncio.run(scenario()) is grouped
