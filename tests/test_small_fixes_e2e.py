"""Small defects of the officials' workflow, end to end: the digest's buttons and headings,
/giahan to an earlier date, the history in Vietnamese, /huydangky reading names as /dangky
does, ``python -m bot parse … | head`` and the local chat's first screen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from bot.clock import FixedClock
from localchat.fakeapi import check_html
from tests.conftest import TZ, BotEnv
from tests.test_digest import CA, YT, follow, load, mk

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
GROUP = -1001


def _headings_match_lines(text: str) -> list[tuple[str, str]]:
    """(heading, line) pairs of a digest whose heading contradicts the line under it."""
    wrong = []
    heading = None
    for line in text.splitlines():
        found = re.fullmatch(r"(Quá hạn|Hôm nay|Còn (\d+) ngày)(?: \(tiếp\))?(?: \(\d+\))?",
                             line.strip())
        if found:
            heading = found.group(1)
            continue
        if not line.startswith("• ") or heading is None:
            continue
        phrase = line.split(" · ")[2]
        expected = {"Quá hạn": "quá hạn", "Hôm nay": "đến hạn hôm nay"}.get(
            heading, heading.lower())
        if not phrase.startswith(expected):
            wrong.append((heading, line))
    return wrong


def test_digest_buttons_only_where_they_work_and_headings_say_the_days_left(
        bot_env: BotEnv) -> None:
    friday = date(2023, 3, 10)
    bot_env.clock = FixedClock(datetime(2023, 3, 10, 9, 0, tzinfo=TZ))
    load(bot_env.store, [
        mk(1, "Nộp báo cáo quý", date(2023, 3, 11)),  # Saturday: its "on the day" is Friday
        mk(2, "Tổng hợp số liệu", date(2023, 3, 13)),  # Monday: its 1-day reminder is Friday
        mk(3, "Phối hợp kiểm tra", friday, lead=(CA,), support=(YT,)),
        mk(4, "Họp giao ban", friday),
    ])
    follow(bot_env.store, GROUP, YT)
    bot_env.api.add_chat(GROUP, "group", title="Nhóm Y tế")

    async def scenario(app) -> None:  # the start-up catch-up sends today's (07:30) digest
        assert await bot_env.api.async_wait_for(lambda: bot_env.api.messages_to(GROUP), 10)

    bot_env.run(scenario)
    [digest] = bot_env.api.messages_to(GROUP)
    text = check_html(digest["text"])
    assert "• 1 · 11/03/2023 · còn 1 ngày" in text and "• 2 · 13/03/2023 · còn 3 ngày" in text
    assert _headings_match_lines(text) == []
    assert text.index("Hôm nay (2)") < text.index("Còn 1 ngày (1)") < text.index("Còn 3 ngày (1)")
    pressable = [b["callback_data"] for row in digest["reply_markup"]["inline_keyboard"]
                 for b in row]
    assert pressable == ["done:4", "done:1", "done:2"]  # not task 3: only supported here
    assert "• 3 ·" in text and "phối hợp" in text


def test_giahan_to_an_earlier_day_says_so_and_history_is_vietnamese(bot_env: BotEnv) -> None:
    bot_env.load_samples()
    admin = bot_env.ADMIN
    task = next(t for t in bot_env.store.open_tasks()
                if t.due is not None and t.due > date(2023, 1, 20))

    async def scenario(app) -> None:
        [later] = await bot_env.ask(admin, f"/giahan {task.code} 15/3/2024", user_id=admin)
        assert "Đã gia hạn" in later["text"]
        [earlier] = await bot_env.ask(admin, f"/giahan {task.code} 10/1/2023 họp sớm",
                                      user_id=admin)
        assert f"Đã đổi hạn nhiệm vụ #{task.code}: 15/03/2024 → <b>10/01/2023</b>" in \
            earlier["text"]
        assert "gia hạn" not in earlier["text"].split("\n")[0]
        await bot_env.ask(admin, f"/tamhoan {task.code} 3 ngày", user_id=admin)
        [detail] = await bot_env.ask(admin, f"/chitiet {task.code}", user_id=admin)
        history = check_html(detail["text"]).split("Lịch sử:")[1]
        assert "gia hạn" in history and "đổi hạn 15/03/2024 → 10/01/2023" in history
        assert "tạm hoãn nhắc đến hết ngày 22/12/2022 (nhắc lại từ 23/12/2022)" in history
        assert not re.search(r"\((snooze|extend|unsnooze|[a-z_]+)\)", history), history

    bot_env.run(scenario)


def test_huydangky_accepts_what_dangky_accepts(bot_env: BotEnv) -> None:
    """"Mặt trận Tổ quốc" exists in two localities: /dangky asks which one; once the group
    follows one, /huydangky with the same words leaves it, with no question."""
    bot_env.load_samples()
    user = bot_env.USER

    async def scenario(app) -> None:
        [asked] = await bot_env.ask(GROUP, "/dangky mat tran", user_id=bot_env.ADMIN,
                                    chat_type="group", is_group_admin=True)
        choices = [b["callback_data"] for row in asked["reply_markup"]["inline_keyboard"]
                   for b in row if b["text"].startswith("Mặt trận Tổ quốc (")]
        assert len(choices) == 2  # one per locality
        before = len(bot_env.api.messages_to(GROUP))
        await bot_env.press(GROUP, asked["message_id"], choices[1], user_id=bot_env.ADMIN)
        assert len(bot_env.store.chat_units(GROUP)) == 1
        assert len(bot_env.api.messages_to(GROUP)) == before  # the choice edits the message
        [left] = await bot_env.ask(GROUP, "/huydangky mat tran", user_id=user,
                                   chat_type="group", is_group_admin=True)
        assert "Đã thôi theo dõi" in left["text"], left["text"]

    bot_env.run(scenario)
    assert bot_env.store.chat_units(GROUP) == ()


def test_huydangky_offers_the_followed_units_a_fuzzy_name_may_mean(bot_env: BotEnv) -> None:
    bot_env.load_samples()
    store = bot_env.store
    unit = store.match_unit("tai chinh")
    other = store.match_unit("y te")
    for key in (unit.key, other.key):
        store.subscribe(GROUP, key, title="Nhóm", chat_type="group", actor=bot_env.ADMIN,
                        now=bot_env.clock.now())

    async def scenario(app) -> None:
        [typo] = await bot_env.ask(GROUP, "/huydangky so tai chinh", user_id=bot_env.USER,
                                   chat_type="group", is_group_admin=True)
        assert "Có phải một trong các đơn vị sau" in typo["text"]
        labels = [b["text"] for row in typo["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == [unit.label]
        [none] = await bot_env.ask(GROUP, "/huydangky cong an", user_id=bot_env.USER,
                                   chat_type="group", is_group_admin=True)
        assert "không theo dõi đơn vị nào gần với «cong an»" in none["text"]

    bot_env.run(scenario)
    assert len(store.chat_units(GROUP)) == 2  # nothing left by a guess


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BOT_TOKEN", "ADMIN_IDS", "BOT_API_URL", "BOT_FILE_URL")}
    env.update(DATA_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    return env


def test_parse_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`python -m bot parse FILE | head` once head has gone: the pipe's reading end is closed
    before the parser writes a byte, so every write meets a closed pipe, deterministically."""
    sample = next(SAMPLES.glob("*.txt"))
    for fmt in ("json", "table"):
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            done = subprocess.run([sys.executable, "-m", "bot", "parse", str(sample),
                                   "--format", fmt], cwd=tmp_path, env=_env(tmp_path),
                                  stdout=write_end, stderr=subprocess.PIPE, timeout=120)
        finally:
            os.close(write_end)
        assert done.stderr.decode() == ""  # no BrokenPipeError traceback
        assert done.returncode == 141


def test_the_local_chat_first_screen_is_all_vietnamese(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "run", "--samples", str(SAMPLES)],
                          cwd=tmp_path, env=_env(tmp_path), input="/thoat\n", text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Tạm biệt" in done.stdout
    assert done.stderr == ""  # no log line (in English) before or between the prompts
