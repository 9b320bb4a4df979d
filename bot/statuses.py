"""The status keys of a case and the groups the rules depend on, as plain data.

Both the desk's rules (`bot/cases.py`) and the storage's SQL (`IN (...)` lists for closed
cases) need the same groups. Written once here, with no imports of ours, a new status or a
change to what counts as closed reaches the Python rules and the queries together.
"""

from __future__ import annotations

STATUSES: tuple[str, ...] = (
    "submitted", "received", "processing", "needs_supplement", "awaiting_fees", "transferred", "ready",
    "returned", "refused", "withdrawn", "stopped",
)
CLOSED = frozenset({"returned", "refused", "withdrawn", "stopped"})
RESULT = frozenset({"ready", "returned"})
PAUSED = frozenset({"needs_supplement"})
