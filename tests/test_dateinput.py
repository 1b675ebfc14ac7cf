"""Tests for bot.dateinput: free Vietnamese date/time text typed in chat."""

from __future__ import annotations

import os
import subprocess
import sys
import time as time_module
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.dateinput import format_date, format_datetime, parse_user_date, parse_user_datetime
from bot.errors import BotError, DateInputError

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2022, 12, 20, 9, 15, tzinfo=VN)  # a Tuesday
ROOT = Path(__file__).resolve().parents[1]

# phrase -> expected "HH:MM dd/mm/yyyy" with NOW = Tuesday 20/12/2022 09:15, default time 08:00
DATETIME_CASES = [
    # absolute dates
    ("15/1/2023", "08:00 15/01/2023"),
    ("15-01-2023", "08:00 15/01/2023"),
    ("15.1.2023", "08:00 15/01/2023"),
    ("15/1/23", "08:00 15/01/2023"),
    ("15/1", "08:00 15/01/2023"),  # already past this year -> next year
    ("25/12", "08:00 25/12/2022"),  # still ahead this year
    ("5/6", "08:00 05/06/2023"),  # 5 June, never 6 May
    ("ngày 15 tháng 1 năm 2023", "08:00 15/01/2023"),
    ("15 tháng 1", "08:00 15/01/2023"),
    ("ngay 15 thang 1 nam 2023", "08:00 15/01/2023"),
    ("20 tháng sáu", "08:00 20/06/2023"),  # dateparser says 20 January
    ("20 tháng 6 năm sau", "08:00 20/06/2023"),
    ("ngày 15/1", "08:00 15/01/2023"),
    ("ngày 25", "08:00 25/12/2022"),
    ("ngày 3 tháng sau", "08:00 03/01/2023"),
    ("2023-06-05", "08:00 05/06/2023"),
    ("20 thg 6", "08:00 20/06/2023"),
    ("29/2", "08:00 29/02/2024"),  # next 29 February that exists
    ("hạn chót 30/12", "08:00 30/12/2022"),
    ("đến hết ngày 31/12/2022", "08:00 31/12/2022"),
    # absolute dates with a time
    ("20/6 lúc 14:00", "14:00 20/06/2023"),
    ("14h30 ngày 20/6", "14:30 20/06/2023"),
    ("25/12 lúc 14:00", "14:00 25/12/2022"),
    ("17:00 20/6/2025", "17:00 20/06/2025"),
    ("20/6/2025 17h", "17:00 20/06/2025"),
    ("20/6 - 14:00", "14:00 20/06/2023"),
    ("thứ hai, 26/12/2022", "08:00 26/12/2022"),  # weekday agrees with the date
    # relative days
    ("hôm nay", "08:00 20/12/2022"),
    ("ngày mai", "08:00 21/12/2022"),
    ("mai", "08:00 21/12/2022"),
    ("ngày kia", "08:00 22/12/2022"),
    ("ngày mốt", "08:00 22/12/2022"),
    ("hôm qua", "08:00 19/12/2022"),
    ("hôm kia", "08:00 18/12/2022"),
    ("3 ngày nữa", "08:00 23/12/2022"),
    ("sau 3 ngày", "08:00 23/12/2022"),
    ("hai ngày nữa", "08:00 22/12/2022"),
    ("3 ngày trước", "08:00 17/12/2022"),
    ("2 tuần nữa", "08:00 03/01/2023"),
    ("sau 2 tuần", "08:00 03/01/2023"),
    ("một tuần nữa", "08:00 27/12/2022"),
    ("1 tháng nữa", "08:00 20/01/2023"),
    ("3 tháng sau", "08:00 20/03/2023"),
    ("3 ngày nữa lúc 9h", "09:00 23/12/2022"),
    # weeks and weekdays
    ("tuần tới", "08:00 26/12/2022"),
    ("tuần sau", "08:00 26/12/2022"),
    ("tuần trước", "08:00 12/12/2022"),
    ("thứ hai tuần sau", "08:00 26/12/2022"),
    ("thu hai tuan sau", "08:00 26/12/2022"),
    ("THỨ HAI TUẦN SAU", "08:00 26/12/2022"),
    ("thứ 6 tuần này", "08:00 23/12/2022"),
    ("thứ hai tuần trước", "08:00 12/12/2022"),
    ("CN tuần sau", "08:00 01/01/2023"),
    ("chủ nhật", "08:00 25/12/2022"),
    ("thứ năm", "08:00 22/12/2022"),
    ("thứ Hai", "08:00 26/12/2022"),
    ("thứ ba", "08:00 27/12/2022"),  # today is Tuesday: a bare weekday is the next one
    ("thứ ba này", "08:00 20/12/2022"),
    ("thứ bảy", "08:00 24/12/2022"),
    ("t5", "08:00 22/12/2022"),
    ("thu sau toi", "08:00 23/12/2022"),  # unaccented "tới": the coming Friday
    ("cuối tuần", "08:00 23/12/2022"),  # Friday, the last working day
    ("cuối tuần sau", "08:00 30/12/2022"),
    ("đầu tuần sau", "08:00 26/12/2022"),
    ("giữa tuần", "08:00 21/12/2022"),
    ("tuần này", "08:00 23/12/2022"),
    # months, quarters, years
    ("cuối tháng", "08:00 31/12/2022"),
    ("cuối tháng này", "08:00 31/12/2022"),
    ("cuối tháng sau", "08:00 31/01/2023"),
    ("đầu tháng sau", "08:00 01/01/2023"),
    ("giữa tháng", "08:00 15/01/2023"),
    ("tháng sau", "08:00 20/01/2023"),
    ("trong tháng này", "08:00 31/12/2022"),
    ("tháng 6/2025", "08:00 30/06/2025"),
    ("tháng sáu", "08:00 30/06/2023"),
    ("tháng giêng năm sau", "08:00 31/01/2023"),
    ("cuối tháng 2 năm 2024", "08:00 29/02/2024"),
    ("cuối năm", "08:00 31/12/2022"),
    ("năm sau", "08:00 20/12/2023"),
    ("sang năm", "08:00 20/12/2023"),
    ("đầu năm sau", "08:00 01/01/2023"),
    ("năm 2023", "08:00 31/12/2023"),
    ("cuối quý", "08:00 31/12/2022"),
    ("quý sau", "08:00 31/03/2023"),
    ("đầu quý sau", "08:00 01/01/2023"),
    ("quý IV", "08:00 31/12/2022"),
    ("cuối quý 1 năm 2023", "08:00 31/03/2023"),
    # times of day
    ("8 giờ", "08:00 21/12/2022"),  # 08:00 today is past -> tomorrow
    ("8h", "08:00 21/12/2022"),
    ("8h30", "08:30 21/12/2022"),
    ("08:30", "08:30 21/12/2022"),
    ("14 giờ 30", "14:30 20/12/2022"),
    ("14 giờ 30 phút", "14:30 20/12/2022"),
    ("8 giờ sáng", "08:00 21/12/2022"),
    ("2 giờ chiều", "14:00 20/12/2022"),
    ("một giờ chiều", "13:00 20/12/2022"),
    ("8 giờ tối", "20:00 20/12/2022"),
    ("11 giờ đêm", "23:00 20/12/2022"),
    ("12 giờ trưa", "12:00 20/12/2022"),
    ("8 giờ rưỡi", "08:30 21/12/2022"),
    ("8 giờ kém 15", "07:45 21/12/2022"),
    ("lúc 8 giờ", "08:00 21/12/2022"),
    ("lúc 8.30", "08:30 21/12/2022"),
    ("sáng mai", "08:00 21/12/2022"),
    ("chiều mai", "14:00 21/12/2022"),
    ("tối nay", "19:00 20/12/2022"),
    ("thứ hai tối", "19:00 26/12/2022"),  # accented "tối" is the evening, not "tới"
    ("8 giờ sáng mai", "08:00 21/12/2022"),
    ("ngày mai lúc 8 giờ", "08:00 21/12/2022"),  # dateparser says 18:00
    ("ngay mai luc 8 gio", "08:00 21/12/2022"),
    ("8h ngày mai", "08:00 21/12/2022"),
    ("hôm nay lúc 8h", "08:00 20/12/2022"),  # an explicit day keeps a past time
    ("9h T2 tuần sau", "09:00 26/12/2022"),
    ("chiều thứ hai tuần sau lúc 3 giờ", "15:00 26/12/2022"),
    # counted from now
    ("2 tiếng nữa", "11:15 20/12/2022"),
    ("nửa tiếng nữa", "09:45 20/12/2022"),
    ("30 phút nữa", "09:45 20/12/2022"),
    ("sau 1 tiếng rưỡi", "10:45 20/12/2022"),
    ("bây giờ", "09:15 20/12/2022"),
    # beyond the grammar: handled by the dateparser fallback
    ("2023-06-20T10:00", "10:00 20/06/2023"),
    ("10:00 UTC 20/6/2023", "17:00 20/06/2023"),  # converted to the zone of now
    ("thứ Hai 10:00 UTC", "17:00 26/12/2022"),
]


@pytest.mark.parametrize(("text", "expected"), DATETIME_CASES)
def test_parse_user_datetime(text: str, expected: str) -> None:
    result = parse_user_datetime(text, NOW)
    assert format_datetime(result) == expected
    assert result.tzinfo is VN


def test_table_is_big_enough() -> None:
    assert len({text for text, _ in DATETIME_CASES}) == len(DATETIME_CASES) >= 50


DATE_CASES = [
    ("20/6", date(2023, 6, 20)),
    ("17:00 20/6/2025", date(2025, 6, 20)),  # a time is ignored
    ("31/12/2021", date(2021, 12, 31)),  # past dates are returned, the caller decides
    ("hôm qua", date(2022, 12, 19)),
    ("ngày mai", date(2022, 12, 21)),
    ("thứ sáu tuần sau", date(2022, 12, 30)),
    ("cuối tháng sau", date(2023, 1, 31)),
    ("cuoi quy", date(2022, 12, 31)),
    ("2 tuần nữa", date(2023, 1, 3)),
    ("sáng mai", date(2022, 12, 21)),
]


@pytest.mark.parametrize(("text", "expected"), DATE_CASES)
def test_parse_user_date(text: str, expected: date) -> None:
    assert parse_user_date(text, NOW.date()) == expected


@pytest.mark.parametrize(("now", "text", "expected"), [
    # Saturday 24/12/2022: this week's Friday is past
    (datetime(2022, 12, 24, 10, 0, tzinfo=VN), "cuối tuần", "08:00 30/12/2022"),
    (datetime(2022, 12, 24, 10, 0, tzinfo=VN), "thứ bảy", "08:00 31/12/2022"),
    (datetime(2022, 12, 24, 10, 0, tzinfo=VN), "thứ 7 này", "08:00 24/12/2022"),
    (datetime(2022, 12, 24, 10, 0, tzinfo=VN), "tuần sau", "08:00 26/12/2022"),
    # 31 January: a month on is clamped to the end of February
    (datetime(2023, 1, 31, 7, 0, tzinfo=VN), "tháng sau", "08:00 28/02/2023"),
    (datetime(2023, 1, 31, 7, 0, tzinfo=VN), "1 tháng nữa", "08:00 28/02/2023"),
    (datetime(2023, 1, 31, 7, 0, tzinfo=VN), "8 giờ", "08:00 31/01/2023"),
    (datetime(2023, 1, 31, 7, 0, tzinfo=VN), "cuối quý", "08:00 31/03/2023"),
    (datetime(2023, 1, 31, 7, 0, tzinfo=VN), "ngày 30", "08:00 30/03/2023"),  # Feb has none
    (datetime(2024, 2, 29, 7, 0, tzinfo=VN), "năm sau", "08:00 28/02/2025"),
    (datetime(2024, 2, 29, 23, 50, tzinfo=VN), "30 phút nữa", "00:20 01/03/2024"),
])
def test_other_days(now: datetime, text: str, expected: str) -> None:
    assert format_datetime(parse_user_datetime(text, now)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("15/1", "08:00 15/01/2022"),
    ("8 giờ", "08:00 20/12/2022"),
    ("ngày 15", "08:00 15/12/2022"),
    ("đầu tháng", "08:00 01/12/2022"),
    ("tháng 3", "08:00 31/03/2022"),
    ("thứ năm", "08:00 22/12/2022"),  # a bare weekday is always the next one
])
def test_without_prefer_future(text: str, expected: str) -> None:
    assert format_datetime(parse_user_datetime(text, NOW, prefer_future=False)) == expected


def test_default_time_fills_only_missing_time() -> None:
    late = time(17, 0)
    assert parse_user_datetime("ngày mai", NOW, default_time=late) == datetime(
        2022, 12, 21, 17, 0, tzinfo=VN)
    assert parse_user_datetime("ngày mai 9h", NOW, default_time=late).hour == 9
    assert parse_user_datetime("chiều mai", NOW, default_time=late).hour == 14


def test_result_uses_the_zone_of_now() -> None:
    now = datetime(2022, 12, 20, 2, 15, tzinfo=UTC)
    result = parse_user_datetime("ngày mai lúc 8 giờ", now)
    assert result == datetime(2022, 12, 21, 8, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_user_datetime("ngày mai", datetime(2022, 12, 20, 9, 15))


@pytest.mark.parametrize(("text", "message"), [
    ("31/02/2023", "Ngày 31/02/2023 không tồn tại: tháng 2 năm 2023 chỉ có 28 ngày."),
    ("30/2", "Ngày 30/02 không tồn tại: tháng 2 có nhiều nhất 29 ngày."),
    ("32/1/2023", "Ngày 32/01/2023 không tồn tại: tháng 1 năm 2023 chỉ có 31 ngày."),
    ("15/13/2023", "Ngày 15/13/2023 không tồn tại: một năm chỉ có 12 tháng."),
    ("29/2/2023", "tháng 2 năm 2023 chỉ có 28 ngày"),
    ("31/4", "tháng 4 chỉ có 30 ngày"),
    ("0/5", "ngày trong tháng bắt đầu từ 1"),
    ("ngày 30 tháng 2 năm 2024", "tháng 2 năm 2024 chỉ có 29 ngày"),
    ("ngày 15 tháng 13", "một năm chỉ có 12 tháng"),
    ("tháng 13", "Tháng 13 không tồn tại"),
    ("ngày 32", "Ngày 32 không tồn tại"),
    ("8.30", "hãy ghi «8:30» hoặc «8h30»"),
    ("25:00", "Giờ 25:00 không hợp lệ"),
    ("8:75", "Giờ 8:75 không hợp lệ"),
    ("14 giờ sáng", "14 giờ không phải buổi sáng"),
    ("thứ ba 26/12/2022", "Ngày 26/12/2022 là thứ Hai, không phải thứ Ba."),
    ("ngày mai 20/6", "Có hai mốc ngày"),
    ("8h 9h ngày mai", "Có hai giờ khác nhau"),
    ("sáng chiều mai", "Có hai buổi khác nhau"),
    ("2 tiếng nữa ngày mai", "«2 tiếng nữa ngày mai»"),
    ("999 năm nữa", "Năm 3021 không hợp lệ"),
    ("", "Chưa ghi ngày giờ"),
    ("   ", "Chưa ghi ngày giờ"),
    ("abc", "Không hiểu «abc»"),
    ("ngày mai họp", "Không hiểu «ngày mai họp»"),
    ("15", "Không hiểu «15»"),  # a bare number is not guessed
    ("thứ 8", "Không hiểu «thứ 8»"),
    ("lúc", "Không hiểu «lúc»"),
    ("tháng 6 2023 abc", "Không hiểu"),
    ("ngày mai " * 30, "quá dài"),
])
def test_bad_input_raises_date_input_error(text: str, message: str) -> None:
    with pytest.raises(DateInputError) as caught:
        parse_user_datetime(text, NOW)
    assert message in caught.value.message
    assert isinstance(caught.value, BotError)


@pytest.mark.parametrize("text", ["abc", "", "xin chào"])
def test_unintelligible_text_lists_examples(text: str) -> None:
    with pytest.raises(DateInputError, match="ngày mai lúc 8 giờ"):
        parse_user_datetime(text, NOW)
    with pytest.raises(DateInputError, match="cuối quý"):
        parse_user_date(text, NOW.date())


@pytest.mark.parametrize(("text", "message"), [
    ("8 giờ", "Thiếu ngày"),
    ("2 tiếng nữa", "Hạn cần là một ngày"),
    ("31/02/2023", "tháng 2 năm 2023 chỉ có 28 ngày"),
    ("abc", "Không hiểu «abc»"),
])
def test_parse_user_date_rejects(text: str, message: str) -> None:
    with pytest.raises(DateInputError, match=message):
        parse_user_date(text, NOW.date())


def test_independent_of_machine_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    phrases = [text for text, _ in DATETIME_CASES if text != "bây giờ"]
    expected = [parse_user_datetime(text, NOW) for text in phrases]
    try:
        monkeypatch.setenv("TZ", "UTC")
        time_module.tzset()
        assert [parse_user_datetime(text, NOW) for text in phrases] == expected
        assert parse_user_date("thứ sáu tuần sau", NOW.date()) == date(2022, 12, 30)
        monkeypatch.setenv("TZ", "America/Los_Angeles")
        time_module.tzset()
        assert parse_user_datetime("10:00 UTC 20/6/2023", NOW) == datetime(
            2023, 6, 20, 17, 0, tzinfo=VN)
    finally:
        monkeypatch.undo()
        time_module.tzset()


@pytest.mark.parametrize(("value", "expected"), [
    (date(2023, 1, 5), "05/01/2023"),
    (date(2022, 12, 31), "31/12/2022"),
])
def test_format_date(value: date, expected: str) -> None:
    assert format_date(value) == expected


def test_format_datetime() -> None:
    assert format_datetime(datetime(2023, 6, 20, 7, 5, tzinfo=VN)) == "07:05 20/06/2023"


def test_round_trip_through_formatting() -> None:
    moment = datetime(2024, 2, 29, 16, 45, tzinfo=VN)
    assert parse_user_datetime(format_datetime(moment), NOW) == moment
    assert parse_user_date(format_date(moment.date()), NOW.date()) == moment.date()


def test_dateparser_is_imported_lazily() -> None:
    """Importing bot.dateinput and grammar-handled phrases must not pay dateparser's warm-up."""
    script = (
        "import sys\n"
        "from datetime import datetime\n"
        "from zoneinfo import ZoneInfo\n"
        "import bot.dateinput as d\n"
        "assert 'dateparser' not in sys.modules, 'imported at import time'\n"
        "now = datetime(2022, 12, 20, 9, 15, tzinfo=ZoneInfo('Asia/Ho_Chi_Minh'))\n"
        "d.parse_user_datetime('ngày mai lúc 8 giờ', now)\n"
        "d.parse_user_date('thứ hai tuần sau', now.date())\n"
        "assert 'dateparser' not in sys.modules, 'imported for a grammar phrase'\n"
        "assert d.parse_user_datetime('2023-06-20T10:00', now).hour == 10\n"
        "assert 'dateparser' in sys.modules, 'fallback did not use dateparser'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
