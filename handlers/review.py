"""Reviewing an import and giving work by hand: /sua, /xoa, /khoiphuc, /giao and the "rv:"
buttons of the import reply (issue 10). Admins only; the rules are :mod:`bot.review`.

The import reply (:func:`review_block`, joined to the summary by :mod:`handlers.documents`)
lists first the tasks that have no lead unit, with a button per section ("Giao mục II.3")
and per task ("#17"); pressing one asks for a unit name, typed as the answer (accents,
abbreviations and typos tolerated: :func:`handlers.units.closest_units`), then the admin
picks the unit among buttons. When the parser did not read the document's locality, the
reply also asks "Văn bản của địa phương nào?" with the known localities and "Khác…".

Callback data (≤ 64 bytes, checked again at every press: it can be forged):
``rv:t:<task>`` / ``rv:s:<doc>:<section ref>`` ask for a unit; ``rv:ut:<task>:<unit ref>`` /
``rv:us:<doc>:<section ref>:<unit ref>`` assign it; ``rv:l:<doc>:<locality ref>`` re-scopes
the document, ``rv:lo:<doc>`` asks for a locality name. What is waiting for a typed answer
lives in ``user_data`` (per person, for :data:`PENDING_MINUTES`); the last press carries
everything it needs, so a restart loses at most a question.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import review
from bot.dateinput import format_date, parse_user_date
from bot.errors import UnitNotFound, UsageError
from bot.membership import check_admin
from bot.records import ImportResult, StoredTask
from bot.repository import locality_key
from bot.store import Store
from bot.text import quote
from handlers import render
from handlers.common import (
    BotContext,
    Rows,
    actor,
    answer,
    guarded,
    is_admin,
    reply_html,
    send_html,
    user_id,
    user_name,
)
from handlers.units import closest_units, find_unit, unit_ref

logger = logging.getLogger(__name__)

__all__ = ["PREFIX", "register", "review_block"]

PREFIX = "rv:"
PENDING = "review_pending"
PENDING_MINUTES = 30
MAX_LISTED = 12
"""Tasks without a lead named in the import reply; the rest are counted."""
MAX_SECTION_BUTTONS = 10
MAX_TASK_BUTTONS = 20
TASK_BUTTONS_PER_ROW = 5
MAX_LOCALITY_BUTTONS = 8
OTHER_LOCALITY = "Khác…"

USAGE_SUA = (
    "Cách dùng: /sua <mã> <trường> <giá trị>. Các trường:\n"
    "• chutri — đơn vị chủ trì (nhiều đơn vị cách nhau bằng dấu ;), ví dụ: "
    "/sua 17 chutri Phòng Y tế\n"
    "• phoihop — đơn vị phối hợp, ví dụ: /sua 17 phoihop Phòng Tài chính - Kế hoạch; "
    "Công an thành phố (ghi «không» để bỏ)\n"
    "• han — thời hạn, ghi như /giahan, ví dụ: /sua 17 han 15/1/2023 (ghi «không» để bỏ)\n"
    "• noidung — nội dung nhiệm vụ, ví dụ: /sua 17 noidung Tổ chức tập huấn cho cán bộ")
USAGE_XOA = "Cách dùng: /xoa <mã>. Ví dụ: /xoa 17 (khôi phục lại bằng /khoiphuc 17)."
USAGE_KHOIPHUC = "Cách dùng: /khoiphuc <mã>. Ví dụ: /khoiphuc 17."
STALE = "Nút này đã cũ. Hãy gửi lại tệp hoặc dùng /sua <mã> chutri <đơn vị>."


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def _snippet(task: StoredTask, words: int = 12) -> str:
    return render.snippet(task.text, words)


def _section_label(section: str) -> str:
    return f"mục {section}" if section else "phần mở đầu"


# ------------------------------------------------------------------------------------------
# The import reply (pure: store in, HTML lines and button rows out)
# ------------------------------------------------------------------------------------------
def review_block(store: Store, result: ImportResult) -> tuple[list[str], Rows]:
    """What the import reply shows before the summary: the tasks without a lead unit and
    the question about the locality, with their buttons. Nothing for a duplicate."""
    if result.status == "duplicate":
        return [], []
    doc = result.document
    lines: list[str] = []
    rows: list[list[tuple[str, str]]] = []
    tasks = review.unassigned(store, doc.id)
    if tasks:
        lines.append(f"⚠️ <b>{len(tasks)} nhiệm vụ chưa có đơn vị chủ trì</b> — chưa ai được "
                     "nhắc những việc này. Bấm «Giao mục …» để giao cả mục cho một đơn vị, "
                     "hoặc bấm mã để giao từng việc (hay gõ /sua &lt;mã&gt; chutri "
                     "&lt;đơn vị&gt;):")
        for task in tasks[:MAX_LISTED]:
            where = f" ({_e(_section_label(review.section_of(task)))})"
            lines.append(f"• #{task.id}{where} {_e(_snippet(task))}")
        if len(tasks) > MAX_LISTED:
            lines.append(f"… và {len(tasks) - MAX_LISTED} nhiệm vụ khác (giao theo mục bằng "
                         "các nút bên dưới).")
        for section, items in review.unassigned_sections(tasks)[:MAX_SECTION_BUTTONS]:
            label = f"Giao {_section_label(section)} ({len(items)})"
            rows.append([(label, f"{PREFIX}s:{doc.id}:{review.section_ref(section)}")])
        codes = [(f"#{t.id}", f"{PREFIX}t:{t.id}") for t in tasks[:MAX_TASK_BUTTONS]]
        rows += [codes[i:i + TASK_BUTTONS_PER_ROW]
                 for i in range(0, len(codes), TASK_BUTTONS_PER_ROW)]
    if doc.locality is None:
        lines.append("❓ <b>Văn bản của địa phương nào?</b> Bot chưa đọc được địa phương của "
                     "văn bản; chọn để tên các đơn vị được hiểu đúng địa bàn.")
        places = [(name, f"{PREFIX}l:{doc.id}:{review.short_ref(locality_key(name))}")
                  for name in review.known_localities(store)[:MAX_LOCALITY_BUTTONS]]
        places.append((OTHER_LOCALITY, f"{PREFIX}lo:{doc.id}"))
        rows += [places[i:i + 2] for i in range(0, len(places), 2)]
    return lines, rows


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------
def _admin(update: Update, context: BotContext, what: str) -> None:
    check_admin(actor(update, context), what)


def _int(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise UsageError(STALE)
    return int(text)


def _raw_args(update: Update, words: int) -> list[str]:
    """The message text after the command split in at most ``words`` + 1 parts (the last one
    keeps its spaces and newlines)."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    return text.split(maxsplit=words)[1:]


def _units_text(store: Store, keys: Sequence[str]) -> str:
    return "; ".join(render.unit_label(store, k) for k in keys) or "chưa xác định"


def _set_pending(update: Update, context: BotContext, **what: Any) -> None:
    svc = context.services
    what.update(chat=update.effective_chat.id if update.effective_chat else 0,
                at=svc.now().isoformat())
    if context.user_data is not None:
        context.user_data[PENDING] = what


def _pending(update: Update, context: BotContext) -> dict[str, Any] | None:
    if context.user_data is None:
        return None
    what = context.user_data.get(PENDING)
    if not what or not update.effective_chat or what.get("chat") != update.effective_chat.id:
        return None
    started = datetime.fromisoformat(what["at"])
    if context.services.now() - started > timedelta(minutes=PENDING_MINUTES):
        context.user_data.pop(PENDING, None)
        return None
    return what


async def _ask(update: Update, text: str) -> None:
    """A question to answer by typing: ForceReply so that in a group the answer is a reply
    (a bot in privacy mode sees replies to its messages)."""
    query = update.callback_query
    message = query.message if query else update.effective_message
    if not isinstance(message, Message):
        return
    await message.reply_html(text, reply_markup=ForceReply(selective=False))


async def _drop_keyboard(update: Update, prefixes: tuple[str, ...] = ()) -> None:
    """Remove the pressed message's buttons whose data starts with one of ``prefixes``
    (all of them without prefixes): a question answered is not asked again."""
    query = update.callback_query
    message = query.message if query else None
    if message is None or not hasattr(message, "reply_markup"):
        return
    keep = None
    if prefixes and message.reply_markup is not None:
        rows = [[b for b in row if not str(b.callback_data or "").startswith(prefixes)]
                for row in message.reply_markup.inline_keyboard]
        rows = [row for row in rows if row]
        keep = InlineKeyboardMarkup(rows) if rows else None
    try:
        await query.edit_message_reply_markup(keep)
    except TelegramError as exc:  # cosmetic
        logger.info("could not drop the review buttons: %s", exc)


# ------------------------------------------------------------------------------------------
# Buttons
# ------------------------------------------------------------------------------------------
@guarded
async def on_button(update: Update, context: BotContext) -> None:
    """Every "rv:" button; rights first (the data may be forged)."""
    _admin(update, context, "giao việc hay sửa văn bản đã nhập")
    svc = context.services
    store = svc.store
    parts = (update.callback_query.data or "").removeprefix(PREFIX).split(":")
    kind, args = parts[0], parts[1:]
    who, name, now = user_id(update), user_name(update), svc.now()
    chat_id = update.effective_chat.id
    if kind == "t" and len(args) == 1:
        task = store.task(_int(args[0]))
        if task is None:
            raise UsageError("Nhiệm vụ này không còn trong hệ thống.")
        if task.lead:
            raise UsageError(f"Nhiệm vụ #{task.id} đã có đơn vị chủ trì: "
                             f"{_units_text(store, task.lead)}.")
        _set_pending(update, context, kind="t", task=task.id)
        await answer(update)
        await _ask(update, f"Gõ tên đơn vị chủ trì nhiệm vụ #{task.id} «{_e(_snippet(task))}» "
                           "(ví dụ: tài chính, y tế):")
    elif kind == "s" and len(args) == 2:
        doc_id = _int(args[0])
        groups = dict(review.unassigned_sections(review.unassigned(store, doc_id)))
        found = [(s, t) for s, t in groups.items() if review.section_ref(s) == args[1]]
        if not found:
            raise UsageError("Các nhiệm vụ của mục này đã có đơn vị chủ trì; không có gì "
                             "để giao.")
        section, tasks = found[0]
        _set_pending(update, context, kind="s", doc=doc_id, ref=args[1])
        await answer(update)
        await _ask(update, f"Gõ tên đơn vị chủ trì cho {len(tasks)} nhiệm vụ của "
                           f"{_e(_section_label(section))} (ví dụ: tài chính, y tế):")
    elif kind in ("ut", "us") and len(args) == (2 if kind == "ut" else 3):
        unit = find_unit(store, args[-1])
        if unit is None:
            raise UsageError("Đơn vị này không còn trong danh bạ. Hãy gõ lại tên đơn vị.")
        if kind == "ut":
            tasks = review.assign_lead(store, [_int(args[0])], unit.key, actor=who,
                                       by_name=name, now=now)
            what = f"nhiệm vụ #{tasks[0].id}"
        else:
            section, tasks = review.assign_section(store, _int(args[0]), args[1], unit.key,
                                                   actor=who, by_name=name, now=now)
            what = f"{len(tasks)} nhiệm vụ của {_section_label(section)}"
        if context.user_data is not None:
            context.user_data.pop(PENDING, None)
        await answer(update, f"Đã giao {what} cho {unit.label}.")
        await _drop_keyboard(update)
        codes = ", ".join(f"#{t.id}" for t in tasks)
        await send_html(context.bot, chat_id,
                        f"✅ Đã giao {_e(what)} ({codes}) cho <b>{_e(unit.label)}</b> chủ trì. "
                        "Các thành viên của đơn vị sẽ thấy trong /nhiemvu và được nhắc trong "
                        "bản tin buổi sáng.")
    elif kind == "l" and len(args) == 2:
        names = [n for n in review.known_localities(store)
                 if review.short_ref(locality_key(n)) == args[1]]
        if not names:
            raise UsageError(STALE)
        await _rescope(update, context, _int(args[0]), names[0])
    elif kind == "lo" and len(args) == 1:
        doc = store.document(_int(args[0]))
        if doc is None:
            raise UsageError("Văn bản này đã được hoàn tác hoặc không còn trong hệ thống.")
        _set_pending(update, context, kind="l", doc=doc.id)
        await answer(update)
        await _ask(update, "Gõ tên địa phương của văn bản (ví dụ: Cẩm Phả):")
    else:
        raise UsageError(STALE)


async def _rescope(update: Update, context: BotContext, doc_id: int,
                   locality: str) -> None:
    svc = context.services
    doc, changed = review.rescope_document(svc.store, doc_id, locality, actor=user_id(update),
                                           by_name=user_name(update), now=svc.now())
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)
    await answer(update, f"Văn bản thuộc {doc.locality}.")
    await _drop_keyboard(update, (f"{PREFIX}l:", f"{PREFIX}lo:"))
    await send_html(context.bot, update.effective_chat.id,
                    f"✅ Đã xác định văn bản mã {doc.id} thuộc <b>{_e(doc.locality or '')}</b>: "
                    f"đơn vị của {changed} nhiệm vụ được hiểu theo địa bàn này.")


# ------------------------------------------------------------------------------------------
# The typed answer
# ------------------------------------------------------------------------------------------
@guarded
async def on_text(update: Update, context: BotContext) -> None:
    """A plain message: the answer to a question of :func:`on_button`, else ignored."""
    what = _pending(update, context)
    if what is None:
        return
    if not is_admin(update, context):
        return
    text = " ".join((update.effective_message.text or "").split())
    if not text:
        return
    svc = context.services
    if what["kind"] == "l":
        await _rescope(update, context, int(what["doc"]), text)
        return
    suggestions: list[str] = []
    try:
        best = [svc.store.match_unit(text)]
    except UnitNotFound as exc:
        best, suggestions = [], exc.suggestions
    candidates = best + [u for u in closest_units(svc.store, text, suggestions)
                         if u.key not in {b.key for b in best}]
    if not candidates:
        await reply_html(update, f"Không tìm thấy đơn vị nào gần với «{_e(quote(text))}». "
                                 "Hãy gõ lại tên khác (ví dụ: tài chính, y tế).")
        return
    if what["kind"] == "t":
        base = f"{PREFIX}ut:{what['task']}:"
        target = f"nhiệm vụ #{what['task']}"
    else:
        base = f"{PREFIX}us:{what['doc']}:{what['ref']}:"
        target = "các nhiệm vụ của mục"
    rows = [[(render_label(u.label), base + unit_ref(u.key))] for u in candidates[:6]]
    await reply_html(update, f"Chọn đơn vị chủ trì {_e(target)} (hoặc gõ lại tên khác):", rows)


def render_label(label: str, limit: int = 60) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


# ------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------
def _task_fields(store: Store, task: StoredTask) -> str:
    due = format_date(task.due) if task.due else "không có hạn"
    return (f"Nhiệm vụ #{task.id}: {_e(_snippet(task, 20))}\n"
            f"• chutri: {_e(_units_text(store, task.lead))}\n"
            f"• phoihop: {_e('; '.join(render.unit_label(store, k) for k in task.support))}"
            f"{'' if task.support else 'không có'}\n"
            f"• han: {due}")


@guarded
async def sua(update: Update, context: BotContext) -> None:
    """/sua <mã> <trường> <giá trị> (admins)."""
    _admin(update, context, "sửa nhiệm vụ")
    svc = context.services
    args = _raw_args(update, 3)
    if not args:
        raise UsageError(USAGE_SUA)
    task = svc.store.task(args[0])
    if task is None:
        raise UsageError(f"Không có nhiệm vụ mã {quote(args[0])}. Gõ /nhiemvu để xem các mã.")
    if len(args) == 1:
        await reply_html(update, _task_fields(svc.store, task) + "\n\n" + _e(USAGE_SUA))
        return
    if len(args) == 2:
        field = review.EDIT_FIELDS.get(review.fold_field(args[1]), args[1])
        raise UsageError(f"Hãy ghi giá trị mới cho {field}. {USAGE_SUA}")
    before, after = review.edit_task(svc.store, task.id, args[1], args[2],
                                     actor=user_id(update), by_name=user_name(update),
                                     now=svc.now(), today=svc.today())
    field = review.fold_field(args[1])
    name = review.EDIT_FIELDS[field]
    if field == "chutri":
        old, new = _units_text(svc.store, before.lead), _units_text(svc.store, after.lead)
    elif field == "phoihop":
        old = "; ".join(render.unit_label(svc.store, k) for k in before.support) or "không có"
        new = "; ".join(render.unit_label(svc.store, k) for k in after.support) or "không có"
    elif field == "han":
        old = format_date(before.due) if before.due else "không có hạn"
        new = format_date(after.due) if after.due else "không có hạn"
    else:
        old, new = _snippet(before, 20), _snippet(after, 20)
    await reply_html(update, f"✏️ Đã sửa {_e(name)} của nhiệm vụ #{after.id}: {_e(old)} → "
                             f"<b>{_e(new)}</b>.")


@guarded
async def xoa(update: Update, context: BotContext) -> None:
    """/xoa <mã>: remove a wrongly read task (admins); /khoiphuc brings it back."""
    _admin(update, context, "xóa nhiệm vụ")
    if not context.args or len(context.args) != 1:
        raise UsageError(USAGE_XOA)
    svc = context.services
    task = review.delete_task(svc.store, context.args[0], actor=user_id(update),
                              by_name=user_name(update), now=svc.now())
    await reply_html(update, f"🗑 Đã xóa nhiệm vụ #{task.id}: <i>{_e(_snippet(task))}</i>\n"
                             f"Lịch sử vẫn giữ toàn bộ nhiệm vụ; khôi phục bằng /khoiphuc "
                             f"{task.id}.")


@guarded
async def khoiphuc(update: Update, context: BotContext) -> None:
    """/khoiphuc <mã>: bring back a task removed by /xoa (admins)."""
    _admin(update, context, "khôi phục nhiệm vụ")
    if not context.args or len(context.args) != 1:
        raise UsageError(USAGE_KHOIPHUC)
    svc = context.services
    task = review.restore_task(svc.store, context.args[0], actor=user_id(update),
                               by_name=user_name(update), now=svc.now())
    await reply_html(update, f"♻️ Đã khôi phục nhiệm vụ #{task.id}: "
                             f"<i>{_e(_snippet(task))}</i> (chủ trì: "
                             f"{_e(_units_text(svc.store, task.lead))}).")


@guarded
async def giao(update: Update, context: BotContext) -> None:
    """/giao <đơn vị> [hạn <ngày>]: <nội dung> (admins)."""
    _admin(update, context, "giao việc")
    svc = context.services
    args = _raw_args(update, 1)
    request = review.parse_give(args[0] if args else "")
    units = review.resolve_units(svc.store, request.units)
    due = parse_user_date(request.due_text, svc.today()) if request.due_text else None
    task = review.give_task(svc.store, units, request.text, due, actor=user_id(update),
                            by_name=user_name(update), now=svc.now(),
                            due_phrase=request.due_text)
    doc = svc.store.document(task.doc_id)
    due_text = (f"hạn <b>{format_date(task.due)}</b>" if task.due
                else "không có hạn (chỉ hiện trong danh sách, không được nhắc theo hạn)")
    where = _e(doc.title or "") if doc else ""
    await reply_html(update, f"📌 Đã giao nhiệm vụ #{task.id} cho "
                             f"<b>{_e(_units_text(svc.store, task.lead))}</b> chủ trì, "
                             f"{due_text}.\n<i>{_e(_snippet(task, 20))}</i>\n"
                             f"Lưu trong «{where}»; xem /chitiet {task.id}.")


def register(app: Application) -> None:
    """Add this slice's commands, buttons and the typed answers."""
    app.add_handler(CommandHandler("sua", sua))
    app.add_handler(CommandHandler("xoa", xoa))
    app.add_handler(CommandHandler("khoiphuc", khoiphuc))
    app.add_handler(CommandHandler("giao", giao))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}"))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND
                                   & filters.UpdateType.MESSAGE, on_text))
