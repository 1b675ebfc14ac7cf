"""The bot's self-description: command menu, /help and /start texts."""

from __future__ import annotations

import re

import pytest

from bot.text import fold
from handlers.texts import (
    ADMIN_COMMANDS,
    COMMAND_SPECS,
    COMMANDS,
    HELP,
    HELP_ADMIN,
    START,
    START_ADMIN,
    help_text,
    start_text,
)
from localchat.fakeapi import check_html

REQUIRED = (
    "start", "help", "dangky", "huydangky", "donvi", "nhiemvu", "chitiet", "sapden", "quahan",
    "timkiem", "xong", "mo", "giahan", "thongke", "vanban", "nhacnho", "tamhoan", "thongbao",
    "thanhvien", "moi", "baocao", "lich_ics", "gopdonvi", "tiendo", "xingiahan",
    "giao", "sua", "xoa", "khoiphuc",  # issue 10
)


def test_menu_covers_every_command_once() -> None:
    names = [name for name, _ in COMMANDS]
    assert sorted(names) == sorted(REQUIRED)
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("name", "description"), COMMANDS)
def test_menu_entry_is_valid_for_telegram(name: str, description: str) -> None:
    assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
    assert 3 <= len(description) <= 256
    assert description == description.strip()


@pytest.mark.parametrize(("name", "description"), COMMANDS)
def test_descriptions_are_vietnamese_with_diacritics(name: str, description: str) -> None:
    # folding strips diacritics: a description written without them would be unchanged
    assert fold(description) != description.lower()


def test_admin_commands_are_marked() -> None:
    assert {"giahan", "thongbao", "moi", "gopdonvi", "giao", "sua", "xoa",
            "khoiphuc"} <= ADMIN_COMMANDS
    assert not {"start", "help", "dangky", "nhiemvu", "xong", "thanhvien"} & ADMIN_COMMANDS


@pytest.mark.parametrize("text", [HELP, HELP_ADMIN, START, START_ADMIN])
def test_texts_are_valid_telegram_html_within_one_message(text: str) -> None:
    visible = check_html(text)  # raises like Telegram on a stray "<" or unbalanced tag
    assert len(visible) <= 4096
    assert "<mã>" in visible  # usage placeholders reach the user as typed


def test_help_lists_usage_of_every_user_command() -> None:
    visible = check_html(help_text(False))
    for spec in COMMAND_SPECS:
        if spec.admin:
            assert spec.usage not in visible
        else:
            assert spec.usage in visible


def test_admin_help_adds_admin_commands_and_upload() -> None:
    visible = check_html(help_text(True))
    for spec in COMMAND_SPECS:
        assert spec.usage in visible
    assert "quản trị viên" in visible
    assert ".docx" in visible


def test_start_explains_in_a_few_lines_then_lists_commands() -> None:
    visible = check_html(start_text(False))
    about = visible.split("Các lệnh")[0].strip().splitlines()
    assert 3 <= len([line for line in about if line.strip()]) <= 6
    assert "/dangky" in about[1]
    assert "/nhiemvu" in visible.split("Các lệnh")[1]
