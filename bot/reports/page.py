"""The report as one print-ready HTML page: A4, headings repeated on every printed page, the
chart inline. Any browser prints it or saves it as PDF, so no PDF library (and no Vietnamese
font to embed) is needed. Every value is escaped: complaints and comments come from outside."""

from __future__ import annotations

import base64
from html import escape

from bot.reports.data import Report
from bot.reports.tables import cell_text, tables, title_block

HEADER = "ddebf7"
STYLE = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Times New Roman", serif; font-size: 11pt; color: #000; }
.office { font-weight: bold; }
h1 { font-size: 14pt; text-align: center; margin: 6pt 0; }
.period { text-align: center; margin: 0 0 12pt; }
h2 { font-size: 12pt; margin: 16pt 0 4pt; break-after: avoid; }
table { border-collapse: collapse; width: 100%; }
thead { display: table-header-group; }
th, td { border: 1px solid #888; padding: 2pt 4pt; vertical-align: top; white-space: pre-wrap; }
th { background: #ddebf7; }
td.n { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
.note { font-style: italic; }
img { display: block; margin: 0 auto; max-width: 100%; max-height: 175mm; break-before: page; }
"""


def to_html(report: Report, chart: bytes | None = None) -> str:
    office, title, *rest = title_block(report)
    parts = [f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>{escape(title)}</title>',
             f"<style>{STYLE}</style></head><body>", f'<div class="office">{escape(office)}</div>',
             f"<h1>{escape(title)}</h1>", *(f'<div class="period">{escape(line)}</div>' for line in rest)]
    for table in tables(report):
        parts.append(f"<h2>{escape(table.title)}</h2>")
        if not table.rows:
            parts.append("<p>(không có)</p>")
            continue
        # border and cellpadding as attributes too: Word and LibreOffice, which officers also
        # open HTML with, ignore much of the style sheet
        parts.append('<table border="1" cellpadding="3" width="100%"><thead><tr>'
                     + "".join(f'<th bgcolor="#{HEADER}">{escape(c.header)}</th>' for c in table.columns)
                     + "</tr></thead><tbody>")
        for row in table.rows:
            cells = (f'<td{" class=n align=right" if c.kind in ("int", "pct") else ""}>'
                     f"{escape(cell_text(v, c.kind))}</td>"
                     for v, c in zip(row, table.columns, strict=True))
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table>")
        if table.note:
            parts.append(f'<p class="note">{escape(table.note)}</p>')
    if chart is not None:
        parts.append(f'<img alt="Biểu đồ" src="data:image/png;base64,{base64.b64encode(chart).decode()}">')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
