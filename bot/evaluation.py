"""Scoring understanding against a labelled set, like a test suite for the guides' content.

An officer who edits aliases or sample questions runs `motcua eval` and sees at once which
questions the edit made the bot misunderstand.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.matching import Matcher, Understanding


@dataclass(frozen=True)
class Labelled:
    text: str
    intent: str
    procedure: str | None
    aspect: str | None


@dataclass
class Report:
    total: int = 0
    by_intent: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_procedure: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_aspect: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    wrong_procedure: int = 0
    misses: list[str] = field(default_factory=list)


def read_labelled(path: Path) -> list[Labelled]:
    """Lines of the development-set format; a broken line names its number."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            item = Labelled(row["text"], row["intent"], row.get("procedure"), row.get("aspect"))
            if not (isinstance(item.text, str) and isinstance(item.intent, str)
                    and all(isinstance(v, str | None) for v in (item.procedure, item.aspect))):
                raise TypeError("text and intent must be strings, procedure and aspect strings or null")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a labelled message ({exc})") from None
        items.append(item)
    return items


def score(matcher: Matcher, items: list[Labelled]) -> Report:
    report = Report(total=len(items))
    for item in items:
        got: Understanding = matcher.understand(item.text)
        tally = report.by_intent[item.intent]
        tally[1] += 1
        tally[0] += got.intent == item.intent
        if got.procedure and got.procedure != item.procedure:
            report.wrong_procedure += 1
        problems = []
        if got.intent != item.intent:
            problems.append(f"intent {got.intent} (want {item.intent})")
        if item.procedure:
            ptally = report.by_procedure[item.procedure]
            ptally[1] += 1
            ptally[0] += got.procedure == item.procedure
            if got.procedure != item.procedure:
                problems.append(f"procedure {got.procedure} (want {item.procedure})")
            elif item.aspect:
                atally = report.by_aspect[item.aspect]
                atally[1] += 1
                atally[0] += got.aspect == item.aspect
                if got.aspect != item.aspect:
                    problems.append(f"aspect {got.aspect} (want {item.aspect})")
        elif got.procedure:
            problems.append(f"procedure {got.procedure} (want none)")
        if problems:
            report.misses.append(f"{'; '.join(problems)} | {item.text}")
    return report


def _ratio(pair: list[int]) -> str:
    right, total = pair
    return f"{right}/{total} = {100 * right / total:.1f} %" if total else "n/a"


def format_report(report: Report) -> str:
    def total(table: dict[str, list[int]]) -> list[int]:
        return [sum(v[0] for v in table.values()), sum(v[1] for v in table.values())]

    lines = [f"messages: {report.total}", ""]
    lines.append(f"procedure top-1: {_ratio(total(report.by_procedure))}")
    lines.append(f"aspect (procedure right): {_ratio(total(report.by_aspect))}")
    lines.append(f"unknown rejected: {_ratio(report.by_intent.get('unknown', [0, 0]))}")
    lines.append(f"case_status recall: {_ratio(report.by_intent.get('case_status', [0, 0]))}")
    lines.append(f"wrong-procedure answers: {report.wrong_procedure}/{report.total}"
                 f" = {100 * report.wrong_procedure / max(1, report.total):.1f} %")
    for title, table in (("intent", report.by_intent), ("procedure", report.by_procedure),
                         ("aspect", report.by_aspect)):
        lines += ["", f"by {title}:"]
        lines += [f"  {key:<36} {_ratio(value)}" for key, value in sorted(table.items())]
    lines += ["", f"misses ({len(report.misses)}):"] + [f"  {m}" for m in report.misses]
    return "\n".join(lines)
