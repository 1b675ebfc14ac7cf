"""handlers.common: Telegram's length (UTF-16) in the splitter, and replies that always fit."""

from __future__ import annotations

import html

import pytest

from bot.text import clip, quote, utf16_len, utf16_prefix
from handlers.common import split_html, visible_length
from localchat.fakeapi import check_html, literal_ampersands

LIMIT = 4096


@pytest.mark.parametrize(("text", "expected"), [
    ("Hạn <b>30/6</b>", 8),
    ("📋 &lt;gấp&gt; &amp;", 10),     # the emoji is 2 code units, each entity 1
    ("&#128203;", 2),
    ("😀" * 2600, 5200),
])
def test_visible_length_counts_utf16_after_tags_and_entities(text: str, expected: int) -> None:
    assert visible_length(text) == expected


@pytest.mark.parametrize("text", [
    "😀" * 2600,                                  # one line: 2,600 emoji = 5,200 units
    "\n".join(["📋 Nhiệm vụ " + "😀" * 30] * 120),  # many lines
    "A&amp;B " * 1200,                              # entities never cut in half
    "x" * 9000,                                     # one enormous word
])
def test_every_part_fits_telegram(text: str) -> None:
    parts = split_html(text)
    assert len(parts) >= 2
    for part in parts:
        visible = check_html(part)  # the fake reads it as Telegram does
        assert utf16_len(visible) <= LIMIT
        assert literal_ampersands(part) == 0
    joined = "".join(html.unescape(p) for p in parts).replace("\n", "").replace(" ", "")
    assert joined == html.unescape(text).replace("\n", "").replace(" ", "")


def test_helpers_never_split_an_emoji() -> None:
    assert utf16_prefix("😀😀", 3) == "😀"
    assert utf16_len(clip("😀" * 100, 11)) <= 11
    assert quote("x" * 4090).endswith("…") and len(quote("x" * 4090)) == 100
    assert quote("  a \n b  ") == "a b"
