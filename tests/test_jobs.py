"""schedules.jobs: digest runs, sweep, catch-up, restarts and the real PTB/APScheduler jobs.

Time is a FixedClock; the dispatcher's sleep is a fake that returns at once; messages go to
the fake Bot API on 127.0.0.1 through a real ExtBot.
"""

from __future__ import annotations

import asyncio
import os
import time as time_mod
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ApplicationBuilder, Defaults, ExtBot
from telegram.request import HTTPXRequest

from bot.clock import FixedClock
from bot.config import Settings
from bot.models import DocumentInfo, ParsedPlan, Task
from bot.records import Delivery
from bot.store import Store
from handlers.common import Services
from localchat.fakeapi import FakeBotApi, check_html
from schedules.dispatch import FAILED, SENT, SKIPPED, UNCERTAIN, UNDELIVERABLE, Dispatcher
from schedules.jobs import (
    DIGEST_JOB_ID,
    GIVE_UP_AFTER,
    PRUNE_JOB_ID,
    SWEEP_JOB_ID,
    catch_up,
    run_digest,
    run_prune,
    run_sweep,
    schedule_instants,
    start_schedules,
)
from schedules.policy import next_digest_instant

pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2:telegram.warnings.PTBDeprecationWarning")

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN = 1001
YT, CA = "Phòng Y tế", "Công an thành phố"
CHATS = (-1001, -1002, 5001, 5002)
TUE = date(2022, 12, 20)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def mk(line: int, text: str, due: date | None, lead=(YT,)) -> Task:
    return Task(line=line, end_line=line, section=str(line), text=text, lead=tuple(lead),
                due=due, due_kind="explicit" if due else None)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


class Env:
    """Fake server + tmp store + fixed clock; ``run`` gives a Dispatcher on a real ExtBot."""

    def __init__(self, api: FakeBotApi, path: Path) -> None:
        self.api = api
        self.path = path
        self.clock = FixedClock(at(TUE, 7, 30))
        self.settings = Settings(admin_ids=frozenset({ADMIN}))
        self.store = Store(path)
        self.read_timeout: float | None = None

    @property
    def services(self) -> Services:
        return Services(self.settings, self.store, self.clock)

    def load(self, tasks) -> None:
        info = DocumentInfo(kind="ke_hoach", number="12/KH-UBND",
                            issuer="UBND thành phố Cẩm Phả", locality="Cẩm Phả")
        self.store.import_plan(ParsedPlan(document=info, tasks=tuple(tasks)),
                               filename="kh.txt", file_hash="kh", actor=ADMIN,
                               now=at(TUE, 7) - timedelta(days=30))

    def follow(self, chat_id: int, name: str = YT) -> None:
        key = self.store.match_unit(name, "Cẩm Phả").key
        kind = "group" if chat_id < 0 else "private"
        self.store.subscribe(chat_id, key, title=f"Nhóm {chat_id}", chat_type=kind,
                             actor=ADMIN, now=at(TUE, 7) - timedelta(days=30))
        self.api.add_chat(chat_id, kind)

    def restart(self, store_cls: type[Store] = Store) -> None:
        """The process died: the lock is released, a new Store reads the file."""
        self.store.close()
        self.store = store_cls(self.path)

    def run(self, scenario, bot_wrapper=None):
        async def main():
            request = HTTPXRequest(read_timeout=self.read_timeout) if self.read_timeout else None
            async with ExtBot(self.api.token, base_url=self.api.base_url,
                              request=request) as bot:
                target = bot_wrapper(bot) if bot_wrapper else bot
                dispatcher = Dispatcher(target, self.store, self.clock, sleep=no_sleep,
                                        jitter=lambda: 0.0)
                return await scenario(dispatcher)

        return asyncio.run(main())

    def digest(self, now: datetime, **kw):
        self.clock.set(now)
        return self.run(lambda d: run_digest(self.services, d, now, **kw))

    def sweep(self, now: datetime):
        self.clock.set(now)
        return self.run(lambda d: run_sweep(self.services, d, now))

    def catch_up(self, now: datetime, **kw):
        self.clock.set(now)
        return self.run(lambda d: catch_up(self.services, d, now, **kw))

    def sends(self) -> int:
        return sum(r["method"] == "sendMessage" for r in self.api.sent)

    def texts(self, chat_id: int) -> list[str]:
        return [check_html(r["text"]) for r in self.api.messages_to(chat_id)]


@pytest.fixture
def env(tmp_path: Path):
    with FakeBotApi() as api:
        e = Env(api, tmp_path / "bot.json")
        try:
            yield e
        finally:
            e.store.close()


@pytest.fixture
def loaded(env: Env) -> Env:
    env.load([mk(1, "Tiêm chủng mở rộng", TUE), mk(2, "Báo cáo tổng kết", TUE + timedelta(3)),
              mk(3, "An ninh trật tự", TUE, lead=(CA,))])
    for chat in CHATS[:3]:
        env.follow(chat)
    env.follow(CHATS[3], CA)
    return env


# ----------------------------------------------------------------------------- digest runs
def test_run_digest_sends_each_chat_once_and_records_the_run(loaded: Env) -> None:
    outcomes = loaded.digest(at(TUE, 7, 30))
    assert sorted(o.chat_id for o in outcomes) == sorted(CHATS)
    assert {o.status for o in outcomes} == {SENT}
    for chat in CHATS[:3]:
        (text,) = loaded.texts(chat)
        assert "Bản tin nhắc việc ngày 20/12/2022" in text and "• 1 · 20/12/2022" in text
        assert "• 2 · 23/12/2022 · còn 3 ngày" in text
        assert loaded.store.delivery_status(f"digest:{chat}:2022-12-20:1") == SENT
    assert "• 3 ·" in loaded.texts(CHATS[3])[0]
    assert loaded.store.last_digest_run() == TUE
    assert loaded.store.digest_days() == dict.fromkeys(CHATS, TUE)

    again = loaded.digest(at(TUE, 7, 31))  # a second run the same day repeats nothing
    assert {o.status for o in again} == {SKIPPED}
    assert all(len(loaded.api.messages_to(c)) == 1 for c in CHATS)


@pytest.mark.parametrize("day", [date(2022, 12, 24), date(2022, 12, 25), date(2023, 1, 23)],
                         ids=["saturday", "sunday", "tet"])
def test_no_digest_on_days_off(loaded: Env, day: date) -> None:
    loaded.store.extend(1, day, actor=ADMIN, now=at(TUE, 7))  # something due that very day
    assert loaded.digest(at(day, 7, 30)) == []
    assert loaded.sends() == 0
    assert loaded.store.last_digest_run() is None


def test_undelivered_chat_keeps_its_old_day_and_gets_the_reminders_later(loaded: Env) -> None:
    loaded.api.block_chat(CHATS[0])
    outcomes = loaded.digest(at(TUE, 7, 30))
    by_chat = {o.chat_id: o.status for o in outcomes}
    assert by_chat[CHATS[0]] == UNDELIVERABLE and by_chat[CHATS[1]] == SENT
    assert CHATS[0] not in loaded.store.digest_days()
    assert not loaded.store.chat(CHATS[0]).active  # 403: chat marked inactive


def test_failed_digest_is_retried_later_the_same_day(loaded: Env) -> None:
    chat = CHATS[2]
    loaded.api.fail_next("sendMessage", "500", n=5, chat_id=chat)  # the dispatcher's 5 tries
    outcomes = loaded.digest(at(TUE, 7, 30))
    assert {o.chat_id: o.status for o in outcomes}[chat] == FAILED
    owed = loaded.store.digest_owed()[chat]
    assert (owed.reason, owed.tries, owed.retry_at) == (FAILED, 1, at(TUE, 7, 35))
    assert loaded.store.last_digest_run() == TUE  # the run itself is recorded...
    assert loaded.sweep(at(TUE, 7, 34)) == []     # ...and the retry waits its time
    retried = loaded.sweep(at(TUE, 7, 35))
    assert [(o.chat_id, o.status) for o in retried] == [(chat, SENT)]
    (text,) = loaded.texts(chat)
    assert "Bản tin nhắc việc ngày 20/12/2022" in text and "• 1 · 20/12/2022" in text
    assert chat not in loaded.store.digest_owed()
    assert loaded.store.digest_days()[chat] == TUE
    assert all(len(loaded.api.messages_to(c)) == 1 for c in CHATS)  # nobody got it twice
    assert loaded.sweep(at(TUE, 9, 0)) == []


def test_a_restart_sends_the_failed_digest(loaded: Env) -> None:
    """Before issue 12 the day's run was recorded and a restart sent nothing."""
    chat = CHATS[0]
    loaded.api.fail_next("sendMessage", "500", n=5, chat_id=chat)
    loaded.digest(at(TUE, 7, 30))
    loaded.restart()
    outcomes = loaded.catch_up(at(TUE, 8, 0))
    assert [(o.chat_id, o.status) for o in outcomes] == [(chat, SENT)]
    assert len(loaded.texts(chat)) == 1 and chat not in loaded.store.digest_owed()


def test_retries_back_off_then_stop_for_the_day(loaded: Env) -> None:
    chat = CHATS[1]
    loaded.api.fail_next("sendMessage", "500", n=1000, chat_id=chat)
    loaded.digest(at(TUE, 7, 30))
    seen = []
    now = at(TUE, 7, 30)
    while (owed := loaded.store.digest_owed()[chat]).retry_at is not None:
        seen.append(owed.retry_at - now)
        now = owed.retry_at
        loaded.sweep(now)
    assert [int(d.total_seconds() // 60) for d in seen[:6]] == [5, 15, 30, 60, 120, 120]
    assert now <= at(TUE, 20, 0) and owed.reason == FAILED  # then: the next digest
    loaded.api.calm()
    loaded.api._faults.clear()  # the outage is over by Wednesday
    loaded.digest(at(date(2022, 12, 21), 7, 30))
    (text,) = loaded.texts(chat)
    assert "• 2 · 23/12/2022 · còn 2 ngày · nhắc bù" in text  # Tuesday's "còn 3 ngày"
    assert chat not in loaded.store.digest_owed()


def test_a_chat_that_never_had_a_digest_gets_its_reminders_in_the_next(loaded: Env) -> None:
    """missed_since used to be None for such a chat: Tuesday's reminders were gone."""
    chat = CHATS[0]
    assert chat not in loaded.store.digest_days()
    loaded.api.fail_next("sendMessage", "500", n=5, chat_id=chat)
    loaded.digest(at(TUE, 7, 30))  # and the bot is down for the rest of the day
    assert loaded.store.digest_owed()[chat].since == TUE
    loaded.digest(at(date(2022, 12, 21), 7, 30))
    (text,) = loaded.texts(chat)
    assert "Bản tin nhắc việc ngày 21/12/2022" in text
    assert "• 2 · 23/12/2022 · còn 2 ngày · nhắc bù" in text  # Tuesday's "còn 3 ngày"
    assert chat not in loaded.store.digest_owed()


def test_uncertain_digest_is_neither_failed_nor_repeated(loaded: Env) -> None:
    """The answer is lost but the digest arrived: no duplicate, no "failed" chat."""
    chat = CHATS[2]
    loaded.read_timeout = 0.3
    loaded.api.fail_next("sendMessage", "timeout", delay=0.8, deliver=True, chat_id=chat)
    outcomes = loaded.digest(at(TUE, 7, 30))
    assert {o.chat_id: o.status for o in outcomes}[chat] == UNCERTAIN
    owed = loaded.store.digest_owed()[chat]
    assert (owed.reason, owed.retry_at) == (UNCERTAIN, None)
    assert loaded.sweep(at(TUE, 9, 0)) == []
    loaded.restart()
    assert loaded.catch_up(at(TUE, 9, 5)) == []
    assert len(loaded.texts(chat)) == 1  # delivered once, never repeated
    # Had it been lost, its reminders would not be: the next digest carries them.
    loaded.digest(at(date(2022, 12, 21), 7, 30))
    assert "• 2 · 23/12/2022 · còn 2 ngày · nhắc bù" in loaded.texts(chat)[1]
    assert chat not in loaded.store.digest_owed()


@pytest.mark.parametrize("restart", [at(date(2022, 12, 21), 7, 0), at(TUE, 14, 0)],
                         ids=["down-all-tuesday", "back-past-the-grace"])
def test_downtime_is_owed_by_chats_that_never_had_a_digest(loaded: Env,
                                                          restart: datetime) -> None:
    loaded.store.record_digest_run(date(2022, 12, 19), [], now=at(date(2022, 12, 19), 7, 30))
    assert loaded.store.digest_days() == {}  # the chats followed, but had nothing on Monday
    loaded.restart()
    assert loaded.catch_up(restart) == []
    owed = loaded.store.digest_owed()
    assert set(owed) == set(CHATS) and {o.since for o in owed.values()} == {TUE}
    loaded.digest(at(date(2022, 12, 21), 7, 30))
    (text,) = loaded.texts(CHATS[0])
    assert "• 2 · 23/12/2022 · còn 2 ngày · nhắc bù" in text  # Tuesday's "còn 3 ngày"
    assert loaded.store.digest_owed() == {}


def test_older_miss_is_folded_into_the_next_digest(loaded: Env) -> None:
    loaded.store.record_digest_run(date(2022, 12, 19), CHATS, now=at(date(2022, 12, 19), 7))
    # Down on Tuesday and Wednesday morning: the catch-up at 14:00 is past its grace.
    assert loaded.catch_up(at(date(2022, 12, 21), 14, 0)) == []
    assert loaded.api.messages_to(CHATS[0]) == []
    loaded.digest(at(date(2022, 12, 22), 7, 30))
    (text,) = loaded.texts(CHATS[0])
    assert "Bản tin nhắc việc ngày 22/12/2022" in text
    assert "• 1 · 20/12/2022 · quá hạn 2 ngày · nhắc bù" in text  # Tuesday's reminder
    assert "• 2 · 23/12/2022 · còn 1 ngày" in text  # Thursday's own


# ----------------------------------------------------------------------------- catch-up
@pytest.mark.parametrize(("hour", "minute", "sent"), [
    (7, 0, False),    # before 07:30: the job will do it
    (7, 30, True),
    (9, 0, True),
    (13, 29, True),   # 5 h 59 after: within the 6 h grace
    (13, 31, False),  # past the grace: folded into tomorrow's digest instead
])
def test_catch_up_sends_todays_digest_within_grace(loaded: Env, hour: int, minute: int,
                                                   sent: bool) -> None:
    loaded.catch_up(at(TUE, hour, minute))
    assert bool(loaded.api.messages_to(CHATS[0])) is sent
    assert (loaded.store.last_digest_run() == TUE) is sent


def test_catch_up_does_not_resend_a_digest_already_sent(loaded: Env) -> None:
    loaded.digest(at(TUE, 7, 30))
    count = loaded.sends()
    assert loaded.catch_up(at(TUE, 9, 0)) == []
    assert loaded.sends() == count == len(CHATS)


def test_grace_is_configurable(loaded: Env) -> None:
    loaded.catch_up(at(TUE, 9, 0), grace=timedelta(hours=1))
    assert loaded.api.messages_to(CHATS[0]) == []


# ----------------------------------------------------------------------------- sweep
def test_sweep_sends_due_reminders_once_and_survives_restart(loaded: Env) -> None:
    store = loaded.store
    now = at(TUE, 8, 0)
    early = store.add_reminder(1, CHATS[2], at(TUE, 9, 0), ADMIN, now)
    later = store.add_reminder(2, CHATS[2], at(TUE, 15, 0), ADMIN, now)
    done = store.add_reminder(3, CHATS[3], at(TUE, 9, 0), ADMIN, now)
    store.mark_done(3, actor=ADMIN, now=now)
    assert loaded.sweep(at(TUE, 8, 59)) == []
    loaded.restart()  # reminders are rows in the database, not scheduler jobs
    outcomes = loaded.sweep(at(TUE, 9, 0))
    assert [(o.key, o.status) for o in outcomes] == [(f"remind:{early.id}", SENT)]
    (text,) = loaded.texts(CHATS[2])
    assert "Nhiệm vụ 1" in text and "hẹn lúc 09:00 20/12/2022" in text
    assert loaded.api.messages_to(CHATS[3]) == []  # task 3 is done: no reminder
    pending = {r.id for r in loaded.store.due_reminders(at(TUE, 23, 0))}
    assert pending == {later.id}
    assert done.id not in pending
    assert loaded.sweep(at(TUE, 9, 1)) == []  # nothing twice


def test_reminder_due_while_down_goes_out_late_with_a_note(loaded: Env) -> None:
    loaded.store.add_reminder(1, CHATS[2], at(TUE, 9, 0), ADMIN, at(TUE, 8, 0))
    loaded.restart()
    loaded.catch_up(at(TUE, 16, 0))  # digest past grace, but the reminder is not lost
    texts = loaded.texts(CHATS[2])
    assert len(texts) == 1 and "Gửi muộn" in texts[0]


def test_failed_reminder_is_retried_then_given_up(loaded: Env) -> None:
    reminder = loaded.store.add_reminder(1, CHATS[2], at(TUE, 9, 0), ADMIN, at(TUE, 8, 0))
    loaded.api.fail_next("sendMessage", "500", n=5)
    (outcome,) = loaded.sweep(at(TUE, 9, 0))
    assert outcome.status == FAILED
    assert loaded.store.due_reminders(at(TUE, 9, 1))  # still pending
    (outcome,) = loaded.sweep(at(TUE, 9, 1))
    assert outcome.status == SENT and len(loaded.texts(CHATS[2])) == 1
    assert not loaded.store.due_reminders(at(TUE, 9, 2))

    other = loaded.store.add_reminder(2, CHATS[2], at(TUE, 10, 0), ADMIN, at(TUE, 9, 2))
    loaded.api.fail_next("sendMessage", "500", n=5)
    late = at(TUE, 10, 0) + GIVE_UP_AFTER
    (outcome,) = loaded.sweep(late)
    assert outcome.status == FAILED
    assert loaded.store.delivery(f"remind:{other.id}").status == FAILED  # reason kept
    assert not loaded.store.due_reminders(late)  # not retried forever
    assert reminder.id != other.id


def test_sweep_sends_scheduled_announcements_to_followers(loaded: Env) -> None:
    store = loaded.store
    key = store.match_unit(CA, "Cẩm Phả").key
    one = store.schedule_announcement("Họp an ninh <khẩn>", [key], at(TUE, 10, 0),
                                      actor=ADMIN, now=at(TUE, 8, 0))
    everyone = store.schedule_announcement("Nghỉ Tết từ 20/01", [], at(TUE, 11, 0),
                                           actor=ADMIN, now=at(TUE, 8, 0))
    loaded.restart()
    outcomes = loaded.sweep(at(TUE, 10, 0))
    assert [(o.key, o.status) for o in outcomes] == [(f"announce:{one}:{CHATS[3]}", SENT)]
    assert "Họp an ninh <khẩn>" in loaded.texts(CHATS[3])[0]
    assert [a.id for a in loaded.store.scheduled_announcements()] == [everyone]
    log = loaded.store.announcements()
    assert log[-1].text == "Họp an ninh <khẩn>" and log[-1].chat_ids == (CHATS[3],)
    outcomes = loaded.sweep(at(TUE, 11, 5))
    assert sorted(o.chat_id for o in outcomes) == sorted(CHATS)
    assert loaded.store.scheduled_announcements() == []


# ----------------------------------------------------------------------------- restarts
class SimulatedCrash(BaseException):
    """The process dies (not an Exception: nothing may catch it)."""


def test_crash_between_send_and_log_repeats_exactly_that_message(loaded: Env) -> None:
    victim = f"digest:{CHATS[1]}:2022-12-20:1"
    state = {"dead": False}

    class CrashingStore(Store):
        def record_delivery(self, key, **kw):
            if state["dead"] or (key == victim and kw.get("status") == SENT):
                state["dead"] = True  # the message went out; its log line never lands
                raise SimulatedCrash(key)
            return super().record_delivery(key, **kw)

        def claim_delivery(self, key, **kw):
            if state["dead"]:  # a dead process writes nothing more
                raise SimulatedCrash(key)
            return super().claim_delivery(key, **kw)

    class DyingBot:
        """After the crash the process is gone: nothing more reaches Telegram."""

        def __init__(self, bot: ExtBot) -> None:
            self.bot, self.token = bot, bot.token

        async def send_message(self, *args, **kwargs):
            if state["dead"]:
                raise SimulatedCrash("dead")
            return await self.bot.send_message(*args, **kwargs)

    loaded.restart(CrashingStore)
    loaded.clock.set(at(TUE, 7, 30))
    # One request in flight at a time: with N in flight, the (at most N) requests already on
    # the wire when the process dies are the ones that can repeat.
    with pytest.raises(SimulatedCrash):
        loaded.run(lambda d: run_digest(loaded.services, d, at(TUE, 7, 30), concurrency=1),
                   DyingBot)
    before = Counter(r["chat_id"] for r in loaded.api.sent
                     if r["ok"] and r["method"] == "sendMessage")
    assert before[CHATS[1]] == 1 and loaded.store.last_digest_run() is None

    loaded.restart()  # start again at 07:35: the catch-up sends the rest
    loaded.clock.set(at(TUE, 7, 35))
    loaded.catch_up(at(TUE, 7, 35))
    after = Counter(r["chat_id"] for r in loaded.api.sent
                     if r["ok"] and r["method"] == "sendMessage")
    # The victim's claim (07:30) is younger than the claim timeout: another process might
    # still be sending it, so it is not repeated yet, and its chat stays owed with a retry.
    assert after == {CHATS[0]: 1, CHATS[1]: 1, CHATS[2]: 1, CHATS[3]: 1}
    assert loaded.store.delivery_status(victim) == "claimed"
    loaded.clock.set(at(TUE, 7, 40))  # retry time, claim still alive: still not repeated
    loaded.sweep(at(TUE, 7, 40))
    assert loaded.sends() == sum(after.values())
    loaded.clock.set(at(TUE, 7, 56))  # claim dead (15 min) and retry due: sent once more
    loaded.sweep(at(TUE, 7, 56))
    after = Counter(r["chat_id"] for r in loaded.api.sent
                     if r["ok"] and r["method"] == "sendMessage")
    assert after == {CHATS[0]: 1, CHATS[1]: 2, CHATS[2]: 1, CHATS[3]: 1}  # one repeat only
    for chat in CHATS:
        assert loaded.store.delivery_status(f"digest:{chat}:2022-12-20:1") == SENT
    assert loaded.store.last_digest_run() == TUE


def test_crash_before_the_digest_is_sent_on_restart(loaded: Env) -> None:
    # The bot was down at 07:30 (nothing sent, nothing recorded) and comes back at 08:10.
    loaded.restart()
    outcomes = loaded.catch_up(at(TUE, 8, 10))
    assert sorted(o.chat_id for o in outcomes if o.status == SENT) == sorted(CHATS)
    assert all(len(loaded.api.messages_to(c)) == 1 for c in CHATS)


# ----------------------------------------------------------------------------- instants, jobs
@pytest.fixture
def utc_machine():
    """Pretend the host runs in UTC (as containers do); restore afterwards."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time_mod.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time_mod.tzset()


def test_schedule_instants_are_working_days_at_digest_time(utc_machine) -> None:
    assert time_mod.localtime().tm_gmtoff == 0
    settings = Settings()
    instants = schedule_instants(settings, at(date(2022, 12, 30), 9, 0), 7)
    # 31/12 and 1/1 weekend, 2/1/2023 the New Year day off moved from Sunday.
    assert [i.date() for i in instants] == [date(2023, 1, d) for d in (3, 4, 5, 6)]
    assert all((i.hour, i.minute, i.utcoffset()) == (7, 30, timedelta(hours=7))
               for i in instants)
    first = schedule_instants(settings, at(date(2023, 1, 3), 7, 29), 1)
    assert first == [at(date(2023, 1, 3), 7, 30)]
    custom = Settings(digest_time=time(16, 45), timezone="Asia/Bangkok")
    assert schedule_instants(custom, at(date(2023, 1, 3), 7, 0), 1)[0].hour == 16


def test_real_jobs_fire_at_local_digest_time_on_a_utc_machine(loaded: Env, utc_machine) -> None:
    assert time_mod.localtime().tm_gmtoff == 0
    loaded.clock.set(at(TUE, 9, 0))  # started at 09:00, digest not sent yet: catch-up

    async def main():
        app = (ApplicationBuilder().token(loaded.api.token).base_url(loaded.api.base_url)
               .defaults(Defaults(tzinfo=loaded.settings.tz)).build())
        app.bot_data["services"] = loaded.services
        async with app:
            await start_schedules(app)
            assert isinstance(app.bot_data["dispatcher"], Dispatcher)
            await app.job_queue.start()
            try:
                digest = app.job_queue.scheduler.get_job(DIGEST_JOB_ID)
                sweep = app.job_queue.scheduler.get_job(SWEEP_JOB_ID)
                assert digest.misfire_grace_time == 3 * 3600 and digest.coalesce
                assert sweep.misfire_grace_time > 1
                (prune,) = app.job_queue.get_jobs_by_name(PRUNE_JOB_ID)
                assert (prune.next_t.hour, prune.next_t.minute) == (3, 15)
                assert prune.next_t.utcoffset() == timedelta(hours=7)
                (job,) = app.job_queue.get_jobs_by_name(DIGEST_JOB_ID)
                real_now = datetime.now(TZ)
                expected = {next_digest_instant(real_now), next_digest_instant(
                    real_now + timedelta(seconds=5))}  # in case 07:30 passes right now
                assert job.next_t in expected
                assert job.next_t.utcoffset() == timedelta(hours=7)
                assert (job.next_t.hour, job.next_t.minute) == (7, 30)
                # The job itself, run now for the next working day (a dispatcher whose
                # pacing does not wait for real time: the chats just got the catch-up).
                app.bot_data["dispatcher"] = Dispatcher(app.bot, loaded.store, loaded.clock,
                                                        sleep=no_sleep)
                loaded.clock.set(at(TUE + timedelta(1), 7, 30))
                await job.run(app)
            finally:
                await app.job_queue.stop(wait=False)

    asyncio.run(main())
    texts = loaded.texts(CHATS[0])
    assert len(texts) == 2  # the catch-up at start, then Wednesday's job run
    assert "ngày 20/12/2022" in texts[0] and "ngày 21/12/2022" in texts[1]


# ----------------------------------------------------------------------------- pruning
def test_prune_drops_old_deliveries_and_events_but_keeps_live_history(loaded: Env) -> None:
    store = loaded.store
    loaded.digest(at(TUE, 7, 30))  # delivery rows dated TUE
    gone = ParsedPlan(document=DocumentInfo(kind="ke_hoach", number="99/KH-UBND",
                                            issuer="UBND thành phố Cẩm Phả", locality="Cẩm Phả"),
                      tasks=(mk(1, "Việc sẽ bị hoàn tác", TUE),))
    result = store.import_plan(gone, filename="x.txt", file_hash="x", actor=ADMIN,
                               now=at(TUE, 8))
    dead_task = result.document.task_ids[0]
    store.mark_done(dead_task, actor=ADMIN, now=at(TUE, 8, 5))
    store.undo_import(result.document.id, ADMIN, at(TUE, 8, 10))
    store.mark_done(1, actor=ADMIN, now=at(TUE, 9))  # a live task's history
    history = store.history(1)
    later = TUE + timedelta(days=200)
    store.record_delivery("remind:recent", chat_id=CHATS[0], status=SENT,
                          now=at(later, 6))  # within the retention: stays
    old_keys = [d.key for d in store.repo.all(Delivery)]
    assert len(old_keys) >= 4
    before = {e.id: e for e in store.recent_events(1000)}
    assert any(e.task_id == dead_task for e in before.values())

    loaded.settings = Settings(admin_ids=frozenset({ADMIN}), retention_days=180)
    counts = run_prune(loaded.services, at(later, 3, 15))

    assert counts.deliveries == len(old_keys) - 1
    assert store.delivery("remind:recent") is not None
    assert all(store.delivery(k) is None for k in old_keys if k != "remind:recent")
    assert store.history(1) == history  # a live task keeps its whole history
    after = {e.id: e for e in store.recent_events(1000)}
    assert not any(e.task_id == dead_task for e in after.values())
    assert not any(e.kind == "undo_import" for e in after.values())  # its document is gone
    assert all(e.task_id in (1, 2, 3) or e.kind == "prune" or e.doc_id is not None
               for e in after.values())
    (log,) = [e for e in after.values() if e.kind == "prune"]
    assert log.data["deliveries"] == counts.deliveries and log.data["events"] == counts.events
    assert counts.events == len(before) - (len(after) - 1) > 0
    # Again: nothing is old any more, nothing goes and nothing is logged.
    assert run_prune(loaded.services, at(later, 3, 16)) == type(counts)(0, 0)
    assert len(store.recent_events(1000)) == len(after)
