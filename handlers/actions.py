"""Acting on tasks: /xong, /mo, /giahan, the "Đã xong" button, and /thongke.

Who may close or reopen a task: a chat that is a member of one of the task's lead units (chủ
trì), or a bot admin (:mod:`bot.membership`). A supporting unit (phối hợp) is told which lead
unit must report it, because in the government's reporting rules only the lead unit answers
for the result. Moving a deadline is an admin's decision.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Sequence
from datetime import date

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.dateinput import EXAMPLES_DATE, format_date, parse_user_date
from bot.errors import BotError, DateInputError, UsageError
from bot.membership import Action, check_admin, check_task
from bot.records import StoredTask, UnitStats
from bot.store import Store
from bot.text import fold, quote
from handlers import render
from handlers.common import (
    BotContext,
    actor,
    answer,
    guarded,
    reply_html,
    send_html,
    usage,
    user_id,
)

logger = logging.getLogger(__name__)

__all__ = [
    "DONE", "MAX_DATE_WORDS", "MAX_NOTE_CHARS", "done_text",
    "extend_text", "parse_extension", "register", "reopen_text", "stats_table",
    "task_snippet",
]

DONE = "done:"
MAX_NOTE_CHARS = 500
MAX_DATE_WORDS = 8
"""/giahan tries dates of at most this many words (dates are short; reasons can be long)."""
SNIPPET_WORDS = 15
_COLUMNS = (("ĐH", "hoàn thành đúng hạn"), ("TH", "hoàn thành quá hạn"),
            ("CĐ", "chưa đến hạn"), ("QH", "quá hạn chưa hoàn thành"))
# Words dateinput skips as filler ("chờ" folds to "cho"): at the end of a date prefix they
# belong to the reason ("15/1/2023 chờ kinh phí" -> reason "chờ kinh phí").
_TRAILING_FILLERS = frozenset({"luc", "vao", "ngay", "truoc", "den", "het", "han", "chot",
                               "trong", "cho", "la", "nhe", "nha", "khoang", "tai", "buoi"})

USAGE_XONG = "Cách dùng: /xong <mã> [ghi chú]. Ví dụ: /xong 17 đã gửi báo cáo."
USAGE_MO = "Cách dùng: /mo <mã>. Ví dụ: /mo 17."
USAGE_GIAHAN = ("Cách dùng: /giahan <mã> <ngày mới> [lý do]. "
                "Ví dụ: /giahan 17 15/1/2023 chờ kinh phí.")


# ------------------------------------------------------------------------------------------
# Pure parts
# ------------------------------------------------------------------------------------------
def task_snippet(task: StoredTask, words: int = SNIPPET_WORDS) -> str:
    """The first words of a task, plain text, to remind people which task a code is."""
    parts = task.text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def done_text(task: StoredTask, days_late: int) -> str:
    """HTML confirmation of /xong."""
    if task.due is None:
        verdict = "nhiệm vụ không có hạn."
    elif days_late > 0:
        verdict = f"hoàn thành quá hạn {days_late} ngày."
    else:
        verdict = "hoàn thành đúng hạn."
    lines = [f"Đã ghi nhận hoàn thành nhiệm vụ #{task.code} — {verdict}",
             f"<i>{html.escape(task_snippet(task))}</i>"]
    if task.note:
        lines.append(f"Ghi chú: {html.escape(task.note)}")
    return "\n".join(lines)


def reopen_text(task: StoredTask) -> str:
    due = f"hạn hiện tại {format_date(task.due)}" if task.due else "không có hạn"
    return (f"Đã mở lại nhiệm vụ #{task.code} ({due}).\n"
            f"<i>{html.escape(task_snippet(task))}</i>")


def parse_extension(words: Sequence[str], today: date) -> tuple[date, str | None]:
    """Split "<ngày mới> [lý do]": the longest leading words that read as a date win.

    Raises DateInputError: the most specific message found ("Ngày 31/02/2023 không tồn
    tại…") rather than "không hiểu" about the whole sentence.
    """
    words = list(words)
    if not words:
        raise usage(USAGE_GIAHAN)
    found: tuple[int, date] | None = None
    specific: DateInputError | None = None
    for n in range(min(len(words), MAX_DATE_WORDS), 0, -1):
        try:
            found = n, parse_user_date(" ".join(words[:n]), today)
            break
        except DateInputError as exc:
            if specific is None and not exc.message.startswith("Không hiểu"):
                specific = exc
    if found is None:
        if specific is not None:
            raise specific
        shown = quote(" ".join(words[:MAX_DATE_WORDS]))
        raise DateInputError(f"Không đọc được ngày gia hạn trong «{shown}». Ví dụ cách ghi "
                             f"ngày: {EXAMPLES_DATE}.")
    n, day = found
    while n > 1 and fold(words[n - 1]) in _TRAILING_FILLERS:
        try:
            shorter = parse_user_date(" ".join(words[:n - 1]), today)
        except DateInputError:
            break
        if shorter != day:
            break
        n -= 1
    reason = " ".join(words[n:]).strip()
    return day, reason[:MAX_NOTE_CHARS] or None


def extend_text(task: StoredTask, old_due: date | None, reason: str | None) -> str:
    """HTML confirmation of /giahan: old → new date."""
    old = format_date(old_due) if old_due else "chưa có hạn"
    new = format_date(task.due) if task.due else "không có hạn"
    # Only a later date is an extension ("gia hạn"); an earlier one is a change of deadline.
    verb = ("Đã đổi hạn" if old_due is not None and task.due is not None
            and task.due < old_due else "Đã gia hạn")
    lines = [f"{verb} nhiệm vụ #{task.code}: {old} → <b>{new}</b>.",
             f"<i>{html.escape(task_snippet(task))}</i>"]
    if reason:
        lines.append(f"Lý do: {html.escape(reason)}")
    return "\n".join(lines)


def stats_table(stats: Sequence[UnitStats], today: date) -> str:
    """HTML /thongke table: the four counts in monospace columns, then the unit's full name.

    Numbers first keeps the columns aligned on a narrow phone screen whatever the length of
    the name; one line per unit, each balanced, so the table splits safely between lines.
    """
    localities = {s.unit.locality for s in stats}
    counts = [(s.done_on_time, s.done_late, s.not_yet_due, s.overdue_open) for s in stats]
    width = max([3, *(len(str(n)) for row in counts for n in row)])
    lines = [f"<b>Tình hình thực hiện nhiệm vụ đến ngày {format_date(today)}</b>",
             "Theo đơn vị chủ trì; "
             + "; ".join(f"{code}: {name}" for code, name in _COLUMNS) + ".",
             f"<code>{' '.join(code.rjust(width) for code, _ in _COLUMNS)}</code> Đơn vị"]
    for item, row in zip(stats, counts, strict=True):
        name = item.unit.label if len(localities) > 1 else item.unit.name
        numbers = " ".join(str(n).rjust(width) for n in row)
        lines.append(f"<code>{numbers}</code> {html.escape(' '.join(name.split()))}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# Handlers
# ------------------------------------------------------------------------------------------
def _find_task(store: Store, code: str) -> StoredTask:
    task = store.task(code)
    if task is None:
        raise UsageError(f"Không có nhiệm vụ mã {quote(code)}. Gõ /nhiemvu để xem các mã.")
    return task


def _note(update: Update) -> str | None:
    """Everything after "/xong <mã>", newlines kept."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    parts = text.split(maxsplit=2)
    note = parts[2].strip() if len(parts) > 2 else ""
    return note[:MAX_NOTE_CHARS] or None


def _close(update: Update, context: BotContext, code: str,
           note: str | None) -> str:
    svc = context.services
    task = _find_task(svc.store, code)
    check_task(Action.CLOSE, task, actor(update, context), svc.store.unit_name)
    done, days_late = svc.store.mark_done(task.code, actor=user_id(update), now=svc.now(),
                                          note=note)
    return done_text(done, days_late)


@guarded
async def xong(update: Update, context: BotContext) -> None:
    """/xong <mã> [ghi chú]"""
    if not context.args:
        raise usage(USAGE_XONG)
    await reply_html(update, _close(update, context, context.args[0], _note(update)))


@guarded
async def mo(update: Update, context: BotContext) -> None:
    """/mo <mã>: undo a mistaken "done"."""
    if not context.args or len(context.args) > 1:
        raise usage(USAGE_MO)
    svc = context.services
    task = _find_task(svc.store, context.args[0])
    check_task(Action.REOPEN, task, actor(update, context), svc.store.unit_name)
    opened = svc.store.reopen(task.code, actor=user_id(update), now=svc.now())
    await reply_html(update, reopen_text(opened))


@guarded
async def giahan(update: Update, context: BotContext) -> None:
    """/giahan <mã> <ngày mới> [lý do] (admins)."""
    check_admin(actor(update, context), Action.EXTEND.value)
    if not context.args or len(context.args) < 2:
        raise usage(USAGE_GIAHAN)
    svc = context.services
    task = _find_task(svc.store, context.args[0])
    today = svc.today()
    new_due, reason = parse_extension(context.args[1:], today)
    if new_due < today:
        raise UsageError(f"Ngày gia hạn {format_date(new_due)} đã qua; hãy chọn một ngày từ "
                         f"hôm nay ({format_date(today)}) trở đi.")
    extended = svc.store.extend(task.code, new_due, actor=user_id(update), now=svc.now(),
                                reason=reason)
    await reply_html(update, extend_text(extended, task.due, reason))


def _without_button(keyboard: InlineKeyboardMarkup | None,
                    data: str) -> InlineKeyboardMarkup | None:
    """The message's keyboard minus the pressed button (None when nothing is left)."""
    if keyboard is None:
        return None
    rows = [[b for b in row if b.callback_data != data] for row in keyboard.inline_keyboard]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def _drop_button(update: Update, data: str) -> None:
    query = update.callback_query
    message = query.message if query else None
    if message is None or not hasattr(message, "reply_markup"):
        return  # an inaccessible (too old) message cannot be edited
    try:
        await query.edit_message_reply_markup(_without_button(message.reply_markup, data))
    except TelegramError as exc:  # e.g. "message is not modified": nothing to fix
        logger.info("could not drop button %s: %s", data, exc)


@guarded
async def on_done(update: Update, context: BotContext) -> None:
    """The "Đã xong" button of digests and lists: /xong with the presser's rights."""
    data = update.callback_query.data or ""
    code = data.removeprefix(DONE)
    svc = context.services
    task = _find_task(svc.store, code)
    check_task(Action.CLOSE, task, actor(update, context), svc.store.unit_name)
    if not task.is_open:
        await _drop_button(update, data)
        when = f" ngày {format_date(task.done_at.date())}" if task.done_at else ""
        raise UsageError(f"Nhiệm vụ #{task.code} đã được báo hoàn thành{when}.")
    text = _close(update, context, code, None)
    await answer(update, f"Đã ghi nhận hoàn thành nhiệm vụ #{task.code}.")
    await _drop_button(update, data)
    by = update.effective_user.full_name if update.effective_user else ""
    if by:
        text += f"\n(Báo bởi {html.escape(by)})"
    await send_html(context.bot, update.effective_chat.id, text)


@guarded
async def thongke(update: Update, context: BotContext) -> None:
    """/thongke: the four categories per unit, as a table and as a chart."""
    if context.args:
        raise usage("Cách dùng: /thongke (không cần tham số; thống kê theo các đơn vị nhóm "
                    "đã đăng ký).")
    svc = context.services
    who = actor(update, context)
    keys = who.unit_keys
    if not keys and not who.admin:
        raise UsageError(render.no_units_text(who.group))
    today = svc.today()
    stats = svc.store.stats(today, keys or None)
    if not stats or all(s.total == 0 for s in stats):
        await reply_html(update, "Chưa có nhiệm vụ nào của các đơn vị này để thống kê.")
        return
    await reply_html(update, stats_table(stats, today))
    title = f"Tình hình thực hiện nhiệm vụ đến ngày {format_date(today)}"
    try:
        from bot.charts import stats_chart  # matplotlib: ~35 MB, loaded on first /thongke

        png = await asyncio.to_thread(stats_chart, stats, title)
    except Exception as exc:  # the table is already sent: a missing chart is not fatal
        logger.exception("chart failed")
        raise BotError("Không vẽ được biểu đồ lúc này; số liệu đã có trong bảng trên.") from exc
    await update.effective_message.reply_photo(
        photo=png, filename="thongke.png",
        caption=f"Biểu đồ nhiệm vụ theo đơn vị chủ trì, đến ngày {format_date(today)}.")


def register(app: Application) -> None:
    """Add this slice's command and button handlers."""
    app.add_handler(CommandHandler("xong", xong))
    app.add_handler(CommandHandler("mo", mo))
    app.add_handler(CommandHandler("giahan", giahan))
    app.add_handler(CommandHandler("thongke", thongke))
    app.add_handler(CallbackQueryHandler(on_done, pattern=rf"^{DONE}"))
