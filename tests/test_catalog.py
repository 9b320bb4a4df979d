"""Loading guides: the shipped ones load, and each kind of broken guide is refused by name."""

import shutil
from pathlib import Path

import pytest
import yaml

from bot.catalog import CatalogError, check_dir, load_catalog

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


def test_every_guide_cites_law_and_a_recent_review(catalog):
    for guide in catalog.guides.values():
        assert guide.legal_basis and guide.reviewed.year >= 2026, guide.id


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
