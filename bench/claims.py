"""Benchmark: what "claim before send" costs the TinyDB store per message.

Run from the repository root::

    .venv/bin/python -m bench.claims [--messages 300] [--padding-mb 0]

Every message is now written twice to the delivery log: the claim (before the send) and the
outcome (after). This times ``record_delivery`` alone (the old path) against
``claim_delivery`` + ``record_delivery`` (the new one) on a fresh store, and with
``--padding-mb`` on a store already past the 4 MB at which changes become journal appends.
Why: the writes run on the event loop between sends; at Telegram's 30 messages/s a message
has 33 ms, and the store's share of it must stay small.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.store import Store

NOW = datetime(2022, 12, 20, 7, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def _pad(store: Store, megabytes: float) -> None:
    """Old delivery rows of ~1 KB until ``megabytes``, in one write (store internals)."""
    from bot.records import Delivery
    from bot.store import _Batch

    batch = _Batch(store._seq)
    rows = []
    for i in range(int(megabytes * 1024)):
        delivery = Delivery(f"pad:{i}", 1, "failed", NOW - timedelta(days=1), "x" * 1000)
        row_id = batch.next_id("deliveries")
        batch.put("deliveries", row_id, delivery.to_row())
        rows.append((delivery.key, row_id, delivery))
    store._commit(batch)
    for key, row_id, delivery in rows:
        store._deliveries[key] = (row_id, delivery)


def run(messages: int, padding_mb: float) -> dict[str, float]:
    out = {}
    for mode in ("record only", "claim + record"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bot.json"
            with Store(path) as store:
                if padding_mb:
                    _pad(store, padding_mb)
                times = []
                for i in range(messages):
                    key = f"digest:{i}:2022-12-20:1"
                    start = time.perf_counter()
                    if mode == "claim + record":
                        assert store.claim_delivery(key, chat_id=i, now=NOW)
                    store.record_delivery(key, chat_id=i, status="sent", now=NOW)
                    times.append(time.perf_counter() - start)
                size = path.stat().st_size
        out[mode] = statistics.median(times) * 1000
        out[f"{mode} p95"] = sorted(times)[int(len(times) * 0.95)] * 1000
        print(f"{mode:>15}: median {out[mode]:.2f} ms, p95 {out[f'{mode} p95']:.2f} ms per "
              f"message ({messages} messages, bot.json {size / 2**20:.1f} MB)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--padding-mb", type=float, default=0.0,
                        help="fill the store to this size first (4+: journal mode)")
    args = parser.parse_args()
    run(args.messages, args.padding_mb)


if __name__ == "__main__":
    main()
