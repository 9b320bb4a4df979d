"""Replies cut to a platform's message limit arrive whole and readable, and buttons without a keyboard read as numbers."""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.base import numbered, split_text, utf16_len
from bot.messages import Button, Reply


def squeezed(text: str) -> str:
    """The text with all whitespace removed: what must survive splitting, in order."""
    return "".join(text.split())


@pytest.mark.parametrize("measure", [len, utf16_len], ids=["characters", "utf16"])
@given(text=st.text(alphabet="ab ơ\nđ😀.\t\u00a0", max_size=600), limit=st.integers(min_value=2, max_value=80))
def test_pieces_never_exceed_the_limit_and_lose_no_text(measure, text: str, limit: int) -> None:
    pieces = split_text(text, limit, measure)
    assert all(0 < measure(p) <= limit for p in pieces)
    assert all(p == p.strip() for p in pieces)  # no message starts or ends with blank space
    assert squeezed("".join(pieces)) == squeezed(text)


def test_empty_or_blank_text_gives_no_pieces_and_short_text_one() -> None:
    assert split_text("", 2000) == []
    assert split_text(" \n\n\t ", 2000) == []
    assert split_text("  Lệ phí: miễn phí.\n", 2000) == ["Lệ phí: miễn phí."]
    exact = "x" * 2000
    assert split_text(exact, 2000) == [exact]


def test_a_paragraph_break_is_preferred_to_a_line_break_or_a_space() -> None:
    first = "Hồ sơ gồm:\n- Tờ khai đăng ký khai sinh\n- Giấy chứng sinh"
    second = "Thời hạn giải quyết: ngay trong ngày làm việc."
    text = f"{first}\n\n{second}"
    pieces = split_text(text, len(first) + 12)  # the window also holds spaces of the second paragraph
    assert pieces == [first, second]


def test_a_line_break_is_preferred_to_a_space_and_an_early_break_is_not_used() -> None:
    # a paragraph break in the first third would leave a stub message: the later line break wins
    text = "Bước 1\n\nNộp tờ khai tại bộ phận một cửa\nBước 2 nhận kết quả sau ba ngày làm việc"
    limit = text.index("\nBước 2") + 8
    pieces = split_text(text, limit)
    assert pieces[0] == "Bước 1\n\nNộp tờ khai tại bộ phận một cửa"
    assert pieces[1].startswith("Bước 2")


def test_prose_is_cut_between_words_even_in_decomposed_vietnamese() -> None:
    # NFD text (macOS, some keyboards) carries its marks as separate code points
    sentence = unicodedata.normalize("NFD", "Người yêu cầu đăng ký khai sinh nộp tờ khai theo mẫu quy định. ")
    text = sentence * 300
    pieces = split_text(text, 2000)
    assert len(pieces) > 1 and all(len(p) <= 2000 for p in pieces)
    assert [w for p in pieces for w in p.split()] == text.split()  # every word whole, in order
    assert all(unicodedata.combining(p[0]) == 0 for p in pieces)


def test_20000_characters_without_a_space_arrive_in_full_limit_sized_pieces() -> None:
    text = ("https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193"
            * 220)[:20_000]
    pieces = split_text(text, 2000)
    assert [len(p) for p in pieces] == [2000] * 10
    assert "".join(pieces) == text


def test_spaceless_decomposed_vietnamese_keeps_marks_on_their_letters() -> None:
    text = unicodedata.normalize("NFD", "Nguyễnvănthịbảyđượcủyquyềnkhaisinh") * 600
    pieces = split_text(text, 2000)
    assert "".join(pieces) == text
    assert all(unicodedata.combining(p[0]) == 0 for p in pieces)  # no piece opens with an orphan mark


def test_spaceless_emoji_run_keeps_each_emoji_whole() -> None:
    text = "Cảmơn" + "👍🏽" * 1500
    pieces = split_text(text, 2000)
    assert "".join(pieces) == text
    assert all(not p.startswith("🏽") for p in pieces)  # a bare skin tone shows as a brown square


def test_numbered_lists_buttons_in_order_under_the_text() -> None:
    reply = Reply("Bạn muốn xem gì?", (Button("Lệ phí", "fee:ks"), Button("Hồ sơ cần nộp", "docs:ks"),
                                       Button("☰ Menu", "menu")))
    assert numbered(reply) == ("Bạn muốn xem gì?\n\n1. Lệ phí\n2. Hồ sơ cần nộp\n3. ☰ Menu\n"
                               "(Trả lời bằng số để chọn)")
    assert numbered(Reply("Cảm ơn bạn đã đánh giá.")) == "Cảm ơn bạn đã đánh giá."


def test_shared_buttons_and_replies_cannot_be_changed_by_one_conversation() -> None:
    menu = Button("☰ Menu", "menu")
    reply = Reply("Xin chào", (menu,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        menu.action = "delete"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.text = "?"  # type: ignore[misc]
    assert reply == Reply("Xin chào", (Button("☰ Menu", "menu"),))


def test_in_utf16_units_a_run_of_flags_fits_telegram_and_no_flag_is_halved() -> None:
    text = "🇻🇳" * 3000  # each flag: two regional indicators, four UTF-16 units
    pieces = split_text(text, 4000, utf16_len)
    assert "".join(pieces) == text
    assert all(utf16_len(p) <= 4000 and len(p) % 2 == 0 for p in pieces)


def test_emoji_joined_into_one_picture_stay_together() -> None:
    family = "👨\u200d👩\u200d👧"
    pieces = split_text("x" + family * 700, 2000)
    assert "".join(pieces) == "x" + family * 700
    assert all(p[0] != "\u200d" and p[-1] != "\u200d" and p[0] != "👩" and p[0] != "👧" for p in pieces)


def test_a_letter_buried_under_thousands_of_marks_still_splits_into_few_pieces() -> None:
    text = "a" + "\u0301" * 5000
    pieces = split_text(text, 2000)
    assert "".join(pieces) == text and len(pieces) == 3
