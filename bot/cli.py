"""The `motcua` command: one entry point for citizens' channels, staff tools and content checks."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import wording
from bot.cases import LIST_LIMIT
from bot.catalog import CatalogError, check_dir, load_catalog
from bot.channels.registry import REGISTRY
from bot.config import ENV_CONFIG, ENV_DATABASE, Config, ConfigError, Office, database_location, load_config
from bot.statuses import SPOKEN
from bot.storage.db import StorageError

if TYPE_CHECKING:
    from bot.evaluation import Conversation
    from bot.matching import Matcher, Understanding

REPORTS_DIR = Path("baocao")
"""Where reports go without --output: a folder of the current directory that .gitignore covers,
so a report made in a checkout never lands among the project's files."""
DB_HELP = f"tệp cơ sở dữ liệu (mặc định: theo config hoặc biến {ENV_DATABASE}) / database file"


def _matcher(config: Config) -> Matcher:
    """Imported here: numpy and the model take a second that staff commands need not wait."""
    from bot.classifier import load_model
    from bot.matching import Matcher

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
    """The console chat runs the notifier for itself: a case followed here is reported here,
    on the next start if it changed meanwhile. Ctrl-C ends it like "thoát", with no traceback."""
    from bot.app import build_app
    from bot.channels.console import USER, ConsoleChannel, run_console
    from bot.demo import demo_codes, ensure_demo_cases
    from bot.demo import welcome as demo_welcome
    from bot.notifier import Notifier

    async def run() -> None:
        app = await build_app(config)
        channel = ConsoleChannel()
        notifier = Notifier(app.store, {channel.name: channel}, app.catalog, config.rating_scale,
                            config.notifier_interval)
        delivering: asyncio.Task[None] | None = None
        try:
            await ensure_demo_cases(app.desk)
            app.dialog.notice = demo_welcome(await demo_codes(app.desk))
            resume = bool(await app.store.get_state(channel.name, USER))
            if resume:
                await notifier.deliver_due()
            delivering = asyncio.create_task(notifier.run())
            await run_console(app.dialog.handle, channel, resume=resume,
                              welcome=app.dialog.notice if resume else "")
        finally:
            notifier.stop()
            if delivering is not None:
                await delivering
            await app.close()

    with contextlib.suppress(KeyboardInterrupt):    # run_console said goodbye on its way out
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
    print(wording.unanswered(rows, load_catalog(config.procedures)))
    return 0


def _office(config: Config, given: str | None) -> Office:
    """The office an operator named (`--office`, by code or name); it must be named when the
    deployment has several, so no command shows or changes another office's cases by default."""
    if given is None and not config.several_offices:
        return config.offices[0]
    office = None if given is None else config.office_by_code(given) or config.office_by_name(given)
    if office is None:
        raise SystemExit(wording.office_choice(given, config.offices))
    return office


def cmd_cases(args: argparse.Namespace, config: Config) -> int:
    from bot.app import open_desk
    from bot.cases import CaseError, parse_time
    from bot.clock import now
    from bot.staff import resolve_status
    from bot.tracking import CASE_MAX_FAILURES, recent_case_failures

    office = _office(config, args.office)

    async def run() -> int:
        whole = await open_desk(config)
        desk = whole.within(office)
        try:
            if args.action == "add":
                received = parse_time(args.received) if args.received else None
                case = await desk.add(args.code, args.procedure, args.name, args.phone, received=received,
                                      staff=args.staff, channel=args.channel, id_number=args.id_number)
                print(wording.staff_case_view(case, now().date(), desk.catalog))
            elif args.action == "update":
                case = await desk.update(args.code, resolve_status(" ".join(args.status)), args.note, args.staff)
                print(wording.staff_case_view(case, now().date(), desk.catalog))
            elif args.action == "show":
                case = await desk.require(args.code)
                failures = await recent_case_failures(desk.store, case.code)
                print(json.dumps(case.as_json(now().date()), ensure_ascii=False) if args.json
                      else wording.staff_case_view(case, now().date(), desk.catalog, failures,
                                                   failures >= CASE_MAX_FAILURES))
            elif args.action == "list":
                cases = await desk.list(overdue=args.overdue, limit=args.limit)
                today = now().date()
                if args.json:
                    print(json.dumps([c.as_json(today) for c in cases], ensure_ascii=False))
                else:
                    print(wording.case_table(cases, await desk.count(overdue=args.overdue), args.overdue, today,
                                             desk.catalog))
            elif args.action == "import":
                print(wording.imported(await desk.import_csv(Path(args.file), staff=args.staff)))
            return 0
        except CaseError as exc:
            print(wording.staff_error(str(exc)), file=sys.stderr)
            return 1
        finally:
            await whole.store.close()

    return asyncio.run(run())


def _date(value: str) -> dt.date:
    """A day as officers write it (30/11/2026) or as ISO (2026-11-30)."""
    try:
        if "/" in value:
            return dt.datetime.strptime(value.strip(), "%d/%m/%Y").date()
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ngày {value!r} không đúng dạng 30/11/2026 hoặc 2026-11-30") from None


def _positive(value: str) -> int:
    """A count of at least one, as `--limit 50` or `--cases 1000000` (digits may be grouped: 1_000_000)."""
    try:
        number = int(value.replace("_", "").replace(".", "").replace(",", ""))
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: cần một số nguyên dương (a positive whole number)")
    return number


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
    from bot.clock import today

    end = args.end or today()
    start = args.start or end.replace(day=1)
    if end < start:
        print(wording.PERIOD_BACKWARDS, file=sys.stderr)
        return 2
    output = Path(args.output) if args.output else (
        None if args.format == "text" else REPORTS_DIR / f"baocao-{start}-{end}.{args.format}")
    if output is not None and (refusal := _refuse_output(output, config.database)):
        print(refusal, file=sys.stderr)
        return 2

    office = None if args.office is None else _office(config, args.office)

    async def run() -> reports.Report:
        whole = await open_desk(config)
        desk = whole if office is None else whole.within(office)
        try:
            if args.procedure and args.procedure not in desk.catalog:
                raise SystemExit(wording.unknown_procedure(args.procedure))
            filters = reports.Filters(start, end, args.procedure, desk.office_filter, args.channel)
            return await reports.build_report(desk, filters)
        finally:
            await whole.store.close()

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
        "xlsx": lambda: reports.to_xlsx(report, reports.to_png(report)),
        "html": lambda: reports.to_html(report, reports.to_png(report)).encode("utf-8"),
        "png": lambda: reports.to_png(report),
    }[args.format]()
    assert output is not None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    print(wording.written(output))
    return 0


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from bot.app import open_desk
    from bot.cases import CaseError
    from bot.clock import today
    from bot.demo import only_demo_cases, seed_cases, seed_month

    async def run() -> tuple[int, bool]:
        desk = await open_desk(config)
        try:
            if args.cases:
                count = await seed_cases(desk, args.cases, args.years, force=args.force)
            else:
                count = await seed_month(desk, force=args.force)
            return count, not count and await only_demo_cases(desk)
        finally:
            await desk.store.close()

    try:
        count, chat_demo_only = asyncio.run(run())
    except CaseError as exc:
        print(wording.staff_error(str(exc)), file=sys.stderr)
        return 2
    if not count:
        print(wording.demo_not_empty(config.database, chat_demo_only), file=sys.stderr)
        return 1
    if args.cases:
        print(wording.demo_cases_loaded(count, args.years, today().replace(day=1), today()))
    else:
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
    parser = argparse.ArgumentParser(prog="motcua", description="Trợ lý ảo cho Bộ phận Một cửa / "
                                                               "Chatbot for one-stop public-service desks")
    parser.add_argument("--config", help=f"tệp cấu hình (mặc định: {ENV_CONFIG}, ./config.yaml, tệp kèm theo) / "
                                         "config file")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("chat", help="trò chuyện với bot ngay trong cửa sổ này / talk to the bot here")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("run", help="chạy bot trên một hoặc nhiều kênh trong một tiến trình / run the bot on channels")
    p.add_argument("channels", nargs="+", help=", ".join(REGISTRY))
    p.add_argument("--webhook-url", help="chế độ webhook Telegram: địa chỉ HTTPS công khai Telegram gửi tới"
                                         " / Telegram webhook URL")
    p.add_argument("--webhook", action="store_true", help="Zalo Bot nhận tin qua webhook thay vì hỏi định kỳ"
                                                          " / Zalo Bot webhook mode")
    p.add_argument("--public-url", help="Zalo Bot webhook: địa chỉ gốc đăng ký với setWebhook"
                                        " / base URL for setWebhook")
    p.add_argument("--host", default="127.0.0.1", help="địa chỉ máy chủ web cho webhook và /healthz"
                                                       " / web server address")
    p.add_argument("--port", type=int, default=8080, help="cổng máy chủ web / web server port")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("questions", help="câu hỏi bot chưa trả lời được, hay gặp nhất trước / unanswered questions")
    p.add_argument("--unanswered", action="store_true",
                   help="câu hỏi chưa trả lời được hoặc trả lời chưa chắc (mặc định) / unanswered or unsure")
    p.add_argument("--since", type=_since, default=dt.timedelta(days=7),
                   help="xem lại bao lâu, ví dụ 7d, 12h (mặc định 7d) / how far back")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_questions)

    cases = sub.add_parser("cases", help="tiếp nhận, cập nhật, xem hồ sơ (cán bộ) / cases (staff)")
    csub = cases.add_subparsers(dest="action", required=True)
    code_help = "mã hồ sơ, ví dụ 000.00.27.H15-261130-0001 / case code"
    p = csub.add_parser("add", help="tiếp nhận một hồ sơ / register a received case")
    p.add_argument("code", help=code_help)
    p.add_argument("--procedure", required=True,
                   help="mã thủ tục: tên tệp hướng dẫn trong thư mục procedures, ví dụ dang-ky-khai-sinh "
                        "/ procedure id")
    p.add_argument("--name", required=True, help="họ tên người nộp / applicant's name")
    p.add_argument("--phone", required=True, help="số điện thoại người nộp, dùng để xác minh tra cứu / phone")
    p.add_argument("--received", help="thời điểm tiếp nhận, ví dụ 2026-11-20T09:30 (mặc định: bây giờ) "
                                      "/ time received")
    p.add_argument("--channel", default="trực tiếp", help="hình thức nộp: trực tiếp, trực tuyến, bưu chính "
                                                          "/ how submitted")
    p.add_argument("--id-number", default="", help="số căn cước người nộp; chỉ giữ 4 số cuối, để xác minh tra cứu khi "
                                                   "lookup.second_factor là id / căn cước number")
    p.add_argument("--staff", default="", help="cán bộ tiếp nhận (ghi vào quá trình xử lý) / who registers it")
    p = csub.add_parser("update", help="chuyển trạng thái hồ sơ / change a case's status")
    p.add_argument("code", help=code_help)
    p.add_argument("status", nargs="+", help="trạng thái mới, có dấu hoặc không dấu: "
                   + "; ".join(f"{words[0]} ({key})" for key, words in SPOKEN.items()))
    p.add_argument("--note", default="", help="giấy tờ phải bổ sung, lý do, hoặc ghi chú / note")
    p.add_argument("--staff", default="", help="cán bộ thực hiện (ghi vào quá trình xử lý) / who makes the change")
    p = csub.add_parser("show", help="một hồ sơ và quá trình xử lý / one case with its history")
    p.add_argument("code", help=code_help)
    p.add_argument("--json", action="store_true", help="in dạng JSON cho máy đọc / as JSON")
    p = csub.add_parser("list", help="các hồ sơ tiếp nhận gần nhất / the cases received last")
    p.add_argument("--overdue", action="store_true",
                   help="chỉ hồ sơ đang quá hạn, quá hạn lâu nhất trước / only open cases past due, longest first")
    p.add_argument("--limit", type=_positive, default=LIST_LIMIT,
                   help=f"số hồ sơ tối đa (mặc định {LIST_LIMIT}) / at most this many cases")
    p.add_argument("--json", action="store_true", help="in dạng JSON cho máy đọc / as JSON")
    p = csub.add_parser("import", help="tiếp nhận hồ sơ từ tệp CSV (nhập tất cả hoặc không dòng nào) / from CSV")
    p.add_argument("file", help="tệp CSV UTF-8, cột code,procedure,name,phone[,received,channel,id_number]")
    p.add_argument("--staff", default="", help="cán bộ thực hiện (ghi vào quá trình xử lý) / who makes the change")
    for p in csub.choices.values():
        p.add_argument("--db", help=DB_HELP)
        p.add_argument("--office", help="cơ quan của cán bộ: mã hoặc tên xã, phường trong tệp offices (bắt buộc khi có "
                                        "nhiều cơ quan) / your office, by code or name")
    cases.set_defaults(func=cmd_cases)

    p = sub.add_parser("report", help="báo cáo kết quả giải quyết và mức độ hài lòng / report for a period")
    p.add_argument("--from", dest="start", type=_date,
                   help="ngày đầu kỳ, 01/11/2026 hoặc 2026-11-01 (mặc định: đầu tháng này) / first day")
    p.add_argument("--to", dest="end", type=_date, help="ngày cuối kỳ, tính cả ngày này (mặc định: hôm nay) / last day")
    p.add_argument("--procedure", help="chỉ một thủ tục (mã thủ tục) / only this procedure id")
    p.add_argument("--office", help="chỉ một cơ quan: mã hoặc tên xã, phường trong tệp offices (mặc định: mọi cơ quan)"
                                    " / only this office, by code or name")
    p.add_argument("--channel", help="chỉ đánh giá, bình chọn, phản ánh từ kênh này (telegram, zalo…) / chat channel")
    p.add_argument("--format", choices=["text", "csv", "xlsx", "html", "png"], default="text",
                   help="text (màn hình), csv, xlsx (gửi cấp trên), html (in ra A4 hoặc lưu PDF từ trình duyệt), "
                        "png (biểu đồ)")
    p.add_argument("--output", help=f"tệp ghi ra (mặc định csv, xlsx, html, png: {REPORTS_DIR}/baocao-TỪ-ĐẾN.ĐUÔI) "
                                    "/ file")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_report)

    demo = sub.add_parser("demo", help="dữ liệu mẫu cho người mới / demo data for newcomers")
    dsub = demo.add_subparsers(dest="action", required=True)
    p = dsub.add_parser("seed", help="nạp một tháng hồ sơ và đánh giá mẫu vào cơ sở dữ liệu trống, hoặc vào cơ sở "
                                     "dữ liệu mẫu của motcua chat với --force / a month of demo data")
    p.add_argument("--force", action="store_true",
                   help="nạp cả khi cơ sở dữ liệu đã có 3 hồ sơ mẫu của motcua chat "
                        "(không bao giờ nạp lẫn vào dữ liệu thật)")
    p.add_argument("--cases", type=_positive, metavar="N",
                   help="thay cho một tháng: N hồ sơ trong --years năm qua, nạp hàng loạt (đo tốc độ, trình diễn "
                        "quy mô tỉnh) / N cases over the last --years years, loaded in bulk")
    p.add_argument("--years", type=float, default=3, help="số năm của --cases (mặc định 3) / span of --cases")
    p.add_argument("--db", help=DB_HELP)
    demo.set_defaults(func=cmd_demo)

    p = sub.add_parser("backup", help="sao lưu cơ sở dữ liệu khi bot đang chạy; tệp chỉ xuất hiện khi đã chép xong "
                                      "/ back up the database")
    p.add_argument("file", help="tệp sao lưu / backup file")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_backup)

    db = sub.add_parser("db", help="bảo trì cơ sở dữ liệu / database maintenance")
    dbsub = db.add_subparsers(dest="action", required=True)
    p = dbsub.add_parser("copy", help="chép mọi dòng của tệp SQLite sang PostgreSQL còn trống / "
                                      "copy every row of a SQLite file into an empty PostgreSQL database")
    p.add_argument("source", help="tệp SQLite (dừng bot trước) / the SQLite file (stop the bot first)")
    p.add_argument("target", help="postgresql://user@host/database")
    db.set_defaults(func=cmd_db)

    p = sub.add_parser("purge", help="xóa dữ liệu cá nhân cũ, giữ số liệu thống kê ẩn danh / remove old personal data")
    p.add_argument("--older-than", type=_since, required=True, help="cũ hơn bao lâu, ví dụ 730d / e.g. 730d")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("notifications", help="thông báo bị nền tảng từ chối, đang để riêng (cán bộ)"
                                             " / notifications set aside")
    p.add_argument("--failed", action="store_true", required=True,
                   help="liệt kê, kèm sự cố kênh và cách xử lý / list them with what to do")
    p.add_argument("--db", help=DB_HELP)
    p.set_defaults(func=cmd_notifications)

    p = sub.add_parser("validate", help="kiểm tra các hướng dẫn thủ tục, liệt kê mọi lỗi / check procedure guides")
    p.add_argument("dir", nargs="?", help="thư mục hướng dẫn (mặc định: theo cấu hình) / folder of guides")
    p.add_argument("--upcoming", type=_span_days, metavar="SPAN",
                   help="liệt kê cả các thay đổi có hiệu lực trong khoảng này từ hôm nay, ví dụ 90d"
                        " / changes due within SPAN")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("train", help="huấn luyện lại mô hình hiểu câu hỏi từ kho câu mẫu và hướng dẫn"
                                     " / rebuild the model")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("match", help="đọc từng dòng tin nhắn, in cách bot hiểu dạng JSON"
                                     " / understand messages as JSON lines")
    p.add_argument("--file", help="đọc tin nhắn từ tệp này thay vì đầu vào chuẩn / read from this file")
    p.add_argument("--conversations", metavar="FILE",
                   help="đọc từng hội thoại có nhãn, mỗi hội thoại như một người dân mới"
                        " / conversations, one JSON line each")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("eval", help="chấm mức hiểu trên tệp JSONL có nhãn (tin nhắn hoặc hội thoại)"
                                    " / score understanding")
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
