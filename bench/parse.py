"""Benchmark: the plan parser against a general date library on the sample plans.

Run from the repository root::

    .venv/bin/python -m bench.parse [--runs 15] [--warmups 2] [--dp-runs 3] [FILE ...]

For each document it prints the parser's time per parse in-process (median of ``--runs``
after ``--warmups``, via time.perf_counter around bot.plans.parse_file), the time
dateparser.search.search_dates(line, languages=["vi"]) takes over the same non-blank lines
(median of ``--dp-runs`` after one warm-up call), their ratio, and how many date mentions
dateparser reported against how many deadlines the parser kept (and the gold answer's count,
when tests/gold has one). Why: the bot parses every uploaded plan synchronously, so the parser
must stay well under the 30 ms/document target, and dateparser shows how much a general date
reader over-reports (issue dates of cited documents, horizons, percentages).

Then scaling: texts of 50, 100 and 200 KB built from the real passages under tests/real,
tests/holdout and tests/final (distinct paragraphs, each kept whole, in a shuffled order), parsed
once as a plan of many paragraphs and once as a single paragraph under a directing heading (the
worst case for sentence and clause scans). It prints ms and ms/KB for each; a linear parser keeps
ms/KB flat as the size doubles (``--scaling 0`` skips it).

Then OCR: a scanned công văn is generated (tests/fixture_files.py: text rendered with Pillow at
200 dpi, wrapped as an image-only PDF of ``--ocr-pages`` pages) and read through the PDF
reader; it prints, per page, the time to render it (PDFium, 300 dpi) and to recognise it
(Tesseract, Vietnamese model), the page's confidence, and the whole read. Pass
``--ocr-pages 0`` to skip it (it needs ``tesseract-ocr-vie``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import random
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from bot.plans import parse_file, parse_text, scan
from bot.plans.readers import load_plan_bytes, read_plan_file

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
GOLD = ROOT / "tests" / "gold"
TARGET_MS = 30.0


@dataclass(frozen=True, slots=True)
class Row:
    """Figures for one document."""

    name: str
    lines: int
    parser_ms: float
    dateparser_ms: float
    mentions: int
    deadlines: int
    gold: int | None


def time_parser(path: Path, runs: int, warmups: int) -> tuple[float, int]:
    """Median milliseconds per parse_file(path), and the number of deadlines kept."""
    for _ in range(warmups):
        parse_file(path)
    samples = []
    plan = None
    for _ in range(runs):
        start = time.perf_counter()
        plan = parse_file(path)
        samples.append((time.perf_counter() - start) * 1000)
    assert plan is not None
    kept = {(d.line, d.due, d.phrase) for t in plan.tasks for d in t.deadlines}
    return statistics.median(samples), len(kept)


def time_dateparser(lines: list[str], runs: int) -> tuple[float, int]:
    """Median milliseconds for search_dates over every line, and the mentions it reported."""
    from dateparser.search import search_dates

    search_dates("Hoàn thành trước ngày 15/12/2022.", languages=["vi"])  # warm-up: loads data
    samples = []
    mentions = 0
    for _ in range(runs):
        mentions = 0
        start = time.perf_counter()
        for line in lines:
            found = search_dates(line, languages=["vi"])
            mentions += len(found or ())
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), mentions


def gold_count(path: Path) -> int | None:
    gold = GOLD / f"{path.stem}.json"
    if not gold.is_file():
        return None
    return len(json.loads(gold.read_text(encoding="utf-8")).get("deadlines") or [])


def measure(path: Path, runs: int, warmups: int, dp_runs: int) -> Row:
    lines = [ln.text for ln in read_plan_file(path) if ln.text.strip()]
    parser_ms, kept = time_parser(path, runs, warmups)
    dp_ms, mentions = time_dateparser(lines, dp_runs)
    return Row(path.name, len(lines), parser_ms, dp_ms, mentions, kept, gold_count(path))


def report(rows: list[Row], runs: int, warmups: int, dp_runs: int) -> str:
    out = [
        f"parser: bot.plans.parse_file, median of {runs} runs after {warmups} warm-ups; "
        f"dateparser: search_dates(line, languages=['vi']) per non-blank line, median of "
        f"{dp_runs} runs after a warm-up call",
        "",
        f"{'document':28} {'lines':>5} {'parser ms':>10} {'dateparser ms':>14} {'ratio':>7} "
        f"{'dp mentions':>12} {'deadlines':>10} {'gold':>5}",
    ]
    for r in rows:
        ratio = r.dateparser_ms / r.parser_ms if r.parser_ms else float("inf")
        gold = "-" if r.gold is None else str(r.gold)
        out.append(f"{r.name[:28]:28} {r.lines:>5} {r.parser_ms:>10.1f} {r.dateparser_ms:>14.1f} "
                   f"{ratio:>6.1f}x {r.mentions:>12} {r.deadlines:>10} {gold:>5}")
    parser_total = sum(r.parser_ms for r in rows)
    dp_total = sum(r.dateparser_ms for r in rows)
    worst = max(rows, key=lambda r: r.parser_ms)
    golds = [r.gold for r in rows if r.gold is not None]
    out += [
        f"{'total':28} {sum(r.lines for r in rows):>5} {parser_total:>10.1f} {dp_total:>14.1f} "
        f"{dp_total / parser_total if parser_total else float('inf'):>6.1f}x "
        f"{sum(r.mentions for r in rows):>12} {sum(r.deadlines for r in rows):>10} "
        f"{sum(golds) if golds else '-':>5}",
        "",
        f"parser mean {parser_total / len(rows):.1f} ms/document, "
        f"slowest {worst.parser_ms:.1f} ms ({worst.name})",
        f"target: <= {TARGET_MS:.0f} ms per sample document -> "
        + ("OK" if worst.parser_ms <= TARGET_MS else "OVER"),
    ]
    return "\n".join(out)


def _passages() -> list[str]:
    """Paragraphs of the real passages collected under tests/ (distinct texts, real wording)."""
    out: list[str] = []
    for folder in ("real", "holdout", "final"):
        for path in sorted((ROOT / "tests" / folder).glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            out += [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40]
    return out


def _build(paragraphs: list[str], size: int, joiner: str) -> str:
    body: list[str] = []
    total = 0
    for p in itertools.cycle(paragraphs):
        if total >= size:
            break
        body.append(p)
        total += len(p.encode()) + len(joiner)
    return joiner.join(body)


def scaling_report(sizes: list[int], runs: int = 3) -> str:
    """Parse time against input size, for a many-paragraph plan and a single paragraph."""
    paragraphs = _passages()
    random.Random(7).shuffle(paragraphs)
    head = "KẾ HOẠCH\nThực hiện nhiệm vụ năm 2024\n\nII. NHIỆM VỤ TRỌNG TÂM\n1. "
    out = [f"scaling: {len(paragraphs)} distinct paragraphs of the real passages, best of {runs} "
           "runs of bot.plans.parse_text", "",
           f"{'shape':12} {'KB':>5} {'ms':>8} {'ms/KB':>7} {'tasks':>6}"]
    per_kb: dict[str, list[float]] = {}
    for shape, joiner in (("plan", "\n\n"), ("paragraph", " ")):
        for kb in sizes:
            text = head + _build(paragraphs, kb * 1000, joiner).replace("\n", " ") \
                if shape == "paragraph" else _build(paragraphs, kb * 1000, joiner)
            best, plan = float("inf"), None
            for _ in range(runs):
                start = time.perf_counter()
                plan = parse_text(text)
                best = min(best, (time.perf_counter() - start) * 1000)
            size_kb = len(text.encode()) / 1000
            per_kb.setdefault(shape, []).append(best / size_kb)
            out.append(f"{shape:12} {size_kb:>5.0f} {best:>8.0f} {best / size_kb:>7.2f} "
                       f"{len(plan.tasks) if plan else 0:>6}")
    out.append("")
    for shape, values in per_kb.items():
        out.append(f"{shape}: ms/KB at {sizes[-1]} KB / at {sizes[0]} KB = "
                   f"{values[-1] / values[0]:.2f} (1.0 is linear)")
    return "\n".join(out)


def ocr_report(pages: int) -> str:
    """Per-page render and recognition times for a generated scan of ``pages`` pages."""
    import pypdfium2

    from tests.fixture_files import cong_van_image, scan_pdf

    tesseract = scan.find_tesseract()
    if tesseract is None:
        return ("OCR: Tesseract with the Vietnamese model is not installed "
                "(apt-get install tesseract-ocr tesseract-ocr-vie); skipped")
    data = scan_pdf([cong_van_image(seed=n) for n in range(pages)])
    document = pypdfium2.PdfDocument(data)
    out = [f"OCR: generated scan of {pages} page(s) (A4 image at 200 dpi), rendered at "
           f"{scan.OCR_DPI} dpi, tesseract -l {scan.OCR_LANGUAGE}, "
           f"OMP_THREAD_LIMIT={os.environ.get('OMP_THREAD_LIMIT')}",
           "", f"{'page':>4} {'render ms':>10} {'ocr ms':>8} {'confidence':>11} {'lines':>6}"]
    ocr_ms = []
    try:
        for index in range(pages):
            start = time.perf_counter()
            image = scan.render_page(document[index])
            render_ms = (time.perf_counter() - start) * 1000
            page = scan.recognise(image, page=index + 1, tesseract=tesseract, timeout=120)
            ocr_ms.append(page.seconds * 1000)
            confidence = "-" if page.confidence is None else f"{page.confidence:.1f}"
            out.append(f"{index + 1:>4} {render_ms:>10.0f} {page.seconds * 1000:>8.0f} "
                       f"{confidence:>11} {len([x for x in page.lines if x]):>6}")
    finally:
        document.close()
    start = time.perf_counter()
    text = load_plan_bytes(data, "scan.pdf")
    whole = time.perf_counter() - start
    out += ["", f"OCR mean {statistics.mean(ocr_ms):.0f} ms/page, median "
            f"{statistics.median(ocr_ms):.0f} ms/page; whole read (render + OCR + repair) "
            f"{whole:.2f} s for {pages} page(s), {len(text.lines)} lines"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.parse", description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="plans (default: data/samples/*.txt)")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmups", type=int, default=2)
    ap.add_argument("--dp-runs", type=int, default=3)
    ap.add_argument("--scaling", type=int, default=200,
                    help="largest text for the scaling figures, in KB (0: none)")
    ap.add_argument("--ocr-pages", type=int, default=3,
                    help="pages of the generated scan to recognise (0: no OCR figures)")
    args = ap.parse_args(argv)
    files = args.files or sorted(SAMPLES.glob("*.txt"))
    if not files:
        print("Không có tệp mẫu nào để đo.", file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateparser's deprecation chatter
        rows = [measure(p, args.runs, args.warmups, args.dp_runs) for p in files]
    print(report(rows, args.runs, args.warmups, args.dp_runs))
    if args.scaling > 0:
        print()
        print(scaling_report([args.scaling // 4, args.scaling // 2, args.scaling]))
    if args.ocr_pages > 0:
        print()
        print(ocr_report(args.ocr_pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
