"""The report laid out as tables with Vietnamese headings, in reading order; each output format
renders these, so the text, the CSV and the workbook always say the same thing.

Report headings live here rather than in wording.py (the house rule's one exception).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from bot.cases import STATUS_NAMES
from bot.ratings import LEVELS, QUESTIONS
from bot.reports.data import LIST_LIMIT, Report, share
from bot.wording import TIMELINESS_WORDS

Kind = Literal["text", "long", "int", "pct", "date"]
"""How a column is shown: plain text, text that wraps, a count, a percentage (a fraction), a day."""

TITLE = "BÁO CÁO KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH VÀ MỨC ĐỘ HÀI LÒNG"


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"
    width: int | None = None
    """Characters, where the kind's usual width does not suit (a one-letter column)."""


@dataclass(frozen=True)
class Table:
    name: str
    """The sheet's name (at most 31 characters, Excel's limit)."""
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Any]]
    note: str = ""


def title_block(report: Report) -> list[str]:
    f = report.filters
    lines = [report.office or "Bộ phận Một cửa", TITLE,
             f"Kỳ báo cáo: từ ngày {f.start:%d/%m/%Y} đến ngày {f.end:%d/%m/%Y}"]
    if f.procedure:
        lines.append(f"Thủ tục: {report.name(f.procedure)}")
    if f.channel:
        lines.append(f"Kênh trò chuyện: {f.channel} (đánh giá, bình chọn, phản ánh, câu hỏi)")
    lines.append(f"Ngày lập: {report.made:%d/%m/%Y}")
    return lines


def pct_text(value: float | None) -> str:
    """70,6% as Vietnamese write it; "–" when there is nothing to divide."""
    return "–" if value is None else f"{100 * value:.1f}".replace(".", ",") + "%"


def _counts(report: Report, key: str) -> str:
    answers = report.answers.get(key, {})
    if not answers:
        return "Chưa có trả lời"
    return "; ".join(f"{label}: {answers.get(value, 0)}" for value, label in QUESTIONS[key].options)


def _limited(rows: list[Any]) -> str:
    return f"Chỉ ghi {LIST_LIMIT} dòng đầu." if len(rows) >= LIST_LIMIT else ""


def tables(report: Report) -> list[Table]:
    r = report
    received, online = r.total("received"), r.total("received_online")
    summary = Table("Tổng hợp", "Các chỉ số chính", (Column("Chỉ số", "long"), Column("Giá trị", "int")), [
        ["Hồ sơ kỳ trước chuyển sang", r.total("carried")],
        ["Hồ sơ tiếp nhận trong kỳ", received],
        ["   trong đó nộp trực tuyến", online],
        ["Hồ sơ đã giải quyết", r.closed],
        ["   trước hạn", r.total("early")],
        ["   đúng hạn", r.total("on_time")],
        ["   quá hạn", r.total("late")],
        ["Hồ sơ đang giải quyết trong hạn", r.total("open_in_time")],
        ["Hồ sơ đang giải quyết quá hạn", r.total("open_overdue")],
        ["Lượt đánh giá", r.ratings],
        ["Lượt hài lòng (Rất hài lòng và Hài lòng)", r.satisfied],
        ["Phản ánh, kiến nghị", len(r.complaints)],
        ["Câu hỏi bot chưa trả lời được (số câu khác nhau)", len(r.unanswered)],
    ])
    summary_shares = [["Tỷ lệ giải quyết đúng hạn và trước hạn", r.on_time_share],
                      ["Tỷ lệ hài lòng", r.satisfied_share],
                      ["Tỷ lệ hồ sơ nộp trực tuyến", share(online, received)]]
    shares = Table("Tỷ lệ", "Các tỷ lệ chính", (Column("Chỉ số", "long"), Column("Tỷ lệ", "pct")), summary_shares)
    per_procedure_rows = [
        [i, r.name(t.procedure), t.carried, t.received, t.received_online, t.early, t.on_time, t.late,
         share(t.early + t.on_time, t.early + t.on_time + t.late), t.open_in_time, t.open_overdue]
        for i, t in enumerate(r.tallies, 1)
    ]
    per_procedure_rows.append(["", "Tổng cộng", r.total("carried"), received, online, r.total("early"),
                               r.total("on_time"), r.total("late"), r.on_time_share, r.total("open_in_time"),
                               r.total("open_overdue")])
    per_procedure = Table("Theo thủ tục", "Tình hình, kết quả giải quyết hồ sơ theo thủ tục", (
        Column("STT", "int", 6), Column("Thủ tục", "long"), Column("Kỳ trước chuyển sang", "int"),
        Column("Tiếp nhận trong kỳ", "int"), Column("Trong đó trực tuyến", "int"),
        Column("Giải quyết trước hạn", "int"), Column("Giải quyết đúng hạn", "int"),
        Column("Giải quyết quá hạn", "int"), Column("Tỷ lệ đúng hạn", "pct"),
        Column("Đang giải quyết trong hạn", "int"), Column("Đang giải quyết quá hạn", "int"),
    ), per_procedure_rows)
    levels = Table("Mức độ hài lòng", "Mức độ hài lòng của người dân", (
        Column("Mức", "text"), Column("Số lượt", "int"), Column("Tỷ lệ", "pct"),
    ), [[LEVELS[v], r.levels[v], share(r.levels[v], r.ratings)] for v in LEVELS]
       + [["Tổng số lượt đánh giá", r.ratings, share(r.ratings, r.ratings)],
          ["Hài lòng (Rất hài lòng và Hài lòng)", r.satisfied, r.satisfied_share]])
    criteria = Table("Tiêu chí Điều 33", "Tiêu chí đánh giá theo Điều 33 Nghị định 118/2025/NĐ-CP", (
        Column("Điểm", "text", 7), Column("Tiêu chí", "long"), Column("Kết quả trong kỳ", "long"),
    ), _criteria_rows(r))
    negatives = Table("Chưa hài lòng", "Đánh giá chưa hài lòng và góp ý", (
        Column("Ngày", "date"), Column("Thủ tục", "long"), Column("Mức", "text"), Column("Hồ sơ được giải quyết"),
        Column("Góp ý", "long"), Column("Mã hồ sơ (nếu đồng ý liên hệ lại)"),
    ), [[n.day, r.name(n.procedure), LEVELS[n.level], TIMELINESS_WORDS.get(n.timeliness, ""), n.comment,
         n.contact_code or ""] for n in r.negatives], _limited(r.negatives))
    unanswered = Table("Câu hỏi chưa trả lời", "Câu hỏi người dân hỏi mà bot chưa trả lời được", (
        Column("Câu hỏi (đã che số)", "long"), Column("Số lần hỏi", "int"), Column("Thủ tục gần nhất", "long"),
    ), [[text, n, r.name(proc) if proc else ""] for text, n, proc in r.unanswered], _limited(r.unanswered))
    overdue = Table("Hồ sơ quá hạn", "Hồ sơ đang giải quyết quá hạn", (
        Column("Mã hồ sơ"), Column("Thủ tục", "long"), Column("Hẹn trả", "date"), Column("Trạng thái"),
    ), [[c.code, r.name(c.procedure), c.due, STATUS_NAMES.get(c.status, c.status)] for c in r.overdue],
        _limited(r.overdue))
    supplements = Table("Yêu cầu bổ sung", "Hồ sơ phải bổ sung trong kỳ", (
        Column("Mã hồ sơ"), Column("Thủ tục", "long"), Column("Ngày yêu cầu", "date"),
        Column("Nội dung bổ sung", "long"),
    ), [[c.code, r.name(c.procedure), c.at.date(), c.note] for c in r.supplements], _limited(r.supplements))
    usefulness = Table("Câu trả lời hữu ích", "Người dân bình chọn câu trả lời của bot", (
        Column("Thủ tục", "long"), Column("Hữu ích", "int"), Column("Chưa hữu ích", "int"),
        Column("Tỷ lệ hữu ích", "pct"),
    ), [[r.name(proc), up, down, share(up, up + down)] for proc, up, down in r.usefulness])
    complaints = Table("Phản ánh", "Phản ánh, kiến nghị gửi qua bot", (
        Column("Ngày", "date"), Column("Kênh"), Column("Nội dung (đã che số)", "long"),
    ), [[c.at.date(), c.channel, c.text] for c in r.complaints], _limited(r.complaints))
    return [summary, shares, per_procedure, levels, criteria, negatives, unanswered, overdue, supplements,
            usefulness, complaints]


def _criteria_rows(r: Report) -> list[list[Any]]:
    """Art. 33's list (ND 118/2025) with what the desk's data says about each; what the bot
    does not collect is said plainly instead of left blank."""
    timeliness = r.answers.get("timeliness", {})
    rated_on_time = timeliness.get("early", 0) + timeliness.get("on_time", 0)
    online, received = r.total("received_online"), r.total("received")
    comments = sum(1 for n in r.negatives if n.comment)
    return [
        ["a", "Thời gian trả kết quả so với quy định",
         f"{r.closed_on_time}/{r.closed} hồ sơ giải quyết đúng hạn hoặc trước hạn ({pct_text(r.on_time_share)}); "
         f"trong các hồ sơ được đánh giá: {rated_on_time}/{sum(timeliness.values())}"],
        ["b", "Số lượng cơ quan phải liên hệ để hoàn thiện hồ sơ", "Bot chưa hỏi tiêu chí này"],
        ["c", "Số lần phải liên hệ với cơ quan tiếp nhận hồ sơ", _counts(r, "visits")],
        ["d", "Thông tin thủ tục hành chính được công khai có chính xác, đầy đủ, kịp thời", _counts(r, "info")],
        ["đ", "Thái độ của cán bộ hướng dẫn, tiếp nhận, giải quyết hồ sơ", _counts(r, "attitude")],
        ["e", "Kết quả, chi phí đúng quy định; chi phí ngoài quy định", _counts(r, "extra_fee")],
        ["g", "Việc tiếp nhận, giải trình phản ánh, kiến nghị",
         f"{len(r.complaints)} phản ánh gửi qua bot trong kỳ (xử lý và trả lời ngoài bot)"],
        ["h", "Tiến độ, chất lượng cung cấp dịch vụ công trực tuyến",
         f"{online}/{received} hồ sơ nộp trực tuyến ({pct_text(share(online, received))})"],
        ["i", "Nội dung khác", f"{comments} góp ý kèm đánh giá chưa hài lòng (xem trang Chưa hài lòng)"],
    ]


def cell_text(value: Any, kind: Kind) -> str:
    """A cell as text and CSV show it: dd/mm/yyyy, 70,6%, counts as digits."""
    if value is None:
        return "–" if kind == "pct" else ""
    if kind == "pct":
        return pct_text(float(value))
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return str(value)
