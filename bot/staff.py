"""Staff commands typed in a chat: the case operations of the CLI, for staff on their phones.

`/hoso them|capnhat|xem|ds` (or add|update|show|list). Only users listed as staff for that
channel (under `staff` in config.yaml, or under their office in the offices file) may use them,
on a desk `within` their office: they see and change their office's cases only. The dialog
gives everyone else the citizen answer.
A status is typed as staff say it ("/hoso capnhat MÃ chờ bổ sung Thiếu tờ khai"): the longest
run of words after the code that names a status is the status, the rest is the note.
"""

from __future__ import annotations

from bot import wording
from bot.cases import CaseDesk, CaseError
from bot.clock import now
from bot.messages import Attachment
from bot.statuses import SPOKEN, status_key
from bot.tracking import CASE_MAX_FAILURES, recent_case_failures

_VERBS = {"them": "add", "add": "add", "capnhat": "update", "update": "update", "xem": "show",
          "show": "show", "ds": "list", "list": "list", "nhap": "import", "import": "import"}


def _rest(text: str, skip: int) -> str:
    """The free text after `skip` words, as typed: a note's quotes, apostrophes and line breaks
    reach the citizen unchanged; only quotes wrapping the whole of it are dropped."""
    parts = text.split(maxsplit=skip)
    rest = parts[skip].strip() if len(parts) > skip else ""
    if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "\"'":
        rest = rest[1:-1].strip()
    return rest


MAX_STATUS_WORDS = max(len(w.split()) for words in SPOKEN.values() for w in words)


def resolve_status(typed: str) -> str:
    """The status key for what staff typed, or a `CaseError` listing the words that work."""
    key = status_key(typed)
    if key is None:
        raise CaseError(wording.unknown_status(typed, SPOKEN))
    return key


def split_status(words: list[str]) -> tuple[str, int]:
    """The status named by the first words, and how many words it took (the longest that names one)."""
    for count in range(min(MAX_STATUS_WORDS, len(words)), 0, -1):
        key = status_key(" ".join(words[:count]))
        if key is not None:
            return key, count
    raise CaseError(wording.unknown_status(words[0] if words else "", SPOKEN))


def is_staff_command(text: str) -> bool:
    return text.split(maxsplit=1)[0].lower() in {"/hoso", "/cases", "/traloi"} if text.strip() else False


async def answer_handoff(desk: CaseDesk, text: str, staff: str) -> str:
    """/traloi REF text: the answer reaches the citizen on their channel, through the outbox."""
    parts = text.split(maxsplit=2)
    if len(parts) < 3:
        return wording.STAFF_ANSWER_SYNTAX
    handoff = await desk.store.handoff(parts[1])
    if handoff is None or (handoff.office_code and desk.office_filter not in (None, handoff.office_code)):
        # another office's citizen: answered as if the reference did not exist, like a case
        return wording.no_handoff(parts[1])
    facts = {"ref": handoff.ref, "answer": parts[2], "office": desk.office.name}
    await desk.store.enqueue(handoff.channel, handoff.user, "reply", facts)
    return wording.answer_sent(handoff.ref)


async def run_staff_command(desk: CaseDesk, text: str, staff: str, attachment: Attachment | None = None) -> str:
    if text.split(maxsplit=1)[0].lower() == "/traloi":
        return await answer_handoff(desk, text, staff)
    words = text.split()
    verb = _VERBS.get(words[1].lower()) if len(words) > 1 else None
    args = words[2:]
    try:
        if verb == "add" and len(args) >= 4:
            case = await desk.add(args[0], args[1], _rest(text, 5), args[2], staff=staff)
            return wording.staff_done("Đã thêm.", case, now().date(), desk.catalog)
        if verb == "update" and len(args) >= 2:
            status, count = split_status(args[1:])
            case = await desk.update(args[0], status, _rest(text, 3 + count), staff)
            return wording.staff_done("Đã cập nhật.", case, now().date(), desk.catalog)
        if verb == "show" and len(args) == 1:
            case = await desk.require(args[0])
            failures = await recent_case_failures(desk.store, case.code)
            return wording.staff_case_view(case, now().date(), desk.catalog, failures, failures >= CASE_MAX_FAILURES)
        if verb == "import":
            if attachment is None:
                return wording.STAFF_IMPORT_NEEDS_FILE
            count = await desk.import_csv_bytes(attachment.data, attachment.filename, staff)
            return wording.imported(count)
        if verb == "list":
            overdue = bool(args) and args[0].lower() in {"quahan", "overdue"}
            cases = await desk.list(overdue=overdue, limit=wording.STAFF_LIST_LINES)
            return wording.staff_case_list(cases, await desk.count(overdue=overdue), overdue, now().date(),
                                           desk.catalog)
    except CaseError as exc:
        return wording.staff_error(str(exc))
    return wording.staff_usage(SPOKEN)
