"""``python -m bot nhap`` (import from the command line) and ``python -m bot run`` in local
mode, driven through stdin: the real bot answers in the terminal with no token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "data" / "samples").glob("*.txt"))


def bot_cli(tmp_path: Path, *args: str, stdin: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "ADMIN_IDS")}
    env.update(PYTHONIOENCODING="utf-8", DATA_DIR=str(tmp_path / "data"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env,
                          input=stdin, capture_output=True, text=True, encoding="utf-8",
                          timeout=timeout)


def test_import_from_the_command_line_is_idempotent(tmp_path: Path) -> None:
    first = bot_cli(tmp_path, "nhap", str(SAMPLES[-1]))
    assert first.returncode == 0, first.stderr
    assert "đã nhập — Nghị quyết 09-NQ/TU: 47 nhiệm vụ" in first.stdout
    again = bot_cli(tmp_path, "nhap", str(SAMPLES[-1]))
    assert "đã nhập trước đây" in again.stdout
    assert (tmp_path / "data" / "bot.json").is_file() or any((tmp_path / "data").glob("*.json"))


def test_import_reports_each_bad_file_and_keeps_the_good_ones(tmp_path: Path) -> None:
    empty = tmp_path / "trong.txt"
    empty.write_text("", encoding="utf-8")
    proc = bot_cli(tmp_path, "nhap", str(tmp_path / "khong-co.docx"), str(empty),
                   str(SAMPLES[-1]))
    assert proc.returncode == 2
    assert "khong-co.docx: không đọc được tệp (không có tệp này)" in proc.stderr
    assert "trong.txt:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "09-NQ/TU" in proc.stdout


def test_run_without_token_opens_a_local_chat_with_the_samples(tmp_path: Path) -> None:
    proc = bot_cli(tmp_path, "run", "--today", "2022-12-20",
                   "--samples", str(ROOT / "data" / "samples"),
                   stdin="/vanban\n/dangky tai chinh\n/thoat\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "đã nạp 5 kế hoạch mẫu" in out
    assert "20/12/2022" in out
    assert "09-NQ/TU" in out.split("Bạn> /vanban", 1)[1]  # the bot's answer, not the banner
    assert "Tài chính" in out.split("Bạn> /dangky tai chinh", 1)[1]
    assert "Tạm biệt" in out
    assert "Traceback" not in proc.stderr


def test_local_chat_shows_a_second_user_asking_and_the_admin_approving(tmp_path: Path) -> None:
    script = ("/khach\n/dangky tai chinh\n/nhiemvu\n/rieng\n1\n/khach\n/nhiemvu\n"
              "/thoat\n")
    proc = bot_cli(tmp_path, "run", "--today", "2022-12-20",
                   "--samples", str(ROOT / "data" / "samples"), stdin=script)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    asked = out.split("Bạn> /dangky tai chinh", 1)[1]
    assert "Đã gửi yêu cầu tới quản trị viên cho bạn tham gia" in asked
    assert "Bot → riêng> 🙋 Yêu cầu #1 tham gia Phòng Tài chính - Kế hoạch" in asked
    assert "[1] ✅ Duyệt  [2] ❌ Từ chối" in asked
    waiting = out.split("Bạn> /nhiemvu", 1)[1]
    assert "đang chờ quản trị viên duyệt" in waiting.split("Bạn> /rieng", 1)[0]
    approved = out.split("Bạn> 1", 1)[1]
    assert "(bấm nút «✅ Duyệt»)" in approved
    assert "✅ Đã duyệt bởi Quản trị viên thử nghiệm" in approved
    assert "Bot → khách> ✅ Quản trị viên đã duyệt yêu cầu" in approved
    assert "Nhiệm vụ của Phòng Tài chính - Kế hoạch" in out.rsplit("Bạn> /nhiemvu", 1)[1]
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "data" / "invite.secret").is_file()


def test_run_rejects_a_malformed_today(tmp_path: Path) -> None:
    proc = bot_cli(tmp_path, "run", "--today", "20/12/2022")
    assert proc.returncode == 2
    assert "YYYY-MM-DD" in proc.stderr


def test_schedule_preview_lists_the_digests_of_a_followed_unit(tmp_path: Path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.store import Store

    assert bot_cli(tmp_path, "nhap", str(SAMPLES[0])).returncode == 0
    with Store(tmp_path / "data" / "bot.json") as store:
        unit = store.match_unit("tai chinh")
        store.subscribe(-1005, unit.key, title="Nhóm TC-KH", chat_type="supergroup", actor=1,
                        now=datetime(2022, 12, 19, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    proc = bot_cli(tmp_path, "lich", "--today", "2022-12-20", "--days", "14")
    assert proc.returncode == 0, proc.stderr
    # 24/12/2022 is a Saturday: the 7-day reminder for 31/12 moves to Friday 23/12.
    assert "23/12/2022" in proc.stdout and "24/12/2022" not in proc.stdout
    assert "07:30  Nhóm TC-KH (-1005)" in proc.stdout


def test_schedule_preview_without_a_database(tmp_path: Path) -> None:
    proc = bot_cli(tmp_path, "lich")
    assert proc.returncode == 2
    assert "Chưa có cơ sở dữ liệu" in proc.stderr
