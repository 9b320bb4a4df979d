"""End-to-end load: N simulated citizens at once through the real Telegram application.

Run: python benchmarks/load.py [--citizens 1000] [--think 3] [--duration 30] [--runs 3]
                                [--instances N --db postgresql://… [--against-sqlite]] [--notifications 200]

The bot (the real python-telegram-bot application, dialog and store) runs in its own process,
pinned to one core; with `--instances N`, N bot processes share the database `--db` (PostgreSQL:
several processes on one SQLite file is not a supported set-up), pinned to cores 0…N-1, and the
citizens' messages are spread over them in turn, as a load balancer does (so one citizen's messages
land on different processes), over as many connections at once as the bot asked Telegram for. The
fake Bot API server and the simulated citizens run in another process, pinned to the last core, as
Telegram's servers and the citizens' phones are not the bot's to pay for; when the bots have every
core, it goes wherever the scheduler finds room, as PostgreSQL's processes do. Each citizen repeats
a short journey (greeting, a question without diacritics, a button, an ambiguous question, a
numbered choice, thanks), pausing a random 0–2×THINK seconds between messages as people do, until
DURATION seconds have passed; all start within the first THINK seconds, so the offered load is
about CITIZENS / THINK messages/s (1,000 / 3 s ≈ 330/s). Throughput and latency are taken over the
steady part (messages sent after the first THINK seconds): citizen messages answered per second,
p50/p99 latency from a message leaving the citizen to the bot's reply reaching the server. Also
prints errors, the bot's CPU per message and its peak memory; medians over runs.

Meanwhile another process (an officer's `motcua cases` in production) queues NOTIFICATIONS
status messages through the database, spread over the run, each to a follower of its own; they
are counted at the fake server once the citizens stop: a notification sent twice or never is
reported (several instances: each row is to be claimed by one of them, woken by NOTIFY). With
`--against-sqlite` each run on `--db` alternates with a run of one instance on SQLite with the
same load (a shared machine's other work then weighs on both alike), and the ratio of their
median throughputs is printed: issue 17's target is two instances ≥ 1.7 × one.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import multiprocessing as mp
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.service import run_loop  # noqa: E402
from tests.fakes.telegram import Call, FakeTelegram  # noqa: E402

TOKEN = "123456:LOAD-token"
JOURNEY = [("text", "/start"), ("text", "lam giay khai sinh cho con can gi"),
           ("callback", "proc:dang-ky-khai-sinh:fees"), ("text", "chứng thực"), ("text", "2"),
           ("text", "cảm ơn ad nhiều")]


def pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and core < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {core})


@dataclasses.dataclass(frozen=True)
class Load:
    citizens: int
    think: float
    """Mean pause between a citizen's messages, s."""
    duration: float
    timeout: float
    """Seconds a citizen waits for a reply before counting an error."""
    notifications: int = 0
    """Status notifications queued through the database during the run."""


FOLLOWERS = 900_000
"""Chat ids of the notifications' followers (one each), apart from the citizens' 100,000…"""
MARK = re.compile(r"\[load (\d+)\]")


async def notify(database: str, load: Load, start: float) -> None:
    """Queue the notifications from a process of its own, as the staff CLI does, evenly over the
    steady part of the run."""
    from bot.storage import Store

    if not load.notifications:
        return
    store = await Store.open(database)
    try:
        for i in range(load.notifications):
            at = start + load.think + (load.duration - load.think) * i / load.notifications
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            await store.enqueue("telegram", str(FOLLOWERS + i), "status",
                                {"text": f"Hồ sơ của bạn đã có kết quả, mời đến nhận [load {i}]"})
    finally:
        await store.close()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Connection(asyncio.Protocol):
    """One kept-alive HTTP/1.1 connection to a webhook, a request at a time as Telegram's are.

    With several instances the load generator shares the machine's cores with the bots it
    measures: over aiohttp's client it spent 0.82 ms of CPU a message, over these 0.63 ms
    (medians of 3 runs at 320 messages/s), left to the bots."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.answer: asyncio.Future[tuple[int, bool, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        lines = bytes(self.buffer[:head_end]).decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip()
                  for name, _, value in (line.partition(":") for line in lines[1:])}
        end = head_end + 4 + int(fields.get("content-length", "0"))
        if len(self.buffer) < end:
            return
        body = bytes(self.buffer[head_end + 4:end])
        del self.buffer[:end]
        if self.answer is not None and not self.answer.done():
            self.answer.set_result((int(lines[0].split()[1]),
                                    fields.get("content-type", "").startswith("application/json"), body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError("the webhook closed the connection"))


class Webhooks:
    """Posts updates to the bots' webhooks as Telegram does, spread over them in turn as a load
    balancer does, over as many connections kept alive as the bot asked Telegram for."""

    def __init__(self, fake: FakeTelegram, hooks: list[tuple[str, str]]) -> None:
        self.fake = fake
        self.hooks = [(urlsplit(url), secret) for url, secret in hooks]
        self.idle: list[list[_Connection]] = [[] for _ in hooks]
        self.slots = asyncio.Semaphore(fake.webhook_connections)
        self.posted = 0

    async def post(self, update: dict[str, object]) -> int:
        """Posts an update to the next webhook; performs a call in its answer; returns the status."""
        self.posted += 1
        hook = self.posted % len(self.hooks)
        url, secret = self.hooks[hook]
        body = self.fake.webhook_body(update)
        request = (f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
                   f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\nContent-Length: {len(body)}\r\n\r\n"
                   ).encode() + body
        async with self.slots:
            idle = self.idle[hook]
            connection = idle.pop() if idle else None
            if connection is None or connection.transport is None:
                _, connection = await asyncio.get_running_loop().create_connection(
                    _Connection, url.hostname or "", url.port or 80)
            connection.answer = asyncio.get_running_loop().create_future()
            assert connection.transport is not None
            connection.transport.write(request)
            status, is_json, answer = await connection.answer
            if connection.transport is not None:
                idle.append(connection)
        if status == 200 and is_json:
            await self.fake.perform_webhook_response(answer)
        return status

    def close(self) -> None:
        for connection in (c for idle in self.idle for c in idle):
            if connection.transport is not None:
                connection.transport.close()


async def citizens_side(conn: Connection, load: Load, database: str) -> None:
    """The child: fake server plus citizens; reports its URL, then the measurements.

    In webhook mode the citizens' updates are posted to the bot's webhook, as Telegram does;
    in polling mode they wait in the fake server for getUpdates."""

    async with FakeTelegram(TOKEN) as fake:
        waiting: dict[int, asyncio.Future[float]] = {}
        notified: collections.Counter[int] = collections.Counter()
        all_notified = asyncio.Event()

        def on_record(call: Call) -> None:
            if call.method == "sendMessage" and call.ok:
                chat = int(call.params["chat_id"])
                if chat >= FOLLOWERS and (mark := MARK.search(str(call.params.get("text", "")))):
                    notified[int(mark.group(1))] += 1
                    if len(notified) == load.notifications:
                        all_notified.set()
                    return
                future = waiting.pop(chat, None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())

        fake.on_record = on_record
        loop = asyncio.get_running_loop()
        conn.send(fake.base_url)
        # the bots are up (the server keeps serving them meanwhile); their webhooks, if any
        hooks: list[tuple[str, str]] | None = await loop.run_in_executor(None, conn.recv)
        webhooks = Webhooks(fake, hooks) if hooks is not None else None

        async def push(chat: int, kind: str, value: str) -> None:
            if webhooks is None:
                (fake.push_text if kind == "text" else fake.push_callback)(chat, value)
                return
            update = fake.text_update(chat, value) if kind == "text" else fake.callback_update(chat, value)
            status = await webhooks.post(update)
            if status != 200:
                raise RuntimeError(f"webhook answered {status}")

        rng = random.Random(1)
        latencies: list[float] = []
        errors = 0

        start, serving = time.perf_counter(), cpu_seconds()
        think = load.think
        steady, end = start + think, start + load.duration
        total = 0
        answered: list[float] = []  # when replies to messages sent in the steady part arrived

        async def citizen(chat: int) -> None:
            nonlocal errors, total
            await asyncio.sleep(rng.uniform(0, think))
            while True:
                for kind, value in JOURNEY:
                    sent = time.perf_counter()
                    if sent >= end:
                        return
                    future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                    waiting[chat] = future
                    try:
                        await push(chat, kind, value)
                        replied = await asyncio.wait_for(future, load.timeout)
                    except TimeoutError:
                        errors += 1
                        return
                    total += 1
                    if sent >= steady:
                        latencies.append(replied - sent)
                        answered.append(replied)
                    await asyncio.sleep(rng.uniform(0, 2 * think))

        notifying = asyncio.create_task(notify(database, load, start))
        await asyncio.gather(*(citizen(100_000 + i) for i in range(load.citizens)))
        elapsed = max(answered, default=end) - steady
        await notifying
        if load.notifications:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_notified.wait(), load.timeout)
        if webhooks is not None:
            webhooks.close()
        errors += sum(1 for c in fake.calls if not c.ok and c.method != "getUpdates")
        conn.send({"latencies": latencies, "elapsed": elapsed, "errors": errors, "total": total,
                   "child_cpu_s": cpu_seconds() - serving, "notified": sum(1 for n in notified.values() if n),
                   "twice": sum(n - 1 for n in notified.values() if n > 1)})
        await loop.run_in_executor(None, conn.recv)   # the bot has stopped


def child_main(conn: Connection, load: Load, database: str, instances: int) -> None:
    if instances < (os.cpu_count() or 1):
        pin((os.cpu_count() or 1) - 1)
    run_loop(citizens_side(conn, load, database))


async def bot_side(conn: Connection, mode: str, database: str) -> None:
    """One bot process: started on the fake server's URL, it reports its webhook, serves until
    told to stop, then reports its CPU time while serving and its peak memory."""
    from bot.config import database_location, load_config
    from bot.service import RunOptions, Service

    base_url = conn.recv()
    shared = database.startswith(("postgresql://", "postgres://"))
    config = dataclasses.replace(
        load_config(ROOT / "config.yaml", env={}), database=database_location(database),
        telegram_base_url=base_url, telegram_rate=1e6,
        # PostgreSQL's NOTIFY wakes the notifier; on SQLite a change made by another process is
        # found at the notifier's next pass
        notifier_interval=60 if shared else 1)
    webhook = "http://127.0.0.1/hook" if mode == "webhook" else None
    service = Service(config, ["telegram"], {"TELEGRAM_BOT_TOKEN": TOKEN},
                      RunOptions(port=0, telegram_webhook_url=webhook))
    await service.start()
    channel = service.channels.get("telegram")
    conn.send((f"http://127.0.0.1:{service.web.port}/hook", channel.secret)  # type: ignore[union-attr]
              if webhook else None)
    serving = cpu_seconds()
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    cpu = cpu_seconds() - serving
    await service.stop()
    conn.send((cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def bot_main(conn: Connection, mode: str, database: str, core: int) -> None:
    pin(core)
    run_loop(bot_side(conn, mode, database))


def run_once(load: Load, mode: str, instances: int, database: str | None) -> dict[str, float]:
    if database is None:
        with tempfile.TemporaryDirectory() as tmp:
            return run_once(load, mode, instances, str(Path(tmp) / "load.sqlite3"))
    spawn = mp.get_context("spawn")
    parent, child = mp.Pipe()
    citizens = spawn.Process(target=child_main, args=(child, load, database, instances))
    citizens.start()
    base_url = parent.recv()
    bots = []
    for core in range(instances):
        ours, theirs = mp.Pipe()
        process = spawn.Process(target=bot_main, args=(theirs, mode, database, core))
        process.start()
        ours.send(base_url)
        bots.append((process, ours))
    hooks = [ours.recv() for _, ours in bots]
    parent.send(hooks if mode == "webhook" else None)
    result = parent.recv()
    for _, ours in bots:
        ours.send("stop")
    spent = [ours.recv() for _, ours in bots]
    for process, _ in bots:
        process.join()
    parent.send("stopped")
    citizens.join()
    result["bot_cpu_s"] = sum(cpu for cpu, _ in spent)
    latencies = sorted(result["latencies"])
    where = "SQLite" if not database.startswith("postgres") else f"{instances} on PostgreSQL"
    print(f"  run ({where}): {len(latencies) / result['elapsed']:.0f} messages/s; CPU while serving: "
          f"bots {result['bot_cpu_s']:.1f} s, fake server and citizens {result['child_cpu_s']:.1f} s")
    return {
        "messages_per_s": len(latencies) / result["elapsed"],
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "errors": result["errors"],
        "answered": result["total"],
        "cpu_ms_per_message": 1000 * result["bot_cpu_s"] / max(result["total"], 1),
        "peak_rss_mb": max(rss for _, rss in spent),
        "lost": load.notifications - result["notified"],
        "twice": result["twice"],
    }


def report(results: list[dict[str, float]], load: Load, mode: str, instances: int, where: str) -> float:
    """Prints the medians of a set of runs; returns the median throughput."""
    def med(key: str) -> float:
        return statistics.median(r[key] for r in results)

    runs = ", ".join(f"{r['messages_per_s']:.0f}" for r in results)
    print(f"{load.citizens} citizens, {mode}, {instances} instance(s) on {where}, think {load.think} s, "
          f"{load.duration:.0f} s, {len(results)} runs (medians)")
    print(f"throughput {med('messages_per_s'):.0f} messages/s (runs: {runs}); answered {med('answered'):.0f}")
    print(f"latency p50 {med('p50_ms'):.1f} ms   p99 {med('p99_ms'):.1f} ms   "
          f"bot CPU {med('cpu_ms_per_message'):.2f} ms/message")
    errors, peak = int(sum(r['errors'] for r in results)), max(r['peak_rss_mb'] for r in results)
    print(f"errors {errors}   peak RSS of a bot process {peak:.0f} MB")
    if load.notifications:
        print(f"notifications {load.notifications} a run: sent twice {int(sum(r['twice'] for r in results))}, "
              f"never sent {int(sum(r['lost'] for r in results))} (all runs)")
    return med("messages_per_s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--think", type=float, default=3.0, help="mean pause between a citizen's messages, s")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds citizens keep writing")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a citizen waits for a reply")
    parser.add_argument("--mode", choices=["webhook", "polling"], default="webhook",
                        help="how updates reach the bot (webhook is the production setup)")
    parser.add_argument("--instances", type=int, default=1, help="bot processes sharing the database")
    parser.add_argument("--db", help="the database the bots share (default: a new SQLite file per run)")
    parser.add_argument("--against-sqlite", action="store_true",
                        help="alternate each run with one of a single instance on SQLite, and print the ratio")
    parser.add_argument("--notifications", type=int, default=200,
                        help="status notifications queued through the database during a run")
    args = parser.parse_args()
    if args.instances > 1 and not (args.db or "").startswith(("postgresql://", "postgres://")):
        parser.error("--instances above 1 needs --db postgresql://…")
    if args.against_sqlite and not args.db:
        parser.error("--against-sqlite compares --db with SQLite")
    load = Load(args.citizens, args.think, args.duration, args.timeout, args.notifications)
    results, baseline = [], []
    for _ in range(args.runs):
        if args.against_sqlite:
            baseline.append(run_once(load, args.mode, 1, None))
        results.append(run_once(load, args.mode, args.instances, args.db))
    where = "SQLite" if not args.db else "PostgreSQL" if args.db.startswith("postgres") else args.db
    throughput = report(results, load, args.mode, args.instances, where)
    if baseline:
        against = report(baseline, load, args.mode, 1, "SQLite")
        print(f"ratio: {args.instances} instance(s) on {where} / 1 on SQLite = {throughput / against:.2f}")


if __name__ == "__main__":
    main()
