"""Vietnamese texts the bot shows about itself: /start, /help and the command menu.

One module for these texts so that the menu (setMyCommands), /help and /start never disagree
about which commands exist or how they are typed. Usage lines are plain text here and escaped
when the HTML is built ("<mã>" must reach Telegram as "&lt;mã&gt;").
"""

from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = [
    "ABOUT", "ADMIN_COMMANDS", "COMMANDS", "COMMAND_SPECS", "CommandSpec", "HELP",
    "HELP_ADMIN", "START", "START_ADMIN", "UNKNOWN_COMMAND", "help_text", "start_text",
]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: its name, how it is typed, what it does, and who may use it."""

    name: str
    usage: str
    description: str
    admin: bool = False


COMMAND_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "/start", "Giới thiệu bot và cách bắt đầu"),
    CommandSpec("help", "/help", "Hướng dẫn và danh sách lệnh"),
    CommandSpec("dangky", "/dangky [đơn vị]",
                "Xin tham gia một đơn vị để nhận việc của đơn vị (quản trị viên duyệt)"),
    CommandSpec("huydangky", "/huydangky [đơn vị]", "Rời một đơn vị"),
    CommandSpec("donvi", "/donvi",
                "Các đơn vị bạn hoặc nhóm là thành viên, số nhiệm vụ đang mở và quá hạn"),
    CommandSpec("thanhvien", "/thanhvien [đơn vị]",
                "Thành viên của đơn vị: nhóm, người, từ khi nào, ai mời hay duyệt"),
    CommandSpec("nhiemvu", "/nhiemvu [đơn vị]",
                "Danh sách nhiệm vụ: quá hạn trước, rồi sắp đến hạn"),
    CommandSpec("chitiet", "/chitiet <mã>",
                "Chi tiết một nhiệm vụ: nội dung, đơn vị, thời hạn, lịch sử"),
    CommandSpec("sapden", "/sapden [số ngày]",
                "Nhiệm vụ sắp đến hạn (mặc định trong 7 ngày tới)"),
    CommandSpec("quahan", "/quahan", "Nhiệm vụ đã quá hạn mà chưa hoàn thành"),
    CommandSpec("timkiem", "/timkiem <từ khóa>",
                "Tìm nhiệm vụ theo từ khóa (gõ có dấu hay không dấu đều được)"),
    CommandSpec("xong", "/xong <mã> [ghi chú]", "Báo đã hoàn thành một nhiệm vụ"),
    CommandSpec("mo", "/mo <mã>", "Mở lại một nhiệm vụ đã báo hoàn thành nhầm"),
    CommandSpec("tiendo", "/tiendo <mã> <phần trăm hoặc ghi chú>",
                "Báo tiến độ một nhiệm vụ (ví dụ: /tiendo 17 60% đã lấy ý kiến các phòng)"),
    CommandSpec("xingiahan", "/xingiahan <mã> <ngày mới> <lý do>",
                "Xin quản trị viên gia hạn một nhiệm vụ đơn vị chủ trì"),
    CommandSpec("giahan", "/giahan <mã> <ngày mới> [lý do]",
                "Gia hạn nhiệm vụ (ví dụ: /giahan 17 15/1/2023 chờ kinh phí)", admin=True),
    CommandSpec("thongke", "/thongke",
                "Thống kê: đúng hạn, quá hạn, chưa đến hạn, quá hạn chưa xong"),
    CommandSpec("baocao", "/baocao [đơn vị] [kỳ]",
                "Báo cáo Excel và biểu đồ theo 4 mức (ví dụ: /baocao quý 3/2024, năm 2024)"),
    CommandSpec("lich_ics", "/lich_ics [đơn vị]",
                "Tệp lịch (.ics) các hạn nhiệm vụ đang mở, có nhắc trước một ngày"),
    CommandSpec("vanban", "/vanban", "Các văn bản, kế hoạch đã nhập"),
    CommandSpec("nhacnho", "/nhacnho <mã> <khi nào>",
                "Đặt lời nhắc cho một nhiệm vụ (ví dụ: /nhacnho 17 8 giờ sáng mai)"),
    CommandSpec("tamhoan", "/tamhoan <mã> <khoảng>",
                "Tạm hoãn nhắc việc một nhiệm vụ (ví dụ: /tamhoan 17 3 ngày, 1 tuần)"),
    CommandSpec("thongbao", "/thongbao <đơn vị | tất cả> [lúc <khi nào>]: <nội dung>",
                "Gửi thông báo tới các nhóm của đơn vị, ngay hoặc hẹn giờ", admin=True),
    # Issue 10: correcting what the parser read, giving work by hand.
    CommandSpec("giao", "/giao <đơn vị> [hạn <ngày>]: <nội dung>",
                "Giao việc trực tiếp cho đơn vị (ví dụ: /giao Phòng Y tế hạn 30/12: Báo cáo "
                "nhanh)", admin=True),
    CommandSpec("sua", "/sua <mã> <trường> <giá trị>",
                "Sửa nhiệm vụ bot đọc sai: chutri, phoihop, han, noidung (/sua <mã> để xem "
                "cách dùng)", admin=True),
    CommandSpec("xoa", "/xoa <mã>", "Xóa nhiệm vụ đọc sai (vẫn giữ trong lịch sử)",
                admin=True),
    CommandSpec("khoiphuc", "/khoiphuc <mã>", "Khôi phục nhiệm vụ đã xóa bằng /xoa",
                admin=True),
    CommandSpec("moi", "/moi [đơn vị]",
                "Tạo liên kết mời vào đơn vị; không kèm tên: xem và thu hồi lời mời",
                admin=True),
    CommandSpec("gopdonvi", "/gopdonvi <đơn vị nguồn> => <đơn vị đích>",
                "Gộp hai đơn vị trùng nhau: nhiệm vụ, thành viên và tên gọi chuyển sang đơn vị "
                "đích", admin=True),
)

UNKNOWN_COMMAND = "Bot chưa biết lệnh {command}. Gõ /help để xem các lệnh."
"""Reply to an unknown command; ``{command}`` is filled in HTML-escaped."""

COMMANDS: list[tuple[str, str]] = [(spec.name, spec.description) for spec in COMMAND_SPECS]
"""(command, Vietnamese description) for setMyCommands, in menu order."""

ADMIN_COMMANDS: frozenset[str] = frozenset(s.name for s in COMMAND_SPECS if s.admin)

ABOUT = (
    "Bot theo dõi nhiệm vụ mà các kế hoạch, nghị quyết, báo cáo giao cho từng đơn vị.\n"
    "Quản trị viên gửi tệp văn bản, bot tự tách nhiệm vụ, đơn vị chủ trì, phối hợp và thời hạn.\n"
    "Mỗi nhóm hay người là thành viên của đơn vị mình (qua lời mời, hoặc yêu cầu được quản "
    "trị viên duyệt) để xem danh sách việc, được nhắc trước hạn mỗi sáng ngày làm việc và báo "
    "hoàn thành ngay trong Telegram."
)

_GETTING_STARTED = (
    "Bắt đầu: mở liên kết mời quản trị viên gửi, hoặc gõ <b>/dangky</b> để xin tham gia đơn "
    "vị của mình; khi đã là thành viên, gõ <b>/nhiemvu</b> để xem việc."
)
_UPLOAD_HINT = (
    "Gửi tệp kế hoạch (.docx, .doc, .pdf kể cả bản scan, .txt, .md) vào cuộc trò chuyện với "
    "bot để nhập nhiệm vụ."
)
_PARAMS_HINT = "<i>&lt;...&gt; là bắt buộc, [...] là có thể bỏ qua.</i>"


def _command_lines(admin: bool) -> list[str]:
    return [f"{html.escape(s.usage, quote=False)} — {html.escape(s.description, quote=False)}"
            for s in COMMAND_SPECS if s.admin == admin]


def help_text(admin: bool = False) -> str:
    """The /help answer (HTML); admins also get the admin-only commands."""
    lines = [html.escape(ABOUT, quote=False), "", "<b>Các lệnh</b>", *_command_lines(False)]
    if admin:
        lines += ["", "<b>Dành cho quản trị viên</b>", *_command_lines(True),
                  html.escape(_UPLOAD_HINT, quote=False)]
    lines += ["", _PARAMS_HINT]
    return "\n".join(lines)


def start_text(admin: bool = False) -> str:
    """The /start answer (HTML): what the bot does, how to begin, then the commands."""
    return f"<b>Xin chào!</b>\n{_GETTING_STARTED}\n\n{help_text(admin)}"


HELP = help_text(False)
HELP_ADMIN = help_text(True)
START = start_text(False)
START_ADMIN = start_text(True)
