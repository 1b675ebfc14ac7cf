"""Tests for bot.plans.structure: blocks built in linear time with the same text and offsets."""

from __future__ import annotations

import random

import pytest

from bot.plans.source import SourceLine
from bot.plans.structure import NOISE_TAIL_RE, Block, _noise_tail_start, build_blocks, clean_line


def _naive(pieces: list[str]) -> tuple[str, list[int]]:
    """The joining rule written plainly (the text rebuilt at each line, as it used to be)."""
    text, starts = "", []
    for piece in pieces:
        if not text:
            starts.append(0)
            text = piece
            continue
        if text.endswith("-") and piece[:1].isalnum() and not text.endswith(" -"):
            joined = text  # "16-\nNQ/TU": a word split at the line end
        else:
            joined = text.rstrip() + " "
        starts.append(len(joined))
        text = joined + piece
    return text, starts


@pytest.mark.parametrize(("pieces", "text", "starts"), [
    (["Giao Sở Y tế", "chủ trì"], "Giao Sở Y tế chủ trì", [0, 13]),
    (["Nghị quyết 16-", "NQ/TU"], "Nghị quyết 16-NQ/TU", [0, 14]),
    (["giai đoạn 2021 -", "2025"], "giai đoạn 2021 - 2025", [0, 17]),
    (["a  ", "b"], "a b", [0, 2]),
    (["", "b"], "b", [0, 0]),
    (["x", "-", "a"], "x - a", [0, 2, 4]),
])
def test_block_joins_lines(pieces: list[str], text: str, starts: list[int]) -> None:
    block = Block(marker="", level=9)
    for number, piece in enumerate(pieces, start=1):
        block.append(piece, number)
    assert (block.text, block.starts, block.lines) == (text, starts,
                                                        list(range(1, len(pieces) + 1)))
    assert _naive(pieces) == (text, starts)


def test_block_text_and_tail_match_the_plain_rule() -> None:
    rng = random.Random(4)
    words = ["a", "b", "-", " ", " -", "x-", "1", "", "  ", "\t", "Ắ", "-a", "a -", " - "]
    for _ in range(20_000):
        pieces = ["".join(rng.choice(words) for _ in range(rng.randint(0, 3)))
                  for _ in range(rng.randint(1, 6))]
        block = Block(marker="", level=9)
        for number, piece in enumerate(pieces):
            block.append(piece, number)
            text, _ = _naive(pieces[:number + 1])
            size = rng.randint(1, 6)
            assert block.tail(size) == text.rstrip()[-size:], pieces
        assert (block.text, block.starts) == _naive(pieces), pieces


def test_a_paragraph_of_50000_lines_is_one_block_with_every_line() -> None:
    lines = [SourceLine(1, "1. Giao Sở Y tế chủ trì, phối hợp với")]
    lines += [SourceLine(n, "các đơn vị tổ chức") for n in range(2, 50_002)]
    [block] = build_blocks(lines)
    assert block.lines == list(range(1, 50_002))
    assert block.text == "Giao Sở Y tế chủ trì, phối hợp với" + " các đơn vị tổ chức" * 50_000
    assert block.line_at(len(block.text) - 1) == 50_001


def test_noise_tail_is_found_as_the_regex_specifies() -> None:
    rng = random.Random(8)
    alphabet = ["•", "·", " ", "a", "b", ",", "x", "_", "1", "\t", "\u00a0", "Ư"]
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        match = NOISE_TAIL_RE.search(text)
        assert _noise_tail_start(text) == (match.start() if match else None), text


@pytest.mark.parametrize(("line", "expected"), [
    ("Báo cáo kết quả • • 3", "Báo cáo kết quả"),
    ("Báo cáo • ab •", "Báo cáo"),
    ("Báo cáo • abc", "Báo cáo • abc"),
    ("•" * 100_000 + "xyz" + "•" * 100_000, "•" * 100_000 + "xyz"),
    ("•" * 100_000 + "x" + "•" * 100_000, ""),
])
def test_clean_line_drops_bullet_noise_at_the_end(line: str, expected: str) -> None:
    assert clean_line(line) == expected
