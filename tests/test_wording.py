"""What a citizen reads about a procedure: composed from the shipped guides."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from bot import wording as answers
from bot.catalog import ASPECTS, Catalog, Guide, cited_forms
from bot.config import Office
from bot.timeline import as_of, upcoming

OFFICE = Office("Trung tâm Phục vụ hành chính công xã Demo", "1 Đường Demo", "7:30–17:00", "1900 0000")


def test_the_asked_section_comes_first_with_buttons_for_the_others(catalog: Catalog) -> None:
    reply = answers.procedure_answer(catalog["dang-ky-khai-sinh"], "fees", on=TODAY)
    assert reply.text.startswith("Đăng ký khai sinh · 💰 Lệ phí\n")
    actions = [b.action for b in reply.buttons]
    assert "proc:dang-ky-khai-sinh:fees" not in actions
    assert actions == [f"proc:dang-ky-khai-sinh:{a}" for a in ASPECTS if a != "fees"] + ["menu"]


TODAY = dt.date(2026, 11, 30)


def _footer(guide: Guide, aspect: str | None = None, on: dt.date = TODAY) -> str:
    return answers.procedure_answer(guide, aspect, on=on).text.rsplit("\n\n", 1)[1]


def test_the_footer_names_the_first_legal_texts_and_counts_the_rest(catalog: Catalog) -> None:
    guide = as_of(catalog["dang-ky-khai-sinh"], TODAY)
    footer = _footer(guide)
    assert footer.startswith("Căn cứ: Luật Hộ tịch số 60/2014/QH13; Nghị định 123/2015/NĐ-CP và ")
    assert f"và {len(guide.legal_basis) - 2} văn bản khác (bấm “Căn cứ pháp lý”)" in footer


def test_the_footer_names_each_text_without_its_amendments_which_the_legal_basis_lists(catalog: Catalog) -> None:
    guide = as_of(catalog["dang-ky-khai-sinh"], TODAY)
    amended = guide.legal_basis[1].text
    assert "sửa đổi" in amended and "sửa đổi" not in _footer(guide)
    assert f"• {amended}" in answers.procedure_answer(guide, "legal_basis", on=TODAY).text
    for other in catalog.guides.values():
        assert _footer(as_of(other, TODAY)).replace("(bấm “Căn cứ pháp lý”)", "").count("(") == 0


def test_the_legal_basis_answer_shows_every_text_in_force_that_day(catalog: Catalog) -> None:
    guide = catalog["dang-ky-khai-sinh"]
    before = answers.procedure_answer(guide, "legal_basis", on=dt.date(2027, 2, 28)).text
    after = answers.procedure_answer(guide, "legal_basis", on=dt.date(2027, 3, 1)).text
    assert all(f"• {n.text}" in before for n in as_of(guide, dt.date(2027, 2, 28)).legal_basis)
    assert "Nghị định 120/2025/NĐ-CP" in before and "Nghị định 120/2025/NĐ-CP" not in after
    assert "• Luật Hộ tịch số 03/2026/QH16" in after and "Luật Hộ tịch số 60/2014/QH13" not in after
    assert "proc:dang-ky-khai-sinh:legal_basis" in [b.action for b in answers.procedure_answer(guide, None).buttons]


def test_the_footer_says_honestly_whether_an_officer_checked_the_guide(catalog: Catalog) -> None:
    guide = catalog["dang-ky-khai-sinh"]
    assert _footer(guide).endswith("Nội dung chưa được cán bộ kiểm tra; bạn đối chiếu thêm trên dichvucong.gov.vn")
    checked = dataclasses.replace(guide, reviewed=dt.date(2026, 12, 3))
    assert _footer(checked).endswith("Cán bộ đã kiểm tra ngày 03/12/2026")


def test_fee_exemptions_are_listed_one_per_line(catalog: Catalog) -> None:
    guide = catalog["dang-ky-khai-sinh"]
    text = answers.section_text(guide, "fees", TODAY)
    assert "Miễn, giảm:\n• Đăng ký khai sinh đúng hạn." in text
    assert ".;" not in text


@pytest.mark.parametrize("aspect", ASPECTS)
def test_no_section_of_any_guide_is_empty_or_badly_punctuated(catalog: Catalog, aspect: str) -> None:
    for guide in catalog.guides.values():
        text = answers.section_text(guide, aspect, TODAY)
        assert text.strip(), (guide.id, aspect)
        assert not re.search(r"[.;,:]\s*[.;,]", text.replace("...", "…")), (guide.id, aspect, text)


def test_fees_set_by_the_province_say_so_instead_of_a_number(catalog: Catalog) -> None:
    text = answers.section_text(catalog["dang-ky-khai-sinh"], "fees", TODAY)
    assert "• Lệ phí đăng ký khai sinh quá hạn: theo mức HĐND tỉnh quy định" in text


def test_a_national_tax_is_never_said_to_be_set_by_the_province(catalog: Catalog) -> None:
    text = answers.section_text(catalog["dang-ky-bien-dong-dat-dai"], "fees", TODAY)
    tax = next(line for line in text.splitlines() if line.startswith("• Thuế thu nhập cá nhân"))
    assert "2% giá chuyển nhượng (theo Luật Thuế thu nhập cá nhân" in tax and "tỉnh" not in tax
    for guide in catalog.guides.values():
        for item in as_of(guide, TODAY).fees.items:
            line = next(x for x in answers.section_text(guide, "fees", TODAY).splitlines()
                        if x.startswith(f"• {item.name}:"))
            amount = line.split(": ", 1)[1].removesuffix(f" ({item.note})" if item.note else "")
            assert ("tỉnh" in amount) == (item.kind == "province"), (guide.id, line)


def test_a_dated_fee_switches_on_its_date_and_is_announced_within_90_days(catalog: Catalog) -> None:
    guide = catalog["cap-can-cuoc"]
    early = answers.section_text(guide, "fees", dt.date(2026, 9, 1))
    last = answers.section_text(guide, "fees", dt.date(2026, 12, 31))
    first = answers.section_text(guide, "fees", dt.date(2027, 1, 1))
    assert "Cấp lại (thẻ bị mất): 35.000 đồng" in last and "Cấp lại (thẻ bị mất): 70.000 đồng" in first
    assert "🗓 Từ 01/01/2027," in last and "🗓" not in early and "🗓 Từ 01/01/2027" not in first


def test_a_dated_rule_switches_on_its_date_and_is_announced_before(catalog: Catalog) -> None:
    guide = catalog["ho-ngheo-can-ngheo"]
    before = answers.section_text(guide, "eligibility", dt.date(2026, 12, 31))
    after = answers.section_text(guide, "eligibility", dt.date(2027, 1, 1))
    assert "• Năm 2026 vẫn áp dụng chuẩn nghèo" in before and "🗓 Từ 01/01/2027: Chuẩn nghèo giai đoạn 2027" in before
    assert "• Chuẩn nghèo giai đoạn 2027–2030 về thu nhập: 2,2 triệu" in after and "1,5 triệu" not in after


def test_every_caveat_reaches_the_answer_of_the_section_it_qualifies(catalog: Catalog) -> None:
    for guide in catalog.guides.values():
        g = as_of(guide, TODAY)
        for caveat in g.caveats:
            aspect = {"citizen_deadline": "eligibility", "result": None}.get(caveat.about or "", caveat.about)
            text = answers.procedure_answer(guide, aspect, on=TODAY).text
            assert f"⚠️ Lưu ý: {caveat.text}" in text, (guide.id, caveat.about)


def test_a_form_the_documents_cite_is_shown_never_no_form(catalog: Catalog) -> None:
    for guide in catalog.guides.values():
        if any(any(cited_forms(d)) for d in guide.documents):
            assert "không có mẫu riêng" not in answers.section_text(guide, "forms", TODAY), guide.id
    assert "Tờ khai đăng ký giám hộ" in answers.section_text(catalog["dang-ky-giam-ho"], "forms", TODAY)


def test_the_eligibility_answer_leads_with_the_citizens_own_deadline(catalog: Catalog) -> None:
    for guide in catalog.guides.values():
        if guide.citizen_deadline:
            body = answers.section_text(guide, "eligibility", TODAY)
            assert body.startswith(f"⏰ Thời hạn của bạn: {guide.citizen_deadline.text}"), guide.id


def test_the_processing_time_answer_is_not_passed_off_as_the_citizens_deadline(catalog: Catalog) -> None:
    text = answers.section_text(catalog["dang-ky-bien-dong-dat-dai"], "processing_time", TODAY)
    assert text.startswith(catalog["dang-ky-bien-dong-dat-dai"].processing_time.text)
    assert "không phải thời hạn bạn phải đi làm thủ tục. Thời hạn của bạn: Theo Luật Đất đai 2024" in text


def test_the_content_officer_reads_the_coming_changes_in_vietnamese(catalog: Catalog) -> None:
    text = answers.upcoming_changes(upcoming(catalog.guides.values(), TODAY, 90), 90)
    lines = text.splitlines()
    assert lines[0].endswith("nội dung thay đổi trong 90 ngày tới, cần rà soát:")
    assert "01/01/2027 · cap-can-cuoc · Lệ phí · thay cả mục: Từ 01/01/2027" in text
    assert "01/01/2027 · ho-ngheo-can-ngheo · Điều kiện · bắt đầu áp dụng: Chuẩn nghèo" in text
    assert "01/03/2027" not in text  # 91 days away
    assert answers.upcoming_changes([], 30) == "Không có nội dung nào thay đổi trong 30 ngày tới."


def test_out_of_scope_points_to_the_hotline_and_english_gets_an_english_lead() -> None:
    reply = answers.out_of_scope(OFFICE, english=True)
    assert reply.text.startswith("Sorry, I cannot help with that. Xin lỗi")
    assert "1900 0000" in reply.text and "7:30–17:00" in reply.text


def test_clarification_offers_the_candidates_keeping_the_asked_section(catalog: Catalog) -> None:
    reply = answers.clarification(catalog, ["chung-thuc-chu-ky", "chung-thuc-ban-sao"], "fees")
    assert [b.action for b in reply.buttons] == [
        "proc:chung-thuc-chu-ky:fees", "proc:chung-thuc-ban-sao:fees", "menu"]


def test_an_unsure_guess_with_no_neighbour_is_asked_back_not_answered(catalog: Catalog) -> None:
    reply = answers.clarification(catalog, ["chung-thuc-van-ban-thua-ke"], None)
    assert reply.text.startswith("Có phải bạn hỏi về Chứng thực")
    assert [b.action for b in reply.buttons] == ["proc:chung-thuc-van-ban-thua-ke", "menu"]


def test_a_letter_that_may_be_a_dispute_is_offered_the_procedures_and_told_who_settles_disputes(
        catalog: Catalog) -> None:
    from bot.elsewhere import Directory, load_agencies

    letter = "bo me mat, anh em tranh chap manh dat, muon lam giay to thua ke thi the nao"
    dispute = Directory(load_agencies()).find(letter)
    reply = answers.clarification(catalog, ["chung-thuc-van-ban-thua-ke"], None, elsewhere=dispute)
    assert reply.text.startswith("Có phải bạn hỏi về Chứng thực")
    assert "\nNếu bạn hỏi về tranh chấp" in reply.text and "hòa giải" in reply.text
    assert [b.action for b in reply.buttons] == ["proc:chung-thuc-van-ban-thua-ke", "menu"]


def test_an_item_a_change_keeps_is_announced_once(catalog: Catalog) -> None:
    """The căn cước waiver stays in the fees that change on 01/01/2027; its end is told once."""
    text = answers.section_text(catalog["cap-can-cuoc"], "fees", dt.date(2026, 12, 15))
    assert text.count("🗓 Từ 01/03/2027, không còn áp dụng:") == 1
