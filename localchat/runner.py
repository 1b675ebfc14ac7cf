"""The local chat: the real Application against the fake Bot API, the sample plans loaded.

With no BOT_TOKEN ``python -m bot run`` starts it: a newcomer sees the real bot without a
token or a network.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.clock import Clock, ShiftedClock
from bot.config import Settings
from bot.errors import BotError
from bot.store import Store
from launch.logs import configure_logging

DEMO_DB = "demo.json"
DEMO_LOG = "demo.log"
"""The local chat's technical log (the terminal is the chat's)."""


DEMO_OUT = "demo-out"
"""Folder (in DATA_DIR) where the local chat saves the files and pictures the bot sends."""


DEMO_USER = 1001
"""The person at the console: an admin of the demo bot, chatting in private chat 1001."""


DEMO_GUEST = 1002
"""A second person the console user can play (/khach): no admin, so /dangky is a request."""


DEMO_TODAY = date(2022, 12, 20)
"""Default "today" of the demo: inside the period of the sample plans."""


PLAN_SUFFIXES = (".txt", ".md", ".docx", ".pdf")


def load_samples(store: Store, folder: Path, clock: Clock, actor: int | None) -> list[str]:
    """Import every plan in ``folder``; returns one Vietnamese line per file."""
    from bot.plans import parse_file

    lines = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in PLAN_SUFFIXES):
        try:
            plan = parse_file(path)
            result = store.import_plan(plan, filename=path.name,
                                       file_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                                       actor=actor, now=clock.now())
        except BotError as exc:
            lines.append(f"  {path.name}: {exc.message}")
            continue
        doc = result.document
        lines.append(f"  {doc.label}: {result.task_count} nhiệm vụ, "
                     f"{len(result.unit_names)} đơn vị")
    return lines


def run_local(settings: Settings, *, today: date | None, samples: Path,
              stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """The local chat: fake Bot API server + the real Application + a terminal prompt."""
    from handlers.app import build_application
    from localchat.console import run_console
    from localchat.fakeapi import FakeBotApi

    # The prompt owns the terminal: the libraries' log (English, technical: a pool timeout
    # while the chat stops, the scheduler's notes about a demo day whose 07:30 digest "was
    # missed") goes to a file, warnings and errors only.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / DEMO_LOG
    log_file = log_path.open("a", encoding="utf-8")
    configure_logging(logging.WARNING, stream=log_file)
    clock = ShiftedClock(today or DEMO_TODAY, settings.tz)
    settings = replace(settings, admin_ids=(settings.admin_ids | {DEMO_USER}) - {DEMO_GUEST})
    db_path = settings.data_dir / DEMO_DB
    for stale in (db_path, db_path.with_name(db_path.name + ".lock")):
        stale.unlink(missing_ok=True)  # the demo starts from the samples every time
    store = Store(db_path)
    try:
        lines = load_samples(store, samples, clock, DEMO_USER)
        stdout.write(f"Cơ sở dữ liệu thử: {db_path} — đã nạp {len(lines)} kế hoạch mẫu:\n")
        stdout.write("\n".join(lines) + "\n")
        stdout.write(f"Hôm nay (giả lập): {clock.today():%d/%m/%Y} — đổi bằng "
                     "--today YYYY-MM-DD. Bạn là quản trị viên; thử /dangky tai chinh, "
                     "/nhiemvu, /quahan, /thongke, /baocao, /lich_ics, /moi tai chinh (tệp "
                     f"và ảnh bot gửi được lưu vào {settings.data_dir / DEMO_OUT}). Gõ /khach "
                     "để đóng vai một người khác gửi yêu cầu tham gia (/dangky y te), rồi "
                     "/rieng để duyệt (bấm số của nút «Duyệt»). Nhật ký kỹ thuật của bot: "
                     f"{log_path}.\n\n")
        with FakeBotApi() as api:
            app = build_application(settings, store, clock, token=api.token,
                                    base_url=api.base_url, base_file_url=api.base_file_url)
            asyncio.run(run_console(app, api, chat_id=DEMO_USER, user_id=DEMO_USER,
                                    stdin=stdin, stdout=stdout, guest_id=DEMO_GUEST,
                                    out_dir=settings.data_dir / DEMO_OUT))
    finally:
        store.close()  # (the log file stays open: libraries may still log while exiting)
    return 0
