"""Command line: ``python -m bot parse FILE``, ``python -m bot run``.

Errors meant for people (bot.errors.BotError) print their Vietnamese message and exit with
status 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.errors import BotError


def _table(plan) -> str:  # type: ignore[no-untyped-def]
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
    out.append(f"{doc.kind} {doc.number or ''} — {doc.issuer or 'không rõ cơ quan'} — kỳ: {period}")
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


def cmd_run(args: argparse.Namespace) -> int:
    """Until the Telegram bot lands, show the parser at work on the sample plans."""
    from pathlib import Path

    from bot.plans import parse_file

    folder = Path(args.samples)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".txt", ".md", ".docx",
                                                                          ".pdf"))
    if not files:
        print(f"Không có kế hoạch mẫu trong {folder}.", file=sys.stderr)
        return 2
    for path in files:
        plan = parse_file(path)
        named = sum(1 for t in plan.tasks if t.lead)
        explicit = sum(len(t.deadlines) for t in plan.tasks)
        print(f"=== {path.name}: {len(plan.tasks)} nhiệm vụ ({named} có đơn vị), "
              f"{explicit} hạn ghi rõ")
        print(_table(plan))
        print()
    print("Bot Telegram sẽ có ở bước tiếp theo; hiện lệnh này chạy bộ đọc kế hoạch trên các "
          "văn bản mẫu.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Bot nhắc việc theo kế hoạch")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="đọc một kế hoạch và in các nhiệm vụ")
    p.add_argument("file")
    p.add_argument("--format", choices=("json", "table"), default="table")
    p.set_defaults(func=cmd_parse)
    r = sub.add_parser("run", help="chạy bot (hiện tại: đọc các kế hoạch mẫu)")
    r.add_argument("--samples", default="data/samples")
    r.set_defaults(func=cmd_run)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BotError as exc:
        print(f"Lỗi: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
