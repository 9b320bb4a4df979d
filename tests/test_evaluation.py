"""`motcua eval` scoring: an officer sees true accuracy per intent, procedure and aspect, every miss, and bad lines by number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation import Labelled, format_report, read_labelled, score

ROOT = Path(__file__).resolve().parent.parent

# what the shipped matcher understands each text as (see tests/test_cli.py and tests/test_matching.py)
SET = [
    # right procedure, right aspect
    {"text": "lam giay khai sinh cho con can gi", "intent": "procedure",
     "procedure": "dang-ky-khai-sinh", "aspect": "documents"},
    # right procedure, wrong aspect (understood as fees)
    {"text": "đăng ký kết hôn mất phí bao nhiêu", "intent": "procedure",
     "procedure": "dang-ky-ket-hon", "aspect": "documents"},
    # wrong procedure (understood as cap-gcn-quyen-su-dung-dat-lan-dau): its aspect is not scored
    {"text": "sổ đỏ lần đầu", "intent": "procedure", "procedure": "dang-ky-khai-tu", "aspect": "fees"},
    {"text": "thời tiết mai thế nào", "intent": "unknown", "procedure": None, "aspect": None},
    {"text": "hồ sơ 000.00.27.H15-251120-0012 đến đâu rồi", "intent": "case_status"},
    # wrong intent (understood as a greeting)
    {"text": "xin chào", "intent": "help", "procedure": None, "aspect": None},
]


def write(tmp_path: Path, lines: list[object], newline: str = "\n") -> Path:
    """A labelled JSONL file; dicts are encoded, strings are written as they are."""
    path = tmp_path / "set.jsonl"
    text = newline.join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines)
    path.write_text(text + newline, encoding="utf-8", newline="")
    return path


@pytest.fixture
def items(tmp_path: Path) -> list[Labelled]:
    return read_labelled(write(tmp_path, SET))


def test_labels_are_read_with_missing_procedure_and_aspect_as_none_and_blank_lines_skipped(tmp_path):
    path = write(tmp_path, [SET[0], "", "   ", SET[4]], newline="\r\n")
    assert read_labelled(path) == [
        Labelled("lam giay khai sinh cho con can gi", "procedure", "dang-ky-khai-sinh", "documents"),
        Labelled("hồ sơ 000.00.27.H15-251120-0012 đến đâu rồi", "case_status", None, None),
    ]


@pytest.mark.parametrize("bad", ["{broken", '{"text": "khai sinh"}', '["khai sinh", "procedure"]', "null", '"khai sinh"'])
def test_a_malformed_line_is_refused_naming_the_file_and_line(tmp_path, bad):
    path = write(tmp_path, [SET[0], "", bad, SET[3]])
    with pytest.raises(ValueError, match="not a labelled message") as error:
        read_labelled(path)
    assert str(error.value).startswith(f"{path}:3: ")


@pytest.mark.parametrize("bad", ['{"text": 42, "intent": "procedure"}', '{"text": "giá vàng", "intent": null}'])
def test_a_line_with_wrongly_typed_labels_is_also_named(tmp_path, matcher, bad):
    path = write(tmp_path, [SET[0], bad])
    with pytest.raises(ValueError, match=":2: "):
        format_report(score(matcher, read_labelled(path)))


def test_accuracy_is_tallied_per_intent_procedure_and_aspect(matcher, items):
    report = score(matcher, items)
    assert report.total == 6
    assert dict(report.by_intent) == {"procedure": [3, 3], "unknown": [1, 1], "case_status": [1, 1], "help": [0, 1]}
    assert dict(report.by_procedure) == {"dang-ky-khai-sinh": [1, 1], "dang-ky-ket-hon": [1, 1], "dang-ky-khai-tu": [0, 1]}
    # the aspect of a message whose procedure was missed is not scored at all
    assert dict(report.by_aspect) == {"documents": [1, 2]}
    assert report.wrong_procedure == 1


def test_every_miss_is_listed_in_order_with_what_was_understood_and_wanted(matcher, items):
    report = score(matcher, items)
    assert report.misses == [
        "aspect fees (want documents) | đăng ký kết hôn mất phí bao nhiêu",
        "procedure cap-gcn-quyen-su-dung-dat-lan-dau (want dang-ky-khai-tu) | sổ đỏ lần đầu",
        "intent greeting (want help) | xin chào",
    ]


def test_answering_an_out_of_scope_question_with_a_guide_counts_as_a_wrong_procedure_answer(matcher):
    report = score(matcher, [Labelled("sổ đỏ lần đầu", "unknown", None, None),
                             Labelled("thời tiết mai thế nào", "unknown", None, None)])
    assert report.wrong_procedure == 1
    assert report.misses == ["intent procedure (want unknown); procedure cap-gcn-quyen-su-dung-dat-lan-dau "
                             "(want none) | sổ đỏ lần đầu"]
    out = format_report(report)
    assert "unknown rejected: 1/2 = 50.0 %" in out
    assert "wrong-procedure answers: 1/2 = 50.0 %" in out


def test_the_printed_report_gives_headline_ratios_sorted_tables_and_misses(matcher, items):
    lines = format_report(score(matcher, items)).splitlines()
    assert lines[0] == "messages: 6"
    for headline in ("procedure top-1: 2/3 = 66.7 %", "aspect (procedure right): 1/2 = 50.0 %",
                     "unknown rejected: 1/1 = 100.0 %", "case_status recall: 1/1 = 100.0 %",
                     "wrong-procedure answers: 1/6 = 16.7 %"):
        assert headline in lines
    table = lines[lines.index("by procedure:") + 1:lines.index("by aspect:") - 1]
    assert [row.split() for row in table] == [
        ["dang-ky-ket-hon", "1/1", "=", "100.0", "%"],
        ["dang-ky-khai-sinh", "1/1", "=", "100.0", "%"],
        ["dang-ky-khai-tu", "0/1", "=", "0.0", "%"],
    ]
    intents = lines[lines.index("by intent:") + 1:lines.index("by procedure:") - 1]
    assert [row.split()[0] for row in intents] == ["case_status", "help", "procedure", "unknown"]
    misses = lines[lines.index("misses (3):") + 1:]
    assert misses == ["  aspect fees (want documents) | đăng ký kết hôn mất phí bao nhiêu",
                      "  procedure cap-gcn-quyen-su-dung-dat-lan-dau (want dang-ky-khai-tu) | sổ đỏ lần đầu",
                      "  intent greeting (want help) | xin chào"]


def test_an_empty_set_prints_n_a_rather_than_crashing(tmp_path, matcher):
    out = format_report(score(matcher, read_labelled(write(tmp_path, ["", "  "]))))
    assert out.splitlines()[0] == "messages: 0"
    assert "procedure top-1: n/a" in out and "case_status recall: n/a" in out
    assert "wrong-procedure answers: 0/0 = 0.0 %" in out and out.endswith("misses (0):")


def test_the_shipped_labelled_set_reads_and_every_message_is_scored(matcher):
    shipped = read_labelled(ROOT / "tests" / "data" / "paraphrases.jsonl")
    report = score(matcher, shipped)
    assert report.total == len(shipped) > 0
    assert sum(total for _, total in report.by_intent.values()) == len(shipped)
    assert sum(total for _, total in report.by_procedure.values()) == sum(1 for i in shipped if i.procedure)
    texts = {i.text for i in shipped}
    assert all(miss.split(" | ", 1)[1] in texts for miss in report.misses)
    assert f"messages: {len(shipped)}" in format_report(report)


def test_a_file_saved_with_a_byte_order_mark_reads_like_any_other(tmp_path):
    """Excel and Notepad on Windows save UTF-8 with a BOM; operators should not have to know."""
    path = write(tmp_path, SET[:2])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert [item.text for item in read_labelled(path)] == [SET[0]["text"], SET[1]["text"]]


CONVERSATION = {"id": "c1", "turns": [
    {"text": "lam giay khai sinh cho con can gi", "intent": "procedure", "procedure": "dang-ky-khai-sinh",
     "aspect": "documents"},
    {"text": "vâng ạ", "intent": None, "procedure": None, "aspect": None},
    {"text": "hồ sơ 000.00.27.H15-251120-0012 đến đâu rồi", "intent": "case_status", "procedure": None, "aspect": None},
]}


def test_a_conversation_file_is_recognised_and_read_with_its_unscored_turns(tmp_path: Path) -> None:
    from bot.evaluation import is_conversation_file, read_conversations

    path = write(tmp_path, [CONVERSATION])
    assert is_conversation_file(path) and not is_conversation_file(write(tmp_path, SET))
    [conversation] = read_conversations(write(tmp_path, [CONVERSATION]))
    assert conversation.id == "c1" and [t.intent for t in conversation.turns] == ["procedure", None, "case_status"]


@pytest.mark.parametrize("line", ['{"id": "x", "turns": []}', '{"id": "x"}', '{"turns": [{"intent": "help"}]}', "[1]"])
def test_a_broken_conversation_names_its_line(tmp_path: Path, line: str) -> None:
    from bot.evaluation import read_conversations

    with pytest.raises(ValueError, match=r"set.jsonl:2: not a labelled conversation"):
        read_conversations(write(tmp_path, [CONVERSATION, line]))


def test_conversation_scores_follow_the_evaluation_sets_scorer() -> None:
    """Unscored turns count nowhere, a wrong procedure counts as a wrong answer, and one wrong
    turn spoils its conversation."""
    from bot.evaluation import Conversation, score_conversations
    from bot.matching import Understanding

    turns = tuple(Labelled(t["text"], t["intent"], t["procedure"], t["aspect"]) for t in CONVERSATION["turns"])
    conversation = Conversation("c1", turns)
    right = [Understanding("procedure", "dang-ky-khai-sinh", "documents"), Understanding("greeting"),
             Understanding("case_status")]
    wrong = [Understanding("procedure", "dang-ky-khai-tu", "documents"), Understanding("greeting"),
             Understanding("case_status")]
    counts = score_conversations([conversation, conversation], [right, wrong]).counts
    assert (counts["scored"], counts["proc"], counts["proc_ok"], counts["wrong"]) == (4, 2, 1, 1)
    assert (counts["conv"], counts["conv_ok"], counts["cs"], counts["cs_ok"]) == (2, 1, 2, 2)


def test_offering_the_right_procedure_among_choices_is_not_a_wrong_answer(matcher):
    # "chứng thực" alone: the bot offers the three chứng thực procedures rather than answering one
    report = score(matcher, [Labelled("chứng thực", "procedure", "chung-thuc-hop-dong", None),
                             Labelled("sổ đỏ lần đầu", "procedure", "dang-ky-khai-tu", None)])
    assert report.found == [1, 2]
    assert report.answered_wrong == 1
    out = format_report(report)
    assert "right procedure answered or offered: 1/2 = 50.0 %" in out
    assert "of which answered (not offered among choices): 1/2 = 50.0 %" in out
