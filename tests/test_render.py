"""Tests for handlers.render (pure HTML of task lists and details) and bot.board (list order)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import board
from bot.board import DONE, LATER, LEAD, OVERDUE, SOON, SUPPORT, build_board
from bot.models import Deadline, DocumentInfo, ParsedPlan, Period, Recurrence, Task
from bot.store import Store
from handlers import render
from localchat.fakeapi import check_html

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2024, 3, 10)
NOW = datetime(2024, 3, 10, 9, 0, tzinfo=TZ)
ADMIN = 111
ESCAPE_TEXT = "Kiểm tra <b>& báo cáo</b> an toàn thực phẩm"


def mk_task(line: int, text: str, lead=("Phòng Y tế",), support=(), due: date | None = None,
            recurrence: Recurrence | None = None) -> Task:
    deadlines = (Deadline(f"trước ngày {due:%d/%m/%Y}", due, line),) if due else ()
    return Task(line=line, end_line=line + 1, section=f"II.{line}", text=text, lead=tuple(lead),
                support=tuple(support), deadlines=deadlines, due=due,
                due_kind="explicit" if due else None, recurrence=recurrence)


def mk_plan(tasks, number: str | None = "09-NQ/TU") -> ParsedPlan:
    info = DocumentInfo(kind="nghi_quyet", number=number, issuer="Thị ủy Đông Triều",
                        issued=date(2024, 1, 5), title="Nghị quyết về nhiệm vụ năm 2024",
                        period=Period("năm 2024", date(2024, 1, 1), date(2024, 12, 31)),
                        locality="Cẩm Phả")
    return ParsedPlan(document=info, tasks=tuple(tasks))


def import_plan(store: Store, tasks, number: str | None = "09-NQ/TU") -> list[int]:
    result = store.import_plan(mk_plan(tasks, number), filename=f"{number}.txt",
                               file_hash=f"hash-{number}-{len(tasks)}", actor=ADMIN, now=NOW)
    return list(result.document.task_ids)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "bot.json") as s:
        yield s


@pytest.fixture
def sample(store: Store) -> dict[str, int]:
    """Nine tasks of Phòng Y tế (one only supported, one done), named by what they test."""
    ids = import_plan(store, [
        mk_task(10, "Rà soát hộ nghèo quá hạn chín ngày", due=date(2024, 3, 1)),
        mk_task(20, "Tiêm chủng mở rộng quá hạn mười chín ngày", due=date(2024, 2, 20)),
        mk_task(30, "Báo cáo còn hai ngày", due=date(2024, 3, 12)),
        mk_task(40, "Họp giao ban hôm nay", due=date(2024, 3, 10)),
        mk_task(50, "Tổng kết năm còn lâu", due=date(2024, 4, 30)),
        mk_task(60, "Kiểm tra thường xuyên không có hạn"),
        mk_task(70, "Thu ngân sách do tài chính chủ trì", lead=["Phòng Tài chính - Kế hoạch"],
                support=["Phòng Y tế"], due=date(2024, 3, 15)),
        mk_task(80, ESCAPE_TEXT, due=date(2024, 3, 20),
                recurrence=Recurrence("quarterly", "định kỳ hằng quý", 15, "last")),
        mk_task(90, "Việc đã xong từ trước", due=date(2024, 3, 5)),
    ])
    names = ["over9", "over19", "soon2", "today", "later", "nodate", "support", "escape",
             "done"]
    by_name = dict(zip(names, ids, strict=True))
    store.mark_done(by_name["done"], actor=ADMIN, now=NOW)
    return by_name


def yte(store: Store) -> str:
    return store.match_unit("Phòng Y tế").key


# ------------------------------------------------------------------------------ small parts
@pytest.mark.parametrize(("due", "expected"), [
    (date(2024, 3, 13), "còn 3 ngày"),
    (date(2024, 3, 11), "còn 1 ngày"),
    (date(2024, 3, 10), "hôm nay"),
    (date(2024, 3, 9), "quá hạn 1 ngày"),
    (date(2023, 3, 10), "quá hạn 366 ngày"),
    (None, "không có hạn"),
])
def test_days_phrase(due: date | None, expected: str) -> None:
    assert render.days_phrase(due, TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Một hai ba", "Một hai ba"),
    (" ".join(f"từ{i}" for i in range(20)), " ".join(f"từ{i}" for i in range(15)) + "…"),
    ("Tổ chức,  kiểm tra,", "Tổ chức, kiểm tra,"),
])
def test_snippet_keeps_first_words(text: str, expected: str) -> None:
    assert render.snippet(text) == expected


def test_snippet_caps_characters() -> None:
    long_words = " ".join("x" * 30 for _ in range(10))
    assert len(render.snippet(long_words)) <= render.SNIPPET_CHARS
    assert render.snippet(long_words).endswith("…")


# ------------------------------------------------------------------------------ board
def test_board_orders_overdue_soon_later_nodate(store: Store, sample: dict[str, int]) -> None:
    b = build_board(store, [yte(store)], TODAY)
    order = [e.task.id for e in b.entries()]
    assert order == [sample[n] for n in ("over19", "over9", "today", "soon2", "support",
                                         "escape", "later", "nodate")]
    buckets = [e.bucket for e in b.entries()]
    assert buckets == [OVERDUE, OVERDUE, SOON, SOON, SOON, LATER, LATER, LATER]
    assert (b.overdue_count, b.soon_count, b.later_count, b.done_count) == (2, 3, 3, 1)


def test_board_knows_the_role(store: Store, sample: dict[str, int]) -> None:
    roles = {e.task.id: e.role for e in build_board(store, [yte(store)], TODAY).entries()}
    assert roles[sample["support"]] == SUPPORT
    assert roles[sample["over9"]] == LEAD
    every = build_board(store, None, TODAY)
    assert {e.role for e in every.entries()} == {None}


def test_board_lead_only_drops_supported_tasks(store: Store, sample: dict[str, int]) -> None:
    b = build_board(store, [yte(store)], TODAY, include_support=False)
    assert sample["support"] not in [t.id for t in b.tasks]
    assert len(b) == 7 and b.soon_count == 2 and b.done_count == 1


def test_board_follows_store_changes(store: Store, sample: dict[str, int]) -> None:
    key = yte(store)
    before = build_board(store, [key], TODAY)
    store.mark_done(sample["over19"], actor=ADMIN, now=NOW)
    store.extend(sample["later"], date(2024, 3, 11), actor=ADMIN, now=NOW)
    after = build_board(store, [key], TODAY)
    assert (before.overdue_count, after.overdue_count) == (2, 1)
    assert after.done_count == before.done_count + 1
    assert after.soon_count == before.soon_count + 1
    assert [e.bucket for e in after.entries() if e.task.id == sample["later"]] == [SOON]


def test_board_of_no_units_is_empty(store: Store, sample: dict[str, int]) -> None:
    b = build_board(store, [], TODAY)
    assert len(b) == 0 and b.done_count == 0 and b.page_count() == 1


@pytest.mark.parametrize(("total", "page", "expected_ids_slice"), [
    (25, 1, slice(0, 10)), (25, 3, slice(20, 25)), (25, 99, slice(20, 25)), (25, 0, slice(0, 10)),
    (10, 2, slice(0, 10)),
])
def test_board_pages(store: Store, total: int, page: int, expected_ids_slice: slice) -> None:
    ids = import_plan(store, [mk_task(i + 1, f"Việc số {i}", due=date(2024, 3, 1) + timedelta(i))
                              for i in range(total)])
    b = build_board(store, [yte(store)], TODAY)
    assert b.page_count() == -(-total // board.PAGE_SIZE)
    assert [e.task.id for e in b.page(page)] == ids[expected_ids_slice]


# ------------------------------------------------------------------------------ list pages
def test_board_page_header_names_whose_list(store: Store, sample: dict[str, int]) -> None:
    text, rows = render.board_page(store, build_board(store, [yte(store)], TODAY))
    first = text.split("\n")[0]
    assert first == ("<b>Nhiệm vụ của Phòng Y tế (Cẩm Phả)</b>: 2 quá hạn, 3 sắp đến hạn, "
                     "3 còn lại, 1 đã xong")
    assert rows == []  # one page: no buttons


def test_list_line_has_code_date_phrase_role_and_source(store: Store,
                                                        sample: dict[str, int]) -> None:
    text, _ = render.board_page(store, build_board(store, [yte(store)], TODAY))
    assert (f"🔴 <b>#{sample['over19']}</b> · hạn 20/02/2024 · <b>quá hạn 19 ngày</b> · chủ trì"
            in text)
    assert f"<b>#{sample['today']}</b> · hạn 10/03/2024 · <b>hôm nay</b>" in text
    assert f"<b>#{sample['support']}</b> · hạn 15/03/2024 · <b>còn 5 ngày</b> · phối hợp" in text
    assert f"<b>#{sample['nodate']}</b> · không có hạn · chủ trì" in text
    assert "<i>VB 09-NQ/TU, dòng 20</i>" in text
    assert text.index("— Quá hạn —") < text.index("— Sắp đến hạn (7 ngày tới) —") \
        < text.index("— Còn lại —")
    assert f"#{sample['done']}<" not in text


def test_task_text_is_escaped(store: Store, sample: dict[str, int]) -> None:
    text, _ = render.board_page(store, build_board(store, [yte(store)], TODAY))
    assert "Kiểm tra &lt;b&gt;&amp; báo cáo&lt;/b&gt;" in text
    assert "<b>&" not in text
    assert ESCAPE_TEXT.split("<")[0] + "<b>& báo cáo" in check_html(text)


def test_every_line_of_every_view_is_balanced_html(store: Store, sample: dict[str, int]) -> None:
    key = yte(store)
    pages = [
        render.board_page(store, build_board(store, [key], TODAY))[0],
        render.board_page(store, build_board(store, None, TODAY))[0],
        render.upcoming_page(store, board.upcoming_list(store, [key], TODAY, 30), 30)[0],
        render.overdue_page(store, board.overdue_list(store, [key], TODAY))[0],
        render.search_page(store, board.search_list(store, None, TODAY, "<b>&"), "<b>&")[0],
        render.task_detail(store, store.task(sample["escape"]), TODAY,
                           store.history(sample["escape"])),
    ]
    for page in pages:
        check_html(page)
        for line in page.split("\n"):
            check_html(line)  # split_html may cut between any two lines


def test_every_unit_view_names_the_lead_unit(store: Store, sample: dict[str, int]) -> None:
    text, _ = render.board_page(store, build_board(store, None, TODAY))
    assert text.startswith("<b>Nhiệm vụ của tất cả đơn vị</b>")
    assert f"<b>#{sample['support']}</b> · hạn 15/03/2024 · <b>còn 5 ngày</b> · chủ trì: " \
           "Phòng Tài chính - Kế hoạch" in text


def test_pages_and_buttons(store: Store) -> None:
    ids = import_plan(store, [mk_task(i + 1, f"Việc số {i}", due=date(2024, 3, 1) + timedelta(i))
                              for i in range(25)])
    b = build_board(store, [yte(store)], TODAY)
    text, rows = render.board_page(store, b, 2, arg="uabc")
    assert "Trang 2/3" in text
    assert [label for label, _ in rows[0]] == ["« Trước", "Trang 2/3", "Sau »"]
    assert [data for _, data in rows[0]] == ["pg:nhiemvu:1:uabc", "pg:nhiemvu:2:uabc",
                                            "pg:nhiemvu:3:uabc"]
    assert f"#{ids[10]}<" in text and f"#{ids[9]}<" not in text and f"#{ids[20]}<" not in text
    _, first = render.board_page(store, b, 1)
    assert [label for label, _ in first[0]] == ["Trang 1/3", "Sau »"]
    _, last = render.board_page(store, b, 7)  # past the end: the last page
    assert [label for label, _ in last[0]] == ["« Trước", "Trang 3/3"]


def test_long_texts_keep_a_page_within_one_message(store: Store) -> None:
    words = " ".join(["Tổ chức thực hiện &"] * 200)
    import_plan(store, [mk_task(i + 1, f"{'X' * 500} {words}", due=date(2024, 3, 1))
                        for i in range(12)], number="1" * 200)
    text, _ = render.board_page(store, build_board(store, [yte(store)], TODAY))
    assert len(check_html(text)) <= 4096


@pytest.mark.parametrize("view", render.VIEWS)
def test_page_data_fits_in_64_bytes(view: str) -> None:
    args = ["", "366", render.UNIT_ARG + render.unit_ref("đông triều|" + "ủy ban " * 40),
            render.term_ref("tiêm chủng " * 50)]
    for arg in args:
        for page in (1, 99999):
            data = render.page_data(view, page, arg)
            assert len(data.encode("utf-8")) <= 64
            assert render.parse_page_data(data) == (view, page, arg)


def test_page_data_refuses_raw_long_keys() -> None:
    with pytest.raises(ValueError):
        render.page_data(render.NHIEMVU, 1, "đông triều|ủy ban nhân dân thị xã đông triều")


@pytest.mark.parametrize("data", [
    "pg:nhiemvu:1", "pg:khac:1:", "pg:nhiemvu:x:", "sub:nhiemvu:1:", "pg:nhiemvu:-1:",
    "pg:nhiemvu:12345678:", "",
])
def test_parse_page_data_rejects_foreign_data(data: str) -> None:
    assert render.parse_page_data(data) is None


@pytest.mark.parametrize("query", ["tài chính", "a « b » c", "<b>&amp;", "  hai   từ  "])
def test_search_term_is_read_back_from_the_list(store: Store, sample: dict[str, int],
                                                query: str) -> None:
    tasks = board.search_list(store, None, TODAY, query)
    text, _ = render.search_page(store, tasks, query)
    ref = render.term_ref(query)
    expected = " ".join(query.split())
    assert render.search_query_from_text(text, ref) == expected  # the HTML we sent
    assert render.search_query_from_text(check_html(text), ref) == expected  # Telegram's text
    assert render.search_query_from_text(text, render.term_ref("khác")) is None


def test_empty_views_say_so(store: Store, sample: dict[str, int]) -> None:
    nobody = board.overdue_list(store, ["cam pha|khong co"], TODAY)
    assert "Không có nhiệm vụ nào quá hạn" in render.overdue_page(store, nobody)[0]
    upcoming = board.upcoming_list(store, [yte(store)], date(2030, 1, 1), 7)
    assert "Không có nhiệm vụ nào đến hạn trong 7 ngày tới" in \
        render.upcoming_page(store, upcoming, 7)[0]
    assert "gõ /dangky" in render.no_units_text(True)
    assert render.no_units_text(True).startswith("Nhóm này chưa là thành viên")
    assert render.no_units_text(False).startswith("Bạn chưa là thành viên")
    assert "/nhiemvu <tên đơn vị>" not in render.no_units_text(False)  # closed reading
    assert "/nhiemvu <tên đơn vị>" in render.no_units_text(False, open_read=True)
    waiting = render.no_units_text(False, pending=["Phòng Y tế (Cẩm Phả)"])
    assert "Yêu cầu tham gia Phòng Y tế (Cẩm Phả) của bạn đang chờ" in waiting


# ------------------------------------------------------------------------------ detail
def test_detail_shows_units_deadlines_recurrence_source(store: Store,
                                                        sample: dict[str, int]) -> None:
    task = store.task(sample["support"])
    text = render.task_detail(store, task, TODAY)
    assert f"<b>Nhiệm vụ #{task.id}</b> · còn 5 ngày" in text
    assert "<b>Chủ trì:</b> Phòng Tài chính - Kế hoạch (Cẩm Phả)" in text
    assert "<b>Phối hợp:</b> Phòng Y tế (Cẩm Phả)" in text
    assert "<b>Hạn:</b> 15/03/2024 (còn 5 ngày) — hạn ghi trong văn bản" in text
    assert "• «trước ngày 15/03/2024» → 15/03/2024 (dòng 70)" in text
    assert "<b>Kỳ của văn bản:</b> năm 2024 (01/01/2024 – 31/12/2024)" in text
    assert "<b>Nguồn:</b> VB 09-NQ/TU, dòng 70–71, mục II.70" in text
    escaped = render.task_detail(store, store.task(sample["escape"]), TODAY)
    assert "<b>Định kỳ:</b> hằng quý, tháng cuối kỳ, trước ngày 15" in escaped
    assert "&lt;b&gt;&amp; báo cáo" in escaped


def test_detail_history_and_late_completion(store: Store, sample: dict[str, int]) -> None:
    code = sample["soon2"]
    store.extend(code, date(2024, 3, 20), actor=ADMIN, now=NOW, reason="chờ <kinh phí>")
    store.mark_done(code, actor=ADMIN, now=NOW + timedelta(days=12))
    store.reopen(code, actor=7, now=NOW + timedelta(days=13))
    store.mark_done(code, actor=ADMIN, now=NOW + timedelta(days=14), note="xong & nộp")
    task = store.task(code)
    text = render.task_detail(store, task, TODAY, store.history(code))
    assert "— đã gia hạn, hạn gốc 12/03/2024" in text
    assert ("<b>Trạng thái:</b> đã hoàn thành lúc 09:00 24/03/2024, người dùng 111 đánh dấu "
            "— quá hạn 4 ngày") in text
    assert "<b>Ghi chú:</b> xong &amp; nộp" in text
    history = text.split("<b>Lịch sử:</b>\n", 1)[1].split("\n")
    assert history == [
        "• 09:00 10/03/2024 — gia hạn 12/03/2024 → 20/03/2024, lý do: chờ &lt;kinh phí&gt; "
        "— người dùng 111",
        "• 09:00 22/03/2024 — đánh dấu hoàn thành (quá hạn 2 ngày) — người dùng 111",
        "• 09:00 23/03/2024 — mở lại (bỏ đánh dấu hoàn thành) — người dùng 7",
        "• 09:00 24/03/2024 — đánh dấu hoàn thành (quá hạn 4 ngày), ghi chú: xong &amp; nộp "
        "— người dùng 111",
    ]


def test_document_without_number_is_named_by_kind_and_title(store: Store) -> None:
    import_plan(store, [mk_task(5, "Việc không số")], number=None)
    text, _ = render.board_page(store, build_board(store, [yte(store)], TODAY))
    assert "<i>Nghị quyết «Nghị quyết về nhiệm vụ năm 2024», dòng 5</i>" in text


def test_done_task_in_search_results(store: Store, sample: dict[str, int]) -> None:
    tasks = board.search_list(store, None, TODAY, "da xong")
    assert [e.bucket for e in tasks.entries()] == [DONE]
    text, _ = render.search_page(store, tasks, "da xong")
    assert f"✅ <b>#{sample['done']}</b> · hạn 05/03/2024 · đã xong 10/03/2024" in text
