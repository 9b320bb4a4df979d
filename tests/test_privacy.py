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
