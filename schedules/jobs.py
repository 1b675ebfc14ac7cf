"""The bot's clockwork: one daily digest job, one sweep job, and a catch-up at start.

Everything that must survive a restart lives in the database, not in the scheduler (PTB's
JobQueue keeps jobs in memory only):

* the daily digest is ONE cron job (id ``digest``) at ``settings.digest_time`` in
  ``settings.tz``; it runs every day and skips non-working days itself (PTB numbers
  ``run_daily(days=...)`` from Sunday = 0 while APScheduler's cron starts at Monday = 0, so
  filtering days there is a trap);
* one-off reminders (/nhacnho) and scheduled announcements are rows in the store; a sweep job
  (id ``sweep``, every minute) sends the due ones, so there is no job per reminder and a
  reminder that fell due while the bot was down goes out at the first sweep;
* at start, :func:`catch_up` sends today's digest if its time passed less than
  ``catch_up_grace`` ago and it was not sent; older misses are folded into the next digest
  (``missed_since``, from :meth:`bot.store.Store.digest_missed_since`).

A chat whose digest does not surely arrive is never dropped silently (issue 12). The store
keeps it as "owed" (:class:`bot.records.OwedDigest`) from the first day it may lack, also
when it never had a digest, and every digest of it folds those reminders in ("nhắc bù")
until one goes out in full. Besides:

* "failed" (5xx or flood waits beyond the dispatcher's own retries): the sweep tries that
  chat's digest again the same day, 5 min, 15 min, 30 min, 1 h, then every 2 h after
  (:func:`schedules.policy.digest_retry_at`), until 20:00; a restart does too;
* "uncertain" (the answer to a send was lost; it most likely arrived): not sent again, so no
  duplicate; if it was in fact lost its reminders come in the next digest;
* "undeliverable" (blocked, chat not found): the delivery log says why; nothing is retried;
* "missed" (the bot was down on a digest day, see :func:`catch_up`): a chat that never had a
  digest owes those days too; the others count from their last digest anyway.

Deliveries are idempotent (keys in the delivery log, see :mod:`schedules.digest`): running a
digest or sweep twice sends nothing twice. The only repeat possible is a message sent just
before a crash and not yet logged (and then not before its claim times out, see
:mod:`schedules.dispatch`); a part another process is still sending ("claimed") counts as
failed here: its chat is tried again later, when that claim is settled or dead.

Several processes (webhook workers on one PostgreSQL database): only the scheduler *leader*
(:mod:`schedules.leader`) runs the two jobs and the catch-up; the others take over within
about 20 s when it dies. Every process keeps a dispatcher for what its handlers send.

All functions take ``now`` (aware) from the caller, so tests drive time with a FixedClock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.errors import ConfigError
from bot.repository import PruneCounts
from bot.upkeep import prune_old
from schedules.announce import report_scheduled
from schedules.digest import (
    build_announcement,
    build_digests,
    build_reminder,
)
from schedules.dispatch import (
    CLAIMED,
    FAILED,
    SENT,
    SKIPPED,
    UNCERTAIN,
    UNDELIVERABLE,
    Dispatcher,
    Outcome,
    Outgoing,
)
from schedules.leader import AlwaysLeader, Elector, LeaderLoop, PgAdvisoryLeader
from schedules.policy import (
    DEFAULT_OVERDUE_EVERY,
    digest_instant,
    digest_retry_at,
    next_digest_instant,
)
from schedules.workdays import is_working_day

logger = logging.getLogger(__name__)

DIGEST_JOB_ID = "digest"
SWEEP_JOB_ID = "sweep"
PRUNE_JOB_ID = "prune"
PRUNE_TIME = time(3, 15)
"""Local time of the nightly pruning (issue 11): quiet, far from the digest and its retries."""
DEFAULT_MISFIRE_GRACE = timedelta(hours=3)
"""How late the daily job may still fire (event loop blocked, clock jump); APScheduler's own
default is 1 s, which silently skips a job delayed by a slow disk write."""
DEFAULT_CATCH_UP_GRACE = timedelta(hours=6)
"""At start, today's digest is still sent if its time passed less than this ago."""
SWEEP_INTERVAL = timedelta(minutes=1)
SWEEP_MISFIRE_GRACE = timedelta(seconds=50)
GIVE_UP_AFTER = timedelta(days=1)
"""A reminder or announcement still failing this long after its time is not retried."""
FINAL = (SENT, SKIPPED, UNDELIVERABLE, UNCERTAIN)
"""Outcomes after which a message is settled (FAILED may be retried at the next sweep; an
UNCERTAIN one most likely arrived and is never repeated)."""
_SEVERITY = {SENT: 0, SKIPPED: 0, UNCERTAIN: 1, UNDELIVERABLE: 2, FAILED: 3, CLAIMED: 3}
"""A chat's digest is as bad as its worst part: one failed part makes the chat "failed"."""


# ------------------------------------------------------------------------------ helpers
def _services(app_or_services: Any) -> Any:
    """Accept the Application (``bot_data["services"]``) or the Services object itself."""
    bot_data = getattr(app_or_services, "bot_data", None)
    if isinstance(bot_data, dict) and "services" in bot_data:
        return bot_data["services"]
    return app_or_services


def _local_day(services: Any, now: datetime) -> date:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(services.settings.tz).date()


def schedule_instants(settings: Any, now: datetime, days: int) -> list[datetime]:
    """Digest instants strictly after ``now`` and within ``days`` days, working days only.

    Aware datetimes in ``settings.tz`` (07:30 +07:00 by default), whatever the machine's TZ.
    """
    end = now + timedelta(days=days)
    out: list[datetime] = []
    instant = next_digest_instant(now, settings.digest_time, settings.tz)
    while instant <= end:
        if is_working_day(instant.date()):
            out.append(instant)
        instant = digest_instant(instant.date() + timedelta(days=1), settings.digest_time,
                                 settings.tz)
    return out


# ------------------------------------------------------------------------------ runs
async def run_digest(app_or_services: Any, dispatcher: Dispatcher, now: datetime, *,
                     concurrency: int = 30,
                     overdue_every: int = DEFAULT_OVERDUE_EVERY) -> list[Outcome]:
    """Send today's digests (nothing on non-working days) and record the run.

    A chat whose digest fully went out (sent or already sent) gets ``today`` as its last
    digest day; any other chat stays owed (see the module docstring): a failed one is tried
    again later today, and its reminders are folded into its next digest, never lost.
    """
    services = _services(app_or_services)
    store, settings = services.store, services.settings
    today = _local_day(services, now)
    if not is_working_day(today):
        logger.info("digest skipped: %s is not a working day", today)
        return []
    source = store.digest_source()  # the run's one read of chats, tasks, units (issue 11)
    chats = [c.id for c in source.chats if c.unit_keys]
    msgs = build_digests(store, today, offsets=settings.reminder_offsets,
                         overdue_every=overdue_every, missed_since=store.digest_missed_since(),
                         source=source)
    logger.info("digest %s: %d message(s) for %d chat(s)", today, len(msgs),
                len({m.chat_id for m in msgs}))
    outcomes = await dispatcher.send_many(msgs, concurrency=concurrency)
    _record_digests(store, today, chats, msgs, outcomes, now, settings.tz)
    return outcomes


async def run_digest_retries(app_or_services: Any, dispatcher: Dispatcher, now: datetime, *,
                             concurrency: int = 30,
                             overdue_every: int = DEFAULT_OVERDUE_EVERY) -> list[Outcome]:
    """Try again today's failed digests whose retry time has come (parts already sent or
    uncertain are skipped by their keys); called by every sweep and so at start."""
    services = _services(app_or_services)
    store, settings = services.store, services.settings
    today = _local_day(services, now)
    due = [item.chat_id for item in store.digest_owed().values()
           if item.day == today and item.retry_at is not None and item.retry_at <= now]
    if not due:
        return []
    msgs = build_digests(store, today, offsets=settings.reminder_offsets,
                         overdue_every=overdue_every, missed_since=store.digest_missed_since(),
                         chat_ids=due)
    logger.info("digest %s: retrying %d chat(s), %d message(s)", today, len(due), len(msgs))
    outcomes = await dispatcher.send_many(msgs, concurrency=concurrency)
    _record_digests(store, today, due, msgs, outcomes, now, settings.tz)
    return outcomes


def _record_digests(store: Any, today: date, chats: Iterable[int], msgs: list[Outgoing],
                    outcomes: list[Outcome], now: datetime, tz: Any) -> None:
    """One store write: delivered chats get ``today``, the others stay owed (with a retry
    time when they failed); a chat that had nothing to send owes nothing."""
    worst: dict[int, str] = {}
    moved: dict[int, int] = {}
    for msg, outcome in zip(msgs, outcomes, strict=True):
        if outcome.chat_id != msg.chat_id:
            moved[msg.chat_id] = outcome.chat_id
        chat = outcome.chat_id
        if _SEVERITY[outcome.status] >= _SEVERITY[worst.get(chat, SENT)]:
            worst[chat] = outcome.status
    owed_before = store.digest_owed()
    done: list[int] = []
    undelivered: dict[int, tuple[str, int, datetime | None]] = {}
    for chat in dict.fromkeys(moved.get(c, c) for c in chats):
        status = worst.get(chat, SENT)
        if status in (SENT, SKIPPED):
            done.append(chat)
            continue
        before = owed_before.get(chat)
        tries = before.tries + 1 if before is not None and before.day == today else 1
        retry_at = digest_retry_at(now, tries, tz) if status in (FAILED, CLAIMED) else None
        undelivered[chat] = (status, tries, retry_at)
    store.record_digest_run(today, done, now=now, undelivered=undelivered)
    if undelivered:
        retried = sum(1 for _, _, at in undelivered.values() if at is not None)
        logger.warning("digest %s not surely delivered to %d chat(s) (%d to retry today): %s",
                       today, len(undelivered), retried,
                       ", ".join(f"{c} {r}" for c, (r, _, _) in sorted(undelivered.items())))


async def run_sweep(app_or_services: Any, dispatcher: Dispatcher, now: datetime, *,
                    concurrency: int = 30) -> list[Outcome]:
    """Retry today's failed digests that are due, then send the one-off reminders and
    scheduled announcements due at ``now``.

    A reminder or announcement is marked sent once every message of it is settled (sent,
    already sent, or undeliverable); a "failed" one is retried at the next sweep until
    :data:`GIVE_UP_AFTER` has passed (the delivery log keeps the reason either way).
    """
    services = _services(app_or_services)
    store, settings = services.store, services.settings
    retried = await run_digest_retries(services, dispatcher, now, concurrency=concurrency)
    reminders = store.due_reminders(now)
    announcements = store.due_announcements(now)
    if not reminders and not announcements:
        return retried
    msgs = []
    owners: list[tuple[str, int]] = []
    for reminder in reminders:
        msg = build_reminder(store, reminder, now=now, tz=settings.tz)
        if msg is None:
            logger.info("reminder %s dropped: task %s is done or gone", reminder.id,
                        reminder.task_id)
            store.mark_reminder_sent(reminder.id, now)
            continue
        msgs.append(msg)
        owners.append(("remind", reminder.id))
    for item in announcements:
        for msg in build_announcement(store, item):
            msgs.append(msg)
            owners.append(("announce", item.id))
    outcomes = await dispatcher.send_many(msgs, concurrency=concurrency)

    by_owner: dict[tuple[str, int], list[Outcome]] = {}
    for owner, outcome in zip(owners, outcomes, strict=True):
        by_owner.setdefault(owner, []).append(outcome)
    for reminder in reminders:
        results = by_owner.get(("remind", reminder.id))
        if results is not None and _settled(results, reminder.at, now):
            store.mark_reminder_sent(reminder.id, now)
    for item in announcements:
        results = by_owner.get(("announce", item.id), [])
        if _settled(results, item.at, now):
            store.mark_announcement_sent(item.id, now)
            failed = [o.chat_id for o in results if o.status in (UNDELIVERABLE, FAILED)]
            store.log_announcement(item.text, actor=item.actor, now=now,
                                   chat_ids=[o.chat_id for o in results],
                                   unit_keys=item.unit_keys, failed=failed)
            await report_scheduled(dispatcher, store, item, results)  # to its author, once
    return retried + outcomes


def _settled(outcomes: Iterable[Outcome], at: datetime, now: datetime) -> bool:
    return all(o.status in FINAL for o in outcomes) or now - at >= GIVE_UP_AFTER


async def catch_up(app_or_services: Any, dispatcher: Dispatcher, now: datetime, *,
                   grace: timedelta = DEFAULT_CATCH_UP_GRACE,
                   concurrency: int = 30) -> list[Outcome]:
    """At start: today's digest if it is overdue by less than ``grace`` and not yet sent,
    then everything the sweep would send (reminders that fell due while the bot was down)."""
    services = _services(app_or_services)
    store, settings = services.store, services.settings
    today = _local_day(services, now)
    instant = digest_instant(today, settings.digest_time, settings.tz)
    outcomes: list[Outcome] = []
    last = store.last_digest_run()
    if last is not None and last < today:
        # Digest days lost to downtime are owed by every chat, also by a chat that never had
        # a digest (its own last day would otherwise say nothing was missed).
        past_grace = is_working_day(today) and now - instant > grace
        _owe_missed_days(store, last, today, now, include_today=past_grace)
    if not is_working_day(today):
        logger.info("catch-up: %s is not a working day", today)
    elif now < instant:
        logger.info("catch-up: today's digest is still ahead (%s)", instant.isoformat())
    elif last is not None and last >= today:
        logger.info("catch-up: today's digest was already sent")
    elif now - instant > grace:
        logger.warning("catch-up: today's digest (%s) missed by more than %s; its reminders "
                       "go into the next digest", instant.isoformat(), grace)
    else:
        logger.info("catch-up: sending today's digest (due %s)", instant.isoformat())
        outcomes += await run_digest(services, dispatcher, now, concurrency=concurrency)
    outcomes += await run_sweep(services, dispatcher, now, concurrency=concurrency)
    return outcomes


def _owe_missed_days(store: Any, last: date, today: date, now: datetime, *,
                     include_today: bool) -> None:
    """Chats with no digest day of their own owe the working days after ``last`` (the last
    run) that had no digest; chats with one already count from it."""
    day, first = last + timedelta(days=1), None
    while day < today or (include_today and day == today):
        if is_working_day(day):
            first = day
            break
        day += timedelta(days=1)
    if first is None:
        return
    known = set(store.digest_days()) | set(store.digest_owed())
    chats = [c.id for c in store.chats(active_only=True) if c.unit_keys and c.id not in known]
    if chats:
        logger.warning("catch-up: no digest since %s; %d chat(s) without one owe its reminders",
                       last, len(chats))
        store.owe_digests(chats, first, reason="missed", now=now)


def run_prune(app_or_services: Any, now: datetime) -> PruneCounts:
    """Delete delivery log rows and events older than ``settings.retention_days`` (the
    history of existing tasks and documents stays); see :func:`bot.upkeep.prune_old`."""
    services = _services(app_or_services)
    counts = prune_old(services.store, services.settings.retention_days, now)
    logger.info("prune: %d delivery row(s) and %d event(s) older than %d days deleted",
                counts.deliveries, counts.events, services.settings.retention_days)
    return counts


# ------------------------------------------------------------------------------ wiring
async def _digest_job(context: Any) -> None:
    """Daily digest (skips non-working days itself)."""
    app = context.application
    services = _services(app)
    await run_digest(services, app.bot_data["dispatcher"], services.clock.now())


async def _sweep_job(context: Any) -> None:
    """Send due one-off reminders and scheduled announcements."""
    app = context.application
    services = _services(app)
    await run_sweep(services, app.bot_data["dispatcher"], services.clock.now())


async def _prune_job(context: Any) -> None:
    """Nightly: old delivery log rows and events go (issue 11)."""
    services = _services(context.application)
    run_prune(services, services.clock.now())


def _add_prune_job(app: Any, settings: Any) -> None:
    """The nightly pruning, run where the digest and sweep jobs run (the scheduler leader)."""
    app.job_queue.run_daily(
        _prune_job, time=PRUNE_TIME.replace(tzinfo=settings.tz), days=tuple(range(7)),
        name=PRUNE_JOB_ID,
        job_kwargs={"id": PRUNE_JOB_ID, "replace_existing": True,
                    "misfire_grace_time": int(DEFAULT_MISFIRE_GRACE.total_seconds()),
                    "coalesce": True, "max_instances": 1})


LEADER_KEY = "leader"
"""``bot_data`` key of this process's :class:`~schedules.leader.LeaderLoop`."""
LEADER_HOOKS_KEY = "leader_hooks"
"""``bot_data`` key of extra ``async hook(app)`` run when this process becomes the leader
(webhook mode: setWebhook, so only one worker calls it)."""


def make_elector(settings: Any) -> Elector:
    """PostgreSQL advisory lock when ``DATABASE_URL`` is set; otherwise (TinyDB: one process
    only) this process is always the leader."""
    url = getattr(settings, "database_url", None)
    return PgAdvisoryLeader(url) if url else AlwaysLeader()


async def start_schedules(app: Any, *, misfire_grace: timedelta = DEFAULT_MISFIRE_GRACE,
                          catch_up_grace: timedelta = DEFAULT_CATCH_UP_GRACE,
                          sweep_interval: timedelta = SWEEP_INTERVAL,
                          run_catch_up: bool = True, elector: Elector | None = None) -> None:
    """Called from post_init: the dispatcher, then the leader election's first round; on the
    leader, the two jobs and the catch-up (before polling, so a restart's catch-up is done
    before the bot answers commands). A follower retries in the background (see
    :mod:`schedules.leader`); :func:`stop_schedules` ends that at shutdown."""
    services = _services(app)
    if app.job_queue is None:
        raise ConfigError("Bot thiếu JobQueue: hãy cài python-telegram-bot[job-queue].")
    dispatcher = Dispatcher(app.bot, services.store, services.clock)
    app.bot_data["dispatcher"] = dispatcher
    elector = elector or make_elector(services.settings)

    async def elected() -> None:
        _add_jobs(app, services.settings, misfire_grace, sweep_interval)
        for hook in app.bot_data.get(LEADER_HOOKS_KEY, ()):
            await hook(app)
        if not run_catch_up:
            return
        try:
            await catch_up(services, dispatcher, services.clock.now(), grace=catch_up_grace)
        except Exception:  # the bot must start even if the catch-up fails; the jobs still run
            logger.exception("catch-up at start failed")

    async def deposed() -> None:
        _remove_jobs(app)

    loop = LeaderLoop(elector, on_elected=elected, on_deposed=deposed)
    app.bot_data[LEADER_KEY] = loop
    if not await loop.step():
        logger.info("schedules: another process leads; this one retries every %g-%g s",
                    *loop.retry)
    if not isinstance(elector, AlwaysLeader):
        loop.start()


async def stop_schedules(app: Any) -> None:
    """At shutdown: end the election rounds and give the leadership up (another process takes
    it at its next round instead of waiting for this connection to die)."""
    loop = app.bot_data.pop(LEADER_KEY, None)
    if loop is not None:
        await loop.stop()


def is_leader(app: Any) -> bool:
    loop = app.bot_data.get(LEADER_KEY)
    return bool(loop is not None and loop.is_leader)


def _add_jobs(app: Any, settings: Any, misfire_grace: timedelta,
              sweep_interval: timedelta) -> None:
    at = settings.digest_time.replace(tzinfo=settings.tz)
    # Every day (PTB counts days from Sunday = 0, APScheduler from Monday = 0: do not filter
    # here); the callback skips non-working days, holidays included.
    app.job_queue.run_daily(
        _digest_job, time=at, days=tuple(range(7)), name=DIGEST_JOB_ID,
        job_kwargs={"id": DIGEST_JOB_ID, "replace_existing": True,
                    "misfire_grace_time": int(misfire_grace.total_seconds()),
                    "coalesce": True})
    app.job_queue.run_repeating(
        _sweep_job, interval=sweep_interval, first=sweep_interval, name=SWEEP_JOB_ID,
        job_kwargs={"id": SWEEP_JOB_ID, "replace_existing": True,
                    "misfire_grace_time": int(SWEEP_MISFIRE_GRACE.total_seconds()),
                    "coalesce": True, "max_instances": 1})
    _add_prune_job(app, settings)
    logger.info("schedules: digest daily at %s (%s), sweep every %s, pruning at %s",
                settings.digest_time.strftime("%H:%M"), settings.timezone, sweep_interval,
                PRUNE_TIME.strftime("%H:%M"))


def _remove_jobs(app: Any) -> None:
    for name in (DIGEST_JOB_ID, SWEEP_JOB_ID, PRUNE_JOB_ID):
        for job in app.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
