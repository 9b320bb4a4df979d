"""The report's chart: ratings per level per week above the weekly on-time rate, with room
around the bars and Vietnamese labels, for a slide or the staff chat."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

from bot.ratings import LEVELS
from bot.reports.data import Report, week_of
from bot.reports.tables import pct_text

COLORS = {"5": "#1a9850", "4": "#91cf60", "3": "#fee08b", "2": "#fc8d59", "1": "#d73027"}
HEADROOM = 1.25
"""The tallest bar reaches 80 % of the panel's height: the legend and the frame stay clear of it."""


def _weeks(report: Report) -> list[dt.date]:
    """Every week the period touches, the partial first and last ones included."""
    first, weeks = week_of(report.filters.start), []
    while first <= report.filters.end:
        weeks.append(first)
        first += dt.timedelta(days=7)
    return weeks


def to_png(report: Report) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    f = report.filters
    weeks = _weeks(report)
    labels = [f"{max(w, f.start):%d/%m}" for w in weeks]
    # the Figure API, not pyplot: no global state, so charts can be drawn in a worker thread
    fig = Figure(figsize=(10, 7.5), dpi=100)
    fig.suptitle(f"{report.office or 'Bộ phận Một cửa'}\nKỳ báo cáo {f.start:%d/%m/%Y} – {f.end:%d/%m/%Y}",
                 fontsize=12)
    top, bottom = fig.subplots(2, 1, sharex=True)
    base = [0] * len(weeks)
    for level, name in LEVELS.items():
        counts = [report.weekly_levels.get(w, Counter())[level] for w in weeks]
        top.bar(labels, counts, bottom=base, color=COLORS[level], label=name, width=0.6)
        base = [b + c for b, c in zip(base, counts, strict=True)]
    top.set_ylim(0, max(max(base, default=0), 1) * HEADROOM)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_ylabel("Số lượt đánh giá")
    top.set_title(f"Mức độ hài lòng theo tuần · hài lòng {pct_text(report.satisfied_share)}"
                  f" trên {report.ratings} lượt", fontsize=11)
    if report.ratings:
        top.legend(fontsize=8, loc="upper left", ncols=5, frameon=False)
    else:
        top.text(0.5, 0.5, "Không có đánh giá trong kỳ", transform=top.transAxes, ha="center", va="center")
    rates = [100 * report.weekly_closed[w][0] / report.weekly_closed[w][1] if w in report.weekly_closed
             else float("nan") for w in weeks]
    bottom.plot(labels, rates, marker="o", color="#2c7bb6")
    bottom.set_ylim(0, 110)
    bottom.yaxis.set_major_formatter(PercentFormatter())
    bottom.set_ylabel("Đúng hạn")
    bottom.set_xlabel("Tuần bắt đầu (ngày)")
    bottom.set_title(f"Tỷ lệ hồ sơ giải quyết đúng hạn · {pct_text(report.on_time_share)}"
                     f" trên {report.closed} hồ sơ", fontsize=11)
    bottom.grid(alpha=0.3)
    if not report.weekly_closed:
        bottom.text(0.5, 0.5, "Không có hồ sơ giải quyết xong trong kỳ", transform=bottom.transAxes,
                    ha="center", va="center")
    for axis in (top, bottom):
        axis.margins(x=0.08)
    fig.tight_layout(pad=1.5)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
