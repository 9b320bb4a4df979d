"""What a citizen reads about a procedure: composed from the shipped guides."""

from __future__ import annotations

import re

import pytest

from bot import wording as answers
from bot.catalog import ASPECTS, Catalog
from bot.config import Office

OFFICE = Office("Trung tâm Phục vụ hành chính công xã Demo", "1 Đường Demo", "7:30–17:00", "1900 0000")


def test_the_asked_section_comes_first_with_buttons_for_the_others(catalog: Catalog) -> None:
    reply = answers.procedure_answer(catalog["dang-ky-khai-sinh"], "fees")
    assert reply.text.startswith("Đăng ký khai sinh · 💰 Lệ phí\n")
    actions = [b.action for b in reply.buttons]
    assert "proc:dang-ky-khai-sinh:fees" not in actions
    assert actions == [f"proc:dang-ky-khai-sinh:{a}" for a in ASPECTS if a != "fees"] + ["menu"]


def test_every_reply_cites_its_legal_basis_and_review_date(catalog: Catalog) -> None:
    guide = catalog["dang-ky-khai-sinh"]
    footer = answers.procedure_answer(guide, None).text.rsplit("\n\n", 1)[1]
    assert footer.startswith("Căn cứ: " + guide.legal_basis[0])
    assert footer.endswith(f"Cập nhật {guide.reviewed:%d/%m/%Y}")


def test_fee_exemptions_are_listed_one_per_line(catalog: Catalog) -> None:
    guide = catalog["dang-ky-khai-sinh"]
    text = answers.section_text(guide, "fees")
    assert "Miễn, giảm:\n• Đăng ký khai sinh đúng hạn." in text
    assert ".;" not in text


@pytest.mark.parametrize("aspect", ASPECTS)
def test_no_section_of_any_guide_is_empty_or_badly_punctuated(catalog: Catalog, aspect: str) -> None:
    for guide in catalog.guides.values():
        text = answers.section_text(guide, aspect)
        assert text.strip(), (guide.id, aspect)
        assert not re.search(r"[.;,:]\s*[.;,]", text.replace("...", "…")), (guide.id, aspect, text)


def test_fees_set_by_the_province_say_so_instead_of_a_number(catalog: Catalog) -> None:
    text = answers.section_text(catalog["dang-ky-khai-sinh"], "fees")
    assert "theo mức của tỉnh" in text


def test_out_of_scope_points_to_the_hotline_and_english_gets_an_english_lead() -> None:
    reply = answers.out_of_scope(OFFICE, english=True)
    assert reply.text.startswith("Sorry, I cannot help with that. Xin lỗi")
    assert "1900 0000" in reply.text and "7:30–17:00" in reply.text


def test_clarification_offers_the_candidates_keeping_the_asked_section(catalog: Catalog) -> None:
    reply = answers.clarification(catalog, ["chung-thuc-chu-ky", "chung-thuc-ban-sao"], "fees")
    assert [b.action for b in reply.buttons] == [
        "proc:chung-thuc-chu-ky:fees", "proc:chung-thuc-ban-sao:fees", "menu"]
