"""Task views: /nhiemvu, /chitiet, /sapden, /quahan, /timkiem and their page buttons ("pg:").

Whose tasks a view shows: the units the chat belongs to; with a unit name (/nhiemvu tài chính)
that unit, if the chat may read it (a member, an admin, or OPEN_READ: :mod:`bot.membership`);
an admin in a chat that belongs to nothing sees every unit; anyone else is told how to join.
A task's detail is shown to its lead and supporting units. Page buttons are checked again
when pressed: their data comes from the client and may be forged. The ``*_page`` functions do
all the work except sending (pure: store in, HTML and button rows out), so benchmarks and
tests call them directly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.board import build_board, overdue_list, search_list, upcoming_list
from bot.errors import UsageError
from bot.membership import Action, Actor, check_read_unit, check_task
from bot.store import Store
from handlers import render
from handlers.common import (
    BotContext,
    actor,
    answer,
    guarded,
    markup,
    reply_html,
    usage,
)

logger = logging.getLogger(__name__)

Keys = Sequence[str] | None
Page = tuple[str, list[render.Row]]

DEFAULT_DAYS = 7
MAX_DAYS = 366

USAGE_CHITIET = "Cú pháp: /chitiet <mã>, ví dụ /chitiet 17 (mã là số sau dấu # trong /nhiemvu)."
USAGE_SAPDEN = (f"Cú pháp: /sapden [số ngày], ví dụ /sapden 14. Số ngày là số nguyên từ 1 "
                f"đến {MAX_DAYS}; không ghi thì là {DEFAULT_DAYS} ngày.")
USAGE_QUAHAN = "Lệnh /quahan không cần thêm gì: chỉ gõ /quahan."
USAGE_TIMKIEM = "Cú pháp: /timkiem <từ khóa>, ví dụ /timkiem tiêm chủng (không cần gõ dấu)."
STALE_BUTTON = "Nút này đã cũ. Hãy gõ lại lệnh để xem danh sách mới."
STALE_UNIT = "Đơn vị của danh sách này không còn trong danh bạ. Hãy gõ lại /nhiemvu."
STALE_SEARCH = "Không đọc lại được từ khóa của danh sách này. Hãy gõ lại /timkiem <từ khóa>."
EDIT_FAILED = "Không cập nhật được danh sách. Hãy gõ lại lệnh."


# ------------------------------------------------------------------------------ pure pages
def nhiemvu_page(store: Store, keys: Keys, today: date, page: int = 1, *,
                 title: str | None = None, arg: str = "") -> Page:
    """/nhiemvu: open tasks of ``keys`` (None: every unit), overdue first; page ``page``."""
    return render.board_page(store, build_board(store, keys, today), page, title=title, arg=arg)


def sapden_page(store: Store, keys: Keys, today: date, days: int = DEFAULT_DAYS,
                page: int = 1, *, title: str | None = None) -> Page:
    """/sapden: open tasks due within ``days`` days, soonest first."""
    tasks = upcoming_list(store, keys, today, days)
    return render.upcoming_page(store, tasks, days, page, title=title)


def quahan_page(store: Store, keys: Keys, today: date, page: int = 1, *,
                title: str | None = None) -> Page:
    """/quahan: open tasks past their deadline, most overdue first."""
    return render.overdue_page(store, overdue_list(store, keys, today), page, title=title)


def timkiem_page(store: Store, keys: Keys, today: date, query: str, page: int = 1, *,
                 title: str | None = None) -> Page:
    """/timkiem: tasks holding every word of ``query`` (accents ignored), open ones first."""
    tasks = search_list(store, keys, today, query)
    return render.search_page(store, tasks, query, page, title=title)


def chitiet_text(store: Store, code: str, today: date, who: Actor | None = None) -> str:
    """/chitiet: the task's detail with its history; UsageError for an unknown code,
    NotAllowed when ``who`` (None: no check) may not see the task."""
    task = store.task(code)
    if task is None:
        raise UsageError(render.unknown_task_text(code))
    if who is not None:
        check_task(Action.VIEW, task, who, store.unit_name)
    return render.task_detail(store, task, today, store.history(task.id))


def parse_days(args: Sequence[str]) -> int:
    """/sapden's argument: nothing (7) or an integer from 1 to 366."""
    if not args:
        return DEFAULT_DAYS
    if len(args) > 1 or not (args[0].isascii() and args[0].isdigit()):
        raise usage(USAGE_SAPDEN)
    days = int(args[0])
    if not 1 <= days <= MAX_DAYS:
        raise usage(USAGE_SAPDEN)
    return days


def unit_by_ref(store: Store, ref: str) -> str | None:
    """The unit key whose :func:`render.unit_ref` is ``ref`` (units are few: a scan)."""
    return next((u.key for u in store.units() if render.unit_ref(u.key) == ref), None)


# ------------------------------------------------------------------------------ whose tasks
@dataclass(frozen=True, slots=True)
class Scope:
    """The units a view lists (None: every unit), its title and its page-button argument."""

    keys: tuple[str, ...] | None
    title: str | None = None
    arg: str = ""


def chat_scope(update: Update, context: BotContext,
               unit_query: str | None = None) -> Scope:
    """The named unit, else the chat's units, else every unit for an admin, else a hint."""
    store = context.services.store
    who = actor(update, context)
    if unit_query:
        unit = store.match_unit(unit_query)  # UnitNotFound lists the closest names
        check_read_unit(unit.key, unit.label, who)
        return Scope((unit.key,), unit.label, render.UNIT_ARG + render.unit_ref(unit.key))
    if who.unit_keys:
        return Scope(who.unit_keys)
    if who.admin:
        return Scope(None)
    pending = [render.unit_label(store, r.unit_key)
               for r in store.join_requests(chat_id=who.chat_id)]
    raise UsageError(render.no_units_text(who.group, open_read=who.open_read, pending=pending))


# ------------------------------------------------------------------------------ handlers
@guarded
async def nhiemvu(update: Update, context: BotContext) -> None:
    """/nhiemvu [đơn vị]"""
    svc = context.services
    scope = chat_scope(update, context, " ".join(context.args or ()).strip() or None)
    text, rows = nhiemvu_page(svc.store, scope.keys, svc.today(), 1, title=scope.title,
                              arg=scope.arg)
    await reply_html(update, text, rows)


@guarded
async def chitiet(update: Update, context: BotContext) -> None:
    """/chitiet <mã>"""
    args = context.args or []
    if len(args) != 1:
        raise usage(USAGE_CHITIET)
    code = args[0].lstrip("#")
    if not (code.isascii() and code.isdigit()):
        raise usage(USAGE_CHITIET)
    svc = context.services
    await reply_html(update, chitiet_text(svc.store, code, svc.today(), actor(update, context)))


@guarded
async def sapden(update: Update, context: BotContext) -> None:
    """/sapden [N]"""
    days = parse_days(context.args or [])
    svc = context.services
    scope = chat_scope(update, context)
    await reply_html(update, *sapden_page(svc.store, scope.keys, svc.today(), days, 1))


@guarded
async def quahan(update: Update, context: BotContext) -> None:
    """/quahan"""
    if context.args:
        raise usage(USAGE_QUAHAN)
    svc = context.services
    scope = chat_scope(update, context)
    await reply_html(update, *quahan_page(svc.store, scope.keys, svc.today(), 1))


@guarded
async def timkiem(update: Update, context: BotContext) -> None:
    """/timkiem <từ khóa>"""
    query = " ".join(context.args or ())
    if not query:
        raise usage(USAGE_TIMKIEM)
    svc = context.services
    scope = chat_scope(update, context)
    await reply_html(update, *timkiem_page(svc.store, scope.keys, svc.today(), query, 1))


def _pressed_page(update: Update, context: BotContext, view: str, page: int,
                  arg: str) -> Page:
    """Rebuild the list a page button belongs to, as it is now."""
    svc = context.services
    store, today = svc.store, svc.today()
    if view == render.NHIEMVU and arg.startswith(render.UNIT_ARG):
        key = unit_by_ref(store, arg[len(render.UNIT_ARG):])
        if key is None:
            raise UsageError(STALE_UNIT)
        check_read_unit(key, render.unit_label(store, key), actor(update, context))
        return nhiemvu_page(store, (key,), today, page, title=render.unit_label(store, key),
                            arg=arg)
    scope = chat_scope(update, context)
    if view == render.NHIEMVU:
        return nhiemvu_page(store, scope.keys, today, page)
    if view == render.SAPDEN:
        return sapden_page(store, scope.keys, today, parse_days([arg] if arg else []), page)
    if view == render.QUAHAN:
        return quahan_page(store, scope.keys, today, page)
    message = update.effective_message
    query = render.search_query_from_text(message.text if message else "", arg)
    if query is None:
        raise UsageError(STALE_SEARCH)
    return timkiem_page(store, scope.keys, today, query, page)


@guarded
async def page_pressed(update: Update, context: BotContext) -> None:
    """A "pg:" button: edit the list in place to the asked page; always answer."""
    query = update.callback_query
    parsed = render.parse_page_data(query.data or "")
    if parsed is None:
        raise UsageError(STALE_BUTTON)
    text, rows = _pressed_page(update, context, *parsed)
    try:
        await query.edit_message_text(text, reply_markup=markup(rows),
                                      disable_web_page_preview=True)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            logger.warning("could not edit list %s: %s", query.data, exc)
            await answer(update, EDIT_FAILED, alert=True)
            return
    except TelegramError as exc:
        logger.warning("could not edit list %s: %s", query.data, exc)
        await answer(update, EDIT_FAILED, alert=True)
        return
    await answer(update)


def register(app: Application) -> None:
    """Add the task views and the page-button handler."""
    app.add_handler(CommandHandler("nhiemvu", nhiemvu))
    app.add_handler(CommandHandler("chitiet", chitiet))
    app.add_handler(CommandHandler("sapden", sapden))
    app.add_handler(CommandHandler("quahan", quahan))
    app.add_handler(CommandHandler("timkiem", timkiem))
    app.add_handler(CallbackQueryHandler(page_pressed, pattern=r"^pg:"))
