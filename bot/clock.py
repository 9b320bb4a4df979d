"""The office's wall clock: Vietnam time, whatever time zone the server runs in.

Deadlines, the 15:00 receipt cut-off, reports and every time a citizen reads are in the
office's time. A server set to UTC would otherwise be seven hours off and count a file
handed in at 16:00 as received before the cut-off. Values stay naive (no offset), as the
database has always stored them, so existing rows and reports keep their meaning.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> dt.datetime:
    """Vietnam wall-clock time to the second, without zone."""
    return dt.datetime.now(VN).replace(tzinfo=None, microsecond=0)


def today() -> dt.date:
    return now().date()
