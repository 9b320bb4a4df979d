"""Phone and ID numbers typed by citizens are masked before they are stored or logged; the
numbers a conversation about procedures needs (fees, dates, days) are not."""

from __future__ import annotations

import pytest

from bot.privacy import mask_digits, mask_phone


@pytest.mark.parametrize("text", [
    "sđt em 0912345678", "gọi 0912 345 678 nhé", "số +84 912.345.678", "CCCD 001204012345",
    "cmnd 001-204-012-345", "chat id 5551234567",
])
def test_phones_and_id_numbers_are_masked(text: str) -> None:
    masked = mask_digits(text)
    assert "***" in masked
    assert sum(c.isdigit() for c in masked) < 9


@pytest.mark.parametrize("text", [
    "lệ phí 15.000 đồng", "nộp trước ngày 25/11/2026", "trong 60 ngày", "10.000.000 đồng",
    "mẫu TP/HT-2020-KS",
])
def test_amounts_dates_and_form_codes_stay(text: str) -> None:
    assert mask_digits(text) == text


def test_several_numbers_in_one_message_are_all_masked() -> None:
    assert mask_digits("0912345678 hoặc 0987654321, cccd 001204012345") == "*** hoặc ***, cccd ***"


def test_staff_see_only_the_last_three_digits_of_a_phone() -> None:
    assert mask_phone("0912 345 678") == "*******678"
    assert mask_phone("") == ""


# R10: what a citizen types into a question or a complaint is stored without a user link, so
# "delete my data" cannot find it: whatever identifies a person and can be recognised is masked.

TYPED = ("Tôi là Phan Thị Bí Mật, nhà số 12 ngõ 34 Hàng Bạc, email bimat@example.com, hộ chiếu C1234567,"
         " hỏi đăng ký khai sinh cho con")


def test_the_audit_message_keeps_its_question_and_loses_the_person() -> None:
    assert mask_digits(TYPED) == ("Tôi là ***, nhà số ***, email ***, hộ chiếu ***,"
                                  " hỏi đăng ký khai sinh cho con")


@pytest.mark.parametrize(("text", "personal"), [
    ("gọi +84 912 345 678", "912"), ("gọi (+84) 912-345-678 nhé", "345"), ("sđt0912345678", "0912"),
    ("zalo 0912.345.678", "678"), ("+84912345678", "84912"),
    ("mail nguyen.van.an+hs@gmail.com giúp", "nguyen"), ("An.Nguyen@ubnd.hanoi.gov.vn", "ubnd"),
    ("hộ chiếu C1234567", "1234567"), ("passport số: B12345678", "12345678"), ("N1234567", "N1234567"),
    ("CMND 12345678", "12345678"), ("căn cước công dân số 001204012345", "0012"),
    ("số định danh: 001 204 012 345", "204"), ("chứng minh nhân dân 123456789", "123456789"),
    ("nhà số 12 ngõ 34 Hàng Bạc", "Hàng Bạc"), ("nhà 5B phố Huế", "5B"), ("tôi ở 25 Nguyễn Trãi, Thanh Xuân", "Trãi"),
    ("25 đường Láng, Đống Đa", "Láng"), ("hẻm 12/3 Lê Lợi quận 1", "12/3"), ("địa chỉ: 123/4 Lê Lợi", "Lợi"),
    ("ngõ 34 Hàng Bạc", "34"),
    ("Tôi là Phan Thị Bí Mật", "Bí Mật"), ("tên tôi là Nguyễn Văn An", "Văn An"),
    ("họ và tên: Trần Thị Bình", "Bình"), ("khiếu nại: tôi Phan Thị Bí Mật bị hạch dịch", "Phan"),
    ("Liên hệ chị Phan Thị Bí Mật qua Zalo", "Mật"), ("đăng ký khai sinh cho con tên Lê Văn Cường", "Cường"),
    ("Người nộp: Phan Thị Bí Mật", "Phan"),
])
def test_phones_emails_ids_addresses_and_introduced_names_are_masked(text: str, personal: str) -> None:
    masked = mask_digits(text)
    assert personal not in masked and "***" in masked


@pytest.mark.parametrize("text", [
    "Điều 5 Luật Hộ tịch", "Nghị định 123/2015/NĐ-CP", "ở 2 ngày là xong", "nộp tại 2 phòng", "có 2 đường đi",
    "nộp ở UBND phường Hàng Bạc", "Bà Rịa - Vũng Tàu", "tôi ở Hà Nội", "em muốn đăng ký kết hôn",
    "lúc 2026-11-30 05:44:07", "mẫu số 01/ĐK-TT",
])
def test_laws_places_and_times_are_not_taken_for_personal_data(text: str) -> None:
    assert mask_digits(text) == text


def test_a_bare_name_is_not_recognised_as_the_readme_says() -> None:
    """A name with nothing before it cannot be told from a street or a procedure; the purge blanks it."""
    assert mask_digits("Phan Thị Bí Mật hỏi khai sinh") == "Phan Thị Bí Mật hỏi khai sinh"


def test_masking_twice_changes_nothing() -> None:
    """The callers mask and the storage masks again: the second pass must not change the first."""
    once = mask_digits(TYPED + " gọi 0912 345 678")
    assert mask_digits(once) == once
