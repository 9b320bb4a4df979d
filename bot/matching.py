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

import numpy as np
from rapidfuzz import fuzz, process

from bot import codes
from bot.catalog import Catalog, Guide
from bot.text import SYLLABLE, looks_english, normalize

INTENTS = ("procedure", "case_status", "feedback", "greeting", "help", "human", "unknown")


@dataclass(frozen=True)
class Reading:
    """A message read once per turn: every rule, of the dialog and of matching, sees this spelling."""

    text: str
    norm: str
    """The normalised spelling (English glossary applied, Telex undone for Vietnamese)."""
    english: bool
    case_code: str | None
    command: str | None
    """"reset", "forget" or "track" when the message is one of those requests, else None."""


@dataclass(frozen=True)
class Understanding:
    intent: str
    procedure: str | None = None
    aspect: str | None = None
    confidence: float = 0.0
    alternatives: tuple[str, ...] = ()
    english: bool = False
    case_code: str | None = None
    kind: str | None = None
    """Within an intent: "thanks" for a greeting; "complaint", "praise", "rate" or "other" for feedback."""


# Words that carry no procedure: pronouns, particles, and the vocabulary of asking itself (which
# aspect is asked is detected separately). Folding merges words, so a word that is a particle in
# one reading and a procedure word in another stays out: "bao" (bao/báo), "sao" (sao/bản sao),
# "do" (đó/đỏ), "khai", "can" (cần/căn), "tu" (từ/tử), "vang" (vâng/vắng), "may" (mấy/máy).
STOPWORDS = frozenset("""
em anh chi toi minh cho a ad admin oi voi cua thi la va hay hoac co khong duoc gi nao nhung cac
mot nay day vay nhe ne di phai lam qua xin giup nhu ra len ve o tai den roi chua da nhieu lau gio
ngay tien phi le thoi gian noi cach u uh ha ah nhi luon tuc gom buoc trinh mau to online truc
tuyen dich vu ai dieu kien bat buoc tren trong sau truoc khi neu ma vi de se kia ay hom nam
thang tuan moi vua xong bi them nua biet hieu ok uy phuong
the what how where when do does is are my i you to of for an get much cost need which who
please it in on at be with from
""".split())

_BIGRAM_BOOST = 1.6
_ALIAS_BONUS = 0.6
_MIN_SCORE = 4.0
_CONFIDENT_SCORE = 9.0

# English words to the Vietnamese the guides are written in; longest first.
_GLOSSARY = [
    ("register my newborn", "dang ky khai sinh"), ("newborn", "khai sinh tre so sinh"),
    ("birth certificate copy", "ban sao trich luc khai sinh"), ("had a baby", "sinh con khai sinh"),
    ("birth", "khai sinh"),
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

# Topics people bring to a one-stop desk that this catalog does not cover. A message on a hard
# topic is out of scope whatever else it says ("mở công ty" is never a household business); on
# a soft topic (often only context: "bản sao giấy khai sinh để nộp hồ sơ vào lớp 1"), only when
# no covered procedure is named outright or matched with confidence.
_OUT_OF_SCOPE_HARD = re.compile(r"\b(" + "|".join([
    r"ho chieu", r"passport", r"visa", r"thi thuc", r"xuat canh", r"bang lai", r"giay phep lai xe",
    r"doi bang", r"cong ty", r"doanh nghiep", r"tnhh", r"co phan", r"thue tncn", r"thue thu nhap",
    r"quyet toan thue", r"ma so thue", r"bhxh mot lan", r"trai tuyen", r"tuyen sinh", r"chuyen truong",
    r"con nuoi", r"di chuc", r"thu tuc ly hon", r"ly hon thuan tinh", r"don ly hon", r"xin ly hon",
    r"that nghiep", r"nghia vu quan su", r"an toan thuc pham", r"dau gia", r"lai suat", r"vay tin chap", r"gia vang",
    r"gia xang", r"thoi tiet", r"xo so", r"chuyen cuoi", r"bong da",
]) + r")\b")
_OUT_OF_SCOPE_SOFT = re.compile(r"\b(luong huu|lop 1|nhap hoc|ngan hang|ly hon)\b")

_HUMAN = re.compile(r"\b(" + "|".join([
    r"so dien thoai", r"hotline", r"duong day nong", r"tong dai", r"so zalo",
    r"gap (can bo|nhan vien|nguoi)", r"noi chuyen (voi|truc tiep)", r"(can bo|nguoi|nhan vien) that",
    r"tu van truc tiep", r"truc tiep tu van", r"(nhan vien|tu van vien) tu van", r"tu van vien",
    r"chuyen (em|minh|toi)? ?(gap|cho|sang)", r"ket noi (voi )?(nhan vien|can bo|tu van|nguoi)",
    r"goi lai (cho )?(toi|em|minh)", r"lien he (voi )?(can bo|bo phan|xa|phuong)",
    r"goi (cho )?(ai|so nao)", r"can bo nao (dang|o day|truc)", r"talk to (a )?(human|person|staff)",
    r"real person", r"phone number", r"contact",
]) + r")\b")

_FEEDBACK = re.compile(r"\b(" + "|".join([
    r"phan anh", r"khieu nai", r"to cao", r"gop y", r"danh gia", r"hai long", r"khen",
    r"buc (minh|qua|xuc)", r"qua buc", r"buc xuc", r"chan qua", r"te qua", r"kem qua", r"sai bet",
    r"thai do", r"kho chiu", r"hach dich", r"nhung nhieu", r"voi tien", r"\d sao", r"tan tinh",
    r"nhiet tinh", r"de hieu", r"tuyet voi", r"on ap", r"lam an kieu gi", r"khong co (can bo|ai) (ngoi )?truc",
    r"(bot|chatbot) .{0,30}(chan|ngu|do|kem|khong hieu|te|sai|hay|tot|nhanh)", r"khong hieu gi",
    r"tra ve .{0,30}(buc|chan|lan)", r"complain", r"helpful", r"great service", r"poor service", r"rude",
]) + r")\b")

_CASE_STRONG = re.compile(r"\b(" + "|".join([
    r"tra cuu (ho so|ket qua|tinh trang)", r"(ho so|ket qua) .{0,40}(den dau|toi dau)",
    r"(xu ly|giai quyet|lam) (den|toi) dau", r"dang o buoc nao", r"o buoc nao",
    r"(duoc|da) duyet chua", r"tinh trang ho so", r"tien do", r"kiem tra (giup|ho) .{0,20}ho so",
    r"ket qua ho so", r"ho so .{0,40}(chua xong|xong chua|chua co ket qua|chua thay ket qua|bi tra lai|co ket qua chua)",
    r"nop (tu|tu hom|tu ngay|tu thang|hon|duoc|tren \w+) .{0,40}(chua|roi|ma)", r"(chua|van chua) (thay|co|nhan duoc) ket qua",
    r"bao gio (thi )?(toi |em |minh )?(lay|nhan) duoc", r"hen tra ket qua", r"co ket qua chua",
    r"van (bao )?dang xu ly", r"case status", r"my application",
]) + r")\b")
_CASE_WEAK = re.compile(
    r"\b(ho so (cua )?(em|minh|toi|tui|to)|(da|vua) nop|nop roi|kiem tra giup|tra giup|bo sung)\b"
)

_MENU = re.compile(r"^(menu|help|start|tro giup|huong dan|danh muc)$|\b(" + "|".join([
    r"danh (sach|muc) (cac )?thu tuc", r"what can (you do|i ask)", r"how does (this|the) (bot|chatbot) work",
    r"(ban|bot|chatbot|em) (co the )?(lam|giup|ho tro) (duoc )?(nhung )?gi",
    r"(thu tuc|cau hoi|giay to|linh vuc) nao (hoi|ho tro|tra loi) duoc", r"(ho tro|hoi duoc) (ve )?(nhung )?(loai )?(thu tuc|giay to|linh vuc) nao",
    r"(nhung|cac) thu tuc (nao|gi) (ban|bot|co the|duoc)", r"(ban|bot) (la gi|lam duoc gi)",
    r"huong dan su dung", r"linh vuc nao",
]) + r")\b")
_HELP = re.compile(r"\b(" + "|".join([
    r"giup (gi|duoc gi)", r"lam duoc gi", r"ho tro (gi|nhung gi)", r"(nhung|cac) thu tuc (nao|gi)",
    r"hoi (duoc )?(nhung )?(gi|thu tuc nao)", r"co nhung thu tuc", r"help",
]) + r")\b")

# Requests about the conversation itself, read before anything else.
_RESET = {"start", "menu", "huy", "huy bo", "bat dau", "help", "tro giup", "quay lai", "thoat", "cancel"}
_TRACK = {"tracuu", "tra cuu"}
_FORGET = re.compile(r"\b(xoa|huy) (het |toan bo )?(du lieu|thong tin) (cua (toi|em|minh)|ca nhan)\b|\bdelete my data\b")
# Kinds of greeting and feedback, for the answer that fits.
_THANKS = re.compile(r"\b(cam on|tam biet|bye|thanks?|hieu roi)\b")
_COMPLAINT = re.compile(
    r"\b(phan anh|khieu nai|to cao|buc|chan|te qua|qua te|kem|kho chiu|hach dich|nhung nhieu|voi tien|cham|sai|khong hieu"
    r"|lam an kieu gi|thai do|tra ve|khong co (can bo|ai)|poor|rude|complain|bad)\b"
)
_PRAISE = re.compile(r"\b(khen|tot|nhanh|nhiet tinh|tan tinh|de hieu|tuyet voi|on ap|hai long|\d sao|helpful|great)\b")
_RATE_WORDS = re.compile(r"\b(danh gia|cham diem)\b")

_GREETING = re.compile(r"\b(" + "|".join([
    r"xin chao", r"chao", r"hi", r"hello", r"helo", r"hey", r"alo", r"cam on", r"tam biet", r"bye",
    r"good (morning|evening|afternoon)", r"ok", r"chuc .{0,20}vui ve", r"hieu roi",
]) + r")\b")

# Aspect cues by strength: 7 an explicit question about that part ("giấy tờ gì", "các bước"),
# 6 a clear topic word ("online", "ở đâu"), lower ones hints. The strongest cue wins; between
# equal cues, the aspect listed first.
_CUE_TABLE: list[tuple[str, int, str]] = [
    ("online", 6, r"online|truc tuyen|qua mang|tren mang|vneid|dich vu cong|dvcqg|cong dich vu|app|ung dung"),
    ("forms", 7, r"mau (don|to khai|giay|so|ct\d+)|to khai (lay|mau|o dau|dien|tai)|dien (the nao|nhu the nao|to khai|mau|don)"
                 r"|tai (mau|to khai)|forms?|ghi (to khai|don) (the nao|nhu the nao)"),
    ("forms", 3, r"to khai|ct0[1-9]"),
    ("fees", 7, r"bao nhieu tien|mat tien|ton tien|het tien|le phi|phi (bao nhieu|tinh|la bao nhieu|nhu the nao|sao)"
                r"|mat phi|co phi|thue phi|how much|cost|fees?|bao nhieu phi|phi gi|phi la|(dong|nop|chiu) (thue|tien|phi)"
                r"|thue (gi|bao nhieu)|tra tien"),
    ("fees", 2, r"phi|mien phi|tien|thue"),
    ("processing_time", 7, r"bao lau|may ngay|bao nhieu ngay (thi|moi) (co|xong|nhan|lay)|lay ngay"
                           r"|phai cho|bao gio (thi )?(co|xong|nhan|lay)|how long|thoi gian (giai quyet|xu ly|cap|lam|tra)"
                           r"|nhanh nhat|trong ngay|lau khong|lau ko|mat bao lau"),
    ("where", 6, r"o dau|cho nao|noi nao|xa nao|phuong nao|co quan nao|where|which office|what office|nop (o|tai|cho)"
                 r"|lam o|(phai|co the|duoc) (ve|len|ra|den) (que|xa|phuong|ubnd|noi|tinh|cong an)( \w+)? (lam|nop|moi)"
                 r"|(ra|len|ve) xa lam|hay (len|ve|ra|o) (ubnd|xa|phuong|noi|van phong|phong|cong an)"
                 r"|noi (cha|me|con|cu tru|dang o|thuong tru) .{0,20}hay"),
    ("where", 5, r"o (xa|phuong|ubnd|uy ban|cong an|van phong|chi nhanh)"),
    ("documents", 7, r"giay (to )?(gi|nao)|can (nhung )?(giay to|gi|nhung gi|mang)|mang (theo )?(gi|nhung gi)"
                     r"|(can|nhung|chuan bi) ho so (gi|nao)|ho so gi|ho so (gom|can|co) .{0,15}(gi|nhung gi)"
                     r"|gom (nhung )?gi|chuan bi|(phai|can) nop (nhung )?(gi|giay|ban)|documents?|papers|bring"
                     r"|what do i need|dung giay gi"),
    ("documents", 3, r"ban goc|ban chinh"),
    ("steps", 7, r"cac buoc|trinh tu|quy trinh|nhung buoc|buoc nao|tung buoc|steps?"),
    ("steps", 4, r"lam the nao|lam sao|lam nhu the nao|how (do|to|can) i|nhu the nao"),
    ("eligibility", 6, r"trong (bao lau|bao nhieu ngay|may ngay|thoi han) .{0,20}phai|thoi han|con kip"
                       r"|bi phat|phat (bao nhieu|khong)|tre han|qua han .{0,10}(co sao|co bi)|co sao (khong)?"
                       r"|dieu kien|ai (duoc|co the)|co duoc (phep )?.{0,60}(khong|chua)|du tuoi|du chuan|du dieu kien"
                       r"|co bat buoc|bat buoc phai|co phai .{0,40}(khong|chua|hay)|co can phai"
                       r"|eligible|who can|deadline|penalty|fined?|late|how many days do i have"),
    ("eligibility", 4, r"co can .{0,40}(khong|chua)|co .{1,50} duoc (khong|chua)"),
    ("eligibility", 2, r"duoc khong|duoc chua|co phai|uy quyen"),
]
_ASPECT_CUES = [(a, w, re.compile(r"\b(" + p + r")\b")) for a, w, p in _CUE_TABLE]
# Phrases that look like an aspect cue but mean something else in context.
_ASPECT_NOISE = re.compile(
    r"\b(ban hang online|kinh doanh online|ban online|thu tuc (gi|the nao|nhu the nao|nao)"
    r"|khong co (giay to|so|giay)|o xa que|mau giao)\b"
)


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
    """Content words, and word pairs: adjacent in the message (one content word is enough, so
    "quá hạn" counts though "quá" alone says nothing) or adjacent once particles are dropped."""
    content = [w for w in words if w not in STOPWORDS]
    feats = set(content)
    feats.update(f"{a} {b}" for a, b in zip(content, content[1:]))
    feats.update(
        f"{a} {b}" for a, b in zip(words, words[1:]) if a not in STOPWORDS or b not in STOPWORDS
    )
    return feats


@dataclass
class _Entry:
    guide: Guide
    weights: dict[str, float] = field(default_factory=dict)
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    spelled: list[str] = field(default_factory=list)
    """Name and aliases of two words or more, normalised, padded with spaces for lookup."""


class Matcher:
    """An index of the catalog for ranking procedures; build once, query many times."""

    def __init__(self, catalog: Catalog, code_pattern: str = codes.DEFAULT_PATTERN):
        self.code_pattern = code_pattern
        self._entries: list[_Entry] = []
        lists: dict[str, tuple[list[int], list[float]]] = {}
        for i, guide in enumerate(catalog.guides.values()):
            entry = _Entry(guide)
            for phrase in (guide.name, *guide.aliases):
                words = normalize(phrase).split()
                if len(words) >= 2:
                    entry.spelled.append(f" {' '.join(words)} ")
                content = tuple(w for w in words if w not in STOPWORDS)
                if content:
                    entry.phrases.append(content)
                entry.weights.update(dict.fromkeys(_features(words), 1.0))
            counts: dict[str, int] = {}
            for question in guide.questions:
                for f in _features(normalize(question).split()):
                    counts[f] = counts.get(f, 0) + 1
            weights = entry.weights
            for f, n in counts.items():
                weights[f] = max(weights.get(f, 0.0), min(0.9, 0.3 + 0.2 * n))
            for f, w in weights.items():
                ids, ws = lists.setdefault(f, ([], []))
                ids.append(i)
                ws.append(w)
            self._entries.append(entry)
        self._by_id = {e.guide.id: e for e in self._entries}
        n = max(1, len(self._entries))
        self._idf = {f: math.log(1 + n / len(ids)) for f, (ids, _) in lists.items()}
        # Per word or pair: the guides that have it and their weights; made into arrays of what
        # it adds to each guide's score the first time a message uses it, so ranking a province's
        # 2,000 guides is a few vector additions and start-up builds no array nobody asks for.
        self._lists = lists
        self._postings: dict[str, tuple[np.ndarray, np.ndarray, bool]] = {}
        self._vocab = sorted({w for f in self._idf for w in f.split()} | STOPWORDS)
        self._vocab_set = frozenset(self._vocab)
        self._corrections: dict[str, str] = {}

    def _correct(self, word: str) -> str:
        """A misspelt word mapped to the nearest one the catalog knows ("thuog" -> "thuong").

        Only words that cannot be Vietnamese syllables are corrected: a real word the catalog
        does not use ("chào", "vui") must not be bent into one it does ("cao", "vi").
        """
        if word in self._vocab_set or len(word) < 3 or not word.isalpha() or SYLLABLE.match(word):
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

    def _posting(self, f: str) -> tuple[np.ndarray, np.ndarray, bool] | None:
        found = self._lists.get(f)
        if found is None:
            return None
        ids, ws = found
        pair = " " in f
        evidence = pair and not any(w in STOPWORDS for w in f.split())
        posting = (np.array(ids, dtype=np.int32),
                   np.array(ws) * self._idf[f] * (_BIGRAM_BOOST if pair else 1.0), evidence)
        self._postings[f] = posting
        return posting

    def rank(self, words: list[str]) -> list[tuple[float, Guide]]:
        """Guides by score, best first; only guides that share something with the message."""
        scores = np.zeros(len(self._entries))
        paired = np.zeros(len(self._entries), dtype=bool)
        for f in _features(words):
            posting = self._postings.get(f) or self._posting(f)
            if posting is None:
                continue
            ids, adds, evidence = posting
            scores[ids] += adds
            if evidence:
                paired[ids] = True
        # A single shared word is no evidence ("cảm ơn" is not "cam kết"): a guide must share a
        # pair of content words with the message to be ranked.
        scores[~paired] = 0.0
        candidates = np.flatnonzero(scores)
        if not len(candidates):
            return []
        if len(candidates) > 12:
            candidates = candidates[np.argpartition(-scores[candidates], 12)[:12]]
        content = [w for w in words if w not in STOPWORDS]
        present = set(content)
        total = {
            int(i): float(scores[i]) + max(
                (self._phrase_bonus(p, content, present) for p in self._entries[i].phrases),
                default=0.0,
            )
            for i in candidates
        }
        ranked = sorted(total, key=lambda i: (-total[i], i))
        return [(total[i], self._entries[i].guide) for i in ranked]

    def _phrase_bonus(self, phrase: tuple[str, ...], content: list[str], present: set[str]) -> float:
        """Credit for an alias, by how much of it (weighted by rarity) the message contains.

        A whole alias in order, a few words apart at most ("chưa từng có giấy khai sinh"), earns
        the most and more the longer it is; a partial one earns by the square of its coverage,
        so "khai sinh" leans to "đăng ký khai sinh" (missing only common words) rather than to
        "khai sinh quá hạn" (missing the word that makes it specific).
        """
        weights = [self._idf.get(w, 0.0) for w in phrase]
        total = sum(weights)
        found = sum(w for word, w in zip(phrase, weights) if word in present)
        if not total or not found:
            return 0.0
        if found < total:
            return _ALIAS_BONUS * found * (found / total) ** 2
        pos = 0
        for word in phrase:
            try:
                nxt = content.index(word, pos)
            except ValueError:
                return _ALIAS_BONUS * found
            if pos and nxt - pos > 2:
                return _ALIAS_BONUS * found
            pos = nxt + 1
        return _ALIAS_BONUS * total * (1 + 0.15 * len(phrase))

    def read(self, text: str) -> Reading:
        """The one normalisation of a turn, and the requests that bypass understanding."""
        english = looks_english(text)
        code = codes.find(text, self.code_pattern)
        raw = text.lower()
        if english:
            for en, vi in _GLOSSARY:
                raw = raw.replace(en, f" {vi} ")
        norm = normalize(raw, telex=not english)
        command = None
        if norm.lstrip("/") in _RESET or text.startswith("/start"):
            command = "reset"
        elif _FORGET.search(norm):
            command = "forget"
        elif norm in _TRACK:
            command = "track"
        return Reading(text, norm, english, code, command)

    def understand(self, message: str | Reading) -> Understanding:
        """Everything the dialog needs to know about one message."""
        reading = message if isinstance(message, Reading) else self.read(message)
        english, typed = reading.english, reading.norm
        if reading.case_code:
            return Understanding("case_status", confidence=0.98, english=english, case_code=reading.case_code)
        if not typed:
            return Understanding("unknown", english=english)
        # Rules read what was typed; only ranking sees spelling corrections, which know the
        # catalog's words but not the words of greetings or complaints.
        if _HUMAN.search(typed):
            return Understanding("human", confidence=0.9, english=english)
        if _FEEDBACK.search(typed):
            return Understanding("feedback", confidence=0.9, english=english, kind=feedback_kind(typed))
        if _MENU.search(typed):
            return Understanding("help", confidence=0.9, english=english)
        if _CASE_STRONG.search(typed) or len(_CASE_WEAK.findall(typed)) >= 2:
            return Understanding("case_status", confidence=0.85, english=english)
        words = [self._correct(w) for w in typed.split()]
        ranked = self.rank(words)
        best = ranked[0][0] if ranked else 0.0
        if best < _MIN_SCORE:
            if _HELP.search(typed):
                return Understanding("help", confidence=0.85, english=english)
            if _GREETING.search(typed) and len(words) <= 12:
                return Understanding("greeting", confidence=0.9, english=english,
                                     kind="thanks" if _THANKS.search(typed) else None)
            return Understanding("unknown", confidence=0.8, english=english)
        if _OUT_OF_SCOPE_HARD.search(typed) or (
            _OUT_OF_SCOPE_SOFT.search(typed) and best < 2 * _CONFIDENT_SCORE
            and not self._names_outright(ranked[0][1].id, words)
        ):
            return Understanding("unknown", confidence=0.7, english=english)
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        confidence = _confidence(best, second)
        alternatives = tuple(g.id for s, g in ranked[1:4] if s >= max(_MIN_SCORE, best * 0.5))
        return Understanding(
            "procedure", ranked[0][1].id, detect_aspect(typed), confidence, alternatives, english,
        )

    def _names_outright(self, guide_id: str, words: list[str]) -> bool:
        """Whether the message contains one of the guide's aliases word for word."""
        joined = f" {' '.join(words)} "
        return any(alias in joined for alias in self._by_id[guide_id].spelled)


def feedback_kind(norm: str) -> str:
    """What feedback is about: asking to rate a case, a complaint (handled as one), praise, or other."""
    if _RATE_WORDS.search(norm):
        return "rate"
    return "complaint" if _COMPLAINT.search(norm) else "praise" if _PRAISE.search(norm) else "other"


def _confidence(best: float, second: float) -> float:
    """High when the best guide scores well and clearly above the runner-up."""
    strength = min(1.0, best / _CONFIDENT_SCORE)
    margin = (best - second) / best if best else 0.0
    return round(max(0.0, min(1.0, 0.35 * strength + 0.65 * min(1.0, margin * 2.5))), 3)
