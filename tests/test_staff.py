"""Staff chat commands (/hoso, /traloi): staff manage cases and answer citizens, everyone else learns nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import clock
from bot.app import App, build_app
from bot.config import Office
from bot.messages import Attachment, Incoming
from tests.helpers import CODE_A, CODE_B, OFFICE_A, delivered, make_config, make_offices_config

pytestmark = pytest.mark.asyncio
CODE = "000.00.27.H15-251120-0012"
OTHER = "000.00.27.H15-251120-0099"
STAFF = "officer"


@pytest_asyncio.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    forwarded: list[str] = []

    async def forward(text: str, office: object = None) -> None:
        forwarded.append(text)

    application = await build_app(make_config(tmp_path / "db.sqlite3", staff={"test": frozenset({STAFF})}), forward)
    application.forwarded = forwarded  # type: ignore[attr-defined]
    yield application
    await application.close()


async def say(app: App, text: str, user: str = STAFF, channel: str = "test",
              attachment: Attachment | None = None) -> str:
    replies = await app.dialog.handle(Incoming(channel, user, text=text, attachment=attachment))
    return "\n".join(r.text for r in replies)


async def add_case(app: App, code: str = CODE, received: dt.datetime | None = None) -> None:
    await app.desk.add(code, "dang-ky-ket-hon", "Nguyễn Văn An", "0912345678",
                       received=received or clock.now())


async def ask_for_a_person(app: App, user: str, channel: str) -> str:
    reply = await say(app, "cho tôi gặp cán bộ", user=user, channel=channel)
    return reply.split("mã ")[1][:7]


async def test_citizens_typing_staff_commands_learn_nothing_and_change_nothing(app):
    await add_case(app)
    existing = await say(app, f"/hoso xem {CODE}", user="c1")
    missing = await say(app, f"/hoso xem {OTHER}", user="c2")
    assert existing == missing  # not even whether the case exists
    replies = [existing,
               await say(app, "/hoso", user="c3"),
               await say(app, "/hoso ds", user="c4"),
               await say(app, f"/hoso capnhat {CODE} ready", user="c5"),
               await say(app, f"/hoso them {OTHER} dang-ky-ket-hon 0987654321 Kẻ Gian", user="c6")]
    for reply in replies:
        assert "Lệnh cán bộ" not in reply and "Lỗi" not in reply and "Đã " not in reply
        assert "Nguyễn Văn An" not in reply and "678" not in reply and "received" not in reply
    assert "/hoso" not in "".join(replies[1:3]) and CODE not in "".join(replies[1:3])
    assert (await app.desk.require(CODE)).status == "received"
    assert await app.desk.get(OTHER) is None


async def test_staff_rights_hold_only_on_the_channel_they_were_granted_for(app):
    await add_case(app)
    elsewhere = await say(app, "/hoso ds", channel="zalo")
    assert CODE not in elsewhere and "hồ sơ:" not in elsewhere
    assert CODE in await say(app, "/hoso ds", channel="test")


async def test_staff_register_update_and_view_a_case_in_the_chat(app):
    added = await say(app, "/hoso them 000.00.27.h15-251120-0012 dang-ky-ket-hon +84912345678 Trần Thị Bình")
    assert added.startswith("Đã thêm.") and CODE in added
    updated = await say(app, f"/cases update {CODE.lower()} processing thẩm định hồ sơ")
    assert updated.startswith("Đã cập nhật.")
    shown = await say(app, f"/HOSO XEM {CODE}")
    assert f"{CODE} · Đăng ký kết hôn\nTrạng thái: Đang xử lý · hẹn trả " in shown     # names, not ids
    assert "Trần Thị Bình" in shown and "0912345678" not in shown and "912345678" not in shown
    assert "Đã tiếp nhận (test:officer)" in shown and "Đang xử lý: thẩm định hồ sơ (test:officer)" in shown
    assert "processing" not in shown and "received" not in shown


async def test_case_list_shows_every_case_and_quahan_only_the_overdue_ones(app):
    assert await say(app, "/hoso ds") == "Không có hồ sơ nào."
    late = "000.00.27.H15-250106-0001"
    await add_case(app)
    await add_case(app, late, received=dt.datetime(2025, 1, 6, 9))
    everything = await say(app, "/hoso ds")
    assert everything.startswith("2 hồ sơ:") and CODE in everything and late in everything
    overdue = await say(app, "/hoso ds quahan")
    assert overdue.startswith("1 hồ sơ quá hạn:") and late in overdue and CODE not in overdue
    assert "đang quá hạn" in overdue and "Đăng ký kết hôn" in overdue and "overdue" not in overdue


@pytest.mark.parametrize("command", [
    "/hoso them",
    f"/hoso them {OTHER} dang-ky-ket-hon 0987654321",          # no name
    "/hoso xem",
    f"/hoso xem {CODE} {OTHER}",
    f"/hoso capnhat {CODE}",                                   # no status
    "/hoso duyet",                                             # unknown verb
    "/cases",
])
async def test_incomplete_or_unknown_commands_get_the_usage(app, command):
    await add_case(app)
    reply = await say(app, command)
    assert reply.startswith("Lệnh cán bộ:") and "/hoso capnhat MÃ TRẠNG_THÁI" in reply and "chờ bổ sung" in reply
    assert (await app.desk.require(CODE)).status == "received" and await app.desk.get(OTHER) is None


@pytest.mark.parametrize("command, message", [
    (f"/hoso capnhat {CODE} duyet", "trạng thái 'duyet' không có; dùng một trong: đã nộp, đã tiếp nhận"),
    (f"/hoso capnhat {CODE} refused", "cần ghi chú"),
    (f"/hoso xem {OTHER}", f"không có hồ sơ {OTHER}"),
    (f"/hoso them {OTHER} khong-co-thu-tuc 0987654321 Lê Văn C", "thủ tục 'khong-co-thu-tuc' không có trong danh mục"),
    (f"/hoso them {OTHER} dang-ky-ket-hon 12345 Lê Văn C", "số điện thoại không hợp lệ"),
    (f"/hoso them {CODE} dang-ky-ket-hon 0987654321 Lê Văn C", f"hồ sơ {CODE} đã có"),
])
async def test_wrong_arguments_are_explained_not_apologised_for(app, command, message):
    await add_case(app)
    reply = await say(app, command)
    assert reply.startswith("Lỗi: ") and message in reply and "sự cố" not in reply
    case = await app.desk.require(CODE)
    assert case.status == "received" and case.name == "Nguyễn Văn An" and await app.desk.get(OTHER) is None


async def test_a_note_with_an_unbalanced_quote_still_updates_the_case(app):
    await add_case(app)
    reply = await say(app, f'/hoso capnhat {CODE} needs_supplement Thiếu "Tờ khai')
    assert reply.startswith("Đã cập nhật.")
    assert (await app.desk.require(CODE)).last_note() == 'Thiếu "Tờ khai'


@pytest.mark.parametrize("note", ['Thiếu "Tờ khai đăng ký kết hôn" bản chính',
                                  "Thiếu bản sao CCCD của chồng.\nNộp bổ sung trước 30/11",
                                  r"Xem mục 2\b, giấy tờ của người 'được ủy quyền'"])
async def test_a_note_reaches_the_case_as_typed(app, note):
    await add_case(app)
    await say(app, f"/hoso capnhat {CODE} needs_supplement {note}")
    assert (await app.desk.require(CODE)).last_note() == note


async def test_a_name_typed_in_quotes_is_stored_without_them(app):
    reply = await say(app, f'/hoso them {CODE} dang-ky-ket-hon 0912345678 "Nguyễn Văn An"')
    assert reply.startswith("Đã thêm.")
    assert (await app.desk.require(CODE)).name == "Nguyễn Văn An"


async def test_import_needs_a_file_and_a_bad_file_is_refused_by_line_with_nothing_imported(app):
    assert "Gửi file CSV" in await say(app, "/hoso nhap")
    data = ("code,procedure,name,phone\n"
            f"{CODE},dang-ky-ket-hon,Nguyễn Văn An,0912345678\n"
            f"{OTHER},dang-ky-ket-hon,Lê Văn C,12\n").encode()
    reply = await say(app, "/hoso nhap", attachment=Attachment("hoso.csv", data, "text/csv"))
    assert reply.startswith("Lỗi: hoso.csv: 1 dòng lỗi, chưa nhập dòng nào") and "dòng 3: số điện thoại" in reply
    assert await app.desk.list() == []


async def test_import_of_a_long_file_with_a_stray_quote_is_refused_clearly(app):
    rows = [f"000.00.27.H15-251120-{n:04d},dang-ky-ket-hon,Nguyễn Văn An,0912345678" for n in range(1, 3000)]
    rows[0] = '000.00.27.H15-251120-0001,dang-ky-ket-hon,"Nguyễn Văn An,0912345678'
    data = ("code,procedure,name,phone\n" + "\n".join(rows) + "\n").encode()
    reply = await say(app, "/hoso nhap", attachment=Attachment("hoso.csv", data, "text/csv"))
    assert reply.startswith("Lỗi: ") and "hoso.csv" in reply
    assert await app.desk.list() == []


async def test_an_answer_reaches_the_citizen_on_their_own_channel_quoting_the_reference(app):
    ref = await ask_for_a_person(app, "citizen-7", channel="zalo")
    [note] = app.forwarded
    assert ref in note and "kênh zalo" in note
    done = await say(app, f"/traloi {ref.lower()} Chị mang thêm bản sao CCCD.\nBộ phận mở cửa 7:30.")
    assert done == f"Đã gửi câu trả lời cho yêu cầu {ref}."
    [row] = await app.store.outbox_rows()
    assert (row.channel, row.user, row.kind) == ("zalo", "citizen-7", "reply")
    office = app.config.office.name
    assert f"Cán bộ {office} trả lời (mã {ref}):\nChị mang thêm bản sao CCCD.\nBộ phận mở cửa 7:30." in delivered(
        row, app.catalog).text


@pytest.mark.parametrize("command", ["/traloi", "/traloi H1A2B3C"])
async def test_an_answer_without_text_gets_the_syntax(app, command):
    await ask_for_a_person(app, "citizen", channel="test")
    assert await say(app, command) == "Cú pháp: /traloi MÃ_CHUYỂN nội dung trả lời"
    assert await app.store.outbox_rows() == []


async def test_an_unknown_or_erased_reference_sends_nothing(app):
    assert await say(app, "/traloi H000000 Chào chị") == "Không có yêu cầu gặp cán bộ mã H000000."
    ref = await ask_for_a_person(app, "citizen", channel="test")
    await app.dialog.handle(Incoming("test", "citizen", action="forget:confirm"))
    assert await say(app, f"/traloi {ref} Chào chị") == f"Không có yêu cầu gặp cán bộ mã {ref}."
    assert await app.store.outbox_rows() == []


@pytest.mark.parametrize("typed, status, note", [
    ("đã tiếp nhận", None, ""),                                   # already received: refused below
    ("dang xu ly", "processing", ""),
    ("Đang xử lý Chờ xác minh", "processing", "Chờ xác minh"),
    ("chờ bổ sung Thiếu tờ khai có chữ ký", "needs_supplement", "Thiếu tờ khai có chữ ký"),
    ("cho bo sung thieu to khai", "needs_supplement", "thieu to khai"),
    ("có kết quả", "ready", ""),
    ("needs_supplement Thiếu ảnh", "needs_supplement", "Thiếu ảnh"),
])
async def test_statuses_are_typed_as_officers_say_them(app, typed, status, note):
    await add_case(app)
    reply = await say(app, f"/hoso capnhat {CODE} {typed}")
    case = await app.desk.require(CODE)
    if status is None:
        assert "đã ở trạng thái Đã tiếp nhận" in reply and case.status == "received"
        return
    assert reply.startswith("Đã cập nhật."), reply
    assert (case.status, case.last_note()) == (status, note)


async def test_a_returned_case_can_be_closed_with_da_tra(app):
    await add_case(app)
    await say(app, f"/hoso capnhat {CODE} có kết quả")
    assert (await say(app, f"/hoso capnhat {CODE} đã trả")).startswith("Đã cập nhật.")
    assert (await app.desk.require(CODE)).status == "returned"


@pytest_asyncio.fixture
async def province(tmp_path: Path) -> AsyncIterator[App]:
    """A deployment of two communes, one case each, received today."""
    application = await build_app(make_offices_config(tmp_path, tmp_path / "db.sqlite3"))
    for code in (CODE_A, CODE_B):
        await add_case(application, code)
    yield application
    await application.close()


async def test_an_officer_sees_and_changes_only_their_office_cases_in_the_chat(province):
    other_office = await say(province, f"/hoso xem {CODE_B}", user="officer_a")
    no_such_case = await say(province, "/hoso xem 000.01.11.H15-251120-0999", user="officer_a")
    assert other_office.replace(CODE_B, "X") == no_such_case.replace("000.01.11.H15-251120-0999", "X")
    assert "Nguyễn" not in other_office and "0912" not in other_office
    listed = await say(province, "/hoso ds", user="officer_a")
    assert CODE_A in listed and CODE_B not in listed
    refused = await say(province, f"/hoso capnhat {CODE_B} đang xử lý", user="officer_a")
    assert "không có hồ sơ" in refused
    assert (await province.desk.get(CODE_B)).status == "received"
    assert "không phải cơ quan của bạn" in await say(
        province, "/hoso them 000.02.11.H15-251120-0007 dang-ky-ket-hon 0987654321 Trần Bình", user="officer_a")
    assert "Đã cập nhật" in await say(province, f"/hoso capnhat {CODE_B} đang xử lý", user="officer_b")
    assert CODE_B in await say(province, f"/hoso xem {CODE_B}", user="officer_b")


async def test_an_officer_report_in_the_chat_counts_their_office_only(province):
    replies = await province.dialog.handle(Incoming("test", "officer_a", text="/baocao tuan"))
    assert "Tiếp nhận: 1 hồ sơ" in replies[0].text


async def test_a_request_for_a_person_reaches_the_office_that_serves_the_citizen_and_only_its_officers(tmp_path):
    """In a province's deployment a citizen who said where they live is that commune's: the
    request goes to its staff chat, and another commune's officer cannot answer it (nor learn
    that it exists). A request the conversation cannot place goes to the deployment's chat."""
    forwarded: list[tuple[str, str | None]] = []

    async def forward(text: str, office: Office | None) -> None:
        forwarded.append((text, office.code if office else None))

    province = await build_app(make_offices_config(tmp_path, tmp_path / "db.sqlite3"), forward)
    try:
        await say(province, "nhà tôi ở phường Điện Biên Phủ, tỉnh Điện Biên", user="citizen")
        ref = await ask_for_a_person(province, "citizen", "test")
        unplaced = await ask_for_a_person(province, "stranger", "test")
        assert [office for _, office in forwarded] == [OFFICE_A, None]
        assert ref in forwarded[0][0]
        other_office = await say(province, f"/traloi {ref} Chào anh", user="officer_b")
        assert other_office == f"Không có yêu cầu gặp cán bộ mã {ref}."
        assert "Đã gửi" in await say(province, f"/traloi {ref} Chào anh, mời anh lên phường", user="officer_a")
        assert "Đã gửi" in await say(province, f"/traloi {unplaced} Chào bạn", user="officer_b")
        assert [r.user for r in await province.store.outbox_rows()] == ["citizen", "stranger"]
    finally:
        await province.close()
