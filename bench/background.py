"""Benchmark: how long other users wait for an answer while a big /thongbao is being sent.

Run from the repository root::

    .venv/bin/python -m bench.background [--chats 2000] [--probes 5]

It runs the real Application (handlers.app.build_application, with its AIORateLimiter at
30 messages/s) against the local fake Bot API with Telegram's flood limits enforced (1/s per
chat, 30/s overall), ``--chats`` private chats following one unit. It times ``/help`` from a
stranger (push of the update to the fake server -> the server receiving the reply):

1. ``--probes`` times with the bot idle;
2. then an admin sends ``/thongbao`` to every chat of the unit, and once the first copy has
   reached the server the stranger sends ``/help`` once a second until the admin has the final
   report (the last copy has arrived by then).

It prints the latency of /help alone and during the broadcast (median and worst), how long the
broadcast took, the sender's first answer, and whether every chat got the announcement exactly
once. Why: with updates handled one at a time and the broadcast awaited inside the handler, a
``/help`` during a 240-chat broadcast took 8 s and would take a minute at 2,000 chats.

The file only uses what older versions had too, so it also runs against an older checkout
(``cd OLD && PYTHONPATH=. python /path/to/bench/background.py``) to measure "before".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import FixedClock
from bot.config import Settings
from bot.models import DocumentInfo, ParsedPlan, Period, Task
from bot.store import Store
from localchat.fakeapi import FakeBotApi

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
ADMIN = 1001
STRANGER = 2002
FIRST_CHAT = 300_001
HEADING = "📢 <b>Thông báo</b>"
PROBE_EVERY = 1.0
REPLY_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class Figures:
    alone: list[float]
    during: list[float]
    broadcast_s: float
    first_answer: str
    first_answer_s: float
    copies: int
    chats_once: int
    report: str
    count_429: int


def _plan() -> ParsedPlan:
    """One task for one unit: the store needs a unit before a chat can follow it."""
    period = Period("Quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31))
    task = Task(line=1, end_line=1, section="I.1", text="Rà soát hộ nghèo",
                lead=("Phòng Lao động - Thương binh và Xã hội",), due=date(2022, 12, 30),
                due_kind="explicit")
    info = DocumentInfo(kind="ke_hoach", number="1/KH-UBND", issuer="UBND huyện Bench",
                        issued=date(2022, 10, 1), title="Kế hoạch thử tải", period=period,
                        locality="Bench")
    return ParsedPlan(document=info, tasks=(task,))


def _copies(api: FakeBotApi) -> list[dict]:
    return [r for r in api.sent
            if r["ok"] and r["method"] == "sendMessage" and HEADING in (r["text"] or "")]


async def _ask(api: FakeBotApi, chat_id: int, text: str) -> tuple[float, dict]:
    """Push ``text`` from ``chat_id``; seconds until the server got the first reply."""
    before = len(api.messages_to(chat_id))
    pushed = time.time()  # the fake stamps its records with time.time()
    api.user_message(chat_id, text, user_id=chat_id)
    if not await api.async_wait_for(lambda: len(api.messages_to(chat_id)) > before,
                                    REPLY_TIMEOUT):
        raise TimeoutError(f"no answer to {text!r}")
    reply = api.messages_to(chat_id)[before]
    return reply["time"] - pushed, reply


async def run(chats: int, probes: int, workdir: Path) -> Figures:
    from handlers.app import build_application
    from handlers.app import stop_application as _stop
    from localchat.console import _start

    clock = FixedClock(NOW)
    settings = Settings(bot_token=None, admin_ids=frozenset({ADMIN}), data_dir=workdir)
    with FakeBotApi() as api, Store(workdir / "bot.json") as store:
        store.import_plan(_plan(), filename="bench.txt", file_hash="bench", actor=None,
                          now=NOW)
        unit = store.units()[0]
        for chat in range(FIRST_CHAT, FIRST_CHAT + chats):
            store.subscribe(chat, unit.key, title=f"Cán bộ {chat}", chat_type="private",
                            actor=ADMIN, now=NOW)
            api.add_chat(chat, "private")
        for chat in (ADMIN, STRANGER):
            api.add_chat(chat, "private")
        api.enforce_limits()  # Telegram's: 1/s per chat, 30/s overall, 20/min per group
        app = build_application(settings, store, clock, token=api.token,
                                base_url=api.base_url, base_file_url=api.base_file_url)
        await _start(app)
        try:
            alone = []
            for _ in range(probes):
                seconds, _ = await _ask(api, STRANGER, "/help")
                alone.append(seconds)
                await asyncio.sleep(PROBE_EVERY)  # the stranger's own 1/s chat limit
            started = time.time()
            api.user_message(ADMIN, "/thongbao tất cả: Họp giao ban lúc 14 giờ", user_id=ADMIN)
            await api.async_wait_for(lambda: _copies(api), REPLY_TIMEOUT)
            during = []
            while True:  # the report is the admin's answer after the last copy
                seconds, _ = await _ask(api, STRANGER, "/help")
                during.append(seconds)
                if any("Đã gửi thông báo tới" in (m["text"] or "")
                       for m in api.messages_to(ADMIN)):
                    break
                await asyncio.sleep(PROBE_EVERY)
            await api.async_wait_for(lambda: any("Đã gửi thông báo tới" in (m["text"] or "")
                                                 for m in api.messages_to(ADMIN)),
                                     REPLY_TIMEOUT)
        finally:
            await _stop(app)
        copies = _copies(api)
        to_admin = api.messages_to(ADMIN)
        received = collections.Counter(r["chat_id"] for r in copies)
        return Figures(
            alone=alone, during=during,
            broadcast_s=max(r["time"] for r in copies) - started,
            first_answer=to_admin[0]["text"], first_answer_s=to_admin[0]["time"] - started,
            copies=len(copies), chats_once=sum(1 for n in received.values() if n == 1),
            report=to_admin[-1]["text"], count_429=api.count_429)


def _fmt(values: list[float]) -> str:
    return (f"median {statistics.median(values):.2f} s, worst {max(values):.2f} s "
            f"({len(values)} probes)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=5, help="/help probes with the bot idle")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="bench-background-") as tmp:
        fig = asyncio.run(run(args.chats, args.probes, Path(tmp)))
    print(f"/thongbao to {args.chats} private chats, Telegram's limits enforced by the fake "
          "server, the Application's AIORateLimiter (30/s)")
    print(f"/help alone:                {_fmt(fig.alone)}")
    print(f"/help during the broadcast: {_fmt(fig.during)}")
    print(f"broadcast: {fig.copies} copies in {fig.broadcast_s:.1f} s "
          f"({fig.copies / fig.broadcast_s:.1f}/s); {fig.chats_once} chats got it exactly once; "
          f"429 answers {fig.count_429}")
    first = " ".join(fig.first_answer.split())
    print(f"sender's first answer after {fig.first_answer_s:.2f} s: {first[:90]}")
    print(f"sender's report: {' '.join(fig.report.split())[:90]}")
    ok = fig.copies == args.chats == fig.chats_once
    print("every chat exactly once" if ok else "MISSING OR REPEATED COPIES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
