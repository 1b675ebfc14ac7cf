"""Chat migration carries the digest bookkeeping itself (issue 10, part 3).

``Store.migrate_chat`` moves the last digest day and the owed digest ("nhắc bù") of a group
that became a supergroup, whoever calls it: the service-message handler, and the
dispatcher when Telegram answers a send with "chat migrated" (which used to lose them)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.store import Store
from localchat.fakeapi import FakeBotApi
from schedules.dispatch import SENT
from tests.test_dispatch import GROUP, NOW, SUPERGROUP, Env, msg

FRIDAY, MONDAY = date(2022, 12, 16), date(2022, 12, 19)


@pytest.fixture
def env(tmp_path: Path):
    with FakeBotApi() as api:
        store = Store(tmp_path / "db.json")
        try:
            yield Env(api, store)
        finally:
            store.close()


def test_dispatcher_migration_carries_digest_day_and_owed_reminders(env: Env) -> None:
    store = env.store
    store.record_digest_run(FRIDAY, [GROUP], now=NOW)
    store.owe_digests([GROUP], MONDAY, reason="failed", now=NOW)
    env.api.group_migrated(GROUP, SUPERGROUP)

    outcome = env.send(msg("digest:-1001:2022-12-20:1", GROUP))

    assert (outcome.status, outcome.chat_id) == (SENT, SUPERGROUP)
    assert store.chat(GROUP) is None and store.chat(SUPERGROUP) is not None
    assert store.digest_days() == {SUPERGROUP: FRIDAY}
    owed = store.digest_owed()
    assert list(owed) == [SUPERGROUP] and owed[SUPERGROUP].since == MONDAY
    assert owed[SUPERGROUP].reason == "failed"
    assert store.digest_missed_since()[SUPERGROUP] == FRIDAY


def test_migrate_chat_alone_moves_digests_in_its_one_write(env: Env) -> None:
    store = env.store
    store.record_digest_run(FRIDAY, [GROUP], now=NOW)
    store.owe_digests([GROUP], MONDAY, reason="uncertain", now=NOW)
    events = len(store.recent_events(1000))

    assert store.migrate_chat(GROUP, SUPERGROUP, NOW) is not None
    assert store.migrate_chat(GROUP, SUPERGROUP, NOW) is None  # the second news: nothing
    assert store.digest_days() == {SUPERGROUP: FRIDAY}
    assert set(store.digest_owed()) == {SUPERGROUP}
    assert [e.kind for e in store.recent_events(1000)[:-events]] == ["chat_migrate"]


def test_an_existing_new_chat_keeps_its_later_day_and_the_earlier_owed_day(env: Env) -> None:
    store = env.store
    store.record_digest_run(FRIDAY, [GROUP], now=NOW)
    store.record_digest_run(MONDAY, [SUPERGROUP], now=NOW)
    store.owe_digests([SUPERGROUP], MONDAY, reason="failed", now=NOW)
    store.owe_digests([GROUP], FRIDAY, reason="failed", now=NOW)

    store.migrate_chat(GROUP, SUPERGROUP, NOW)

    assert store.digest_days() == {SUPERGROUP: MONDAY}
    assert {c: o.since for c, o in store.digest_owed().items()} == {SUPERGROUP: FRIDAY}
