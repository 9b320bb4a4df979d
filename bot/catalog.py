"""Procedure guides: the typed model and the YAML loader that refuses a broken guide.

Officers edit the guides by hand. A typo must never reach a citizen as a half-empty answer, so
loading checks every field and reports each problem with the file, the field and what is wrong.
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
    "documents", "fees", "processing_time", "where", "online", "forms", "eligibility", "steps",
)
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
class Document:
    name: str
    original_or_copy: str = ""
    count: int = 1
    note: str = ""


@dataclass(frozen=True)
class FeeItem:
    name: str
    amount_vnd: int | None
    note: str = ""


@dataclass(frozen=True)
class Fees:
    text: str
    items: tuple[FeeItem, ...] = ()
    exemptions: tuple[str, ...] = ()


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
    eligibility: tuple[str, ...]
    steps: tuple[str, ...]
    result: str
    legal_basis: tuple[str, ...]
    reviewed: dt.date
    documents_note: str = ""
    citizen_deadline: Deadline | None = None
    caveats: tuple[str, ...] = ()
    official_code: str = ""
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


def _document(c: _Checker, raw: Any, where: str) -> Document:
    d = c.mapping(raw, where, {"name"}, {"original_or_copy", "count", "note"})
    kind = c.text(d, "original_or_copy", where, required=False)
    if kind and kind not in COPY_KINDS:
        c.fail(_join(where, "original_or_copy"), f"must be one of {', '.join(COPY_KINDS)}")
    count = c.integer(d, "count", where) if "count" in d else 1
    return Document(c.text(d, "name", where), kind, count or 1, c.text(d, "note", where, required=False))


def _fees(c: _Checker, raw: Any, where: str) -> Fees:
    d = c.mapping(raw, where, {"text"}, {"items", "exemptions"})

    def item(raw_item: Any, w: str) -> FeeItem:
        i = c.mapping(raw_item, w, {"name", "amount_vnd"}, {"note"})
        return FeeItem(c.text(i, "name", w), c.integer(i, "amount_vnd", w, nullable=True),
                       c.text(i, "note", w, required=False))

    return Fees(c.text(d, "text", where), c.records(d, "items", where, 0, item),
                c.texts(d, "exemptions", where))


def _processing_time(c: _Checker, raw: Any, where: str) -> ProcessingTime:
    d = c.mapping(raw, where, {"working_days", "text"}, set())
    return ProcessingTime(c.integer(d, "working_days", where) or 0, c.text(d, "text", where))


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


_REQUIRED = {
    "id", "name", "name_en", "group", "authority", "aliases", "questions", "documents", "fees",
    "processing_time", "where", "online", "forms", "eligibility", "steps", "result",
    "legal_basis", "reviewed",
}
_OPTIONAL = {"documents_note", "citizen_deadline", "caveats", "official_code"}


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
    if "reviewed" in d and not isinstance(reviewed, dt.date):
        c.fail("reviewed", f"must be a date like 2026-11-01, got {reviewed!r}")
    guide_id = c.text(d, "id", "")
    stem = Path(file).stem
    if guide_id and guide_id != stem:
        c.fail("id", f"is {guide_id!r} but the file is named {stem}.yaml")
    deadline = d.get("citizen_deadline")
    guide = Guide(
        id=guide_id,
        name=c.text(d, "name", ""),
        name_en=c.text(d, "name_en", ""),
        group=c.text(d, "group", ""),
        authority=c.text(d, "authority", ""),
        aliases=c.texts(d, "aliases", "", 3),
        questions=c.texts(d, "questions", "", 5),
        documents=c.records(d, "documents", "", 1, lambda r, w: _document(c, r, w)),
        documents_note=c.text(d, "documents_note", "", required=False),
        fees=_fees(c, d.get("fees"), "fees") if "fees" in d else Fees(""),
        processing_time=(_processing_time(c, d.get("processing_time"), "processing_time")
                         if "processing_time" in d else ProcessingTime(0, "")),
        citizen_deadline=_deadline(c, deadline, "citizen_deadline") if deadline is not None else None,
        where=c.text(d, "where", ""),
        online=_online(c, d.get("online"), "online") if "online" in d else Online(False, ""),
        forms=c.records(d, "forms", "", 0, lambda r, w: _form(c, r, w)),
        eligibility=c.texts(d, "eligibility", "", 1),
        steps=c.texts(d, "steps", "", 2),
        result=c.text(d, "result", ""),
        legal_basis=c.texts(d, "legal_basis", "", 1),
        caveats=c.texts(d, "caveats", ""),
        official_code=c.text(d, "official_code", "", required=False),
        reviewed=reviewed if isinstance(reviewed, dt.date) else dt.date.min,
        source=file,
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
