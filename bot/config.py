"""Start-up settings, read once from the environment and an optional ``.env`` file.

Every problem is reported as :class:`bot.errors.ConfigError` with a Vietnamese message that
names the variable and the bad value, so an operator can fix it without reading a traceback.
The bot token and the invitation secret are secrets: they never appear in ``repr``/``str``
of :class:`Settings`, in any error message or in the log.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = "data"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_DIGEST_TIME = "07:30"
DEFAULT_REMINDER_OFFSETS = "7,3,1,0"
DB_FILENAME = "bot.json"
INVITE_KEY_FILENAME = "invite.secret"
"""Under DATA_DIR: the invitation key the bot made itself when INVITE_SECRET is not set."""
MIN_SECRET_CHARS = 16
MIN_WEBHOOK_SECRET_CHARS = 32
"""WEBHOOK_SECRET: Telegram allows 1-256 characters A-Z a-z 0-9 _ -; the bot wants 32 or more."""
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8081
MAX_WORKERS = 64
_TRUE = frozenset({"1", "true", "yes", "on", "co", "có"})
_FALSE = frozenset({"0", "false", "no", "off", "khong", "không"})
MAX_REMINDER_OFFSET = 366
DEFAULT_RETENTION_DAYS = 180
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 30, 3650
"""RETENTION_DAYS bounds: the delivery log must outlive every retry and catch-up (days)."""

_MASK = "***"
_SPLIT_RE = re.compile(r"[\s,;]+")
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_TIME_RE = re.compile(r"^(\d{1,2})\s*[:hH]\s*(\d{2})$")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    """Everything the bot needs to start. ``bot_token`` absent means local chat mode."""

    bot_token: str | None = None
    admin_ids: frozenset[int] = frozenset()
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    timezone: str = DEFAULT_TIMEZONE
    bot_api_url: str | None = None
    bot_file_url: str | None = None
    """Where files are downloaded (BOT_FILE_URL); without it, derived from BOT_API_URL
    ("https://host/bot" -> "https://host/file/bot"), else Telegram's own."""
    digest_time: time = time(7, 30)
    reminder_offsets: tuple[int, ...] = (7, 3, 1, 0)
    """Days before a deadline at which reminders go out, largest first."""
    invite_secret: str | None = None
    """Key that signs invitation links (INVITE_SECRET); None: made once and kept in DATA_DIR
    (see :func:`load_invite_key`)."""
    open_read: bool = False
    """OPEN_READ: any chat may read any unit's tasks (acting still needs membership)."""
    retention_days: int = DEFAULT_RETENTION_DAYS
    """RETENTION_DAYS: delivery log rows and events of deleted tasks older than this are
    pruned every night (the history of existing tasks and documents stays)."""
    database_url: str | None = None
    """DATABASE_URL (postgresql://…): keep the data in PostgreSQL instead of DATA_DIR/bot.json;
    the shared database of several workers, where the scheduler leader takes its lock. Its
    password is a secret: shown as ``***``."""
    webhook_url: str | None = None
    """WEBHOOK_URL: the public https address Telegram posts updates to; None: long polling."""
    webhook_secret: str | None = None
    """WEBHOOK_SECRET: Telegram sends it in X-Telegram-Bot-Api-Secret-Token on every call."""
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    """WEBHOOK_LISTEN / WEBHOOK_PORT: where this worker's HTTP server listens (behind the
    reverse proxy); each worker of a machine has its own port."""
    workers: int = 1
    """WORKERS: how many worker processes the deployment runs (more than one needs
    DATABASE_URL and WEBHOOK_URL)."""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_mode(self) -> bool:
        """No token: the bot runs as a local console chat instead of polling Telegram."""
        return self.bot_token is None

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_url is not None

    @property
    def webhook_path(self) -> str:
        """The path of WEBHOOK_URL, where the worker accepts Telegram's posts."""
        return (urlsplit(self.webhook_url).path or "/") if self.webhook_url else "/"

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILENAME

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids

    def __repr__(self) -> str:
        token = _MASK if self.bot_token else None
        return (
            f"Settings(bot_token={token!r}, admin_ids={sorted(self.admin_ids)!r}, "
            f"data_dir={str(self.data_dir)!r}, timezone={self.timezone!r}, "
            f"bot_api_url={self.bot_api_url!r}, bot_file_url={self.bot_file_url!r}, "
            f"digest_time={self.digest_time.strftime('%H:%M')!r}, "
            f"reminder_offsets={self.reminder_offsets!r}, "
            f"invite_secret={_MASK if self.invite_secret else None!r}, "
            f"open_read={self.open_read!r}, retention_days={self.retention_days!r}, "
            f"database_url={mask_url(self.database_url)!r}, "
            f"webhook_url={self.webhook_url!r}, "
            f"webhook_secret={_MASK if self.webhook_secret else None!r}, "
            f"webhook_listen={self.webhook_listen!r}, webhook_port={self.webhook_port!r}, "
            f"workers={self.workers!r})"
        )

    __str__ = __repr__


def load_settings(
    env: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build :class:`Settings` from ``env`` (default ``os.environ``) over ``env_file``.

    Values in ``env`` win over the file, as python-dotenv does without ``override``; the
    process environment itself is not modified.
    """
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        try:
            file_values = dotenv_values(env_file, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Không đọc được tệp cấu hình {env_file}: {exc}") from None
        merged.update({k: v for k, v in file_values.items() if v is not None})
    merged.update(os.environ if env is None else env)

    token = _optional(merged, "BOT_TOKEN")
    try:
        return _build(merged, token)
    except ConfigError as exc:
        message = exc.message
        for secret in (token, _optional(merged, "INVITE_SECRET"),
                       _url_password(_optional(merged, "DATABASE_URL")),
                       _optional(merged, "WEBHOOK_SECRET")):
            if secret and secret in message:  # a secret pasted into the wrong variable
                message = message.replace(secret, _MASK)
        if message != exc.message:
            raise ConfigError(message) from None
        raise


def _build(values: Mapping[str, str], token: str | None) -> Settings:
    if token is not None and not _TOKEN_RE.match(token):
        raise ConfigError(
            "BOT_TOKEN không đúng dạng «<số>:<chuỗi ký tự>» mà BotFather cấp. "
            "Hãy sao chép lại token, hoặc bỏ trống để chạy chế độ trò chuyện cục bộ."
        )
    api_url = _api_url(_optional(values, "BOT_API_URL"))
    settings = Settings(
        bot_token=token,
        admin_ids=_admin_ids(_optional(values, "ADMIN_IDS") or ""),
        data_dir=_data_dir(_optional(values, "DATA_DIR") or DEFAULT_DATA_DIR),
        timezone=_timezone(_optional(values, "BOT_TIMEZONE") or DEFAULT_TIMEZONE),
        bot_api_url=api_url,
        bot_file_url=_file_url(_optional(values, "BOT_FILE_URL"), api_url),
        digest_time=_digest_time(_optional(values, "DIGEST_TIME") or DEFAULT_DIGEST_TIME),
        reminder_offsets=_offsets(
            _optional(values, "REMINDER_OFFSETS") or DEFAULT_REMINDER_OFFSETS
        ),
        invite_secret=_invite_secret(_optional(values, "INVITE_SECRET")),
        open_read=_flag("OPEN_READ", _optional(values, "OPEN_READ"), default=False),
        retention_days=_retention(_optional(values, "RETENTION_DAYS")),
        database_url=_database_url(_optional(values, "DATABASE_URL")),
        webhook_url=_webhook_url(_optional(values, "WEBHOOK_URL")),
        webhook_secret=_optional(values, "WEBHOOK_SECRET"),
        webhook_listen=_optional(values, "WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN,
        webhook_port=_port(_optional(values, "WEBHOOK_PORT")),
        workers=_workers(_optional(values, "WORKERS")),
    )
    _check_deployment(settings)
    if not settings.admin_ids and token is not None:  # the local chat makes its own admin
        logger.warning("ADMIN_IDS is empty: nobody can import plans or change settings")
    return settings


def _optional(values: Mapping[str, str], name: str) -> str | None:
    raw = values.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    return raw or None


def _admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in _SPLIT_RE.split(raw.strip()):
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or int(part) <= 0:
            raise ConfigError(
                f"ADMIN_IDS có giá trị không hợp lệ: «{part}». Cần là các số ID người dùng "
                "Telegram (số nguyên dương), cách nhau bằng dấu phẩy hoặc khoảng trắng."
            )
        ids.add(int(part))
    return frozenset(ids)


def _data_dir(raw: str) -> Path:
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"DATA_DIR «{raw}» đã tồn tại nhưng không phải là thư mục.")
    return path


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"BOT_TIMEZONE không hợp lệ: «{raw}». Hãy dùng tên múi giờ IANA, "
            f"ví dụ «{DEFAULT_TIMEZONE}»."
        ) from None
    return raw


def _api_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ConfigError(
            f"BOT_API_URL không hợp lệ: «{raw}». Cần là địa chỉ http:// hoặc https://, "
            "ví dụ «http://127.0.0.1:8081/bot»."
        )
    return raw.rstrip("/")


def _file_url(raw: str | None, api_url: str | None) -> str | None:
    """BOT_FILE_URL as given, else the file address of a self-hosted BOT_API_URL: the Bot API
    serves files under "/file/bot<token>/" beside "/bot<token>/", so the last "/bot" of the
    path becomes "/file/bot" ("https://h/tg/bot" -> "https://h/tg/file/bot")."""
    if raw is not None:
        try:
            return _api_url(raw)
        except ConfigError:
            raise ConfigError(
                f"BOT_FILE_URL không hợp lệ: «{raw}». Cần là địa chỉ http:// hoặc https://, "
                "ví dụ «http://127.0.0.1:8081/file/bot»."
            ) from None
    if api_url is None:
        return None
    parts = urlsplit(api_url)
    path = parts.path
    head, sep, tail = path.rpartition("/bot")
    # No "/bot" at the end: the files are under <path>/file/bot.
    path = (f"{head}/file/bot{tail}" if sep and "/" not in tail
            else f"{path.rstrip('/')}/file/bot")
    return parts._replace(path=path).geturl()


def _url_password(raw: str | None) -> str | None:
    try:
        return urlsplit(raw).password if raw else None
    except ValueError:
        return None


def mask_url(raw: str | None) -> str | None:
    """A connection URL with its password as ``***`` (None stays None)."""
    if raw is None:
        return None
    password = _url_password(raw)
    if not password:
        return raw
    parts = urlsplit(raw)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{_MASK}@{host}"))


def _database_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        ok = parts.scheme in ("postgresql", "postgres") and bool(parts.path.strip("/")) and (
            parts.port is None or parts.port > 0)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(  # the password never: the message shows the masked form
            f"DATABASE_URL không hợp lệ: «{mask_url(raw) if '@' in raw else raw}». Cần dạng "
            "postgresql://người_dùng:mật_khẩu@máy:cổng/tên_csdl, hoặc bỏ trống để dùng tệp "
            "DATA_DIR/bot.json.")
    return raw


def _digest_time(raw: str) -> time:
    match = _TIME_RE.match(raw)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ConfigError(
        f"DIGEST_TIME không hợp lệ: «{raw}». Cần là giờ:phút trong ngày, ví dụ «07:30»."
    )


def _offsets(raw: str) -> tuple[int, ...]:
    days: set[int] = set()
    for part in _SPLIT_RE.split(raw.strip()):
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or int(part) > MAX_REMINDER_OFFSET:
            raise ConfigError(
                f"REMINDER_OFFSETS có giá trị không hợp lệ: «{part}». Cần là số ngày trước hạn "
                f"(0 đến {MAX_REMINDER_OFFSET}), cách nhau bằng dấu phẩy, ví dụ «7,3,1,0»."
            )
        days.add(int(part))
    if not days:
        raise ConfigError("REMINDER_OFFSETS không có số ngày nào, ví dụ đúng: «7,3,1,0».")
    return tuple(sorted(days, reverse=True))


def _invite_secret(raw: str | None) -> str | None:
    if raw is not None and len(raw) < MIN_SECRET_CHARS:
        raise ConfigError(  # never the value itself: it is a secret
            f"INVITE_SECRET quá ngắn ({len(raw)} ký tự): cần ít nhất {MIN_SECRET_CHARS} ký tự "
            "ngẫu nhiên. Hoặc bỏ trống để bot tự tạo khóa và lưu trong DATA_DIR."
        )
    return raw


def _retention(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_RETENTION_DAYS
    if raw.isascii() and raw.isdigit() and MIN_RETENTION_DAYS <= int(raw) <= MAX_RETENTION_DAYS:
        return int(raw)
    raise ConfigError(
        f"RETENTION_DAYS không hợp lệ: «{raw}». Cần là số ngày lưu nhật ký gửi tin và sự kiện "
        f"cũ, từ {MIN_RETENTION_DAYS} đến {MAX_RETENTION_DAYS} (mặc định "
        f"{DEFAULT_RETENTION_DAYS})."
    )


def _webhook_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        host, port_ok = parts.hostname, parts.port is None or parts.port > 0
    except ValueError:
        host, port_ok, parts = None, False, None
    if parts is None or not host or not port_ok or parts.scheme not in ("http", "https") \
            or (parts.scheme == "http" and host not in _LOOPBACK):
        raise ConfigError(
            f"WEBHOOK_URL không hợp lệ: «{raw}». Telegram chỉ gửi tới địa chỉ https://, ví dụ "
            "«https://bot.example.gov.vn/telegram» (cổng 443, 80, 88 hoặc 8443).")
    return raw


def _port(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_WEBHOOK_PORT
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 65536:
        return int(raw)
    raise ConfigError(f"WEBHOOK_PORT không hợp lệ: «{raw}». Cần là số cổng từ 1 đến 65535, "
                      f"ví dụ «{DEFAULT_WEBHOOK_PORT}».")


def _workers(raw: str | None) -> int:
    if raw is None:
        return 1
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_WORKERS:
        return int(raw)
    raise ConfigError(f"WORKERS không hợp lệ: «{raw}». Cần là số tiến trình từ 1 đến "
                      f"{MAX_WORKERS}.")


def _check_deployment(settings: Settings) -> None:
    """Settings that only make sense together: a webhook needs its secret; several workers
    need the webhook (polling admits one client) and PostgreSQL (the TinyDB file admits one
    process)."""
    secret = settings.webhook_secret
    if settings.webhook_url is not None:
        if secret is None:
            raise ConfigError(
                "Chế độ webhook (WEBHOOK_URL) cần WEBHOOK_SECRET: một chuỗi ngẫu nhiên ít nhất "
                f"{MIN_WEBHOOK_SECRET_CHARS} ký tự (chữ, số, «_» hoặc «-»), ví dụ tạo bằng "
                "«python -c 'import secrets; print(secrets.token_urlsafe(32))'». Không có nó, "
                "bất kỳ ai biết địa chỉ cũng gửi được tin giả mạo tới bot.")
        if len(secret) < MIN_WEBHOOK_SECRET_CHARS or not _WEBHOOK_SECRET_RE.match(secret):
            raise ConfigError(  # never the value itself: it is a secret
                f"WEBHOOK_SECRET không hợp lệ ({len(secret)} ký tự): cần từ "
                f"{MIN_WEBHOOK_SECRET_CHARS} đến 256 ký tự, chỉ gồm chữ không dấu, số, «_» và "
                "«-» (Telegram chỉ nhận các ký tự này).")
    if settings.workers > 1 and settings.database_url is None:
        raise ConfigError(
            f"WORKERS={settings.workers} nhưng chưa đặt DATABASE_URL: với tệp cơ sở dữ liệu "
            f"{DB_FILENAME} (TinyDB) chỉ MỘT tiến trình bot được chạy. Hãy đặt WORKERS=1, hoặc "
            "dùng PostgreSQL (DATABASE_URL) cho nhiều tiến trình.")
    if settings.workers > 1 and settings.webhook_url is None:
        raise ConfigError(
            f"WORKERS={settings.workers} cần chế độ webhook (WEBHOOK_URL, WEBHOOK_SECRET): "
            "Telegram chỉ cho một tiến trình nhận tin bằng long polling.")


def _flag(name: str, raw: str | None, *, default: bool) -> bool:
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConfigError(f"{name} không hợp lệ: «{raw}». Dùng true hoặc false.")


def load_invite_key(settings: Settings) -> bytes:
    """The key that signs invitation links: INVITE_SECRET, else the bot's own key.

    The bot's own key is made at the first start (random, 48 bytes) and kept in
    ``DATA_DIR/invite.secret`` (readable by its owner only), so links stay valid across
    restarts. Deleting that file makes every link given so far invalid. The key is never
    logged. A damaged file is a ConfigError rather than a silent new key.
    """
    if settings.invite_secret:
        return settings.invite_secret.encode("utf-8")
    path = settings.data_dir / INVITE_KEY_FILENAME
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"Không tạo được tệp khóa lời mời {path}: {exc.strerror}.") from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        logger.info("made a new invitation key in %s", path)
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Không đọc được tệp khóa lời mời {path}: {exc}.") from None
    if len(key) < MIN_SECRET_CHARS * 2:
        raise ConfigError(f"Tệp khóa lời mời {path} bị hỏng. Xóa tệp để bot tạo khóa mới "
                          "(các liên kết mời đã gửi sẽ hết hiệu lực), hoặc đặt INVITE_SECRET.")
    return key.encode("ascii")
