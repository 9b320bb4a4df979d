"""Understanding a citizen's message: intent, procedure, aspect, confidence, alternatives.

Pure and fast (no I/O), so it is property-tested and benchmarked on its own. Procedures are
ranked by words and word pairs shared with each guide's name, aliases and sample questions,
weighted by how rare they are in the catalog (a word every guide has decides nothing); a guide
whose whole alias appears in the message gets a bonus that grows with the alias's specificity,
which is what tells "đăng ký lại khai sinh" from "đăng ký khai sinh". Small rules catch case
codes, greetings, help, requests for a person, feedback and topics we do not cover.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot import codes
from bot.catalog import Catalog, Guide
from bot.text import looks_english, normalize

INTENTS = ("procedure", "case_status", "feedback", "greeting", "help", "human", "unknown")


@dataclass(frozen=True)
class Understanding:
    intent: str
    procedure: str | None = None
    aspect: str | None = None
    confidence: float = 0.0
    alternatives: tuple[str, ...] = ()
    english: bool = False
    case_code: str | None = None


# Words that carry no procedure: pronouns, particles, and the vocabulary of asking itself
# (which aspect is asked is detected separately).
STOPWORDS = frozenset("""
em anh chi toi minh ban cho hoi a ad admin oi voi cua thi la va hay hoac co khong duoc gi nao
nhung cac mot cai nay do day vay nhe nha ne di can phai muon xin giup the nhu sao ra len ve o
tai tu den roi chua da bao nhieu lau gio ngay may nhieu tien phi le thoi gian dau noi cach nhe
a oi u uh vang ha hả ah nhi luon cung con be chau ong ba bo me nguoi nha ho so thu tuc giay to
gom nhung buoc trinh tu mau to khai online truc tuyen mang dich vu cong ai dieu kien bat buoc
tren trong ngoai sau truoc khi neu ma vi de se van dang nay kia ay lai qua hom qua nam thang
tuan moi vua xong het bi them nua biet hieu thay ok uy ban nhan dan ubnd xa phuong
the what how where when can do does is are my i you to of for an get much cost need which who
please it in on at be with from
""".split()) - {"lai", "dang", "qua", "mat", "con", "tre", "be", "nha", "ho", "nguoi", "ong", "ba"}

_BIGRAM_BOOST = 1.6
_ALIAS_BONUS = 0.6
_MIN_SCORE = 4.0
_CONFIDENT_SCORE = 9.0

# English words to the Vietnamese the guides are written in; longest first.
_GLOSSARY = [
    ("register my newborn", "dang ky khai sinh"), ("newborn", "khai sinh tre so sinh"),
    ("birth certificate copy", "ban sao trich luc khai sinh"), ("birth", "khai sinh"),
    ("death", "khai tu"), ("died", "khai tu"), ("marital status", "xac nhan tinh trang hon nhan"),
    ("single status", "xac nhan tinh trang hon nhan"), ("marriage", "ket hon"),
    ("marry", "ket hon"), ("married", "ket hon"), ("certified copy", "chung thuc ban sao"),
    ("certify a copy", "chung thuc ban sao"), ("notarize", "chung thuc"),
    ("signature", "chung thuc chu ky"), ("contract", "chung thuc hop dong"),
    ("id card", "can cuoc"), ("identity card", "can cuoc"), ("citizen id", "can cuoc"),
    ("temporary residence", "dang ky tam tru"), ("permanent residence", "dang ky thuong tru"),
    ("temporary absence", "khai bao tam vang"), ("residence confirmation", "xac nhan cu tru"),
    ("proof of residence", "xac nhan cu tru"), ("land title", "so do"), ("red book", "so do"),
    ("land use right", "quyen su dung dat"), ("building permit", "giay phep xay dung"),
    ("construction permit", "giay phep xay dung"), ("household business", "ho kinh doanh"),
    ("business household", "ho kinh doanh"), ("criminal record", "ly lich tu phap"),
    ("motorbike", "xe may"), ("motorcycle", "xe may"), ("vehicle registration", "dang ky xe"),
    ("health insurance", "bao hiem y te"), ("guardian", "giam ho"), ("paternity", "nhan cha con"),
    ("disability", "khuyet tat"), ("poor household", "ho ngheo"), ("funeral", "mai tang"),
    ("burial", "mai tang"), ("social allowance", "tro cap xa hoi"), ("passport", "ho chieu"),
    ("driving licence", "bang lai xe"), ("driving license", "bang lai xe"), ("visa", "visa"),
]

# Procedures people ask a one-stop desk about that this catalog does not cover. A message on one
# of these topics is out of scope unless it also names a covered procedure outright.
_OUT_OF_SCOPE = re.compile(r"\b(" + "|".join([
    r"ho chieu", r"passport", r"visa", r"thi thuc", r"xuat canh", r"bang lai", r"giay phep lai xe",
    r"doi bang", r"cong ty", r"doanh nghiep", r"tnhh", r"co phan", r"thue tncn",
    r"thue thu nhap", r"quyet toan thue", r"ma so thue", r"that nghiep", r"bhxh mot lan",
    r"luong huu", r"lop 1", r"trai tuyen", r"tuyen sinh", r"nhap hoc", r"lai suat",
    r"vay tin chap", r"ngan hang", r"gia vang", r"gia xang", r"thoi tiet", r"xo so",
    r"chuyen cuoi", r"bong da",
]) + r")\b")

_HUMAN = re.compile(r"\b(" + "|".join([
    r"so dien thoai", r"hotline", r"duong day nong", r"gap (can bo|nhan vien|nguoi)",
    r"noi chuyen (voi|truc tiep)", r"(can bo|nguoi|nhan vien) that", r"tu van truc tiep",
    r"truc tiep tu van", r"nhan vien tu van", r"chuyen (em|minh|toi)? ?(gap|cho|sang)",
    r"lien he (voi )?(can bo|bo phan|xa|phuong)", r"goi (cho )?(ai|so nao)", r"talk to (a )?human",
    r"real person", r"phone number", r"contact",
]) + r")\b")

_FEEDBACK = re.compile(r"\b(" + "|".join([
    r"phan anh", r"khieu nai", r"to cao", r"gop y", r"danh gia", r"hai long", r"khen",
    r"buc (minh|qua|xuc)", r"qua buc", r"buc xuc", r"chan qua", r"te qua", r"kem qua",
    r"thai do", r"kho chiu", r"hach dich", r"nhung nhieu", r"voi tien", r"\d sao",
    r"nhiet tinh", r"de hieu", r"tuyet voi", r"cam on (can bo|bot|chatbot)",
    r"(bot|chatbot) .{0,30}(chan|ngu|do|kem|khong hieu|te)", r"khong hieu gi",
    r"tra ve .{0,30}(buc|chan|lan)", r"complain",
]) + r")\b")

_CASE_STRONG = re.compile(r"\b(" + "|".join([
    r"tra cuu (ho so|ket qua|tinh trang)", r"(ho so|ket qua) .{0,40}(den dau|toi dau)",
    r"(xu ly|giai quyet|lam) (den|toi) dau", r"dang o buoc nao", r"o buoc nao",
    r"(duoc|da) duyet chua", r"tinh trang ho so", r"tien do", r"kiem tra (giup|ho) .{0,20}ho so",
    r"ket qua ho so", r"ho so .{0,40}(chua xong|chua co ket qua|chua thay ket qua|bi tra lai)",
    r"nop (tu|tu hom|tu ngay|tu thang) .{0,40}(chua|roi|ma)", r"(chua|van chua) (thay|co|nhan duoc) ket qua",
    r"bao gio (thi )?(toi |em |minh )?(lay|nhan) duoc", r"case status", r"my application",
]) + r")\b")
_CASE_WEAK = re.compile(
    r"\b(ho so (cua )?(em|minh|toi|tui|to)|(da|vua) nop|nop roi|kiem tra giup|tra giup|bo sung)\b"
)

_HELP = re.compile(r"^(menu|help|start|tro giup|huong dan)$|\b(" + "|".join([
    r"giup (gi|duoc gi)", r"lam duoc gi", r"ho tro (gi|nhung gi)", r"(nhung|cac) thu tuc (nao|gi)",
    r"danh sach (cac )?thu tuc", r"what can you do", r"hoi (duoc )?(nhung )?(gi|thu tuc nao)",
    r"thu tuc nao hoi duoc", r"co nhung thu tuc", r"bot (la gi|lam gi)",
]) + r")\b")

_GREETING = re.compile(r"\b(" + "|".join([
    r"xin chao", r"chao", r"hi", r"hello", r"hey", r"alo", r"cam on", r"tam biet", r"bye",
    r"good (morning|evening|afternoon)", r"ok", r"chuc .{0,20}vui ve",
]) + r")\b")

# Aspect cues, each with a weight: the strongest cue wins, ties go to the earlier aspect.
_ASPECT_CUES: list[tuple[str, int, re.Pattern[str]]] = [
    (aspect, weight, re.compile(r"\b(" + pattern + r")\b")) for aspect, weight, pattern in [
        ("online", 4, r"online|truc tuyen|qua mang|tren mang|vneid|dich vu cong|dvcqg|cong dich vu"),
        ("forms", 5, r"mau (don|to khai|giay|so)|to khai (lay|mau|o dau|dien|tai)|dien (the nao|nhu the nao|to khai)"
                     r"|tai (mau|to khai|o dau)|\bform\b|ct0[1-9]|mau\b"),
        ("forms", 3, r"to khai"),
        ("fees", 5, r"bao nhieu tien|mat tien|ton tien|het tien|le phi|phi (bao nhieu|tinh|la bao nhieu|nhu the nao)"
                    r"|mat phi|co phi|thue phi|how much|cost|fee|fees|bao nhieu phi|phi gi|phi la"),
        ("fees", 2, r"phi|mien phi|tien"),
        ("processing_time", 5, r"bao lau|may ngay|bao nhieu ngay (thi|moi) (co|xong|nhan|lay)|lay ngay"
                               r"|phai cho|bao gio (thi )?(co|xong|nhan|lay)|how long|thoi gian (giai quyet|xu ly|cap|lam)"
                               r"|nhanh nhat|trong ngay"),
        ("eligibility", 6, r"trong (bao lau|bao nhieu ngay|may ngay|thoi han) .{0,20}phai|thoi han"
                           r"|bi phat|phat (bao nhieu|khong|ko)|tre han|qua han .{0,10}(co sao|co bi)|co sao (khong)?"
                           r"|dieu kien|ai (duoc|co the)|co duoc (phep )?.{0,40}(khong|chua|ko)|du tuoi"
                           r"|co bat buoc|bat buoc phai|co phai .{0,40}(khong|ko|chua|hay)|co can phai"
                           r"|eligible|who can|deadline|penalty|uy quyen"),
        ("where", 5, r"o dau|cho nao|noi nao|xa nao|phuong nao|co quan nao|where|nop o|lam o|o (xa|phuong|ubnd|uy ban|cong an|van phong|chi nhanh)"
                     r"|noi (cha|me|con|cu tru|dang o|thuong tru) .{0,20}hay|hay (ve|o|ra|len) (xa|phuong|noi|van phong|phong)"),
        ("documents", 6, r"giay to (gi|nao)|can (nhung )?(giay to|gi|nhung gi|mang)|mang (theo )?(gi|nhung gi)"
                         r"|ho so (gom|can|co) .{0,15}(gi|nhung gi)|gom (nhung )?gi|chuan bi|documents|papers|bring"
                         r"|ban goc|ban chinh|what do i need"),
        ("steps", 5, r"cac buoc|trinh tu|quy trinh|nhung buoc|buoc nao|lam the nao|lam sao|lam nhu the nao"
                     r"|steps|how (do|to|can) i|nhu the nao"),
        ("eligibility", 2, r"duoc khong|duoc ko|duoc chua|co phai"),
    ]
]
# Phrases that look like an aspect cue but mean something else in context.
_ASPECT_NOISE = re.compile(r"\b(ban hang online|kinh doanh online|ban online|thu tuc (gi|the nao|nhu the nao|nao))\b")


def detect_aspect(norm: str) -> str | None:
    """Which part of a guide the citizen asked for, from cue phrases in the folded text."""
    norm = _ASPECT_NOISE.sub(" ", norm)
    best: tuple[int, int] | None = None
    best_aspect = None
    for order, (aspect, weight, pattern) in enumerate(_ASPECT_CUES):
        if pattern.search(norm) and (best is None or (weight, -order) > best):
            best, best_aspect = (weight, -order), aspect
    return best_aspect


def _features(words: list[str]) -> set[str]:
    content = [w for w in words if w not in STOPWORDS]
    feats = set(content)
    feats.update(f"{a} {b}" for a, b in zip(content, content[1:]))
    return feats


@dataclass
class _Entry:
    guide: Guide
    weights: dict[str, float] = field(default_factory=dict)
    phrases: list[tuple[str, ...]] = field(default_factory=list)


class Matcher:
    """An index of the catalog for ranking procedures; build once, query many times."""

    def __init__(self, catalog: Catalog, code_pattern: str = codes.DEFAULT_PATTERN):
        self.code_pattern = code_pattern
        self._entries: list[_Entry] = []
        df: dict[str, int] = {}
        for guide in catalog.guides.values():
            entry = _Entry(guide)
            for phrase in (guide.name, *guide.aliases):
                words = tuple(w for w in normalize(phrase).split() if w not in STOPWORDS)
                if words:
                    entry.phrases.append(words)
                for f in _features(normalize(phrase).split()):
                    entry.weights[f] = 1.0
            counts: dict[str, int] = {}
            for question in guide.questions:
                for f in _features(normalize(question).split()):
                    counts[f] = counts.get(f, 0) + 1
            for f, n in counts.items():
                entry.weights[f] = max(entry.weights.get(f, 0.0), min(0.9, 0.3 + 0.2 * n))
            for f in entry.weights:
                df[f] = df.get(f, 0) + 1
            self._entries.append(entry)
        n = max(1, len(self._entries))
        self._idf = {f: math.log(1 + n / d) for f, d in df.items()}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for i, entry in enumerate(self._entries):
            for f, w in entry.weights.items():
                self._postings.setdefault(f, []).append((i, w))
        self._vocab = sorted({w for f in self._idf for w in f.split()} | STOPWORDS)
        self._vocab_set = frozenset(self._vocab)
        self._corrections: dict[str, str] = {}

    def _correct(self, word: str) -> str:
        """A word the catalog does not know, mapped to the nearest one it does (typos, Telex)."""
        if word in self._vocab_set or len(word) < 3 or word.isdigit():
            return word
        cached = self._corrections.get(word)
        if cached is not None:
            return cached
        fixed = word
        if word[-1] in "sfrxj" and word[:-1] in self._vocab_set:
            fixed = word[:-1]
        else:
            hit = process.extractOne(word, self._vocab, scorer=fuzz.ratio, score_cutoff=80)
            if hit is not None:
                fixed = hit[0]
        if len(self._corrections) < 50_000:
            self._corrections[word] = fixed
        return fixed

    def rank(self, words: list[str]) -> list[tuple[float, Guide]]:
        """Guides by score, best first; only guides that share something with the message."""
        feats = _features(words)
        scores: dict[int, float] = {}
        for f in feats:
            idf = self._idf.get(f)
            if idf is None:
                continue
            boost = _BIGRAM_BOOST if " " in f else 1.0
            for i, w in self._postings[f]:
                scores[i] = scores.get(i, 0.0) + idf * w * boost
        if not scores:
            return []
        content = [w for w in words if w not in STOPWORDS]
        present = set(content)
        top = sorted(scores, key=scores.__getitem__, reverse=True)[:12]
        for i in top:
            bonus = max(
                (self._phrase_bonus(p, content, present) for p in self._entries[i].phrases),
                default=0.0,
            )
            scores[i] += bonus
        ranked = sorted(top, key=scores.__getitem__, reverse=True)
        return [(scores[i], self._entries[i].guide) for i in ranked]

    def _phrase_bonus(self, phrase: tuple[str, ...], content: list[str], present: set[str]) -> float:
        if not set(phrase) <= present:
            return 0.0
        # In order, allowing a few words in between ("chưa từng có giấy khai sinh").
        pos = 0
        for word in phrase:
            try:
                nxt = content.index(word, pos)
            except ValueError:
                return 0.0
            if pos and nxt - pos > 2:
                return 0.0
            pos = nxt + 1
        return _ALIAS_BONUS * sum(self._idf.get(w, 0.0) for w in phrase) * (1 + 0.15 * len(phrase))

    def understand(self, text: str) -> Understanding:
        """Everything the dialog needs to know about one message."""
        english = looks_english(text)
        code = codes.find(text, self.code_pattern)
        if code:
            return Understanding("case_status", confidence=0.98, english=english, case_code=code)
        raw = text.lower()
        if english:
            for en, vi in _GLOSSARY:
                raw = raw.replace(en, f" {vi} ")
        words = [self._correct(w) for w in normalize(raw).split()]
        norm = " ".join(words)
        if not norm:
            return Understanding("unknown", english=english)
        if _HUMAN.search(norm):
            return Understanding("human", confidence=0.9, english=english)
        if _FEEDBACK.search(norm):
            return Understanding("feedback", confidence=0.85, english=english)
        if _CASE_STRONG.search(norm) or len(_CASE_WEAK.findall(norm)) >= 2:
            return Understanding("case_status", confidence=0.85, english=english)
        ranked = self.rank(words)
        best = ranked[0][0] if ranked else 0.0
        if best < _MIN_SCORE:
            if _HELP.search(norm):
                return Understanding("help", confidence=0.9, english=english)
            if _GREETING.search(norm) and len(words) <= 12:
                return Understanding("greeting", confidence=0.9, english=english)
            return Understanding("unknown", confidence=0.8, english=english)
        if _OUT_OF_SCOPE.search(norm) and not self._names_outright(ranked[0][1], words):
            return Understanding("unknown", confidence=0.7, english=english)
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        confidence = _confidence(best, second)
        alternatives = tuple(g.id for s, g in ranked[1:4] if s >= max(_MIN_SCORE, best * 0.5))
        return Understanding(
            "procedure", ranked[0][1].id, detect_aspect(norm), confidence, alternatives, english,
        )

    def _names_outright(self, guide: Guide, words: list[str]) -> bool:
        """Whether the message contains one of the guide's aliases word for word."""
        joined = f" {' '.join(words)} "
        return any(f" {' '.join(p)} " in joined for p in (normalize(a).split() for a in (guide.name, *guide.aliases)) if len(p) >= 2)


def _confidence(best: float, second: float) -> float:
    """High when the best guide scores well and clearly above the runner-up."""
    strength = min(1.0, best / _CONFIDENT_SCORE)
    margin = (best - second) / best if best else 0.0
    return round(max(0.0, min(1.0, 0.35 * strength + 0.65 * min(1.0, margin * 2.5))), 3)
