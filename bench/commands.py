"""Benchmark: the bot's commands on a big database (1,000 / 10,000 / 100,000 tasks).

Run from the repository root::

    .venv/bin/python -m bench.commands [--backend tinydb] [--sizes 1000 10000 100000]
        [--queries 200]

For each size it fills a database with the five sample plans replicated across many
localities (each copy brings its own units, as many communes would), then prints:

- p50/p95 time to build the reply of ``/nhiemvu`` and ``/sapden`` in-process (the page
  functions the handlers call, minus the network), for one unit per chat (each query a
  different unit, so no cached list helps) and for an admin listing every unit (cache dropped
  before each call);
- time to import each sample plan into that database (parse + store + atomic write of the
  whole file) and to mark one task done (one atomic write);
- start-up time (open the database and build the Application) and peak memory of a fresh
  process doing that start-up plus the queries (``ru_maxrss``).

Every task text is distinct (each copy of a plan marks its texts), so neither memory nor
search profits from repeated texts. /timkiem is timed for every unit (cache dropped) and for
one unit; /xong over 40 tasks (one transaction, one journal line each).

Targets at 100,000 tasks: /nhiemvu p95 ≤ 20 ms, /xong ≤ 50 ms, start-up ≤ 2 s,
memory ≤ 250 MB.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2022, 12, 20)
NOW = datetime(2022, 12, 20, 9, 0, tzinfo=TZ)
TARGETS = {"nhiemvu_p95_ms": 20.0, "xong_ms": 50.0, "startup_s": 2.0, "memory_mb": 250.0}


def _plans() -> list[tuple[str, Any]]:
    from bot.plans import parse_file

    return [(p.name, parse_file(p)) for p in sorted(SAMPLES.glob("*.txt"))]


def _distinct(plan: Any, copy: int) -> Any:
    """The plan with every task text made distinct (no two tasks of the database share a
    text: memory and search are measured without the help of repeated texts)."""
    tasks = tuple(replace(t, text=f"{t.text} [bản {copy}, dòng {t.line}]") for t in plan.tasks)
    return replace(plan, tasks=tasks)


def open_store(backend: str, path: Path, *, lock: bool = False) -> Any:
    """The store of ``backend`` on ``path`` (another backend adds itself here)."""
    from bot.store import Store

    if backend == "tinydb":
        return Store(path, lock=lock)
    raise SystemExit(f"unknown backend {backend!r}")


def fill(path: Path, size: int, backend: str = "tinydb") -> int:
    """Write a database of about ``size`` tasks, every text distinct (one transaction per
    100 imports, as a bulk load would)."""
    plans = _plans()
    store = open_store(backend, path, lock=True)
    copy = 0
    try:
        while store.task_count < size:
            with store.repo.transaction():
                for _ in range(100):
                    if store.task_count >= size:
                        break
                    name, plan = plans[copy % len(plans)]
                    doc = plan.document
                    place = f"Xã Thử {copy // len(plans) + 1}"
                    clone = replace(_distinct(plan, copy), document=replace(
                        doc, locality=place,
                        number=f"{doc.number}-{copy}" if doc.number else None,
                        issuer=f"{doc.issuer or 'UBND'} {place}"))
                    store.import_plan(clone, filename=name, file_hash=f"bench-{copy}",
                                      actor=None, now=NOW)
                    copy += 1
        if hasattr(store, "compact"):
            store.compact()
        return store.task_count
    finally:
        store.close()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


CHATS = 2000
"""Chats subscribed (one unit each) before timing the day's digests."""


def measure(path: Path, queries: int, backend: str = "tinydb") -> dict[str, Any]:
    """Runs in a fresh process: start-up, queries, imports, peak memory."""
    import bot.board
    from bot.clock import FixedClock
    from bot.config import Settings
    from bot.importer import import_document
    from handlers.app import build_application
    from handlers.tasks import nhiemvu_page, sapden_page, timkiem_page

    t0 = time.perf_counter()
    store = open_store(backend, path)
    app = build_application(Settings(data_dir=path.parent), store, FixedClock(NOW),
                            token="123:bench")
    startup = time.perf_counter() - t0
    del app
    gc.collect()

    # Older versions memoised lists per store; dropping that memo keeps figures comparable.
    forget = getattr(bot.board, "forget", lambda _store: None)
    rng = random.Random(7)
    keys = [u.key for u in store.units() if not u.generic]
    picked = rng.sample(keys, min(queries, len(keys)))
    one_unit = [_timed(lambda k=k: nhiemvu_page(store, (k,), TODAY, 1)) for k in picked]
    upcoming = [_timed(lambda k=k: sapden_page(store, (k,), TODAY, 7, 1)) for k in picked]
    every = []
    for _ in range(max(5, queries // 20)):
        forget(store)
        every.append(_timed(lambda: nhiemvu_page(store, None, TODAY, 1)))
    # An admin paging through every unit's list (pages 2-6 after page 1): what a memo of
    # the list would save.
    paging = []
    for _ in range(max(2, queries // 50)):
        forget(store)
        nhiemvu_page(store, None, TODAY, 1)
        paging += [_timed(lambda p=p: nhiemvu_page(store, None, TODAY, p)) for p in range(2, 7)]

    words = ["tiêm chủng", "kiểm tra", "báo cáo kết quả", "an toàn thực phẩm", "dân cư",
             "chuyển đổi số", "bản 17", "phòng chống"]
    search = []
    for index in range(max(10, queries // 10)):
        forget(store)
        query = words[index % len(words)]
        search.append(_timed(lambda q=query: timkiem_page(store, None, TODAY, q, 1)))
    search_unit = [_timed(lambda k=k: timkiem_page(store, (k,), TODAY, "báo cáo", 1))
                   for k in picked[:50]]

    imports = {}
    for sample in sorted(SAMPLES.glob("*.txt")):
        data = sample.read_bytes() + b"\n"  # a new file: not a duplicate of the samples
        imports[sample.name[:3]] = _timed(lambda d=data, n=sample.name: import_document(
            store, d, n, actor=None, now=NOW)) / 1000
    codes = [t.code for t in store.open_slice(None, 0, 2000)]
    done = [_timed(lambda c=c: store.mark_done(c, actor=None, now=NOW))
            for c in rng.sample(codes, min(40, len(codes)))]
    done_ms = _percentiles(done)

    # The schedule at start-up: jobs are two (digest, sweep); the work is building every
    # chat's digest for the day (the catch-up and the 07:30 run). One chat per unit followed.
    from schedules.digest import build_digests

    for index, key in enumerate(rng.sample(keys, min(CHATS, len(keys)))):
        store.subscribe(-10_000 - index, key, title=f"Nhóm {index}", chat_type="group",
                        actor=None, now=NOW)
    t0 = time.perf_counter()
    digests = build_digests(store, date(2022, 12, 23))
    digest_s = time.perf_counter() - t0
    return {
        "tasks": store.task_count, "units": len(keys), "startup_s": startup,
        "nhiemvu": _percentiles(one_unit), "sapden": _percentiles(upcoming),
        "nhiemvu_all": _percentiles(every), "nhiemvu_paging": _percentiles(paging),
        "imports_s": imports, "done_ms": done_ms,
        "timkiem_all": _percentiles(search), "timkiem_unit": _percentiles(search_unit),
        "digest_s": digest_s, "digests": len(digests), "chats": min(CHATS, len(keys)),
        "file_mb": path.stat().st_size / 1e6,
        "memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backend", default="tinydb", choices=["tinydb"],
                        help="the store to measure (default: the embedded TinyDB file)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.queries, args.backend)))
        return 0

    print(f"backend: {args.backend}; every task text distinct")
    print("size | tasks | units | fill s | file MB | start-up s | /nhiemvu 1 unit p50/p95 ms | "
          "/nhiemvu all units p50/p95 ms | /sapden p50/p95 ms | /timkiem all p50/p95 ms | "
          "/timkiem 1 unit p50/p95 ms | /xong p50/p95 ms | peak MB | "
          "import 000/001/002/003/004 s")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.json"
            t0 = time.perf_counter()
            fill(path, size, args.backend)
            fill_s = time.perf_counter() - t0
            proc = subprocess.run([sys.executable, "-m", "bench.commands", "--measure",
                                   str(path), "--queries", str(args.queries),
                                   "--backend", args.backend],
                                  cwd=ROOT, capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
        imports = "/".join(f"{v:.2f}" for v in r["imports_s"].values())
        print(f"{size} | {r['tasks']} | {r['units']} | {fill_s:.1f} | {r['file_mb']:.1f} | "
              f"{r['startup_s']:.2f} | {r['nhiemvu'][0]:.2f}/{r['nhiemvu'][1]:.2f} | "
              f"{r['nhiemvu_all'][0]:.1f}/{r['nhiemvu_all'][1]:.1f} | "
              f"{r['sapden'][0]:.2f}/{r['sapden'][1]:.2f} | "
              f"{r['timkiem_all'][0]:.1f}/{r['timkiem_all'][1]:.1f} | "
              f"{r['timkiem_unit'][0]:.2f}/{r['timkiem_unit'][1]:.2f} | "
              f"{r['done_ms'][0]:.1f}/{r['done_ms'][1]:.1f} | "
              f"{r['memory_mb']:.0f} | {imports}", flush=True)
        print(f"  /nhiemvu all units, pages 2-6 after page 1: p50/p95 "
              f"{r['nhiemvu_paging'][0]:.1f}/{r['nhiemvu_paging'][1]:.1f} ms", flush=True)
        print(f"  schedule rebuild: {r['digests']} digest messages for {r['chats']} chats "
              f"built in {r['digest_s']:.2f} s (target ≤ 2 s)", flush=True)
        if size == max(args.sizes):
            checks = [("/nhiemvu p95 (1 unit)", r["nhiemvu"][1], TARGETS["nhiemvu_p95_ms"], "ms"),
                      ("/nhiemvu p95 (all units)", r["nhiemvu_all"][1],
                       TARGETS["nhiemvu_p95_ms"], "ms"),
                      ("/xong p95", r["done_ms"][1], TARGETS["xong_ms"], "ms"),
                      ("start-up", r["startup_s"], TARGETS["startup_s"], "s"),
                      ("peak memory", r["memory_mb"], TARGETS["memory_mb"], "MB")]
            for name, value, target, unit in checks:
                verdict = "met" if value <= target else "MISSED"
                print(f"  {name}: {value:.2f} {unit} vs target {target:g} {unit} "
                      f"(ratio {value / target:.2f}) — {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
