"""The report as a workbook an office forwards as it is: a title block on every sheet, formatted
headers, real numbers, percentages and dates (so Excel can sum and sort them), frozen headings,
and A4 print settings that fit each sheet's width on the page."""

from __future__ import annotations

import copy
import io
import math
from typing import Any

from bot.reports.data import Report
from bot.reports.plain import FORMULA_STARTS
from bot.reports.tables import Column, Table, tables, title_block

WIDTHS = {"text": 18, "long": 48, "int": 12, "pct": 12, "date": 12}
FORMATS = {"int": "#,##0", "pct": "0.0%", "date": "dd/mm/yyyy"}
HEADER_FILL = "DDEBF7"
LINE_HEIGHT = 15
"""Points per line of 11-point text."""


def to_xlsx(report: Report, chart: bytes | None = None) -> bytes:
    """One sheet per table; the chart, when given, on a sheet of its own."""
    from openpyxl import Workbook

    book = Workbook()
    for sheet in book.worksheets:  # the empty default sheet
        book.remove(sheet)
    block = title_block(report)
    for table in tables(report):
        _sheet(book, table, block)
    if chart is not None:
        _chart_sheet(book, chart, block)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(book: Any, table: Table, block: list[str]) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(table.name[:31])
    width = len(table.columns)
    last = get_column_letter(width)
    widths = [_width(column, table) for column in table.columns]
    for i, line in enumerate([*block, table.title], 1):
        cell = sheet.cell(i, 1, line)
        cell.font = Font(bold=i in (1, 2) or i == len(block) + 1, size=13 if i == 2 else 11)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[i].height = LINE_HEIGHT * _lines(line, sum(widths) * (0.8 if i == 2 else 1))
        if width > 1:
            sheet.merge_cells(f"A{i}:{last}{i}")
    header_row = len(block) + 3
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for j, column in enumerate(table.columns, 1):
        cell = sheet.cell(header_row, j, column.header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = border
        sheet.column_dimensions[get_column_letter(j)].width = widths[j - 1]
    sheet.row_dimensions[header_row].height = LINE_HEIGHT * max(
        _lines(c.header, w - 2) for c, w in zip(table.columns, widths, strict=True))
    styled: dict[int, Any] = {}
    """Each column's cell style, set once and copied: openpyxl hashes a style object on every
    assignment, which for a report's 500-row lists cost seconds."""
    for i, row in enumerate(table.rows, header_row + 1):
        sheet.row_dimensions[i].height = LINE_HEIGHT * max(
            [1] + [_lines(str(v), w) for v, c, w in zip(row, table.columns, widths, strict=True) if c.kind == "long"])
        for j, (value, column) in enumerate(zip(row, table.columns, strict=True), 1):
            cell = sheet.cell(i, j, value)
            if j in styled:
                cell._style = copy.copy(styled[j])
            else:
                cell.border = border
                if column.kind in FORMATS:
                    cell.number_format = FORMATS[column.kind]
                cell.alignment = Alignment(wrap_text=column.kind == "long", vertical="top",
                                           horizontal="center" if column.width and column.width < 10 else None)
                styled[j] = copy.copy(cell._style)
            if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                # openpyxl stores any text starting with "=" as a formula: keep it a string,
                # shown as typed (quotePrefix is Excel's own "this is text" mark)
                cell.data_type = "s"
                cell.quotePrefix = True
        if row and row[min(1, width - 1)] == "Tổng cộng":
            for j in range(1, width + 1):
                sheet.cell(i, j).font = Font(bold=True)
    if not table.rows:
        sheet.cell(header_row + 1, 1, "(không có)")
    if table.note:
        sheet.cell(header_row + len(table.rows) + 2, 1, table.note).font = Font(italic=True)
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    _print_settings(sheet, landscape=width > 4)


def _lines(text: str, width: float) -> int:
    """How many lines a wrapped cell takes: Excel and LibreOffice size no row by its content
    when the file says nothing, and the rows below would cover the second line."""
    return sum(max(1, math.ceil(len(part) / max(width - 1, 1))) for part in text.split("\n"))


def _width(column: Column, table: Table) -> float:
    """Wide enough for the header and the values, within a sensible range for the kind."""
    if column.width is not None:
        return column.width
    longest = max([len(column.header) // 2 + 2] + [len(str(r[table.columns.index(column)])) + 2
                                                  for r in table.rows if column.kind == "text"])
    return max(WIDTHS[column.kind], min(longest, 30)) if column.kind == "text" else WIDTHS[column.kind]


def _print_settings(sheet: Any, *, landscape: bool, one_page: bool = False) -> None:
    """A4, as wide as the page; long tables run on over more pages, the chart fits on one."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1 if one_page else 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5


def _chart_sheet(book: Any, chart: bytes, block: list[str]) -> None:
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font

    sheet = book.create_sheet("Biểu đồ")
    for i, line in enumerate(block, 1):
        sheet.cell(i, 1, line).font = Font(bold=i in (1, 2))
    image = Image(io.BytesIO(chart))
    image.width, image.height = int(image.width * 0.8), int(image.height * 0.8)
    sheet.add_image(image, f"B{len(block) + 2}")
    _print_settings(sheet, landscape=True, one_page=True)
