"""The learned part of understanding: which intent or procedure a message is, and which aspect.

Hand-tuned phrase rules fit the wording they were tuned on and no other. A supervised linear
model over word and character n-grams of the normalised text, trained on a corpus of citizens'
messages written in many voices plus the guides' own names, aliases and sample questions,
generalises to wording nobody wrote down, and gives probabilities the dialog can act on: answer
when sure, offer the closest procedures when not.

Training takes seconds, so a trained model is cached on disk under a key made of everything it
depends on (corpus, guides, library version); a start with an unchanged catalog only loads it.
Staff commands never import this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import pickle
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from bot.catalog import Catalog
from bot.text import MAX_CHARS, normalize, spelling

log = logging.getLogger(__name__)

VERSION = "4"
"""Part of the cache key, beside the source of the modules that shape the features."""
INTENTS = ("case_status", "feedback", "greeting", "help", "human", "unknown")
ASK = "ask"
"""A question about some part of a procedure that does not say which ("mất bao lâu", "nộp ở đâu"):
in a conversation it asks about the procedure in view."""
NO_ASPECT = "-"
FOCUS = 0.6
"""How much the asking sentences of a long message weigh against the whole of it."""
Ranked = list[tuple[str, float]]
PROCEDURE = "procedure:"
ENV_CACHE = "MOTCUA_CACHE"
KEPT_MODELS = 3
"""Models the cache keeps, the most recently used: checkouts or deployments with different corpora
on one machine (a staging copy beside production, an upgrade rolled out one process at a time)
each find their own, where keeping only the newest made each start of one retrain the other."""

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SEEN_WORDS = 50_000
"""Words whose n-gram columns are remembered at most (a few MB); spam of made-up words empties it."""
_SENTENCES = re.compile(r"(?<=[.!?…\n])\s+")
_ASKS = re.compile(r"\?|\b(gi|nao|sao|bao nhieu|bao lau|o dau|khong|ko|chua|the nao|nhu the nao|co duoc|can)\b")


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    """An intent, or "procedure:<guide id>"."""
    aspect: str | None = None
    aspect_known: bool = True
    """False for the guides' sample questions, which are labelled with their guide only."""


def focus(text: str) -> str:
    """What a long message asks: its asking sentences (or its last one), for extra weight.

    Citizens often tell the family's story first and ask at the end; the story names people
    and events ("bố mất", "đẻ ở trạm xá") that point at other procedures.
    """
    sentences = [s for s in _SENTENCES.split(text.strip()) if s.strip()]
    if len(sentences) < 3:
        return ""
    asking = [s for s in sentences if _ASKS.search(normalize(s)) or "?" in s]
    return " ".join(asking[-2:] or sentences[-1:])


def marked(text: str) -> str:
    """The message with its diacritics kept, lower case: where the citizen typed them, "vàng"
    (gold) is not "vắng" (absent), a difference the folded spelling has lost."""
    return unicodedata.normalize("NFC", text[:MAX_CHARS].lower())


class _Terms:
    """One fitted TF-IDF vectoriser reduced to what a message needs: its analyser, vocabulary and
    weights. sklearn's own transform spends most of a millisecond on checks made for batches, and
    keeping its vectoriser in the cache made every start import sklearn and scipy (a second)."""

    def __init__(self, vectorizer: Any, offset: int):
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf: np.ndarray = vectorizer.idf_
        self.offset = offset
        self.size = len(self.vocabulary)
        self.kind: str = vectorizer.analyzer
        self.ngrams: tuple[int, int] = vectorizer.ngram_range
        self._seen: dict[str, tuple[int, ...]] = {}

    def analyze(self, text: str) -> list[str]:
        """The terms sklearn's analyser gives for these settings (lower case, `\\w\\w+` words
        or char_wb n-grams); tests/test_classifier.py checks them against sklearn's own."""
        text = text.lower()
        if self.kind == "char_wb":
            return [gram for word in text.split() for gram in self._grams(word)]
        low, high = self.ngrams
        tokens = _TOKEN.findall(text)
        terms = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            terms += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        return terms

    def _grams(self, word: str) -> list[str]:
        low, high = self.ngrams
        padded = f" {word} "
        grams: list[str] = []
        for n in range(low, high + 1):
            grams += [padded[i:i + n] for i in range(max(1, len(padded) - n + 1))]
            if len(padded) <= n:        # a short word counts once, as sklearn's does
                break
        return grams

    def _columns(self, word: str) -> tuple[int, ...]:
        """A word's character n-grams as columns, remembered: Vietnamese is written in a few
        thousand syllables, so a long letter is mostly words already seen, and cutting them into
        n-grams again was most of what it cost to understand."""
        known = self._seen.get(word)
        if known is None:
            if len(self._seen) >= _SEEN_WORDS:
                self._seen.clear()
            known = self._seen[word] = tuple(c for g in self._grams(word) if (c := self.vocabulary.get(g)) is not None)
        return known

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "char_wb":
            counts = Counter(chain.from_iterable(map(self._columns, text.lower().split())))
        else:
            counts = Counter(c for term in self.analyze(text) if (c := self.vocabulary.get(term)) is not None)
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[columns]
        norm = float(np.sqrt(values @ values)) if len(values) else 0.0
        return columns + self.offset, values / norm if norm else values

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_seen"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _seen={})


class _Linear:
    """A calibrated linear SVM (sklearn's CalibratedClassifierCV over LinearSVC, sigmoid method)
    as plain arrays: per fold, the class weights and the sigmoid that calibrates each class."""

    def __init__(self, calibrated: Any):
        self.classes = [str(c) for c in calibrated.classes_]
        folds = calibrated.calibrated_classifiers_
        if any([str(c) for c in fold.estimator.classes_] != self.classes for fold in folds):
            raise ValueError("every class must occur in every calibration fold")
        self.folds = len(folds)
        # the folds side by side, so that a message gathers its feature rows once for all of them;
        # float32 halves the cached model (27 → 14 MB) and changes no decision
        self.weights = np.ascontiguousarray(np.hstack([f.estimator.coef_.T for f in folds]), dtype=np.float32)
        self.intercept = np.concatenate([f.estimator.intercept_ for f in folds])
        self.a = np.array([c.a_ for f in folds for c in f.calibrators])
        self.b = np.array([c.b_ for f in folds for c in f.calibrators])

    def proba(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        decision = values @ self.weights[columns] + self.intercept
        p = (1.0 / (1.0 + np.exp(self.a * decision + self.b))).reshape(self.folds, len(self.classes))
        sums = p.sum(axis=1, keepdims=True)
        p = np.divide(p, sums, out=np.full_like(p, 1 / len(self.classes)), where=sums > 0)
        mean: np.ndarray = p.mean(axis=0)
        return mean


class Model:
    """Two linear models over shared features: the label (intent or procedure) and the aspect.

    Features: words, word pairs and character n-grams of the folded spelling (robust to missing
    marks, typos and Telex), plus words as typed with their marks (precise when marks are there).
    Trained with scikit-learn, then kept as arrays so that one message costs a fraction of a
    millisecond (the sklearn objects answer batches, and pay for it on every call).
    """

    def __init__(self, examples: Sequence[Example]):
        from scipy.sparse import hstack
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        typed = TfidfVectorizer(sublinear_tf=True, min_df=2)
        folded_texts = [spelling(e.text)[0] for e in examples]
        typed_texts = [marked(e.text) for e in examples]
        matrix = hstack([words.fit_transform(folded_texts), chars.fit_transform(folded_texts),
                         typed.fit_transform(typed_texts)]).tocsr()
        self.terms = []
        offset = 0
        for vectorizer in (words, chars, typed):
            self.terms.append(_Terms(vectorizer, offset))
            offset += self.terms[-1].size
        # a linear SVM trains in a fraction of a second; calibration turns its margins into
        # probabilities the dialog can compare with a threshold
        labels = CalibratedClassifierCV(LinearSVC(C=0.5, random_state=0), cv=3)
        labels.fit(matrix, [e.label for e in examples])
        asked = [i for i, e in enumerate(examples)
                 if (e.label.startswith(PROCEDURE) or e.label == ASK) and e.aspect_known]
        aspects = CalibratedClassifierCV(LinearSVC(C=0.5, random_state=0), cv=3)
        aspects.fit(matrix[asked], [examples[i].aspect or NO_ASPECT for i in asked])
        self.labels, self.aspects = _Linear(labels), _Linear(aspects)

    def _features(self, norm: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        words, chars, typed = self.terms
        parts = [words.features(norm), chars.features(norm), typed.features(marked(text))]
        return np.concatenate([c for c, _ in parts]), np.concatenate([v for _, v in parts])

    def predict(self, norm: str, text: str, focused: str = "") -> tuple[Ranked, Ranked]:
        """Labels and aspects with their probabilities, most likely first, for a message in its
        one spelling (`bot.text.spelling`) and as typed; the asking part of a long message weighs more."""
        columns, values = self._features(norm, text)
        label_row, aspect_row = self.labels.proba(columns, values), self.aspects.proba(columns, values)
        if focused:
            columns, values = self._features(spelling(focused)[0], focused)
            label_row = (1 - FOCUS) * label_row + FOCUS * self.labels.proba(columns, values)
            aspect_row = (1 - FOCUS) * aspect_row + FOCUS * self.aspects.proba(columns, values)
        labels = sorted(zip(self.labels.classes, label_row.tolist(), strict=True), key=lambda x: -x[1])
        aspects = sorted(zip(self.aspects.classes, aspect_row.tolist(), strict=True), key=lambda x: -x[1])
        return labels, aspects


# Whether a message names a procedure by itself, by the naming terms of the evaluation sets' scorer
# (shared/eval/score_conv.py): a turn that names none is a follow-up, whose procedure only the
# conversation tells. The corpus's conversations teach the model what such bare questions look like.
NAMING_TERMS = [
    "khai sinh", "gks", "dkks", "dang ky lai", "khai tu", "chung tu", "ket hon", "dkkh",
    "tinh trang hon nhan", "doc than", "nhan cha", "nhan me", "nhan con", "cai chinh", "doi ten",
    "doi ho", "ho tich", "trich luc", "ban sao", "giam ho", "lien thong",
    "thuong tru", "ho khau", "nhap khau", "chuyen khau", "cat khau", "hk", "tam tru", "tam vang",
    "cu tru", "ct01", "ct07", "tach ho", "tach khau", "xoa thuong tru", "xoa dang ky thuong tru",
    "xoa ho khau", "can cuoc", "cccd", "cmnd", "chung minh thu",
    "chung thuc", "cong chung", "chu ky", "hop dong", "di chuc", "di san",
    "so do", "so hong", "quyen su dung dat", "dat dai", "manh dat", "mieng dat", "thua dat",
    "lo dat", "sang ten", "thua ke", "tang cho", "chuyen nhuong", "tach thua", "hop thua",
    "chuyen muc dich", "len tho cu", "giay phep xay dung", "gpxd",
    "xin phep", "cap phep", "xay nha", "xay moi", "xay dung", "ho kinh doanh", "dang ky kinh doanh",
    "hkd", "tam ngung kinh doanh",
    "tro cap", "huu tri xa hoi", "bao tro xa hoi", "mai tang", "khuyet tat", "ho ngheo",
    "can ngheo", "bhyt", "bao hiem y te", "the bao hiem",
    "dang ky xe", "xe may", "xe ga", "xe may dien", "bien so", "ca vet", "ly lich tu phap", "lltp",
    "birth", "death", "marriage", "married", "marrying", "marital", "residence", "criminal record",
    "household business", "id card", "guardian", "land", "building permit", "motorbike",
]
_NAMING = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in NAMING_TERMS) + r")\b")


def names_procedure(text: str, folded: str | None = None) -> bool:
    """`folded`, when the caller has it, is the turn's one spelling (`bot.text.spelling`): it
    also expands the chat abbreviations the naming terms list ("gks" → "giay khai sinh"), so
    understanding need not fold the text a second time. Without it, the scorer's own folding."""
    if folded is None:
        marks = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
        folded = " ".join(re.sub(r"[^a-z0-9]+", " ", "".join(c for c in marks if not unicodedata.combining(c))).split())
    return bool(_NAMING.search(folded)) or "đất" in unicodedata.normalize("NFC", text.lower())


def naming_terms(folded: str) -> list[str]:
    """The naming terms a message in its one spelling uses: whether they all belong to the
    procedure in view tells a follow-up ("chứng thực xong mấy hôm" about a contract) from a switch."""
    return _NAMING.findall(folded)


def corpus_files() -> list[Path]:
    """The training messages shipped with the package (bot/corpus/*.jsonl)."""
    root = resources.files("bot") / "corpus"
    return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".jsonl"))


def _example(row: dict[str, object]) -> Example:
    intent, procedure, aspect = row["intent"], row.get("procedure"), row.get("aspect")
    if intent not in (*INTENTS, "procedure") or (intent == "procedure" and not isinstance(procedure, str)):
        raise ValueError(f"intent {intent!r} with procedure {procedure!r}")
    label = PROCEDURE + str(procedure) if intent == "procedure" else str(intent)
    return Example(str(row["text"]), label, aspect if isinstance(aspect, str) else None)


def _turns(turns: list[dict[str, object]]) -> list[Example]:
    """A conversation's turns as messages: a question that names no procedure (its procedure
    came from the conversation) is a bare question, ASK, with the aspect it asks."""
    out: list[Example] = []
    previous = None
    for i, turn in enumerate(turns):
        intent = turn.get("intent")
        if intent is None:
            continue
        text = str(turn["text"])
        bare = i > 0 and not names_procedure(text)
        if bare and (intent == "procedure" or (intent == "unknown" and previous == "unknown")):
            aspect = turn.get("aspect")
            known = intent == "procedure"
            out.append(Example(text, ASK, aspect if isinstance(aspect, str) else None, aspect_known=known))
        else:
            out.append(_example(turn))
        previous = intent
    return out


def read_corpus(paths: Iterable[Path]) -> list[Example]:
    """Labelled messages and conversations; a broken line names its file and line (the corpus is
    edited by hand)."""
    examples = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples += _turns(row["turns"]) if "turns" in row else [_example(row)]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled message ({exc})") from None
    return examples


def guide_examples(catalog: Catalog) -> list[Example]:
    """The guides' own words: names, aliases and sample questions, each labelled with its guide."""
    out = []
    for guide in catalog.guides.values():
        out += [Example(text, PROCEDURE + guide.id) for text in (guide.name, *guide.aliases)]
        out += [Example(text, PROCEDURE + guide.id, aspect_known=False) for text in guide.questions]
    return out


def training_set(catalog: Catalog, paths: Iterable[Path]) -> list[Example]:
    """Corpus and guides; messages about procedures this catalog has no guide for are left out,
    so that a deployment with fewer guides never predicts one it cannot answer."""
    corpus = [e for e in read_corpus(paths) if not e.label.startswith(PROCEDURE) or e.label[len(PROCEDURE):]
              in catalog]
    return corpus + guide_examples(catalog)


def cache_key(examples: Sequence[Example]) -> str:
    """Everything the model depends on: the examples, the library, and the code that spells and
    featurises them (bot/text.py and this module), so an edit to either retrains it."""
    from bot import text

    # the installed version, read without importing sklearn (which imports scipy: a second)
    digest = hashlib.sha256(f"{VERSION}|{importlib.metadata.version('scikit-learn')}".encode())
    for module in (text.__file__, __file__):
        digest.update(Path(module).read_bytes())
    for e in examples:
        digest.update(f"{e.label}\t{e.aspect}\t{e.aspect_known}\t{e.text}\n".encode())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    configured = os.environ.get(ENV_CACHE)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "motcua"


def load_model(catalog: Catalog, *, rebuild: bool = False, paths: Iterable[Path] | None = None) -> Model:
    """The model for this catalog: from the cache when nothing it depends on changed."""
    examples = training_set(catalog, corpus_files() if paths is None else paths)
    path = cache_dir() / f"model-{cache_key(examples)}.pickle"
    if not rebuild:
        try:
            with path.open("rb") as f:
                model = pickle.load(f)
            if isinstance(model, Model):
                with contextlib.suppress(OSError):
                    os.utime(path)          # used now: the last to be forgotten
                return model
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass
    model = Model(examples)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            pickle.dump(model, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, path)
    except OSError as exc:
        log.warning("model cache not written (%s): the next start trains again", exc.strerror)
    _forget_old_models(path.parent)
    return model


def _forget_old_models(directory: Path) -> None:
    """Keeps the KEPT_MODELS most recently used. Another process may be forgetting them too."""
    used: list[tuple[float, Path]] = []
    for path in directory.glob("model-*.pickle"):
        with contextlib.suppress(OSError):
            used.append((path.stat().st_mtime, path))
    for _, stale in sorted(used, reverse=True)[KEPT_MODELS:]:
        with contextlib.suppress(OSError):
            stale.unlink()
