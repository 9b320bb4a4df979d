"""Case codes are found however citizens type them, and only codes of the office's format."""

from bot import codes


def test_code_in_a_sentence_is_found():
    assert codes.find("hồ sơ 000.00.27.H15-251120-0012 đến đâu rồi") == "000.00.27.H15-251120-0012"


def test_lower_case_spaces_and_missing_dots_are_forgiven():
    assert codes.canonical(" 000 00 27 h15 - 251120 - 0012 ") == "000.00.27.H15-251120-0012"
    assert codes.canonical("0000027h15-251120-0012") == "000.00.27.H15-251120-0012"


def test_wrong_shapes_are_not_codes():
    assert codes.canonical("000.00.27.H15-2511-0012") is None
    assert codes.find("gọi 0912345678 giúp em") is None
    assert codes.looks_like_code("000.00.27-12345678")


def test_configured_pattern():
    pattern = r"HS-\d{4}-\d{5}"
    assert codes.find("ma ho so hs-2026-00042 a", pattern) == "HS-2026-00042"
    assert codes.canonical("hs-2026-0004", pattern) is None
