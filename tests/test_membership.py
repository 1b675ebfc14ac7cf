"""bot.membership, pure parts: the role table, refusals worded for the chat, reading rules,
and invitation links (signature, expiry, revocation, single use)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import NotAllowed
from bot.membership import (
    INVALID_LINK,
    MIN_ROLE,
    Action,
    Actor,
    Role,
    check_admin,
    check_list_members,
    check_manage_chat,
    check_read_unit,
    check_task,
    invitation_links,
    invitation_payload,
    may,
    parse_invitation_payload,
    task_role,
    verify_invitation,
)
from bot.records import Invitation, StoredTask

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
KEY = b"a-secret-key-of-the-office-000001"
LEAD, SUPPORT, OTHER = "x|ytế", "x|tc", "x|khác"
NAMES = {LEAD: "Phòng Y tế", SUPPORT: "Phòng Tài chính", OTHER: "Phòng Khác"}.get


def name(key: str) -> str:
    return NAMES(key) or key


def _task(**kw: object) -> StoredTask:
    base: dict = dict(id=17, doc_id=1, line=10, end_line=10, section="II.1", text="Báo cáo",
                      lead=(LEAD,), support=(SUPPORT,), due=date(2022, 12, 31))
    base.update(kw)
    return StoredTask(**base)


def actor(*keys: str, admin: bool = False, group: bool = False, group_admin: bool = False,
          open_read: bool = False) -> Actor:
    return Actor(chat_id=-5 if group else 5, chat_type="group" if group else "private",
                 unit_keys=keys, admin=admin, group_admin=group_admin, open_read=open_read)


ACTORS = {
    Role.NONE: actor(OTHER),
    Role.SUPPORT: actor(SUPPORT),
    Role.LEAD: actor(OTHER, LEAD),
    Role.ADMIN: actor(admin=True),
}


# ------------------------------------------------------------------------------ task roles
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_table(role: Role, action: Action) -> None:
    who = ACTORS[role]
    assert task_role(_task(), who) is role
    assert may(action, _task(), who) == (role >= MIN_ROLE[action])


def test_the_table_says_what_the_issue_says() -> None:
    lead_only = {a for a, r in MIN_ROLE.items() if r is Role.LEAD}
    support = {a for a, r in MIN_ROLE.items() if r is Role.SUPPORT}
    assert lead_only == {Action.CLOSE, Action.REOPEN, Action.PROGRESS, Action.SNOOZE}
    assert support == {Action.VIEW, Action.COMMENT, Action.REMIND}
    assert MIN_ROLE[Action.EXTEND] is Role.ADMIN


@pytest.mark.parametrize(("who", "fragment"), [
    (actor(SUPPORT), "Bạn thuộc đơn vị phối hợp nhiệm vụ #17; chỉ đơn vị chủ trì (Phòng Y tế) "
                     "mới báo hoàn thành được."),
    (actor(SUPPORT, group=True), "Nhóm này thuộc đơn vị phối hợp nhiệm vụ #17"),
    (actor(OTHER), "Nhiệm vụ #17 do Phòng Y tế chủ trì; bạn chưa là thành viên của đơn vị đó "
                   "nên không báo hoàn thành được."),
    (actor(group=True, group_admin=True), "do Phòng Y tế chủ trì; nhóm này chưa là thành viên"),
])
def test_refusals_are_worded_for_the_chat(who: Actor, fragment: str) -> None:
    with pytest.raises(NotAllowed) as info:
        check_task(Action.CLOSE, _task(), who, name)
    assert fragment in info.value.message
    other = "nhóm này" if not who.group else "bạn "
    assert other not in info.value.message.lower()


def test_task_without_lead_only_admins() -> None:
    with pytest.raises(NotAllowed, match="chưa xác định đơn vị chủ trì"):
        check_task(Action.REOPEN, _task(lead=(), support=()), actor(SUPPORT), name)
    check_task(Action.REOPEN, _task(lead=(), support=()), actor(admin=True), name)


def test_extension_is_for_admins_even_in_the_lead_unit() -> None:
    with pytest.raises(NotAllowed, match="Chỉ quản trị viên của bot mới được gia hạn"):
        check_task(Action.EXTEND, _task(), actor(LEAD), name)


def test_open_read_lets_anyone_see_a_task_but_nothing_more() -> None:
    reader = actor(OTHER, open_read=True)
    check_task(Action.VIEW, _task(), reader, name)
    for action in (Action.CLOSE, Action.SNOOZE, Action.COMMENT, Action.REMIND):
        assert not may(action, _task(), reader)


# ------------------------------------------------------------------------------ other rules
def test_reading_a_unit() -> None:
    check_read_unit(LEAD, "Phòng Y tế", actor(LEAD))
    check_read_unit(LEAD, "Phòng Y tế", actor(admin=True))
    check_read_unit(LEAD, "Phòng Y tế", actor(open_read=True))
    with pytest.raises(NotAllowed) as private:
        check_read_unit(LEAD, "Phòng Y tế", actor(SUPPORT))
    assert private.value.message.startswith("Bạn chưa là thành viên của Phòng Y tế")
    assert "Gõ /dangky Phòng Y tế" in private.value.message
    with pytest.raises(NotAllowed) as group:
        check_read_unit(LEAD, "Phòng Y tế", actor(group=True))
    assert group.value.message.startswith("Nhóm này chưa là thành viên")
    assert "Quản trị viên của nhóm có thể gõ /dangky" in group.value.message


def test_member_lists_stay_closed_even_with_open_read() -> None:
    check_list_members(LEAD, "Phòng Y tế", actor(LEAD))
    with pytest.raises(NotAllowed, match="danh sách thành viên"):
        check_list_members(LEAD, "Phòng Y tế", actor(open_read=True))


def test_admin_and_group_management_rights() -> None:
    check_admin(actor(admin=True), "mời")
    with pytest.raises(NotAllowed, match="Chỉ quản trị viên của bot mới được mời"):
        check_admin(actor(LEAD, group=True, group_admin=True), "mời")
    check_manage_chat(actor(), "x")  # a private chat manages itself
    check_manage_chat(actor(group=True, group_admin=True), "x")
    check_manage_chat(actor(group=True, admin=True), "x")
    with pytest.raises(NotAllowed, match="chỉ quản trị viên của nhóm"):
        check_manage_chat(actor(LEAD, group=True), "x")


# ------------------------------------------------------------------------------ links
def _invite(**kw: object) -> Invitation:
    base: dict = dict(id=3, unit_key=LEAD, created_by=1, created_by_name="QT", created_at=NOW,
                      expires_at=NOW + timedelta(days=7), nonce="0123456789abcdef")
    base.update(kw)
    return Invitation(**base)


def test_payload_fits_a_deep_link_and_parses_back() -> None:
    invite = _invite(id=2**32 - 1)
    payload = invitation_payload(KEY, invite)
    assert re.fullmatch(r"i-[A-Za-z0-9_-]{27}", payload)  # Telegram: 64 chars of this set
    token = parse_invitation_payload(payload)
    assert token is not None and token.invite_id == invite.id
    assert verify_invitation(KEY, token, invite, NOW) == invite
    private, group = invitation_links("fake_plan_bot", payload)
    assert private == f"https://t.me/fake_plan_bot?start={payload}"
    assert group == f"https://t.me/fake_plan_bot?startgroup={payload}"


@pytest.mark.parametrize("payload", [
    "", "i-", "u-AAAAAAAA", "i-AAAA", "i-" + "A" * 28, "i-" + "A" * 40, "i-!!!!", "hello",
    "i-" + "é" * 27,
])
def test_garbage_is_no_token(payload: str) -> None:
    assert parse_invitation_payload(payload) is None


def _refused(payload: str, invite: Invitation | None, key: bytes = KEY,
             now: datetime = NOW) -> str:
    token = parse_invitation_payload(payload)
    assert token is not None
    with pytest.raises(NotAllowed) as info:
        verify_invitation(key, token, invite, now)
    return info.value.message


def test_every_changed_character_breaks_the_signature() -> None:
    invite = _invite()
    payload = invitation_payload(KEY, invite)
    for index in range(2, len(payload)):
        swapped = "B" if payload[index] != "B" else "C"
        forged = payload[:index] + swapped + payload[index + 1:]
        token = parse_invitation_payload(forged)
        if token is None:
            continue
        found = invite if token.invite_id == invite.id else replace(invite, id=token.invite_id)
        assert _refused(forged, found) == INVALID_LINK


@pytest.mark.parametrize("change", ["key", "nonce", "unit", "expiry", "missing"])
def test_a_link_is_bound_to_its_key_row_unit_and_expiry(change: str) -> None:
    invite = _invite()
    payload = invitation_payload(KEY, invite)
    key, row = KEY, invite
    if change == "key":
        key = b"another-office-key-000000000001"
    elif change == "nonce":  # a database rebuilt with the same ids
        row = replace(invite, nonce="fedcba9876543210")
    elif change == "unit":
        row = replace(invite, unit_key=OTHER)
    elif change == "expiry":
        row = replace(invite, expires_at=invite.expires_at + timedelta(days=30))
    else:
        row = None
    assert _refused(payload, row, key) == INVALID_LINK


def test_revoked_used_and_expired_links_say_so() -> None:
    invite = _invite()
    payload = invitation_payload(KEY, invite)
    assert "thu hồi" in _refused(payload, replace(invite, revoked_at=NOW))
    assert "đã được dùng" in _refused(payload, replace(invite, used_at=NOW, used_chat=9))
    late = NOW + timedelta(days=7)
    assert "đã hết hạn lúc 09:00 27/12/2022" in _refused(payload, invite, now=late)
