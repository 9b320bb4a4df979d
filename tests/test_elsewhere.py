"""Out-of-scope questions get the agency that handles them, from a file officers can correct."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.elsewhere import AgencyError, Directory, load_agencies
from bot.text import normalize


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory(load_agencies())


@pytest.mark.parametrize("text, expected", [
    ("làm hộ chiếu cho con ở đâu", "Xuất nhập cảnh"),
    ("doi bang lai xe may o dau", "Cảnh sát giao thông"),
    ("muốn mở công ty tnhh thì nộp ở đâu", "Đăng ký kinh doanh"),
    ("hàng xóm lấn đất nhà tôi, giờ làm sao", "hòa giải"),
    ("bị lừa đảo chuyển tiền thì kiện ở đâu", "Trợ giúp pháp lý"),
])
def test_the_shipped_file_names_who_handles_common_topics(directory: Directory, text: str, expected: str) -> None:
    agency = directory.find(normalize(text))
    assert agency is not None and expected.lower() in agency.agency.lower()


def test_everyday_chat_names_no_agency(directory: Directory) -> None:
    assert directory.find(normalize("thời tiết mai thế nào")) is None


def test_every_entry_is_either_certain_or_says_to_check() -> None:
    agencies = load_agencies()
    assert len(agencies) >= 25 and {a.certain for a in agencies} == {True, False}


@pytest.mark.parametrize("text, problem", [
    ("- topic: X\n  keywords: [x]\n  agency: Y\n  confidence: maybe\n", "entry 1 (X): confidence"),
    ("- topic: X\n  keywords: []\n  agency: Y\n  confidence: high\n", "entry 1 (X): keywords"),
    ("- topic: X\n  keywords: [x]\n  confidence: high\n", "entry 1: agency"),
    ("topic: X\n", "expected a list"),
    ("- [unclosed\n", "agencies.yaml"),
])
def test_a_broken_file_names_the_entry_and_field(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "agencies.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AgencyError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        load_agencies(path)
