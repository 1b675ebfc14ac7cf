"""A local chat with the bot in the terminal, for a newcomer who has no BOT_TOKEN yet.

The bot is the real PTB ``Application``, only pointed at :class:`localchat.fakeapi.FakeBotApi`; the
console plays the Telegram user: it injects what is typed and prints what the bot sent.

Design: :func:`run_console` owns the application's lifecycle when it is handed an application
that is not running (initialize, post_init, polling, start ... and the reverse on exit), the way
``Application.run_polling`` would. If the caller already runs it (``app.running``), the console
only drives the chat and leaves start/stop to the caller. Typical use::

    with FakeBotApi() as api:
        app = build_application(token=api.token, base_url=api.base_url,
                                base_file_url=api.base_file_url)
        asyncio.run(run_console(app, api, chat_id=1001, user_id=1001))

Files and pictures the bot sends (the /baocao workbook, charts, the /lich_ics calendar) are
saved under ``out_dir`` (the demo: ``data/demo-out/``) and their path printed, so a person can
open them. Messages the bot sends on its own (reminders, digests, a scheduled announcement)
are printed as they arrive, without waiting for the next command: a watcher polls the fake
server's record of sent calls while the prompt waits for input.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import re
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.errors import ConfigError
from handlers.app import stop_application
from localchat.fakeapi import FakeBotApi

if TYPE_CHECKING:
    from telegram.ext import Application

logger = logging.getLogger(__name__)

DEFAULT_GROUP_ID = -1001234567890
GROUP_TITLE = "Nhóm thử nghiệm"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""The console reads the whole file into memory; the bot itself refuses files over 20 MB."""
BOT_PREFIX = "Bot> "
WATCH_SECONDS = 0.2
"""How often the idle console looks for messages the bot sent on its own."""
_UNSAFE_NAME = re.compile(r"[^\w.\-]+")
_NUMBERED = re.compile(r"^(\d{1,9})-")

BANNER = """\
Trò chuyện thử với bot ngay trên máy (không cần BOT_TOKEN, không cần mạng).
Gõ tin nhắn hoặc lệnh như trên Telegram, ví dụ /start.
  <số>               bấm nút thứ <số> của tin nhắn có nút gần nhất
  /tep <đường dẫn>   gửi một tệp (kế hoạch .docx, .doc, .pdf, .txt, .md)
  /nhom              chuyển sang nhóm thử nghiệm (bạn là quản trị viên nhóm)
  /khach             đóng vai người dùng thứ hai (không phải quản trị viên), trò chuyện riêng
  /rieng             quay lại trò chuyện riêng của bạn với bot
  /thoat             thoát (hoặc Ctrl+D)
"""
GUEST_NAME = "Khách thử nghiệm"
OWN_NAME = "Quản trị viên thử nghiệm"


class _HtmlToText(HTMLParser):
    """Telegram HTML to readable text: tags dropped, entities unescaped, link targets kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:])
            if href and href != label:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(text: str) -> str:
    """Strip Telegram HTML so a terminal shows what a phone would (minus the bold)."""
    parser = _HtmlToText()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def render_text(text: str | None, parse_mode: str | None) -> str:
    """Visible text of a message or caption for its parse mode."""
    if not text:
        return ""
    return html_to_text(text) if str(parse_mode or "").upper() == "HTML" else text


def flat_buttons(markup: object) -> list[dict]:
    """Inline buttons row by row, the order the console numbers them in."""
    if not isinstance(markup, dict):
        return []
    return [b for row in markup.get("inline_keyboard") or [] for b in row if isinstance(b, dict)]


def format_buttons(markup: object) -> list[str]:
    """One line per keyboard row: ``  [1] Trang sau  [2] Đã xong``."""
    lines = []
    number = 0
    rows = markup.get("inline_keyboard") or [] if isinstance(markup, dict) else []
    for row in rows:
        cells = []
        for button in row:
            number += 1
            label = f"[{number}] {button.get('text', '')}"
            if button.get("url"):
                label += " (liên kết)"
            cells.append(label)
        if cells:
            lines.append("  " + "  ".join(cells))
    return lines


def _indent(text: str) -> str:
    return text.replace("\n", "\n" + " " * len(BOT_PREFIX))


class _Console:
    """State of one console session: which chat the user is in and where output goes."""

    def __init__(self, api: FakeBotApi, *, chat_id: int, user_id: int, group_chat_id: int,
                 stdin: TextIO, stdout: TextIO, prompt: str, reply_timeout: float,
                 quiet: float, guest_id: int | None = None, out_dir: Path | None = None) -> None:
        self.api = api
        self.out_dir = out_dir
        """Where files and pictures the bot sends are saved (None: not saved)."""
        self.saved = 0
        self.busy = False
        """A typed line is being handled: its replies are shown by :meth:`show_replies`."""
        self.private_id = chat_id
        self.group_id = group_chat_id
        self.guest_id = guest_id
        """A second person (their own private chat) to show what a non-admin sees."""
        self.own_user_id = user_id
        self.chat_id = chat_id
        self.user_id = user_id
        self.stdin = stdin
        self.stdout = stdout
        self.prompt = prompt
        self.reply_timeout = reply_timeout
        self.quiet = quiet
        self.echo = not _isatty(stdin)
        self.shown = 0
        """Index in ``api.sent`` up to which calls were shown (catches up on jobs' sends)."""

    @property
    def in_group(self) -> bool:
        return self.chat_id == self.group_id

    @property
    def as_guest(self) -> bool:
        return self.guest_id is not None and self.user_id == self.guest_id

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def where(self) -> str:
        if self.in_group:
            return (f"Đang ở nhóm «{GROUP_TITLE}» (mã {self.group_id}); "
                    "bạn là quản trị viên nhóm.")
        if self.as_guest:
            return (f"Đang đóng vai «{GUEST_NAME}» (mã {self.guest_id}, không phải quản trị "
                    "viên) trong trò chuyện riêng với bot. Gõ /rieng để quay lại.")
        return f"Đang ở trò chuyện riêng với bot (mã {self.private_id})."

    @property
    def name(self) -> str:
        return GUEST_NAME if self.as_guest else OWN_NAME

    def chat_kwargs(self) -> dict:
        if self.in_group:
            return {"chat_type": "supergroup", "is_group_admin": True, "first_name": self.name}
        return {"chat_type": "private", "first_name": self.name}

    async def read_line(self) -> str:
        """Read one line in a daemon thread: the event loop (and the bot) keep running, and an
        unfinished read never blocks the interpreter's exit."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()

        def reader() -> None:
            try:
                line = self.stdin.readline()
            except (OSError, ValueError) as err:  # closed stream: behave as end of input
                logger.debug("console input closed: %s", err)
                line = ""
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(line))

        threading.Thread(target=reader, name="console-stdin", daemon=True).start()
        return await future

    async def handle(self, text: str) -> bool:
        """Act on one typed line; False ends the session."""
        command = text.split(maxsplit=1)[0].lower() if text else ""
        if command in ("/thoat", "/thoát"):
            return False
        if command == "/nhom" and text.lower() == "/nhom":
            self.chat_id, self.user_id = self.group_id, self.own_user_id
            self.api.add_chat(self.group_id, "supergroup", title=GROUP_TITLE)
            self.api.set_member_status(self.group_id, self.user_id, "administrator")
            self.say(self.where())
            return True
        if command == "/rieng" and text.lower() == "/rieng":
            self.chat_id, self.user_id = self.private_id, self.own_user_id
            self.say(self.where())
            return True
        if command == "/khach" and text.lower() == "/khach":
            if self.guest_id is None:
                self.say("Phiên này không có người dùng thứ hai.")
                return True
            self.chat_id = self.user_id = self.guest_id
            self.api.add_chat(self.guest_id, "private", first_name=GUEST_NAME)
            self.say(self.where())
            return True
        mark = self.api.sent_count
        if text.isdigit():
            if not self.press(int(text)):
                return True
        elif command == "/tep":
            if not self.upload(text[len(command):].strip()):
                return True
        else:
            self.api.user_message(self.chat_id, text, user_id=self.user_id,
                                  chat_title=GROUP_TITLE if self.in_group else None,
                                  **self.chat_kwargs())
        await self.show_replies(mark)
        return True

    def press(self, number: int) -> bool:
        message = self.api.last_message_with_buttons(self.chat_id)
        buttons = flat_buttons(message.get("reply_markup")) if message else []
        if message is None or not buttons:
            self.say("Chưa có tin nhắn nào có nút để bấm.")
            return False
        if not 1 <= number <= len(buttons):
            self.say(f"Không có nút số {number}; hãy chọn từ 1 đến {len(buttons)}.")
            return False
        button = buttons[number - 1]
        if button.get("callback_data") is None:
            target = button.get("url") or "(không có địa chỉ)"
            self.say(f"Nút «{button.get('text', '')}» mở liên kết: {target}")
            return False
        self.say(f"(bấm nút «{button.get('text', '')}»)")
        self.api.press_button(self.chat_id, message["message_id"], button["callback_data"],
                              user_id=self.user_id, first_name=self.name)
        return True

    def upload(self, raw_path: str) -> bool:
        raw_path = raw_path.strip().strip("'\"")
        if not raw_path:
            self.say("Cách dùng: /tep <đường dẫn tới tệp>")
            return False
        path = Path(raw_path).expanduser()
        try:
            size = path.stat().st_size
            if not path.is_file():
                self.say(f"«{raw_path}» không phải là một tệp.")
                return False
            if size > MAX_UPLOAD_BYTES:
                self.say(f"Tệp «{path.name}» quá lớn ({size // (1024 * 1024)} MB).")
                return False
            data = path.read_bytes()
        except FileNotFoundError:
            self.say(f"Không tìm thấy tệp «{raw_path}».")
            return False
        except OSError as err:
            self.say(f"Không đọc được tệp «{raw_path}»: {err.strerror or err}.")
            return False
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.say(f"(gửi tệp {path.name}, {len(data)} byte)")
        self.api.upload_document(self.chat_id, path.name, data, user_id=self.user_id,
                                 mime_type=mime, **self.chat_kwargs())
        return True

    async def wait_quiet(self, mark: int) -> bool:
        """Wait for the first call after ``mark``, then until the bot is quiet for a moment."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reply_timeout
        if not await self.api.async_wait_for(lambda: self.api.sent_count > mark,
                                             self.reply_timeout):
            return False
        while (remaining := deadline - loop.time()) > 0:
            seen = self.api.sent_count
            if not await self.api.async_wait_for(lambda seen=seen: self.api.sent_count > seen,
                                                 min(self.quiet, remaining)):
                break
        return True

    async def show_replies(self, mark: int) -> None:
        if not await self.wait_quiet(mark):
            self.say(f"(bot chưa trả lời sau {self.reply_timeout:g} giây)")
            return
        for line in self.take_new():
            self.say(line)

    def take_new(self) -> list[str]:
        """Lines for every call not shown yet (files saved on the way); marks them shown."""
        sent = self.api.sent
        lines = []
        for record in sent[self.shown:]:
            lines.extend(self.describe(record))
            if record["ok"] and record["method"] in ("sendDocument", "sendPhoto"):
                path = self.save(record)
                if path is not None:
                    lines.append(" " * len(BOT_PREFIX) + f"(đã lưu: {path})")
        self.shown = len(sent)
        return lines

    def save(self, record: dict) -> Path | None:
        """Write a sent file under ``out_dir`` with a numbered, safe name; None if not saved."""
        data = record.get("file")
        if self.out_dir is None or not isinstance(data, bytes | bytearray):
            return None
        default = "anh.png" if record["method"] == "sendPhoto" else "tep"
        name = _UNSAFE_NAME.sub("_", Path(str(record.get("filename") or "")).name).strip("._")
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if self.saved == 0:  # numbered after the files of earlier sessions
                self.saved = max((int(m.group(1)) for p in self.out_dir.iterdir()
                                  if (m := _NUMBERED.match(p.name))), default=0)
            while True:  # never overwriting
                self.saved += 1
                path = self.out_dir / f"{self.saved:03d}-{name or default}"
                if not path.exists():
                    break
            path.write_bytes(data)
        except OSError as err:
            self.say(f"(không lưu được tệp vào {self.out_dir}: {err.strerror or err})")
            return None
        return path

    async def watch(self) -> None:
        """Print what the bot sends on its own (reminders, digests) while the user is idle,
        then show the prompt again. Runs until cancelled."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if self.busy or self.api.sent_count <= self.shown:
                continue
            await self.wait_quiet(self.shown)
            if self.busy:
                continue
            lines = self.take_new()
            if lines:
                self.stdout.write("\n" + "\n".join(lines) + "\n" + self.prompt)
                self.stdout.flush()

    def describe(self, record: dict) -> list[str]:
        """Lines showing one outgoing call, or none for calls a user would not notice."""
        method = record["method"]
        chat_id = record.get("chat_id")
        prefix = BOT_PREFIX
        if chat_id is not None and chat_id != self.chat_id:
            where = ("nhóm" if chat_id == self.group_id else
                     "riêng" if chat_id == self.private_id else
                     "khách" if chat_id == self.guest_id else f"chat {chat_id}")
            prefix = f"Bot → {where}> "
        if not record["ok"]:
            if method in ("answerCallbackQuery", "getFile", "getChatMember"):
                return [f"{prefix}(lỗi {method}: {record.get('description')})"]
            return [f"{prefix}(Telegram từ chối {method}: {record.get('description')})"]
        params = record.get("params") or {}
        text = render_text(record.get("text"), record.get("parse_mode"))
        lines: list[str] = []
        if method == "sendMessage":
            lines.append(prefix + _indent(text))
        elif method in ("sendDocument", "sendPhoto"):
            kind = "Tệp" if method == "sendDocument" else "Ảnh"
            size = len(record.get("file") or b"")
            lines.append(f"{prefix}[{kind}] {record.get('filename') or ''} ({size} byte)")
            if text:
                lines.append(" " * len(prefix) + _indent(text))
        elif method == "editMessageText":
            lines.append(f"{prefix}(sửa tin nhắn trước) " + _indent(text))
        elif method == "editMessageReplyMarkup":
            lines.append(f"{prefix}(cập nhật nút của tin nhắn trước)")
        elif method == "deleteMessage":
            lines.append(f"{prefix}(đã xoá một tin nhắn)")
        elif method == "answerCallbackQuery" and params.get("text"):
            kind = "hộp thoại" if params.get("show_alert") else "thông báo"
            lines.append(f"{prefix}({kind}) {params['text']}")
        else:
            return []
        if method in ("sendMessage", "sendDocument", "sendPhoto", "editMessageText",
                      "editMessageReplyMarkup"):
            lines.extend(format_buttons(record.get("reply_markup")))
        return lines


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


async def _start(app: Application) -> None:
    """Same order as ``Application.run_polling``."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    if app.updater is None:
        raise ConfigError("Ứng dụng không có Updater nên không nhận được tin nhắn thử.")
    await app.updater.start_polling(poll_interval=0, timeout=10)
    await app.start()




async def run_console(app: Application, api: FakeBotApi, *, chat_id: int, user_id: int,
                      stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
                      prompt: str = "Bạn> ", group_chat_id: int = DEFAULT_GROUP_ID,
                      reply_timeout: float = 10.0, quiet: float = 0.3,
                      guest_id: int | None = None, out_dir: Path | None = None) -> None:
    """Chat with ``app`` through ``api`` until "/thoat" or end of input.

    ``guest_id``: a second person the user can play (/khach), in their own private chat.
    ``out_dir``: where files and pictures the bot sends are saved (None: not saved).
    Starts and stops ``app`` itself unless it is already running (see the module docstring).
    Raises ConfigError when ``app`` is not pointed at ``api``.
    """
    if not str(app.bot.base_url).startswith(api.base_url):
        raise ConfigError("Ứng dụng chưa trỏ tới máy chủ Telegram giả lập (base_url khác).")
    if chat_id < 0:
        raise ConfigError("Mã trò chuyện riêng phải là số dương.")
    if guest_id is not None and (guest_id <= 0 or guest_id == chat_id):
        raise ConfigError("Mã người dùng thứ hai phải là số dương, khác mã trò chuyện riêng.")
    console = _Console(api, chat_id=chat_id, user_id=user_id, group_chat_id=group_chat_id,
                       stdin=stdin, stdout=stdout, prompt=prompt,
                       reply_timeout=reply_timeout, quiet=quiet, guest_id=guest_id,
                       out_dir=out_dir)
    api.add_chat(chat_id, "private", first_name=OWN_NAME)  # the bot may write first
    owned = not app.running
    if owned:
        await _start(app)
    watcher: asyncio.Task[None] | None = None
    try:
        console.say(BANNER)
        console.say(console.where())
        watcher = asyncio.create_task(console.watch())
        while True:
            stdout.write(prompt)
            stdout.flush()
            line = await console.read_line()
            if not line:
                console.say()
                break
            text = line.strip()
            if console.echo:
                console.say(text)
            if not text:
                continue
            console.busy = True
            try:
                if not await console.handle(text):
                    break
            finally:
                console.busy = False
        console.say("Tạm biệt!")
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if owned:
            await stop_application(app)
