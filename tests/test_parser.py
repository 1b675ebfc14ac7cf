"""End-to-end tests for bot.plans.parse_text / parse_file on small synthetic plans: which
sections give tasks, units inherited from list items, due dates, recurrences, line numbers."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest

from bot.models import ParsedPlan, Recurrence, Task
from bot.plans import parse_file, parse_text
from bot.plans.recurrence import find_recurrence

HEADER = """\
ỦY BAN NHÂN DÂN
THÀNH PHỐ CẨM PHẢ
Số: 169/KH-UBND
Cẩm Phả, ngày 05 tháng 10 năm 2022

KẾ HOẠCH
Thực hiện nhiệm vụ trọng tâm Quý IV năm 2022
"""

PLAN = HEADER + """
I. MỤC ĐÍCH, YÊU CẦU
- Các phòng, ban, đơn vị bám sát mục tiêu, hoàn thành trước ngày 15/12/2022.
- Phân công rõ người, rõ việc, rõ trách nhiệm.
II. NHIỆM VỤ TRỌNG TÂM
1. Công tác y tế
(1) Phòng Y tế:
- Rà soát kỹ các đối tượng thuộc diện phải tiêm vắc xin.
- Tham mưu tổ chức tiêm chủng, hoàn thành trước ngày 30/11/2022.
(2) Phòng Tư pháp: Tiếp tục quán triệt Nghị quyết số 16-
NQ/TU ngày 09/5/2019 của Tỉnh ủy, hoàn thành việc rà soát văn bản
trước ngày 20/12/2022.
2. Công tác văn hóa
(1) Phòng Văn hóa và Thông tin chủ trì, phối hợp với Trung tâm Truyền thông và Văn hóa tổ \
chức các hoạt động mừng Đảng, mừng Xuân.
(2) Văn phòng UBND Thành phố: Định kỳ hằng quý báo cáo UBND Thành phố kết quả thực hiện.
(3) Phòng Nội vụ: Tổng hợp kết quả thi đua trước ngày 15 của tháng cuối quý.
"""

REPORT = """\
THÀNH ỦY UÔNG BÍ
Số: 45-BC/TU
Uông Bí, ngày 10 tháng 4 năm 2023

BÁO CÁO
Kết quả lãnh đạo thực hiện nhiệm vụ Quý I, Phương hướng nhiệm vụ Quý II năm 2023

I. KẾT QUẢ THỰC HIỆN NHIỆM VỤ QUÝ I
1. Ủy ban nhân dân thành phố đã tổ chức hội nghị đối thoại doanh nghiệp trước ngày 15/3/2023.
2. Phòng Kinh tế đã hoàn thành việc rà soát các dự án chậm tiến độ đến hết ngày 31/3/2023.
II. NHIỆM VỤ TRỌNG TÂM QUÝ II
1. Các cấp ủy, cơ quan, đơn vị tiếp tục triển khai toàn diện các nhiệm vụ. Tổ chức sơ kết.
2. HĐND thành phố chuẩn bị và tổ chức tốt các kỳ họp. Tăng cường công tác giám sát.
3. UBND thành phố chỉ đạo triển khai hiệu quả kịch bản thu, chi ngân sách quý II.
"""


def line_of(text: str, needle: str) -> int:
    """1-based line of the first input line containing ``needle``."""
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def task_with(plan: ParsedPlan, needle: str) -> Task:
    found = [t for t in plan.tasks if needle in t.text]
    assert len(found) == 1, [t.text for t in plan.tasks]
    return found[0]


@pytest.fixture(scope="module")
def plan() -> ParsedPlan:
    return parse_text(PLAN)


def test_header_and_period(plan: ParsedPlan) -> None:
    assert plan.document.kind == "ke_hoach"
    assert plan.document.period is not None
    assert plan.document.period.end == date(2022, 12, 31)
    assert plan.warnings == ()


def test_purpose_section_gives_no_tasks(plan: ParsedPlan) -> None:
    purpose_end = line_of(PLAN, "II. NHIỆM VỤ")
    assert all(t.line > purpose_end for t in plan.tasks)
    assert not any("bám sát mục tiêu" in t.text for t in plan.tasks)
    assert not any(t.section.startswith("I.") or t.section == "I" for t in plan.tasks)


def test_task_section_gives_tasks(plan: ParsedPlan) -> None:
    assert len(plan.tasks) == 6
    assert all(t.section.startswith("II.") for t in plan.tasks)


def test_bullets_inherit_the_unit_of_their_item(plan: ParsedPlan) -> None:
    for needle in ("Rà soát kỹ các đối tượng", "Tham mưu tổ chức tiêm chủng"):
        task = task_with(plan, needle)
        assert task.lead == ("Phòng Y tế",)
        assert task.line == line_of(PLAN, needle)
    # The unit line "(1) Phòng Y tế:" alone is not a task.
    assert not any(t.text.strip(" :") in ("Phòng Y tế", "") for t in plan.tasks)
    # The next item does not inherit "Phòng Y tế".
    assert task_with(plan, "quán triệt Nghị quyết").lead == ("Phòng Tư pháp",)


def test_task_without_deadline_is_due_at_period_end(plan: ParsedPlan) -> None:
    task = task_with(plan, "Rà soát kỹ các đối tượng")
    assert task.deadlines == ()
    assert task.due == date(2022, 12, 31)
    assert task.due_kind == "period"


def test_explicit_deadline(plan: ParsedPlan) -> None:
    task = task_with(plan, "Tham mưu tổ chức tiêm chủng")
    assert task.due == date(2022, 11, 30)
    assert task.due_kind == "explicit"
    (deadline,) = task.deadlines
    assert "trước ngày 30/11/2022" in deadline.phrase
    assert deadline.line == line_of(PLAN, "30/11/2022")


def test_lead_and_support(plan: ParsedPlan) -> None:
    task = task_with(plan, "mừng Đảng, mừng Xuân")
    assert task.lead == ("Phòng Văn hóa và Thông tin",)
    assert task.support == ("Trung tâm Truyền thông và Văn hóa",)
    assert task.units == ("Phòng Văn hóa và Thông tin", "Trung tâm Truyền thông và Văn hóa")


def test_hyphen_split_word_and_lines(plan: ParsedPlan) -> None:
    """"16-\\nNQ/TU" is one word; the task keeps the lines it spans; the deadline on the third
    line of the item is reported on that line; the cited document's date is no deadline."""
    task = task_with(plan, "16-NQ/TU")
    first = line_of(PLAN, "(2) Phòng Tư pháp")
    assert (task.line, task.end_line) == (first, first + 2)
    assert [d.due for d in task.deadlines] == [date(2022, 12, 20)]
    assert task.deadlines[0].line == first + 2


def test_recurrences(plan: ParsedPlan) -> None:
    quarterly = task_with(plan, "Định kỳ hằng quý")
    assert quarterly.recurrence is not None
    assert quarterly.recurrence.freq == "quarterly"
    assert quarterly.due_kind == "period"
    last_month = task_with(plan, "tháng cuối quý")
    assert last_month.recurrence == Recurrence(
        "quarterly", "trước ngày 15 của tháng cuối quý", 15, "last")
    assert task_with(plan, "Rà soát kỹ").recurrence is None


@pytest.mark.parametrize(("text", "freq", "day", "which"), [
    ("Định kỳ hằng quý báo cáo UBND Thành phố kết quả thực hiện.", "quarterly", None, None),
    ("Định kỳ hàng quý tổ chức rà soát, sơ kết việc triển khai thực hiện.", "quarterly", None,
     None),
    ("Báo cáo kết quả trước ngày 15 của tháng cuối quý.", "quarterly", 15, "last"),
    ("Báo cáo hằng tháng về Văn phòng UBND.", "monthly", None, None),
    ("Định kỳ 6 tháng, năm báo cáo kết quả thực hiện.", "semiannual", None, None),
    ("Báo cáo trước ngày 20 hằng tháng.", "monthly", 20, None),
])
def test_find_recurrence(text: str, freq: str, day: int | None, which: str | None) -> None:
    found = find_recurrence(text)
    assert found is not None
    assert (found.freq, found.day, found.month_of_period) == (freq, day, which)
    assert found.phrase in text


@pytest.mark.parametrize("text", [
    "Thực hiện tuyển dụng mới hằng năm theo chỉ tiêu được giao.",
    "Rà soát kỹ các đối tượng thuộc diện phải tiêm vắc xin.",
])
def test_no_recurrence(text: str) -> None:
    assert find_recurrence(text) is None


def test_report_results_give_no_tasks_but_directions_do() -> None:
    plan = parse_text(REPORT)
    assert plan.document.kind == "bao_cao"
    assert plan.document.period is not None
    assert plan.document.period.end == date(2023, 6, 30)
    directions = line_of(REPORT, "II. NHIỆM VỤ TRỌNG TÂM QUÝ II")
    assert plan.tasks
    assert all(t.line > directions for t in plan.tasks)
    # Past dates in the results section are not deadlines.
    assert not any(d.due == date(2023, 3, 15) for t in plan.tasks for d in t.deadlines)
    assert task_with(plan, "kịch bản thu, chi").lead == ("UBND thành phố",)
    assert task_with(plan, "kịch bản thu, chi").due == date(2023, 6, 30)
    assert task_with(plan, "triển khai toàn diện").lead == ("Các cấp ủy, cơ quan, đơn vị",)


def test_single_sentence_numbered_item_is_a_task() -> None:
    text = REPORT.replace(
        "2. HĐND thành phố chuẩn bị và tổ chức tốt các kỳ họp. Tăng cường công tác giám sát.",
        "2. Phấn đấu kết nạp được ít nhất 50% đảng viên mới đến hết quý II năm 2023.")
    plan = parse_text(text)
    task = task_with(plan, "50% đảng viên mới")
    assert task.due == date(2023, 6, 30) and task.due_kind == "explicit"
    assert task_with(plan, "kịch bản thu, chi").section == "II.3"


def test_double_spaced_text_keeps_input_line_numbers(plan: ParsedPlan) -> None:
    """Text extracted from PDFs often has a blank line after every line: blank lines then
    mean nothing, and line numbers still point at the input lines."""
    spaced = "\n\n".join(PLAN.split("\n"))
    double = parse_text(spaced)
    assert [t.text for t in double.tasks] == [t.text for t in plan.tasks]
    assert [t.lead for t in double.tasks] == [t.lead for t in plan.tasks]
    for single, twice in zip(plan.tasks, double.tasks, strict=True):
        assert twice.line == 2 * single.line - 1
        assert twice.end_line == 2 * single.end_line - 1
        assert [d.line for d in twice.deadlines] == [2 * d.line - 1 for d in single.deadlines]
    task = task_with(double, "16-NQ/TU")
    assert task.line == line_of(spaced, "(2) Phòng Tư pháp")
    assert task.deadlines[0].line == line_of(spaced, "trước ngày 20/12/2022")


def test_every_line_number_is_an_input_line(plan: ParsedPlan) -> None:
    lines = PLAN.split("\n")
    for task in plan.tasks:
        assert 1 <= task.line <= task.end_line <= len(lines)
        assert lines[task.line - 1].strip()
        first_words = " ".join(task.text.split()[:2])
        assert first_words in " ".join(lines[task.line - 1].split())


def test_nfd_input_parses_like_nfc(tmp_path: Path, plan: ParsedPlan) -> None:
    """Text saved with decomposed accents (macOS, some editors) gives the same plan."""
    path = tmp_path / "ke_hoach_nfd.txt"
    nfd = unicodedata.normalize("NFD", PLAN)
    assert nfd != PLAN
    path.write_bytes(nfd.encode("utf-8"))
    from_file = parse_file(path)
    assert from_file.source == "ke_hoach_nfd.txt"
    got, want = from_file.to_json(), plan.to_json()
    got.pop("source"), want.pop("source")
    assert got == want


def test_to_json_shape(plan: ParsedPlan) -> None:
    out = plan.to_json()
    assert set(out) == {"source", "document", "tasks", "warnings"}
    task = out["tasks"][0]
    assert {"line", "end_line", "section", "text", "units", "lead", "support", "deadlines", "due",
            "due_kind", "recurrence", "recurrence_detail"} <= set(task)
    assert task["due"] == "2022-12-31"


def test_impossible_deadline_warns(tmp_path: Path) -> None:
    text = PLAN.replace("trước ngày 30/11/2022", "trước ngày 31/02/2023")
    plan = parse_text(text)
    task = task_with(plan, "Tham mưu tổ chức tiêm chủng")
    (deadline,) = task.deadlines
    assert deadline.due is None and deadline.warning and "31/02/2023" in deadline.warning
    assert task.due == date(2022, 12, 31) and task.due_kind == "period"
    line = line_of(text, "31/02/2023")
    assert any(w.startswith(f"Dòng {line}:") and "31/02/2023" in w for w in plan.warnings)


def test_plan_without_period_warns() -> None:
    plan = parse_text("KẾ HOẠCH\nVề công tác phòng, chống dịch\n\nI. NHIỆM VỤ\n"
                      "1. Phòng Y tế: Rà soát các đối tượng phải tiêm vắc xin.")
    assert plan.document.period is None
    assert any("thời kỳ" in w for w in plan.warnings)
    task = task_with(plan, "Rà soát")
    assert task.due is None and task.due_kind is None


# --- correspondence: công văn, thông báo, restatements (invented texts) ------------------------

CONG_VAN = """\
ỦY BAN NHÂN DÂN
TỈNH HÒA BÌNH
Số: 1452/UBND-VX
V/v triển khai tiêm bổ sung vắc xin năm 2024

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Hòa Bình, ngày 05 tháng 6 năm 2024

Kính gửi:
- Sở Y tế;
- Ủy ban nhân dân các huyện, thành phố.

Thực hiện Công văn số 2318/BYT-DP ngày 28/5/2024 của Bộ Y tế, Ủy ban nhân dân tỉnh có ý kiến \
như sau:

1. Giao Sở Y tế chủ trì, phối hợp với Sở Tài chính xây dựng kế hoạch; hoàn thành trước ngày \
20/6/2024.

2. Ủy ban nhân dân các huyện, thành phố chỉ đạo Trung tâm Y tế rà soát đối tượng, gửi danh sách \
về Sở Y tế chậm nhất ngày 15/6/2024.

3. Đề nghị các cơ quan, đơn vị báo cáo kết quả trước ngày 05-7.

Văn phòng UBND tỉnh thông báo để các cơ quan, đơn vị biết, thực hiện./.
"""


@pytest.fixture(scope="module")
def letter() -> ParsedPlan:
    return parse_text(CONG_VAN)


def test_cong_van_has_no_period(letter: ParsedPlan) -> None:
    assert letter.document.kind == "cong_van"
    assert letter.document.period is None  # "năm 2024" in the V/v line names no period
    assert letter.document.issued == date(2024, 6, 5)


def test_numbered_requests_after_an_opener(letter: ParsedPlan) -> None:
    leads = [t.lead for t in letter.tasks]
    assert ("Sở Y tế",) in leads
    task = task_with(letter, "xây dựng kế hoạch")
    assert task.support == ("Sở Tài chính",)
    assert [d.due for d in task.deadlines] == [date(2024, 6, 20)]
    # The speaker is not an assignee; the object of "chỉ đạo" is not either.
    districts = task_with(letter, "rà soát đối tượng")
    assert districts.lead == ("Ủy ban nhân dân các huyện, thành phố",)
    assert districts.due == date(2024, 6, 15)


def test_back_reference_resolves_to_the_addressees(letter: ParsedPlan) -> None:
    task = task_with(letter, "báo cáo kết quả")
    assert task.lead == ("Sở Y tế", "Ủy ban nhân dân các huyện, thành phố")
    assert task.due == date(2024, 7, 5)  # a day and month without a year: the letter's year


def test_preamble_opener_and_closing_give_no_task(letter: ParsedPlan) -> None:
    assert not any("có ý kiến" in t.text or "biết, thực hiện" in t.text for t in letter.tasks)
    assert len(letter.tasks) == 3
    assert all(t.due_kind == "explicit" for t in letter.tasks)


RESTATED = """\
Ngày 12/3/2024, UBND tỉnh Tuyên Quang ban hành Công văn số 812/UBND-ĐTXD về việc đẩy nhanh \
giải ngân vốn đầu tư công năm 2024.

Theo đó, UBND tỉnh yêu cầu các chủ đầu tư khẩn trương hoàn thiện hồ sơ thanh toán; báo cáo tiến \
độ giải ngân về Sở Kế hoạch và Đầu tư trước ngày 25/3/2024. Riêng UBND huyện Na Hang hoàn thành \
trước ngày 20/3. Đồng thời, giao Sở Tài chính tổng hợp, gửi Sở Kế hoạch và Đầu tư trước ngày \
28/3/2024 để Sở Kế hoạch và Đầu tư báo cáo UBND tỉnh trước ngày 05/4/2024.
"""


def test_restatement_reads_who_owes_each_date() -> None:
    plan = parse_text(RESTATED)
    assert plan.document.period is None
    owners = {d.due: t.lead for t in plan.tasks for d in t.deadlines}
    assert owners == {
        date(2024, 3, 25): ("các chủ đầu tư",),
        date(2024, 3, 20): ("UBND huyện Na Hang",),
        date(2024, 3, 28): ("Sở Tài chính",),
        date(2024, 4, 5): ("Sở Kế hoạch và Đầu tư",),  # the purpose clause's actor
    }
    # The narrative first paragraph (the speaker issuing the letter) is no task.
    assert all(t.line > 1 for t in plan.tasks)


def test_request_introducing_a_list_gives_its_units_to_the_items() -> None:
    plan = parse_text(
        "Kính gửi: Ủy ban nhân dân các xã, thị trấn.\n\n"
        "UBND huyện đề nghị UBND các xã, thị trấn thực hiện các nội dung sau:\n"
        "1. Thành lập Ban Chỉ đạo cấp xã trước ngày 30/8/2024.\n"
        "2. Bố trí địa điểm tập huấn.\n\n"
        "Thời gian chốt số liệu tính đến ngày 31/7/2024.")
    items = [t for t in plan.tasks if t.section in ("1", "2")]
    assert [t.lead for t in items] == [("UBND các xã, thị trấn",)] * 2
    assert items[0].deadlines[0].due == date(2024, 8, 30)


def test_numbered_items_right_after_the_addressees_are_tasks_not_addressees() -> None:
    # "1. Phòng Y tế rà soát …" opens with a unit but is an item, not another "Kính gửi" line.
    plan = parse_text(
        "Kính gửi: Phòng Y tế; UBND các xã, thị trấn.\n\n"
        "1. Phòng Y tế rà soát các cơ sở, báo cáo trước ngày 15/01/2024.\n"
        "2. UBND các xã, thị trấn lập danh sách, gửi trước ngày 10/01/2024.\n\n"
        "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nNguyễn Văn A\n")
    assert [(t.lead, t.due) for t in plan.tasks] == [
        (("Phòng Y tế",), date(2024, 1, 15)),
        (("UBND các xã, thị trấn",), date(2024, 1, 10)),
    ]


def test_addressee_lines_under_kinh_gui_are_read_as_addressees() -> None:
    plan = parse_text(
        "Kính gửi:\n- Sở Y tế;\n- Sở Tài chính.\n\n"
        "Đề nghị các đơn vị báo cáo kết quả trước ngày 05/7/2024.")
    assert [t.lead for t in plan.tasks] == [("Sở Y tế", "Sở Tài chính")]


def test_past_account_and_window_are_no_deadlines() -> None:
    plan = parse_text(
        "I. TÌNH HÌNH\nTrung tâm Y tế đã tổ chức 3 đợt chiến dịch trước ngày 30/6/2024.\n\n"
        "II. NHIỆM VỤ\n1. Phòng Y tế giám sát ổ dịch; tổ chức chiến dịch trong tháng 8/2024.\n"
        "2. UBND các xã treo cờ từ ngày 25/8/2024 đến hết ngày 03/9/2024.")
    dues = [d.due for t in plan.tasks for d in t.deadlines]
    assert dues == [date(2024, 8, 31)]


def test_deadline_label_over_the_paragraph_that_owes_it() -> None:
    plan = parse_text("Thời gian nộp hồ sơ\n\na) Trước ngày 20 tháng 2 năm 2020:\n\n"
                      "Hội đồng cơ sở nộp hồ sơ về Sở Giáo dục và Đào tạo.\n\n"
                      "b) Trước ngày 20 tháng 3 năm 2020:\n\n"
                      "Hội đồng cấp tỉnh nộp hồ sơ về Hội đồng cấp Bộ.")
    owed = {d.due: (t.lead, d.line) for t in plan.tasks for d in t.deadlines}
    assert owed == {date(2020, 2, 20): (("Hội đồng cơ sở",), 3),
                    date(2020, 3, 20): (("Hội đồng cấp tỉnh",), 7)}


def test_timetable_lines_date_their_work() -> None:
    plan = parse_text("Các mốc thời gian:\n"
                      "- Ngày 5/3/2026: Ủy ban bầu cử, Ban bầu cử giải quyết khiếu nại.\n"
                      "- Trước 25/4/2026: Bộ Xây dựng ban hành hướng dẫn.")
    owed = [(t.lead, [d.due for d in t.deadlines]) for t in plan.tasks]
    assert owed == [(("Ủy ban bầu cử", "Ban bầu cử"), [date(2026, 3, 5)]),
                    (("Bộ Xây dựng",), [date(2026, 4, 25)])]


def test_timeline_lines_date_their_work_even_when_the_page_is_double_spaced() -> None:
    plan = parse_text(
        "Dự kiến các mốc thời gian sáp nhập đơn vị hành chính cấp tỉnh:\n\n"
        "25/3/2025: Đảng ủy Chính phủ báo cáo Bộ Chính trị đề án sắp xếp.\n\n"
        "15/7/2025: Tỉnh ủy, Thành ủy (trước sáp nhập) kiện toàn tổ chức, cán bộ.\n\n"
        "31/8/2025: Quốc hội thông qua Nghị quyết sáp nhập tỉnh.\n")
    got = [(t.line, t.lead, t.due) for t in plan.tasks]
    assert got == [(3, ("Đảng ủy Chính phủ",), date(2025, 3, 25)),
                   (5, ("Tỉnh ủy", "Thành ủy"), date(2025, 7, 15)),
                   (7, ("Quốc hội",), date(2025, 8, 31))]


def test_news_item_stamp_after_a_byline_starts_the_item() -> None:
    # "Pháp luật -" / "Lê Phương – Thanh Hòa -" are the page's byline; the item starts at its
    # time stamp, and "chỉ đạo, X …" names who acts.
    plan = parse_text(
        "Pháp luật -\nLê Phương – Thanh Hòa -\n"
        "10:51, 23/03/2021 UBND tỉnh Khánh Hòa vừa ban hành văn bản số 1345/UBND-KT chỉ đạo, "
        "UBND huyện Cam Lâm phối hợp Sở Nông nghiệp và Phát triển nông thôn kiểm điểm, xử lý "
        "tình trạng phá rừng. UBND tỉnh cũng yêu cầu báo cáo kết quả về UBND tỉnh trước ngày "
        "31/3/2021.")
    assert [(t.lead, t.support) for t in plan.tasks] == [
        (("UBND huyện Cam Lâm",), ("Sở Nông nghiệp và Phát triển nông thôn",))] * 2
    assert plan.tasks[1].due == date(2021, 3, 31)


def test_proposing_an_honour_is_no_request_for_work() -> None:
    plan = parse_text(
        "Sở Nội vụ lấy ý kiến danh sách đề nghị khen thưởng cấp Nhà nước.\n"
        "Đề nghị tặng Huân chương Lao động hạng Ba cho bà Nguyễn Thị A, Giám đốc Sở Tư pháp.\n"
        "Đề nghị các cơ quan gửi ý kiến về Sở Nội vụ trước ngày 20/5/2025.")
    assert [t.line for t in plan.tasks] == [3]


def test_who_reads_the_report_is_not_given_a_task_unless_it_passes_it_on() -> None:
    plan = parse_text(
        "Các cơ quan, đơn vị liên quan khẩn trương triển khai thực hiện, nếu có khó khăn báo "
        "cáo UBND tỉnh để Chủ tịch UBND tỉnh chỉ đạo xử lý.\n\n"
        "Giao các sở, ngành xây dựng dự toán, gửi về Sở Tài chính trước ngày 10/10/2024 để Sở "
        "Tài chính tổng hợp, báo cáo UBND tỉnh trước ngày 20/10/2024.")
    leads = [t.lead for t in plan.tasks]
    assert ("Chủ tịch UBND tỉnh",) not in leads
    assert ("Sở Tài chính",) in leads


def test_a_sentence_without_units_takes_the_units_named_before_it_not_after() -> None:
    plan = parse_text(
        "Phó Chủ tịch UBND tỉnh chỉ đạo khẩn trương hoàn thành thủ tục để khởi công vào cuối "
        "năm 2021. Giao Sở Xây dựng thẩm định đồ án quy hoạch.")
    assert [t.lead for t in plan.tasks if t.lead] == [("Sở Xây dựng",)]


@pytest.mark.parametrize(("text", "lead"), [
    # A title written once before a list of bodies with the same head belongs to each.
    ("Về trách nhiệm, giao Giám đốc Sở Nội vụ, Sở Y tế, Sở Tài chính kiểm điểm, rút kinh "
     "nghiệm.", ("Giám đốc Sở Nội vụ", "Giám đốc Sở Y tế", "Giám đốc Sở Tài chính")),
    # A manner phrase between the addressee and the verb.
    ("Đề nghị các đồng chí Ban Chỉ đạo với tinh thần trách nhiệm cao nhất, tập trung thực "
     "hiện nhiệm vụ được phân công.", ("các đồng chí Ban Chỉ đạo",)),
])
def test_who_is_addressed(text: str, lead: tuple[str, ...]) -> None:
    assert [t.lead for t in parse_text(text).tasks] == [lead]


def test_a_unit_that_undergoes_is_no_actor() -> None:
    plan = parse_text("Quảng Ngãi: Huyện bị phê bình vì chậm gỡ vướng dự án.")
    assert plan.tasks == ()


def test_an_earlier_dated_letter_is_recounted_but_a_request_made_stands() -> None:
    plan = parse_text(
        "Ngày 08/6/2020, Bộ Xây dựng đã có công văn gửi Sở Xây dựng các tỉnh; Sở Quy hoạch - "
        "Kiến trúc Hà Nội về việc báo cáo, gửi về Bộ trước ngày 20/6/2020.\n\n"
        "Ngày 12/6/2020, Bộ Xây dựng đã có công văn, trong nội dung công văn yêu cầu các Sở "
        "cập nhật số liệu năm 2019.\n\n"
        "Đoàn ĐBQH tỉnh đã đề nghị Thường trực Ủy ban MTTQ tỉnh chỉ đạo chuẩn bị các điều kiện,"
        " thông báo địa điểm trước ngày 25/7/2020.")
    assert [(t.line, t.lead) for t in plan.tasks] == [(5, ("Thường trực Ủy ban MTTQ tỉnh",))]
    assert plan.tasks[0].due == date(2020, 7, 25)


def test_related_units_in_a_later_sentence_are_those_addressed_before() -> None:
    plan = parse_text(
        "Thủ tướng Chính phủ vừa có chỉ thị yêu cầu các Bộ, UBND các tỉnh thực hiện những "
        "nhiệm vụ cụ thể.\nTheo đó, các cơ quan, đơn vị liên quan xây dựng phương án, hoàn "
        "thành trong quý IV/2018.")
    assert [t.lead for t in plan.tasks] == [("các Bộ", "UBND các tỉnh")] * 2
    assert plan.tasks[1].due == date(2018, 12, 31)


def test_the_units_a_reported_letter_was_sent_to_are_its_addressees() -> None:
    plan = parse_text(
        "Sở Xây dựng vừa có văn bản số 497/SXD-PQH gửi các Sở, ngành liên quan về việc lấy ý "
        "kiến thẩm định các đồ án quy hoạch.\n\n"
        "Sở Xây dựng đề nghị các quý cơ quan có văn bản thẩm định gửi về Sở Xây dựng trước "
        "ngày 28/4/2020. Nội dung đề nghị góp ý xem tại đây.")
    assert [(t.lead, t.due) for t in plan.tasks] == [
        (("các Sở, ngành liên quan",), date(2020, 4, 28))]


def test_news_of_an_issued_document_is_no_task_of_its_issuer() -> None:
    plan = parse_text(
        "(Baoquangngai.vn)- UBND tỉnh vừa ban hành khung kế hoạch thời gian năm học 2024 - "
        "2025.\nTheo đó, học sinh tựu trường vào ngày 29/8/2024. Các cơ sở giáo dục tổ chức "
        "khai giảng vào ngày 5/9/2024.")
    assert [t.lead for t in plan.tasks] == [("Các cơ sở giáo dục",)]


def test_a_long_request_ending_in_biet_va_thuc_hien_is_no_closing_formula() -> None:
    plan = parse_text(
        "Đề nghị Ban Chấp hành các đoàn viện chủ trì và phối hợp với các liên chi hội sinh viên "
        "thông báo cụ thể, chỉ đạo các đồng chí bí thư chi đoàn quán triệt, phổ biến cho đoàn "
        "viên biết và thực hiện nghiêm túc.\n\n"
        "UBND huyện thông báo để các cơ quan, đơn vị biết, thực hiện./.")
    assert [(t.lead, t.support) for t in plan.tasks] == [
        (("Ban Chấp hành các đoàn viện",), ("các liên chi hội sinh viên",))]


def test_a_speaker_deep_in_a_sentence_still_addresses_its_request() -> None:
    plan = parse_text(
        "Kết luận hội nghị đồng chí Ngọc Kim Nam- Chủ tịch UBND huyện yêu cầu các phòng ngành "
        "tập trung rà soát các chỉ tiêu để hoàn thành trong hai tháng còn lại.\n\n"
        "Thực hiện chỉ đạo của Ủy ban nhân dân Thành phố về giao Sở Tài nguyên và Môi trường "
        "tham mưu Chương trình hành động của Thành ủy.")
    assert [t.lead for t in plan.tasks] == [("các phòng ngành",)]


def test_a_comma_between_the_speaker_and_its_request() -> None:
    plan = parse_text("Chủ tịch UBND tỉnh, Yêu cầu Cục trưởng Cục Thống kê tỉnh triển khai tổ "
                      "chức Tổng điều tra dân số và nhà ở năm 2019.")
    assert [t.lead for t in plan.tasks] == [("Cục trưởng Cục Thống kê tỉnh",)]


def test_a_bare_plural_list_refers_back_to_the_units_named_before() -> None:
    plan = parse_text(
        "UBND các huyện, thành, thị chủ động cân đối nguồn kinh phí. Trong trường hợp đặc biệt, "
        "những huyện, thành, thị không thể tự cân đối được thì báo cáo UBND tỉnh trước ngày "
        "20/01/2019.")
    assert [t.lead for t in plan.tasks] == [("UBND các huyện, thành, thị",)] * 2


def test_a_named_speaker_and_related_units_named_first() -> None:
    plan = parse_text(
        "Phát biểu kết luận cuộc họp, đồng chí Trần Ngọc Bình – Phó Chủ tịch UBND huyện yêu "
        "cầu các cơ quan, đơn vị, các ngành có liên quan và UBND các xã tiếp tục rà soát các "
        "nội dung liên quan.")
    assert [(t.lead, t.support) for t in plan.tasks] == [
        (("các cơ quan, đơn vị, các ngành có liên quan", "UBND các xã"), ())]


def test_a_byline_in_capitals_at_the_end_is_no_heading() -> None:
    plan = parse_text(
        "Bộ Kế hoạch và Đầu tư vừa có công văn gửi UBND các tỉnh đôn đốc việc lập quy hoạch.\n\n"
        "Theo đó, các tỉnh, thành phố trực thuộc Trung ương khẩn trương trình thẩm định, phê "
        "duyệt trước ngày 31-3-2020.\n\nTRIỆU TÙNG\n")
    assert [(t.lead, t.due) for t in plan.tasks] == [
        (("các tỉnh, thành phố trực thuộc Trung ương",), date(2020, 3, 31))]


def test_a_schedule_line_dates_the_action_of_its_units() -> None:
    plan = parse_text(
        "Theo lịch của Bộ GD&ĐT, chậm nhất ngày 22/7/2022, các đơn vị tổng kết công tác chấm "
        "thi.\nNgày 24/7, các Hội đồng thi công bố kết quả.\n"
        "Ngày 8/7, Bộ GD&ĐT đã tổ chức họp báo.\n")
    assert [(t.lead, t.due) for t in plan.tasks] == [
        (("các đơn vị",), date(2022, 7, 22)), (("các Hội đồng thi",), date(2022, 7, 24))]


def test_tiers_stand_for_the_bodies_named_for_them_or_for_themselves() -> None:
    plan = parse_text(
        "Sở Nội vụ đề nghị Ủy ban bầu cử các huyện, thành phố và Ủy ban bầu cử các xã, phường, "
        "thị trấn tiến hành tổng kết cuộc bầu cử.\n\n"
        "Về thời gian tổng kết: Cấp xã hoàn thành trước ngày 10/6/2021; cấp huyện hoàn thành "
        "trước ngày 14/6/2021.")
    assert [(t.lead, t.due) for t in plan.tasks][1:] == [
        (("Ủy ban bầu cử các xã, phường, thị trấn",), date(2021, 6, 10)),
        (("Ủy ban bầu cử các huyện, thành phố",), date(2021, 6, 14))]
    alone = parse_text("Thời hạn kiểm kê:\n- Cấp xã hoàn thành và báo cáo kết quả trước ngày "
                       "01/6/2015;\n- Cấp huyện hoàn thành trước ngày 15/7/2015;")
    assert [t.lead for t in alone.tasks] == [("Cấp xã",), ("Cấp huyện",)]


def test_a_back_reference_names_those_asked_not_whoever_acted_last() -> None:
    plan = parse_text(
        "Ngày 24/7/2022, các trường công bố kết quả.\n"
        "Chậm nhất ngày 28/7/2022, các đơn vị cập nhật vào Hệ thống quản lý thi.\n\n"
        "Sở Giáo dục và Đào tạo yêu cầu thực hiện các nội dung sau:\n"
        "Thứ nhất, thủ trưởng các đơn vị trường học tổ chức ôn tập.\n"
        "Thứ hai, các đơn vị tiếp tục tổ chức ôn tập cho học sinh lớp 12.")
    assert [t.lead for t in plan.tasks] == [
        ("các trường",), ("các đơn vị",), ("thủ trưởng các đơn vị trường học",),
        ("thủ trưởng các đơn vị trường học",)]


def test_a_generic_request_in_the_sentence_that_tells_of_the_letter() -> None:
    plan = parse_text(
        "Ngày 19.7, ông Lê Minh Tấn, Giám đốc Sở LĐ-TB-XH TP.HCM cho biết Sở này vừa có công "
        "văn khẩn đến UBND các quận huyện và TP.Thủ Đức đề nghị các địa phương rà soát, thống "
        "kê số liệu lao động tự do.")
    assert [t.lead for t in plan.tasks] == [("UBND các quận huyện", "TP.Thủ Đức")]


def test_a_time_before_the_addressees_of_a_request() -> None:
    """blind4 m02: "yêu cầu: từ ngày …, các Đơn vị …" — the time comes first, then a
    back-reference to the units the letter was sent to; the window's end is a date of the task."""
    plan = parse_text(
        "Ngày 16/4/2020, UBND tỉnh ban hành công văn số 1232/UBND-VP gửi các sở, ngành trực "
        "thuộc UBND tỉnh; UBND các huyện, thành phố, thị xã về việc tổ chức trực.\n\n"
        "Theo đó, Chủ tịch UBND tỉnh yêu cầu: từ ngày 30/4/2020 đến hết ngày 03/5/2020, các Đơn "
        "vị bố trí, phân công trực hợp lý; kịp thời báo cáo UBND tỉnh.")
    asked = [t for t in plan.tasks if t.lead]
    assert [t.lead for t in asked] == [
        ("các sở, ngành trực thuộc UBND tỉnh", "UBND các huyện, thành phố, thị xã")]
    assert asked[0].line == 3
