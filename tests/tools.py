"""External programs some tests need: Tesseract (with its Vietnamese model) and LibreOffice.

``./scripts/test.sh`` installs both when it runs as root (CI does). A test that needs a
missing program FAILS, so CI never passes by skipping: only an explicit environment variable
saying this machine has no such program turns the failure into a skip:

- ``BOT_TESTS_NO_TESSERACT=1``: no ``tesseract`` with ``tesseract-ocr-vie`` here;
- ``BOT_TESTS_NO_LIBREOFFICE=1``: no ``soffice`` here.
"""

from __future__ import annotations

import os

import pytest

from bot.plans.convert import find_soffice
from bot.plans.scan import find_tesseract

NO_TESSERACT = "BOT_TESTS_NO_TESSERACT"
NO_LIBREOFFICE = "BOT_TESTS_NO_LIBREOFFICE"


def _missing(variable: str, what: str, install: str) -> None:
    if os.environ.get(variable) == "1":
        pytest.skip(f"{what} is not installed and {variable}=1 says so")
    pytest.fail(f"{what} is not installed: run ./scripts/test.sh as root, or `apt-get install "
                f"{install}`; on a machine that cannot have it set {variable}=1 to skip.",
                pytrace=False)


def need_tesseract() -> str:
    """The tesseract path; fails the test (or skips it, see above) when it is missing."""
    path = find_tesseract()
    if path is None:
        _missing(NO_TESSERACT, "Tesseract with the Vietnamese model",
                 "tesseract-ocr tesseract-ocr-vie")
    assert path is not None
    return path


def need_soffice() -> str:
    """The soffice path; fails the test (or skips it, see above) when it is missing."""
    path = find_soffice()
    if path is None:
        _missing(NO_LIBREOFFICE, "LibreOffice", "libreoffice-writer-nogui")
    assert path is not None
    return path
