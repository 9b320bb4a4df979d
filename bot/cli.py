"""The `motcua` command: one entry point for citizens' channels, staff tools and content checks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.catalog import CatalogError, check_dir, load_catalog
from bot.config import Config, ConfigError, load_config
from bot.matching import Matcher


def _matcher(config: Config) -> Matcher:
    return Matcher(load_catalog(config.procedures), config.case_code_pattern)


def cmd_validate(args: argparse.Namespace, config: Config) -> int:
    directory = Path(args.dir) if args.dir else config.procedures
    guides, problems = check_dir(directory)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    print(f"{len(guides)} guides OK in {directory}")
    return 0


def cmd_match(args: argparse.Namespace, config: Config) -> int:
    matcher = _matcher(config)
    source = open(args.file, encoding="utf-8") if args.file else sys.stdin
    with source:
        for line in source:
            text = line.rstrip("\n")
            u = matcher.understand(text)
            print(json.dumps({
                "text": text, "intent": u.intent, "procedure": u.procedure, "aspect": u.aspect,
                "confidence": u.confidence, "alternatives": list(u.alternatives),
            }, ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return 0


def cmd_eval(args: argparse.Namespace, config: Config) -> int:
    from bot.evaluation import format_report, read_labelled, score

    print(format_report(score(_matcher(config), read_labelled(Path(args.file)))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="Chatbot for one-stop public-service desks")
    parser.add_argument("--config", help="config file (default: ./config.yaml or MOTCUA_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check procedure guides and list every problem")
    p.add_argument("dir", nargs="?", help="folder of guides (default: from config)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("match", help="understand messages, one per line, as JSON lines")
    p.add_argument("--file", help="read messages from this file instead of standard input")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("eval", help="score understanding on a labelled JSONL file")
    p.add_argument("file")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(Path(args.config) if args.config else None)
        return args.func(args, config)
    except (ConfigError, CatalogError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
