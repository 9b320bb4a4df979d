"""Understanding a citizen's message in its conversation: intent, procedure, aspect, confidence.

Pure and fast (no I/O), so it is property-tested and benchmarked on its own. The learned model
(`bot.classifier`) says what a message is; the alias ranking here (words and word pairs shared
with each guide's name, aliases and sample questions, weighted by rarity, with a bonus for an
alias typed in full) adds what it knows about names. The conversation decides the rest: a
message that names no procedure asks about the one in view, or about the case just looked up,
or stays out of scope after an out-of-scope question. Rules remain only for what is structural
(case codes, the requests about the conversation itself, the aspect cue phrases) and for
telling a thank-you from a hello or a complaint from praise, which choose the reply's words.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot import codes
from bot.catalog import Catalog, Guide
from bot.classifier import ASK, NO_ASPECT, PROCEDURE, Model, focus, names_procedure, naming_terms
from bot.elsewhere import Directory, load_agencies
from bot.text import SYLLABLE, normalize, spelling


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
    """Within an intent: "thanks" or "ack" for a greeting; "complaint", "praise", "rate" or "other" for feedback."""
    follow_up: bool = False
    """The message named no procedure and was taken as a question about the one in view."""
    letter: bool = False
    """A long message with nothing in view, often a story before the question."""


@dataclass(frozen=True)
class Context:
    """What the conversation has in view when a message arrives."""

    procedure: str | None = None
    aspect: str | None = None
    off_topic: bool = False
    """The last question was one the bot does not cover: its follow-ups are not about a procedure."""
    case: bool = False
    """The conversation is about the citizen's own case: "bao giờ xong" asks about it."""


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

_GUESS_BELOW = 0.25
"""A procedure the model gives less than this, with no name of it in the message, is no guess at all."""
_LETTER_WORDS = 40
"""Words from which a message with nothing in view is a letter: a story around the question."""
_UNSURE_UNKNOWN = 0.55
"""A letter naming a procedure of ours that the model takes for out of scope less surely than
this is offered the closest procedures rather than refused."""
_ALTERNATIVE_ABOVE = 0.08
_LEAN_ABOVE = 0.15
_LEAN_SHARE = 0.6
_OFFER_MASS = 0.5
"""A bare question whose procedure share leans this much to one procedure is about it, unsurely;
one whose share is mostly procedures, spread over several, is offered the closest few."""
_ALIAS_CREDIT = 0.3
_SWITCH_UNNAMED = 0.5
_INTENT_SURE = 0.4
"""Below this, a message that names no procedure and asks nothing the model can place is taken
as being about the procedure in view."""
_IN_VIEW_WEIGHT = 4.0
_QUESTION_CUE = 7
_EXPLICIT_CUE = 6
_ASPECT_SURE = 0.5
_MODEL_ASPECT_SURE = 0.6
_REFERS_BACK = re.compile(
    r"\b(the|giay|thu tuc|ho so|cai|viec|vu|so|don|to khai|ban|chung nhan|tro cap|khoan|tien|muc)( \w+)?"
    r" (nay|do|ay|kia)\b"
)
""""Thẻ này", "giấy đó": a message that points back at what was just answered is about it."""
_RESIDENCE_AT = re.compile(
    r"(?<!dang ky )(?<!nhap )(?<!chuyen )(?<!lam )(?<!xin )(?<!khai bao )"
    r"\b(thuong tru|tam tru|ho khau|hk) (o|tai) (?!(dau|nao|cho nao|noi nao)\b)"
)
""""Tôi có tạm trú ở Cần Thơ": where the citizen lives, said while asking about something else."""
_AGAIN = re.compile(r"\b(the con|con (cho )?\w+( \w+)? (thi|the) sao|thi sao|what about)\b")
""""Thế còn vợ em thì sao": the question just answered, asked again for someone else."""
_TOGETHER = re.compile(
    r"\b(chung voi|cung voi|cung luc|cung mot luc|kem (theo|luon)?|luon ca|ca hai|mot lan|lien thong)\b"
)
""""Làm chung với thẻ BHYT": the procedure in view and another, done together as one bundle."""
_CORRECTION = re.compile(r"\b(y (em|toi|minh|tui|anh|chi|con|chau) la|nham|nhon|khong phai .{0,40}ma|i mean)\b")
""""À nhầm, ý em là tạm trú": the same question about the procedure meant."""

_BIGRAM_BOOST = 1.6
_ALIAS_BONUS = 0.6
_MIN_SCORE = 4.0

# Requests about the conversation itself, read before anything else.
_RESET = {"start", "menu", "huy", "huy bo", "bat dau", "help", "tro giup", "quay lai", "thoat", "cancel"}
_TRACK = {"tracuu", "tra cuu"}
_FORGET = re.compile(
    r"\b(xoa|huy) (het |toan bo )?(du lieu|thong tin) (cua (toi|em|minh)|ca nhan)\b|\bdelete my data\b"
)
# Kinds of greeting and feedback, for the answer that fits.
_THANKS = re.compile(r"\b(cam on|tam biet|bye|thanks?|hieu roi)\b")
_COMPLAINT = re.compile(
    r"\b(phan anh|khieu nai|to cao|buc|chan|te qua|qua te|kem|kho chiu|hach dich|nhung nhieu|voi tien|cham|sai"
    r"|khong hieu"
    r"|lam an kieu gi|thai do|tra ve|khong co (can bo|ai)|poor|rude|complain|bad)\b"
)
_PRAISE = re.compile(r"\b(khen|tot|nhanh|nhiet tinh|tan tinh|de hieu|tuyet voi|on ap|hai long|\d sao|helpful|great)\b")
_ACKNOWLEDGE = re.compile(
    r"^((ok|oke|okay|okie|okela|uh|uhm|um|u|vang|da|roi|duoc|duoc roi|a|nhe|nha|hieu|biet|biet roi|vay|the)\s*)+$"
)
""""Dạ vâng", "ok ạ", "được rồi": the citizen heard the answer; a greeting of its own kind, never a request."""
_RATE_WORDS = re.compile(r"\b(danh gia|cham diem)\b")

# Aspect cues by strength: 7 an explicit question about that part ("giấy tờ gì", "các bước"),
# 6 a clear topic word ("online", "ở đâu"), lower ones hints. The strongest cue wins; between
# equal cues, the aspect listed first.
_CUE_TABLE: list[tuple[str, int, str]] = [
    ("online", 6, r"online|truc tuyen|qua mang|tren mang|vneid|dich vu cong|dvcqg|cong dich vu|app|ung dung"),
    ("forms", 7, r"mau (don|to khai|giay|so|ct\d+)|to khai (lay|mau|o dau|dien|tai)"
                 r"|dien (the nao|nhu the nao|to khai|mau|don)"
                 r"|tai (mau|to khai)|forms?|ghi (to khai|don) (the nao|nhu the nao)"),
    ("forms", 3, r"to khai|ct0[1-9]"),
    ("fees", 7, r"bao nhieu tien|mat tien|ton tien|het tien|le phi|phi (bao nhieu|tinh|la bao nhieu|nhu the nao|sao)"
                r"|mat phi|co phi|thue phi|how much|cost|fees?|bao nhieu phi|phi gi|phi la"
                r"|(dong|nop|chiu) (thue|tien|phi)"
                r"|thue (gi|bao nhieu)|tra tien|(thu|het|mat|ton)( cua \w+)? (bao )?nhieu( tien)?"),
    ("fees", 6, r"nha nuoc (cho|chi tra|tra|ho tro)|phai dong( tien| phi)?|mien phi (khong|ko|k|a|ha)|free"),
    ("fees", 2, r"phi|mien phi|tien|thue"),
    ("processing_time", 7, r"bao lau|may ngay|bao nhieu ngay (thi|moi) (co|xong|nhan|lay)|lay ngay"
                           r"|phai cho|bao gio (thi )?(co|xong|nhan|lay)|how long"
                           r"|thoi gian (giai quyet|xu ly|cap|lam|tra)"
                           r"|nhanh nhat|trong ngay|lau khong|lau ko|mat bao lau"
                           r"|khi nao (thi )?(\w+ )?(hop|xet|co ket qua|xong|duyet|nhan|tra|lay)"),
    ("where", 6, r"o dau|cho nao|noi nao|xa nao|phuong nao|co quan nao|where|which office|what office|nop (o|tai|cho)"
                 r"|lam o|(phai|co the|duoc) (ve|len|ra|den) (que|xa|phuong|ubnd|noi|tinh|cong an)( \w+)? (lam|nop|moi)"
                 r"|(ra|len|ve) xa lam|hay (len|ve|ra|o) (ubnd|xa|phuong|noi|van phong|phong|cong an)"
                 r"|noi (cha|me|con|cu tru|dang o|thuong tru) .{0,20}hay"),
    ("where", 6, r"(nop|gui|dua|giao|gap) (\w+ ){0,2}(cho )?(ai|bo phan nao|phong nao|can bo nao)|bo phan nao"),
    ("where", 5, r"o (xa|phuong|ubnd|uy ban|cong an|van phong|chi nhanh)"),
    ("documents", 7, r"giay (to )?(gi|nao)|can (nhung )?(giay to|gi|nhung gi|mang)|mang (theo )?(gi|nhung gi)"
                     r"|(can|nhung|chuan bi) ho so (gi|nao)|ho so gi|ho so (gom|can|co) .{0,15}(gi|nhung gi)"
                     r"|gom (nhung )?gi|chuan bi|(phai|can) nop (nhung )?(gi|giay|ban)|documents?|papers|bring"
                     r"|what do i need|dung giay gi"),
    ("documents", 3, r"ban goc|ban chinh"),
    ("steps", 7, r"cac buoc|trinh tu|quy trinh|nhung buoc|buoc nao|tung buoc|steps?"),
    ("steps", 4, r"lam the nao|lam sao|lam nhu the nao|how (do|to|can) i|nhu the nao"),
    # the citizen's own deadline, and lateness: above "bao lâu" (how long the office takes)
    ("eligibility", 8, r"(bao lau|may ngay|bao nhieu ngay|thoi han|han) (thi |la )?(phai|bat buoc)"
                       r"|(phai|bat buoc) .{0,30}trong (vong )?(bao lau|may ngay|bao nhieu ngay)"
                       r"|(qua|tre|muon|cham) (han|\d+ (ngay|thang|nam)).{0,25}(co sao|bi phat|co bi|phat|duoc khong)"),
    ("eligibility", 6, r"do i (need|have) to (register|dang ky|declare|apply|get|do|report)"
                       r"|trong (bao lau|bao nhieu ngay|may ngay|thoi han) .{0,20}phai|thoi han|con kip"
                       r"|bi phat|phat (bao nhieu|khong)|tre han|qua han .{0,10}(co sao|co bi)|co sao (khong)?"
                       r"|dieu kien|ai (duoc|co the)|co duoc (phep )?.{0,60}(khong|chua)|du tuoi|du chuan|du dieu kien"
                       r"|co bat buoc|bat buoc phai|co phai .{0,40}(khong|chua|hay)|co can phai"
                       r"|eligible|who can|deadline|penalty|fined?|late|how many days do i have"),
    ("legal_basis", 7, r"can cu (phap ly|phap luat|nao)"
                       r"|(theo|o|tai) (luat|quy dinh|van ban|nghi dinh|thong tu|dieu) nao"
                       r"|(van ban|nghi dinh|thong tu|luat) (phap luat |phap ly )?nao (quy dinh|noi)|legal basis"
                       r"|which (law|decree)"),
    ("eligibility", 4, r"co can .{0,40}(khong|chua)|co .{1,50} duoc (khong|chua)"),
    ("eligibility", 2, r"duoc khong|duoc chua|co phai|uy quyen"),
]
_ASPECT_CUES = [(a, w, re.compile(r"\b(" + p + r")\b")) for a, w, p in _CUE_TABLE]
# Phrases that look like an aspect cue but mean something else in context.
_ASPECT_NOISE = re.compile(
    r"\b(ban hang online|kinh doanh online|ban online|thu tuc (gi|the nao|nhu the nao|nao)"
    r"|khong co (giay to|so|giay)|o xa que|mau giao)\b"
)


def strongest_cue(norm: str) -> tuple[str | None, int]:
    """The aspect a message asks by its cue phrases, and the cue's strength: of the explicit
    questions ("ở cơ quan nào…, giấy tờ gì"), the one asked first; otherwise the strongest hint."""
    norm = _ASPECT_NOISE.sub(" ", norm)
    found: list[tuple[int, int, int, str]] = []
    for order, (aspect, weight, pattern) in enumerate(_ASPECT_CUES):
        match = pattern.search(norm)
        if match:
            found.append((weight, match.start(), order, aspect))
    if not found:
        return None, 0
    explicit = [f for f in found if f[0] >= _EXPLICIT_CUE]
    if explicit:
        weight, _, _, aspect = min(explicit, key=lambda f: (f[1], -f[0], f[2]))
    else:
        weight, _, _, aspect = min(found, key=lambda f: (-f[0], f[2]))
    return aspect, weight



def _features(words: list[str]) -> set[str]:
    """Content words, and word pairs: adjacent in the message (one content word is enough, so
    "quá hạn" counts though "quá" alone says nothing) or adjacent once particles are dropped."""
    content = [w for w in words if w not in STOPWORDS]
    feats = set(content)
    feats.update(f"{a} {b}" for a, b in itertools.pairwise(content))
    feats.update(
        f"{a} {b}" for a, b in itertools.pairwise(words) if a not in STOPWORDS or b not in STOPWORDS
    )
    return feats


@dataclass
class _Entry:
    guide: Guide
    weights: dict[str, float] = field(default_factory=dict)
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    spelled: list[str] = field(default_factory=list)
    """Name and aliases of two words or more, normalised, padded with spaces for lookup."""
    names: str = ""
    """All of `spelled` in one string: whether a naming term or another guide's alias lies
    within this guide's own names is one substring test."""


class Matcher:
    """An index of the catalog for ranking procedures; build once, query many times."""

    def __init__(self, catalog: Catalog, model: Model, code_pattern: str = codes.DEFAULT_PATTERN,
                 elsewhere: Directory | None = None):
        self.model = model
        self.code_pattern = code_pattern
        self.elsewhere = elsewhere or Directory(load_agencies())
        """Topics other agencies handle: a question about one is not a follow-up of ours."""
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
        for e in self._entries:
            e.names = "|".join(e.spelled)
        # names and aliases by their first word: a message is checked only against the phrases
        # that start with one of its words, not against every alias of every guide
        self._by_first: dict[str, list[tuple[str, str]]] = {}
        for e in self._entries:
            for a in e.spelled:
                self._by_first.setdefault(a.split()[0], []).append((a, e.guide.id))
        n = max(1, len(self._entries))
        self._idf = {f: math.log(1 + n / len(ids)) for f, (ids, _) in lists.items()}
        # each alias with its words' rarity, weighed once here rather than for every message
        self._weighted = [
            [(p, ws, sum(ws)) for p in e.phrases for ws in [tuple(self._idf.get(w, 0.0) for w in p)] if sum(ws)]
            for e in self._entries
        ]
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
                (_phrase_bonus(p, ws, total, content, present) for p, ws, total in self._weighted[i]),
                default=0.0,
            )
            for i in candidates
        }
        ranked = sorted(total, key=lambda i: (-total[i], i))
        return [(total[i], self._entries[i].guide) for i in ranked]

    def read(self, text: str) -> Reading:
        """The one normalisation of a turn, and the requests that bypass understanding."""
        norm, english = spelling(text)
        code = codes.find(text, self.code_pattern)
        command = None
        if norm.lstrip("/") in _RESET or text.startswith("/start"):
            command = "reset"
        elif _FORGET.search(norm):
            command = "forget"
        elif norm in _TRACK:
            command = "track"
        return Reading(text, norm, english, code, command)

    def understand(self, message: str | Reading, context: Context | None = None) -> Understanding:
        """Everything the dialog needs to know about one message, in the conversation so far."""
        reading = message if isinstance(message, Reading) else self.read(message)
        english, typed = reading.english, reading.norm
        context = context or Context()
        if reading.case_code:
            return Understanding("case_status", confidence=0.98, english=english, case_code=reading.case_code)
        if not typed:
            return Understanding("unknown", english=english)
        if _ACKNOWLEDGE.match(typed):
            return Understanding("greeting", confidence=1.0, english=english, kind="ack")
        in_view = context.procedure if context.procedure in self._by_id else None
        text = reading.text
        if in_view and _RESIDENCE_AT.search(typed):
            # the place the citizen lives names no procedure they ask about
            typed = text = _RESIDENCE_AT.sub(r"song \2 ", typed)
        labels, aspects = self.model.predict(typed, text, focus(text))
        heard = labels
        """What the model alone heard, before credit to the names the alias ranking found."""
        words = [self._correct(w) for w in typed.split()]
        spelled = self._spelled(words)
        named = names_procedure(text, typed) or bool(spelled)
        """Whether the message itself names a procedure; without that, context decides."""
        terms = naming_terms(typed) if in_view else []
        generic = bool(named and in_view and self._names_only(in_view, words, terms))
        if generic:
            # the name shared with the procedure in view is no evidence for its neighbours
            named, spelled = False, []
        else:
            labels = _credit(labels, {PROCEDURE + gid: 1.0 for gid in spelled} or self._ranked_shares(words))
        top, p = labels[0]
        # a topic other agencies handle, heard as such by the model (even when a shared word
        # makes it hesitate), is not made one of ours by that word ("hộ chiếu lần đầu" is no
        # "sổ đỏ lần đầu")
        if not (named or in_view) and self._elsewhere("unknown", dict(heard).get("unknown", 0.0), typed):
            return Understanding("unknown", confidence=round(heard[0][1], 3), english=english)
        cue, strength = strongest_cue(typed)
        aspect = self._aspect(cue, strength, aspects)
        again = bool(_AGAIN.search(typed))
        if in_view and (again or _CORRECTION.search(typed)) and strength < _EXPLICIT_CUE:
            # "thế còn cho vợ em", "ý em là tạm trú": the question just answered, asked again
            aspect = context.aspect
        procedures = _procedures(labels)
        if in_view and procedures:
            bundled = self._bundle(in_view, procedures[0][0], " ".join(words))
            if bundled:
                return Understanding("procedure", bundled, aspect, round(procedures[0][1], 3), english=english,
                                     follow_up=bundled == in_view)
        if not named or (top == ASK and not spelled):
            # nothing in the message says which procedure (a generic word such as "xin phép" is
            # not enough when the model hears a bare question): the conversation decides
            asks = top == ASK or top.startswith(PROCEDURE)
            if context.off_topic and asks and not in_view:
                return Understanding("unknown", confidence=round(p, 3), english=english)
            if context.case and top in (ASK, "case_status"):
                return Understanding("case_status", confidence=round(p, 3), english=english)
            if in_view and not context.case and not self._elsewhere(top, p, typed):
                other, q = next(((pid, q) for pid, q in procedures if pid != in_view), ("", 0.0))
                switch = q >= _SWITCH_UNNAMED
                if switch and generic and self._has_terms(other, terms):
                    # the neighbour shares the name too ("chứng thực"), so the model may prefer it
                    # for that name alone: the rest of the message must point at it ("4 tuổi chưa
                    # làm khai sinh" does, "xong thì lấy ở đâu" does not)
                    rest = self._without(terms, typed)
                    q_rest = rest.get(PROCEDURE + other, 0.0)
                    switch = q_rest >= _LEAN_ABOVE and q_rest >= rest.get(PROCEDURE + in_view, 0.0) * _IN_VIEW_WEIGHT
                if switch:
                    # the situation, not a name, points elsewhere ("bé đã 3 tháng" after khai sinh)
                    return Understanding("procedure", other, aspect, round(q, 3), english=english)
                thanks = top == "greeting" and bool(_THANKS.search(typed))
                # a model's aspect guess alone does not make a confident request ("cho tôi gặp
                # người thật") a question about the procedure; a cue phrase or a pointer back does
                sure_other = top not in (ASK, "unknown") and p >= _INTENT_SURE
                hinted = aspect is not None and (not sure_other or strength >= _EXPLICIT_CUE)
                if not thanks and (asks or hinted or again or p < _INTENT_SURE or _REFERS_BACK.search(typed)):
                    return Understanding("procedure", in_view, aspect, round(p, 3),
                                         english=english, follow_up=True)
        elif in_view and procedures and procedures[0][0] != in_view:
            # a name shared by neighbours ("chứng thực") stays with the one in view unless the
            # message clearly points at another
            mine = dict(procedures).get(in_view, 0.0)
            if mine * _IN_VIEW_WEIGHT >= procedures[0][1]:
                return Understanding("procedure", in_view, aspect, round(mine, 3), english=english, follow_up=True)
        letter = len(words) >= _LETTER_WORDS and not in_view
        if top == ASK or (top.startswith(PROCEDURE) and p < _GUESS_BELOW and not named):
            # a bare question with nothing in view: a situation that points mostly at one procedure
            # ("mất giấy chứng sinh thì sao"), or at a few, is offered with its neighbours; else the menu
            leaning = _procedures(heard)
            mass = sum(q for _, q in leaning)
            if leaning[0][1] >= _LEAN_ABOVE and (leaning[0][1] >= _LEAN_SHARE * mass or mass >= _OFFER_MASS):
                return _guess(leaning, aspect, english)
            if top == ASK and not letter:
                return Understanding("help", confidence=round(p, 3), english=english)
        if letter and (top in (ASK, "help") or (top == "unknown" and named and p < _UNSURE_UNKNOWN)):
            # a long letter is no request for the menu, and one that names a procedure of ours
            # which the model only half takes for out of scope (a story around the question, a
            # lawyer addressed) is not refused: the closest procedures are offered and the
            # citizen chooses; with none close, the desk's contact
            if procedures and procedures[0][1] >= _ALTERNATIVE_ABOVE:
                return _guess(procedures, aspect, english)
            return Understanding("unknown", confidence=round(p, 3), english=english)
        if not top.startswith(PROCEDURE):
            return self._intent(top, p, typed, english)
        if p < _GUESS_BELOW and not named:
            return Understanding("unknown", confidence=round(1 - p, 3), english=english)
        return _guess(procedures, aspect, english, letter=letter)

    def _intent(self, intent: str, p: float, typed: str, english: bool) -> Understanding:
        kind = None
        if intent == "feedback":
            kind = feedback_kind(typed)
        elif intent == "greeting" and _THANKS.search(typed):
            kind = "thanks"
        return Understanding(intent, confidence=round(p, 3), english=english, kind=kind)

    def _aspect(self, cue: str | None, weight: int, aspects: list[tuple[str, float]]) -> str | None:
        """An explicit cue ("giấy tờ gì", "ở đâu") wins; otherwise the model's guess when it is sure."""
        best, q = aspects[0]
        if cue and weight >= _QUESTION_CUE:
            return cue
        if q >= _MODEL_ASPECT_SURE:
            return None if best == NO_ASPECT else best
        if cue and weight >= _EXPLICIT_CUE:
            return cue
        if q >= _ASPECT_SURE:
            return None if best == NO_ASPECT else best
        return cue

    def _bundle(self, in_view: str, top: str, corrected: str) -> str | None:
        """The bundle a message about `top` belongs to: the one in view when it includes `top`
        ("bé nhập khẩu theo bố…" during a joint birth registration), or the one that includes both
        when the citizen asks to do them together ("làm chung với thẻ BHYT")."""
        if top == in_view:
            return None
        if top in self._by_id[in_view].guide.includes:
            return in_view
        if _TOGETHER.search(corrected):
            return next((e.guide.id for e in self._entries if {in_view, top} <= set(e.guide.includes)), None)
        return None

    def _without(self, terms: list[str], typed: str) -> dict[str, float]:
        """The model's labels for the message with the given names taken out."""
        rest = re.sub(r"\b(" + "|".join(map(re.escape, terms)) + r")\b", " ", typed)
        rest = " ".join(rest.split())
        return dict(self.model.predict(rest, rest)[0]) if rest else {}

    def _phrases_in(self, words: list[str]) -> list[tuple[str, str]]:
        """The names and aliases (of two words or more) the message contains word for word, with their guide."""
        joined = f" {' '.join(words)} "
        return [(a, gid) for w in dict.fromkeys(words) for a, gid in self._by_first.get(w, ()) if a in joined]

    def _elsewhere(self, label: str, p: float, typed: str) -> bool:
        """Whether the model is fairly sure a message is out of scope and it names a topic
        another agency handles (passport, visa): then no shared word makes it one of ours."""
        return label == "unknown" and p >= _INTENT_SURE and self.elsewhere.find(typed) is not None

    def _has_terms(self, guide_id: str, terms: list[str]) -> bool:
        own = self._by_id[guide_id].names
        return all(f" {t} " in own for t in terms)

    def _names_only(self, in_view: str, words: list[str], terms: list[str]) -> bool:
        """Whether every name the message uses is part of the name of the procedure in view:
        "chứng thực" after a contract question is that contract's chứng thực, not a copy's."""
        own = self._by_id[in_view].names
        others = [a for a, gid in self._phrases_in(words) if gid != in_view]
        return bool(terms or others) and self._has_terms(in_view, terms) and all(a in own for a in others)

    def _ranked_shares(self, words: list[str]) -> dict[str, float]:
        """The alias ranking's guides that clear its threshold, by score."""
        return {PROCEDURE + g.id: score for score, g in self.rank(words)[:3] if score >= _MIN_SCORE}

    def _spelled(self, words: list[str]) -> list[str]:
        """The guides whose name or alias the message contains word for word, the most specific
        only ("khai sinh quá hạn" is not also "khai sinh")."""
        found: dict[str, int] = {}
        for a, gid in self._phrases_in(words):
            found[gid] = max(found.get(gid, 0), len(a))
        longest = max(found.values(), default=0)
        return [gid for gid, length in found.items() if length == longest]


def _phrase_bonus(phrase: tuple[str, ...], weights: tuple[float, ...], total: float, content: list[str],
              present: set[str]) -> float:
    """Credit for an alias, by how much of it (weighted by rarity) the message contains.

    A whole alias in order, a few words apart at most ("chưa từng có giấy khai sinh"), earns
    the most and more the longer it is; a partial one earns by the square of its coverage,
    so "khai sinh" leans to "đăng ký khai sinh" (missing only common words) rather than to
    "khai sinh quá hạn" (missing the word that makes it specific).
    """
    found = sum(w for word, w in zip(phrase, weights, strict=True) if word in present)
    if not found:
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


def _procedures(labels: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The guides among the labels, by id, in the labels' order."""
    return [(label[len(PROCEDURE):], q) for label, q in labels if label.startswith(PROCEDURE)]


def _guess(procedures: list[tuple[str, float]], aspect: str | None, english: bool, *,
           letter: bool = False) -> Understanding:
    """The likeliest procedure, with up to two neighbours the model gives some weight to: what
    the dialog answers, or offers as choices when the guess is unsure."""
    (best, q), *rest = procedures
    alternatives = tuple(pid for pid, r in rest[:2] if r >= _ALTERNATIVE_ABOVE)
    return Understanding("procedure", best, aspect, round(q, 3), alternatives, english, letter=letter)


def _credit(labels: list[tuple[str, float]], shares: dict[str, float]) -> list[tuple[str, float]]:
    """The model's probabilities with credit to the guides the message names: a name or alias
    typed in full (or, short of that, the alias ranking's best guides) is evidence the model
    sees only as n-grams among others."""
    if not shares:
        return labels
    total_share = sum(shares.values())
    boosted = [(label, q + _ALIAS_CREDIT * shares.get(label, 0.0) / total_share) for label, q in labels]
    total = sum(q for _, q in boosted)
    return sorted(((label, q / total) for label, q in boosted), key=lambda x: -x[1])


def feedback_kind(norm: str) -> str:
    """What feedback is about: asking to rate a case, a complaint (handled as one), praise, or other."""
    if _RATE_WORDS.search(norm):
        return "rate"
    return "complaint" if _COMPLAINT.search(norm) else "praise" if _PRAISE.search(norm) else "other"
