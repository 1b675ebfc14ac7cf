"""Reports for leadership: /baocao (Excel workbook + chart) and /lich_ics (iCalendar file).

Who may:

* /baocao [đơn vị] [kỳ] — a bot admin for any unit, or every unit ("tất cả", or nothing in a
  chat that belongs to no unit); a member chat for its own units (nothing: all of them; a
  name: that unit, if the chat belongs to it). As /thongke, OPEN_READ does not open reports.
* /lich_ics [đơn vị] — the same rights as /nhiemvu (:func:`handlers.tasks.chat_scope`).

A refusal is a Vietnamese message and nothing else: no file, no picture. The store is read on
the event loop (it is not shared with threads); the workbook, the chart and the calendar are
built in a worker thread (:func:`asyncio.to_thread`), so a large report does not stall other
chats (the handlers do not block the update queue).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Sequence

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.errors import BotError, NotAllowed, UsageError
from bot.icsexport import build_calendar, pick_tasks
from bot.membership import Actor
from bot.reports import (
    ALL_UNITS_WORDS,
    CATEGORIES,
    Report,
    build_workbook,
    collect,
    parse_period,
    period_text,
    report_filename,
    split_request,
)
from bot.store import Store
from bot.text import clip, fold
from handlers import render
from handlers.common import BotContext, actor, guarded, reply_html
from handlers.tasks import chat_scope

logger = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ICS_MIME = "text/calendar"
ICS_FILENAME = "lich-han-nhiem-vu.ics"
CAPTION_SCOPE_CHARS = 300
ALL_UNITS = "Tất cả đơn vị"

USAGE_BAOCAO = ("Cú pháp: /baocao [đơn vị] [kỳ], ví dụ /baocao, /baocao tài chính quý 3/2024, "
                "/baocao năm 2024, /baocao tất cả 6 tháng đầu năm 2024 (quản trị viên).")
ONLY_ADMINS_ALL = ("Chỉ quản trị viên của bot mới được lập báo cáo của tất cả đơn vị. Gõ "
                   "/baocao để lập báo cáo của đơn vị mình.")
NOTHING_IN_PERIOD = "Không có nhiệm vụ nào của {scope} có hạn trong {period}."
NOTHING_AT_ALL = "Chưa có nhiệm vụ nào do {scope} chủ trì để báo cáo."
NO_DEADLINES = ("Không có nhiệm vụ đang mở nào có thời hạn của {scope}, nên không có gì để "
                "đưa vào lịch.")
CHART_FAILED = "Không vẽ được biểu đồ lúc này; số liệu đã có trong tệp Excel ở trên."


def report_scope(store: Store, who: Actor, unit_query: str) -> tuple[tuple[str, ...] | None,
                                                                     str]:
    """(unit keys or None for every unit, how to name them) for /baocao; NotAllowed or
    UsageError when the chat may not have this report."""
    if unit_query and fold(unit_query) in ALL_UNITS_WORDS:
        if not who.admin:
            raise NotAllowed(ONLY_ADMINS_ALL)
        return None, ALL_UNITS
    if unit_query:
        unit = store.match_unit(unit_query)  # UnitNotFound lists the closest names
        if not (who.admin or who.member_of(unit.key)):
            raise NotAllowed(f"{who.who} chưa là thành viên của {unit.label} nên không lập "
                             "được báo cáo của đơn vị này. Báo cáo của một đơn vị dành cho "
                             "các thành viên của đơn vị và quản trị viên bot.")
        return (unit.key,), unit.label
    if who.unit_keys:
        return who.unit_keys, render.scope_title(store, who.unit_keys)
    if who.admin:
        return None, ALL_UNITS
    pending = [render.unit_label(store, r.unit_key)
               for r in store.join_requests(chat_id=who.chat_id)]
    raise UsageError(render.no_units_text(who.group, pending=pending))


def report_caption(report: Report) -> str:
    """HTML caption of the workbook (within Telegram's 1,024 characters)."""
    total = report.total
    counts = "; ".join(f"{label.lower()}: {getattr(total, field)}"
                       for field, label in CATEGORIES)
    return (f"<b>Báo cáo tình hình thực hiện nhiệm vụ</b>\n"
            f"Đơn vị: {html.escape(clip(report.scope, CAPTION_SCOPE_CHARS), quote=False)}\n"
            f"Kỳ: {html.escape(period_text(report.period), quote=False)}\n"
            f"Đến ngày {render.vn_date(report.today)}: {total.total} nhiệm vụ — {counts}.")


def chart_title(report: Report) -> str:
    when = report.period.label if report.period else f"đến ngày {render.vn_date(report.today)}"
    return f"Tình hình thực hiện nhiệm vụ – {when}"


@guarded
async def baocao(update: Update, context: BotContext) -> None:
    """/baocao [đơn vị] [kỳ]"""
    svc, message = context.services, update.effective_message
    if message is None:
        return
    unit_query, period_words = split_request(" ".join(context.args or ()))
    period = parse_period(period_words) if period_words else None
    keys, scope = report_scope(svc.store, actor(update, context), unit_query)
    today = svc.today()
    report = collect(svc.store, keys, today, period, scope=scope)
    if not report.rows:
        template = NOTHING_IN_PERIOD if period else NOTHING_AT_ALL
        await reply_html(update, html.escape(template.format(
            scope=scope, period=period_text(period).lower() if period else ""), quote=False))
        return
    data = await asyncio.to_thread(build_workbook, report)
    logger.info("report for %s: %d tasks, %d bytes", "all units" if keys is None else keys,
                len(report.rows), len(data))
    document = InputFile(data, filename=report_filename(report))
    document.mimetype = XLSX_MIME
    await message.reply_document(document=document, caption=report_caption(report))
    try:
        from bot.charts import stats_chart  # matplotlib: loaded on first use

        png = await asyncio.to_thread(stats_chart, report.stats, chart_title(report))
    except Exception as exc:  # the workbook is already sent: a missing chart is not fatal
        logger.exception("report chart failed")
        raise BotError(CHART_FAILED) from exc
    await message.reply_photo(photo=png, filename=report_filename(report)[:-5] + ".png",
                              caption=f"Biểu đồ theo đơn vị chủ trì – "
                                      f"{html.escape(period_text(report.period), quote=False)}.")


def _scope_name(store: Store, keys: Sequence[str] | None) -> str:
    return ALL_UNITS if keys is None else render.scope_title(store, keys)


@guarded
async def lich_ics(update: Update, context: BotContext) -> None:
    """/lich_ics [đơn vị]: the open deadlines as an .ics file."""
    svc, message = context.services, update.effective_message
    if message is None:
        return
    scope = chat_scope(update, context, " ".join(context.args or ()).strip() or None)
    store = svc.store
    tasks, dated = pick_tasks(store.open_tasks(scope.keys), svc.today())
    name = scope.title or _scope_name(store, scope.keys)
    if not tasks:
        await reply_html(update, html.escape(NO_DEADLINES.format(scope=name), quote=False))
        return
    names = {k: render.unit_label(store, k) for t in tasks for k in t.units}
    docs = {t.doc_id: render.document_label(store.document(t.doc_id)) for t in tasks}
    data = await asyncio.to_thread(
        build_calendar, tasks, now=svc.now(), name=f"Hạn nhiệm vụ – {clip(name, 100)}",
        unit_name=lambda key: names.get(key, key), document_label=lambda i: docs.get(i, ""))
    document = InputFile(data, filename=ICS_FILENAME)
    document.mimetype = ICS_MIME
    caption = (f"<b>Lịch hạn {len(tasks)} nhiệm vụ đang mở</b> – "
               f"{html.escape(clip(name, CAPTION_SCOPE_CHARS), quote=False)}.\n")
    if dated > len(tasks):
        caption += (f"Có {dated} nhiệm vụ có hạn; lịch chỉ gồm {len(tasks)} hạn gần nhất (các "
                    "hạn sắp tới trước). Gõ /lich_ics &lt;đơn vị&gt; để lấy lịch của một "
                    "đơn vị.\n")
    caption += ("Mở tệp bằng ứng dụng lịch (Google Calendar, Outlook, lịch điện thoại) để "
                "thêm các hạn; mỗi hạn có lời nhắc lúc 9 giờ sáng hôm trước. Nhập lại tệp mới "
                "thì các hạn được cập nhật, không bị trùng.")
    await message.reply_document(document=document, caption=caption)


def register(app: Application) -> None:
    """Add /baocao and /lich_ics."""
    # block=False: while a large workbook is built in its thread, other chats are answered.
    app.add_handler(CommandHandler("baocao", baocao, block=False))
    app.add_handler(CommandHandler("lich_ics", lich_ics, block=False))
