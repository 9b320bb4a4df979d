"""The `motcua` command: one entry point for citizens' channels, staff tools and content checks."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import wording
from bot.catalog import CatalogError, check_dir, load_catalog
from bot.channels.registry import REGISTRY
from bot.config import ENV_CONFIG, ENV_DATABASE, Config, ConfigError, database_location, load_config
from bot.matching import Matcher, Understanding
from bot.storage.db import StorageError

if TYPE_CHECKING:
    from bot.evaluation import Conversation

DB_HELP = f"database file (default: from config or {ENV_DATABASE})"


def _matcher(config: Config) -> Matcher:
    from bot.classifier import load_model

    catalog = load_catalog(config.procedures)
    return Matcher(catalog, load_model(catalog), config.case_code_pattern)


def cmd_validate(args: argparse.Namespace, config: Config) -> int:
    directory = Path(args.dir) if args.dir else config.procedures
    guides, problems = check_dir(directory)
    for problem in problems:
        print(problem)
    if problems:
        print(wording.guide_problems(len(problems), directory), file=sys.stderr)
        return 1
    print(wording.guides_ok(len(guides), directory))
    if args.upcoming is not None:
        from bot import clock
        from bot.timeline import upcoming

        print(wording.upcoming_changes(upcoming(guides, clock.today(), args.upcoming), args.upcoming))
    return 0


def _span_days(text: str) -> int:
    """A span such as "90d" or "90" (days), for listing the guides' coming changes."""
    digits = text.strip().lower().removesuffix("d")
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: viết số ngày, ví dụ 90d (a number of days, e.g. 90d)")
    return int(digits)


def _understanding_json(u: Understanding) -> dict[str, object]:
    return {"intent": u.intent, "procedure": u.procedure, "aspect": u.aspect, "confidence": u.confidence,
            "alternatives": list(u.alternatives)}


def _in_conversations(config: Config, conversations: list[Conversation]) -> list[list[Understanding]]:
    """Each conversation through the real dialog, on a throw-away database: context is the dialog's."""
    import tempfile

    from bot.app import build_app
    from bot.evaluation import understand_conversations

    async def run(database: Path) -> list[list[Understanding]]:
        app = await build_app(dataclasses.replace(config, database=database))
        try:
            return await understand_conversations(app.dialog, conversations)
        finally:
            await app.close()

    with tempfile.TemporaryDirectory(prefix="motcua-eval-") as scratch:
        return asyncio.run(run(Path(scratch) / "eval.sqlite3"))


def cmd_match(args: argparse.Namespace, config: Config) -> int:
    if args.conversations:
        from bot.evaluation import read_conversations
        try:
            conversations = read_conversations(Path(args.conversations))
        except (OSError, ValueError) as exc:
            print(exc, file=sys.stderr)
            return 2
        for understood in _in_conversations(config, conversations):
            print(json.dumps({"turns": [_understanding_json(u) for u in understood]}, ensure_ascii=False))
        return 0
    matcher = _matcher(config)
    with open(args.file, encoding="utf-8") if args.file else sys.stdin as source:
        for line in source:
            text = line.rstrip("\n")
            print(json.dumps({"text": text, **_understanding_json(matcher.understand(text))}, ensure_ascii=False),
                  flush=False)
    sys.stdout.flush()
    return 0


def cmd_eval(args: argparse.Namespace, config: Config) -> int:
    from bot.evaluation import (
        format_conversation_report,
        format_report,
        is_conversation_file,
        read_conversations,
        read_labelled,
        score,
        score_conversations,
    )

    path = Path(args.file)
    try:
        if is_conversation_file(path):
            conversations = read_conversations(path)
            report = score_conversations(conversations, _in_conversations(config, conversations))
            print(format_conversation_report(report))
            return 0
        items = read_labelled(path)
    except (OSError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(format_report(score(_matcher(config), items)))
    return 0


def cmd_train(args: argparse.Namespace, config: Config) -> int:
    """Training is deterministic: the same corpus and guides give the same model."""
    from bot.classifier import cache_dir, corpus_files, load_model, training_set

    catalog = load_catalog(config.procedures)
    try:
        examples = training_set(catalog, corpus_files())
        model = load_model(catalog, rebuild=True)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(wording.trained(len(examples), len(model.labels.classes), len(model.aspects.classes), cache_dir()))
    return 0


def cmd_chat(args: argparse.Namespace, config: Config) -> int:
    from bot.app import build_app
    from bot.channels.console import ConsoleChannel, run_console
    from bot.demo import ensure_demo_cases
    from bot.demo import welcome as demo_welcome

    async def run() -> None:
        app = await build_app(config)
        try:
            codes = await ensure_demo_cases(app.desk)
            await run_console(app.dialog.handle, ConsoleChannel(), welcome=demo_welcome(codes))
        finally:
            await app.close()

    asyncio.run(run())
    return 0


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from bot.channels.registry import RunOptions, secret_values
    from bot.logs import setup_logging
    from bot.service import Service, run_loop

    options = RunOptions(host=args.host, port=args.port, telegram_webhook_url=args.webhook_url,
                         zalo_bot_webhook=args.webhook, public_url=args.public_url)
    service = Service(config, args.channels, os.environ, options)   # ConfigError (missing secret) -> exit 2
    setup_logging(secret_values(os.environ))
    run_loop(service.run())
    return 0


def _since(value: str) -> dt.timedelta:
    """"7d", "12h" or "30m" as a span of time."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(value) < 2 or value[-1] not in units or not value[:-1].isdigit():
        raise argparse.ArgumentTypeError(f"expected a span like 7d, 12h or 30m, got {value!r}")
    return dt.timedelta(**{units[value[-1]]: int(value[:-1])})


def cmd_questions(args: argparse.Namespace, config: Config) -> int:
    from bot.clock import now
    from bot.storage import Store, UnansweredRow

    async def run() -> list[UnansweredRow]:
        store = await Store.open(config.database)
        try:
            return await store.unanswered(now() - args.since)
        finally:
            await store.close()

    rows = asyncio.run(run())
    print(wording.unanswered(rows))
    return 0


def cmd_cases(args: argparse.Namespace, config: Config) -> int:
    from bot.app import open_desk
    from bot.cases import CaseError, parse_time
    from bot.clock import now
    from bot.tracking import CASE_MAX_FAILURES, recent_case_failures

    async def run() -> int:
        desk = await open_desk(config)
        try:
            if args.action == "add":
                received = parse_time(args.received) if args.received else None
                case = await desk.add(args.code, args.procedure, args.name, args.phone, received=received,
                                      staff=args.staff, channel=args.channel, id_number=args.id_number)
                print(wording.staff_case_view(case, now().date()))
            elif args.action == "update":
                case = await desk.update(args.code, args.status, args.note, args.staff)
                print(wording.staff_case_view(case, now().date()))
            elif args.action == "show":
                case = await desk.require(args.code)
                failures = await recent_case_failures(desk.store, case.code)
                print(json.dumps(case.as_json(now().date()), ensure_ascii=False) if args.json
                      else wording.staff_case_view(case, now().date(), failures, failures >= CASE_MAX_FAILURES))
            elif args.action == "list":
                cases = await desk.list(overdue=args.overdue)
                today = now().date()
                if args.json:
                    print(json.dumps([c.as_json(today) for c in cases], ensure_ascii=False))
                else:
                    print(wording.case_table(cases, today))
            elif args.action == "import":
                print(wording.imported(await desk.import_csv(Path(args.file), staff=args.staff)))
            return 0
        except CaseError as exc:
            print(wording.staff_error(str(exc)), file=sys.stderr)
            return 1
        finally:
            await desk.store.close()

    return asyncio.run(run())


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-11-01, got {value!r}") from None


SQLITE_HEADER = b"SQLite format 3\x00"


def _refuse_output(output: Path, database: Path | str) -> str | None:
    """Why a report must not be written to `output`, or None.

    A report written over the database (or its -wal or -shm file) destroyed every case and
    conversation without a word, and every later command failed; a typo or a shell
    completion is enough. Any other SQLite file (a backup) is refused as well. Reports
    themselves are overwritten as before: staff re-run the same period."""
    from bot.storage.db import is_database_file

    if isinstance(database, Path) and is_database_file(output, database):
        return (f"Không ghi báo cáo đè lên cơ sở dữ liệu {output}; hãy chọn tên tệp khác. "
                f"(Refusing to write the report over the database.)")
    if output.is_dir():
        return f"{output} là một thư mục; hãy cho tên tệp. (The output is a directory.)"
    try:
        with output.open("rb") as existing:
            if existing.read(len(SQLITE_HEADER)) == SQLITE_HEADER:
                return (f"{output} là một tệp cơ sở dữ liệu SQLite (có thể là bản sao lưu); không ghi đè. "
                        f"(Refusing to overwrite a SQLite database file.)")
    except OSError:
        pass                        # no such file yet, or unreadable: writing it will say so
    return None


def cmd_report(args: argparse.Namespace, config: Config) -> int:
    from bot import reports
    from bot.app import open_desk

    if args.end < args.start:
        print(wording.PERIOD_BACKWARDS, file=sys.stderr)
        return 2
    output = Path(args.output) if args.output else (
        None if args.format == "text" else Path(f"baocao-{args.start}-{args.end}.{args.format}"))
    if output is not None and (refusal := _refuse_output(output, config.database)):
        print(refusal, file=sys.stderr)
        return 2

    async def run() -> reports.Report:
        desk = await open_desk(config)
        try:
            if args.procedure and args.procedure not in desk.catalog:
                raise SystemExit(f"unknown procedure {args.procedure!r}")
            filters = reports.Filters(args.start, args.end, args.procedure, args.office, args.channel)
            return await reports.build_report(desk, filters)
        finally:
            await desk.store.close()

    report = asyncio.run(run())
    if args.format == "text":
        text = reports.render_text(report)
        if output is not None:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    data = {
        "csv": lambda: reports.to_csv(report).encode("utf-8-sig"),
        "xlsx": lambda: reports.to_xlsx(report),
        "png": lambda: reports.to_png(report),
    }[args.format]()
    assert output is not None
    output.write_bytes(data)
    print(wording.written(output))
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from bot.app import open_desk
    from bot.clock import today
    from bot.demo import seed_month

    async def run() -> int:
        desk = await open_desk(config)
        try:
            return await seed_month(desk)
        finally:
            await desk.store.close()

    count = asyncio.run(run())
    if not count:
        print(wording.DEMO_NOT_EMPTY, file=sys.stderr)
        return 1
    print(wording.demo_loaded(count, today() - dt.timedelta(days=30), today()))
    return 0


def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    """The copy appears under FILE only when complete (see `Database.backup`)."""
    from bot.storage import Store

    async def run() -> None:
        store = await Store.open(config.database)
        try:
            await store.backup(Path(args.file))
        finally:
            await store.close()

    asyncio.run(run())
    print(wording.backed_up(config.database, args.file))
    return 0


def cmd_db(args: argparse.Namespace, config: Config) -> int:
    """`db copy SRC DST`: the deployment's SQLite file into an empty PostgreSQL database."""
    from bot.storage import Store
    from bot.storage.copy import copy_database

    async def run() -> dict[str, int]:
        source = await Store.open(database_location(args.source))
        try:
            target = await Store.open(database_location(args.target))
            try:
                return await copy_database(source, target)
            finally:
                await target.close()
        finally:
            await source.close()

    print(wording.db_copied(asyncio.run(run())))
    return 0


def cmd_purge(args: argparse.Namespace, config: Config) -> int:
    from bot.clock import now
    from bot.storage import Store

    async def run() -> dict[str, int]:
        store = await Store.open(config.database)
        try:
            return await store.purge(now() - args.older_than)
        finally:
            await store.close()

    print(wording.purged(asyncio.run(run())))
    return 0


def cmd_notifications(args: argparse.Namespace, config: Config) -> int:
    """Notifications the platforms refused for good, and channel problems an administrator
    must fix: what staff check when a citizen says the news never came."""
    from bot.storage import Store

    async def run() -> str:
        store = await Store.open(config.database)
        try:
            return wording.failed_notifications(await store.set_aside(), await store.alerts())
        finally:
            await store.close()

    print(asyncio.run(run()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="Chatbot for one-stop public-service desks")
    parser.add_argument("--config", help=f"config file (default: {ENV_CONFIG}, ./config.yaml, the shipped one)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("chat", help="talk to the bot in this terminal")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("run", help="run the bot on one or more channels in one process")
    p.add_argument("channels", nargs="+", help=", ".join(REGISTRY))
    p.add_argument("--webhook-url", help="Telegram webhook mode: the public HTTPS URL Telegram posts to")
    p.add_argument("--webhook", action="store_true", help="Zalo Bot webhook mode (instead of polling)")
    p.add_argument("--public-url", help="Zalo Bot webhook: base URL to register with setWebhook")
    p.add_argument("--host", default="127.0.0.1", help="web server address for webhooks and /healthz")
    p.add_argument("--port", type=int, default=8080, help="web server port")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("questions", help="questions the bot could not answer, most frequent first")
    p.add_argument("--unanswered", action="store_true", required=True,
                   help="list unanswered or low-confidence questions")
    p.add_argument("--since", type=_since, default=dt.timedelta(days=7), help="how far back, e.g. 7d")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_questions)

    cases = sub.add_parser("cases", help="register, update and list cases (staff)")
    csub = cases.add_subparsers(dest="action", required=True)
    p = csub.add_parser("add", help="register a received case")
    p.add_argument("code")
    p.add_argument("--procedure", required=True, help="procedure id")
    p.add_argument("--name", required=True, help="applicant's name")
    p.add_argument("--phone", required=True, help="applicant's phone (used to verify look-ups)")
    p.add_argument("--received", help="time received, e.g. 2026-11-20T09:30 (default: now)")
    p.add_argument("--channel", default="trực tiếp", help="how it was submitted (trực tiếp, trực tuyến, bưu chính)")
    p.add_argument("--id-number", default="", help="applicant's căn cước number; only its last 4 digits are kept, "
                                                   "to verify look-ups where lookup.second_factor is id")
    p = csub.add_parser("update", help="change a case's status")
    p.add_argument("code")
    p.add_argument("status", help="submitted, received, processing, needs_supplement, awaiting_fees, transferred,"
                                  " ready, returned, refused, withdrawn, stopped")
    p.add_argument("--note", default="", help="what is missing, the reason, or any remark")
    p = csub.add_parser("show", help="one case with its history")
    p.add_argument("code")
    p.add_argument("--json", action="store_true")
    p = csub.add_parser("list", help="all cases")
    p.add_argument("--overdue", action="store_true", help="only open cases past their due date")
    p.add_argument("--json", action="store_true")
    p = csub.add_parser("import", help="register cases from a CSV file (all rows or none)")
    p.add_argument("file")
    for p in csub.choices.values():
        p.add_argument("--staff", default="", help="who makes the change (recorded in the history)")
        p.add_argument("--db", help=DB_HELP)
    cases.set_defaults(func=cmd_cases)

    p = sub.add_parser("report", help="satisfaction and timeliness report for a period")
    p.add_argument("--from", dest="start", type=_date, required=True, help="first day, e.g. 2026-11-01")
    p.add_argument("--to", dest="end", type=_date, required=True, help="last day (included)")
    p.add_argument("--procedure", help="only this procedure id")
    p.add_argument("--office", help="only this office (as registered on cases)")
    p.add_argument("--channel", help="only ratings, votes and feedback from this chat channel (telegram, zalo…)")
    p.add_argument("--format", choices=["text", "csv", "xlsx", "png"], default="text")
    p.add_argument("--output", help="file to write (csv, xlsx, png default to baocao-FROM-TO.EXT)")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_report)

    demo = sub.add_parser("demo", help="demo data for newcomers")
    dsub = demo.add_subparsers(dest="action", required=True)
    p = dsub.add_parser("seed", help="fill an empty database with a month of cases and ratings")
    p.add_argument("--db", help=DB_HELP)
    demo.set_defaults(func=cmd_demo)

    p = sub.add_parser("backup", help="copy the database while the bot runs (one consistent snapshot; "
                                      "FILE appears only when complete)")
    p.add_argument("file")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_backup)

    db = sub.add_parser("db", help="database maintenance")
    dbsub = db.add_subparsers(dest="action", required=True)
    p = dbsub.add_parser("copy", help="copy every row of a SQLite file into an empty PostgreSQL database")
    p.add_argument("source", help="the SQLite file (stop the bot first)")
    p.add_argument("target", help="postgresql://user@host/database")
    db.set_defaults(func=cmd_db)

    p = sub.add_parser("purge", help="remove personal data older than a span, keep anonymous statistics")
    p.add_argument("--older-than", type=_since, required=True, help="e.g. 730d")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("notifications", help="notifications set aside because a platform refused them (staff)")
    p.add_argument("--failed", action="store_true", required=True,
                   help="list them, with channel problems and what to do")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_notifications)

    p = sub.add_parser("validate", help="check procedure guides and list every problem")
    p.add_argument("dir", nargs="?", help="folder of guides (default: from config)")
    p.add_argument("--upcoming", type=_span_days, metavar="SPAN",
                   help="also list the dated facts and changes due within SPAN from today, e.g. 90d")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("train", help="rebuild the understanding model from the corpus and the guides")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("match", help="understand messages, one per line, as JSON lines")
    p.add_argument("--file", help="read messages from this file instead of standard input")
    p.add_argument("--conversations", metavar="FILE",
                   help="understand labelled conversations turn by turn, each as a new citizen; one JSON line each")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("eval", help="score understanding on a labelled JSONL file of messages or conversations")
    p.add_argument("file")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(Path(args.config) if args.config else None)
        if getattr(args, "db", None):
            config = dataclasses.replace(config, database=database_location(args.db))
        code: int = args.func(args, config)
        return code
    except (ConfigError, CatalogError, StorageError) as exc:
        print(exc, file=sys.stderr)           # an unusable database: its name and why, exit 2, no hang
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
