"""Command line: ``python -m bot parse FILE``, ``python -m bot run``, ``chuyen-du-lieu``…

Errors meant for people (bot.errors.BotError) print their Vietnamese message and exit with
status 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import BotError

if TYPE_CHECKING:
    from bot.models import ParsedPlan


def _table(plan: ParsedPlan) -> str:
    rows = [("Dòng", "Hạn", "Đơn vị", "Nhiệm vụ")]
    for t in plan.tasks:
        due = t.due.strftime("%d/%m/%Y") if t.due else "—"
        if t.due_kind == "period":
            due += " (kỳ)"
        units = "; ".join(t.lead) or "—"
        words = " ".join(t.text.split()[:10])
        rows.append((str(t.line), due, units[:40], words[:70]))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = []
    doc = plan.document
    period = doc.period.label if doc.period else "không rõ"
    issuer = doc.issuer or "không rõ cơ quan"
    out.append(f"{doc.kind} {doc.number or ''} — {issuer} — kỳ: {period}")
    for r in rows:
        out.append("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    for w in plan.warnings:
        out.append(f"Cảnh báo: {w}")
    return "\n".join(out)


def cmd_parse(args: argparse.Namespace) -> int:
    from bot.plans import parse_file

    plan = parse_file(args.file)
    if args.format == "json":
        json.dump(plan.to_json(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(_table(plan))
    return 0


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"«{text}» không phải ngày dạng YYYY-MM-DD (ví dụ 2022-12-20)") from None


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot on Telegram with BOT_TOKEN, else the local chat with the sample plans."""
    from bot.config import load_settings
    from launch import run  # the composition root: the only way bot/ reaches handlers/

    return run(load_settings(), today=args.today, samples=Path(args.samples))


def cmd_import(args: argparse.Namespace) -> int:
    """Import plan files into the bot's database from the command line (the IT officer's way)."""
    from bot.clock import SystemClock
    from bot.config import load_settings
    from bot.importer import import_document
    from bot.store import Store

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    with Store(settings.db_path) as store:
        for name in args.files:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                why = ("không có tệp này" if isinstance(exc, FileNotFoundError)
                       else "không có quyền đọc" if isinstance(exc, PermissionError)
                       else "lỗi đọc đĩa")
                print(f"{path.name}: không đọc được tệp ({why}).", file=sys.stderr)
                failures += 1
                continue
            try:
                result = import_document(store, data, path.name, actor=None,
                                         now=SystemClock(settings.tz).now())
            except BotError as exc:
                print(f"{path.name}: {exc.message}", file=sys.stderr)
                failures += 1
                continue
            status = {"new": "đã nhập", "replaced": "đã cập nhật phiên bản mới",
                      "duplicate": "đã nhập trước đây, bỏ qua"}.get(result.status, result.status)
            print(f"{path.name}: {status} — {result.document.label}: {result.task_count} "
                  f"nhiệm vụ, {len(result.unit_names)} đơn vị, "
                  f"{result.explicit_deadlines} hạn ghi rõ.")
    return 2 if failures else 0


def cmd_schedule(args: argparse.Namespace) -> int:
    """Preview what the bot will send in the next days, to which chat and when."""
    from bot.clock import ShiftedClock, SystemClock
    from bot.config import load_settings
    from bot.store import Store
    from schedules.preview import preview_text

    settings = load_settings()
    clock = ShiftedClock(args.today, settings.tz) if args.today else SystemClock(settings.tz)
    if not settings.db_path.is_file():
        print(f"Chưa có cơ sở dữ liệu {settings.db_path}: hãy nhập kế hoạch trước "
              "(python -m bot nhap TỆP).", file=sys.stderr)
        return 2
    # Read-only: no lock, no write, no cut of the running bot's journal (allowed while it runs).
    with Store.open(settings, read_only=True) as store:
        print(preview_text(store, settings, clock.now(), args.days))
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    """Move the TinyDB database into PostgreSQL, verified row for row (bot/pgmove.py)."""
    from bot.config import load_settings
    from bot.pgmove import check_target, move

    settings = None
    source = args.source
    url = args.to
    if source is None or url is None:
        settings = load_settings()
        source = source or str(settings.db_path)
        url = url or settings.database_url
    if not url:
        print("Lỗi: cần --to postgresql://… (hoặc DATABASE_URL).", file=sys.stderr)
        return 2
    check_target(url)
    report = move(Path(source), url, replace=args.replace)
    print(report.text())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot",
                                     description="Bot nhắc việc theo kế hoạch")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="đọc một kế hoạch và in các nhiệm vụ")
    p.add_argument("file")
    p.add_argument("--format", choices=("json", "table"), default="table")
    p.set_defaults(func=cmd_parse)
    r = sub.add_parser("run", help="chạy bot (không có BOT_TOKEN: trò chuyện thử trên máy)")
    r.add_argument("--samples", default="data/samples",
                   help="thư mục kế hoạch mẫu nạp vào cơ sở dữ liệu thử")
    r.add_argument("--today", type=_date_arg, default=None,
                   help="coi ngày này là hôm nay, ví dụ 2022-12-20")
    r.set_defaults(func=cmd_run)
    i = sub.add_parser("nhap", help="nhập kế hoạch vào cơ sở dữ liệu của bot")
    i.add_argument("files", nargs="+", metavar="FILE")
    i.set_defaults(func=cmd_import)
    s = sub.add_parser("lich", help="xem trước các tin nhắc sẽ gửi, tới nhóm nào, lúc nào")
    s.add_argument("--days", type=int, default=7, help="số ngày tới (mặc định 7)")
    s.add_argument("--today", type=_date_arg, default=None,
                   help="coi ngày này là hôm nay, ví dụ 2022-12-20")
    s.set_defaults(func=cmd_schedule)
    m = sub.add_parser("chuyen-du-lieu",
                       help="chuyển cơ sở dữ liệu tệp (bot.json) sang PostgreSQL, có kiểm tra")
    m.add_argument("--from", dest="source", default=None, metavar="PATH",
                   help="tệp dữ liệu nguồn (mặc định DATA_DIR/bot.json)")
    m.add_argument("--to", default=None, metavar="DATABASE_URL",
                   help="postgresql://người_dùng:mật_khẩu@máy:cổng/tên_csdl "
                        "(mặc định DATABASE_URL)")
    m.add_argument("--replace", action="store_true",
                   help="xoá dữ liệu đang có ở đích rồi chép lại")
    m.set_defaults(func=cmd_move)
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it cannot be caught
        return status
    except BotError as exc:
        print(f"Lỗi: {exc.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _pipe_closed()


PIPE_CLOSED = 141
"""Exit status of a program whose reader went away (128 + SIGPIPE), as `yes | head` has."""


def _pipe_closed() -> int:
    """``python -m bot parse FILE | head``: the reader stopped, which is no error. Point
    stdout at /dev/null so the interpreter's last flush cannot raise again, and go quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout with no file (tests): nothing
        pass
    return PIPE_CLOSED


if __name__ == "__main__":
    sys.exit(main())
