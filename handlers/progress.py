"""/tiendo (progress reports) and /xingiahan (extension requests) with their admin buttons.

The rules are :mod:`bot.progress`; this module parses, makes one core call, renders and
replies. Buttons (the data may be forged: the core checks the presser's rights again):

* ``xgh:ok:<id>`` / ``xgh:no:<id>`` approve or refuse extension request ``id`` (admins).

The admins get each request in a private message, the asking chat gets the decision: both
through the dispatcher with a delivery key each, so they are retried and never sent twice.
"""

from __future__ import annotations

import html
import logging
import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import progress
from bot.dateinput import format_date, format_datetime
from bot.errors import UsageError
from bot.progress import USAGE_TIENDO, USAGE_XINGIAHAN, ExtensionRequest
from bot.records import StoredTask
from bot.store import Store
from bot.text import quote
from handlers.actions import parse_extension, task_snippet
from handlers.common import (
    BotContext,
    Rows,
    actor,
    answer,
    dispatcher,
    guarded,
    reply_html,
)
from handlers.members import _delivered, _drop_pressed
from handlers.render import progress_line
from schedules.dispatch import Outgoing

logger = logging.getLogger(__name__)

__all__ = ["EXT_NO", "EXT_OK", "register", "request_rows", "request_text"]

EXT_OK = "xgh:ok:"
EXT_NO = "xgh:no:"
_BUTTON_RE = re.compile(r"^xgh:(ok|no):(\d{1,9})$")
BAD_BUTTON = "Nút này không hợp lệ. Hãy gõ lại lệnh."

_e = html.escape


def _rest(update: Update) -> str:
    """Everything after "/lệnh <mã>", as typed (newlines kept)."""
    message = update.effective_message
    parts = ((message.text or "") if message else "").split(maxsplit=2)
    return parts[2] if len(parts) > 2 else ""


# ------------------------------------------------------------------------------ rendering
def progress_reply(task: StoredTask) -> str:
    assert task.progress is not None
    return (f"📈 Đã ghi nhận tiến độ nhiệm vụ #{task.code}.\n"
            f"<i>{_e(task_snippet(task))}</i>\n{progress_line(task.progress)}")


def _who(request: ExtensionRequest) -> str:
    return progress.who_label(request.event.data, request.event.actor)


def request_text(store: Store, request: ExtensionRequest, task: StoredTask | None) -> str:
    """What the admins get (and see again once it is decided)."""
    old = format_date(request.old_due) if request.old_due else "chưa có hạn"
    lines = [f"⏳ Yêu cầu gia hạn #{request.id} — nhiệm vụ #{request.task_id}"]
    if task is not None:
        lines.append(f"<i>{_e(task_snippet(task))}</i>")
        lead = "; ".join(store.unit_name(k) for k in task.lead)
        if lead:
            lines.append(f"Chủ trì: {_e(lead)}")
    lines += [f"Hạn: {old} → <b>{format_date(request.new_due)}</b>",
              f"Lý do: {_e(request.reason)}",
              f"Người xin: {_e(_who(request))}, lúc {format_datetime(request.event.at)}"]
    if not request.pending:
        mark = "✅" if request.approved else "❌"
        lines.append(f"{mark} Yêu cầu {_e(progress.decided_text(request))}.")
    return "\n".join(lines)


def request_rows(request: ExtensionRequest) -> Rows:
    return [[("✅ Duyệt", f"{EXT_OK}{request.id}"), ("❌ Từ chối", f"{EXT_NO}{request.id}")]]


def asked_text(request: ExtensionRequest, admins: int) -> str:
    sent = (f"đã gửi tới {admins} quản trị viên" if admins
            else "chưa gửi được tới quản trị viên nào (bot sẽ thử lại)")
    return (f"Đã gửi yêu cầu gia hạn #{request.id} cho nhiệm vụ #{request.task_id} đến "
            f"<b>{format_date(request.new_due)}</b> — {sent}. Bot sẽ báo tại đây khi có kết "
            "quả.")


def decision_notice(request: ExtensionRequest, task: StoredTask) -> str:
    """What the asking chat is told."""
    decision = request.decision
    assert decision is not None
    by = decision.data.get("by_name") or "quản trị viên"
    if request.approved:
        return (f"✅ Yêu cầu gia hạn #{request.id} đã được duyệt bởi {_e(str(by))}: nhiệm vụ "
                f"#{task.code} có hạn mới <b>{format_date(request.new_due)}</b>.\n"
                f"<i>{_e(task_snippet(task))}</i>")
    return (f"❌ Yêu cầu gia hạn #{request.id} (nhiệm vụ #{task.code}, đến "
            f"{format_date(request.new_due)}) không được {_e(str(by))} chấp thuận; hạn vẫn là "
            f"{format_date(task.due) if task.due else 'như cũ'}.\n"
            f"<i>{_e(task_snippet(task))}</i>")


# ------------------------------------------------------------------------------ handlers
@guarded
async def tiendo(update: Update, context: BotContext) -> None:
    """/tiendo <mã> <phần trăm hoặc ghi chú>"""
    if not context.args:
        raise UsageError(USAGE_TIENDO)
    svc = context.services
    task = progress.report_progress(svc.store, actor(update, context), context.args[0],
                                    _rest(update), svc.now())
    await reply_html(update, progress_reply(task))


@guarded
async def xingiahan(update: Update, context: BotContext) -> None:
    """/xingiahan <mã> <ngày mới> <lý do>: the admins get the request with buttons."""
    if not context.args or len(context.args) < 2:
        raise UsageError(USAGE_XINGIAHAN)
    svc = context.services
    who = actor(update, context)
    code = context.args[0]
    # Rights first: an outsider learns nothing from the parsing of the date.
    task = svc.store.task(code)
    if task is None:
        raise UsageError(f"Không có nhiệm vụ mã {quote(code)}. Gõ /nhiemvu để xem các mã.")
    progress.check_lead(task, who, progress.ASK_VERB, svc.store)
    new_due, reason = parse_extension(context.args[1:], svc.today())
    request = progress.ask_extension(svc.store, who, code, new_due, reason or "", svc.now())
    text, rows = request_text(svc.store, request, task), request_rows(request)
    outcomes = await dispatcher(context).send_many(
        Outgoing(f"extension:{request.id}:admin:{admin_id}", admin_id, text, rows)
        for admin_id in sorted(svc.settings.admin_ids))
    await reply_html(update, asked_text(request, _delivered(outcomes)))


@guarded
async def on_extension_button(update: Update, context: BotContext) -> None:
    """"Duyệt" / "Từ chối" under a request (admins); the asking chat is told."""
    query = update.callback_query
    match = _BUTTON_RE.match((query.data if query else None) or "")
    if match is None:
        raise UsageError(BAD_BUTTON)
    approve, request_id = match.group(1) == "ok", int(match.group(2))
    svc = context.services
    try:
        request, task = progress.decide_extension(svc.store, actor(update, context),
                                                  request_id, approve, svc.now())
    except UsageError as exc:
        if "đã được xử lý" in exc.message:
            await _drop_pressed(update)  # the buttons of a decided request are dead
        raise
    await answer(update, f"Đã {'duyệt' if approve else 'từ chối'} yêu cầu gia hạn "
                         f"#{request.id}.")
    await _drop_pressed(update)
    await reply_html(update, request_text(svc.store, request, task))
    if request.chat_id is not None:
        await dispatcher(context).send(Outgoing(f"extension:{request.id}:decided",
                                                request.chat_id,
                                                decision_notice(request, task)))


def register(app: Application) -> None:
    """Add this slice's commands and buttons."""
    app.add_handler(CommandHandler("tiendo", tiendo))
    app.add_handler(CommandHandler("xingiahan", xingiahan))
    app.add_handler(CallbackQueryHandler(on_extension_button, pattern=r"^xgh:"))
