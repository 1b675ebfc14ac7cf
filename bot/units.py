"""The unit directory: one entry per organisational unit, however the plans spell it.

Plans write the same unit many ways ("Phòng TC-KH", "phòng Tài chính - Kế hoạch Thành phố",
"Phòng Tài chính và Kế hoạch"). :func:`unit_key` reduces every spelling to one comparison key;
:class:`UnitDirectory` groups the spellings under that key and finds units from what a person
types (accent-free, abbreviated, partial or misspelt).

The key is for comparison only and never shown; :func:`display_name` gives the shown form.
Scoping by locality is the caller's job (it stores ``(locality, key)`` pairs): ``unit_key``
only drops a trailing locality qualifier so that "Công an Thành phố" and "Công an" compare
equal inside one plan.
"""

from __future__ import annotations

import functools
import heapq
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from bot.errors import BotError, UnitNotFound, UsageError
from bot.text import fold, nfc, quote, unify_tones

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Abbreviations. Left: the abbreviation with its parts split by "-", "&" or a space (each part
# may be written glued to the next, or with "-", "&", "và" between); right: the full words.
# Both sides are folded at import, so accents and case do not matter when matching. Only
# abbreviations that are not ordinary Vietnamese words belong here; ambiguous ones (CA, BCH
# before "Đảng") are handled by the context rules below.
# --------------------------------------------------------------------------------------------
ABBREVIATIONS: dict[str, str] = {
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "UB": "Ủy ban",
    "UBMTTQ": "Ủy ban Mặt trận Tổ quốc",
    "MTTQ": "Mặt trận Tổ quốc",
    "UBKT": "Ủy ban kiểm tra",
    "VN": "Việt Nam",
    "TC-KH": "Tài chính - Kế hoạch",
    "LĐ-TB&XH": "Lao động - Thương binh và Xã hội",
    "TN&MT": "Tài nguyên và Môi trường",
    "VH-TT&DL": "Văn hóa, Thể thao và Du lịch",
    "VH&TT": "Văn hóa và Thông tin",
    "GD&ĐT": "Giáo dục và Đào tạo",
    "QLĐT": "Quản lý đô thị",
    "BCHQS": "Ban Chỉ huy quân sự",
    "BCH-QS": "Ban Chỉ huy quân sự",
    "BCH": "Ban Chỉ huy",
    "BQLDA": "Ban Quản lý dự án",
    "BQL": "Ban Quản lý",
    "QLDA": "Quản lý dự án",
    "ĐTXD": "đầu tư xây dựng",
    "TT&TT": "Thông tin và Truyền thông",
    "KT-HT": "Kinh tế - Hạ tầng",
    "NN&PTNT": "Nông nghiệp và Phát triển nông thôn",
    "VP": "Văn phòng",
    "TTHCC": "Trung tâm Hành chính công",
    "CT-XH": "chính trị - xã hội",
    "TC-NV": "Tổ chức - Nội vụ",
    "KH&ĐT": "Kế hoạch và Đầu tư",
    "KH&CN": "Khoa học và Công nghệ",
    "GTVT": "Giao thông vận tải",
    "XD": "Xây dựng",
    "XĐĐ": "xây dựng Đảng",
    "TTYT": "Trung tâm Y tế",
    "BHXH": "Bảo hiểm xã hội",
    "KBNN": "Kho bạc Nhà nước",
    "LĐLĐ": "Liên đoàn Lao động",
    "HLHPN": "Hội Liên hiệp Phụ nữ",
    "LHPN": "Liên hiệp Phụ nữ",
    "HCCB": "Hội Cựu chiến binh",
    "CCB": "Cựu chiến binh",
    "HND": "Hội Nông dân",
    "ĐTN": "Đoàn Thanh niên",
    "BTV": "Ban Thường vụ",
    "BTG": "Ban Tuyên giáo",
    "BDV": "Ban Dân vận",
    "PCCC": "phòng cháy chữa cháy",
    "QSDĐ": "quyền sử dụng đất",
    "TP": "thành phố",
    "TX": "thị xã",
}

# Whole folded phrases that name the same body; applied to the key after expansion.
_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("mat tran to quoc viet nam", "mat tran to quoc"),
    ("uy ban mat tran to quoc", "mat tran to quoc"),
)

# Trailing words that only say which level the unit belongs to ("... Thành phố").
# ("quận" is left out: folded it is "quan", the end of "cơ quan".)
_LOCALITY_QUALIFIERS = ("thanh pho", "thi xa", "huyen", "tinh")
# Words that make a following place name part of the unit ("Phường Cẩm Phú", "xã Dương Huy").
_SUBLOCALITY_WORDS = ("phuong", "xa", "thi tran", "thon", "khu", "to", "ban")

# Anything that separates words or fields: "-", "&", "/", ",", brackets, quotes, dots.
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"
_SEPARATORS_RE = re.compile(r"[-&/,;:+.·•()\[\]{}*!?…" + _QUOTES + "]+")
_TRAILING_PAREN_RE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")
_EDGE_PUNCT = " \t-.,;:+*•·" + _QUOTES  # nfc() has already turned every dash into "-"

# "CA" is also "ca"/"cá"/"cả": expand it only when written in capitals before a place.
_CA_RE = re.compile(r"(?<![\w&])CA(?=\s+(\S+))")
_CA_PLACE_WORDS = frozenset({
    "thanh", "tp", "tp.", "thi", "tx", "tx.", "huyen", "tinh", "xa", "phuong", "quan", "cac",
    "cap",
})
# "BCH" before a Party/union body is "Ban Chấp hành", otherwise "Ban Chỉ huy" (table above).
_BCH_PARTY_RE = re.compile(r"(?<![a-z0-9])bch(?=\s+(?:dang|cong doan|doan)(?![a-z0-9]))")


def _abbreviation_parts(abbr: str) -> list[str]:
    return [p for p in re.split(r"[-&\s]+", fold(abbr)) if p]


def _build_abbreviations() -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex matching every abbreviation (longest first) and a compact-form lookup."""
    joiner = r"(?:\s+va\s+|\s*)"
    alternatives: list[tuple[int, str]] = []
    expansions: dict[str, str] = {}
    for abbr, full in ABBREVIATIONS.items():
        parts = _abbreviation_parts(abbr)
        expansions["".join(parts)] = " ".join(_SEPARATORS_RE.sub(" ", fold(full)).split())
        alternatives.append((len("".join(parts)), joiner.join(map(re.escape, parts))))
    alternatives.sort(key=lambda item: -item[0])
    pattern = "(?<![a-z0-9])(?:" + "|".join(a for _, a in alternatives) + ")(?![a-z0-9])"
    return re.compile(pattern), expansions


_ABBR_RE, _ABBR_EXPANSIONS = _build_abbreviations()


def _expand_match(match: re.Match[str]) -> str:
    compact = re.sub(r"\s+va\s+|\s+", "", match.group(0))
    return _ABBR_EXPANSIONS[compact]


def _expand_ca(match: re.Match[str]) -> str:
    following = match.group(1)
    if fold(following) in _CA_PLACE_WORDS or following[:1].isupper():
        return "Công an"
    return match.group(0)


def _plain(text: str) -> str:
    """Folded text with separators turned into spaces; no abbreviation expansion."""
    return " ".join(_SEPARATORS_RE.sub(" ", fold(text)).split())


def _expanded_tokens(name: str) -> list[str]:
    """Folded words of ``name`` with abbreviations expanded and joining "và" removed."""
    text = nfc(name).strip()
    stripped = _TRAILING_PAREN_RE.sub("", text)
    if stripped.strip(_EDGE_PUNCT):
        text = stripped
    text = _CA_RE.sub(_expand_ca, text)
    plain = _plain(text)
    plain = _BCH_PARTY_RE.sub("ban chap hanh", plain)
    plain = _ABBR_RE.sub(_expand_match, plain)
    joined = " ".join(t for t in plain.split() if t != "va")
    for old, new in _SYNONYMS:
        joined = re.sub(rf"(?<![a-z0-9]){old}(?![a-z0-9])", new, joined)
    return joined.split()


def _ends_with(tokens: list[str], tail: list[str]) -> bool:
    return bool(tail) and len(tokens) > len(tail) and tokens[-len(tail):] == tail


def _locality_tokens(locality: str | None) -> list[str]:
    """The place name alone: "Thành phố Cẩm Phả" / "TP. Cẩm Phả" -> ["cam", "pha"]."""
    if not locality:
        return []
    tokens = _expanded_tokens(locality)
    for qualifier in _LOCALITY_QUALIFIERS:
        words = qualifier.split()
        if tokens[:len(words)] == words and len(tokens) > len(words):
            return tokens[len(words):]
    return tokens


def _drop_locality(tokens: list[str], place: list[str]) -> list[str]:
    """Drop "thành phố [Cẩm Phả]" / "[Cẩm Phả]" at the end, never the whole name."""
    if _ends_with(tokens, place):
        head = tokens[:-len(place)]
        qualified = any(_ends_with(head, w.split()) for w in _LOCALITY_QUALIFIERS)
        if qualified or not any(_ends_with(head, w.split()) for w in _SUBLOCALITY_WORDS):
            tokens = head
    for qualifier in _LOCALITY_QUALIFIERS:
        words = qualifier.split()
        if _ends_with(tokens, words):
            return tokens[:-len(words)]
    return tokens


def unit_key(name: str, locality: str | None = None) -> str:
    """Canonical comparison key: same unit however written -> same key.

    Abbreviations are expanded, accents/case/tone placement folded, "và", "&", "-" and ","
    between fields ignored, and a trailing locality ("Thành phố", "TP Cẩm Phả" when
    ``locality="Cẩm Phả"``) dropped. Returns "" for a name with no words.
    """
    tokens = _drop_locality(_expanded_tokens(name), _locality_tokens(locality))
    return " ".join(tokens)


_DASH_SPACING_RE = re.compile(r"\s+-\s*|\s*-\s+")


def display_name(name: str) -> str:
    """A clean name to show: NFC, one tone spelling, single spaces, first letter capital.

    Abbreviations and the writer's wording are kept; only spacing around a spaced dash is
    evened out ("Tài chính -Kế hoạch" -> "Tài chính - Kế hoạch", "TC-KH" stays).
    """
    text = unify_tones(nfc(name)).strip().strip(_EDGE_PUNCT)
    text = _DASH_SPACING_RE.sub(" - ", text)
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


_GENERIC_START = ("cac", "nhung", "moi", "toan the", "tat ca")
_GENERIC_LEVEL_RE = re.compile(r"(?<![a-z])(?:cap (?:xa|huyen|tinh|co so)|den co so)(?![a-z])")


@functools.lru_cache(maxsize=65536)
def is_generic(name: str) -> bool:
    """True for an addressee group ("Các phòng, ban", "UBND các phường, xã"), not one body.

    Detected by "các", "những", "mọi", "toàn thể" at the start, "các" after the head noun
    (except "Liên hiệp các ..." which is a single body), or a level ("cấp xã", "đến cơ sở").
    """
    tokens = _plain(name).split()
    if not tokens:
        return False
    joined = " ".join(tokens)
    if any(joined == w or joined.startswith(w + " ") for w in _GENERIC_START):
        return True
    for i, token in enumerate(tokens[1:], start=1):
        if token == "cac" and tokens[i - 1] != "hiep":
            return True
    return bool(_GENERIC_LEVEL_RE.search(joined))


@functools.lru_cache(maxsize=65536)
def _is_abbreviated(name: str) -> bool:
    """True when ``name`` holds an abbreviation that the key expands ("Phòng TC-KH")."""
    text = _CA_RE.sub(_expand_ca, nfc(name))
    return text != nfc(name) or bool(_ABBR_RE.search(_plain(text)))


@dataclass(frozen=True, slots=True)
class Unit:
    """One organisational unit and every way the plans wrote it."""

    key: str
    name: str
    aliases: tuple[str, ...]
    generic: bool


# Search scoring: mostly rapidfuzz partial_ratio (the query matches part of the name, typos
# allowed) with some plain ratio (prefers names the query covers more of); then candidates
# whose words start with the query's words, in order, are lifted halfway towards 100.
# (WRatio was tried: its token-set part gives 85.5 to any name sharing one word, "y te" ~
# "Phòng Kinh tế", which drowns the real matches.)
_SCORE_CUTOFF = 40.0
_PARTIAL_CUTOFF = 60.0
_PARTIAL_WEIGHT = 0.85
# match(): accept the best fuzzy result when it is at least this good ...
_ACCEPT_SCORE = 88.0
# ... and this far ahead of the next unit.
_ACCEPT_MARGIN = 8.0
# Suggestions: names scoring at least this, and within this of the best one.
_SUGGEST_SCORE = 60.0
_SUGGEST_SPREAD = 15.0
_MAX_SUGGESTIONS = 3


def _prefix_regex(query: str) -> re.Pattern[str]:
    """Matches names where every query word starts a word, in order ("tai ch" ~ "tai chinh").

    Names and queries are folded, single-spaced text, so a word starts at the beginning or
    after a space.
    """
    words = [re.escape(w) for w in query.split()]
    return re.compile("(?:^| )" + ".*? ".join(words))


class _Entry:
    """Mutable bookkeeping behind one :class:`Unit`: written forms and how often each came."""

    __slots__ = ("forms", "key", "unit")

    def __init__(self, key: str, form: str, count: int = 1) -> None:
        self.key = key
        self.forms: dict[str, int] = {form: count}
        self.unit = self._build()

    def add(self, form: str, count: int = 1) -> Unit:
        self.forms[form] = self.forms.get(form, 0) + count
        self.unit = self._build()
        return self.unit

    def _build(self) -> Unit:
        """Name = an unabbreviated form if any, then the most frequent, then the first."""
        order = list(self.forms)
        best = max(order, key=lambda f: (not _is_abbreviated(f), self.forms[f], -order.index(f)))
        return Unit(key=self.key, name=best, aliases=tuple(order), generic=is_generic(best))


class UnitDirectory:
    """In-memory set of units keyed by :func:`unit_key`; built from names found in plans."""

    def __init__(self, names: Iterable[str] = (), locality: str | None = None) -> None:
        self._entries: dict[str, _Entry] = {}
        self._choices: list[str] = []
        self._choice_owner: list[str] = []
        self._dirty = True
        for name in names:
            self.add(name, locality)

    # ---------------------------------------------------------------- building
    def add(self, name: str, locality: str | None = None) -> Unit:
        """Record one written form; returns its unit (the existing one when the key matches)."""
        key = unit_key(name, locality)
        form = display_name(name)
        if not key or not form:
            raise UsageError("Tên đơn vị trống, hãy nhập tên đơn vị (ví dụ: Phòng Y tế).")
        self._dirty = True
        entry = self._entries.get(key)
        if entry is not None:
            return entry.add(form)
        logger.debug("new unit %s from %r", key, form)
        entry = self._entries[key] = _Entry(key, form)
        return entry.unit

    # ---------------------------------------------------------------- lookups
    def get(self, key: str) -> Unit | None:
        """The unit stored under ``key`` exactly, or None."""
        entry = self._entries.get(key)
        return entry.unit if entry else None

    def resolve(self, name: str, locality: str | None = None) -> Unit | None:
        """The unit whose key equals the key of ``name``, or None (no fuzzy matching)."""
        return self.get(unit_key(name, locality))

    def units(self) -> Iterator[Unit]:
        """Every unit, in the order first added."""
        return (e.unit for e in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def _reindex(self) -> None:
        """Precompute the folded strings searched: each key and each written form, expanded."""
        choices: list[str] = []
        owners: list[str] = []
        for key, entry in self._entries.items():
            seen = {key}
            choices.append(key)
            owners.append(key)
            for form in entry.forms:
                # Expanded like the query is, but keeping any locality words the key dropped.
                expanded = " ".join(_expanded_tokens(form))
                if expanded and expanded not in seen:
                    seen.add(expanded)
                    choices.append(expanded)
                    owners.append(key)
        self._choices = choices
        self._choice_owner = owners
        self._dirty = False

    def search(self, query: str, limit: int = 5,
               locality: str | None = None) -> list[tuple[Unit, float]]:
        """Closest units to ``query`` (accent-insensitive, abbreviations, partial words).

        Scores run 0..100, best first; an exact key scores 100.
        """
        if self._dirty:
            self._reindex()
        q = unit_key(query, locality)
        if not q or limit <= 0 or not self._choices:
            return []
        starts = _prefix_regex(q)
        q_len = len(q)
        best: dict[str, float] = {}
        owners = self._choice_owner
        for choice, part, index in process.extract(
                q, self._choices, scorer=fuzz.partial_ratio, processor=None, limit=None,
                score_cutoff=_PARTIAL_CUTOFF):
            whole = fuzz.ratio(q, choice)
            # A name shorter than the query ("Công an" for "công an xã") is only as good as
            # its whole-string similarity: being contained in the query proves nothing.
            if len(choice) < q_len:
                part = 0.0
            score = max(whole, _PARTIAL_WEIGHT * part + (1 - _PARTIAL_WEIGHT) * whole)
            if choice == q:
                score = 100.0
            elif starts.search(choice):
                score = 100.0 - (100.0 - score) / 2
            owner = owners[index]
            if score >= _SCORE_CUTOFF and score > best.get(owner, -1.0):
                best[owner] = score
        ranked = heapq.nsmallest(limit, best.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
        return [(self._entries[k].unit, round(s, 1)) for k, s in ranked]

    def match(self, query: str, locality: str | None = None) -> Unit:
        """The one unit ``query`` names, or :class:`UnitNotFound` with the closest names.

        Accepts an exact key, or a fuzzy result that is good and clearly ahead of the next.
        """
        shown = quote(nfc(query))
        if not unit_key(query, locality):
            raise UsageError("Hãy nhập tên đơn vị (ví dụ: Phòng Tài chính - Kế hoạch).")
        exact = self.resolve(query, locality)
        if exact is not None:
            return exact
        results = self.search(query, limit=_MAX_SUGGESTIONS + 1, locality=locality)
        if results:
            top = results[0][1]
            runner_up = results[1][1] if len(results) > 1 else 0.0
            if top >= _ACCEPT_SCORE and top - runner_up >= _ACCEPT_MARGIN:
                return results[0][0]
        floor = max(_SUGGEST_SCORE, results[0][1] - _SUGGEST_SPREAD) if results else 0.0
        suggestions = [u.name for u, s in results if s >= floor][:_MAX_SUGGESTIONS]
        if not suggestions:
            message = f"Không tìm thấy đơn vị «{shown}»."
        elif results and results[0][1] >= _ACCEPT_SCORE and len(suggestions) > 1:
            message = (f"Tên «{shown}» khớp với nhiều đơn vị. Bạn muốn chọn: "
                       + "; ".join(suggestions) + "?")
        else:
            message = f"Không tìm thấy đơn vị «{shown}». Có phải: " + "; ".join(suggestions) + "?"
        raise UnitNotFound(message, suggestions)

    # ---------------------------------------------------------------- storage
    def to_json(self) -> dict[str, Any]:
        """Plain data for storage; keeps written forms with their counts."""
        return {
            "version": 1,
            "units": [
                {"key": e.key, "forms": [[f, n] for f, n in e.forms.items()]}
                for e in self._entries.values()
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> UnitDirectory:
        """Rebuild a directory saved by :meth:`to_json`."""
        directory = cls()
        try:
            items = data["units"]
            for item in items:
                key = item["key"]
                forms = [(form, count) for form, count in item["forms"]]
                if not isinstance(key, str) or not key or not forms or key in directory:
                    raise ValueError(key)
                for form, count in forms:
                    if not isinstance(form, str) or not form:
                        raise ValueError(form)
                    if type(count) is not int or count < 1:  # bool is no count either
                        raise ValueError(count)
                entry = directory._entries[key] = _Entry(key, *forms[0])
                for form, count in forms[1:]:
                    entry.add(form, count)
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("unit directory data is malformed: %s", exc)
            raise BotError("Dữ liệu danh bạ đơn vị đã lưu bị hỏng, không đọc được.") from exc
        return directory
