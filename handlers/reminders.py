"""/nhacnho (a one-off reminder), /tamhoan (snooze a task's reminders), /thongbao (announce)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.dateinput import format_date, format_datetime, parse_user_date, parse_user_datetime
from bot.membership import Action, Actor, check_admin, check_task
from bot.records import StoredTask
from bot.text import clip, fold, quote
from bot.upkeep import (
    cancel_announcement,
    cancel_reminder,
    pending_announcements,
    pending_reminders,
)
from handlers.common import (
    BotContext,
    acting_person,
    actor,
    answer,
    dispatcher,
    guarded,
    markup,
    reply_html,
    usage,
    user_id,
)
from schedules.announce import announce, check_length, report_text, target_chats, unit_names

# Plain text: guarded() escapes error messages before they reach Telegram's HTML.
USAGE_NHACNHO = ("Cú pháp: /nhacnho <mã> <khi nào>, ví dụ /nhacnho 17 8 giờ sáng mai "
                 "hoặc /nhacnho 17 25/12 lúc 14:00.")
USAGE_TAMHOAN = ("Cú pháp: /tamhoan <mã> <khoảng>, ví dụ /tamhoan 17 3 ngày "
                 "hoặc /tamhoan 17 1 tuần.")
USAGE_THONGBAO = ("Cú pháp: /thongbao <đơn vị | tất cả>: <nội dung>; hẹn giờ: /thongbao <đơn vị> "
                  "lúc <khi nào>: <nội dung>. Nhiều đơn vị cách nhau bằng dấu chấm phẩy.")
SENDING = ("📤 Đang gửi thông báo tới {count} nhóm của {names}… Bot sẽ báo lại khi gửi xong; "
           "trong lúc đó bot vẫn trả lời các lệnh khác.")
BROADCAST_FAILED = ("Việc gửi thông báo bị gián đoạn do một lỗi của bot; một số nhóm có thể đã "
                    "nhận. Đừng gửi lại ngay (các nhóm đó sẽ nhận hai lần): hãy báo người quản "
                    "lý kỹ thuật của bot.")
SNOOZE_CHOICES = ((1, "1 ngày"), (3, "3 ngày"), (7, "1 tuần"))
ALL_UNITS = {"tat ca", "tat ca don vi", "toan bo", "all"}

_DURATION_RE = re.compile(r"^(\d{1,3})\s*(ngay|tuan|thang)$")
_DAYS = {"ngay": 1, "tuan": 7, "thang": 30}
_AT_RE = re.compile(r"\s+lúc\s+", re.IGNORECASE)


def _args(update: Update) -> str:
    """Everything after the command word, newlines kept (context.args loses them)."""
    text = update.effective_message.text or "" if update.effective_message else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _own_task(update: Update, context: BotContext, code: str,
              action: Action) -> StoredTask:
    """The task, if this chat's role on it allows ``action`` (bot.membership.MIN_ROLE)."""
    store = context.services.store
    task = store.task(code)
    if task is None:
        raise usage(f"Không có nhiệm vụ mã {quote(code)}. Xem mã bằng /nhiemvu.")
    check_task(action, task, actor(update, context), store.unit_name)
    return task


@guarded
async def nhacnho(update: Update, context: BotContext) -> None:
    """Set a one-off reminder of a task for this chat at a time written in Vietnamese;
    without arguments, list this chat's pending reminders with a "Hủy" button each."""
    parts = _args(update).split(maxsplit=1)
    if not parts:
        await reply_html(update, *_reminder_list(update, context))
        return
    if len(parts) < 2:
        raise usage(USAGE_NHACNHO)
    task = _own_task(update, context, parts[0], Action.REMIND)
    svc = context.services
    at = parse_user_datetime(parts[1], svc.now())
    svc.store.add_reminder(task.code, update.effective_chat.id, at, user_id(update), svc.now())
    await reply_html(update, f"⏰ Sẽ nhắc nhiệm vụ #{task.code} lúc {format_datetime(at)}.")


def snooze_until(text: str, today: date) -> date:
    """"3 ngày", "1 tuần", "2 tháng" -> today + that; else a date ("đến 5/1/2023")."""
    folded = fold(text).strip()
    folded = re.sub(r"^(?:trong|den|toi)\s+", "", folded)
    m = _DURATION_RE.match(folded)
    if m:
        return today + timedelta(days=int(m.group(1)) * _DAYS[m.group(2)])
    return parse_user_date(re.sub(r"^(?:đến|tới)\s+", "", text.strip(), flags=re.IGNORECASE),
                           today)


@guarded
async def tamhoan(update: Update, context: BotContext) -> None:
    """Pause a task's reminders for a while; without a span, offer buttons."""
    parts = _args(update).split(maxsplit=1)
    if not parts:
        raise usage(USAGE_TAMHOAN)
    task = _own_task(update, context, parts[0], Action.SNOOZE)
    if len(parts) == 1:
        rows = [[(label, f"snz:{task.id}:{days}") for days, label in SNOOZE_CHOICES]]
        await reply_html(update, f"Tạm hoãn nhắc nhiệm vụ #{task.code} trong bao lâu?", rows)
        return
    await reply_html(update, _snooze(update, context, task, snooze_until(
        parts[1], context.services.today())))


def _snooze(update: Update, context: BotContext, task: StoredTask,
            until: date) -> str:
    svc = context.services
    svc.store.snooze(task.code, until, actor=user_id(update), now=svc.now())
    return (f"🔕 Đã tạm hoãn nhắc nhiệm vụ #{task.code} đến hết ngày "
            f"{format_date(until - timedelta(days=1))}; bot nhắc lại từ {format_date(until)}.")


@guarded
async def snooze_button(update: Update, context: BotContext) -> None:
    """The buttons of /tamhoan: snz:<task id>:<days>."""
    _, task_id, days = update.callback_query.data.split(":")
    task = _own_task(update, context, task_id, Action.SNOOZE)
    text = _snooze(update, context, task, context.services.today() + timedelta(days=int(days)))
    await answer(update, "Đã tạm hoãn nhắc.")
    await update.callback_query.edit_message_text(text)


def parse_announcement(text: str) -> tuple[str, str | None, str]:
    """"<đơn vị> [lúc <khi nào>]: <nội dung>" -> (units, when or None, content)."""
    cut = min((i for i in (text.find(":"), text.find("\n")) if i >= 0), default=-1)
    if cut <= 0 or not text[cut + 1:].strip():
        raise usage(USAGE_THONGBAO)
    head, content = text[:cut].strip(), text[cut + 1:].strip()
    when = None
    m = _AT_RE.search(head)
    if m is None and fold(head).startswith("luc "):
        raise usage(USAGE_THONGBAO)
    if m:
        head, when = head[:m.start()].strip(), head[m.end():].strip()
        # "lúc 8:00: nội dung": the first colon was the clock's; take the content after it.
        if re.fullmatch(r".*\d", when) and re.match(r"\d{2}\b", content):
            clock, _, rest = content.partition(":")
            when, content = f"{when}:{clock.strip()}", rest.strip()
    if not head or not content:
        raise usage(USAGE_THONGBAO)
    return head, when, content


@guarded
async def thongbao(update: Update, context: BotContext) -> None:
    """Admins: send a message to every chat of some units, now (in the background) or later."""
    who = actor(update, context)
    check_admin(who, "gửi thông báo tới các đơn vị")
    if not _args(update):
        await reply_html(update, *_announcement_list(context, who))
        return
    target, when, content = parse_announcement(_args(update))
    svc = context.services
    if fold(target).strip() in ALL_UNITS:
        keys: tuple[str, ...] = ()
    else:
        keys = tuple(dict.fromkeys(svc.store.match_unit(part.strip()).key
                                   for part in target.split(";") if part.strip()))
    names = unit_names(svc.store, keys)
    if when is not None:
        at = parse_user_datetime(when, svc.now())
        item = svc.store.schedule_announcement(content, keys, at, actor=user_id(update),
                                               now=svc.now())
        await reply_html(update, f"🗓 Đã hẹn gửi thông báo (mã {item}) tới "
                         f"{html.escape(names, quote=False)} lúc {format_datetime(at)}.")
        return
    check_length(content)
    chats = target_chats(svc.store, keys)
    if not chats:
        await reply_html(update, render_report(svc.store, names, 0, None))
        return
    await reply_html(update, SENDING.format(count=len(chats),
                                            names=html.escape(names, quote=False)))
    # The broadcast takes a minute per ~2,000 chats (Telegram's 30 messages/s): it runs as a
    # task, so this chat and every other one are answered meanwhile; stop() awaits it.
    key = f"{update.effective_chat.id}:{update.effective_message.id}"
    context.application.create_task(
        _broadcast(update, context, content, keys, names, chats, key), update=update,
        name=f"thongbao:{key}")


async def _broadcast(update: Update, context: BotContext, content: str,
                     keys: tuple[str, ...], names: str, chats: list[int], key: str) -> None:
    """Send the announcement, then tell the sender how it went."""
    svc = context.services
    try:
        sent = await announce(dispatcher(context), svc.store, content, keys,
                              actor=user_id(update), now=svc.now(), key=key, chats=chats,
                              by=acting_person(update, context).name)
    except Exception:  # the application's error handler logs it (create_task)
        await reply_html(update, html.escape(BROADCAST_FAILED, quote=False))
        raise
    await reply_html(update, render_report(svc.store, names, sent.chats, sent.report))


def render_report(store, names: str, chats: int, report) -> str:  # type: ignore[no-untyped-def]
    """"Đã gửi tới 3/4 nhóm của …; không gửi được: …" (see schedules.announce.report_text)."""
    return report_text(store, names, chats, report)


# ------------------------------------------------------------------ pending lists (issue 10)
PENDING_SHOWN = 30
"""At most this many pending items (and "Hủy" buttons) in one list."""
CANCEL_REMINDER = "rmx:"
CANCEL_ANNOUNCEMENT = "tbx:"


def _more(total: int) -> str:
    return (f"\n<i>… và {total - PENDING_SHOWN} mục nữa (hủy bớt để xem tiếp).</i>"
            if total > PENDING_SHOWN else "")


def _reminder_list(update: Update, context: BotContext,
                   ) -> tuple[str, list[list[tuple[str, str]]]]:
    """This chat's pending one-off reminders, earliest first, a "Hủy" button each."""
    svc = context.services
    chat = update.effective_chat
    items = pending_reminders(svc.store, chat.id if chat else 0)
    if not items:
        return ("Cuộc trò chuyện này không có lời nhắc nào đang chờ. "
                + html.escape(USAGE_NHACNHO, quote=False)), []
    tasks = {t.id: t for t in svc.store.repo.tasks(r.task_id for r in items)}
    lines, rows = ["⏰ <b>Lời nhắc đang chờ của cuộc trò chuyện này</b>"], []
    for item in items[:PENDING_SHOWN]:
        when = format_datetime(item.at.astimezone(svc.settings.tz))
        task = tasks.get(item.task_id)
        what = html.escape(clip(task.text, 80), quote=False) if task else "(đã bị xóa)"
        lines.append(f"• #{item.task_id} lúc {when}: {what}")
        rows.append([(f"Hủy #{item.task_id} lúc {when}", f"{CANCEL_REMINDER}{item.id}")])
    return "\n".join(lines) + _more(len(items)), rows


@guarded
async def cancel_reminder_button(update: Update, context: BotContext) -> None:
    """"Hủy" under /nhacnho's list: rmx:<reminder id> (the presser's rights checked again)."""
    svc, query = context.services, update.callback_query
    if query is None or query.data is None:
        return
    reminder_id = int(query.data.removeprefix(CANCEL_REMINDER))
    gone = cancel_reminder(svc.store, reminder_id, actor(update, context), svc.now())
    await answer(update, f"Đã hủy lời nhắc nhiệm vụ #{gone.task_id} lúc "
                 f"{format_datetime(gone.at.astimezone(svc.settings.tz))}.")
    text, rows = _reminder_list(update, context)
    await query.edit_message_text(text, reply_markup=markup(rows))


def _announcement_list(context: BotContext, who: Actor,
                       ) -> tuple[str, list[list[tuple[str, str]]]]:
    """Pending scheduled announcements (admins), earliest first, a "Hủy" button each."""
    svc = context.services
    items = pending_announcements(svc.store, who)
    if not items:
        return ("Không có thông báo hẹn giờ nào đang chờ gửi. "
                + html.escape(USAGE_THONGBAO, quote=False)), []
    lines, rows = ["🗓 <b>Thông báo hẹn giờ đang chờ gửi</b>"], []
    for item in items[:PENDING_SHOWN]:
        when = format_datetime(item.at.astimezone(svc.settings.tz))
        names = html.escape(clip(unit_names(svc.store, item.unit_keys), 120), quote=False)
        lines.append(f"• Mã {item.id} · {when} · tới {names}: "
                     f"{html.escape(clip(item.text, 100), quote=False)}")
        rows.append([(f"Hủy thông báo {item.id} ({when})", f"{CANCEL_ANNOUNCEMENT}{item.id}")])
    return "\n".join(lines) + _more(len(items)), rows


@guarded
async def cancel_announcement_button(update: Update,
                                     context: BotContext) -> None:
    """"Hủy" under /thongbao's list: tbx:<id> (admins only, checked again)."""
    svc, query = context.services, update.callback_query
    if query is None or query.data is None:
        return
    who = actor(update, context)
    item_id = int(query.data.removeprefix(CANCEL_ANNOUNCEMENT))
    cancel_announcement(svc.store, item_id, who, svc.now())
    await answer(update, f"Đã hủy thông báo hẹn giờ mã {item_id}.")
    text, rows = _announcement_list(context, who)
    await query.edit_message_text(text, reply_markup=markup(rows))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("nhacnho", nhacnho))
    app.add_handler(CommandHandler("tamhoan", tamhoan))
    app.add_handler(CommandHandler("thongbao", thongbao))
    app.add_handler(CallbackQueryHandler(snooze_button, pattern=r"^snz:\d+:\d+$"))
    app.add_handler(CallbackQueryHandler(cancel_reminder_button,
                                         pattern=rf"^{CANCEL_REMINDER}\d{{1,18}}$"))
    app.add_handler(CallbackQueryHandler(cancel_announcement_button,
                                         pattern=rf"^{CANCEL_ANNOUNCEMENT}\d{{1,18}}$"))
