"""Scheduler leadership on a real PostgreSQL server (tests/pgcluster.py): of several
candidates one leads; when its session dies (connection terminated, process killed with
SIGKILL) another takes over at its next round; only the leader's process runs the jobs.
Claim before send: a live claim of another process stops a second send; a dead one does not.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from telegram.ext import ApplicationBuilder, Defaults

from bot.clock import FixedClock
from bot.config import Settings
from bot.store import Store
from handlers.common import Services
from localchat.fakeapi import FakeBotApi
from schedules.dispatch import CLAIMED, SENT, SKIPPED, Dispatcher, Outgoing
from schedules.jobs import (
    DIGEST_JOB_ID,
    PRUNE_JOB_ID,
    SWEEP_JOB_ID,
    start_schedules,
    stop_schedules,
)
from schedules.leader import AlwaysLeader, LeaderLoop, PgAdvisoryLeader, lock_key
from tests.conftest import TZ

ROOT = Path(__file__).resolve().parent.parent
FAST = (0.05, 0.1)
"""Retry period of the candidates in these tests (production: 10-20 s)."""


def test_lock_key_is_fixed_across_processes_and_versions() -> None:
    assert lock_key() == lock_key("bot-nhac-viec:scheduler")
    assert lock_key() != lock_key("other") and -2**63 <= lock_key() < 2**63


def test_two_candidates_one_wins_then_the_other_after_its_connection_dies(pg_url: str) -> None:
    async def main() -> None:
        a, b = PgAdvisoryLeader(pg_url), PgAdvisoryLeader(pg_url)
        try:
            assert await a.try_acquire() is True
            assert await b.try_acquire() is False
            assert await a.still_held() is True and await b.still_held() is False
            # The server ends A's session (as when the network or the process dies).
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (a.backend_pid,))
            assert await a.still_held() is False  # A notices and stops leading
            assert await b.try_acquire() is True
            assert await a.try_acquire() is False
            await b.release()  # a clean stop hands over at once
            assert await a.try_acquire() is True
        finally:
            await a.release()
            await b.release()

    asyncio.run(main())


class Partitioned(PgAdvisoryLeader):
    """A candidate whose network can be cut: then it cannot reach the database at all."""

    down = False

    async def try_acquire(self) -> bool:
        return False if self.down else await super().try_acquire()


def test_leader_loops_hand_over_when_the_leaders_connection_is_killed(pg_url: str) -> None:
    events: list[str] = []

    def loop(name: str, elector: PgAdvisoryLeader) -> LeaderLoop:
        async def elected() -> None:
            events.append(f"{name} elected")

        async def deposed() -> None:
            events.append(f"{name} deposed")

        return LeaderLoop(elector, on_elected=elected, on_deposed=deposed, retry=FAST)

    async def main() -> None:
        ea, eb = Partitioned(pg_url), Partitioned(pg_url)
        a, b = loop("a", ea), loop("b", eb)
        assert await a.step() is True and await b.step() is False
        a.start()
        b.start()
        try:
            await asyncio.sleep(0.3)  # several rounds: nothing changes while A's session lives
            assert events == ["a elected"]
            ea.down = True  # A's network is cut and the server drops its session
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (ea.backend_pid,))
            for _ in range(200):
                if len(events) == 3:
                    break
                await asyncio.sleep(0.05)
            assert a.is_leader is False and b.is_leader is True
            assert sorted(events[1:]) == ["a deposed", "b elected"]
        finally:
            await a.stop()
            await b.stop()

    asyncio.run(main())


CANDIDATE = textwrap.dedent("""
    import asyncio, sys
    from schedules.leader import PgAdvisoryLeader

    async def main():
        leader = PgAdvisoryLeader(sys.argv[1])
        print("leader" if await leader.try_acquire() else "follower", flush=True)
        await asyncio.sleep(600)

    asyncio.run(main())
""")


def test_a_killed_leader_process_is_replaced_within_the_retry_period(pg_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CANDIDATE, pg_url], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "leader"
        elected: list[float] = []

        async def main() -> None:
            loop = asyncio.get_running_loop()

            async def on_elected() -> None:
                elected.append(loop.time())

            async def on_deposed() -> None:
                return None

            follower = LeaderLoop(PgAdvisoryLeader(pg_url), on_elected=on_elected,
                                  on_deposed=on_deposed, retry=FAST)
            assert await follower.step() is False
            follower.start()
            await asyncio.sleep(0.3)
            assert elected == []  # the other process lives: no take-over
            proc.send_signal(signal.SIGKILL)  # no clean-up: the server sees the socket close
            await asyncio.to_thread(proc.wait, 30)
            for _ in range(400):
                if elected:
                    break
                await asyncio.sleep(0.05)
            assert follower.is_leader and len(elected) == 1
            await follower.stop()

        asyncio.run(main())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_a_leader_whose_schedules_fail_to_start_gives_the_lead_away(pg_url: str) -> None:
    async def main() -> None:
        async def broken() -> None:
            raise RuntimeError("no job queue")

        async def nothing() -> None:
            return None

        a = LeaderLoop(PgAdvisoryLeader(pg_url), on_elected=broken, on_deposed=nothing)
        assert await a.step() is False
        other = PgAdvisoryLeader(pg_url)
        assert await other.try_acquire() is True
        await other.release()

    asyncio.run(main())


def test_only_the_leaders_process_runs_the_jobs(pg_url: str, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2022, 12, 20, 9, 0, tzinfo=TZ))
    settings = Settings(admin_ids=frozenset({1}), data_dir=tmp_path, database_url=pg_url)

    async def main(api: FakeBotApi) -> None:
        apps, stores = [], []
        for i in range(2):
            store = Store(tmp_path / f"bot{i}.json")
            stores.append(store)
            app = (ApplicationBuilder().token(api.token).base_url(api.base_url)
                   .defaults(Defaults(tzinfo=settings.tz)).build())
            app.bot_data["services"] = Services(settings, store, clock)
            apps.append(app)
        try:
            for app in apps:
                await app.initialize()
                await app.start()
                await start_schedules(app)
            names = [{j.name for j in app.job_queue.jobs()} for app in apps]
            assert names == [{DIGEST_JOB_ID, SWEEP_JOB_ID, PRUNE_JOB_ID}, set()]
            assert all(isinstance(app.bot_data["dispatcher"], Dispatcher) for app in apps)
            # The leader stops cleanly: the follower leads at its next round.
            await stop_schedules(apps[0])
            assert await apps[1].bot_data["leader"].step() is True
            assert {j.name for j in apps[1].job_queue.jobs()} == {
                DIGEST_JOB_ID, SWEEP_JOB_ID, PRUNE_JOB_ID}
        finally:
            for app in apps:
                await stop_schedules(app)
                await app.stop()
                await app.shutdown()
            for store in stores:
                store.close()

    with FakeBotApi() as api:
        asyncio.run(main(api))


def test_tinydb_process_is_always_the_leader() -> None:
    async def main() -> None:
        leader = AlwaysLeader()
        assert await leader.try_acquire() and await leader.still_held()

    asyncio.run(main())


# ------------------------------------------------------------------ claim before send
def test_a_live_claim_of_another_sender_stops_the_send_a_dead_one_does_not(
        tmp_path: Path) -> None:
    now = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
    clock = FixedClock(now)
    with FakeBotApi() as api, Store(tmp_path / "bot.json") as store:
        api.add_chat(5001)
        # Another process claimed this key a minute ago and is sending it.
        assert store.claim_delivery("remind:1:a", chat_id=5001, now=now - timedelta(minutes=1))

        async def main() -> list:
            async with ApplicationBuilder().token(api.token).base_url(api.base_url) \
                    .build() as app:
                dispatcher = Dispatcher(app.bot, store, clock, sleep=_no_sleep)
                first = await dispatcher.send(Outgoing("remind:1:a", 5001, "nhắc"))
                clock.set(now + timedelta(minutes=15))  # the claim is 16 min old: dead
                second = await dispatcher.send(Outgoing("remind:1:a", 5001, "nhắc"))
                third = await dispatcher.send(Outgoing("remind:1:a", 5001, "nhắc"))
                return [first.status, second.status, third.status]

        statuses = asyncio.run(main())
        assert statuses == [CLAIMED, SENT, SKIPPED]
        assert [r["chat_id"] for r in api.sent if r["method"] == "sendMessage"] == [5001]
        assert store.delivery_status("remind:1:a") == SENT


def test_claim_rule_of_the_store(tmp_path: Path) -> None:
    now = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
    with Store(tmp_path / "bot.json") as store:
        assert store.claim_delivery("k", chat_id=1, now=now) is True
        assert store.claim_delivery("k", chat_id=1, now=now + timedelta(minutes=14)) is False
        assert store.claim_delivery("k", chat_id=1, now=now + timedelta(minutes=15)) is True
        for status, again in (("sent", False), ("uncertain", False), ("failed", True),
                              ("undeliverable", True)):
            store.record_delivery("k", chat_id=1, status=status, now=now)
            assert store.claim_delivery("k", chat_id=1, now=now) is again, status
            assert store.delivery_status("k") == ("claimed" if again else status)


async def _no_sleep(_: float) -> None:
    return None

