"""Benchmark: the PostgreSQL repository (bot/pgstore.py) at 100,000 and 1,000,000 tasks.

Run from the repository root::

    .venv/bin/python -m bench.pg [--sizes 100000 1000000] [--queries 300] [--url postgresql://…]

Without ``--url`` it starts a throwaway server (tests/pgcluster.py: initdb + pg_ctl in a
temporary directory, fsync off) and makes one database per size. Each database is filled with
``size`` DISTINCT tasks: the five sample plans' tasks, each text made unique, spread over
localities (a copy of the sample unit directories each), due dates over two years around
20/12/2022, a fifth done. Then a fresh process measures:

- open: ``PgRepository(url)`` (pool connected, schema checked) — the bot's start-up share;
- RSS: peak resident memory of that process after the commands' queries (``ru_maxrss``),
  and again after the unit listings below (every unit of every locality in memory at once);
- /nhiemvu equivalent: for one random unit (each query a different unit) the board's counts
  (open, overdue, due within 7 days, all) and its first page of 10 — five calls; also the admin
  view over every unit;
- /timkiem: one or two random words of the task texts (letters and digits only, as people
  type them), the first 20 matches (all units, and one unit); apart, tokens with
  punctuation ("an," "(tong"): pg_trgm does not index punctuation, so a rare token made of
  common letters is checked row by row (p50, p95, max);
- units: ``units()`` (every unit of every locality, from ``unit_list``), first and again;
  ``all(UnitDirectoryRow)`` (what /dangky's unit matching reads); ``lead_stats`` of every
  unit (/thongke of an admin);
- /xong: one transaction: the task read FOR UPDATE, the new version written, an event id
  taken and the event inserted (then reopened the same way, so the data stays as filled).

Targets at 1M: start ≤ 2 s, RSS ≤ 150 MB, list p95 ≤ 20 ms, search p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2022, 12, 20)
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
TARGETS = {"open_s": 2.0, "rss_mb": 150.0, "list_p95_ms": 20.0, "search_p95_ms": 50.0}
PAGE = 10


def _sample_store(tmp: Path) -> Any:
    """The five samples imported by the TinyDB Store: their tasks and unit directories."""
    import hashlib

    from bot.plans import parse_file
    from bot.store import Store

    store = Store(tmp / "samples.json", lock=False)
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix.lower() in (".txt", ".md", ".docx", ".pdf"):
            store.import_plan(parse_file(path), filename=path.name,
                              file_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                              actor=None, now=NOW)
    return store


def fill(url: str, size: int, tmp: Path) -> dict[str, Any]:
    """COPY ``size`` distinct tasks (and their documents, directories) into ``url``."""
    from bot.pgstore import PgRepository

    store = _sample_store(tmp)
    base = [t for d in store.documents() for t in store.document_tasks(d.id)]
    base = [t for t in base if t.lead]
    dirs = list(store.db.storage.read()["units"].values())
    docs = store.documents()
    store.close()
    per_place = len(base)
    places = -(-size // per_place)
    rng = random.Random(11)
    words = ["đợt", "bổ sung", "rà soát", "tổng hợp", "kiểm tra", "đôn đốc", "tuyên truyền"]
    t0 = time.perf_counter()
    with PgRepository(url, max_size=1) as repo, repo.transaction():
        def directories():  # type: ignore[no-untyped-def]
            for p in range(places):
                for row in dirs:
                    loc = f"{row['loc']}~{p}"
                    yield loc, {"loc": loc, "locality": f"{row.get('locality') or ''} {p}",
                                "directory": row["directory"], "version": 1}

        repo.copy_rows("units", directories())

        def documents():  # type: ignore[no-untyped-def]
            for p in range(places):
                for doc in docs:
                    doc_id = p * len(docs) + doc.id
                    yield doc_id, replace(doc, id=doc_id, file_hash=f"{doc.file_hash}-{p}",
                                          number=f"{doc.number}-{p}" if doc.number else None,
                                          task_ids=()).to_row()

        repo.copy_rows("documents", documents())

        def tasks():  # type: ignore[no-untyped-def]
            n = 0
            for p in range(places):
                for task in base:
                    n += 1
                    if n > size:
                        return
                    due = TODAY + timedelta(days=rng.randint(-365, 365)) if rng.random() < .9 \
                        else None
                    done = rng.random() < 0.2
                    def relocate(key: str, p: int = p) -> str:
                        return key.replace("|", f"~{p}|", 1)

                    new = replace(
                        task, id=n, doc_id=p * len(docs) + task.doc_id,
                        text=f"{task.text} ({rng.choice(words)} {n})",
                        lead=tuple(map(relocate, task.lead)),
                        support=tuple(map(relocate, task.support)), due=due,
                        original_due=due, due_kind="explicit" if due else None,
                        status="done" if done else "open",
                        done_at=NOW - timedelta(days=rng.randint(0, 300)) if done else None)
                    yield n, new.to_row()

        count = repo.copy_rows("tasks", tasks())
        repo.set_sequences({"tasks": count, "documents": places * len(docs)})
    with PgRepository(url) as repo, repo._pool.connection() as conn:
        conn.execute("VACUUM ANALYZE")
    return {"tasks": count, "places": places, "fill_s": round(time.perf_counter() - t0, 1)}


def _p(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (round(statistics.median(ordered), 2),
            round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2))


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def measure(url: str, queries: int) -> dict[str, Any]:
    """In a fresh process: open, the commands' queries, peak memory."""
    t0 = time.perf_counter()
    from bot.pgstore import PgRepository
    from bot.records import Event
    from bot.repository import search_fold

    repo = PgRepository(url)
    open_s = time.perf_counter() - t0
    rng = random.Random(7)
    with repo._pool.connection() as conn:
        keys = [k for (k,) in conn.execute(
            "SELECT unit_key FROM task_units GROUP BY unit_key ORDER BY random() LIMIT %s",
            (queries,))]
        texts = [r for (r,) in conn.execute(
            "SELECT folded FROM tasks TABLESAMPLE SYSTEM (1) LIMIT 2000")]
    tokens = {w for t in texts for w in t.split() if len(w) >= 3}
    vocab = sorted(w for w in tokens if w.isalnum())  # words as people type them
    marked = sorted(w for w in tokens if not w.isalnum())  # "an," "(tong" "61-kh/tu"

    def board(k: tuple[str, ...] | None) -> None:
        repo.count_tasks(k)
        repo.count_tasks(k, last=TODAY - timedelta(days=1))
        repo.count_tasks(k, last=TODAY + timedelta(days=7))
        repo.count_tasks(k, open_only=False)
        repo.task_page(k, offset=0, limit=PAGE)

    one_unit = [_timed(lambda k=k: board((k,))) for k in keys]
    three_units = [_timed(lambda i=i: board(tuple(rng.sample(keys, 3)))) for i in range(queries)]
    admin = [_timed(lambda: board(None)) for _ in range(max(10, queries // 10))]
    page_only = [_timed(lambda k=k: repo.task_page((k,), offset=PAGE, limit=PAGE)) for k in keys]
    searches = [search_fold(" ".join(rng.sample(vocab, rng.choice((1, 2)))))
                for _ in range(queries)]
    search_all = [_timed(lambda q=q: repo.search_tasks(q.split(), limit=20)) for q in searches]
    search_unit = [_timed(lambda q=q, k=k: repo.search_tasks(q.split(), [k], limit=20))
                   for q, k in zip(searches, keys, strict=False)]
    punct = [" ".join(rng.sample(marked, 1) + rng.sample(vocab, rng.choice((0, 1))))
             for _ in range(max(20, queries // 5))]
    search_punct = [_timed(lambda q=q: repo.search_tasks(q.split(), limit=20)) for q in punct]
    ids = [t.id for t in repo.task_page(None, limit=queries)]

    def done(task_id: int) -> None:
        with repo.transaction():
            task = repo.task(task_id)
            repo.put_tasks([replace(task, status="done", done_at=NOW, done_by=1)])
            repo.put(Event(repo.next_id("events"), NOW, 1, "done", task_id, task.doc_id, {}))

    def reopen(task_id: int) -> None:
        with repo.transaction():
            task = repo.task(task_id)
            repo.put_tasks([replace(task, status="open", done_at=None, done_by=None)])
            repo.put(Event(repo.next_id("events"), NOW, 1, "reopen", task_id, task.doc_id, {}))

    mark = [_timed(lambda i=i: done(i)) for i in ids]
    for i in ids:
        reopen(i)
    rss_commands = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from bot.repository import UnitDirectoryRow

    units_first = _timed(repo.units)  # every unit of every locality (admin's /donvi)
    units_again = [_timed(repo.units) for _ in range(3)]
    directories = [_timed(lambda: repo.all(UnitDirectoryRow)) for _ in range(3)]
    stats_all = _timed(lambda: repo.lead_stats(TODAY))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    repo.close()
    return {
        "open_s": round(open_s, 3), "rss_mb": round(rss_commands, 1),
        "rss_after_units_mb": round(rss, 1),
        "nhiemvu_1unit_ms": _p(one_unit), "nhiemvu_3units_ms": _p(three_units),
        "nhiemvu_admin_ms": _p(admin), "page2_ms": _p(page_only),
        "search_all_ms": _p(search_all), "search_unit_ms": _p(search_unit),
        "search_punct_ms": _p(search_punct) + (round(max(search_punct), 1),),
        "xong_ms": _p(mark), "queries": len(keys),
        "units_first_ms": round(units_first, 1), "units_again_ms": round(min(units_again), 1),
        "all_directories_ms": round(min(directories), 1),
        "lead_stats_all_ms": round(stats_all, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--url", default=None, help="an EMPTY database (default: own server)")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.queries)))
        return 0
    import tempfile

    sys.path.insert(0, str(ROOT))
    from tests.pgcluster import PgCluster

    cluster = None
    if args.url is None:
        cluster = PgCluster().start()
    try:
        for size in args.sizes:
            url = args.url or cluster.database()  # type: ignore[union-attr]
            with tempfile.TemporaryDirectory() as tmp:
                filled = fill(url, size, Path(tmp))
            out = subprocess.run([sys.executable, "-m", "bench.pg", "--measure", url,
                                  "--queries", str(args.queries)], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout
            result = {**filled, **json.loads(out.strip().splitlines()[-1])}
            print(f"== {size:,} tasks ({result['places']} localities, filled in "
                  f"{result['fill_s']} s)")
            for name, value in result.items():
                if name not in ("places", "fill_s", "tasks"):
                    print(f"  {name:18} {value}")
            checks = {"open_s": result["open_s"], "rss_mb": result["rss_mb"],
                      "list_p95_ms": result["nhiemvu_1unit_ms"][1],
                      "search_p95_ms": result["search_all_ms"][1]}
            verdict = ", ".join(f"{k} {v} {'≤' if v <= TARGETS[k] else '>'} {TARGETS[k]}"
                                for k, v in checks.items())
            print(f"  targets: {verdict}")
            sys.stdout.flush()
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
