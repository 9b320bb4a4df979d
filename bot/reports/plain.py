"""The report as text (a terminal, the staff chat) and as CSV for a Vietnamese-locale Excel."""

from __future__ import annotations

import csv
import io

from bot.reports.data import Report
from bot.reports.tables import cell_text, pct_text, tables, title_block

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, CSV injection): complaints, rating
comments and staff notes are typed by people outside the office, and "=HYPERLINK(…)" in a
complaint must stay text in the officer's Excel."""


def _inert(value: str) -> str:
    """A text cell as text, whatever it starts with: CSV has no types, so a leading apostrophe
    tells Excel and LibreOffice to show the rest as typed."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def render_text(report: Report) -> str:
    lines = [*title_block(report), ""]
    for table in tables(report):
        lines.append(f"== {table.title} ==")
        if not table.rows:
            lines.append("(không có)")
        else:
            lines.append(" | ".join(c.header for c in table.columns))
            lines += [" | ".join(cell_text(v, c.kind) for v, c in zip(row, table.columns, strict=True))
                      for row in table.rows]
        if table.note:
            lines.append(table.note)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_csv(report: Report) -> str:
    """All tables in one file, each under its title. Semicolons and decimal commas: what Excel
    expects where the list separator is Vietnamese (a comma-separated file opens in one column)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for line in title_block(report):
        writer.writerow([line])
    writer.writerow([])
    for table in tables(report):
        writer.writerow([table.title])
        writer.writerow([c.header for c in table.columns])
        writer.writerows([_inert(cell_text(v, c.kind)) for v, c in zip(row, table.columns, strict=True)]
                         for row in table.rows)
        writer.writerow([])
    return out.getvalue()


def summary_text(report: Report) -> str:
    """The short version staff get in the chat."""
    f = report.filters
    return (f"Báo cáo {f.start:%d/%m} – {f.end:%d/%m/%Y}\n"
            f"Tiếp nhận: {report.total('received')} hồ sơ · Đã giải quyết: {report.closed}, "
            f"đúng hạn {pct_text(report.on_time_share)}\n"
            f"Đang quá hạn: {report.total('open_overdue')} · Phải bổ sung: {len(report.supplements)}\n"
            f"Đánh giá: {report.ratings} lượt, hài lòng {pct_text(report.satisfied_share)}\n"
            f"Đánh giá chưa hài lòng: {len(report.negatives)} · Phản ánh: {len(report.complaints)}")
