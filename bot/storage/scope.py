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
        """Conditions on a table with a `day` column (YYYY-MM-DD text, or an ISO timestamp) in the
        period, and on its procedure, office and channel columns where it has them and they are
        asked for. The period's end is given as "before the next day", which holds for a day and
        for a timestamp alike and lets the column's index be read (`substr(at, 1, 10) <= ?` did not)."""
        after = (self.end + dt.timedelta(days=1)).isoformat()
        conditions, params = [f"{day} >= ?", f"{day} < ?"], [self.start.isoformat(), after]
        for wanted, column, value in ((procedure, "procedure", self.procedure), (office, "office", self.office),
                                      (channel, "channel", self.channel)):
            if wanted and value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        return " AND ".join(conditions), tuple(params)
