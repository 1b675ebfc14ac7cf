"""Which units a chat belongs to: /start, /help, /dangky, /huydangky, /donvi and their buttons.

Unit keys are long scoped Vietnamese strings ("quang ninh|phong tai chinh ke hoach"), too long
and too fragile for callback data (64 bytes). Buttons carry :func:`unit_ref` instead: a short
stable hash of the key, resolved by scanning ``store.units()`` (a few hundred units:
microseconds). A stale ref (the unit is gone) gives a Vietnamese message, never a wrong unit.
A ref is no secret (anyone can compute it), so it names a unit and never grants anything.

/dangky no longer makes a chat a member by itself (:mod:`bot.membership`): a bot admin adds
the chat, anyone else files a request that the admins approve or refuse (in a group only a
group administrator may ask). Invitation links (``/start i-…``) are handled by
:mod:`handlers.members`; the old unsigned ``/start u-…`` links are refused.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from telegram import LinkPreviewOptions, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import membership
from bot.dateinput import format_datetime
from bot.errors import NotAllowed, UnitNotFound, UsageError
from bot.membership import INVITE_PREFIX, LEGACY_LINK, LEGACY_PREFIX, Join, check_manage_chat
from bot.records import StoredUnit
from bot.store import Store
from bot.text import quote
from bot.units import UnitDirectory
from handlers.common import (
    BotContext,
    Services,
    answer,
    guarded,
    is_admin,
    manager,
    markup,
    reply_html,
    send_html,
    user_id,
)
from handlers.members import accept_invitation, notify_admins
from handlers.texts import help_text, start_text

logger = logging.getLogger(__name__)

__all__ = [
    "PAGE_SIZE", "closest_units", "donvi_text", "find_unit", "register", "unit_ref",
    "units_keyboard",
]

SUB = "sub:"
UNSUB = "unsub:"
PAGE_MARK = "#"
"""``sub:#3`` turns the unit keyboard to page 3; ``#`` never occurs in a ref."""
NOOP_PAGE = "#-"
PAGE_SIZE = 8
MAX_CANDIDATES = 6
MAX_LABEL_CHARS = 60
# Candidates for an unclear name: at least this score and within this of the best one
# ("van hoa": the two "Văn hóa" units at 96, not the "Văn phòng ..." at 80).
_CANDIDATE_FLOOR = 55.0
_CANDIDATE_SPREAD = 12.0
_REF_BYTES = 6  # 48 bits -> 8 base64url characters; collisions need ~16 million units
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# ------------------------------------------------------------------------------------------
# References (pure)
# ------------------------------------------------------------------------------------------
def unit_ref(unit_key: str) -> str:
    """Short stable reference of a unit key: 8 characters of [A-Za-z0-9_-]."""
    digest = hashlib.blake2b(unit_key.encode("utf-8"), digest_size=_REF_BYTES).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def find_unit(store: Store, ref: str) -> StoredUnit | None:
    """The unit whose :func:`unit_ref` is ``ref``, or None."""
    for unit in store.units():
        if unit_ref(unit.key) == ref:
            return unit
    return None


# ------------------------------------------------------------------------------------------
# Closest units for an unclear name (pure)
# ------------------------------------------------------------------------------------------
_Directories = dict[str, tuple[UnitDirectory, dict[str, StoredUnit]]]
"""Per locality key: a directory and its unscoped keys -> stored units."""
_directory_cache: dict[int, tuple[tuple[tuple[str, tuple[str, ...]], ...], _Directories]] = {}


def _directories(store: Store) -> _Directories:
    """Per locality, a unit directory rebuilt from the stored units' written forms.

    The store's own directories are private; rebuilding from the aliases gives the same keys
    and lets one search rank units of every locality together. Cached until units change.
    """
    units = store.units()
    signature = tuple((u.key, u.aliases) for u in units)
    cached = _directory_cache.get(id(store))
    if cached is not None and cached[0] == signature:
        return cached[1]
    groups: dict[str, list[StoredUnit]] = defaultdict(list)
    for unit in units:
        groups[unit.key.split("|", 1)[0]].append(unit)
    built: _Directories = {}
    for loc_key, members in groups.items():
        directory = UnitDirectory()
        owners: dict[str, StoredUnit] = {}
        for unit in members:
            for alias in unit.aliases or (unit.name,):
                try:
                    owners[directory.add(alias, unit.locality).key] = unit
                except UsageError:  # an empty alias: nothing to search by
                    continue
        built[loc_key] = (directory, owners)
    _directory_cache.clear()  # one store per process in practice; never grow without bound
    _directory_cache[id(store)] = (signature, built)
    return built


def closest_units(store: Store, query: str, suggestions: Sequence[str] = (),
                  limit: int = MAX_CANDIDATES) -> list[StoredUnit]:
    """Units a person probably meant by ``query``, best first.

    Ranks every locality's units with the unit directory search; when that finds nothing,
    falls back on the names the store suggested (``UnitNotFound.suggestions``).
    """
    scored: dict[str, tuple[float, StoredUnit]] = {}
    for loc_key, (directory, owners) in _directories(store).items():
        locality = next(iter(owners.values())).locality if owners else None
        for unit, score in directory.search(query, limit=limit, locality=locality):
            stored = owners.get(unit.key) or store.unit(f"{loc_key}|{unit.key}")
            if stored is not None and score > scored.get(stored.key, (-1.0, stored))[0]:
                scored[stored.key] = (score, stored)
    ranked = sorted(scored.values(), key=lambda item: (-item[0], item[1].label))
    if ranked:
        floor = max(_CANDIDATE_FLOOR, ranked[0][0] - _CANDIDATE_SPREAD)
        return [unit for score, unit in ranked if score >= floor][:limit]
    by_label = {u.label: u for u in store.units()}
    by_name: dict[str, list[StoredUnit]] = defaultdict(list)
    for unit in by_label.values():
        by_name[unit.name].append(unit)
    found: list[StoredUnit] = []
    for name in suggestions:
        unit = by_label.get(name) or (by_name[name][0] if len(by_name.get(name, ())) == 1
                                      else None)
        if unit is not None and unit not in found:
            found.append(unit)
    return found[:limit]


# ------------------------------------------------------------------------------------------
# Rendering (pure: HTML strings and (label, data) rows)
# ------------------------------------------------------------------------------------------
def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[:MAX_LABEL_CHARS - 1] + "…"


def units_keyboard(units: Sequence[StoredUnit], prefix: str, page: int = 0, *,
                   marked: Iterable[str] = (), page_size: int = PAGE_SIZE
                   ) -> tuple[list[list[tuple[str, str]]], int, int]:
    """One button per unit on ``page`` plus a navigation row; returns (rows, page, pages).

    ``marked`` keys get a check mark (units the chat already follows). ``page`` is clamped,
    so a stale button still shows a real page.
    """
    pages = max(1, math.ceil(len(units) / page_size))
    page = min(max(page, 0), pages - 1)
    marked = set(marked)
    rows = [[(("✓ " if u.key in marked else "") + _short(u.label), prefix + unit_ref(u.key))]
            for u in units[page * page_size:(page + 1) * page_size]]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(("« Trước", f"{prefix}{PAGE_MARK}{page - 1}"))
        nav.append((f"Trang {page + 1}/{pages}", prefix + NOOP_PAGE))
        if page < pages - 1:
            nav.append(("Sau »", f"{prefix}{PAGE_MARK}{page + 1}"))
        rows.append(nav)
    return rows, page, pages


def _who(chat_type: str | None) -> str:
    return "Bạn" if chat_type == ChatType.PRIVATE else "Nhóm này"


def _counts(store: Store, key: str, today: date) -> tuple[int, int]:
    return len(store.open_tasks(key)), len(store.overdue(key, today))


def _silent_members(store: Store, key: str) -> int:
    """Member chats of ``key`` the bot cannot write to (blocked, or removed from the group)."""
    return len(store.members(key)) - len(store.unit_chats(key))


def _unit_line(store: Store, unit: StoredUnit, today: date) -> str:
    open_n, overdue_n = _counts(store, unit.key, today)
    place = f" <i>({html.escape(unit.locality, quote=False)})</i>" if unit.locality else ""
    overdue = f"<b>{overdue_n} quá hạn</b>" if overdue_n else "0 quá hạn"
    silent = _silent_members(store, unit.key)
    off = (f"; {silent} cuộc trò chuyện thành viên không nhận tin (đã chặn bot hoặc đã gỡ bot "
           "khỏi nhóm)" if silent else "")
    return (f"• {html.escape(unit.name, quote=False)}{place}: "
            f"{open_n} nhiệm vụ đang mở, {overdue}{off}")


def donvi_text(store: Store, keys: Sequence[str], today: date, *, all_units: bool = False,
               chat_type: str | None = None, pending: Sequence[str] = ()) -> str:
    """The /donvi answer: the chat's units (or every unit for an admin) with their counts;
    ``pending`` names the units it asked to join."""
    waiting = ([f"Đang chờ quản trị viên duyệt yêu cầu tham gia: "
                f"{html.escape('; '.join(pending), quote=False)}."] if pending else [])
    if all_units:
        units = store.units()
        if not units:
            return "Chưa có đơn vị nào: hãy gửi tệp kế hoạch để bot nhập nhiệm vụ."
        head = (f"{_who(chat_type)} chưa là thành viên của đơn vị nào. Tất cả {len(units)} "
                "đơn vị trong danh bạ:")
    else:
        units = [store.unit(k) or StoredUnit(k, k, None) for k in keys]
        if not units:
            return "\n".join([f"{_who(chat_type)} chưa là thành viên của đơn vị nào. "
                              "Gõ /dangky để gửi yêu cầu tham gia một đơn vị.", *waiting])
        head = f"{_who(chat_type)} là thành viên của {len(units)} đơn vị:"
    lines = [head, *(_unit_line(store, u, today) for u in units), *waiting]
    if not all_units:
        lines.append("Gõ /nhiemvu để xem nhiệm vụ, /thanhvien để xem thành viên, /huydangky "
                     "để rời một đơn vị.")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# Joining
# ------------------------------------------------------------------------------------------
async def _require_binder(update: Update, context: BotContext,
                          action: str) -> None:
    """Refuse (NotAllowed) a group member who is neither group admin nor bot admin."""
    check_manage_chat(await manager(update, context), action)


async def _join(update: Update, context: BotContext, unit: StoredUnit) -> str:
    """/dangky for ``unit``: an admin adds the chat, others file a request; the reply HTML."""
    svc = context.services
    who = await manager(update, context)
    result = membership.join(svc.store, who, unit.key, svc.now())
    label = f"<b>{html.escape(unit.label, quote=False)}</b>"
    whom = who.who.lower()
    if result.outcome is Join.ALREADY:
        lines = [f"{who.who} đã là thành viên của {label} từ trước."]
    elif result.outcome is Join.ADDED:
        logger.info("chat %s joins %s (admin)", who.chat_id, unit.key)
        lines = [f"✅ {who.who} đã là thành viên của {label}.",
                 f"Để mời nhóm hay người khác của đơn vị: /moi {html.escape(unit.name)}"]
    elif result.outcome is Join.PENDING and result.request is not None:
        return (f"Yêu cầu cho {whom} tham gia {label} đã được gửi lúc "
                f"{format_datetime(result.request.created_at)} và đang chờ quản trị viên "
                "duyệt. Bot sẽ báo ngay khi có kết quả.")
    else:
        assert result.request is not None
        reached = await notify_admins(context, result.request)
        logger.info("chat %s asks to join %s (request %s, %d admins told)", who.chat_id,
                    unit.key, result.request.id, reached)
        sent = ("Đã gửi yêu cầu tới quản trị viên" if reached else
                "Đã lưu yêu cầu (chưa gửi được tới quản trị viên nào; họ sẽ thấy khi gõ "
                "/thanhvien)")
        return (f"📨 {sent} cho {whom} tham gia {label} (mã yêu cầu {result.request.id}). "
                "Bot sẽ báo khi yêu cầu được duyệt; trong lúc chờ, bot chưa gửi việc của đơn "
                "vị này tới đây.")
    open_n, overdue_n = _counts(svc.store, unit.key, svc.today())
    lines.insert(1, f"Đơn vị có {open_n} nhiệm vụ đang mở, {overdue_n} quá hạn. "
                    "Gõ /nhiemvu để xem danh sách.")
    return "\n".join(lines)


def _candidates_text(query: str, candidates: Sequence[StoredUnit], action: str) -> str:
    shown = html.escape(quote(query), quote=False)
    names = "\n".join(f"• {html.escape(u.label, quote=False)}" for u in candidates)
    return (f"Chưa xác định được đơn vị «{shown}». Có phải một trong các đơn vị sau? "
            f"Bấm vào tên để {action}:\n{names}")


def _not_found(query: str, command: str) -> UnitNotFound:
    shown = quote(query)
    return UnitNotFound(f"Không tìm thấy đơn vị nào gần với «{shown}». Gõ /{command} (không "
                        "kèm tên) để chọn từ danh sách đơn vị.")


def _all_units_or_fail(store: Store) -> list[StoredUnit]:
    units = store.units()
    if not units:
        raise UsageError("Chưa có đơn vị nào: quản trị viên cần gửi tệp kế hoạch để bot nhập "
                         "nhiệm vụ trước.")
    return units


def _picker_text(chat_type: str | None, page: int, pages: int, unsubscribe: bool) -> str:
    if unsubscribe:
        head = f"Chọn đơn vị {_who(chat_type).lower()} thôi theo dõi"
    else:
        head = f"Chọn đơn vị để {_who(chat_type).lower()} theo dõi"
    if pages > 1:
        head += f" (trang {page + 1}/{pages})"
    if unsubscribe:
        return head + "."
    return (head + ". Dấu ✓ là đơn vị đã theo dõi.\nCó thể gõ luôn tên, ví dụ: "
            "/dangky tài chính")


# ------------------------------------------------------------------------------------------
# Handlers
# ------------------------------------------------------------------------------------------
@guarded
async def start(update: Update, context: BotContext) -> None:
    """Greet and list the commands; with an invitation payload, join its unit."""
    if not context.args:
        await reply_html(update, start_text(is_admin(update, context)))
        return
    payload = context.args[0]
    if payload.startswith(INVITE_PREFIX):
        await accept_invitation(update, context, payload)
        return
    if payload.startswith(LEGACY_PREFIX):
        raise NotAllowed(LEGACY_LINK)
    raise UsageError("Liên kết này không hợp lệ. Gõ /dangky để gửi yêu cầu tham gia một đơn "
                     "vị, hoặc xin quản trị viên một lời mời.")


@guarded
async def help_command(update: Update, context: BotContext) -> None:
    """List the commands with their usage (admins also see the admin commands)."""
    await reply_html(update, help_text(is_admin(update, context)))


@guarded
async def dangky(update: Update, context: BotContext) -> None:
    """Follow a unit: by name, or picked from a keyboard when no name (or an unclear one)."""
    await _require_binder(update, context, "xin cho nhóm tham gia một đơn vị")
    store = context.services.store
    query = " ".join(context.args or ())
    if not query.strip():
        units = _all_units_or_fail(store)
        rows, page, pages = units_keyboard(units, SUB, 0,
                                           marked=store.chat_units(update.effective_chat.id))
        await reply_html(update, _picker_text(update.effective_chat.type, page, pages, False),
                         rows)
        return
    try:
        unit = store.match_unit(query)
    except UnitNotFound as exc:
        candidates = closest_units(store, query, exc.suggestions)
        if not candidates:
            raise _not_found(query, "dangky") from exc
        rows = [[(_short(u.label), SUB + unit_ref(u.key))] for u in candidates]
        await reply_html(update, _candidates_text(query, candidates, "chọn"), rows)
        return
    await reply_html(update, await _join(update, context, unit))


@guarded
async def huydangky(update: Update, context: BotContext) -> None:
    """Stop following a unit: by name, or picked from the chat's units."""
    await _require_binder(update, context, "cho nhóm rời một đơn vị")
    svc = context.services
    chat = update.effective_chat
    followed = [svc.store.unit(k) or StoredUnit(k, k, None) for k in svc.store.chat_units(chat.id)]
    if not followed:
        raise UsageError(f"{_who(chat.type)} chưa theo dõi đơn vị nào.")
    query = " ".join(context.args or ())
    if not query.strip():
        rows, page, pages = units_keyboard(followed, UNSUB, 0)
        await reply_html(update, _picker_text(chat.type, page, pages, True), rows)
        return
    unit, candidates = _match_followed(svc.store, query, followed)
    if unit is None:
        rows = [[(_short(u.label), UNSUB + unit_ref(u.key))]
                for u in (candidates or followed)[:PAGE_SIZE]]
        if candidates:
            await reply_html(update, _candidates_text(query, candidates, "thôi theo dõi"), rows)
            return
        shown = html.escape(quote(query), quote=False)
        await reply_html(update, f"{_who(chat.type)} không theo dõi đơn vị nào gần với "
                                 f"«{shown}». Chọn đơn vị muốn thôi theo dõi:", rows)
        return
    await reply_html(update, _unbind(update, context, unit))


def _match_followed(store: Store, query: str, followed: Sequence[StoredUnit]
                    ) -> tuple[StoredUnit | None, list[StoredUnit]]:
    """/huydangky's name, read as /dangky reads it, among the chat's own units: (the unit,
    []) when the name means one of them; else (None, the followed units it may mean).

    /dangky asks which locality when a name exists in several ("Mặt trận Tổ quốc"); the
    chat follows only one of them, so here the same name is clear.
    """
    keys = {u.key for u in followed}
    suggestions: Sequence[str] = ()
    try:
        unit = store.match_unit(query)
        if unit.key in keys:
            return unit, []
    except UnitNotFound as exc:
        suggestions = exc.suggestions
    hits: dict[str, StoredUnit] = {}
    for locality in dict.fromkeys(u.locality for u in followed if u.locality):
        try:
            unit = store.match_unit(query, locality)
        except UnitNotFound:
            continue
        if unit.key in keys:
            hits[unit.key] = unit
    if len(hits) == 1:
        return next(iter(hits.values())), []
    candidates = [u for u in closest_units(store, query, suggestions) if u.key in keys]
    return None, list(hits.values()) or candidates


def _unbind(update: Update, context: BotContext, unit: StoredUnit) -> str:
    svc = context.services
    chat = update.effective_chat
    svc.store.unsubscribe(chat.id, unit.key, actor=user_id(update), now=svc.now())
    logger.info("chat %s no longer follows %s", chat.id, unit.key)
    left = len(svc.store.chat_units(chat.id))
    tail = (f"Còn theo dõi {left} đơn vị (xem bằng /donvi)." if left
            else "Không còn theo dõi đơn vị nào; gõ /dangky để chọn lại.")
    return (f"Đã thôi theo dõi <b>{html.escape(unit.label, quote=False)}</b>. {tail}")


@guarded
async def donvi(update: Update, context: BotContext) -> None:
    """Units this chat follows with open and overdue counts (admins: all units if none)."""
    svc = context.services
    chat = update.effective_chat
    keys = svc.store.chat_units(chat.id)
    pending = [svc.store.unit(r.unit_key).label if svc.store.unit(r.unit_key) else r.unit_key
               for r in svc.store.join_requests(chat_id=chat.id)]
    text = donvi_text(svc.store, keys, svc.today(), pending=pending,
                      all_units=not keys and is_admin(update, context), chat_type=chat.type)
    await reply_html(update, text)


async def _turn_page(update: Update, context: BotContext, prefix: str,
                     arg: str) -> None:
    """Show another page of the unit keyboard in place."""
    if arg == NOOP_PAGE:
        await answer(update)
        return
    svc = context.services
    chat = update.effective_chat
    followed = svc.store.chat_units(chat.id)
    try:
        wanted = int(arg[len(PAGE_MARK):])
    except ValueError:
        raise UsageError("Nút này không còn dùng được; hãy gõ lại lệnh.") from None
    if prefix == SUB:
        units = _all_units_or_fail(svc.store)
    else:
        units = [svc.store.unit(k) or StoredUnit(k, k, None) for k in followed]
        if not units:
            raise UsageError(f"{_who(chat.type)} chưa theo dõi đơn vị nào.")
    rows, page, pages = units_keyboard(units, prefix, wanted, marked=followed)
    await update.callback_query.edit_message_text(
        _picker_text(chat.type, page, pages, prefix == UNSUB), reply_markup=markup(rows),
        link_preview_options=_NO_PREVIEW)
    await answer(update)


@guarded
async def on_sub(update: Update, context: BotContext) -> None:
    """A unit button ("sub:<ref>") or a page button ("sub:#<page>") of /dangky."""
    arg = update.callback_query.data[len(SUB):]
    await _require_binder(update, context, "xin cho nhóm tham gia một đơn vị")
    if arg.startswith(PAGE_MARK):
        await _turn_page(update, context, SUB, arg)
        return
    unit = find_unit(context.services.store, arg)
    if unit is None:
        raise UsageError("Đơn vị này không còn trong danh bạ; hãy gõ lại /dangky.")
    text = await _join(update, context, unit)
    await update.callback_query.edit_message_text(text, link_preview_options=_NO_PREVIEW)
    await answer(update, unit.label)


@guarded
async def on_unsub(update: Update, context: BotContext) -> None:
    """A unit button ("unsub:<ref>") or a page button of /huydangky."""
    arg = update.callback_query.data[len(UNSUB):]
    await _require_binder(update, context, "cho nhóm rời một đơn vị")
    if arg.startswith(PAGE_MARK):
        await _turn_page(update, context, UNSUB, arg)
        return
    store = context.services.store
    key = next((k for k in store.chat_units(update.effective_chat.id) if unit_ref(k) == arg),
               None)
    if key is None:
        raise UsageError(f"{_who(update.effective_chat.type)} không là thành viên của đơn vị "
                         "này (hoặc đã rời trước đó).")
    unit = store.unit(key) or StoredUnit(key, key, None)
    await update.callback_query.edit_message_text(_unbind(update, context, unit))
    await answer(update, f"Đã thôi theo dõi {unit.label}")


# ------------------------------------------------------------------------------------------
# The chat itself: blocked, removed, back, migrated
# ------------------------------------------------------------------------------------------
REASON_BLOCKED = "người dùng đã chặn bot"
REASON_REMOVED = "bot bị xóa khỏi nhóm"
REASON_BACK = "bot được bỏ chặn hoặc được thêm lại vào nhóm"
REASON_MESSAGE = "cuộc trò chuyện lại nhắn cho bot"


def reactivate(store: Store, chat_id: int, reason: str, now: datetime) -> bool:
    """Make an inactive chat active again when it still is a member of some unit; True when
    it changed. Never grants anything: a chat with no unit is left as it is (memberships
    come only through :mod:`bot.membership`)."""
    chat = store.chat(chat_id)
    if chat is None or chat.active or not chat.unit_keys:
        return False
    store.set_chat_active(chat_id, True, reason, now)
    logger.info("chat %s active again (%s)", chat_id, reason)
    return True


def carry_chat(store: Store, old_id: int, new_id: int, now: datetime) -> bool:
    """A group became a supergroup: ``store.migrate_chat`` moves everything of the chat
    (memberships, reminders, requests, the last digest day and owed reminders). Idempotent
    (Telegram sends the news twice: in the old chat and in the new one); True when the
    memberships moved now."""
    return store.migrate_chat(old_id, new_id, now) is not None


def _back_text(store: Store, chat_type: str, keys: Sequence[str]) -> str:
    names = "; ".join(html.escape(store.unit(k).label if store.unit(k) else k, quote=False)
                      for k in keys)
    return (f"🔔 Bot đã hoạt động lại ở đây. {_who(chat_type)} vẫn là thành viên của: {names}. "
            "Bản tin nhắc việc hằng ngày tiếp tục; gõ /nhiemvu để xem việc.")


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """The bot's own status in a chat changed: blocked or removed -> the chat is inactive at
    once (with the reason); unblocked or added back -> active again if it is a member."""
    change = update.my_chat_member
    if change is None:
        return
    svc = context.services
    chat = change.chat
    new = change.new_chat_member
    gone = new.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED) or (
        new.status == ChatMemberStatus.RESTRICTED and not getattr(new, "is_member", True))
    if gone:
        reason = REASON_BLOCKED if chat.type == ChatType.PRIVATE else REASON_REMOVED
        if svc.store.set_chat_active(chat.id, False, reason, svc.now()) is not None:
            logger.info("chat %s inactive: %s", chat.id, reason)
        return
    rows: list[list[tuple[str, str]]] | None = None
    if reactivate(svc.store, chat.id, REASON_BACK, svc.now()):
        text = _back_text(svc.store, chat.type, svc.store.chat_units(chat.id))
    elif (chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
          and change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
          and new.status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)):
        text, rows = _greeting(svc, change.from_user)
    else:
        return
    try:
        await send_html(context.bot, chat.id, text, rows)
    except TelegramError as exc:  # the chat is active again all the same
        logger.info("could not greet chat %s: %s", chat.id, exc)


GREETING = ("👋 Xin chào! Tôi là bot nhắc việc theo kế hoạch: mỗi sáng ngày làm việc tôi gửi "
            "bản tin các nhiệm vụ của những đơn vị mà nhóm là thành viên, nhắc trước hạn và "
            "khi quá hạn, với nút «Đã xong» cho việc nhóm chủ trì.\n"
            "Để nhóm nhận việc của một đơn vị, <b>quản trị viên của nhóm</b> gõ "
            "/dangky &lt;tên đơn vị&gt;, ví dụ /dangky tài chính; yêu cầu được gửi tới quản "
            "trị viên của bot để duyệt (hoặc dùng liên kết mời /moi mà họ gửi). "
            "Gõ /help để xem các lệnh.")
GREETING_ADMIN = ("\n\n{name}, bạn là quản trị viên của bot: chọn đơn vị bên dưới hoặc gõ "
                  "/dangky &lt;tên đơn vị&gt; trong nhóm này để gắn nhóm ngay, không cần duyệt.")


def _greeting(svc: Services, adder: User | None,
              ) -> tuple[str, list[list[tuple[str, str]]] | None]:
    """What the bot says when added to a group: what it does and how to join a unit; when
    the person who added it is a bot admin, the unit picker of /dangky to bind the group."""
    if adder is None or not svc.settings.is_admin(adder.id):
        return GREETING, None
    text = GREETING + GREETING_ADMIN.format(name=html.escape(adder.full_name, quote=False))
    units = svc.store.units()
    if not units:
        return text + (" Chưa có đơn vị nào: hãy gửi tệp kế hoạch cho bot trong cuộc trò "
                       "chuyện riêng trước."), None
    rows, _, _ = units_keyboard(units, SUB, 0)
    return text, rows


async def on_any_message(update: Update, context: BotContext) -> None:
    """Before every other handler: a chat that writes to the bot (a message, a command, a
    button) can be written to again, so an inactive member chat becomes active."""
    chat = update.effective_chat
    message = update.effective_message
    if chat is None or update.my_chat_member is not None or (
            message is not None and (message.migrate_to_chat_id or message.left_chat_member)):
        return
    svc = context.services
    try:
        reactivate(svc.store, chat.id, REASON_MESSAGE, svc.now())
    except Exception:  # never stand in the way of the command itself
        logger.exception("could not reactivate chat %s", chat.id)


@guarded
async def on_migrate(update: Update, context: BotContext) -> None:
    """A group became a supergroup (service messages ``migrate_to_chat_id`` in the old chat,
    ``migrate_from_chat_id`` in the new one): move everything of the chat to its new id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old_id, new_id = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old_id, new_id = message.migrate_from_chat_id, message.chat.id
    else:
        return
    svc = context.services
    if carry_chat(svc.store, old_id, new_id, svc.now()):
        logger.info("chat %s became supergroup %s", old_id, new_id)


def register(app: Application) -> None:
    """Add this slice's command and button handlers."""
    app.add_handler(TypeHandler(Update, on_any_message), group=-1)
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("dangky", dangky))
    app.add_handler(CommandHandler("huydangky", huydangky))
    app.add_handler(CommandHandler("donvi", donvi))
    app.add_handler(CallbackQueryHandler(on_sub, pattern=rf"^{SUB}"))
    app.add_handler(CallbackQueryHandler(on_unsub, pattern=rf"^{UNSUB}"))
