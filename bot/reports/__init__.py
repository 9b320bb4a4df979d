"""Staff reports an office can forward: results per procedure, satisfaction, the ND 118 art. 33
criteria, negative ratings and unanswered questions, as text, CSV, XLSX and a PNG chart.

`data` gathers the figures (counted in SQL over the period), `tables` lays them out with
Vietnamese headings, and each output format is its own module.
"""

from __future__ import annotations

from bot.reports.chart import to_png
from bot.reports.data import Filters, Report, build_report, period
from bot.reports.page import to_html
from bot.reports.plain import render_text, summary_text, to_csv
from bot.reports.sheets import to_xlsx

__all__ = ["Filters", "Report", "build_report", "period", "render_text", "summary_text", "to_csv", "to_html",
           "to_png", "to_xlsx"]
