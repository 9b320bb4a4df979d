"""Who handles what this desk does not: the way forward for an out-of-scope question.

"Mình chưa hỗ trợ" alone leaves a citizen where they started. For the procedures a commune desk
is most often asked about but does not handle (passports, driving licences, companies, social
insurance…) and for disputes and legal advice, the answer names the agency that does, from a
data file officers can correct (bot/lexicon/agencies.yaml). Entries marked `check` are said to
be worth checking, because the agency changed recently or the fact is not certain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from bot.text import normalize


@dataclass(frozen=True)
class Agency:
    topic: str
    agency: str
    certain: bool
    keywords: tuple[str, ...]


class AgencyError(ValueError):
    """A broken agencies file, naming the file, the entry and the field."""


def default_path() -> Path:
    return Path(str(resources.files("bot") / "lexicon" / "agencies.yaml"))


def load_agencies(path: Path | None = None) -> list[Agency]:
    path = path or default_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AgencyError(f"{path}: {exc}") from None
    if not isinstance(data, list):
        raise AgencyError(f"{path}: expected a list of topics")
    agencies = []
    for number, entry in enumerate(data, 1):
        where = f"{path}: entry {number}"
        if not isinstance(entry, dict):
            raise AgencyError(f"{where}: expected a mapping with topic, keywords, agency, confidence")
        for field in ("topic", "agency"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise AgencyError(f"{where}: {field} must be a non-empty text")
        keywords = entry.get("keywords")
        if not (isinstance(keywords, list) and keywords and all(isinstance(k, str) and k.strip() for k in keywords)):
            raise AgencyError(f"{where} ({entry['topic']}): keywords must be a non-empty list of texts")
        if entry.get("confidence") not in ("high", "check"):
            raise AgencyError(f"{where} ({entry['topic']}): confidence must be high or check")
        agencies.append(Agency(entry["topic"].strip(), " ".join(entry["agency"].split()),
                               entry["confidence"] == "high", tuple(normalize(k) for k in keywords)))
    return agencies


class Directory:
    """Finds the agency for an out-of-scope question by the topic's words in its folded spelling."""

    def __init__(self, agencies: list[Agency]):
        self.agencies = agencies
        self._patterns = [re.compile(r"\b(" + "|".join(re.escape(k) for k in a.keywords if k) + r")\b")
                          for a in agencies]

    def find(self, norm: str) -> Agency | None:
        for agency, pattern in zip(self.agencies, self._patterns, strict=True):
            if pattern.search(norm):
                return agency
        return None
