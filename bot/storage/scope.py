"""The period and filters of a report, as SQL: every report query reads the same `WHERE`.

Reports aggregate in the database over the period asked (a commune's years of cases never
travel into Python), so each query needs the same conditions; they are written once here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ReportScope:
    start: dt.date
    end: dt.date
    """Inclusive."""
    procedure: str | None = None
    office: str | None = None
    channel: str | None = None
    """Chat channel (telegram, zalo…): applies to ratings, answer votes, feedback and questions."""

    def where(self, day: str, *, procedure: bool = True, office: bool = True,
              channel: bool = True) -> tuple[str, tuple[str, ...]]:
        """Conditions on a table with a `day` expression (YYYY-MM-DD text) in the period, and on
        its procedure, office and channel columns where it has them and they are asked for."""
        conditions, params = [f"{day} >= ?", f"{day} <= ?"], [self.start.isoformat(), self.end.isoformat()]
        for wanted, column, value in ((procedure, "procedure", self.procedure), (office, "office", self.office),
                                      (channel, "channel", self.channel)):
            if wanted and value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        return " AND ".join(conditions), tuple(params)
