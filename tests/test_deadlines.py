"""Corpus tests for bot.plans.deadlines: every deadline form plans use, and the look-alikes
(cited documents, horizons, numbers, anniversaries) that must not count as deadlines.

Each corpus sentence marks the deadline form with [brackets]; the test removes the brackets,
runs find_deadlines() and checks that exactly one deadline is found, that its span covers the
marked form, and that its date (and grain) is the expected one. default_year is fixed to 2022,
the year of the document's period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest

from bot.plans.deadlines import (
    Found,
    checked_date,
    find_deadlines,
    month_end,
    quarter_end,
    quarter_number,
)
from bot.text import fold

DEFAULT_YEAR = 2022


@dataclass(frozen=True)
class Due:
    """The expected answer for a form: the last day and what the phrase names."""

    day: date
    grain: str


@dataclass(frozen=True)
class Impossible:
    """The form names a date that does not exist: due is None and a warning shows ``shown``."""

    shown: str


@dataclass(frozen=True)
class Bug:
    """A corpus sentence the current parser gets wrong (run as a strict xfail)."""

    sentence: str
    reason: str


CORPUS: list[tuple[Due | Impossible, list[str | Bug]]] = [
    (Due(date(2021, 9, 5), "day"), [
        "Hoàn thành việc rà soát, cập nhật dữ liệu [trước ngày 05/9/2021].",
        "Các đơn vị gửi báo cáo về Văn phòng UBND thành phố [trước ngày 5/9/2021] để tổng hợp.",
    ]),
    (Due(date(2022, 12, 31), "day"), [
        "Giải ngân 100% kế hoạch vốn bố trí đầu năm [đến hết ngày 31/12/2022].",
        "Thời gian thực hiện: từ ngày 01/10/2022 [đến ngày 31/12/2022].",
    ]),
    (Due(date(2023, 12, 15), "day"), [
        "Báo cáo kết quả thực hiện về UBND thành phố [chậm nhất ngày 15/12/2023].",
        "Các phòng gửi báo cáo [chậm nhất là ngày 15 tháng 12 năm 2023].",
        "Hoàn thành việc thẩm định hồ sơ [trước ngày 15 tháng 12 năm 2023].",
    ]),
    (Due(date(2022, 12, 20), "day"), [
        "Gửi hồ sơ đề nghị khen thưởng về Phòng Nội vụ [trước 14 giờ ngày 20/12/2022].",
        "Nộp báo cáo [trước 17h00 ngày 20/12/2022] qua hệ thống quản lý văn bản.",
        "Nộp hồ sơ dự thầu [không quá ngày 20/12/2022].",
    ]),
    (Due(date(2022, 12, 15), "day"), [
        "Báo cáo UBND thành phố [trước ngày 15/12/2022] theo Công văn số 12/UBND ngày "
        "01/12/2022.",
        "Tổng hợp danh sách, báo cáo [trước ngày 15.12.2022].",
        "Tổng hợp danh sách, báo cáo [trước ngày 15-12-2022].",
        "GỬI BÁO CÁO [TRƯỚC NGÀY 15/12/2022].",
        # No year: the year of the document's period.
        "Các đơn vị báo cáo kết quả [trước ngày 15/12] để tổng hợp.",
    ]),
    (Due(date(2022, 10, 10), "day"), [
        "[Hạn chót là ngày 10/10/2022] đối với hồ sơ đăng ký.",
    ]),
    (Due(date(2021, 1, 31), "month"), [
        "Xây dựng kế hoạch cụ thể để triển khai thực hiện Nghị quyết, hoàn thành "
        "[trong tháng 01/2021].",
    ]),
    (Due(date(2022, 6, 30), "month"), [
        # No year: the year of the document's period.
        "Tổ chức hội nghị sơ kết công tác dân vận [trong tháng 6].",
    ]),
    (Due(date(2022, 12, 31), "month"), [
        "Di dời xong các trường hợp nuôi trồng thủy sản [đến hết tháng 12/2022].",
    ]),
    (Due(date(2023, 5, 31), "month"), [
        # "trước tháng 6/2023" is before June starts.
        "Trình phê duyệt đồ án quy hoạch phân khu [trước tháng 6/2023].",
        "[Hoàn thành trước tháng 6/2023] việc phê duyệt đồ án.",
    ]),
    (Due(date(2023, 6, 30), "quarter"), [
        "Kết nạp được ít nhất 50% đảng viên mới theo kế hoạch [đến hết quý II năm 2023].",
        "Phấn đấu giải ngân vốn đầu tư công [hết quý II năm 2023].",
        "Tổ chức Đại hội chi bộ [trong Quý 2/2023].",
        # "trước quý III năm 2023" is before the third quarter starts.
        "Bàn giao mặt bằng cho nhà đầu tư [trước quý III năm 2023].",
        "[Hoàn thành trước quý III năm 2023] việc bàn giao mặt bằng.",
    ]),
    (Due(date(2022, 9, 30), "quarter"), [
        "Hoàn thành giải phóng mặt bằng dự án [đến hết Quý III/2022].",
        "Khởi công xây dựng trụ sở làm việc [vào quý III năm 2022].",
    ]),
    (Due(date(2022, 12, 31), "quarter"), [
        # No year: the year of the document's period.
        "Tổ chức kiểm tra việc thực hiện quy chế dân chủ [trong quý IV].",
        "Tổ chức đối thoại với doanh nghiệp [trong quý IV năm 2022].",
    ]),
    (Due(date(2023, 6, 30), "half"), [
        "Hoàn thành đầu tư hạ tầng khu tái định cư [trong 6 tháng đầu năm 2023].",
    ]),
    (Due(date(2022, 12, 31), "year"), [
        "Di dời các cơ sở tiểu thủ công nghiệp gây ô nhiễm ra khỏi khu dân cư [hết năm 2022].",
        "[Đến hết năm 2022], di dời các cơ sở tiểu thủ công nghiệp gây ô nhiễm.",
        "Hoàn thành xử lý dứt điểm các tồn tại, vướng mắc [đến hết năm 2022].",
        "[Năm 2022], phấn đấu tốc độ tăng trưởng kinh tế đạt trên 12%.",
        "[Phải hoàn thành trước năm 2023] việc cấp giấy chứng nhận quyền sử dụng đất.",
    ]),
    (Due(date(2023, 12, 31), "year"), [
        # A target form: the year of "đạt chuẩn ..." is the deadline.
        "Phấn đấu xã Tân Việt đạt chuẩn nông thôn mới kiểu mẫu [năm 2023].",
        "Hoàn thành đầu tư xây dựng hạng mục Lầu Trống, Đền Cửa Ông [trong năm 2023].",
    ]),
    (Impossible("31/02/2023"), [
        "Hoàn thành việc kiểm kê tài sản [trước ngày 31/02/2023].",
        "Hoàn thành việc kiểm kê tài sản [trước ngày 31 tháng 02 năm 2023].",
    ]),
    (Impossible("31/04/2023"), [
        "Gửi báo cáo tổng kết [trước ngày 31/4/2023].",
    ]),
]

NEGATIVE = [
    # Cited documents: the date is the issue date.
    "Thực hiện Kế hoạch số 169/KH-UBND ngày 09/7/2021 của UBND Thành phố về phát triển du lịch.",
    "Tiếp tục quán triệt Nghị quyết số 16-NQ/TU ngày 09/5/2019 của Ban Thường vụ Tỉnh ủy.",
    "Triển khai Quyết định số 2722/QĐ-UBND ngày 23/9/2022 của UBND tỉnh về kiện toàn tổ chức.",
    "Trọng tâm là Nghị quyết số 12-NQ/TU, ngày 28/11/2022 của Tỉnh ủy về nhiệm vụ năm 2023.",
    "Tiếp tục thực hiện Chỉ thị số 05-CT/TW ngày 15/5/2016 của Bộ Chính trị.",
    # Horizons in the names of strategies and plans.
    "Thực hiện Chiến lược phát triển giai đoạn 2021-2025, định hướng đến năm 2030.",
    "Lập quy hoạch tỉnh thời kỳ 2021-2030, tầm nhìn đến năm 2050.",
    "Bám sát các sở, ban, ngành của tỉnh trong hoàn thiện Quy hoạch chung thành phố đến năm "
    "2040 và các quy hoạch phân khu.",
    "Đại hội Đảng bộ thành phố lần thứ XX, nhiệm kỳ 2020-2025.",
    # Percentages and numbers.
    "Tỷ lệ hộ gia đình sử dụng nước sạch đạt 45% trở lên.",
    "Tổng thu ngân sách trên địa bàn đạt 13.681 tỷ đồng.",
    "Lập quy hoạch chi tiết tỉ lệ 1/500 khu dân cư Cẩm Trung.",
    "GRDP cả năm ước đạt 10,01%, thu hút vốn FDI đạt ít nhất 1,5 tỷ USD.",
    # Anniversaries and past events.
    "Tổ chức các hoạt động kỷ niệm 60 năm Ngày thành lập tỉnh (30/10/1963 - 30/10/2023).",
    "Hoàn thành 100% chỉ tiêu giao quân năm 2022.",
    "Tuyên truyền các sự kiện quan trọng năm 2021 của đất nước.",
    "Nhiệm vụ quan trọng năm 2023 là phục hồi ngành du lịch.",
    "Tổ chức chương trình nghệ thuật vào buổi tối ngày 20/12/2022.",
    "Tết Nguyên đán Quý Mão 2023 diễn ra an toàn.",
    "Thực hiện Kế hoạch phát triển kinh tế - xã hội 5 năm 2021-2025.",
]

# (sentence, exact phrase expected for its single deadline)
SPANS = [
    ("Hoàn thành việc rà soát trước ngày 05/9/2021.", "trước ngày 05/9/2021"),
    ("Giải ngân vốn đến hết ngày 31/12/2022.", "đến hết ngày 31/12/2022"),
    ("Gửi hồ sơ về Văn phòng trước 14 giờ ngày 20/12/2022.", "trước 14 giờ ngày 20/12/2022"),
    ("Tổ chức hội nghị trong tháng 01/2021.", "trong tháng 01/2021"),
    ("Kết nạp đảng viên mới đến hết quý II năm 2023.", "đến hết quý II năm 2023"),
    ("Di dời các cơ sở gây ô nhiễm, đến hết Quý III/2022.", "đến hết Quý III/2022"),
    ("Năm 2022, phấn đấu thu ngân sách đạt 100% dự toán.", "Năm 2022"),
]


def _id(text: str) -> str:
    """An ASCII test id (pytest escapes non-ASCII ids into unreadable \\u sequences)."""
    return fold(text.replace("[", "").replace("]", ""))[:60]


def _flatten() -> list:
    cases = []
    for expected, forms in CORPUS:
        for form in forms:
            if isinstance(form, Bug):
                cases.append(pytest.param(form.sentence, expected, marks=pytest.mark.xfail(
                    strict=True, reason=form.reason), id=_id(form.sentence)))
            else:
                cases.append(pytest.param(form, expected, id=_id(form)))
    return cases


def _unmark(marked: str) -> tuple[str, int, int]:
    """Remove the [brackets] and return (text, start, end) of the marked form."""
    m = re.search(r"\[(.+?)\]", marked)
    assert m, f"corpus sentence without [form]: {marked}"
    text = marked[:m.start()] + m.group(1) + marked[m.end():]
    return text, m.start(), m.start() + len(m.group(1))


@pytest.mark.parametrize(("marked", "expected"), _flatten())
def test_corpus(marked: str, expected: Due | Impossible) -> None:
    text, start, end = _unmark(marked)
    found = find_deadlines(text, default_year=DEFAULT_YEAR)
    assert len(found) == 1, [(text[f.start:f.end], f.due) for f in found]
    f = found[0]
    assert f.start <= start and f.end >= end, (text[f.start:f.end], text[start:end])
    # The span stays near the form: at most a verb before the cue ("hoàn thành trước ...").
    assert start - f.start <= 20 and f.end - end <= 2, text[f.start:f.end]
    if isinstance(expected, Impossible):
        assert f.due is None
        assert f.warning and expected.shown in f.warning
        assert "không tồn tại" in f.warning
    else:
        assert f.due == expected.day
        assert f.grain == expected.grain
        assert f.warning is None


@pytest.mark.parametrize("text", NEGATIVE, ids=[_id(t) for t in NEGATIVE])
def test_negative(text: str) -> None:
    found = find_deadlines(text, default_year=DEFAULT_YEAR)
    assert found == [], [(text[f.start:f.end], f.due) for f in found]


@pytest.mark.parametrize(("text", "phrase"), SPANS, ids=[_id(s) for _, s in SPANS])
def test_phrase_span(text: str, phrase: str) -> None:
    (f,) = find_deadlines(text, default_year=DEFAULT_YEAR)
    assert text[f.start:f.end] == phrase


def test_corpus_sentences_are_well_formed() -> None:
    """Every corpus entry marks exactly one form (a typo would silently test nothing)."""
    for _, forms in CORPUS:
        for form in forms:
            sentence = form.sentence if isinstance(form, Bug) else form
            assert sentence.count("[") == 1 and sentence.count("]") == 1, sentence


def test_no_year_and_no_default_gives_nothing() -> None:
    """Without a document year, "trong quý IV" and "trước ngày 15/12" cannot be dated."""
    assert find_deadlines("Tổ chức kiểm tra trong quý IV.", default_year=None) == []
    assert find_deadlines("Báo cáo trước ngày 15/12.", default_year=None) == []
    # A full date does not need the document year.
    (f,) = find_deadlines("Báo cáo trước ngày 15/12/2022.", default_year=None)
    assert f.due == date(2022, 12, 15)


def test_default_year_is_used() -> None:
    (f,) = find_deadlines("Tổ chức kiểm tra trong quý IV.", default_year=2024)
    assert f.due == date(2024, 12, 31)
    (f,) = find_deadlines("Hoàn thành trong tháng 2.", default_year=2024)
    assert f.due == date(2024, 2, 29)  # leap year


def test_several_deadlines_in_order() -> None:
    text = ("Hoàn thành phương án trước ngày 15/11/2022; tổ chức thực hiện đến hết ngày "
            "31/12/2022.")
    found = find_deadlines(text, default_year=DEFAULT_YEAR)
    assert [f.due for f in found] == [date(2022, 11, 15), date(2022, 12, 31)]
    assert all(isinstance(f, Found) for f in found)
    assert found[0].end <= found[1].start


@pytest.mark.parametrize(("token", "number"), [
    ("I", 1), ("ii", 2), ("III", 3), ("iv", 4), ("4", 4), ("hai", 2), ("tu", 4), ("5", None),
])
def test_quarter_number(token: str, number: int | None) -> None:
    assert quarter_number(token) == number


def test_period_ends() -> None:
    assert month_end(2024, 2) == date(2024, 2, 29)
    assert month_end(2023, 2) == date(2023, 2, 28)
    assert quarter_end(2023, 2) == date(2023, 6, 30)
    assert quarter_end(2022, 4) == date(2022, 12, 31)


@pytest.mark.parametrize(("ymd", "shown"), [
    ((2023, 2, 31), "31/02/2023"), ((2023, 4, 31), "31/04/2023"), ((2023, 13, 1), "01/13/2023"),
])
def test_checked_date_warns_in_vietnamese(ymd: tuple[int, int, int], shown: str) -> None:
    due, warning = checked_date(*ymd)
    assert due is None
    assert warning and shown in warning and "không tồn tại" in warning


def test_checked_date_valid() -> None:
    assert checked_date(2024, 2, 29) == (date(2024, 2, 29), None)
