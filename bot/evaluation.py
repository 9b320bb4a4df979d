"""Scoring understanding against a labelled set, like a test suite for the guides' content.

An officer who edits aliases or sample questions runs `motcua eval` and sees at once which
questions the edit made the bot misunderstand. Conversations are scored the way the evaluation
sets' own scorer (shared/eval/score_conv.py) scores them, by feeding each one to the real dialog
as one citizen, so what is measured is what a citizen gets, context included.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.classifier import names_procedure
from bot.dialog import Dialog, asks_back
from bot.matching import Matcher, Understanding
from bot.messages import Incoming


@dataclass(frozen=True)
class Labelled:
    text: str
    intent: str | None
    """None for a conversation turn that cannot be labelled with confidence: kept as context, not scored."""
    procedure: str | None
    aspect: str | None


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[Labelled, ...]


@dataclass
class Report:
    total: int = 0
    by_intent: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_procedure: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_aspect: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    wrong_procedure: int = 0
    answered_wrong: int = 0
    """Messages answered with a procedure other than the right one: not offered as one of a few choices."""
    found: list[int] = field(default_factory=lambda: [0, 0])
    """Procedure questions whose procedure was answered, or offered among the choices."""
    misses: list[str] = field(default_factory=list)


def _labelled(row: object, *, intent_optional: bool = False) -> Labelled:
    if not isinstance(row, dict):
        raise TypeError("not a JSON object")
    item = Labelled(row["text"], row.get("intent") if intent_optional else row["intent"], row.get("procedure"),
                    row.get("aspect"))
    if not (isinstance(item.text, str) and (isinstance(item.intent, str) or (intent_optional and item.intent is None))
            and all(isinstance(v, str | None) for v in (item.procedure, item.aspect))):
        raise TypeError("text and intent must be strings, procedure and aspect strings or null")
    return item


def _lines(path: Path) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1) if line.strip()]


def is_conversation_file(path: Path) -> bool:
    """Whether a labelled file holds conversations (a "turns" list per line) rather than messages."""
    for _, line in _lines(path)[:1]:
        try:
            return isinstance(json.loads(line), dict) and "turns" in json.loads(line)
        except ValueError:
            return False
    return False


def read_labelled(path: Path) -> list[Labelled]:
    """Lines of the development-set format; a broken line names its number."""
    items = []
    for number, line in _lines(path):
        try:
            items.append(_labelled(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a labelled message ({exc})") from None
    return items


def read_conversations(path: Path) -> list[Conversation]:
    """Lines of the conversation format ({"id", "turns": [...]}); a broken line names its number."""
    conversations = []
    for number, line in _lines(path):
        try:
            row = json.loads(line)
            turns = row["turns"]
            if not isinstance(turns, list) or not turns:
                raise TypeError("turns must be a non-empty list")
            conversations.append(Conversation(str(row.get("id", number)),
                                              tuple(_labelled(t, intent_optional=True) for t in turns)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a labelled conversation ({exc})") from None
    return conversations


def score(matcher: Matcher, items: list[Labelled]) -> Report:
    report = Report(total=len(items))
    for item in items:
        got: Understanding = matcher.understand(item.text)
        tally = report.by_intent[str(item.intent)]
        tally[1] += 1
        tally[0] += got.intent == item.intent
        offered = (got.procedure, *got.alternatives[:2]) if asks_back(got) else (got.procedure,)
        if got.procedure and got.procedure != item.procedure:
            report.wrong_procedure += 1
            report.answered_wrong += not asks_back(got)
        if item.procedure:
            report.found[1] += 1
            report.found[0] += item.procedure in offered
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
    lines.append(f"  of which answered (not offered among choices): {report.answered_wrong}/{report.total}"
                 f" = {100 * report.answered_wrong / max(1, report.total):.1f} %")
    lines.append(f"right procedure answered or offered: {_ratio(report.found)}")
    for title, table in (("intent", report.by_intent), ("procedure", report.by_procedure),
                         ("aspect", report.by_aspect)):
        lines += ["", f"by {title}:"]
        lines += [f"  {key:<36} {_ratio(value)}" for key, value in sorted(table.items())]
    lines += ["", f"misses ({len(report.misses)}):"] + [f"  {m}" for m in report.misses]
    return "\n".join(lines)


async def understand_conversations(dialog: Dialog, conversations: list[Conversation]) -> list[list[Understanding]]:
    """What the dialog understood at each turn, each conversation as a new citizen."""
    out = []
    for number, conversation in enumerate(conversations):
        user = f"eval-{number}"
        understood = []
        for turn in conversation.turns:
            outcome = await dialog.converse(Incoming("eval", user, text=turn.text))
            understood.append(outcome.understood or Understanding("unknown"))
        out.append(understood)
    return out


@dataclass
class ConversationReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[str] = field(default_factory=list)


def score_conversations(conversations: list[Conversation], predicted: list[list[Understanding]]) -> ConversationReport:
    report = ConversationReport()
    c = report.counts
    for conversation, understood in zip(conversations, predicted, strict=True):
        whole_right, scored = True, 0
        for i, (gold, got) in enumerate(zip(conversation.turns, understood, strict=True)):
            if gold.intent is None:
                continue
            scored += 1
            c["scored"] += 1
            wrong: list[str] = []
            c["intent_ok"] += got.intent == gold.intent
            if got.intent != gold.intent:
                wrong.append(f"intent {got.intent} (want {gold.intent})")
            if got.procedure and got.procedure != gold.procedure:
                c["wrong"] += 1
            if gold.intent == "procedure":
                right = got.procedure == gold.procedure
                c["proc"] += 1
                c["proc_ok"] += right
                if not right:
                    wrong.append(f"procedure {got.procedure} (want {gold.procedure})")
                if i > 0 and not names_procedure(gold.text):
                    c["fu"] += 1
                    c["fu_ok"] += right
                if right and gold.aspect:
                    c["asp"] += 1
                    c["asp_ok"] += got.aspect == gold.aspect
                    if got.aspect != gold.aspect:
                        wrong.append(f"aspect {got.aspect} (want {gold.aspect})")
            elif got.procedure:
                wrong.append(f"procedure {got.procedure} (want none)")
            c["cs"] += gold.intent == "case_status"
            c["cs_ok"] += gold.intent == "case_status" and got.intent == "case_status"
            c["unk"] += gold.intent == "unknown"
            c["unk_ok"] += gold.intent == "unknown" and not got.procedure
            if got.intent != gold.intent or (gold.intent == "procedure" and got.procedure != gold.procedure):
                whole_right = False
            if wrong:
                before = [f"    {j + 1}  {t.text}" for j, t in enumerate(conversation.turns[:i])]
                report.misses.append("\n".join([f"{conversation.id} turn {i + 1}: {'; '.join(wrong)}", *before,
                                                 f"    {i + 1}* {gold.text}"]))
        if scored:
            c["conv"] += 1
            c["conv_ok"] += whole_right
    return report


def format_conversation_report(report: ConversationReport) -> str:
    c = report.counts
    rows = [
        ("turn_intent_accuracy", "intent_ok", "scored"), ("procedure_top1", "proc_ok", "proc"),
        ("aspect_given_procedure", "asp_ok", "asp"), ("followup_procedure_top1", "fu_ok", "fu"),
        ("wrong_procedure_answers", "wrong", "scored"), ("case_status_recall", "cs_ok", "cs"),
        ("unknown_rejected", "unk_ok", "unk"), ("conversation_success", "conv_ok", "conv"),
    ]
    lines = [f"conversations: {c['conv']}, scored turns: {c['scored']}", ""]
    lines += [f"{name:<26} {_ratio([c[right], c[total]])}" for name, right, total in rows]
    lines += ["", f"misses ({len(report.misses)}):"] + [f"  {m}" for m in report.misses]
    return "\n".join(lines)
