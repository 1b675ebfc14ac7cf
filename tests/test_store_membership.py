"""Memberships in the store: invitations, join requests, removal, and the upgrade of the
subscriptions an older version made (self-made private ones become requests)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.errors import UsageError
from bot.store import Store
from tests.test_store import (  # noqa: F401 - clock, db_path, store, loaded: fixtures
    ADMIN,
    CountingStorage,
    base_tasks,
    clock,
    db_path,
    key,
    loaded,
    mk_plan,
    store,
    writes,
)

WEEK = timedelta(days=7)


@pytest.fixture
def health(loaded: Store) -> str:
    return key(loaded, "Phòng Y tế")


@pytest.fixture
def finance(loaded: Store) -> str:
    return key(loaded, "Phòng TC-KH")


def test_subscribe_records_how_and_by_whom(loaded: Store, clock: FixedClock,
                                           health: str) -> None:
    loaded.subscribe(-100, health, title="Tổ Y tế", chat_type="group", actor=ADMIN,
                     now=clock.now(), by_name="Chị Lan")
    member = loaded.membership(-100, health)
    assert member is not None and member.via == "admin" and member.by == ADMIN
    assert member.by_name == "Chị Lan" and member.since == clock.now()
    assert loaded.members(health) == [member]
    assert loaded.membership(-100, "cam pha|khong co") is None


def test_request_lifecycle_approve(loaded: Store, clock: FixedClock, health: str) -> None:
    request, new = loaded.request_membership(55, health, title="Anh Nam", chat_type="private",
                                             user_id=55, user_name="Anh Nam", now=clock.now())
    assert new and request.pending and loaded.chat_units(55) == ()
    n = writes(loaded)
    again, new = loaded.request_membership(55, health, title="Anh Nam", chat_type="private",
                                           user_id=55, user_name="Anh Nam", now=clock.now())
    assert again == request and not new and writes(loaded) == n  # nothing new, no write
    decided = loaded.decide_request(request.id, approve=True, actor=ADMIN,
                                    actor_name="Quản trị", now=clock.now())
    assert writes(loaded) == n + 1  # the decision and the membership: one write
    assert decided.status == "approved" and decided.decided_by == ADMIN
    assert loaded.chat_units(55) == (health,)
    member = loaded.membership(55, health)
    assert (member.via, member.ref, member.granted_by, member.by) == ("request", request.id,
                                                                      ADMIN, 55)
    assert loaded.join_requests() == [] and loaded.join_requests(pending_only=False) == [decided]
    with pytest.raises(UsageError, match="đã được duyệt bởi Quản trị trước đó"):
        loaded.decide_request(request.id, approve=False, actor=ADMIN, actor_name="",
                              now=clock.now())
    with pytest.raises(UsageError, match="đã là thành viên"):
        loaded.request_membership(55, health, title="", chat_type="private", user_id=55,
                                  user_name="", now=clock.now())
    with pytest.raises(UsageError, match="Không có yêu cầu mã 99"):
        loaded.decide_request(99, approve=True, actor=ADMIN, actor_name="", now=clock.now())


def test_refused_request_makes_no_member(loaded: Store, clock: FixedClock, health: str) -> None:
    request, _ = loaded.request_membership(-7, health, title="Nhóm lạ", chat_type="group",
                                           user_id=9, user_name="Người lạ", now=clock.now())
    refused = loaded.decide_request(request.id, approve=False, actor=ADMIN, actor_name="QT",
                                    now=clock.now())
    assert refused.status == "refused" and loaded.chat_units(-7) == ()
    assert loaded.chat(-7) is None  # a request never creates a chat that receives anything
    # asking again after a refusal files a new request
    second, new = loaded.request_membership(-7, health, title="Nhóm lạ", chat_type="group",
                                            user_id=9, user_name="Người lạ", now=clock.now())
    assert new and second.id != request.id


def test_joining_another_way_settles_a_pending_request(loaded: Store, clock: FixedClock,
                                                       health: str) -> None:
    request, _ = loaded.request_membership(55, health, title="Anh Nam", chat_type="private",
                                           user_id=55, user_name="Anh Nam", now=clock.now())
    loaded.subscribe(55, health, title="Anh Nam", chat_type="private", actor=ADMIN,
                     now=clock.now())
    assert loaded.join_request(request.id).status == "cancelled"
    with pytest.raises(UsageError, match="không còn cần duyệt"):
        loaded.decide_request(request.id, approve=True, actor=ADMIN, actor_name="",
                              now=clock.now())


def test_invitation_is_single_use_revocable_and_expires(loaded: Store, clock: FixedClock,
                                                        health: str, finance: str) -> None:
    now = clock.now()
    first = loaded.create_invitation(health, actor=ADMIN, actor_name="QT", now=now, ttl=WEEK)
    second = loaded.create_invitation(finance, actor=ADMIN, actor_name="QT", now=now, ttl=WEEK)
    third = loaded.create_invitation(finance, actor=ADMIN, actor_name="QT", now=now,
                                     ttl=timedelta(hours=1))
    assert first.expires_at == now + WEEK and first.nonce != second.nonce
    assert [i.id for i in loaded.invitations(now=now)] == [first.id, second.id, third.id]
    request, _ = loaded.request_membership(-100, health, title="Tổ", chat_type="group",
                                           user_id=7, user_name="B", now=now)

    member = loaded.accept_invitation(first.id, chat_id=-100, title="Tổ Y tế",
                                      chat_type="group", user_id=7, user_name="Anh B", now=now)
    assert (member.via, member.ref, member.granted_by, member.by_name) == (
        "invite", first.id, ADMIN, "Anh B")
    assert loaded.chat_units(-100) == (health,)
    assert loaded.join_request(request.id).status == "cancelled"
    used = loaded.invitation(first.id)
    assert used.used_chat == -100 and used.status(now) == "used"
    with pytest.raises(UsageError, match="đã được dùng"):
        loaded.accept_invitation(first.id, chat_id=-200, title="x", chat_type="group",
                                 user_id=8, user_name="", now=now)

    revoked = loaded.revoke_invitation(second.id, actor=ADMIN, now=now)
    assert revoked.status(now) == "revoked"
    with pytest.raises(UsageError, match="đã bị thu hồi"):
        loaded.accept_invitation(second.id, chat_id=-200, title="x", chat_type="group",
                                 user_id=8, user_name="", now=now)
    later = now + timedelta(hours=2)
    assert loaded.invitations(now=later) == []
    with pytest.raises(UsageError, match="đã hết hạn"):
        loaded.accept_invitation(third.id, chat_id=-200, title="x", chat_type="group",
                                 user_id=8, user_name="", now=later)
    with pytest.raises(UsageError, match="đã hết hạn"):
        loaded.revoke_invitation(third.id, actor=ADMIN, now=later)
    assert loaded.chat_units(-200) == ()


def test_remove_member(loaded: Store, clock: FixedClock, health: str) -> None:
    loaded.subscribe(-100, health, title="Tổ", chat_type="group", actor=ADMIN, now=clock.now())
    member = loaded.membership(-100, health)
    removed = loaded.remove_member(member.id, actor=ADMIN, now=clock.now())
    assert removed == member and loaded.chat_units(-100) == () and loaded.members(health) == []
    assert loaded.recent_events(1)[0].kind == "remove_member"
    with pytest.raises(UsageError, match="trước đó"):
        loaded.remove_member(member.id, actor=ADMIN, now=clock.now())


def test_migrated_group_keeps_its_pending_request(loaded: Store, clock: FixedClock,
                                                  health: str, finance: str) -> None:
    loaded.subscribe(-100, finance, title="Tổ", chat_type="group", actor=ADMIN, now=clock.now())
    request, _ = loaded.request_membership(-100, health, title="Tổ", chat_type="group",
                                           user_id=7, user_name="B", now=clock.now())
    loaded.migrate_chat(-100, -1009, clock.now())
    moved = loaded.join_request(request.id)
    assert moved.chat_id == -1009 and moved.pending
    assert loaded.membership(-1009, finance).via == "admin"  # the row moved whole


def test_a_group_that_only_asked_keeps_its_request_when_it_migrates(
        loaded: Store, clock: FixedClock, health: str) -> None:
    request, _ = loaded.request_membership(-100, health, title="Tổ", chat_type="group",
                                           user_id=7, user_name="B", now=clock.now())
    assert loaded.chat(-100) is None
    n = writes(loaded)
    assert loaded.migrate_chat(-100, -1009, clock.now()) is None
    assert writes(loaded) == n + 1
    assert loaded.join_request(request.id).chat_id == -1009
    assert loaded.migrate_chat(-100, -1009, clock.now()) is None and writes(loaded) == n + 1


def test_everything_survives_a_reload(loaded: Store, clock: FixedClock, health: str,
                                      db_path: Path) -> None:
    now = clock.now()
    invite = loaded.create_invitation(health, actor=ADMIN, actor_name="QT", now=now, ttl=WEEK)
    request, _ = loaded.request_membership(55, health, title="Nam", chat_type="private",
                                           user_id=55, user_name="Nam", now=now)
    loaded.accept_invitation(invite.id, chat_id=-100, title="Tổ", chat_type="group",
                             user_id=7, user_name="B", now=now)
    member = loaded.membership(-100, health)
    loaded.close()
    with Store(db_path) as again:
        assert again.invitation(invite.id) == loaded.invitation(invite.id)
        assert again.join_request(request.id) == request
        assert again.membership(-100, health) == member
        fresh = again.create_invitation(health, actor=ADMIN, actor_name="", now=now, ttl=WEEK)
        assert fresh.id == invite.id + 1  # ids are never reused


MUTATIONS = {
    "request": lambda s, now, k: s.request_membership(77, k, title="t", chat_type="private",
                                                      user_id=77, user_name="t", now=now),
    "approve": lambda s, now, k: s.decide_request(1, approve=True, actor=1, actor_name="",
                                                  now=now),
    "refuse": lambda s, now, k: s.decide_request(1, approve=False, actor=1, actor_name="",
                                                 now=now),
    "invite": lambda s, now, k: s.create_invitation(k, actor=1, actor_name="", now=now,
                                                    ttl=WEEK),
    "revoke": lambda s, now, k: s.revoke_invitation(1, actor=1, now=now),
    "accept": lambda s, now, k: s.accept_invitation(1, chat_id=-5, title="t",
                                                    chat_type="group", user_id=5,
                                                    user_name="", now=now),
    "remove": lambda s, now, k: s.remove_member(s.membership(-100, k).id, actor=1, now=now),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_membership_change_writes_once(loaded: Store, clock: FixedClock, health: str,
                                            name: str) -> None:
    now = clock.now()
    loaded.request_membership(55, health, title="t", chat_type="private", user_id=55,
                              user_name="t", now=now)
    loaded.create_invitation(health, actor=1, actor_name="", now=now, ttl=WEEK)
    loaded.subscribe(-100, health, title="t", chat_type="group", actor=1, now=now)
    before = writes(loaded)
    MUTATIONS[name](loaded, now, health)
    assert writes(loaded) == before + 1


# ----------------------------------------------------------------------------- upgrade
def _legacy_file(tmp_path: Path, clock: FixedClock) -> tuple[Path, dict[str, str]]:
    """A database as the previous version left it: subscription rows without ``via``."""
    path = tmp_path / "old" / "bot.json"
    with Store(path) as store:
        store.import_plan(mk_plan(base_tasks()), filename="kh.docx", file_hash="h",
                          actor=ADMIN, now=clock.now())
        keys = {"health": key(store, "Phòng Y tế"), "finance": key(store, "Phòng TC-KH")}
        now = clock.now()
        # self-made private: a stranger followed two units
        store.subscribe(501, keys["health"], title="Người lạ", chat_type="private", actor=501,
                        now=now)
        store.subscribe(501, keys["finance"], title="Người lạ", chat_type="private",
                        actor=501, now=now)
        # made by a bot admin for someone's private chat: stays
        store.subscribe(502, keys["health"], title="Chị Hoa", chat_type="private",
                        actor=ADMIN, now=now)
        # a group bound by its administrator: stays
        store.subscribe(-600, keys["health"], title="Tổ Y tế", chat_type="group", actor=601,
                        now=now)
    data = json.loads(path.read_text(encoding="utf-8"))
    for row in data["subscriptions"].values():
        row.pop("via")
        row.pop("by_name", None)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path, keys


def test_upgrade_turns_self_made_private_subscriptions_into_requests(
        tmp_path: Path, clock: FixedClock) -> None:
    path, keys = _legacy_file(tmp_path, clock)
    with Store(path, storage=CountingStorage) as store:
        assert store.membership(501, keys["health"]).via is None  # not upgraded yet
        kept, demoted = store.upgrade_memberships({ADMIN}, clock.now())
        assert (kept, demoted) == (2, 2) and writes(store) == 1
        assert store.chat_units(501) == ()
        assert [c.id for c in store.unit_chats(keys["health"])] == [-600, 502]
        requests = store.join_requests(chat_id=501)
        assert [(r.unit_key, r.origin, r.user_id) for r in requests] == [
            (keys["health"], "upgrade", 501), (keys["finance"], "upgrade", 501)]
        assert store.membership(502, keys["health"]).via == "legacy_admin"
        assert store.membership(-600, keys["health"]).via == "legacy_group"
        assert store.upgrade_memberships({ADMIN}, clock.now()) == (0, 0)
        assert writes(store) == 1  # idempotent: nothing left to upgrade, nothing written
    with Store(path) as again:  # and it lasts
        assert again.chat_units(501) == () and len(again.join_requests()) == 2
        assert again.upgrade_memberships({ADMIN}, clock.now()) == (0, 0)
