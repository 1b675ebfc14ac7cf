"""Merging two units (issue 10, part 2): bot.unitmerge and /gopdonvi end to end."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.errors import UsageError
from bot.records import CANCELLED, PENDING
from bot.store import Store, StoreData
from bot.tracking import fingerprint
from bot.unitmerge import merge_units, plan_merge
from handlers.units import unit_ref
from tests.conftest import BotEnv
from tests.test_store import ADMIN, T0, CountingStorage, base_tasks, mk_plan, mk_task, writes

SOURCE = "quang ninh|phong y te"
TARGET = "cam pha|phong y te"
LATER = T0 + timedelta(hours=1)


def qn_tasks(extra: str = "") -> list:
    return [mk_task(1, "Giám sát dịch sốt xuất huyết" + extra, lead=["Phòng Y tế"],
                    support=["Sở Tài chính"]),
            mk_task(2, "Kiểm tra vệ sinh trường học", lead=["Sở Giáo dục và Đào tạo"],
                    support=["Phòng Y tế"])]


def qn_plan(tasks: list | None = None):
    return mk_plan(tasks or qn_tasks(), number="5/KH-UBND", issuer="UBND tỉnh Quảng Ninh",
                   locality="Quảng Ninh")


def state(store: Store) -> str:
    return json.dumps(dict(StoreData(store).tables()), sort_keys=True, default=str)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "bot.json", storage=CountingStorage)
    s.import_plan(mk_plan(base_tasks()), filename="cp.docx", file_hash="cp", actor=ADMIN,
                  now=T0)
    s.import_plan(qn_plan(), filename="qn.docx", file_hash="qn", actor=ADMIN, now=T0)
    assert s.unit(SOURCE) and s.unit(TARGET)
    yield s
    s.close()


def populate(store: Store) -> dict[str, Any]:
    """-1 in the source only, -2 in both, -3 in the target only; -4 asks for the source,
    -5 asks for both; an invitation to the source; an announcement for the source."""
    sub = dict(chat_type="group", actor=ADMIN, now=T0, by_name="QT")
    store.subscribe(-1, SOURCE, title="Y tế tỉnh", **sub)
    store.subscribe(-2, SOURCE, title="Y tế chung", **sub)
    store.subscribe(-2, TARGET, title="Y tế chung", **sub)
    store.subscribe(-3, TARGET, title="Y tế Cẩm Phả", **sub)
    ask = dict(chat_type="group", user_id=7, user_name="Nhóm", now=T0)
    store.request_membership(-4, SOURCE, title="Trạm", **ask)
    store.request_membership(-5, SOURCE, title="Trạm 2", **ask)
    store.request_membership(-5, TARGET, title="Trạm 2", **ask)
    invite = store.create_invitation(SOURCE, actor=ADMIN, actor_name="QT", now=T0,
                                     ttl=timedelta(days=3))
    other = store.match_unit("Sở Tài chính", "Quảng Ninh").key
    store.schedule_announcement("Họp giao ban", [SOURCE, other], T0 + timedelta(days=1),
                                actor=ADMIN, now=T0)
    return {"invite": invite, "member": store.membership(-1, SOURCE), "other": other}


def test_merge_moves_everything_in_one_write(store: Store) -> None:
    s = populate(store)
    plan = plan_merge(store, SOURCE, TARGET, LATER)
    assert (plan.tasks, plan.memberships, plan.duplicates, plan.requests, plan.invitations,
            plan.announcements) == (2, 1, 1, 2, 1, 1)
    n = writes(store)
    done = merge_units(store, SOURCE, TARGET, actor=ADMIN, by_name="Quản trị", now=LATER)
    assert writes(store) == n + 1
    assert done == plan
    # tasks: the source became the target, once, with a fingerprint of the new lead
    first, second = store.document_tasks(store.documents()[0].id)
    assert first.lead == (TARGET,) and first.fingerprint == fingerprint(first.text, (TARGET,))
    assert second.support == (TARGET,) and SOURCE not in second.units
    assert store.count_tasks(SOURCE) == 0
    # memberships: kept rows, no duplicate
    moved = store.membership(-1, TARGET)
    assert (moved.id, moved.since, moved.via, moved.by_name) == (
        s["member"].id, s["member"].since, s["member"].via, "QT")
    assert store.chat_units(-1) == (TARGET,) and store.chat_units(-2) == (TARGET,)
    assert [m.chat_id for m in store.members(TARGET)] == [-1, -2, -3]  # by (since, id)
    assert store.members(SOURCE) == []
    # requests, invitation, announcement
    assert [(r.chat_id, r.unit_key) for r in store.join_requests()] == [(-4, TARGET),
                                                                         (-5, TARGET)]
    assert [r.status for r in store.join_requests(pending_only=False, unit_key=SOURCE)] == [
        CANCELLED]
    assert store.invitation(s["invite"].id).status(LATER) == "revoked"
    [item] = store.scheduled_announcements()
    assert item.unit_keys == (TARGET, s["other"])
    # the directory: the source is gone, its name lands on the target
    assert store.unit(SOURCE) is None
    assert SOURCE not in [u.key for u in store.units()]
    event = store.recent_events(1)[0]
    assert (event.kind, event.data["source"], event.data["target"]) == (
        "unit_merge", SOURCE, TARGET)
    assert event.data["by_name"] == "Quản trị" and event.data["tasks"] == 2
    assert store.join_requests(unit_key=TARGET, chat_id=-4)[0].status == PENDING


def test_future_imports_land_on_the_target(store: Store) -> None:
    ids = [t.id for t in store.document_tasks(store.documents()[0].id)]
    merge_units(store, SOURCE, TARGET, actor=ADMIN, by_name="QT", now=LATER)
    # a new version of the same plan: the tasks are recognised (same ids), on the target
    again = store.import_plan(qn_plan(), filename="qn2.docx", file_hash="qn2", actor=ADMIN,
                              now=LATER)
    assert again.status == "replaced"
    tasks = store.document_tasks(again.document.id)
    assert [t.id for t in tasks] == ids and tasks[0].lead == (TARGET,)
    # a new plan of the same locality naming the source
    other = store.import_plan(
        mk_plan([mk_task(1, "Phòng chống dịch cúm", lead=["Phòng Y tế"])], number="6/KH",
                issuer="UBND tỉnh Quảng Ninh", locality="Quảng Ninh"),
        filename="qn6.docx", file_hash="qn6", actor=ADMIN, now=LATER)
    [task] = store.document_tasks(other.document.id)
    assert task.lead == (TARGET,) and store.unit(SOURCE) is None


def test_merge_refusals_change_nothing(store: Store) -> None:
    before, n = state(store), writes(store)
    with pytest.raises(UsageError, match="cùng một đơn vị"):
        merge_units(store, TARGET, TARGET, actor=ADMIN, by_name="QT", now=LATER)
    with pytest.raises(UsageError, match="Đơn vị nguồn không còn"):
        merge_units(store, "quang ninh|khong co", TARGET, actor=ADMIN, by_name="QT", now=LATER)
    assert state(store) == before and writes(store) == n
    merge_units(store, SOURCE, TARGET, actor=ADMIN, by_name="QT", now=LATER)
    after, n = state(store), writes(store)
    with pytest.raises(UsageError, match="có thể đã được gộp"):  # a second press
        merge_units(store, SOURCE, TARGET, actor=ADMIN, by_name="QT", now=LATER)
    assert state(store) == after and writes(store) == n


def test_a_chain_of_merges_keeps_the_alias_pointing_at_the_last_target(store: Store) -> None:
    store.import_plan(mk_plan([mk_task(1, "Tiêm phòng dại", lead=["Phòng Y tế"])],
                              number="7/KH", issuer="UBND thành phố Uông Bí",
                              locality="Uông Bí"),
                      filename="ub.docx", file_hash="ub", actor=ADMIN, now=T0)
    final = "uong bi|phong y te"
    merge_units(store, SOURCE, TARGET, actor=ADMIN, by_name="QT", now=LATER)
    merge_units(store, TARGET, final, actor=ADMIN, by_name="QT", now=LATER)
    new = store.import_plan(
        mk_plan([mk_task(1, "Phòng chống dịch cúm", lead=["Phòng Y tế"])], number="6/KH",
                issuer="UBND tỉnh Quảng Ninh", locality="Quảng Ninh"),
        filename="qn6.docx", file_hash="qn6", actor=ADMIN, now=LATER)
    assert store.document_tasks(new.document.id)[0].lead == (final,)
    assert store.count_tasks(final) == store.task_count - 2  # all but the two without it


def test_undo_of_an_import_made_before_the_merge_follows_it(store: Store) -> None:
    doc = store.import_plan(qn_plan(qn_tasks(" năm 2024")), filename="qn2.docx",
                            file_hash="qn2", actor=ADMIN, now=T0).document
    merge_units(store, SOURCE, TARGET, actor=ADMIN, by_name="QT", now=LATER)
    store.undo_import(doc.id, ADMIN, LATER, version=2)
    first, second = store.document_tasks(doc.id)
    assert first.text == "Giám sát dịch sốt xuất huyết"
    assert first.lead == (TARGET,) and second.support == (TARGET,)
    assert first.fingerprint == fingerprint(first.text, (TARGET,))
    assert store.unit(SOURCE) is None


# ----------------------------------------------------------------------------- end to end
STRANGER, OTHER_UNIT, GROUP, GROUP_USER = 7001, 7002, -7003, 7013
COMMAND = "/gopdonvi Phòng Y tế (Quảng Ninh) => Phòng Y tế (Cẩm Phả)"


def _setup(env: BotEnv) -> None:
    store, now = env.store, env.clock.now()
    store.import_plan(mk_plan(base_tasks()), filename="cp.docx", file_hash="cp",
                      actor=env.ADMIN, now=now)
    store.import_plan(qn_plan(), filename="qn.docx", file_hash="qn", actor=env.ADMIN, now=now)
    finance = store.match_unit("Phòng TC-KH", "Cẩm Phả").key
    store.subscribe(OTHER_UNIT, finance, title="TC", chat_type="private", actor=env.ADMIN,
                    now=now)
    store.subscribe(GROUP, SOURCE, title="Y tế tỉnh", chat_type="supergroup", actor=env.ADMIN,
                    now=now)
    store.subscribe(GROUP, TARGET, title="Y tế tỉnh", chat_type="supergroup", actor=env.ADMIN,
                    now=now)
    env.api.add_chat(GROUP, "supergroup", title="Y tế tỉnh")


def _ok_data() -> str:
    return f"gop:ok:{unit_ref(SOURCE)}:{unit_ref(TARGET)}"


async def _forge(env: BotEnv, chat_id: int, message_id: int, data: str, user: int) -> dict:
    mark = len(env.api.answered_callbacks)
    env.api.forge_callback(chat_id, message_id, data, user_id=user)
    assert await env.api.async_wait_for(lambda: len(env.api.answered_callbacks) > mark)
    return env.api.answered_callbacks[mark]


OUTSIDERS = [  # (chat, user, chat type, group admin?)
    pytest.param(STRANGER, STRANGER, "private", None, id="stranger"),
    pytest.param(OTHER_UNIT, OTHER_UNIT, "private", None, id="other_unit"),
    pytest.param(GROUP, GROUP_USER, "supergroup", False, id="group_member"),
    pytest.param(GROUP, GROUP_USER, "supergroup", True, id="group_admin"),
]


@pytest.mark.parametrize(("chat", "user", "chat_type", "group_admin"), OUTSIDERS)
def test_outsiders_cannot_merge(bot_env: BotEnv, chat: int, user: int, chat_type: str,
                                group_admin: bool | None) -> None:
    _setup(bot_env)
    if group_admin is not None:
        bot_env.api.set_member_status(GROUP, user, "administrator" if group_admin else "member")
    else:
        bot_env.api.add_chat(chat, "private")

    async def scenario(app) -> None:
        kw: dict[str, Any] = {"chat_type": chat_type}
        if group_admin is not None:
            kw["is_group_admin"] = group_admin
        anchor = await app.bot.send_message(chat, "Danh sách")
        before = state(bot_env.store)  # once started (the start-up digest writes its day)
        [reply] = await bot_env.ask(chat, COMMAND, user_id=user, **kw)
        assert "Chỉ quản trị viên của bot mới được gộp đơn vị" in reply["text"]
        assert "reply_markup" not in reply or not reply["reply_markup"]
        answer = await _forge(bot_env, chat, anchor.message_id, _ok_data(), user)
        assert answer["show_alert"] and "Chỉ quản trị viên" in answer["text"]
        assert state(bot_env.store) == before

    bot_env.run(scenario)
    assert bot_env.store.unit(SOURCE) is not None


def test_admin_merges_with_confirmation(bot_env: BotEnv) -> None:
    _setup(bot_env)
    admin, store = bot_env.ADMIN, bot_env.store
    bot_env.api.add_chat(admin, "private")
    seen: dict[str, Any] = {}

    async def scenario(app) -> None:
        await app.bot.send_message(admin, "Bắt đầu")  # the start-up digest is behind us
        [bad] = await bot_env.ask(admin, "/gopdonvi Phòng Y tế", user_id=admin)
        assert "Cách dùng: /gopdonvi" in bad["text"]
        [unknown] = await bot_env.ask(admin, "/gopdonvi Phòng Ma => Phòng Y tế (Cẩm Phả)",
                                      user_id=admin)
        assert "Không tìm thấy đơn vị" in unknown["text"]
        before = state(store)

        [preview] = await bot_env.ask(admin, COMMAND, user_id=admin)
        text = preview["text"]
        assert "Phòng Y tế (Quảng Ninh)" in text and "Phòng Y tế (Cẩm Phả)" in text
        assert "2 nhiệm vụ" in text and "0 thành viên" in text
        assert "1 thành viên đã ở cả hai đơn vị" in text
        buttons = [b["callback_data"] for row in preview["reply_markup"]["inline_keyboard"]
                   for b in row]
        assert buttons == [_ok_data(), "gop:no"]
        assert state(store) == before  # a preview changes nothing

        cancelled = await bot_env.press(admin, preview["message_id"], "gop:no", user_id=admin)
        assert "hủy" in cancelled["text"].lower()
        assert state(store) == before
        [preview] = await bot_env.ask(admin, COMMAND, user_id=admin)

        done = await bot_env.press(admin, preview["message_id"], _ok_data(), user_id=admin)
        assert "Đã gộp" in done["text"] and not done["show_alert"]
        edited = await bot_env.api.async_wait_for(
            lambda: (m := bot_env.api.message(admin, preview["message_id"]))
            and "Đã gộp" in m["text"] and m)
        assert "reply_markup" not in edited
        seen["after"] = state(store)

        again = await _forge(bot_env, admin, preview["message_id"], _ok_data(), admin)
        assert again["show_alert"] and "không còn trong danh bạ" in again["text"]

        [listing] = await bot_env.ask(GROUP, "/nhiemvu", user_id=GROUP_USER,
                                      chat_type="supergroup")
        assert "Giám sát dịch sốt xuất huyết" in listing["text"]

    bot_env.run(scenario)
    assert state(store) == seen["after"]
    assert store.unit(SOURCE) is None and store.chat_units(GROUP) == (TARGET,)
    merge = next(e for e in store.recent_events(10) if e.kind == "unit_merge")
    assert merge.actor == admin and merge.data["by_name"]
