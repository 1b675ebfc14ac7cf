"""Plans as documents: /vanban, importing an uploaded file, and the "Hoàn tác" (undo) button.

Only bot admins import: an import creates tasks for many units and starts reminders. The file
is checked (type, Telegram's claimed size) before it is downloaded, parsed in a worker thread
(a scan is recognised page by page, a .doc converted by LibreOffice: that must not stall the
bot), then stored from the event loop. The upload handler does not block (``block=False``):
other users' commands are answered while a long import runs. Its progress is one message,
edited as the reader reports ("Đang nhận dạng trang 3/12…").
In a group, documents from non-admins are ignored silently: members share files all day and
should not get a refusal for each one; in a private chat the refusal is explained.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging

from telegram import Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.dateinput import format_datetime
from bot.errors import FileTooLarge, NotAllowed, PlanError, UsageError
from bot.importer import (
    check_upload,
    document_title,
    guess_filename,
    prepare_document,
    store_document,
    summarize_import,
)
from bot.plans.source import MAX_FILE_BYTES, SUPPORTED_EXTENSIONS, Progress
from bot.records import StoredDocument
from bot.store import Store
from handlers.common import (
    BotContext,
    answer,
    guarded,
    is_admin,
    is_group,
    reply_html,
    usage,
    user_id,
    user_name,
)
from handlers.review import review_block

logger = logging.getLogger(__name__)

__all__ = ["UNDO", "ProgressMessage", "register", "undo_text", "vanban_text"]

UNDO = "undo:"
UNDO_LABEL = "↩️ Hoàn tác"
MAX_TITLE_CHARS = 80
"""A title in /vanban is cut here: the list is for finding a document, not reading it."""
NOT_ADMIN = ("Chỉ quản trị viên của bot mới được nhập văn bản. Hãy gửi tệp cho quản trị viên "
             "để nhập vào hệ thống.")
NO_DOCUMENTS = ("Chưa có văn bản nào được nhập. Quản trị viên gửi tệp kế hoạch ("
                + ", ".join(SUPPORTED_EXTENSIONS) + ") cho bot để nhập nhiệm vụ.")
PROGRESS_DONE = "✅ Đã đọc xong tệp."
PROGRESS_STOPPED = "Đã dừng đọc tệp."
PROGRESS_EVERY = 1.0
"""Seconds between two edits of the progress message: Telegram throttles edits per chat."""


class ProgressMessage:
    """One message that follows a long import: sent at the first report, then edited.

    The reader calls :meth:`report` from its worker thread; the event loop shows the latest
    report at most once per :data:`PROGRESS_EVERY` seconds. On exit the message says whether
    the file was read. Nothing is sent for a quick import (it reports nothing).
    """

    def __init__(self, message: Message) -> None:
        self._message = message
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._latest: Progress | None = None
        self._sent: Message | None = None
        self._shown = ""
        self._pump: asyncio.Task[None] | None = None

    def report(self, progress: Progress) -> None:
        """Called from the worker thread."""
        self._latest = progress
        self._loop.call_soon_threadsafe(self._wake.set)

    async def __aenter__(self) -> ProgressMessage:
        self._pump = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        if self._sent is not None:
            await self._show(PROGRESS_DONE if exc_type is None else PROGRESS_STOPPED)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._latest is not None:
                await self._show(self._latest.message)
            await asyncio.sleep(PROGRESS_EVERY)

    async def _show(self, text: str) -> None:
        if text == self._shown:
            return
        try:
            if self._sent is None:
                self._sent = await self._message.reply_text(text)
            else:
                await self._sent.edit_text(text)
            self._shown = text
        except TelegramError as exc:  # progress is a courtesy; the import goes on
            logger.info("progress message not updated: %s", exc)


def _document_line(index: int, doc: StoredDocument) -> str:
    parts = [f"{index}. <b>{html.escape(document_title(doc, MAX_TITLE_CHARS))}</b>"]
    if doc.issuer:
        parts.append(html.escape(doc.issuer))
    if doc.period:
        parts.append(html.escape(doc.period.label))
    parts.append(f"{len(doc.task_ids)} nhiệm vụ")
    imported = f"nhập lúc {format_datetime(doc.imported_at)}"
    if doc.version > 1:
        imported += f" (phiên bản {doc.version})"
    parts.append(imported)
    return " — ".join(parts) + f" [mã {doc.id}]"


def vanban_text(store: Store) -> str:
    """HTML list of imported documents, newest first; one balanced line per document."""
    docs = store.documents()
    if not docs:
        return html.escape(NO_DOCUMENTS, quote=False)
    lines = [f"<b>Văn bản đã nhập ({len(docs)})</b>"]
    lines += [_document_line(i, doc) for i, doc in enumerate(docs, start=1)]
    return "\n".join(lines)


def undo_text(doc: StoredDocument, removed: int,
              restored: StoredDocument | None = None) -> str:
    """HTML that replaces the import summary once the import was undone (``restored``: the
    previous version, back as it was)."""
    title = html.escape(document_title(doc))
    if restored is not None:
        return (f"↩️ Đã hoàn tác phiên bản {doc.version} của <b>{title}</b>: phiên bản "
                f"{restored.version} ({len(restored.task_ids)} nhiệm vụ) đã được khôi phục "
                "nguyên trạng, gồm cả trạng thái hoàn thành, gia hạn và lời nhắc.")
    return (f"↩️ Đã hoàn tác việc nhập <b>{title}</b>: đã xóa {removed} nhiệm vụ của văn bản "
            "này.")


@guarded
async def vanban(update: Update, context: BotContext) -> None:
    """/vanban: what has been imported."""
    if context.args:
        raise usage("Cách dùng: /vanban (không cần tham số).")
    await reply_html(update, vanban_text(context.services.store))


async def _download(context: BotContext, file_id: str, filename: str) -> bytes:
    try:
        tg_file = await context.bot.get_file(file_id)
        return bytes(await tg_file.download_as_bytearray())
    except TelegramError as exc:
        logger.warning("download of %s failed: %s", filename, exc)
        if "too big" in str(exc).lower():
            raise FileTooLarge(f"Tệp “{filename}” quá lớn: bot chỉ tải được tệp tối đa "
                               f"{MAX_FILE_BYTES // (1024 * 1024)} MB.") from exc
        raise PlanError(f"Không tải được tệp “{filename}” từ Telegram. Hãy gửi lại sau ít "
                        "phút.") from exc


@guarded
async def on_document(update: Update, context: BotContext) -> None:
    """A file sent to the bot: import it as a plan (admins only)."""
    message = update.effective_message
    document = message.document if message else None
    if document is None:
        return
    if not is_admin(update, context):
        if is_group(update):
            logger.debug("ignoring a document from non-admin %s in a group", user_id(update))
            return
        raise NotAllowed(NOT_ADMIN)
    filename = guess_filename(document.file_name, document.mime_type)
    check_upload(filename, document.file_size)
    with contextlib.suppress(TelegramError):  # only a courtesy
        await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    data = await _download(context, document.file_id, filename)
    async with ProgressMessage(message) as progress:
        prepared = await asyncio.to_thread(prepare_document, data, filename,
                                           progress=progress.report)
    svc = context.services
    result = store_document(svc.store, prepared, actor=user_id(update), now=svc.now())
    # Issue 10: tasks without a lead unit (and an unknown locality) come first, with the
    # buttons that fix them; the undo button stays last.
    lines, review_rows = review_block(svc.store, result)
    rows = (None if result.status == "duplicate" else [*review_rows, [(
        UNDO_LABEL, f"{UNDO}{result.document.id}:{result.document.version}")]])
    await reply_html(update, "\n".join([*lines, summarize_import(result)]), rows)


@guarded
async def on_undo(update: Update, context: BotContext) -> None:
    """The "Hoàn tác" button under an import summary ("undo:<doc id>:<version>"; buttons of
    older messages lack the version): undo that import, a new version giving back the
    previous one (:meth:`bot.tracking.Tracker.undo_import`)."""
    if not is_admin(update, context):
        raise NotAllowed("Chỉ quản trị viên mới được hoàn tác việc nhập văn bản.")
    raw = (update.callback_query.data or "").removeprefix(UNDO)
    doc_part, _, version_part = raw.partition(":")
    if not doc_part.isdigit() or not (version_part.isdigit() or not version_part):
        raise UsageError("Nút hoàn tác không hợp lệ.")
    svc = context.services
    doc = svc.store.document(int(doc_part))
    if doc is None:
        raise UsageError("Văn bản này đã được hoàn tác hoặc không còn trong hệ thống.")
    undone = svc.store.undo_import(doc.id, user_id(update), svc.now(),
                                   version=int(version_part) if version_part else None,
                                   by_name=user_name(update))
    restored = svc.store.document(doc.id)
    removed = len(undone.task_ids) if restored is None else len(
        set(undone.task_ids) - set(restored.task_ids))
    text = undo_text(undone, removed, restored)
    await answer(update, "Đã hoàn tác việc nhập văn bản.")
    try:
        await update.callback_query.edit_message_text(text, reply_markup=None)
    except TelegramError as exc:  # the undo is done; a stale message is only cosmetic
        logger.info("could not edit the import summary: %s", exc)
        await reply_html(update, text)


def register(app: Application) -> None:
    """Add this slice's command, upload and button handlers."""
    app.add_handler(CommandHandler("vanban", vanban))
    # block=False: an import may recognise a scan for minutes; other updates go on meanwhile.
    app.add_handler(MessageHandler(filters.Document.ALL & filters.UpdateType.MESSAGE,
                                   on_document, block=False))
    app.add_handler(CallbackQueryHandler(on_undo, pattern=rf"^{UNDO}"))
