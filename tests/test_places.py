"""Where a citizen lives: old and new addresses, accented or not, name the commune serving them now;
a message that only says "ở" about something else names no place."""

from __future__ import annotations

import pytest

from bot.places import Place, cued, find_place, in_province, names_commune
from bot.text import fold_marks

# Old addresses and the 2025 commune that took them in, as the merger resolutions list them:
# Điện Biên, Resolution 1661/NQ-UBTVQH15: moha.gov.vn/nhiem-vu-trong-tam/dien-bien-sau-sap-xep-du-kien-con-45-don-vi-hanh-c-d943-t57188.html
#   (Búng Lao: en.baodienbienphu.com.vn/kinh-te/greater-challenges-greater-goals-AVEWCQyNR.html);
# Nghệ An, full text of the resolution: nghean24h.vn/nghe-an-co-130-don-vi-hanh-chinh-cap-xa-gom-119-xa-va-11-phuong-sau-khi-sap-xep-a754168.html;
# Hà Tĩnh, Resolution 1665/NQ-UBTVQH15: thongtin.vietnam.vn/en/danh-sach-69-xa-phuong-moi-cua-tinh-ha-tinh-sau-sap-xep
#   (names given there without diacritics, so Hà Tĩnh is compared folded);
# Hà Nội, Resolution 1656/NQ-UBTVQH15 art. 1: thuviennhadat.vn/bat-dong-san/ban-do-ranh-gioi-cac-phuong-ha-noi-sau-sap-nhap-2025-20683.html
OLD_TO_NEW = [
    ("xã Ẳng Tở, huyện Mường Ảng, tỉnh Điện Biên", "Xã Búng Lao"),
    ("xã Chiềng Đông, huyện Tuần Giáo, tỉnh Điện Biên", "Xã Búng Lao"),
    ("xã Nậm Vì, huyện Mường Nhé, tỉnh Điện Biên", "Xã Mường Nhé"),
    ("xã Chung Chải, huyện Mường Nhé, tỉnh Điện Biên", "Xã Mường Nhé"),
    ("xã Sen Thượng, huyện Mường Nhé, tỉnh Điện Biên", "Xã Sín Thầu"),
    ("xã Leng Su Sìn, huyện Mường Nhé, tỉnh Điện Biên", "Xã Sín Thầu"),
    ("xã Huổi Lếch, huyện Mường Nhé, tỉnh Điện Biên", "Xã Mường Toong"),
    ("xã Pá Mỳ, huyện Mường Nhé, tỉnh Điện Biên", "Xã Nậm Kè"),
    ("xã Na Cô Sa, huyện Nậm Pồ, tỉnh Điện Biên", "Xã Quảng Lâm"),
    ("xã Nà Khoa, huyện Nậm Pồ, tỉnh Điện Biên", "Xã Nà Hỳ"),
    ("xã Nậm Nhừ, huyện Nậm Pồ, tỉnh Điện Biên", "Xã Nà Hỳ"),
    ("xã Nậm Chua, huyện Nậm Pồ, tỉnh Điện Biên", "Xã Nà Hỳ"),
    ("thị trấn Kim Nhan, huyện Anh Sơn, tỉnh Nghệ An", "Xã Anh Sơn"),
    ("xã Đức Sơn, huyện Anh Sơn, tỉnh Nghệ An", "Xã Anh Sơn"),
    ("xã Phúc Sơn, huyện Anh Sơn, tỉnh Nghệ An", "Xã Anh Sơn"),
    ("xã Cao Sơn, huyện Anh Sơn, tỉnh Nghệ An", "Xã Yên Xuân"),
    ("xã Khai Sơn, huyện Anh Sơn, tỉnh Nghệ An", "Xã Yên Xuân"),
    ("xã Lĩnh Sơn, huyện Anh Sơn, tỉnh Nghệ An", "Xã Yên Xuân"),
    ("xã Cẩm Sơn, huyện Anh Sơn, tỉnh Nghệ An", "Xã Nhân Hòa"),
    ("xã Tam Đỉnh, huyện Anh Sơn, tỉnh Nghệ An", "Xã Nhân Hòa"),
    ("xã Thạch Trị, huyện Thạch Hà, tỉnh Hà Tĩnh", "xa dong tien"),
    ("xã Đỉnh Bàn, thành phố Hà Tĩnh, tỉnh Hà Tĩnh", "xa thach khe"),
    ("xã Cẩm Vịnh, huyện Cẩm Xuyên, tỉnh Hà Tĩnh", "xa cam binh"),
    ("xã Kỳ Phong, huyện Kỳ Anh, tỉnh Hà Tĩnh", "xa ky xuan"),
    ("thị trấn Kỳ Đồng, huyện Kỳ Anh, tỉnh Hà Tĩnh", "xa ky anh"),
    ("xã Kỳ Thọ, huyện Kỳ Anh, tỉnh Hà Tĩnh", "xa ky khang"),
    ("xã Kỳ Tây, huyện Kỳ Anh, tỉnh Hà Tĩnh", "xa ky van"),
    ("phường Hàng Bạc, quận Hoàn Kiếm, thành phố Hà Nội", "Phường Hoàn Kiếm"),
    ("phường Lý Thái Tổ, quận Hoàn Kiếm, thành phố Hà Nội", "Phường Hoàn Kiếm"),
    ("phường Hàng Bài, quận Hoàn Kiếm, thành phố Hà Nội", "Phường Cửa Nam"),
]


def _same(commune: str, expected: str) -> bool:
    return commune == expected or (expected.islower() and fold_marks(commune) == expected)


@pytest.mark.parametrize(("old", "new"), OLD_TO_NEW)
def test_an_old_address_names_the_commune_that_took_it_in(old: str, new: str) -> None:
    found = find_place(old)
    assert found is not None and _same(found.place.commune, new)
    assert fold_marks(found.place.old_names[0]) == fold_marks(old.split(",")[0])


@pytest.mark.parametrize(("old", "new"), OLD_TO_NEW)
def test_the_same_old_address_typed_without_marks_or_commas(old: str, new: str) -> None:
    found = find_place("nha toi o " + fold_marks(old).replace(",", ""))
    assert found is not None and _same(found.place.commune, new)


@pytest.mark.parametrize("text", [
    "xã Ẳng Tở, huyện Mường Ảng",
    "ang to muong ang dien bien",
    "Nhà tôi ở xã Ẳng Tở, huyện Mường Ảng ạ",
    "em thường trú tại bản Co Muông, xa ang to huyen muong ang",
])
def test_the_issue_s_examples_name_bung_lao_with_the_old_address(text: str) -> None:
    found = find_place(text)
    assert found is not None and found.only_address
    assert found.place == Place("Xã Búng Lao", "Tỉnh Điện Biên", found.place.code, ("Xã Ẳng Tở", "Huyện Mường Ảng"))


@pytest.mark.parametrize(("text", "commune"), [
    ("tôi ở xã Búng Lao, tỉnh Điện Biên", "Xã Búng Lao"),
    ("thuong tru tai xa muong ang dien bien", "Xã Mường Ảng"),
    ("phường Hoàn Kiếm, Hà Nội", "Phường Hoàn Kiếm"),
    ("gia đình tôi ở phường Cửa Nam thành phố Hà Nội", "Phường Cửa Nam"),
])
def test_a_new_address_names_its_commune_and_no_old_one(text: str, commune: str) -> None:
    found = find_place(text)
    assert found is not None and found.place.commune == commune and found.place.old_names == ()


def test_without_a_province_the_deployment_s_is_assumed() -> None:
    found = find_place("tôi ở xã Mường Ảng", "Điện Biên")
    assert found is not None and found.place.province == "Tỉnh Điện Biên"


@pytest.mark.parametrize("text", [
    "nộp ở đâu",
    "tôi ở nhà",
    "hôm nay tôi ở nhà làm việc",
    "con tôi sinh ở bệnh viện tỉnh",
    "tôi ở xa nên muốn nộp online",
    "làm khai sinh ở xã nào",
    "địa chỉ nộp hồ sơ ở đâu",
    "đăng ký thường trú ở đâu",
    "tôi ở Hà Nội",
    "tôi ở huyện Mường Ảng",
    "tôi ở xã này lâu rồi",
    "Mường Ảng",
    "làm căn cước ở phường Hoàn Kiếm được không",
    "ở đâu làm giấy khai sinh",
])
def test_a_message_that_only_says_o_names_no_place(text: str) -> None:
    assert find_place(text, "Điện Biên") is None


def test_an_address_with_a_question_after_it_is_found_but_not_the_whole_message() -> None:
    found = find_place("nha toi o xa ang to huyen muong ang thi lam khai sinh nop o dau")
    assert found is not None and found.place.commune == "Xã Búng Lao" and not found.only_address


def test_bare_place_names_are_read_only_when_allowed() -> None:
    assert find_place("ang to muong ang dien bien", bare=False) is None
    assert find_place("nhà tôi ở xã Ẳng Tở huyện Mường Ảng", bare=False) is not None
    assert cued("Thường trú tại thôn 3") and not cued("nộp ở đâu")


def test_provinces_and_desks_compare_by_name_whatever_the_spelling() -> None:
    place = Place("Xã Búng Lao", "Tỉnh Điện Biên", "03301")
    assert in_province(place, "Điện Biên") and in_province(place, "tinh dien bien")
    assert not in_province(place, "Nghệ An")
    assert names_commune("Bộ phận Một cửa UBND xã Búng Lao", place)
    assert not names_commune("Bộ phận Một cửa UBND xã Búng Lao Mới", Place("Xã Lao", "Tỉnh Điện Biên", "1"))
