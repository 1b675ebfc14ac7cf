"""Unit administration: /gopdonvi merges two units that are one department (admins only).

``/gopdonvi <đơn vị nguồn> => <đơn vị đích>`` shows both units and what would move, with
"Gộp" / "Hủy" buttons; the press merges (:func:`bot.unitmerge.merge_units`, one
transaction). Rights are checked on the command AND on every press (a button can be forged).
"""

from __future__ import annotations

import html
import re

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.errors import UsageError
from bot.membership import check_admin
from bot.unitmerge import MergePlan, merge_units, plan_merge
from handlers.common import BotContext, actor, answer, guarded, reply_html, user_name
from handlers.units import find_unit, unit_ref

__all__ = ["MERGE", "register", "merge_preview_text", "merge_done_text"]

MERGE = "gop:"
MERGE_OK = MERGE + "ok:"
MERGE_NO = MERGE + "no"
WHAT = "gộp đơn vị"
USAGE = ("Cách dùng: /gopdonvi <đơn vị nguồn> => <đơn vị đích>, ví dụ: /gopdonvi Phòng Y tế "
         "(Quảng Ninh) => Phòng Y tế (Cẩm Phả). Đơn vị nguồn được gộp vào đơn vị đích.")
CANCELLED = "Đã hủy, không gộp đơn vị nào."
_ARROW_RE = re.compile(r"\s*(?:=>|->|→)\s*")


def _moves(plan: MergePlan) -> list[str]:
    lines = [f"• {plan.tasks} nhiệm vụ (chủ trì hoặc phối hợp)",
             f"• {plan.memberships} thành viên (nhóm, người)"]
    if plan.duplicates:
        lines.append(f"• {plan.duplicates} thành viên đã ở cả hai đơn vị: bỏ bản trùng")
    if plan.requests:
        lines.append(f"• {plan.requests} yêu cầu tham gia đang chờ duyệt")
    if plan.announcements:
        lines.append(f"• {plan.announcements} thông báo hẹn giờ")
    if plan.invitations:
        lines.append(f"• {plan.invitations} lời mời đang mở vào đơn vị nguồn sẽ bị thu hồi")
    return lines


def merge_preview_text(plan: MergePlan) -> str:
    """HTML of the confirmation: both units and the counts that will move."""
    return "\n".join([
        "<b>Gộp đơn vị?</b>",
        f"Nguồn: <b>{html.escape(plan.source.label, quote=False)}</b>",
        f"Đích: <b>{html.escape(plan.target.label, quote=False)}</b>",
        "Sẽ chuyển sang đơn vị đích:", *_moves(plan),
        "Sau khi gộp, đơn vị nguồn không còn trong danh bạ; văn bản nhập sau này ghi tên đơn "
        "vị nguồn sẽ giao việc cho đơn vị đích.",
    ])


def merge_done_text(plan: MergePlan) -> str:
    """HTML that replaces the confirmation once the merge is done."""
    return "\n".join([
        f"✅ Đã gộp <b>{html.escape(plan.source.label, quote=False)}</b> vào "
        f"<b>{html.escape(plan.target.label, quote=False)}</b>:", *_moves(plan)])


@guarded
async def gopdonvi(update: Update, context: BotContext) -> None:
    """/gopdonvi <nguồn> => <đích>: show what would move, with buttons to confirm."""
    check_admin(actor(update, context), WHAT)
    parts = _ARROW_RE.split(" ".join(context.args or ()).strip(), maxsplit=1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise UsageError(USAGE)
    svc = context.services
    source = svc.store.match_unit(parts[0])
    target = svc.store.match_unit(parts[1])
    plan = plan_merge(svc.store, source.key, target.key, svc.now())
    rows = [[("✅ Gộp", f"{MERGE_OK}{unit_ref(source.key)}:{unit_ref(target.key)}"),
             ("✖️ Hủy", MERGE_NO)]]
    await reply_html(update, merge_preview_text(plan), rows)


@guarded
async def on_merge(update: Update, context: BotContext) -> None:
    """The "Gộp" / "Hủy" buttons of /gopdonvi."""
    check_admin(actor(update, context), WHAT)
    data = update.callback_query.data or ""
    if data == MERGE_NO:
        await answer(update, "Đã hủy.")
        await update.callback_query.edit_message_text(CANCELLED, reply_markup=None)
        return
    source_ref, _, target_ref = data.removeprefix(MERGE_OK).partition(":")
    if not data.startswith(MERGE_OK) or not source_ref or not target_ref:
        raise UsageError("Nút gộp đơn vị không hợp lệ.")
    svc = context.services
    source, target = find_unit(svc.store, source_ref), find_unit(svc.store, target_ref)
    if source is None:
        raise UsageError("Đơn vị nguồn không còn trong danh bạ (có thể đã được gộp trước đó).")
    if target is None:
        raise UsageError("Đơn vị đích không còn trong danh bạ.")
    plan = merge_units(svc.store, source.key, target.key, actor=update.effective_user.id,
                       by_name=user_name(update), now=svc.now())
    await answer(update, "Đã gộp đơn vị.")
    await update.callback_query.edit_message_text(merge_done_text(plan), reply_markup=None)


def register(app: Application) -> None:
    """Add this slice's command and buttons."""
    app.add_handler(CommandHandler("gopdonvi", gopdonvi))
    app.add_handler(CallbackQueryHandler(on_merge, pattern=rf"^{MERGE}"))
