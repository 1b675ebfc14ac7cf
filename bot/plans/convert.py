"""Old Word files (.doc) to .docx through LibreOffice in headless mode.

Offices still exchange Word 97-2003 files, and a file saved by Word as "Web page" or "Rich
Text" often keeps the .doc name. LibreOffice reads all three; python-docx reads none, so the
upload is converted, then read as a .docx.

Safety: the upload is written to a temporary directory under a fixed name ("input.doc"): the
user's file name never reaches a command line, and the command is a list (no shell). The
conversion runs in its own process group, with its own LibreOffice profile, under a time
limit; when the limit passes the whole group is killed. One conversion runs at a time (a
profile cannot be shared by two LibreOffice processes, and a reused profile saves the ~2 s
LibreOffice spends creating one).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from bot.errors import BrokenFile, FileTooLarge, UnsupportedFile

logger = logging.getLogger(__name__)

__all__ = ["CONVERT_SECONDS", "MSG_DOC_BROKEN", "MSG_NO_LIBREOFFICE", "doc_to_docx",
           "find_soffice", "input_filter"]

CONVERT_SECONDS = 120.0
"""Time one conversion may take; a 20 MB .doc converts in about 10 s."""
SOFFICE_NAMES = ("soffice", "libreoffice")
MAX_OUTPUT_BYTES = 100 * 1024 * 1024

MSG_NO_LIBREOFFICE = (
    "Tệp .doc (Word 97-2003) cần được chuyển đổi, nhưng máy chủ của bot chưa cài LibreOffice "
    "nên chưa đọc được. Hãy mở tệp bằng Word và lưu lại dưới dạng .docx (Tệp → Lưu thành → "
    "Word Document) hoặc xuất ra PDF rồi gửi lại."
)
MSG_DOC_BROKEN = (
    "Không đọc được tệp .doc (Word 97-2003) này: tệp bị hỏng hoặc không phải văn bản Word. "
    "Hãy mở tệp bằng Word, lưu lại dưới dạng .docx hoặc PDF rồi gửi lại."
)
MSG_DOC_TIMEOUT = (
    "Chuyển đổi tệp .doc quá thời gian cho phép ({seconds} giây). Hãy mở tệp bằng Word, lưu "
    "lại dưới dạng .docx rồi gửi lại."
)

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LOCK = threading.Lock()
_profile: Path | None = None


def find_soffice() -> str | None:
    """The path of LibreOffice's ``soffice``, or None."""
    for name in SOFFICE_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def input_filter(data: bytes) -> str | None:
    """The LibreOffice import filter for what a .doc file really holds, or None when it is
    none of Word 97-2003, RTF or HTML (LibreOffice would import any other bytes as text)."""
    head = data[:1024].lstrip().lower()
    if data.startswith(_OLE):
        return "MS Word 97"
    if head.startswith(b"{\\rtf"):
        return "Rich Text Format"
    if head.startswith((b"<html", b"<!doctype html", b"<?xml", b"mime-version:")) or \
            b"<html" in head:
        return "HTML (StarWriter)"
    return None


def _profile_dir() -> Path:
    global _profile
    if _profile is None or not _profile.is_dir():
        _profile = Path(tempfile.mkdtemp(prefix="kehoach-libreoffice-"))
        atexit.register(shutil.rmtree, _profile, True)
    return _profile


def doc_to_docx(data: bytes, *, timeout: float | None = None) -> bytes:
    """Convert the bytes of a .doc file; returns the bytes of the .docx.

    Raises UnsupportedFile without LibreOffice, BrokenFile when it cannot read the file and
    FileTooLarge when it takes longer than ``timeout`` seconds (:data:`CONVERT_SECONDS`).
    """
    timeout = CONVERT_SECONDS if timeout is None else timeout
    soffice = find_soffice()
    if soffice is None:
        logger.warning("a .doc arrived but LibreOffice (soffice) is not installed")
        raise UnsupportedFile(MSG_NO_LIBREOFFICE)
    infilter = input_filter(data)
    if infilter is None:
        raise BrokenFile(MSG_DOC_BROKEN)
    with _LOCK, tempfile.TemporaryDirectory(prefix="kehoach-doc-") as work:
        source = Path(work) / "input.doc"
        out = Path(work) / "out"
        source.write_bytes(data)
        out.mkdir()
        command = [
            soffice, "--headless", "--norestore", "--nolockcheck", "--nodefault",
            "--nologo", f"-env:UserInstallation={_profile_dir().as_uri()}",
            f"--infilter={infilter}", "--convert-to", "docx:MS Word 2007 XML",
            "--outdir", str(out), str(source),
        ]
        _run(command, timeout=timeout, cwd=work)
        result = out / "input.docx"
        if not result.is_file() or result.stat().st_size == 0:
            logger.warning("LibreOffice produced no .docx (filter %s)", infilter)
            raise BrokenFile(MSG_DOC_BROKEN)
        if result.stat().st_size > MAX_OUTPUT_BYTES:
            raise BrokenFile(MSG_DOC_BROKEN)
        return result.read_bytes()


def _run(command: list[str], *, timeout: float, cwd: str) -> None:
    env = {**os.environ, "HOME": cwd, "SAL_USE_VCLPLUGIN": "svp"}
    with subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            proc.communicate()
            logger.warning("LibreOffice did not finish within %.0f s", timeout)
            raise FileTooLarge(MSG_DOC_TIMEOUT.format(seconds=round(timeout))) from exc
        finally:
            if proc.poll() is None:
                _kill_group(proc)
    if proc.returncode != 0:
        logger.warning("LibreOffice exited with %s: %s", proc.returncode,
                       stderr.decode(errors="replace")[-500:])
        raise BrokenFile(MSG_DOC_BROKEN)
    logger.debug("LibreOffice: %s", stdout.decode(errors="replace").strip())


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
