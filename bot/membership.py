"""Who may act for a unit: roles, reading, invitation links and join requests.

Before this module, "this chat follows the unit" was the right to act for it, and anyone could
follow any unit. Now a chat belongs to a unit only when an admin let it in:

* an **invitation** (``/moi``): a signed, expiring, single-use deep link; opening it makes the
  chat a member (in a group only when the one who opens it administers the group);
* a **request** (``/dangky`` without an invitation): filed for the admins, who approve or
  refuse it; until then the chat gets nothing of the unit;
* a bot **admin** (ADMIN_IDS) adds a chat directly and may do everything.

Roles on a task, lowest first (:class:`Role`): none, supporting unit (may see it, comment, set
itself a reminder), lead unit (may also close, reopen, report progress and snooze it), admin
(also moves deadlines). Reading a unit's lists needs membership (admins read everything), or
the deployment's OPEN_READ setting.

The top of the module is pure (records in, decisions or :class:`bot.errors.NotAllowed` out);
the operations at the bottom take the store, check the rules, then make one store call each.
Refusals are Vietnamese and worded for the chat they are read in: "Bạn …" in a private chat,
"Nhóm này …" in a group. No Telegram types here: handlers describe who is asking with an
:class:`Actor`.

Invitation links carry ``i-`` + base64url(invitation id, expiry, HMAC-SHA256 truncated to 96
bits). The MAC also covers the unit and a random nonce kept only in the database, so a link
cannot be made for another invitation, another unit or another database, and it is checked
(in constant time) before anything about the invitation is revealed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, IntEnum

from bot.dateinput import format_datetime
from bot.errors import NotAllowed, UsageError
from bot.records import Invitation, JoinRequest, Membership, StoredTask
from bot.store import Store

__all__ = [
    "INVALID_LINK", "INVITE_PREFIX", "INVITE_TTL", "LEGACY_LINK", "LEGACY_PREFIX",
    "MAX_PENDING_PER_CHAT", "MIN_ROLE", "Action", "Actor", "InviteToken", "Join", "JoinResult",
    "Role", "check_admin", "check_list_members", "check_manage_chat", "check_read_unit",
    "check_task", "decide_request", "invitation_links", "invitation_payload", "invite", "join",
    "may", "members_of", "open_invitations", "parse_invitation_payload", "remove_member",
    "revoke_invitation", "task_role", "use_invitation", "verify_invitation",
]

INVITE_PREFIX = "i-"
"""Deep-link payloads that carry an invitation (the old unsigned ``u-`` links are refused)."""
LEGACY_PREFIX = "u-"
INVITE_TTL = timedelta(days=7)
MAX_PENDING_PER_CHAT = 3
"""Requests one chat may have waiting at once: a stranger cannot flood the admins."""
_MAC_BYTES = 12
_BODY = struct.Struct(">II")
"""Invitation id and expiry (Unix seconds), both unsigned 32-bit."""
_TOKEN_BYTES = _BODY.size + _MAC_BYTES
GROUP_TYPES = ("group", "supergroup")

INVALID_LINK = ("Liên kết mời không hợp lệ (có thể bị chép thiếu hoặc bị sửa). Hãy xin quản "
                "trị viên một lời mời mới.")
LEGACY_LINK = ("Liên kết này theo kiểu cũ và không còn dùng được: từ nay chỉ lời mời do quản "
               "trị viên tạo (lệnh /moi) mới đưa được một cuộc trò chuyện vào đơn vị. Hãy xin "
               "quản trị viên một lời mời, hoặc gõ /dangky <tên đơn vị> để gửi yêu cầu.")


class Role(IntEnum):
    """What a chat is to a task, lowest first."""

    NONE = 0
    SUPPORT = 1
    LEAD = 2
    ADMIN = 3


class Action(Enum):
    """Things done to a task, with the verb a refusal uses."""

    VIEW = "xem nhiệm vụ này"
    COMMENT = "góp ý cho nhiệm vụ này"
    REMIND = "đặt lời nhắc cho nhiệm vụ này"
    PROGRESS = "báo tiến độ"
    CLOSE = "báo hoàn thành"
    REOPEN = "mở lại"
    SNOOZE = "tạm hoãn nhắc"
    EXTEND = "gia hạn nhiệm vụ"


MIN_ROLE = {
    Action.VIEW: Role.SUPPORT, Action.COMMENT: Role.SUPPORT, Action.REMIND: Role.SUPPORT,
    Action.PROGRESS: Role.LEAD, Action.CLOSE: Role.LEAD, Action.REOPEN: Role.LEAD,
    Action.SNOOZE: Role.LEAD, Action.EXTEND: Role.ADMIN,
}
"""The lowest role that may do each action: the whole permission table for tasks."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: the chat, the units it belongs to, and the person's rights."""

    chat_id: int
    chat_type: str
    """"private", "group" or "supergroup"."""
    unit_keys: tuple[str, ...] = ()
    """Units the chat is a member of."""
    admin: bool = False
    """The person is a bot admin (ADMIN_IDS)."""
    group_admin: bool = False
    """The person administers the group (meaningless in a private chat)."""
    user_id: int | None = None
    user_name: str = ""
    chat_title: str = ""
    open_read: bool = False
    """The deployment's OPEN_READ setting."""

    @property
    def group(self) -> bool:
        return self.chat_type in GROUP_TYPES

    @property
    def who(self) -> str:
        """The subject of a refusal: "Bạn" in a private chat, "Nhóm này" in a group."""
        return "Nhóm này" if self.group else "Bạn"

    def member_of(self, unit_key: str) -> bool:
        return unit_key in self.unit_keys


# ------------------------------------------------------------------------------------------
# Tasks
# ------------------------------------------------------------------------------------------
def task_role(task: StoredTask, actor: Actor) -> Role:
    """The highest role the actor has on ``task``."""
    if actor.admin:
        return Role.ADMIN
    if set(task.lead).intersection(actor.unit_keys):
        return Role.LEAD
    if set(task.support).intersection(actor.unit_keys):
        return Role.SUPPORT
    return Role.NONE


def may(action: Action, task: StoredTask, actor: Actor) -> bool:
    if action is Action.VIEW and actor.open_read:
        return True
    return task_role(task, actor) >= MIN_ROLE[action]


def check_task(action: Action, task: StoredTask, actor: Actor,
               unit_name: Callable[[str], str]) -> None:
    """Raise NotAllowed, worded for the actor's chat, unless it may do ``action`` to ``task``.

    ``unit_name`` names a unit key (``store.unit_name``).
    """
    if may(action, task, actor):
        return
    verb = action.value
    if MIN_ROLE[action] is Role.ADMIN:
        raise NotAllowed(f"Chỉ quản trị viên của bot mới được {verb}.")
    raise not_lead(task, actor, verb, unit_name)


def not_lead(task: StoredTask, actor: Actor, verb: str,
             unit_name: Callable[[str], str]) -> NotAllowed:
    """Why a chat that is no member of the task's lead unit may not ``verb`` it."""
    lead = ", ".join(unit_name(k) for k in task.lead)
    role = task_role(task, actor)
    if role is Role.SUPPORT:
        return NotAllowed(f"{actor.who} thuộc đơn vị phối hợp nhiệm vụ #{task.code}; chỉ đơn vị "
                          f"chủ trì ({lead}) mới {verb} được.")
    if not task.lead:
        return NotAllowed(f"Nhiệm vụ #{task.code} chưa xác định đơn vị chủ trì; chỉ quản trị "
                          f"viên mới {verb} được.")
    return NotAllowed(f"Nhiệm vụ #{task.code} do {lead} chủ trì; {actor.who.lower()} chưa là "
                      f"thành viên của đơn vị đó nên không {verb} được.")


# ------------------------------------------------------------------------------------------
# Reading, admin rights, managing a chat
# ------------------------------------------------------------------------------------------
def _join_hint(actor: Actor, name: str) -> str:
    if actor.group:
        return (f"Quản trị viên của nhóm có thể gõ /dangky {name} để gửi yêu cầu tham gia, "
                "hoặc mở liên kết mời do quản trị viên bot gửi.")
    return (f"Gõ /dangky {name} để gửi yêu cầu tham gia, hoặc mở liên kết mời do quản trị "
            "viên bot gửi.")


def check_read_unit(unit_key: str, label: str, actor: Actor) -> None:
    """Raise NotAllowed unless the actor may read the unit's tasks (``label`` names it)."""
    if actor.admin or actor.open_read or actor.member_of(unit_key):
        return
    raise NotAllowed(f"{actor.who} chưa là thành viên của {label} nên chưa xem được nhiệm vụ "
                     f"của đơn vị này. {_join_hint(actor, label)}")


def check_list_members(unit_key: str, label: str, actor: Actor) -> None:
    """Members of a unit are listed to the unit's own chats and to admins (OPEN_READ or not:
    the list names people)."""
    if actor.admin or actor.member_of(unit_key):
        return
    raise NotAllowed(f"{actor.who} chưa là thành viên của {label} nên không xem được danh "
                     "sách thành viên của đơn vị này.")


def check_admin(actor: Actor, what: str) -> None:
    """Raise NotAllowed unless the person is a bot admin; ``what`` is the refused act."""
    if not actor.admin:
        raise NotAllowed(f"Chỉ quản trị viên của bot mới được {what}.")


def check_manage_chat(actor: Actor, what: str) -> None:
    """In a group, only its administrators (or a bot admin) decide which units it joins."""
    if actor.group and not (actor.group_admin or actor.admin):
        raise NotAllowed(f"Trong nhóm, chỉ quản trị viên của nhóm (hoặc quản trị viên bot) mới "
                         f"được {what}, vì việc này quyết định nhóm nhận việc của đơn vị nào. "
                         "Hãy nhờ quản trị viên nhóm làm việc này.")


# ------------------------------------------------------------------------------------------
# Invitation links
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InviteToken:
    """What a link says; nothing in it is trusted before :func:`verify_invitation`."""

    invite_id: int
    expires: int
    mac: bytes


def _mac(key: bytes, invite_id: int, expires: int, unit_key: str, nonce: str) -> bytes:
    message = f"invite|{invite_id}|{expires}|{unit_key}|{nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC_BYTES]


def _expiry(invite: Invitation) -> int:
    return int(invite.expires_at.timestamp())


def invitation_payload(key: bytes, invite: Invitation) -> str:
    """The /start payload of an invitation: 29 characters of [A-Za-z0-9_-]."""
    expires = _expiry(invite)
    body = _BODY.pack(invite.id, expires)
    raw = body + _mac(key, invite.id, expires, invite.unit_key, invite.nonce)
    return INVITE_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def invitation_links(bot_username: str, payload: str) -> tuple[str, str]:
    """(private chat link, add-to-group link) for the same invitation."""
    base = f"https://t.me/{bot_username}"
    return f"{base}?start={payload}", f"{base}?startgroup={payload}"


def parse_invitation_payload(payload: str) -> InviteToken | None:
    """The token in an ``i-`` payload, or None when it is not one (shape only)."""
    if not payload.startswith(INVITE_PREFIX):
        return None
    text = payload[len(INVITE_PREFIX):]
    if not text.isascii() or len(text) > 32:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _TOKEN_BYTES:
        return None
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != text:
        return None  # unused low bits set: one spelling per link
    invite_id, expires = _BODY.unpack(raw[:_BODY.size])
    return InviteToken(invite_id, expires, raw[_BODY.size:])


def verify_invitation(key: bytes, token: InviteToken, invite: Invitation | None,
                      now: datetime) -> Invitation:
    """The invitation a genuine, usable link names; NotAllowed otherwise.

    The signature is checked first, so a forged link learns nothing (not even whether the
    invitation exists); then revocation, use and expiry, each with its own message.
    """
    genuine = invite is not None and token.expires == _expiry(invite) and hmac.compare_digest(
        token.mac, _mac(key, invite.id, token.expires, invite.unit_key, invite.nonce))
    if not genuine or invite is None:
        raise NotAllowed(INVALID_LINK)
    status = invite.status(now)
    if status == "revoked":
        raise NotAllowed("Lời mời này đã bị quản trị viên thu hồi. Hãy xin một lời mời mới.")
    if status == "used":
        raise NotAllowed("Lời mời này đã được dùng (mỗi lời mời chỉ dùng được một lần). Hãy "
                         "xin quản trị viên một lời mời mới.")
    if status == "expired":
        raise NotAllowed(f"Lời mời này đã hết hạn lúc {format_datetime(invite.expires_at)}. "
                         "Hãy xin quản trị viên một lời mời mới.")
    return invite


# ------------------------------------------------------------------------------------------
# Operations: check the rules, then one store call
# ------------------------------------------------------------------------------------------
class Join(Enum):
    """What /dangky did."""

    ALREADY = "already"
    ADDED = "added"
    """A bot admin added the chat directly."""
    REQUESTED = "requested"
    PENDING = "pending"
    """A request of this chat for this unit was already waiting."""


@dataclass(frozen=True, slots=True)
class JoinResult:
    outcome: Join
    request: JoinRequest | None = None


def join(store: Store, actor: Actor, unit_key: str, now: datetime) -> JoinResult:
    """/dangky: a bot admin adds the chat; anyone else files a request (in a group only its
    administrators may)."""
    if actor.member_of(unit_key):
        return JoinResult(Join.ALREADY)
    check_manage_chat(actor, "xin cho nhóm tham gia một đơn vị")
    if actor.admin:
        store.subscribe(actor.chat_id, unit_key, title=actor.chat_title,
                        chat_type=actor.chat_type, actor=actor.user_id, now=now,
                        by_name=actor.user_name)
        return JoinResult(Join.ADDED)
    waiting = store.join_requests(chat_id=actor.chat_id)
    for request in waiting:
        if request.unit_key == unit_key:
            return JoinResult(Join.PENDING, request)
    if len(waiting) >= MAX_PENDING_PER_CHAT:
        raise UsageError(f"{actor.who} đã có {len(waiting)} yêu cầu tham gia đang chờ duyệt; "
                         "hãy đợi quản trị viên xử lý các yêu cầu đó rồi gửi thêm.")
    request, new = store.request_membership(
        actor.chat_id, unit_key, title=actor.chat_title, chat_type=actor.chat_type,
        user_id=actor.user_id, user_name=actor.user_name, now=now)
    return JoinResult(Join.REQUESTED if new else Join.PENDING, request)


def use_invitation(store: Store, key: bytes, payload: str, actor: Actor,
                   now: datetime) -> Membership:
    """/start i-…: verify the link, then make the chat a member (consumes the invitation).

    A chat that already belongs to the unit keeps the invitation unused.
    """
    token = parse_invitation_payload(payload)
    if token is None:
        raise NotAllowed(INVALID_LINK)
    invite = verify_invitation(key, token, store.invitation(token.invite_id), now)
    check_manage_chat(actor, "dùng lời mời để đưa nhóm vào một đơn vị")
    if actor.member_of(invite.unit_key):
        raise UsageError(f"{actor.who} đã là thành viên của {store.unit_name(invite.unit_key)}"
                         " từ trước; lời mời vẫn còn nguyên để dùng cho người khác.")
    return store.accept_invitation(invite.id, chat_id=actor.chat_id, title=actor.chat_title,
                                   chat_type=actor.chat_type, user_id=actor.user_id,
                                   user_name=actor.user_name, now=now)


def invite(store: Store, actor: Actor, unit_key: str, now: datetime,
           ttl: timedelta = INVITE_TTL) -> Invitation:
    """/moi <đơn vị>: a new invitation (admins)."""
    check_admin(actor, "tạo lời mời tham gia đơn vị")
    return store.create_invitation(unit_key, actor=actor.user_id, actor_name=actor.user_name,
                                   now=now, ttl=ttl)


def open_invitations(store: Store, actor: Actor, now: datetime) -> list[Invitation]:
    """/moi: the invitations still usable (admins)."""
    check_admin(actor, "xem các lời mời")
    return store.invitations(now=now)


def revoke_invitation(store: Store, actor: Actor, invite_id: int,
                      now: datetime) -> Invitation:
    check_admin(actor, "thu hồi lời mời")
    return store.revoke_invitation(invite_id, actor=actor.user_id, now=now)


def decide_request(store: Store, actor: Actor, request_id: int, approve: bool,
                   now: datetime) -> JoinRequest:
    check_admin(actor, "duyệt yêu cầu tham gia đơn vị")
    return store.decide_request(request_id, approve=approve, actor=actor.user_id,
                                actor_name=actor.user_name, now=now)


def remove_member(store: Store, actor: Actor, membership_id: int,
                  now: datetime) -> Membership:
    check_admin(actor, "đưa thành viên ra khỏi đơn vị")
    return store.remove_member(membership_id, actor=actor.user_id, now=now)


def members_of(store: Store, actor: Actor, unit_keys: Sequence[str]
               ) -> list[tuple[str, list[Membership], list[JoinRequest]]]:
    """/thanhvien: per unit, its members and (for admins) its pending requests."""
    result = []
    for key in unit_keys:
        unit = store.unit(key)
        check_list_members(key, unit.label if unit else key, actor)
        pending = store.join_requests(unit_key=key) if actor.admin else []
        result.append((key, store.members(key), pending))
    return result
