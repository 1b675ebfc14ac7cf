"""Digest, reminder and announcement rendering (schedules.digest): content, limits, days."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.models import DocumentInfo, ParsedPlan, Period, Recurrence, Task
from bot.store import Store
from localchat.fakeapi import check_html
from schedules.digest import (
    MAX_BUTTONS,
    MAX_MESSAGE_CHARS,
    build_announcement,
    build_digests,
    build_reminder,
    chat_digests,
    snippet,
    vlen,
)
from schedules.policy import BUCKET_LABELS, reminder_days
from schedules.workdays import is_working_day

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 1, 9, 0, tzinfo=TZ)
ADMIN = 1001
YT, TC, CA = "Phòng Y tế", "Phòng Tài chính - Kế hoạch", "Công an thành phố"
CHAT, OTHER = -1001, 555


def mk(line: int, text: str, due: date | None, lead=(YT,), support=(),
       recurrence: Recurrence | None = None) -> Task:
    return Task(line=line, end_line=line, section=str(line), text=text, lead=tuple(lead),
                support=tuple(support), due=due, due_kind="explicit" if due else None,
                recurrence=recurrence)


def load(store: Store, tasks, number="12/KH-UBND", period=None, h="h1") -> None:
    info = DocumentInfo(kind="ke_hoach", number=number, issuer="UBND thành phố Cẩm Phả",
                        period=period, locality="Cẩm Phả")
    store.import_plan(ParsedPlan(document=info, tasks=tuple(tasks)), filename=f"{h}.txt",
                      file_hash=h, actor=ADMIN, now=NOW)


def follow(store: Store, chat_id: int, *names: str) -> None:
    for name in names:
        key = store.match_unit(name, "Cẩm Phả").key
        store.subscribe(chat_id, key, title=f"Nhóm {chat_id}", chat_type="group", actor=ADMIN,
                        now=NOW)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "bot.json")
    yield s
    s.close()


def visible(msg) -> str:
    """The text Telegram would show; raises like Telegram on unbalanced or bad HTML."""
    return check_html(msg.text)


def buttons(msg) -> list[tuple[str, str]]:
    return [b for row in msg.rows for b in row]


# ----------------------------------------------------------------------------- content
def test_digest_groups_by_bucket_with_full_lines_and_buttons(store: Store) -> None:
    today = date(2022, 12, 20)  # Tuesday
    load(store, [
        mk(1, "Báo cáo <tổng kết> năm & kế hoạch 2023", today - timedelta(days=1)),
        mk(2, "Tiêm chủng mở rộng", today),
        mk(3, "Kiểm tra an toàn thực phẩm", today + timedelta(days=1), lead=(TC,),
           support=(YT,)),
        mk(4, "Rà soát hộ nghèo", today + timedelta(days=3)),
        mk(5, "Tổng kết phong trào", today + timedelta(days=7)),
        mk(6, "Việc chưa tới hạn", today + timedelta(days=5)),
        mk(7, "Việc của đơn vị khác", today, lead=(CA,)),
    ])
    follow(store, CHAT, YT)
    msgs = build_digests(store, today)
    assert len(msgs) == 1
    msg = msgs[0]
    assert msg.chat_id == CHAT and msg.key == f"digest:{CHAT}:2022-12-20:1"
    text = visible(msg)
    headings = [BUCKET_LABELS[b] for b in ("overdue", "today", "in_1", "in_3", "in_7")]
    positions = [text.index(f"{h} (1)") for h in headings]
    assert positions == sorted(positions)  # most urgent first
    assert "• 1 · 19/12/2022 · quá hạn 1 ngày · chủ trì: Báo cáo <tổng kết> năm & kế" in text
    assert "&lt;tổng kết&gt; năm &amp; kế" in msg.text  # escaped in the HTML
    assert "• 2 · 20/12/2022 · đến hạn hôm nay · chủ trì" in text
    assert "• 3 · 21/12/2022 · còn 1 ngày · phối hợp: Kiểm tra" in text
    assert "• 4 · 23/12/2022 · còn 3 ngày" in text
    assert "• 5 · 27/12/2022 · còn 7 ngày" in text
    assert "Việc chưa tới hạn" not in text and "đơn vị khác" not in text
    assert "Đơn vị: Phòng Y tế" in text
    # Task 3 is only supported here: its "Đã xong" could only be refused.
    assert buttons(msg) == [(f"Đã xong {i}", f"done:{i}") for i in (1, 2, 4, 5)]
    assert [len(row) for row in msg.rows] == [3, 1]
    assert "việc phối hợp do đơn vị chủ trì báo" in text


def test_only_active_chats_with_items_get_a_digest(store: Store) -> None:
    today = date(2022, 12, 20)
    load(store, [mk(1, "Tiêm chủng", today), mk(2, "An ninh", today + timedelta(days=2),
                                                lead=(CA,))])
    follow(store, CHAT, YT)
    follow(store, OTHER, CA)  # its task is due in 2 days: no reminder today
    follow(store, 777, YT)
    store.set_chat_active(777, False, "bot removed", NOW)
    assert [m.chat_id for m in build_digests(store, today)] == [CHAT]
    store.mark_done(1, actor=ADMIN, now=NOW)
    assert build_digests(store, today) == []


def test_chat_following_two_units_sees_a_shared_task_once(store: Store) -> None:
    today = date(2022, 12, 20)
    load(store, [mk(1, "Phối hợp liên ngành", today, lead=(YT,), support=(TC,))])
    follow(store, CHAT, YT, TC)
    (msg,) = build_digests(store, today)
    assert visible(msg).count("• 1 ·") == 1
    assert buttons(msg) == [("Đã xong 1", "done:1")]


# ----------------------------------------------------------------------------- limits
def long_text(i: int) -> str:
    return (f"Nhiệm vụ số {i}: tổ chức triển khai thực hiện có hiệu quả các chỉ tiêu kinh tế "
            "xã hội, quốc phòng an ninh năm 2022, báo cáo kết quả về Ủy ban nhân dân thành phố "
            "trước khi tổng kết năm")


def test_sixty_tasks_due_the_same_day_fit_one_message(store: Store) -> None:
    due = date(2022, 12, 31)
    load(store, [mk(i, long_text(i), due) for i in range(1, 61)])
    follow(store, CHAT, YT)
    days = [d for d in reminder_days(due) if d < due]
    assert days  # e.g. the 7-, 3- and 1-day reminders
    for day in days:
        msgs = build_digests(store, day)
        assert len(msgs) == 1, day
        (msg,) = msgs
        text = visible(msg)
        assert vlen(text) <= MAX_MESSAGE_CHARS
        assert len(buttons(msg)) == 60
        assert len(re.findall(r"^• \d+ · 31/12/2022", text, re.M)) == 60
        assert "Nhiệm vụ số" in text  # the start of each text is still shown


def test_large_digest_splits_into_balanced_parts(store: Store) -> None:
    due = date(2022, 12, 21)
    today = date(2022, 12, 20)
    n = 230
    load(store, [mk(i, long_text(i) + " <b>&", due - timedelta(days=i % 2)) for i in
                 range(1, n + 1)])
    follow(store, CHAT, YT)
    msgs = build_digests(store, today)
    assert len(msgs) >= 3
    assert [m.key for m in msgs] == [f"digest:{CHAT}:2022-12-20:{k}"
                                     for k in range(1, len(msgs) + 1)]
    seen: list[int] = []
    for k, msg in enumerate(msgs, start=1):
        text = visible(msg)  # balanced HTML in every part
        assert vlen(text) <= MAX_MESSAGE_CHARS
        assert f"(phần {k}/{len(msgs)})" in text
        ids = [int(x) for x in re.findall(r"^• (\d+) ·", text, re.M)]
        assert [int(d[5:]) for _, d in buttons(msg)] == ids  # buttons match the part's lines
        assert len(ids) <= MAX_BUTTONS
        seen += ids
    assert sorted(seen) == list(range(1, n + 1))  # every task exactly once
    assert "(tiếp)" in visible(msgs[1])  # a bucket continued in the next part says so


def test_more_than_a_hundred_tasks_keep_both_limits(store: Store) -> None:
    today = date(2022, 12, 20)
    load(store, [mk(i, "Báo cáo", today) for i in range(1, 151)])
    follow(store, CHAT, YT)
    msgs = build_digests(store, today)
    assert len(msgs) > 1
    ids = [int(d[5:]) for m in msgs for _, d in buttons(m)]
    assert sorted(ids) == list(range(1, 151))
    for msg in msgs:
        assert len(buttons(msg)) <= MAX_BUTTONS
        assert vlen(visible(msg)) <= MAX_MESSAGE_CHARS


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("Tổ chức  tiêm\nchủng", 50, "Tổ chức tiêm chủng"),
    ("Tổ chức tiêm chủng mở rộng", 16, "Tổ chức tiêm…"),
    ("Tổchứctiêmchủngmởrộng", 10, "Tổchứctiê…"),
    ("📋📋📋📋📋📋📋📋", 10, "📋📋📋📋…"),  # Telegram counts each emoji as 2
])
def test_snippet_cuts_at_words(text: str, limit: int, expected: str) -> None:
    assert snippet(text, limit) == expected
    assert vlen(snippet(text, limit)) <= limit


# ----------------------------------------------------------------------------- days
def test_seven_day_reminder_moves_before_tet_2023(store: Store) -> None:
    due = date(2023, 1, 30)  # Monday after Tết (20-26/1/2023 off)
    load(store, [mk(1, "Báo cáo sau Tết", due)])
    follow(store, CHAT, YT)
    nominal = due - timedelta(days=7)  # 23/1: Tết
    assert not is_working_day(nominal)
    assert build_digests(store, nominal) == []  # nothing is due on a day off
    assert is_working_day(date(2023, 1, 19))
    (msg,) = build_digests(store, date(2023, 1, 19))  # the working day before Tết
    assert "• 1 · 30/01/2023 · còn 11 ngày" in visible(msg)
    assert build_digests(store, date(2023, 1, 27))  # 3- and 1-day reminders: after Tết
    assert build_digests(store, date(2023, 1, 30))


def test_every_reminder_day_is_a_working_day(store: Store) -> None:
    start = date(2023, 1, 1)
    load(store, [mk(i, f"Việc {i}", start + timedelta(days=3 * i)) for i in range(1, 60)])
    follow(store, CHAT, YT)
    for k in range(200):
        day = start + timedelta(days=k)
        if build_digests(store, day):
            assert is_working_day(day), day


def test_snoozed_task_is_left_out_until_it_resumes(store: Store) -> None:
    today = date(2022, 12, 20)
    load(store, [mk(1, "Tiêm chủng", today - timedelta(days=1)), mk(2, "Báo cáo", today)])
    follow(store, CHAT, YT)
    store.snooze(1, date(2022, 12, 22), actor=ADMIN, now=NOW)
    (msg,) = build_digests(store, today)
    assert "• 1 ·" not in visible(msg) and "• 2 ·" in visible(msg)
    (resumed,) = build_digests(store, date(2022, 12, 22))
    assert "• 1 · 19/12/2022 · quá hạn 3 ngày" in visible(resumed)


def test_missed_reminders_are_folded_in(store: Store) -> None:
    load(store, [mk(1, "Tiêm chủng", date(2022, 12, 27)), mk(2, "Báo cáo", date(2023, 1, 10))])
    follow(store, CHAT, YT)
    today = date(2022, 12, 22)  # task 1's 7-day reminder was on 20/12; bot down since 19/12
    assert 20 in [d.day for d in reminder_days(date(2022, 12, 27))]
    assert build_digests(store, today) == []  # nothing of its own today
    (msg,) = build_digests(store, today, missed_since={CHAT: date(2022, 12, 19)})
    text = visible(msg)
    assert "• 1 · 27/12/2022 · còn 5 ngày · nhắc bù · chủ trì" in text
    # The heading says what the line says (5 days left), not which reminder it replaces.
    assert text.index("Còn 5 ngày (1)") < text.index("• 1 ·")
    assert BUCKET_LABELS["in_7"] not in text
    assert "• 2 ·" not in text
    # Already sent on 20/12: nothing missed since then.
    assert build_digests(store, today, missed_since={CHAT: date(2022, 12, 20)}) == []
    assert build_digests(store, today, missed_since={OTHER: date(2022, 12, 19)}) == []


def test_recurring_task_uses_its_document_period(store: Store) -> None:
    period = Period("Năm 2023", date(2023, 1, 1), date(2023, 12, 31))
    load(store, [mk(1, "Báo cáo tháng", date(2023, 12, 31),
                    recurrence=Recurrence("monthly", "hằng tháng", 20))], period=period)
    follow(store, CHAT, YT)
    (digest,) = chat_digests(store, date(2023, 3, 20))
    assert [(ln.due, ln.days) for ln in digest.lines] == [(date(2023, 3, 20), 0)]
    assert chat_digests(store, date(2022, 12, 20)) == []  # before the period: nothing


# ----------------------------------------------------------------------------- one-offs
def test_build_reminder(store: Store) -> None:
    load(store, [mk(1, "Tiêm chủng <mở rộng>", date(2022, 12, 23), support=(TC,))])
    follow(store, OTHER, YT)
    follow(store, CHAT, TC)
    at = datetime(2022, 12, 20, 8, 0, tzinfo=TZ)
    supporting = build_reminder(store, store.add_reminder(1, CHAT, at, ADMIN, NOW))
    assert supporting.rows == ()  # a supporting unit cannot close it: no button
    reminder = store.add_reminder(1, OTHER, at, ADMIN, NOW)
    msg = build_reminder(store, reminder)
    assert msg.key == f"remind:{reminder.id}" and msg.chat_id == OTHER
    text = visible(msg)
    assert "hẹn lúc 08:00 20/12/2022" in text
    assert "Nhiệm vụ 1 · hạn 23/12/2022 · còn 3 ngày" in text
    assert "12/KH-UBND" in text and "Tiêm chủng <mở rộng>" in text
    assert "muộn" not in text
    assert buttons(msg) == [("Đã xong 1", "done:1")]
    late = build_reminder(store, reminder, now=at + timedelta(days=1))
    assert "Gửi muộn" in visible(late) and "còn 2 ngày" in visible(late)
    store.mark_done(1, actor=ADMIN, now=NOW)
    assert build_reminder(store, reminder) is None


def test_build_announcement_targets_followers_or_everyone(store: Store) -> None:
    load(store, [mk(1, "Việc", None), mk(2, "Việc", None, lead=(CA,))])
    follow(store, CHAT, YT)
    follow(store, OTHER, CA)
    key = store.match_unit(YT, "Cẩm Phả").key
    at = NOW + timedelta(hours=1)
    one = store.scheduled_announcement(
        store.schedule_announcement("Họp <gấp> & ngay", [key], at, actor=ADMIN, now=NOW))
    msgs = build_announcement(store, one)
    assert [(m.key, m.chat_id) for m in msgs] == [(f"announce:{one.id}:{CHAT}", CHAT)]
    assert "Họp <gấp> & ngay" in visible(msgs[0])
    everyone = store.scheduled_announcement(
        store.schedule_announcement("Nghỉ lễ", [], at, actor=ADMIN, now=NOW))
    assert sorted(m.chat_id for m in build_announcement(store, everyone)) == [CHAT, OTHER]


# ----------------------------------------------------------------------------- preview
# (schedules.preview is pure and built on this module, so its tests live here.)
def test_preview_lists_digests_reminders_and_announcements(store: Store) -> None:
    from bot.config import Settings
    from schedules.preview import format_preview, preview, preview_text, store_titles

    load(store, [mk(1, "Tiêm chủng", date(2022, 12, 20)), mk(2, "Báo cáo", date(2022, 12, 23)),
                 mk(3, "An ninh", date(2022, 12, 26), lead=(CA,))])
    follow(store, CHAT, YT)
    follow(store, OTHER, CA)
    now = datetime(2022, 12, 20, 6, 0, tzinfo=TZ)
    store.add_reminder(2, OTHER, datetime(2022, 12, 21, 8, 0, tzinfo=TZ), ADMIN, now)
    store.add_reminder(2, OTHER, datetime(2022, 12, 30, 8, 0, tzinfo=TZ), ADMIN, now)  # later
    store.schedule_announcement("Họp giao ban", [], datetime(2022, 12, 22, 14, 0, tzinfo=TZ),
                                actor=ADMIN, now=now)
    store.snooze(1, date(2022, 12, 22), actor=ADMIN, now=now)
    rows = preview(store, Settings(), now, days=7)
    assert rows == sorted(rows, key=lambda r: (r[0], r[1]))
    digests = [(w.date(), c) for w, c, s in rows if s.startswith("Bản tin")]
    assert all(w.time().strftime("%H:%M") == "07:30" for w, _, s in rows
               if s.startswith("Bản tin"))
    assert all(is_working_day(d) for d, _ in digests)
    assert (date(2022, 12, 20), CHAT) in digests  # task 2's 3-day reminder...
    assert (date(2022, 12, 22), CHAT) in digests  # ...and task 1 back after its snooze
    assert (date(2022, 12, 26), OTHER) in digests
    assert (datetime(2022, 12, 21, 8, 0, tzinfo=TZ), OTHER, "Nhắc nhiệm vụ 2: Báo cáo") in rows
    assert not any(w.date() == date(2022, 12, 30) for w, _, _ in rows)
    notes = [(c, s) for w, c, s in rows if s.startswith("Thông báo")]
    assert sorted(notes) == sorted([(CHAT, "Thông báo: Họp giao ban"),
                                    (OTHER, "Thông báo: Họp giao ban")])
    snoozed_day = [s for w, c, s in rows if w.date() == TUE_20 and c == CHAT]
    assert snoozed_day == ["Bản tin: 1 nhiệm vụ (Còn 3 ngày: 1)"]  # task 1 snoozed today

    text = format_preview(rows, titles=store_titles(store))
    assert f"Lịch gửi tin: {len(rows)} tin tới 2 cuộc trò chuyện." in text
    assert "Thứ Ba, 20/12/2022" in text and "Thứ Năm, 22/12/2022" in text
    assert f"  07:30  Nhóm {CHAT} ({CHAT}): Bản tin" in text
    assert format_preview([]) == "Không có tin nào sẽ được gửi trong thời gian này."
    assert preview_text(store, Settings(), now, 7) == text


TUE_20 = date(2022, 12, 20)


@pytest.mark.parametrize("days", [0, -1, 400])
def test_preview_refuses_bad_windows(store: Store, days: int) -> None:
    from bot.config import Settings
    from bot.errors import UsageError
    from schedules.preview import preview

    with pytest.raises(UsageError, match="Số ngày xem trước"):
        preview(store, Settings(), NOW, days=days)


# ----------------------------------------------------------------------------- one read per run
class _Counting:
    """A repository proxy that counts the calls made through it."""

    def __init__(self, repo) -> None:
        self._repo, self.calls = repo, []

    def __getattr__(self, name):
        attr = getattr(self._repo, name)
        if callable(attr):
            def counted(*args, **kwargs):
                self.calls.append(name)
                return attr(*args, **kwargs)
            return counted
        return attr


def _busy_store(store: Store) -> date:
    """Several chats with overlapping units, supporting roles, a recurring task with its
    document's period, a snooze, an inactive chat and a chat with no unit."""
    today = date(2023, 3, 20)
    load(store, [mk(i, f"Việc {i} <của> Y tế", today + timedelta(days=i % 9 - 3),
                    lead=(YT,) if i % 2 else (TC,), support=(TC,) if i % 2 else (YT, CA))
                 for i in range(1, 25)])
    monthly = Recurrence("monthly", "hằng tháng", day=20)
    load(store, [mk(1, "Báo cáo tháng", None, lead=(CA,), recurrence=monthly),
                 mk(2, "Việc không hạn", None, lead=(CA,))],
         number="5/KH-UBND", h="h2",
         period=Period("Năm 2023", date(2023, 1, 1), date(2023, 12, 31)))
    follow(store, CHAT, YT)
    follow(store, OTHER, TC, YT)
    follow(store, -2002, CA, TC)
    follow(store, -2003, YT)
    store.set_chat_active(-2003, False, "blocked", now=NOW)
    store.snooze("3", today + timedelta(days=2), actor=ADMIN,
                 now=datetime(2023, 3, 19, 9, 0, tzinfo=TZ))
    return today


def test_digest_run_reads_the_store_once(store: Store) -> None:
    today = _busy_store(store)
    counting = _Counting(store.repo)
    store.repo = counting
    try:
        msgs = build_digests(store, today, missed_since={CHAT: date(2023, 3, 10)})
    finally:
        store.repo = counting._repo
    assert {m.chat_id for m in msgs} == {CHAT, OTHER, -2002}  # the inactive chat gets none
    assert counting.calls == ["digest_source"]


def test_one_read_gives_what_per_chat_queries_gave(store: Store) -> None:
    """The run's one read answers, for every chat, what the former per-chat queries did
    (open_tasks(keys), unit_name, document, snoozes): the digests stay byte-identical."""
    from bot.repository import DigestSource
    from schedules.digest import _chat_tasks

    today = _busy_store(store)
    source = store.digest_source()
    assert [c.id for c in source.chats] == [c.id for c in store.chats(active_only=True)
                                            if c.unit_keys]
    assert source.snoozes == store.snoozes()
    for chat in source.chats:
        assert _chat_tasks(source, chat.unit_keys) == store.open_tasks(chat.unit_keys)
        assert [source.unit_names[k] for k in chat.unit_keys] == [
            store.unit_name(k) for k in chat.unit_keys]
    # The digests of each chat built from per-chat queries, as before issue 11.
    reference = []
    for chat in source.chats:
        tasks = store.open_tasks(chat.unit_keys)
        one = DigestSource([chat], {k: tasks for k in chat.unit_keys},
                           {t.doc_id: store.document(t.doc_id) for t in tasks},
                           {k: store.unit_name(k) for k in chat.unit_keys}, store.snoozes())
        reference += build_digests(store, today, source=one,
                                   missed_since={OTHER: date(2023, 3, 1)})
    ours = build_digests(store, today, missed_since={OTHER: date(2023, 3, 1)})
    assert ours and ours == reference
