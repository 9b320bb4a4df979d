"""Conversation throughput: turns per second through Dialog and the store, p99 latency.

Run: python benchmarks/dialog.py [--turns 5000] [--users 200] [--runs 3] [--db postgresql://…]
Each turn is a real Dialog.handle with state read and written and the question logged, as in
production (SQLite: WAL, synchronous=NORMAL; or the PostgreSQL database `--db`). Pin to one core
with `taskset -c 0` for the target figure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.config import database_location, load_config  # noqa: E402
from bot.messages import Incoming  # noqa: E402

JOURNEY = [
    ("text", "lam giay khai sinh cho con can gi"), ("action", "proc:dang-ky-khai-sinh:fees"),
    ("text", "thế lệ phí bao nhiêu"), ("text", "chứng thực"), ("text", "2"),
    ("text", "đăng ký tạm trú online được không"), ("action", "menu"), ("text", "giá vàng hôm nay"),
]


async def run_once(turns: int, users: int, database: str | None) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        config = dataclasses.replace(load_config(ROOT / "config.yaml", env={}),
                                     database=database_location(database) if database else Path(tmp) / "b.sqlite3")
        app = await build_app(config)
        latencies: list[float] = []
        start = time.perf_counter()
        for i in range(turns):
            kind, value = JOURNEY[i % len(JOURNEY)]
            incoming = Incoming("bench", str(i % users), **{kind: value})
            t0 = time.perf_counter()
            await app.dialog.handle(incoming)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        await app.close()
    return turns / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=5000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL URL (default: a new SQLite file per run)")
    args = parser.parse_args()
    rates, p50s, p99s = [], [], []
    for _ in range(args.runs):
        rate, lat = asyncio.run(run_once(args.turns, args.users, args.db))
        lat.sort()
        rates.append(rate)
        p50s.append(1000 * lat[len(lat) // 2])
        p99s.append(1000 * lat[int(0.99 * (len(lat) - 1))])
    print(f"turns/s median {statistics.median(rates):.0f}  (runs: {', '.join(f'{r:.0f}' for r in rates)})")
    print(f"p50 ms median {statistics.median(p50s):.2f}   p99 ms median {statistics.median(p99s):.2f}")


if __name__ == "__main__":
    main()
