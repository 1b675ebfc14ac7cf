"""Tests for bot.plans.header: kind, number, issue date, issuer, title and directed period, on
small synthetic headers and on the sample plans (against the gold answers in tests/gold)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.models import Period
from bot.plans import parse_file
from bot.plans.header import directed_period, parse_header
from bot.plans.source import SourceLine
from bot.text import fold

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "data" / "samples").glob("*.txt"))
GOLD = ROOT / "tests" / "gold"

UBND_PLAN = """\
ỦY BAN NHÂN DÂN
THÀNH PHỐ CẨM PHẢ
Số: 169/KH-UBND
Cẩm Phả, ngày 05 tháng 10 năm 2022

KẾ HOẠCH
Thực hiện nhiệm vụ trọng tâm Quý IV năm 2022

I. MỤC ĐÍCH, YÊU CẦU
- Quán triệt các nhiệm vụ, giải pháp."""

REPORT = """\
THÀNH ỦY UÔNG BÍ
Số: 45-BC/TU
Uông Bí, ngày 10 tháng 4 năm 2023

BÁO CÁO
Kết quả lãnh đạo thực hiện nhiệm vụ Quý I, Phương hướng nhiệm vụ Quý II năm 2023

I. KẾT QUẢ THỰC HIỆN NHIỆM VỤ QUÝ I"""

RESOLUTION = """\
THỊ ỦY ĐÔNG TRIỀU
Số 09 - NQ/TU
Đông Triều, ngày 17 tháng 12 năm 2021

NGHỊ QUYẾT
CỦA BAN CHẤP HÀNH ĐẢNG BỘ THỊ XÃ
về phương hướng, nhiệm vụ năm 2022
-----
I- MỤC TIÊU VÀ CÁC CHỈ TIÊU CHỦ YẾU"""

# A resolution whose title is followed, after one blank line, by a short opening paragraph.
RESOLUTION_NO_RULE = """\
THỊ ỦY ĐÔNG TRIỀU
Số: 09-NQ/TU
Đông Triều, ngày 17 tháng 12 năm 2021

NGHỊ QUYẾT
về phương hướng, nhiệm vụ năm 2022

Năm 2022, năm đầu thực hiện thời kỳ ổn định ngân sách 2022 - 2025.
I- MỤC TIÊU VÀ CÁC CHỈ TIÊU CHỦ YẾU"""


def lines(text: str) -> list[SourceLine]:
    return [SourceLine(i, t) for i, t in enumerate(text.split("\n"), start=1)]


def test_ubnd_plan() -> None:
    src = lines(UBND_PLAN)
    info, body = parse_header(src)
    assert info.kind == "ke_hoach"
    assert info.number == "169/KH-UBND"
    assert info.issued == date(2022, 10, 5)
    assert info.issuer is not None and fold(info.issuer) == "uy ban nhan dan thanh pho cam pha"
    assert info.locality == "Cẩm Phả"
    assert info.title == "Thực hiện nhiệm vụ trọng tâm Quý IV năm 2022"
    assert info.period == Period("Quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31))
    # The body starts at the first heading, not inside the title.
    assert src[body].text.startswith("I. MỤC ĐÍCH") or not src[body].text.strip()
    assert all("MỤC ĐÍCH" not in ln.text for ln in src[:body])


def test_report_directs_the_next_quarter() -> None:
    """A report on Q1 results that sets tasks for Q2 directs Q2."""
    info, _ = parse_header(lines(REPORT))
    assert info.kind == "bao_cao"
    assert info.number == "45-BC/TU"
    assert info.issued == date(2023, 4, 10)
    assert info.issuer == "Thành ủy Uông Bí"
    assert info.period is not None
    assert (info.period.start, info.period.end) == (date(2023, 4, 1), date(2023, 6, 30))


def test_resolution_year_and_spaced_number() -> None:
    info, _ = parse_header(lines(RESOLUTION))
    assert info.kind == "nghi_quyet"
    assert info.number == "09-NQ/TU"  # "Số 09 - NQ/TU" normalised
    assert info.issued == date(2021, 12, 17)
    assert info.issuer == "Thị ủy Đông Triều"
    assert info.locality == "Đông Triều"
    assert info.period == Period("năm 2022", date(2022, 1, 1), date(2022, 12, 31))
    assert info.title is not None and info.title.endswith("về phương hướng, nhiệm vụ năm 2022")


def test_title_stops_at_the_blank_line_before_the_body() -> None:
    src = lines(RESOLUTION_NO_RULE)
    info, body = parse_header(src)
    assert info.title == "về phương hướng, nhiệm vụ năm 2022"
    assert src[body].text.startswith("Năm 2022") or not src[body].text.strip()


def test_kind_from_number_when_no_kind_line() -> None:
    """PDF text may lose the kind line; the number "…/KH-…" still says it is a plan."""
    info, _ = parse_header(lines("ỦY BAN NHÂN DÂN\nSố: 12/KH-UBND\nNội dung không rõ."))
    assert info.kind == "ke_hoach"
    assert info.number == "12/KH-UBND"


def test_no_header_at_all() -> None:
    info, body = parse_header(lines("Một dòng chữ bất kỳ.\nDòng thứ hai."))
    assert info.kind == "other"
    assert info.number is None and info.issued is None and info.period is None
    assert body == 0


def test_impossible_issue_date_is_dropped() -> None:
    text = ("Số: 12/KH-UBND\nHạ Long, ngày 31 tháng 02 năm 2023\n\nKẾ HOẠCH\n"
            "Thực hiện nhiệm vụ năm 2023")
    info, _ = parse_header(lines(text))
    assert info.issued is None
    assert info.period is not None and info.period.end == date(2023, 12, 31)


@pytest.mark.parametrize(("title", "default_year", "label", "start", "end"), [
    ("Thực hiện nhiệm vụ trọng tâm Quý IV năm 2022", None,
     "Quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31)),
    ("Kết quả lãnh đạo thực hiện nhiệm vụ Quý I, Phương hướng nhiệm vụ Quý II năm 2023", None,
     "Quý II năm 2023", date(2023, 4, 1), date(2023, 6, 30)),
    ("về kết quả công tác 9 tháng đầu năm, phương hướng, nhiệm vụ trọng tâm Quý IV năm 2022",
     None, "Quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31)),
    ("về phương hướng, nhiệm vụ năm 2022", None, "năm 2022", date(2022, 1, 1),
     date(2022, 12, 31)),
    ("về nhiệm vụ 6 tháng cuối năm 2023", None, "6 tháng cuối năm 2023", date(2023, 7, 1),
     date(2023, 12, 31)),
    ("về nhiệm vụ 6 tháng đầu năm 2023", None, "6 tháng đầu năm 2023", date(2023, 1, 1),
     date(2023, 6, 30)),
    ("về nhiệm vụ trọng tâm tháng 10/2022", None, "tháng 10/2022", date(2022, 10, 1),
     date(2022, 10, 31)),
    ("thực hiện Kế hoạch phát triển kinh tế - xã hội giai đoạn 2021-2025", None,
     "giai đoạn 2021-2025", date(2021, 1, 1), date(2025, 12, 31)),
    ("Nhiệm vụ trọng tâm quý III", 2022, "Quý III năm 2022", date(2022, 7, 1),
     date(2022, 9, 30)),
])
def test_directed_period(title: str, default_year: int | None, label: str, start: date,
                         end: date) -> None:
    assert directed_period(title, default_year) == Period(label, start, end)


@pytest.mark.parametrize("title", ["Về công tác phòng, chống dịch", "Nhiệm vụ trọng tâm quý III"])
def test_directed_period_none(title: str) -> None:
    """No period written (and, for a bare quarter, no year to complete it)."""
    assert directed_period(title, None) is None


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_samples_match_gold(sample: Path) -> None:
    gold = json.loads((GOLD / f"{sample.stem}.json").read_text(encoding="utf-8"))
    info = parse_file(sample).document
    assert info.kind == gold["kind"]
    assert info.period is not None
    assert info.period.end.isoformat() == gold["period"]["end"]
    assert info.period.start.isoformat() == gold["period"]["start"]


def test_there_are_five_samples() -> None:
    assert len(SAMPLES) == 5
