"""Citizen look-up: code plus second factor, identical refusals, the one-hour block, following."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import clock
from bot.app import App, build_app
from bot.messages import Incoming
from tests.helpers import CODE_A, CODE_B, delivered, make_config, make_offices_config

pytestmark = pytest.mark.asyncio
CODE = "000.00.27.H15-251120-0012"
OTHER = "000.00.27.H15-251120-0099"


@pytest_asyncio.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    application = await build_app(make_config(tmp_path / "db.sqlite3", staff={"test": frozenset({"officer"})}))
    now = clock.now()
    await application.desk.add(CODE, "cap-giay-phep-xay-dung", "Nguyễn Văn An", "0912345678",
                               received=now - dt.timedelta(days=1))
    yield application
    await application.close()


async def say(app: App, text: str, user: str = "citizen") -> str:
    replies = await app.dialog.handle(Incoming("test", user, text=text))
    return "\n".join(r.text for r in replies)


async def tap(app: App, action: str, user: str = "citizen"):
    return await app.dialog.handle(Incoming("test", user, action=action))


async def test_code_then_last_four_digits_shows_status_and_due_date(app):
    assert "4 số cuối" in await say(app, f"hồ sơ {CODE} đến đâu rồi")
    shown = await say(app, "5678")
    assert f"Hồ sơ {CODE}" in shown and "Cấp giấy phép xây dựng" in shown
    assert "Đã tiếp nhận" in shown and "Hẹn trả:" in shown and "đúng hạn" in shown
    assert "Nguyễn Văn An" not in shown and "0912345678" not in shown


async def test_asking_without_a_code_asks_for_it(app):
    assert "mã hồ sơ" in await say(app, "hồ sơ của em đã được duyệt chưa ad")
    assert "4 số cuối" in await say(app, "mã 000 00 27 h15 251120 0012")
    assert f"Hồ sơ {CODE}" in await say(app, "5678")


async def test_wrong_code_and_wrong_phone_get_the_same_refusal(app):
    await say(app, f"tra cứu {OTHER}")
    wrong_code = await say(app, "5678")
    await say(app, f"tra cứu {CODE}")
    wrong_phone = await say(app, "1111")
    assert wrong_code == wrong_phone and "Không tìm thấy" in wrong_code


async def test_five_failures_block_lookups_for_an_hour(app):
    for _ in range(5):
        await say(app, f"tra cứu {CODE}")
        await say(app, "0000")
    assert "sai quá nhiều lần" in await say(app, f"tra cứu {CODE}")
    assert "sai quá nhiều lần" not in await say(app, f"tra cứu {CODE}", user="someone-else")
    async with app.store.db.execute("UPDATE lookup_attempts SET at = ?", ((clock.now() - dt.timedelta(hours=2)).isoformat(),)):
        pass
    assert "4 số cuối" in await say(app, f"tra cứu {CODE}")


async def test_supplement_shows_what_to_bring_by_when_and_links_the_document_list(app):
    await app.desk.update(CODE, "needs_supplement", "Bản vẽ thiết kế có chữ ký")
    await say(app, f"tra cứu {CODE}")
    [reply] = await app.dialog.handle(Incoming("test", "citizen", text="5678"))
    assert "Cần bổ sung: Bản vẽ thiết kế có chữ ký" in reply.text and "Hạn bổ sung:" in reply.text
    assert "proc:cap-giay-phep-xay-dung:documents" in [b.action for b in reply.buttons]


async def test_overdue_case_apologises_with_reason_and_contact(app):
    old = "000.00.27.H15-250105-0001"
    await app.desk.add(old, "dang-ky-thuong-tru", "B", "0987654321", received=dt.datetime(2025, 1, 6, 9))
    await app.desk.update(old, "processing", "Chờ xác minh chỗ ở", at=dt.datetime(2025, 1, 7, 9))
    await say(app, f"tra cứu {old}")
    shown = await say(app, "4321")
    assert "quá hạn" in shown and "xin lỗi" in shown and "Chờ xác minh chỗ ở" in shown
    assert app.config.office.hotline in shown


async def test_follow_requires_a_verified_lookup_and_can_be_undone(app):
    [refused] = await tap(app, f"follow:{CODE}")
    assert "tra cứu lại" in refused.text
    assert not await app.store.is_following("test", "citizen", CODE)
    await say(app, f"tra cứu {CODE}")
    [view] = await app.dialog.handle(Incoming("test", "citizen", text="5678"))
    follow = next(b.action for b in view.buttons if b.action.startswith("follow:"))
    await tap(app, follow)
    assert await app.store.followers(CODE) == [("test", "citizen")]
    await tap(app, f"unfollow:{CODE}")
    assert await app.store.followers(CODE) == []


async def test_a_status_change_writes_one_outbox_row_per_follower(app):
    for user in ("a", "b"):
        await say(app, f"tra cứu {CODE}", user)
        await say(app, "5678", user)
        await tap(app, f"follow:{CODE}", user)
    await app.desk.update(CODE, "ready", "")
    rows = await app.store.outbox_rows()
    assert sorted(r.user for r in rows) == ["a", "b"]
    assert all("Đã có kết quả" in delivered(r, app.catalog).text for r in rows)


async def test_staff_commands_only_for_staff(app):
    citizen = await say(app, f"/hoso capnhat {CODE} ready")
    assert "Đã cập nhật" not in citizen
    assert (await app.desk.require(CODE)).status == "received"
    officer = await say(app, f"/hoso capnhat {CODE} processing đang thẩm định", user="officer")
    assert "Đã cập nhật" in officer
    case = await app.desk.require(CODE)
    assert case.status == "processing" and case.history[-1].staff == "test:officer"
    assert "***" in await say(app, f"/hoso xem {CODE}", user="officer")
    added = await say(app, "/hoso them 000.00.27.H15-251121-0001 dang-ky-tam-tru 0911222333 Lê Thị Cúc", user="officer")
    assert "Đã thêm" in added
    assert "Lệnh cán bộ" in await say(app, "/hoso", user="officer")
    assert "Lỗi:" in await say(app, "/hoso capnhat 123 ready", user="officer")


async def test_a_phone_ending_0001_verifies_instead_of_pressing_a_button(app):
    """R20: "0001" at the phone prompt pressed button 1, "Hủy"."""
    await app.desk.add("000.00.27.H15-251120-0099", "dang-ky-khai-sinh", "Trần Thị B", "0912340001")
    await say(app, "tra cứu 000.00.27.H15-251120-0099", "z")
    assert "Trạng thái" in await say(app, "0001", "z")


async def test_codes_and_phones_typed_with_other_digits_are_ascii_or_refused(app):
    """R20: a code or phone registered with full-width or other scripts' digits could never be
    found or verified by a citizen typing ASCII."""
    from bot.cases import CaseError

    case = await app.desk.add("000.00.27.H15-251120-００77", "dang-ky-khai-sinh", "Lê C", "０９１２３４５６７８")
    assert (case.code, case.phone) == ("000.00.27.H15-251120-0077", "0912345678")
    with pytest.raises(CaseError):
        await app.desk.add("000.00.27.H15-251120-٠٠٧٨", "dang-ky-khai-sinh", "Lê D", "0912345678")
    with pytest.raises(CaseError):
        await app.desk.add("000.00.27.H15-251120-0079", "dang-ky-khai-sinh", "Lê E", "٠٩١٢٣٤٥٦٧٨")


@pytest.mark.asyncio
async def test_an_office_can_verify_look_ups_with_the_id_number_instead_of_the_phone(tmp_path):
    """R2: a phone's last digits are easy to learn; an office that records the căn cước number
    can ask for its last four instead (lookup.second_factor: id). Only those four are kept."""
    app = await build_app(make_config(tmp_path / "db.sqlite3", lookup_factor="id"))
    try:
        await app.desk.add(CODE, "dang-ky-thuong-tru", "Nguyễn Văn An", "0912345678", id_number="001 099 012 345")
        await app.desk.add("000.00.27.H15-251120-0077", "dang-ky-thuong-tru", "Lê B", "0912340077")
        assert "số căn cước" in await say(app, f"tra cứu {CODE}", "a")
        assert "Trạng thái" not in await say(app, "5678", "a")                 # the phone tail proves nothing
        await say(app, f"tra cứu {CODE}", "b")
        assert "Trạng thái" in await say(app, "2345", "b")
        await say(app, "tra cứu 000.00.27.H15-251120-0077", "c")              # no id recorded: never shown
        assert "Trạng thái" not in await say(app, "0077", "c")
        async with app.store.db.execute("SELECT id_tail FROM cases WHERE code = ?", (CODE,)) as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [("2345",)]
    finally:
        await app.close()


@pytest.mark.asyncio
async def test_an_id_number_of_the_wrong_shape_is_refused_at_the_desk(app):
    from bot.cases import CaseError

    with pytest.raises(CaseError, match="số căn cước"):
        await app.desk.add("000.00.27.H15-251120-0078", "dang-ky-khai-sinh", "Lê C", "0912345678", id_number="12345")


async def test_a_look_up_finds_the_case_in_any_office_and_names_that_office_desk(tmp_path):
    app = await build_app(make_offices_config(tmp_path, tmp_path / "db.sqlite3"))
    try:
        for code in (CODE_A, CODE_B):
            await app.desk.add(code, "cap-giay-phep-xay-dung", "Nguyễn Văn An", "0912345678")
        await say(app, f"tra cứu {CODE_B}")
        shown = await say(app, "5678")
        assert f"Hồ sơ {CODE_B}" in shown
        assert "Nơi giải quyết: Xã Mường Ảng, Số 2 đường Mường Ảng, xã Mường Ảng" in shown
        assert "0215 222 2222 (Thứ Hai – Thứ Sáu 7:00–11:00)" in shown
        assert "Điện Biên Phủ" not in shown and "0215 111 1111" not in shown
        await tap(app, f"follow:{CODE_B}")
        await app.desk.update(CODE_B, "ready", "")
        [row] = await app.store.outbox_rows()
        assert "Nơi giải quyết: Xã Mường Ảng" in delivered(row, app.catalog).text
    finally:
        await app.close()


async def test_with_one_office_the_look_up_reads_as_before(app):
    await say(app, f"tra cứu {CODE}")
    assert "Nơi giải quyết" not in await say(app, "5678")
