"""Procedure guides: the typed model and the YAML loader that refuses a broken guide.

Officers edit the guides by hand. A typo must never reach a citizen as a half-empty answer, so
loading checks every field and reports each problem with the file, the field and what is wrong.
It also refuses what reads well but states a falsehood: a document citing a form the guide does
not list, a processing time whose words and number (which sets due dates) disagree, an amount
that does not say what kind it is. Facts that hold between dates are kept with their dates;
`bot.timeline` picks those in force on a given day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ASPECTS = (
    "documents", "fees", "processing_time", "where", "online", "forms", "eligibility", "steps", "legal_basis",
)
SECTIONS = (*ASPECTS, "citizen_deadline", "result")
"""What a caveat or a dated fact may qualify: the answerable aspects and two parts shown inside them."""
FEE_KINDS = ("fixed", "free", "province", "national_rate", "service_price")
CHANGEABLE = (
    "authority", "documents", "documents_note", "fees", "processing_time", "citizen_deadline", "where", "online",
    "forms", "eligibility", "steps", "result", "legal_basis", "caveats",
)
"""The guide fields a dated change may replace: the facts, never the words citizens are matched by."""
GROUP_ORDER = (
    "Hộ tịch", "Liên thông", "Cư trú", "Căn cước", "Chứng thực", "Đất đai", "Xây dựng", "Kinh doanh",
    "Xã hội", "Bảo hiểm", "Phương tiện", "Tư pháp",
)
COPY_KINDS = (
    "bản chính", "bản sao", "bản sao hoặc bản chụp kèm bản chính để đối chiếu", "xuất trình",
)
# libyaml's parser when the wheel has it: a province's 2,000 guides load in a second, not ten.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DISTRICT = re.compile(r"(ubnd|ủy ban nhân dân|cấp|phòng[^.,;:\n]{0,40})\s+huyện", re.IGNORECASE)


@dataclass(frozen=True)
class Dated:
    """The days a fact holds, both inclusive; None is open-ended."""

    valid_from: dt.date | None = field(default=None, kw_only=True)
    valid_until: dt.date | None = field(default=None, kw_only=True)

    def holds_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until)


@dataclass(frozen=True)
class Note(Dated):
    """One line of a list (an eligibility rule, an exemption, a legal text)."""

    text: str


@dataclass(frozen=True)
class Caveat(Dated):
    text: str
    about: str | None = None


@dataclass(frozen=True)
class Document(Dated):
    name: str
    original_or_copy: str = ""
    count: int = 1
    note: str = ""


@dataclass(frozen=True)
class FeeItem(Dated):
    """A fee and what kind of amount it is: only `province` may be said to be set by the province."""

    name: str
    kind: str
    amount_vnd: int | None = None
    rate: str = ""
    set_by: str = ""
    note: str = ""


@dataclass(frozen=True)
class Fees:
    text: str
    items: tuple[FeeItem, ...] = ()
    exemptions: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    checked: dt.date


@dataclass(frozen=True)
class Change:
    """A whole section replaced on a date, with the sentence that announces it."""

    on: dt.date
    summary: str
    values: tuple[tuple[str, Any], ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.values)


@dataclass(frozen=True)
class ProcessingTime:
    working_days: int
    text: str


@dataclass(frozen=True)
class Deadline:
    days: int
    from_: str
    text: str


@dataclass(frozen=True)
class Online:
    available: bool
    text: str
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Form:
    code: str
    name: str
    note: str = ""


@dataclass(frozen=True)
class Guide:
    id: str
    name: str
    name_en: str
    group: str
    authority: str
    aliases: tuple[str, ...]
    questions: tuple[str, ...]
    documents: tuple[Document, ...]
    fees: Fees
    processing_time: ProcessingTime
    where: str
    online: Online
    forms: tuple[Form, ...]
    eligibility: tuple[Note, ...]
    steps: tuple[str, ...]
    result: str
    legal_basis: tuple[Note, ...]
    reviewed: dt.date | None
    sources: tuple[Source, ...]
    documents_note: str = ""
    citizen_deadline: Deadline | None = None
    caveats: tuple[Caveat, ...] = ()
    changes: tuple[Change, ...] = ()
    official_code: str = ""
    includes: tuple[str, ...] = ()
    """The procedures this one carries out together (a liên thông bundle): a question about one
    of them, asked while this one is in view, is about this one."""
    source: str = field(default="", compare=False)


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class CatalogError(Exception):
    """Raised with every problem found, so an officer fixes them all in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Checker:
    """Reads one guide's mapping field by field, collecting problems instead of stopping."""

    def __init__(self, file: str, problems: list[Problem], check_district: bool = True):
        self.file = file
        self.problems = problems
        self.check_district = check_district

    def fail(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, where, message))

    def mapping(self, data: Any, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail(where or "(top level)", f"must be a mapping, got {_kind(data)}")
            return {}
        for key in sorted(required - data.keys()):
            self.fail(_join(where, key), "missing required field")
        for key in sorted(set(data) - required - optional, key=str):
            self.fail(_join(where, str(key)), "unknown field")
        return data

    def text(self, data: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = data.get(key)
        return "" if value is None else self.text_value(value, _join(where, key), required)

    def text_value(self, value: Any, where: str, required: bool = True) -> str:
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(where, f"must be non-empty text, got {_kind(value)}")
            return ""
        if self.check_district and _DISTRICT.search(value):
            self.fail(where, "mentions a district body; there is no district level since 1 July 2025")
        return value.strip()

    def integer(self, data: dict[str, Any], key: str, where: str, *, nullable: bool = False) -> int | None:
        value = data.get(key)
        if value is None and nullable:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.fail(_join(where, key), f"must be a whole number >= 0, got {_kind(value)}")
            return 0
        return value

    def items(self, data: dict[str, Any], key: str, where: str, minimum: int) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(_join(where, key), f"must be a list, got {_kind(value)}")
            return []
        if len(value) < minimum:
            self.fail(_join(where, key), f"needs at least {minimum} entries, has {len(value)}")
        return value

    def texts(self, data: dict[str, Any], key: str, where: str, minimum: int = 0) -> tuple[str, ...]:
        return tuple(
            self.text_value(item, f"{_join(where, key)}[{i}]")
            for i, item in enumerate(self.items(data, key, where, minimum))
        )

    def records(self, data: dict[str, Any], key: str, where: str, minimum: int,
                build: Callable[[Any, str], Any]) -> tuple[Any, ...]:
        return tuple(
            build(item, f"{_join(where, key)}[{i}]")
            for i, item in enumerate(self.items(data, key, where, minimum))
        )


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _date(c: _Checker, data: dict[str, Any], key: str, where: str) -> dt.date | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dt.date):
        c.fail(_join(where, key), f"must be a date like 2026-11-01, got {value!r}")
        return None
    return value


def _span(c: _Checker, d: dict[str, Any], where: str) -> dict[str, dt.date | None]:
    start, end = _date(c, d, "valid_from", where), _date(c, d, "valid_until", where)
    if start and end and end < start:
        c.fail(_join(where, "valid_until"), f"is before valid_from ({start.isoformat()})")
    return {"valid_from": start, "valid_until": end}


_SPAN = {"valid_from", "valid_until"}


def _note(c: _Checker, raw: Any, where: str) -> Note:
    """A plain line, or `{text, valid_from, valid_until}` when it holds only between dates."""
    if isinstance(raw, str):
        return Note(c.text_value(raw, where))
    d = c.mapping(raw, where, {"text"}, _SPAN)
    return Note(c.text(d, "text", where), **_span(c, d, where))


def _caveat(c: _Checker, raw: Any, where: str) -> Caveat:
    if isinstance(raw, str):
        return Caveat(c.text_value(raw, where))
    d = c.mapping(raw, where, {"text"}, {"about"} | _SPAN)
    about = d.get("about")
    if about is not None and about not in SECTIONS:
        c.fail(_join(where, "about"), f"must be one of {', '.join(SECTIONS)}, got {about!r}")
    return Caveat(c.text(d, "text", where), about if isinstance(about, str) else None, **_span(c, d, where))


def _document(c: _Checker, raw: Any, where: str) -> Document:
    d = c.mapping(raw, where, {"name"}, {"original_or_copy", "count", "note"} | _SPAN)
    kind = c.text(d, "original_or_copy", where, required=False)
    if kind and kind not in COPY_KINDS:
        c.fail(_join(where, "original_or_copy"), f"must be one of {', '.join(COPY_KINDS)}")
    count = c.integer(d, "count", where) if "count" in d else 1
    return Document(c.text(d, "name", where), kind, count or 1, c.text(d, "note", where, required=False),
                    **_span(c, d, where))


def _fee_item(c: _Checker, raw: Any, where: str) -> FeeItem:
    i = c.mapping(raw, where, {"name"}, {"kind", "amount_vnd", "rate", "set_by", "note"} | _SPAN)
    kind = i.get("kind")
    if kind is None:
        if "name" in i:
            c.fail(_join(where, "kind"), f"missing: say what the amount is ({', '.join(FEE_KINDS)})")
        kind = ""
    elif kind not in FEE_KINDS:
        c.fail(_join(where, "kind"), f"must be one of {', '.join(FEE_KINDS)}, got {kind!r}")
    amount = c.integer(i, "amount_vnd", where, nullable=True)
    if kind == "fixed" and not amount:
        c.fail(_join(where, "amount_vnd"), "a fixed fee needs its amount in đồng (> 0); a free one is kind: free")
    if kind in FEE_KINDS and kind != "fixed" and amount:
        c.fail(_join(where, "amount_vnd"), f"a {kind} fee has no fixed amount; write it as kind: fixed")
    rate, set_by = c.text(i, "rate", where, required=False), c.text(i, "set_by", where, required=False)
    if kind == "national_rate":
        for key, value in (("rate", rate), ("set_by", set_by)):
            if not value:
                c.fail(_join(where, key), "a national_rate fee needs its rate and the text that sets it")
    return FeeItem(c.text(i, "name", where), str(kind), amount or None, rate, set_by,
                   c.text(i, "note", where, required=False), **_span(c, i, where))


def _fees(c: _Checker, raw: Any, where: str) -> Fees:
    d = c.mapping(raw, where, {"text"}, {"items", "exemptions"})
    return Fees(c.text(d, "text", where), c.records(d, "items", where, 0, lambda r, w: _fee_item(c, r, w)),
                c.records(d, "exemptions", where, 0, lambda r, w: _note(c, r, w)))


# "03 ngày làm việc", "8–10 ngày": the day counts a processing-time text states, first one first
_DAY_COUNT = re.compile(r"(\d+)(?:\s*[–-]\s*(\d+))?\s+ngày")
_SAME_DAY = re.compile(r"\b(ngay|trong ngày)\b", re.IGNORECASE)


def _processing_time(c: _Checker, raw: Any, where: str) -> ProcessingTime:
    d = c.mapping(raw, where, {"working_days", "text"}, set())
    days, text = c.integer(d, "working_days", where) or 0, c.text(d, "text", where)
    counts = _DAY_COUNT.search(text)
    first = int(counts.group(2) or counts.group(1)) if counts else None
    same_day = bool(_SAME_DAY.search(text[:counts.start()] if counts else text))
    if text and days == 0 and not same_day:
        c.fail(_join(where, "working_days"), "is 0 (the same day) but the text does not say so")
    elif text and days and first is not None and first != days:
        c.fail(_join(where, "working_days"), f"is {days} but the text says {first} days; due dates use the number")
    return ProcessingTime(days, text)


def _deadline(c: _Checker, raw: Any, where: str) -> Deadline:
    d = c.mapping(raw, where, {"days", "from", "text"}, set())
    return Deadline(c.integer(d, "days", where) or 0, c.text(d, "from", where), c.text(d, "text", where))


def _online(c: _Checker, raw: Any, where: str) -> Online:
    d = c.mapping(raw, where, {"available", "text"}, {"channels"})
    available = d.get("available")
    if "available" in d and not isinstance(available, bool):
        c.fail(_join(where, "available"), f"must be true or false, got {_kind(available)}")
    return Online(bool(available), c.text(d, "text", where), c.texts(d, "channels", where))


def _form(c: _Checker, raw: Any, where: str) -> Form:
    d = c.mapping(raw, where, {"code", "name"}, {"note"})
    return Form(c.text(d, "code", where), c.text(d, "name", where), c.text(d, "note", where, required=False))


def _source(c: _Checker, raw: Any, where: str) -> Source:
    d = c.mapping(raw, where, {"title", "url", "checked"}, set())
    url = c.text(d, "url", where)
    if url and not url.startswith(("https://", "http://")):
        c.fail(_join(where, "url"), f"must be a web address (https://…), got {url!r}")
    return Source(c.text(d, "title", where), url, _date(c, d, "checked", where) or dt.date.min)


# the reader of each section, shared by the guide itself and by the dated changes that replace it
_SECTION_READERS: dict[str, Callable[[_Checker, dict[str, Any], str], Any]] = {
    "authority": lambda c, d, w: c.text(d, "authority", w),
    "documents": lambda c, d, w: c.records(d, "documents", w, 1, lambda r, x: _document(c, r, x)),
    "documents_note": lambda c, d, w: c.text(d, "documents_note", w, required=False),
    "fees": lambda c, d, w: _fees(c, d.get("fees"), _join(w, "fees")) if "fees" in d else Fees(""),
    "processing_time": lambda c, d, w: (_processing_time(c, d.get("processing_time"), _join(w, "processing_time"))
                                        if "processing_time" in d else ProcessingTime(0, "")),
    "citizen_deadline": lambda c, d, w: (_deadline(c, d["citizen_deadline"], _join(w, "citizen_deadline"))
                                         if d.get("citizen_deadline") is not None else None),
    "where": lambda c, d, w: c.text(d, "where", w),
    "online": lambda c, d, w: _online(c, d.get("online"), _join(w, "online")) if "online" in d else Online(False, ""),
    "forms": lambda c, d, w: c.records(d, "forms", w, 0, lambda r, x: _form(c, r, x)),
    "eligibility": lambda c, d, w: c.records(d, "eligibility", w, 1, lambda r, x: _note(c, r, x)),
    "steps": lambda c, d, w: c.texts(d, "steps", w, 2),
    "result": lambda c, d, w: c.text(d, "result", w),
    "legal_basis": lambda c, d, w: c.records(d, "legal_basis", w, 1, lambda r, x: _note(c, r, x)),
    "caveats": lambda c, d, w: c.records(d, "caveats", w, 0, lambda r, x: _caveat(c, r, x)),
}


def _change(c: _Checker, raw: Any, where: str) -> Change:
    if isinstance(raw, dict) and True in raw:  # YAML 1.1 reads an unquoted `on:` key as true
        raw = {("on" if key is True else key): value for key, value in raw.items()}
    d = c.mapping(raw, where, {"on", "summary", "set"}, set())
    on = _date(c, d, "on", where) or dt.date.min
    summary = c.text(d, "summary", where)
    if summary and on != dt.date.min and not summary.startswith(
            (f"Từ {on:%d/%m/%Y}", f"Từ {on.day:02d}/{on.month}/{on.year}")):
        c.fail(_join(where, "summary"), f"must begin with the date, e.g. \"Từ {on:%d/%m/%Y}, …\"")
    new = c.mapping(d.get("set"), _join(where, "set"), set(), set(CHANGEABLE)) if "set" in d else {}
    if "set" in d and not new:
        c.fail(_join(where, "set"), "names no section to change")
    values = tuple((key, _SECTION_READERS[key](c, new, _join(where, "set"))) for key in CHANGEABLE if key in new)
    return Change(on, summary, values)


# a form a document names: "(theo mẫu)", or a code such as "mẫu CT01", "Mẫu số 01", "(mẫu TP/HT-2020-KS)"
_FORM_CODE = re.compile(r"[Mm]ẫu\s+(?:số\s+)?([0-9A-ZĐ][\w/.–-]*\d[\w/–-]*|\d[\w/.–-]*)")
_BY_NAME = re.compile(r"\s*\([^)]*theo mẫu[^)]*\)", re.IGNORECASE)


def _form_key(code: str) -> str:
    """A form code as documents cite it: "Mẫu số 01" and "01" are the same form."""
    return re.sub(r"^(mẫu\s+)?(số\s+)?", "", code.strip(), flags=re.IGNORECASE).upper()


def cited_forms(document: Document) -> tuple[list[str], bool]:
    """The form codes a document names, and whether its name says "(theo mẫu)" without one."""
    codes = [_form_key(m.group(1)) for m in _FORM_CODE.finditer(f"{document.name} {document.note}")]
    return codes, bool(_BY_NAME.search(document.name)) and not codes


def _document_form(document: Document, forms: tuple[Form, ...]) -> Form | None:
    """The form that a "(theo mẫu)" document is written on: the one whose name the document repeats."""
    name = _BY_NAME.sub("", document.name).strip().lower()
    return next((f for f in forms if f.name.lower().startswith(name) or name.startswith(f.name.lower())), None)


def _check_forms(c: _Checker, documents: tuple[Document, ...], forms: tuple[Form, ...], where: str) -> None:
    known = {_form_key(f.code) for f in forms}
    for i, document in enumerate(documents):
        codes, by_name = cited_forms(document)
        for code in codes:
            if code not in known:
                c.fail(f"{where}[{i}]", f"cites form {code}, which is not in forms")
        if by_name and _document_form(document, forms) is None:
            c.fail(f"{where}[{i}]", "says (theo mẫu) but no form in forms has its name; add the form with its code")


_REQUIRED = {
    "id", "name", "name_en", "group", "authority", "aliases", "questions", "documents", "fees",
    "processing_time", "where", "online", "forms", "eligibility", "steps", "result",
    "legal_basis", "reviewed", "sources",
}
_OPTIONAL = {"documents_note", "citizen_deadline", "caveats", "official_code", "changes", "includes"}


def parse_guide(data: Any, file: str, problems: list[Problem], raw: str | None = None) -> Guide | None:
    """Build a guide from parsed YAML, appending every problem; None if any was found.

    Given the file's text, the district check looks field by field only if the text mentions
    a district body at all (it rarely does, and 2,000 guides must load in a second or two).
    """
    before = len(problems)
    c = _Checker(file, problems, check_district=raw is None or bool(_DISTRICT.search(raw)))
    d = c.mapping(data, "", _REQUIRED, _OPTIONAL)
    if not d:
        return None
    reviewed = d.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, dt.date):
        c.fail("reviewed", f"must be a date like 2026-11-01, or null until a person checks it, got {reviewed!r}")
    guide_id = c.text(d, "id", "")
    stem = Path(file).stem
    if guide_id and guide_id != stem:
        c.fail("id", f"is {guide_id!r} but the file is named {stem}.yaml")
    sections = {key: read(c, d, "") for key, read in _SECTION_READERS.items()}
    changes = c.records(d, "changes", "", 0, lambda r, w: _change(c, r, w))
    _check_forms(c, sections["documents"], sections["forms"], "documents")
    for i, change in enumerate(changes):
        values = dict(change.values)
        _check_forms(c, values.get("documents", sections["documents"]), values.get("forms", sections["forms"]),
                     f"changes[{i}].set.documents")
    guide = Guide(
        id=guide_id,
        name=c.text(d, "name", ""),
        name_en=c.text(d, "name_en", ""),
        group=c.text(d, "group", ""),
        aliases=c.texts(d, "aliases", "", 3),
        questions=c.texts(d, "questions", "", 5),
        official_code=c.text(d, "official_code", "", required=False),
        includes=c.texts(d, "includes", "", 0),
        reviewed=reviewed if isinstance(reviewed, dt.date) else None,
        sources=c.records(d, "sources", "", 1, lambda r, w: _source(c, r, w)),
        changes=tuple(sorted(changes, key=lambda ch: ch.on)),
        source=file,
        **sections,
    )
    return guide if len(problems) == before else None


def check_dir(directory: Path) -> tuple[list[Guide], list[Problem]]:
    """Every guide in a folder and every problem, without stopping at the first."""
    problems: list[Problem] = []
    guides: list[Guide] = []
    seen: dict[str, str] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        problems.append(Problem(str(directory), "(folder)", "no .yaml procedure guides found"))
    for path in files:
        try:
            raw = path.read_text(encoding="utf-8")
            data = yaml.load(raw, Loader=_LOADER)
        except UnicodeDecodeError as exc:
            problems.append(Problem(path.name, "(file)", f"is not UTF-8 text: {exc.reason}"))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f"line {mark.line + 1}" if mark else "(file)"
            problems.append(Problem(path.name, at, f"is not valid YAML: {getattr(exc, 'problem', exc)}"))
            continue
        guide = parse_guide(data, path.name, problems, raw)
        if guide is None:
            continue
        if guide.id in seen:
            problems.append(Problem(path.name, "id", f"duplicate id {guide.id!r}, also in {seen[guide.id]}"))
            continue
        seen[guide.id] = path.name
        guides.append(guide)
    for guide in guides:
        problems += [Problem(Path(guide.source).name, "includes", f"names {other!r}, which is no guide in this folder")
                     for other in guide.includes if other not in seen]
    return guides, problems


@dataclass(frozen=True)
class Catalog:
    """All guides by id, in a stable order for menus."""

    guides: dict[str, Guide]

    def __contains__(self, guide_id: object) -> bool:
        return guide_id in self.guides

    def __getitem__(self, guide_id: str) -> Guide:
        return self.guides[guide_id]

    def groups(self) -> dict[str, list[Guide]]:
        """Guides by menu group, the groups citizens ask about most first."""
        out: dict[str, list[Guide]] = {}
        for guide in self.guides.values():
            out.setdefault(guide.group, []).append(guide)
        rank = {g: i for i, g in enumerate(GROUP_ORDER)}
        return dict(sorted(out.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def load_catalog(directory: Path) -> Catalog:
    """Load every guide or raise CatalogError naming each broken file and field."""
    guides, problems = check_dir(directory)
    if problems:
        raise CatalogError(problems)
    return Catalog({g.id: g for g in guides})
