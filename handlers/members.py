"""Membership on Telegram: /moi (invitations), /thanhvien (members), opening an invitation link,
requests sent to the admins, and their buttons.

The rules live in :mod:`bot.membership`; this module parses, makes one core call, renders and
replies. Button data comes from the client and may be forged, so every button checks the
presser's rights again (the core does). Buttons:

* ``inv:x:<id>`` revokes an invitation (admins);
* ``req:ok:<id>`` / ``req:no:<id>`` approves or refuses a request (admins);
* ``mem:rm:<id>`` takes a chat out of a unit (admins; ``id`` is the membership's).

Messages to other chats (the admins, the requester, the inviter, a removed chat) go through
the dispatcher with a delivery key each, so they are retried and never sent twice.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from datetime import date

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import membership
from bot.dateinput import format_date, format_datetime
from bot.errors import NotAllowed, UsageError
from bot.membership import Actor, check_admin, invitation_links, invitation_payload
from bot.records import (
    APPROVED,
    ORIGIN_UPGRADE,
    VIA_ADMIN,
    VIA_INVITE,
    VIA_LEGACY_ADMIN,
    VIA_LEGACY_GROUP,
    VIA_REQUEST,
    Invitation,
    JoinRequest,
    Membership,
)
from bot.store import Store
from handlers.common import (
    BotContext,
    Rows,
    actor,
    answer,
    dispatcher,
    guarded,
    manager,
    markup,
    reply_html,
)
from schedules.dispatch import SENT, SKIPPED, UNCERTAIN, Outgoing

logger = logging.getLogger(__name__)

__all__ = [
    "INVITE_REVOKE", "MEMBER_REMOVE", "REQUEST_NO", "REQUEST_OK", "accept_invitation",
    "invitation_text", "invitations_text", "members_text", "notify_admins", "register",
    "request_text",
]

INVITE_REVOKE = "inv:x:"
REQUEST_OK = "req:ok:"
REQUEST_NO = "req:no:"
MEMBER_REMOVE = "mem:rm:"
MAX_BUTTON_ROWS = 30
"""Buttons under one /thanhvien answer; past this, name a unit (/thanhvien <đơn vị>)."""
LABEL_CHARS = 28

USAGE_MOI = ("Cú pháp: /moi <đơn vị>, ví dụ /moi tài chính, để tạo lời mời; /moi (không kèm "
             "tên) để xem và thu hồi các lời mời còn hiệu lực.")
MOI_IN_GROUP = ("Hãy tạo lời mời trong trò chuyện riêng với bot: trong nhóm, ai cũng thấy và "
                "dùng được liên kết.")
BAD_BUTTON = "Nút này không hợp lệ. Hãy gõ lại lệnh."
_BUTTON_RE = re.compile(r"^(inv:x|req:ok|req:no|mem:rm):(\d{1,9})$")

_e = html.escape


# ------------------------------------------------------------------------------------------
# Rendering (pure: store in, HTML and rows out)
# ------------------------------------------------------------------------------------------
def _label(store: Store, key: str) -> str:
    unit = store.unit(key)
    return unit.label if unit else key


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _chat_kind(chat_type: str, chat_id: int) -> str:
    group = chat_type in membership.GROUP_TYPES or chat_id < 0
    return "nhóm" if group else "trò chuyện riêng"


def _counts_line(store: Store, key: str, today: date) -> str:
    open_n, overdue_n = len(store.open_tasks(key)), len(store.overdue(key, today))
    return (f"Đơn vị có {open_n} nhiệm vụ đang mở, {overdue_n} quá hạn. "
            "Gõ /nhiemvu để xem danh sách.")


def invitation_text(store: Store, invite: Invitation, private_link: str,
                    group_link: str) -> str:
    """/moi <đơn vị>: the two links of a new invitation and how they work."""
    return "\n".join([
        f"🔗 Lời mời #{invite.id} tham gia <b>{_e(_label(store, invite.unit_key))}</b>, "
        f"dùng được đến {format_datetime(invite.expires_at)}:",
        f"• Cho một người (trò chuyện riêng): {_e(private_link)}",
        f"• Cho một nhóm (người mở phải là quản trị viên của nhóm): {_e(group_link)}",
        "Mỗi lời mời chỉ dùng được một lần, cho một cuộc trò chuyện. Chỉ gửi liên kết cho "
        "đúng người cần mời; gõ /moi để xem và thu hồi các lời mời còn hiệu lực.",
    ])


def invitations_text(store: Store, invites: Sequence[Invitation]) -> tuple[str, Rows]:
    """/moi: open invitations with a revoke button each."""
    if not invites:
        return ("Không có lời mời nào còn hiệu lực. Gõ /moi &lt;đơn vị&gt; để tạo lời mời.",
                [])
    lines = [f"<b>Lời mời còn hiệu lực ({len(invites)})</b>"]
    rows = []
    for item in invites:
        by = f", tạo bởi {_e(item.created_by_name)}" if item.created_by_name else ""
        lines.append(f"• #{item.id} {_e(_label(store, item.unit_key))} — đến "
                     f"{format_datetime(item.expires_at)}{by}")
        if len(rows) < MAX_BUTTON_ROWS:
            rows.append([(f"Thu hồi #{item.id} ({_short(store.unit_name(item.unit_key))})",
                          f"{INVITE_REVOKE}{item.id}")])
    return "\n".join(lines), rows


def _requester(request: JoinRequest) -> str:
    who = _e(request.user_name or str(request.user_id))
    if request.in_group:
        return (f"nhóm «{_e(request.chat_title)}» (mã {request.chat_id}), do {who} "
                "(quản trị viên nhóm) gửi")
    return f"{who} (trò chuyện riêng, mã {request.chat_id})"


def request_text(store: Store, request: JoinRequest) -> str:
    """The message admins get about a request; once decided, it says who decided."""
    lines = [f"🙋 Yêu cầu #{request.id} tham gia <b>{_e(_label(store, request.unit_key))}</b>",
             f"Từ: {_requester(request)}",
             f"Gửi lúc {format_datetime(request.created_at)}"]
    if request.origin == ORIGIN_UPGRADE:
        lines[-1] += " (đăng ký cũ, chuyển thành yêu cầu khi nâng cấp bot)"
    if not request.pending:
        verdict = {APPROVED: "✅ Đã duyệt"}.get(request.status, "❌ Đã từ chối")
        by = f" bởi {_e(request.decided_by_name)}" if request.decided_by_name else ""
        when = (f" lúc {format_datetime(request.decided_at)}" if request.decided_at else "")
        lines.append(f"{verdict}{by}{when}.")
    return "\n".join(lines)


def request_rows(request: JoinRequest) -> Rows:
    return [[("✅ Duyệt", f"{REQUEST_OK}{request.id}"),
             ("❌ Từ chối", f"{REQUEST_NO}{request.id}")]]


def decision_notice(store: Store, request: JoinRequest) -> str:
    """What the requesting chat is told once an admin decided."""
    label = _e(_label(store, request.unit_key))
    whom = "nhóm này" if request.in_group else "bạn"
    if request.status == APPROVED:
        return (f"✅ Quản trị viên đã duyệt yêu cầu: {whom} đã là thành viên của <b>{label}</b>. "
                "Gõ /nhiemvu để xem nhiệm vụ của đơn vị.")
    return (f"Yêu cầu tham gia <b>{label}</b> không được quản trị viên chấp thuận. Nếu cần, "
            "hãy liên hệ trực tiếp quản trị viên.")


def _how(member: Membership) -> str:
    granted = _e(member.granted_by_name) if member.granted_by_name else "quản trị viên"
    opener = f", người mở: {_e(member.by_name)}" if member.by_name else ""
    if member.via == VIA_INVITE:
        return f"vào bằng lời mời #{member.ref} của {granted}{opener}"
    if member.via == VIA_REQUEST:
        asker = f" của {_e(member.by_name)}" if member.by_name else ""
        return f"theo yêu cầu #{member.ref}{asker}, duyệt bởi {granted}"
    if member.via == VIA_ADMIN:
        by = f" {_e(member.by_name)}" if member.by_name else ""
        return f"quản trị viên{by} thêm trực tiếp"
    if member.via == VIA_LEGACY_ADMIN:
        return "quản trị viên đăng ký trước khi có chế độ thành viên"
    if member.via == VIA_LEGACY_GROUP:
        return "nhóm đăng ký trước khi có chế độ thành viên"
    return "đăng ký cũ, chưa nâng cấp"


def members_text(store: Store,
                 groups: Sequence[tuple[str, Sequence[Membership], Sequence[JoinRequest]]],
                 *, admin: bool) -> tuple[str, Rows]:
    """/thanhvien: per unit its member chats (name, kind, since when, how they came in) and,
    for admins, the pending requests; admins get remove / approve / refuse buttons."""
    lines: list[str] = []
    rows: list[list[tuple[str, str]]] = []
    for key, members, pending in groups:
        if lines:
            lines.append("")
        lines.append(f"<b>Thành viên của {_e(_label(store, key))}</b> ({len(members)})")
        if not members:
            lines.append("Chưa có cuộc trò chuyện nào.")
        for member in members:
            chat = store.chat(member.chat_id)
            title = chat.title if chat and chat.title else str(member.chat_id)
            kind = _chat_kind(chat.type if chat else "", member.chat_id)
            off = ""
            if chat is not None and not chat.active:
                off = (", đã chặn bot, không nhận tin" if kind != "nhóm"
                       else ", bot đã bị gỡ khỏi nhóm, không nhận tin")
            lines.append(f"• <b>{_e(title)}</b> ({kind}, mã {member.chat_id}{off}) — từ "
                         f"{format_date(member.since.date())}; {_how(member)}")
            if admin and len(rows) < MAX_BUTTON_ROWS:
                rows.append([(f"Xóa {_short(title)} khỏi {_short(store.unit_name(key))}",
                              f"{MEMBER_REMOVE}{member.id}")])
        if pending:
            lines.append(f"Đang chờ duyệt ({len(pending)}):")
        for request in pending:
            lines.append(f"⏳ #{request.id} {_requester(request)}, lúc "
                         f"{format_datetime(request.created_at)}")
            if admin and len(rows) < MAX_BUTTON_ROWS:
                rows.append([(f"✅ Duyệt #{request.id}", f"{REQUEST_OK}{request.id}"),
                             (f"❌ Từ chối #{request.id}", f"{REQUEST_NO}{request.id}")])
    if admin and len(rows) >= MAX_BUTTON_ROWS:
        lines.append("<i>Chỉ hiện nút cho một phần danh sách; gõ /thanhvien &lt;đơn vị&gt; "
                     "để thao tác với từng đơn vị.</i>")
    return "\n".join(lines), rows


def joined_text(store: Store, member: Membership, who: Actor, today: date) -> str:
    label = _e(_label(store, member.unit_key))
    inviter = (f" (lời mời của {_e(member.granted_by_name)})" if member.granted_by_name
               else "")
    return (f"✅ {who.who} đã là thành viên của <b>{label}</b>{inviter}.\n"
            + _counts_line(store, member.unit_key, today))


# ------------------------------------------------------------------------------------------
# Messages to other chats
# ------------------------------------------------------------------------------------------
def _delivered(outcomes: Sequence[object]) -> int:
    """Sends that reached the chat or most likely did: an "uncertain" one lost only its
    answer (schedules.dispatch), so the admin most likely has it and it is not repeated."""
    return sum(1 for o in outcomes if getattr(o, "status", None) in (SENT, SKIPPED, UNCERTAIN))


async def notify_admins(context: BotContext, request: JoinRequest) -> int:
    """Send a new request to every admin's private chat; how many got it."""
    svc = context.services
    text, rows = request_text(svc.store, request), request_rows(request)
    outcomes = await dispatcher(context).send_many(
        Outgoing(f"request:{request.id}:admin:{admin_id}", admin_id, text, rows)
        for admin_id in sorted(svc.settings.admin_ids))
    return _delivered(outcomes)


async def _tell(context: BotContext, key: str, chat_id: int | None,
                text: str) -> None:
    """One message to another chat, best effort (the dispatcher logs what fails)."""
    if chat_id is not None:
        await dispatcher(context).send(Outgoing(key, chat_id, text))


# ------------------------------------------------------------------------------------------
# Handlers
# ------------------------------------------------------------------------------------------
def _invite_key(context: BotContext) -> bytes:
    key = context.services.invite_key
    if not key:  # never sign or check with an empty key
        raise RuntimeError("Services.invite_key is not set (see handlers.app)")
    return key


async def accept_invitation(update: Update, context: BotContext,
                            payload: str) -> None:
    """/start i-…: the chat joins the invitation's unit (called by handlers.units.start)."""
    svc = context.services
    who = await manager(update, context)
    member = membership.use_invitation(svc.store, _invite_key(context), payload, who,
                                       svc.now())
    await reply_html(update, joined_text(svc.store, member, who, svc.today()))
    chat = f"{_chat_kind(who.chat_type, who.chat_id)} «{_e(who.chat_title)}»"
    await _tell(context, f"invite:{member.ref}:used", member.granted_by,
                f"🔗 Lời mời #{member.ref} vào <b>{_e(_label(svc.store, member.unit_key))}"
                f"</b> đã được dùng: {chat} (bởi {_e(who.user_name)}).")


@guarded
async def moi(update: Update, context: BotContext) -> None:
    """/moi <đơn vị>: a new invitation link (admins); /moi: the open ones, to revoke."""
    svc = context.services
    who = actor(update, context)
    check_admin(who, "tạo và quản lý lời mời tham gia đơn vị")
    query = " ".join(context.args or ()).strip()
    if not query:
        await reply_html(update, *invitations_text(
            svc.store, membership.open_invitations(svc.store, who, svc.now())))
        return
    if who.group:
        raise UsageError(MOI_IN_GROUP)
    key = _invite_key(context)
    unit = svc.store.match_unit(query)  # UnitNotFound lists the closest names
    item = membership.invite(svc.store, who, unit.key, svc.now())
    links = invitation_links(context.bot.username, invitation_payload(key, item))
    await reply_html(update, invitation_text(svc.store, item, *links),
                     [[(f"Thu hồi lời mời #{item.id}", f"{INVITE_REVOKE}{item.id}")]])


@guarded
async def thanhvien(update: Update, context: BotContext) -> None:
    """/thanhvien [đơn vị]: who belongs to the unit (default: the chat's own units)."""
    svc = context.services
    who = actor(update, context)
    query = " ".join(context.args or ()).strip()
    if query:
        keys: Sequence[str] = (svc.store.match_unit(query).key,)
    elif who.unit_keys:
        keys = who.unit_keys
    elif who.admin:
        keys = _units_with_members(svc.store)
        if not keys:
            await reply_html(update, "Chưa có đơn vị nào có thành viên hay yêu cầu chờ duyệt. "
                             "Gõ /moi &lt;đơn vị&gt; để mời.")
            return
    else:
        raise NotAllowed(f"{who.who} chưa là thành viên của đơn vị nào nên không có danh sách "
                         "thành viên để xem. Gõ /dangky để gửi yêu cầu tham gia một đơn vị.")
    groups = membership.members_of(svc.store, who, keys)
    await reply_html(update, *members_text(svc.store, groups, admin=who.admin))


def _units_with_members(store: Store) -> list[str]:
    """Units that have members or pending requests, in directory order."""
    wanted = {r.unit_key for r in store.join_requests()}
    wanted |= {k for chat in store.chats() for k in chat.unit_keys}
    return [u.key for u in store.units() if u.key in wanted]


def _button(update: Update) -> tuple[str, int]:
    match = _BUTTON_RE.match(update.callback_query.data or "")
    if match is None:
        raise UsageError(BAD_BUTTON)
    return match.group(1), int(match.group(2))


async def _drop_pressed(update: Update) -> None:
    """Remove the pressed button (its row) from the message; cosmetic, never fails."""
    query = update.callback_query
    message = query.message
    keyboard = getattr(message, "reply_markup", None)
    if keyboard is None:
        return
    rows = [[(b.text, b.callback_data or b.url or "") for b in row]
            for row in keyboard.inline_keyboard
            if all(b.callback_data != query.data for b in row)]
    try:
        await query.edit_message_reply_markup(markup(rows))
    except TelegramError as exc:
        logger.info("could not drop button %s: %s", query.data, exc)


@guarded
async def on_invite_button(update: Update, context: BotContext) -> None:
    """"Thu hồi": revoke an invitation (admins)."""
    _, invite_id = _button(update)
    svc = context.services
    item = membership.revoke_invitation(svc.store, actor(update, context), invite_id,
                                        svc.now())
    await answer(update, f"Đã thu hồi lời mời #{item.id}.")
    await _drop_pressed(update)
    await reply_html(update, f"Đã thu hồi lời mời #{item.id} vào "
                     f"<b>{_e(_label(svc.store, item.unit_key))}</b>: liên kết không còn dùng "
                     "được.")


@guarded
async def on_request_button(update: Update, context: BotContext) -> None:
    """"Duyệt" / "Từ chối" under a request (admins); the requester is told."""
    kind, request_id = _button(update)
    svc = context.services
    approve = kind == REQUEST_OK.rstrip(":")
    request = membership.decide_request(svc.store, actor(update, context), request_id,
                                        approve, svc.now())
    await answer(update, f"Đã {'duyệt' if approve else 'từ chối'} yêu cầu #{request.id}.")
    await _drop_pressed(update)
    await reply_html(update, request_text(svc.store, request))
    await _tell(context, f"request:{request.id}:decided", request.chat_id,
                decision_notice(svc.store, request))


@guarded
async def on_member_button(update: Update, context: BotContext) -> None:
    """"Xóa … khỏi …": take a chat out of a unit (admins); that chat is told."""
    _, membership_id = _button(update)
    svc = context.services
    member = membership.remove_member(svc.store, actor(update, context), membership_id,
                                      svc.now())
    chat = svc.store.chat(member.chat_id)
    title = chat.title if chat and chat.title else str(member.chat_id)
    label = _e(_label(svc.store, member.unit_key))
    await answer(update, "Đã đưa ra khỏi đơn vị.")
    await _drop_pressed(update)
    await reply_html(update, f"Đã đưa <b>{_e(title)}</b> ra khỏi <b>{label}</b>.")
    if update.effective_chat is None or member.chat_id != update.effective_chat.id:
        whom = "nhóm này" if _chat_kind(chat.type if chat else "", member.chat_id) == "nhóm" \
            else "bạn"
        await _tell(context, f"member:{member.id}:removed", member.chat_id,
                    f"Quản trị viên đã đưa {whom} ra khỏi đơn vị <b>{label}</b>: bot không "
                    "gửi việc của đơn vị này tới đây nữa.")


def register(app: Application) -> None:
    """Add this slice's commands and buttons."""
    app.add_handler(CommandHandler("moi", moi))
    app.add_handler(CommandHandler("thanhvien", thanhvien))
    app.add_handler(CallbackQueryHandler(on_invite_button, pattern=r"^inv:"))
    app.add_handler(CallbackQueryHandler(on_request_button, pattern=r"^req:"))
    app.add_handler(CallbackQueryHandler(on_member_button, pattern=r"^mem:"))
