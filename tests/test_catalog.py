"""Loading guides: the shipped ones load, and each kind of broken guide is refused by name."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from bot.app import open_desk
from bot.catalog import CatalogError, check_dir, load_catalog
from bot.timeline import as_of
from tests.helpers import make_config

ROOT = Path(__file__).resolve().parent.parent
CATALOG_IDS = """dang-ky-khai-sinh dang-ky-khai-sinh-qua-han dang-ky-lai-khai-sinh dang-ky-khai-tu
dang-ky-ket-hon xac-nhan-tinh-trang-hon-nhan dang-ky-nhan-cha-me-con thay-doi-cai-chinh-ho-tich
cap-ban-sao-trich-luc dang-ky-giam-ho lien-thong-khai-sinh lien-thong-khai-tu dang-ky-thuong-tru
dang-ky-tam-tru khai-bao-tam-vang xac-nhan-thong-tin-cu-tru cap-can-cuoc chung-thuc-ban-sao
chung-thuc-chu-ky chung-thuc-hop-dong cap-gcn-quyen-su-dung-dat-lan-dau dang-ky-bien-dong-dat-dai
cap-giay-phep-xay-dung dang-ky-ho-kinh-doanh tro-cap-xa-hoi-hang-thang xac-dinh-muc-do-khuyet-tat
ho-ngheo-can-ngheo tro-cap-mai-tang cap-the-bhyt-tre-em dang-ky-xe ly-lich-tu-phap
tach-ho xoa-dang-ky-thuong-tru tro-cap-huu-tri-xa-hoi cap-doi-cap-lai-gcn-dat tach-hop-thua-dat
chuyen-muc-dich-su-dung-dat chung-thuc-van-ban-thua-ke thay-doi-ho-kinh-doanh""".split()


def test_every_catalog_procedure_has_a_valid_guide(catalog):
    assert sorted(catalog.guides) == sorted(CATALOG_IDS)


def test_no_guide_sends_citizens_to_a_district(catalog):
    for guide in catalog.guides.values():
        text = (ROOT / "procedures" / guide.source).read_text(encoding="utf-8")
        assert "huyện" not in text.lower(), guide.id


def test_every_guide_cites_law_and_the_sources_it_was_checked_against(catalog):
    for guide in catalog.guides.values():
        assert guide.legal_basis and guide.sources, guide.id
        assert all(s.url.startswith("https://") and s.checked.year >= 2026 for s in guide.sources), guide.id


def test_no_guide_claims_a_review_no_person_made(catalog):
    """The 31 guides were machine-drafted and checked against sources, not yet by an officer."""
    assert all(guide.reviewed is None for guide in catalog.guides.values())


@pytest.mark.asyncio
async def test_a_new_building_permit_case_is_due_in_the_seven_working_days_of_decree_217(tmp_path, catalog):
    """ND 217/2026 Art. 54.1.b: 07 working days for a house; the old 15 made late cases look on time."""
    assert catalog["cap-giay-phep-xay-dung"].processing_time.working_days == 7
    desk = await open_desk(make_config(tmp_path / "db.sqlite3"))
    try:
        case = await desk.add("000.00.27.H15-261130-0001", "cap-giay-phep-xay-dung", "Nguyễn Văn An", "0912345678",
                              received=dt.datetime(2026, 11, 30, 9, 0), staff="cb.lan")
    finally:
        await desk.store.close()
    assert case.due == dt.date(2026, 12, 9)  # Mon 30/11 + 7 working days


def test_joint_birth_registration_takes_three_working_days_not_five(catalog):
    """QĐ 296/QĐ-VPCP: not more than 3 working days; 5 made due dates two days late."""
    assert catalog["lien-thong-khai-sinh"].processing_time.working_days == 3


def test_the_vietnam_portal_is_the_only_web_channel_for_police_procedures(catalog):
    for guide in catalog.guides.values():
        assert "Cổng Dịch vụ công Bộ Công an" not in guide.online.channels, guide.id


@pytest.fixture
def guide_dir(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "procedures" / "dang-ky-khai-sinh.yaml", tmp_path)
    return tmp_path


def _edit(directory: Path, change) -> None:
    path = directory / "dang-ky-khai-sinh.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(directory: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    return [str(p) for p in info.value.problems]


def test_bad_yaml_names_file_and_line(guide_dir):
    (guide_dir / "dang-ky-khai-sinh.yaml").write_text("id: x\nname: [unclosed\n", encoding="utf-8")
    [problem] = _problems(guide_dir)
    assert problem.startswith("dang-ky-khai-sinh.yaml: line") and "not valid YAML" in problem


def test_missing_field_is_named(guide_dir):
    _edit(guide_dir, lambda d: d.pop("fees"))
    assert _problems(guide_dir) == ["dang-ky-khai-sinh.yaml: fees: missing required field"]


def test_unknown_field_is_named(guide_dir):
    _edit(guide_dir, lambda d: d.update(lephi="0"))
    assert _problems(guide_dir) == ["dang-ky-khai-sinh.yaml: lephi: unknown field"]


def test_wrong_type_is_named_with_its_path(guide_dir):
    _edit(guide_dir, lambda d: d["processing_time"].update(working_days="một ngày"))
    [problem] = _problems(guide_dir)
    assert problem.startswith("dang-ky-khai-sinh.yaml: processing_time.working_days: must be a whole number")


def test_empty_documents_list_is_refused(guide_dir):
    _edit(guide_dir, lambda d: d.update(documents=[]))
    assert _problems(guide_dir) == ["dang-ky-khai-sinh.yaml: documents: needs at least 1 entries, has 0"]


def test_duplicate_id_is_refused(guide_dir):
    copy = guide_dir / "zz-copy.yaml"
    copy.write_text((guide_dir / "dang-ky-khai-sinh.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    problems = _problems(guide_dir)
    assert any("zz-copy.yaml: id:" in p for p in problems)


def test_district_body_is_refused(guide_dir):
    _edit(guide_dir, lambda d: d.update(where="Nộp tại UBND huyện nơi cư trú"))
    assert _problems(guide_dir) == [
        "dang-ky-khai-sinh.yaml: where: mentions a district body; there is no district level since 1 July 2025"
    ]


def test_all_problems_are_reported_at_once(guide_dir):
    _edit(guide_dir, lambda d: (d.pop("steps"), d.update(reviewed="soon", aliases="gks")))
    _, problems = check_dir(guide_dir)
    fields = sorted(p.field for p in problems)
    assert fields == ["aliases", "reviewed", "steps"]


def test_non_utf8_file_is_refused(guide_dir):
    (guide_dir / "dang-ky-khai-sinh.yaml").write_bytes("id: Đăng".encode("cp1258"))
    [problem] = _problems(guide_dir)
    assert "is not UTF-8" in problem


def _one_problem(directory: Path) -> str:
    [problem] = _problems(directory)
    return problem


def _doc(d, name):
    d["documents"][0]["name"] = name


def test_a_document_citing_a_form_code_missing_from_forms_is_refused(guide_dir):
    _edit(guide_dir, lambda d: _doc(d, "Tờ khai đăng ký khai sinh (mẫu TP/HT-2020-KS)"))
    assert _one_problem(guide_dir) == (
        "dang-ky-khai-sinh.yaml: documents[0]: cites form TP/HT-2020-KS, which is not in forms")


def test_a_document_theo_mau_without_its_form_is_refused(guide_dir):
    _edit(guide_dir, lambda d: d.update(forms=[]))
    assert _one_problem(guide_dir).startswith("dang-ky-khai-sinh.yaml: documents[0]: says (theo mẫu) but no form")


def test_a_form_cited_by_code_is_found_however_the_code_is_written(guide_dir):
    def cite(d):
        _doc(d, "Đơn đề nghị (Mẫu số 01)")
        d["forms"] = [{"code": "01", "name": "Đơn đề nghị"}]
    _edit(guide_dir, cite)
    assert load_catalog(guide_dir)["dang-ky-khai-sinh"].forms[0].code == "01"


@pytest.mark.parametrize("days, text, message", [
    (15, "Không quá 07 ngày làm việc kể từ khi nhận đủ hồ sơ.", "is 15 but the text says 7 days; due dates use the number"),
    (5, "Khoảng 8–10 ngày làm việc.", "is 5 but the text says 10 days; due dates use the number"),
    (0, "Trong 03 ngày làm việc.", "is 0 (the same day) but the text does not say so"),
])
def test_a_processing_time_whose_text_and_number_disagree_is_refused(guide_dir, days, text, message):
    _edit(guide_dir, lambda d: d.update(processing_time={"working_days": days, "text": text}))
    assert _one_problem(guide_dir) == f"dang-ky-khai-sinh.yaml: processing_time.working_days: {message}"


def test_an_amount_left_empty_without_saying_what_it_is_is_refused(guide_dir):
    _edit(guide_dir, lambda d: d["fees"]["items"][1].pop("kind"))
    assert _one_problem(guide_dir).startswith("dang-ky-khai-sinh.yaml: fees.items[1].kind: missing")


@pytest.mark.parametrize("item, where", [
    ({"name": "Thuế", "kind": "national_rate", "set_by": "Luật Thuế TNCN"}, "rate"),
    ({"name": "Thuế", "kind": "national_rate", "rate": "2%"}, "set_by"),
    ({"name": "Lệ phí", "kind": "fixed"}, "amount_vnd"),
    ({"name": "Lệ phí", "kind": "province", "amount_vnd": 50000}, "amount_vnd"),
    ({"name": "Lệ phí", "kind": "theo tỉnh"}, "kind"),
])
def test_a_fee_whose_kind_and_amount_do_not_fit_is_refused(guide_dir, item, where):
    _edit(guide_dir, lambda d: d["fees"]["items"].append(item))
    assert _one_problem(guide_dir).startswith(f"dang-ky-khai-sinh.yaml: fees.items[2].{where}: ")


def test_a_guide_without_sources_is_refused(guide_dir):
    _edit(guide_dir, lambda d: d.update(sources=[]))
    assert _one_problem(guide_dir) == "dang-ky-khai-sinh.yaml: sources: needs at least 1 entries, has 0"


def test_a_district_body_in_a_dated_change_is_refused(guide_dir):
    change = {"on": dt.date(2027, 3, 1), "summary": "Từ 01/3/2027, nơi nộp thay đổi.",
              "set": {"where": "UBND huyện nơi cư trú"}}
    _edit(guide_dir, lambda d: d.update(changes=[change]))
    assert _one_problem(guide_dir) == ("dang-ky-khai-sinh.yaml: changes[0].set.where: mentions a district body; "
                                       "there is no district level since 1 July 2025")


@pytest.mark.parametrize("change, message", [
    ({"on": dt.date(2027, 3, 1), "summary": "Sắp đổi nơi nộp.", "set": {"where": "Xã"}},
     "changes[0].summary: must begin with the date"),
    ({"on": dt.date(2027, 3, 1), "summary": "Từ 01/3/2027, đổi tên.", "set": {"name": "Khác"}},
     "changes[0].set.name: unknown field"),
])
def test_a_dated_change_must_announce_its_date_and_change_only_facts(guide_dir, change, message):
    _edit(guide_dir, lambda d: d.update(changes=[change]))
    assert _one_problem(guide_dir).startswith(f"dang-ky-khai-sinh.yaml: {message}")


def test_an_unquoted_on_key_reads_as_the_change_date(guide_dir):
    path = guide_dir / "dang-ky-khai-sinh.yaml"
    path.write_text(path.read_text(encoding="utf-8") + (
        "changes:\n  - on: 2027-03-01\n    summary: Từ 01/3/2027, nộp tại xã nơi cư trú.\n"
        "    set:\n      where: Xã nơi cư trú.\n"), encoding="utf-8")
    guide = load_catalog(guide_dir)["dang-ky-khai-sinh"]
    assert as_of(guide, dt.date(2027, 3, 1)).where == "Xã nơi cư trú."
    assert as_of(guide, dt.date(2027, 2, 28)).where != "Xã nơi cư trú."


def test_dated_items_and_caveat_sections_are_checked(guide_dir):
    def dated(d):
        d["legal_basis"].append({"text": "Luật mới", "valid_from": dt.date(2027, 3, 1),
                                 "valid_until": dt.date(2027, 1, 1)})
        d["caveats"] = [{"text": "Lưu ý", "about": "lephi"}]
    _edit(guide_dir, dated)
    problems = _problems(guide_dir)
    assert any("legal_basis[" in p and "valid_until: is before valid_from" in p for p in problems)
    assert any(p.startswith("dang-ky-khai-sinh.yaml: caveats[0].about: must be one of") for p in problems)


def test_a_bundle_naming_a_procedure_that_is_not_there_is_refused(guide_dir):
    _edit(guide_dir, lambda d: d.update(includes=["dang-ky-thuong-tru"]))
    assert _problems(guide_dir) == [
        "dang-ky-khai-sinh.yaml: includes: names 'dang-ky-thuong-tru', which is no guide in this folder"]


def test_the_joint_registrations_name_the_procedures_they_bundle(catalog):
    assert set(catalog["lien-thong-khai-sinh"].includes) == {"dang-ky-khai-sinh", "dang-ky-thuong-tru",
                                                             "cap-the-bhyt-tre-em"}
    assert {"dang-ky-khai-tu", "tro-cap-mai-tang"} <= set(catalog["lien-thong-khai-tu"].includes)
