"""How staff commands grow with the number of cases, on SQLite and on PostgreSQL.

Run: python benchmarks/staff.py [--sizes 10000 100000 1000000] [--runs 3] [--dir data/bench]
                                [--postgres postgresql://postgres@127.0.0.1:5432/test] [--drop]

For each size it seeds a database with `motcua demo seed --cases N` (a SQLite file in --dir, and
the PostgreSQL database motcua_staff_N on the --postgres server), or reuses one seeded earlier
with that many cases. Then it times, as an officer meets them: each command as a fresh `motcua`
process (wall time, Python start-up and catalog load included), `motcua chat` to its first line
of output, and a citizen's look-up (the code, then the phone's last 4 digits) in process through
`Dialog.handle`. A round times every operation once on every database in turn, so a busy spell of
the shared machine falls on all sizes alike rather than on one; the figures are the medians of
--runs rounds (of at least 40 look-ups, and their slowest), and the table ends with the growth per 10×
cases. `--drop` removes the PostgreSQL databases afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.config import database_location, load_config  # noqa: E402
from bot.messages import Incoming  # noqa: E402
from bot.storage import Store  # noqa: E402

FORMATS = ("text", "csv", "xlsx", "html", "png")
LOOKUPS = 40


def motcua(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed


def chat_ready(db: str) -> float:
    """Seconds from starting `motcua chat` to its first line (the menu, or the resumed notice)."""
    start = time.perf_counter()
    process = subprocess.Popen(motcua("chat", "--db", db), cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None and process.stdin is not None
    process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.stdin.write("thoát\n")
    process.stdin.close()
    process.wait(timeout=60)
    return elapsed


async def case_count(db: str) -> int:
    store = await Store.open(database_location(db))
    try:
        return await store.case_count()
    finally:
        await store.close()


async def lookups(db: str, count: int, round_: int) -> list[float]:
    """Seconds per look-up by a new citizen: the code, then the last four digits of the phone
    (of cases picked at random, others in each round)."""
    config = dataclasses.replace(load_config(ROOT / "config.yaml", env={}), database=database_location(db))
    app = await build_app(config)
    try:
        total = await app.store.case_count()
        rng = random.Random(f"{total}:{round_}")
        times = []
        for i in range(count):
            async with app.store.db.execute("SELECT code, phone FROM cases ORDER BY code LIMIT 1 OFFSET ?",
                                            (rng.randrange(total),)) as cur:
                row = await cur.fetchone()
            assert row is not None
            user = f"bench-{time.time_ns()}-{i}"
            start = time.perf_counter()
            await app.dialog.handle(Incoming("bench", user, text=row["code"]))
            answer = await app.dialog.handle(Incoming("bench", user, text=row["phone"][-4:]))
            times.append(time.perf_counter() - start)
            assert row["code"] in str(answer), answer
        return times
    finally:
        await app.close()


def postgres_url(base: str, size: int) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/motcua_staff_{size}"))


async def ensure_postgres(base: str, size: int) -> None:
    admin = await asyncpg.connect(base)
    try:
        name = f"motcua_staff_{size}"
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_postgres(base: str, size: int) -> None:
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "motcua_staff_{size}"')
    finally:
        await admin.close()


async def vacuum(url: str) -> None:
    """What autovacuum does within minutes of a bulk load (visibility map, hint bits), done at
    once: the figures are those of a settled database, whenever autovacuum happens to run."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM (ANALYZE) cases, case_history, ratings, rated_cases")
    finally:
        await conn.close()


def seeded(db: str, size: int) -> float | None:
    """Seed `db` with `size` cases (seconds taken), or None when it holds them already."""
    have = asyncio.run(case_count(db))
    if have == size:
        return None
    if have:
        raise SystemExit(f"{db} holds {have} cases, not {size}: remove it or choose another --dir")
    seconds = timed(motcua("demo", "seed", "--cases", str(size), "--db", db))
    if db.startswith("postgresql://"):
        asyncio.run(vacuum(db))
    return seconds


def one_round(db: str, round_: int, lookups_per_round: int, out: Path) -> dict[str, list[float]]:
    """Each operation once (the look-up `lookups_per_round` times), in seconds (look-ups in ms)."""
    today = dt.date.today()
    month = ["--from", today.replace(day=1).isoformat(), "--to", today.isoformat()]
    looked = asyncio.run(lookups(db, lookups_per_round, round_))
    row: dict[str, list[float]] = {"look-up ms": [1000 * t for t in looked],
                                   "chat ready s": [chat_ready(db)],
                                   "cases list --overdue s": [timed(motcua("cases", "list", "--overdue", "--db", db))],
                                   "cases list s": [timed(motcua("cases", "list", "--db", db))]}
    for fmt in FORMATS:
        output = [] if fmt == "text" else ["--output", str(out / f"report.{fmt}")]
        row[f"report month {fmt} s"] = [timed(motcua("report", *month, "--format", fmt, *output, "--db", db))]
    return row


def summary(rounds: list[dict[str, list[float]]]) -> dict[str, float]:
    """Medians over the rounds, and the look-up's slowest turn."""
    row: dict[str, float] = {}
    for name in rounds[0]:
        values = [v for r in rounds for v in r[name]]
        if name == "look-up ms":
            row["look-up median ms"], row["look-up max ms"] = statistics.median(values), max(values)
        else:
            row[name] = statistics.median(values)
    return row


def table(results: dict[tuple[str, int], dict[str, float]], seeds: dict[tuple[str, int], float | None]) -> str:
    keys = sorted(results)
    sizes = sorted({size for _, size in keys})
    lines = ["| operation | " + " | ".join(f"{b} {s:,}" for b, s in keys) + " |",
             "|---|" + "---|" * len(keys)]
    lines.append("| seed (s) | " + " | ".join("reused" if seeds[k] is None else f"{seeds[k]:.0f}" for k in keys) + " |")
    for name in next(iter(results.values())):
        lines.append(f"| {name} | " + " | ".join(f"{results[k][name]:.2f}" for k in keys) + " |")
    if len(sizes) > 1:
        lines.append("")
        lines.append("growth per 10× cases (ratio of medians, smallest to largest size):")
        for backend in sorted({b for b, _ in keys}):
            first, last = results[(backend, sizes[0])], results[(backend, sizes[-1])]
            steps = max(1.0, len(str(sizes[-1])) - len(str(sizes[0])))
            ratios = ", ".join(f"{n} {(last[n] / first[n]) ** (1 / steps):.2f}×" for n in first if first[n])
            lines.append(f"- {backend}: {ratios}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--postgres", default=os.environ.get("MOTCUA_TEST_POSTGRES",
                                                              "postgresql://postgres@127.0.0.1:5432/test"),
                        help="a PostgreSQL server to make the databases on; 'none' for SQLite only")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL databases at the end")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    seeds: dict[tuple[str, int], float | None] = {}
    targets: dict[tuple[str, int], str] = {}
    for size in args.sizes:
        targets[("sqlite", size)] = str(args.dir / f"staff-{size}.sqlite3")
        if args.postgres != "none":
            asyncio.run(ensure_postgres(args.postgres, size))
            targets[("postgresql", size)] = postgres_url(args.postgres, size)
        for key in sorted(k for k in targets if k[1] == size):
            seeds[key] = seeded(targets[key], size)
            print(f"{key[0]} {size:,}: seed {seeds[key]}", flush=True)
    rounds: dict[tuple[str, int], list[dict[str, list[float]]]] = {key: [] for key in targets}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for key, db in targets.items():
                rounds[key].append(one_round(db, run, -(-LOOKUPS // args.runs), Path(tmp)))
            print(f"round {run + 1} of {args.runs} done", flush=True)
    results = {key: summary(rounds[key]) for key in targets}
    print(table(results, seeds))
    if args.drop and args.postgres != "none":
        for size in args.sizes:
            asyncio.run(drop_postgres(args.postgres, size))


if __name__ == "__main__":
    main()
