"""Benchmark: the reader and parser against hostile documents, each in its own process.

Run from the repository root::

    .venv/bin/python -m bench.hostile [--quick] [--only TEXT] [--memory MB]

The corpus is tests/hostile_files.py (list numbering bombs, zip bombs, billion laughs, XXE,
deep nesting, 50,000 lines, a 10 MB line, …) plus, unless ``--quick``, the shapes at the limits
(the slowest text that fits in MAX_TEXT_CHARS, the largest .docx XML, the 1 GB zip bomb). Each
document is built here, then read as an upload is (check_upload, load_plan_bytes, parse_lines)
in a child process under RLIMIT_AS (``--memory``, 1024 MB by default), one at a time. It prints,
per document, the file size, the outcome (read, or refused with a Vietnamese message), the time
to read and parse (imports excluded), and the child's peak resident and virtual memory (a bare
child importing the reader peaks near 40 MB resident); then the worst time and the worst
memory. Why: an upload must end, whatever it holds, within the limits of bot/plans/source.py,
and these are the figures to hold them against.
"""

from __future__ import annotations

import argparse
import sys

from bot.plans import source
from tests.hostile_files import AT_THE_LIMITS, CASES, MEMORY_LIMIT, Hostile, run_isolated

_MB = 1024 * 1024


def limits() -> str:
    return (f"limits: text {source.MAX_TEXT_CHARS:,} characters, parse "
            f"{source.MAX_PARSE_SECONDS:.0f} s, file {source.MAX_FILE_BYTES // _MB} MB, .docx "
            f"{source.MAX_DOCX_PARTS:,} parts / {source.MAX_DOCX_UNZIPPED_BYTES // _MB} MB "
            f"unzipped / {source.MAX_DOCX_XML_BYTES // _MB} MB XML, list numbers <= 32,767, "
            f"tables <= {source.MAX_TABLE_COLUMNS} columns")


def check(case: Hostile, report: dict) -> str:
    """"ok" when the outcome is what the corpus expects, else what went wrong."""
    outcome = report["outcome"]
    if outcome not in case.outcome.split(" or "):
        return f"EXPECTED {case.outcome.upper()}: {report.get('message', '')[:120]}"
    if outcome == "refused" and case.outcome == "refused" and case.expect not in \
            report["message"]:
        return f"MESSAGE LACKS {case.expect!r}"
    if outcome == "read" and not (report["found"] and report["missing"]
                                  and report["tasks"] >= case.tasks):
        return "TEXT OR TASKS WRONG"
    return "ok"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hostile",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the test corpus only")
    ap.add_argument("--only", default="", help="documents whose name contains this text")
    ap.add_argument("--memory", type=int, default=MEMORY_LIMIT // _MB,
                    help="address space of each child, in MB (RLIMIT_AS)")
    args = ap.parse_args(argv)
    cases = [c for c in (*CASES, *(() if args.quick else AT_THE_LIMITS))
             if args.only.lower() in c.name.lower()]
    print(limits())
    print(f"each document read in a child process with RLIMIT_AS = {args.memory} MB")
    print()
    print(f"{'document':46} {'file KB':>8} {'outcome':>8} {'ms':>7} {'RSS MB':>7} "
          f"{'VM MB':>6}  check")
    rows = []
    for case in cases:
        report = run_isolated(case, memory=args.memory * _MB)
        verdict = check(case, report)
        rows.append((case, report, verdict))
        print(f"{case.name[:46]:46} {report['size'] / 1024:>8.0f} {report['outcome']:>8} "
              f"{report.get('seconds', 0) * 1000:>7.0f} {report.get('peak_mb', 0):>7.0f} "
              f"{report.get('peak_vm_mb', 0):>6.0f}  {verdict}", flush=True)
    if not rows:
        print("Không có tài liệu nào khớp --only.", file=sys.stderr)
        return 2
    slowest = max(rows, key=lambda r: r[1].get("seconds", 0))
    largest = max(rows, key=lambda r: r[1].get("peak_mb", 0))
    failures = [r for r in rows if r[2] != "ok"]
    print()
    print(f"worst time: {slowest[1].get('seconds', 0):.2f} s ({slowest[0].name}); "
          f"parse limit {source.MAX_PARSE_SECONDS:.0f} s")
    print(f"worst memory: {largest[1].get('peak_mb', 0):.0f} MB resident, "
          f"{largest[1].get('peak_vm_mb', 0):.0f} MB virtual ({largest[0].name}); "
          f"child limit {args.memory} MB")
    print(f"{len(rows) - len(failures)}/{len(rows)} documents ended as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
