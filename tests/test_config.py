"""Tests for bot.config (settings from env and .env) and bot.clock (the time source)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import Clock, FixedClock, SystemClock
from bot.config import INVITE_KEY_FILENAME, Settings, load_invite_key, load_settings
from bot.errors import ConfigError

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


def load(tmp_path: Path, **env: str) -> Settings:
    return load_settings(env, env_file=tmp_path / "missing.env")


def test_defaults_mean_local_mode(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.bot_token is None and settings.local_mode
    assert settings.admin_ids == frozenset()
    assert settings.data_dir == Path("data") and settings.db_path == Path("data/bot.json")
    assert settings.timezone == "Asia/Ho_Chi_Minh" and settings.tz == ZoneInfo("Asia/Ho_Chi_Minh")
    assert settings.bot_api_url is None
    assert settings.digest_time == time(7, 30)
    assert settings.reminder_offsets == (7, 3, 1, 0)


def test_full_configuration(tmp_path: Path) -> None:
    settings = load(tmp_path, BOT_TOKEN=f"  {TOKEN} ", ADMIN_IDS="11, 22 33;11",
                    DATA_DIR=str(tmp_path / "d"), BOT_TIMEZONE="Asia/Bangkok",
                    BOT_API_URL="http://127.0.0.1:8081/bot/", DIGEST_TIME="6h05",
                    REMINDER_OFFSETS="1 14,3")
    assert settings.bot_token == TOKEN and not settings.local_mode
    assert settings.admin_ids == frozenset({11, 22, 33})
    assert settings.is_admin(22) and not settings.is_admin(44) and not settings.is_admin(None)
    assert settings.data_dir == tmp_path / "d"
    assert settings.tz == ZoneInfo("Asia/Bangkok")
    assert settings.bot_api_url == "http://127.0.0.1:8081/bot"
    assert settings.digest_time == time(6, 5)
    assert settings.reminder_offsets == (14, 3, 1)


@pytest.mark.parametrize("name, value, words", [
    ("ADMIN_IDS", "12,abc", "«abc»"),
    ("ADMIN_IDS", "12, -5", "«-5»"),
    ("ADMIN_IDS", "12 1.5", "«1.5»"),
    ("BOT_TIMEZONE", "Asia/Hanoi_City", "«Asia/Hanoi_City»"),
    ("BOT_TIMEZONE", "../../etc/passwd", "BOT_TIMEZONE không hợp lệ"),
    ("BOT_API_URL", "ftp://example.org", "«ftp://example.org»"),
    ("BOT_API_URL", "localhost:8081", "BOT_API_URL không hợp lệ"),
    ("BOT_API_URL", "http://", "BOT_API_URL không hợp lệ"),
    ("BOT_API_URL", "http://host:99999/", "BOT_API_URL không hợp lệ"),
    ("DIGEST_TIME", "25:00", "«25:00»"),
    ("DIGEST_TIME", "sáng", "DIGEST_TIME không hợp lệ"),
    ("REMINDER_OFFSETS", "7,x,1", "«x»"),
    ("REMINDER_OFFSETS", "400", "«400»"),
    ("REMINDER_OFFSETS", ",,", "không có số ngày"),
    ("BOT_TOKEN", "not-a-token", "BOT_TOKEN không đúng dạng"),
])
def test_bad_values_name_the_problem(tmp_path: Path, name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, **{name: value})
    assert words in info.value.message


def test_data_dir_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="không phải là thư mục"):
        load(tmp_path, DATA_DIR=str(tmp_path / "file"))


def test_token_never_shown(tmp_path: Path) -> None:
    settings = load(tmp_path, BOT_TOKEN=TOKEN, ADMIN_IDS="1")
    for text in (repr(settings), str(settings), f"{settings}", repr([settings])):
        assert TOKEN not in text and TOKEN.split(":")[1] not in text
    assert "***" in repr(settings) and "admin_ids=[1]" in repr(settings)


@pytest.mark.parametrize("env", [
    {"BOT_TOKEN": TOKEN, "ADMIN_IDS": TOKEN},           # token pasted into the wrong variable
    {"BOT_TOKEN": TOKEN, "BOT_API_URL": f"ftp://api/{TOKEN}"},
    {"BOT_TOKEN": TOKEN, "DIGEST_TIME": TOKEN},
    {"BOT_TOKEN": TOKEN + " x"},                         # malformed token
])
def test_errors_never_contain_the_token(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, **env)
    assert TOKEN not in info.value.message and TOKEN not in str(info.value)
    assert TOKEN.split(":")[1] not in info.value.message


def test_env_file_is_read_without_overriding_environment(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"# cấu hình\nBOT_TOKEN={TOKEN}\nADMIN_IDS=5,6\nDIGEST_TIME=08:15\nDATA_DIR='dữ liệu'\n",
        encoding="utf-8")
    settings = load_settings({"DIGEST_TIME": "09:00"}, env_file=env_file)
    assert settings.bot_token == TOKEN and settings.admin_ids == frozenset({5, 6})
    assert settings.digest_time == time(9, 0)  # the real environment wins
    assert settings.data_dir == Path("dữ liệu")
    assert load_settings({}, env_file=None).bot_token is None


def test_process_environment_is_used_by_default(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "77")
    monkeypatch.setenv("REMINDER_OFFSETS", "2")
    settings = load_settings(env_file=tmp_path / "none.env")
    assert settings.admin_ids == frozenset({77}) and settings.reminder_offsets == (2,)


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load(tmp_path)
    with pytest.raises(AttributeError):
        settings.data_dir = Path("x")  # type: ignore[misc]


# ----------------------------------------------------------------------------- memberships
SECRET = "k3y-Of-the-0ffice-8cf1a2"


@pytest.mark.parametrize(("raw", "value"), [
    (None, False), ("true", True), ("1", True), ("Có", True), ("false", False), ("0", False),
    ("không", False), (" TRUE ", True),
])
def test_open_read_defaults_to_closed(tmp_path: Path, raw: str | None, value: bool) -> None:
    env = {} if raw is None else {"OPEN_READ": raw}
    assert load(tmp_path, **env).open_read is value


def test_bad_open_read_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OPEN_READ không hợp lệ: «mở»"):
        load(tmp_path, OPEN_READ="mở")


def test_invite_secret_is_never_shown(tmp_path: Path) -> None:
    settings = load(tmp_path, INVITE_SECRET=SECRET, OPEN_READ="true")
    assert settings.invite_secret == SECRET
    for text in (repr(settings), str(settings)):
        assert SECRET not in text and "invite_secret='***'" in text and "open_read=True" in text
    with pytest.raises(ConfigError) as info:
        load(tmp_path, INVITE_SECRET="ngắn-quá")
    assert "INVITE_SECRET quá ngắn" in info.value.message and "ngắn-quá" not in info.value.message
    with pytest.raises(ConfigError) as pasted:  # the secret pasted into another variable
        load(tmp_path, INVITE_SECRET=SECRET, DIGEST_TIME=SECRET)
    assert SECRET not in pasted.value.message


def test_invite_key_is_made_once_kept_private_and_reused(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    settings = load(tmp_path, DATA_DIR=str(tmp_path / "d"))
    with caplog.at_level("DEBUG"):
        key = load_invite_key(settings)
    path = tmp_path / "d" / INVITE_KEY_FILENAME
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    assert len(key) >= 32 and load_invite_key(settings) == key  # stable across restarts
    assert key.decode() not in caplog.text  # never logged
    assert load_invite_key(load(tmp_path, DATA_DIR=str(tmp_path / "d"),
                                INVITE_SECRET=SECRET)) == SECRET.encode()
    path.write_text("abc\n")
    with pytest.raises(ConfigError, match="bị hỏng"):
        load_invite_key(settings)


# ----------------------------------------------------------------------------- clock
def test_fixed_clock_moves_only_when_told() -> None:
    start = datetime(2024, 3, 1, 23, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    clock = FixedClock(start)
    assert isinstance(clock, Clock)
    assert clock.now() == start and clock.now() == start
    assert clock.advance(timedelta(hours=1)) == start + timedelta(hours=1)
    assert clock.today().isoformat() == "2024-03-02"  # local date, past midnight
    clock.set(start.replace(month=5))
    assert clock.now().month == 5 and clock.tz == ZoneInfo("Asia/Ho_Chi_Minh")
    with pytest.raises(ValueError):
        clock.set(datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        FixedClock(datetime(2024, 1, 1))


def test_system_clock_is_aware_and_local() -> None:
    clock = SystemClock("Asia/Ho_Chi_Minh")
    assert isinstance(clock, Clock)
    now = clock.now()
    assert now.utcoffset() == timedelta(hours=7)
    utc = datetime.now(UTC)
    assert abs((utc - now).total_seconds()) < 60
    assert clock.today() == now.date() or clock.today() == (now + timedelta(seconds=1)).date()
    assert SystemClock(UTC).now().utcoffset() == timedelta(0)


@pytest.mark.parametrize(("raw", "value"), [(None, 180), ("30", 30), (" 365 ", 365),
                                            ("3650", 3650)])
def test_retention_days(tmp_path: Path, raw: str | None, value: int) -> None:
    env = {} if raw is None else {"RETENTION_DAYS": raw}
    settings = load(tmp_path, **env)
    assert settings.retention_days == value and f"retention_days={value}" in repr(settings)


@pytest.mark.parametrize("raw", ["0", "29", "3651", "-5", "6 tháng", "90.5", "١٨٠"])
def test_bad_retention_days_is_named_in_vietnamese(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, RETENTION_DAYS=raw)
    assert f"RETENTION_DAYS không hợp lệ: «{raw}»" in info.value.message
    assert "từ 30 đến 3650" in info.value.message
