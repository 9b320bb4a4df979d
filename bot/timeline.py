"""Guides on a given day: the facts in force that day, and the changes a citizen should hear about.

Laws change on known dates (a fee discount ends, a new law takes effect). A guide writes each
dated fact once with the days it holds, so the answer switches on the right morning without an
officer editing files at midnight, and in the weeks before a change the answer says what changes
and when. The day is always passed in (the office's day from `bot.clock`), so a test can ask about
any day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.catalog import Caveat, Dated, Guide

NOTICE_DAYS = 90
"""How long before a change the answers about it announce it."""

_CHANGE_SECTIONS = {
    "authority": "where", "documents_note": "documents", "citizen_deadline": "eligibility", "caveats": None,
}
"""The answer that shows a changed field, where it is not the field's own name (None: the overview)."""


@dataclass(frozen=True)
class Coming:
    """One announced change: a dated fact that starts (`item`), ends (`ending`), or a section's change."""

    on: dt.date
    section: str | None
    summary: str = ""
    item: Any = None
    ending: bool = False


def changed(guide: Guide, day: dt.date) -> Guide:
    """The guide with every whole-section change due by `day` applied; its dated items left as written."""
    out = guide
    for change in guide.changes:
        if change.on <= day:
            out = dataclasses.replace(out, **dict(change.values))
    return dataclasses.replace(out, changes=tuple(c for c in guide.changes if c.on > day))


def as_of(guide: Guide, day: dt.date) -> Guide:
    """The guide as it holds on `day`: changes applied, only the items in force that day."""
    g = changed(guide, day)
    fees = dataclasses.replace(g.fees, items=_holding(g.fees.items, day), exemptions=_holding(g.fees.exemptions, day))
    return dataclasses.replace(
        g, documents=_holding(g.documents, day), fees=fees, eligibility=_holding(g.eligibility, day),
        legal_basis=_holding(g.legal_basis, day), caveats=_holding(g.caveats, day))


def coming(guide: Guide, day: dt.date, days: int = NOTICE_DAYS, *, caveats: bool = False) -> list[Coming]:
    """What changes after `day` and within `days` of it, soonest first. A dated caveat is its own
    announcement, so citizens are not told it starts or ends; the content officer is (`caveats`)."""
    end = day + dt.timedelta(days=days)
    out = [Coming(c.on, _CHANGE_SECTIONS.get(name, name), c.summary)
           for c in guide.changes if day < c.on <= end for name in c.fields]
    for section, item in (*_dated_items(changed(guide, day)), *_dated_items(changed(guide, end))):
        if isinstance(item, Caveat) and not caveats:
            continue
        if item.valid_from is not None and day < item.valid_from <= end:
            out.append(Coming(item.valid_from, section, item=item))
        if item.valid_until is not None and day <= item.valid_until < end:
            out.append(Coming(item.valid_until + dt.timedelta(days=1), section, item=item, ending=True))
    return sorted(_unique(out), key=lambda c: (c.on, c.ending))


def upcoming(guides: Iterable[Guide], day: dt.date, days: int) -> list[tuple[Guide, Coming]]:
    """For the content officer: every dated fact and change of every guide due within the span."""
    return sorted(((g, c) for g in guides for c in coming(g, day, days, caveats=True)),
                  key=lambda gc: (gc[1].on, gc[0].id))


def _holding(items: tuple[Any, ...], day: dt.date) -> tuple[Any, ...]:
    return tuple(i for i in items if i.holds_on(day))


def _dated_items(g: Guide) -> Iterator[tuple[str | None, Dated]]:
    yield from (("documents", d) for d in g.documents)
    yield from (("fees", i) for i in (*g.fees.items, *g.fees.exemptions))
    yield from (("eligibility", e) for e in g.eligibility)
    yield from (("legal_basis", n) for n in g.legal_basis)
    yield from ((c.about, c) for c in g.caveats if isinstance(c, Caveat))


def _unique(items: list[Coming]) -> list[Coming]:
    """Each announcement once: a change may replace two fields shown in one section, and an item
    kept by a change is read both before and after it."""
    return list(dict.fromkeys(items))
