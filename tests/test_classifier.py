"""The learned model: trained from the shipped corpus and guides, cached, and rebuilt when they change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import classifier
from bot.catalog import Catalog
from bot.classifier import PROCEDURE, _Terms, focus, load_model, read_corpus, training_set


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def test_the_shipped_corpus_reads_and_covers_every_intent_and_guide(catalog: Catalog) -> None:
    examples = training_set(catalog, classifier.corpus_files())
    labels = {e.label for e in examples}
    assert set(classifier.INTENTS) <= labels
    assert {PROCEDURE + gid for gid in catalog.guides} <= labels


def test_a_broken_corpus_line_names_its_file_and_line(tmp_path: Path) -> None:
    good = {"text": "khai sinh", "intent": "procedure", "procedure": "dang-ky-khai-sinh", "aspect": None}
    for bad in ("{", json.dumps({"text": "x", "intent": "procedure", "procedure": None}),
                json.dumps({"text": "x", "intent": "chat"})):
        path = write(tmp_path / "c.jsonl", [good, bad])
        with pytest.raises(ValueError, match=r"c.jsonl:2: not a labelled message"):
            read_corpus([path])


def test_messages_about_procedures_without_a_guide_are_left_out(catalog: Catalog, tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", [
        {"text": "tách thửa đất", "intent": "procedure", "procedure": "not-in-this-catalog", "aspect": None},
        {"text": "alo", "intent": "greeting", "procedure": None, "aspect": None}])
    labels = {e.label for e in training_set(catalog, [path])}
    assert PROCEDURE + "not-in-this-catalog" not in labels and "greeting" in labels


def test_the_guides_sample_questions_train_the_procedure_but_not_the_aspect(catalog: Catalog) -> None:
    guide = next(iter(catalog.guides.values()))
    own = [e for e in classifier.guide_examples(catalog) if e.label == PROCEDURE + guide.id]
    assert {e.text for e in own if not e.aspect_known} == set(guide.questions)
    assert {e.text for e in own if e.aspect_known} == {guide.name, *guide.aliases}


def test_a_long_message_is_focused_on_what_it_asks() -> None:
    story = ("Bố tôi mất năm ngoái. Nhà có mảnh đất ông để lại. Mẹ tôi muốn chia cho các con. "
             "Giờ làm văn bản thỏa thuận phân chia di sản thì cần giấy tờ gì?")
    assert focus(story) == "Giờ làm văn bản thỏa thuận phân chia di sản thì cần giấy tờ gì?"
    assert focus("làm khai sinh cần gì") == ""


def small_corpus(path: Path) -> Path:
    return write(path, [
        {"text": t, "intent": i, "procedure": None, "aspect": None}
        for t, i in [("alo", "greeting"), ("xin chào ad", "greeting"), ("chào bạn", "greeting"),
                     ("giá vàng hôm nay", "unknown"), ("thời tiết mai", "unknown"), ("xổ số", "unknown"),
                     ("cho gặp cán bộ", "human"), ("số hotline", "human"), ("gọi ai", "human"),
                     ("menu", "help"), ("bot làm được gì", "help"), ("danh sách thủ tục", "help"),
                     ("hồ sơ đến đâu", "case_status"), ("tra cứu hồ sơ", "case_status"), ("bao giờ xong", "case_status"),
                     ("cán bộ hách dịch", "feedback"), ("5 sao", "feedback"), ("rất hài lòng", "feedback")]]
        + [{"text": t, "intent": "procedure", "procedure": "dang-ky-khai-sinh", "aspect": a}
           for t, a in [("khai sinh cần giấy gì", "documents"), ("khai sinh mang gì", "documents"),
                        ("giấy tờ khai sinh", "documents"), ("khai sinh mất phí không", "fees"),
                        ("lệ phí khai sinh", "fees"), ("khai sinh bao nhiêu tiền", "fees")]])


def test_the_model_is_cached_and_a_corrupt_cache_is_rebuilt(catalog: Catalog, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(classifier.ENV_CACHE, str(tmp_path))
    corpus = small_corpus(tmp_path / "c.jsonl")
    model = load_model(catalog, paths=[corpus])
    [cached] = list(tmp_path.glob("model-*.pickle"))
    assert load_model(catalog, paths=[corpus]).labels.classes == model.labels.classes
    cached.write_bytes(b"not a pickle")
    rebuilt = load_model(catalog, paths=[corpus])
    assert rebuilt.predict("xin chao ad", "xin chào ad")[0][0][0] == "greeting"
    assert cached.read_bytes() != b"not a pickle"


def test_the_cache_keeps_the_models_used_last(catalog: Catalog, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Two checkouts with different corpora on one machine: starting one does not throw away the
    other's model, so neither retrains at every start; models not used for longest go first."""
    monkeypatch.setenv(classifier.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setattr(classifier, "KEPT_MODELS", 2)
    corpus = small_corpus(tmp_path / "c.jsonl")
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]

    def models() -> set[str]:
        return {path.name for path in (tmp_path / "cache").glob("model-*.pickle")}

    def changed(text: str) -> Path:
        return write(tmp_path / f"{text}.jsonl",
                     [*rows, {"text": text, "intent": "greeting", "procedure": None, "aspect": None}])

    load_model(catalog, paths=[corpus])
    [first] = models()
    load_model(catalog, paths=[changed("alo alo")])
    [second] = models() - {first}
    written = (tmp_path / "cache" / first).stat().st_ino       # a model trained again is a new file
    load_model(catalog, paths=[corpus])                       # back to the first: from the cache
    assert models() == {first, second} and (tmp_path / "cache" / first).stat().st_ino == written
    load_model(catalog, paths=[changed("hello ad")])
    assert first in models() and second not in models() and len(models()) == 2


def test_the_kept_analysers_give_sklearns_terms(catalog: Catalog) -> None:
    """The cached model analyses text itself, so a start never imports sklearn: its terms must be
    exactly the fitted vectorisers' own, for every kind of text a citizen sends."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["lam giay khai sinh cho con can gi", "Đăng ký  kết hôn\tở đâu?", "a b cd", "x", "", "ok 😀 12/10",
             "thường trú ở Cần Thơ, tạm trú tại TP.HCM", "  nhiều   khoảng trắng  "]
    for settings in ({"ngram_range": (1, 2)}, {"analyzer": "char_wb", "ngram_range": (2, 5)}, {}):
        vectorizer = TfidfVectorizer(**settings).fit(texts)
        kept = _Terms(vectorizer, 0)
        for text in texts:
            assert sorted(kept.analyze(text)) == sorted(vectorizer.build_analyzer()(text)), (settings, text)
