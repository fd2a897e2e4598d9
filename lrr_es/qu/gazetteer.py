"""The query-understanding gazetteer: the index's own keyword values, by role, with priors (pure).

A gazetteer holds, per slot role (the index's configured attributes, e.g. genre, decade and year in
music or sport and country in a sports catalog; entity_type; the people role, "artist" in music),
the values stored in the index with their document counts, plus derived surface forms ("80s" -> "1980s"). Lookups go
through normalized token tuples (:func:`lrr_es.folding.query_tokens`), exactly or within a small edit
distance per token. Building it from Elasticsearch lives in :mod:`lrr_es.qu.store`.
"""
from __future__ import annotations

import base64
import gzip
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import Levenshtein

from ..config import FieldMap
from ..errors import QueryError
from ..folding import query_tokens

ROLES = ("genre", "decade", "year", "entity_type", "artist", "mood")  # music's roles, in tie-break order
_ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FORMAT = 1
MAX_SPAN_TOKENS = 6  # longer values are kept but never matched: a query span is at most this long
MAX_TOKEN_CHARS = 64
ALIAS_QUALITY = 0.95  # a derived surface form ("80s") matches a little less surely than the value itself
MAX_FUZZY_PER_SPAN = 3
_DECADE = re.compile(r"^(\d{2,4})'?s$")
_DECADE_WORDS = {1920: "twenties", 1930: "thirties", 1940: "forties", 1950: "fifties", 1960: "sixties",
                 1970: "seventies", 1980: "eighties", 1990: "nineties", 2000: "noughties"}
_ENTITY_WORDS = {"song": ("songs", "track", "tracks"), "artist": ("artists", "band", "bands", "singer", "singers")}


@dataclass(frozen=True)
class Entry:
    """One gazetteer value as a lookup may return it: role, stored value, prior and match quality."""

    role: str
    value: str | int
    prior: float  # share of the index's documents holding the value, in (0, 1]
    quality: float = 1.0  # 1 for the value itself; below 1 for a derived form or a fuzzy match


@dataclass(frozen=True)
class Gazetteer:
    """Values of one index by role, with document counts and derived surface forms.

    ``counts[role]`` maps a stored value (as text; years are digits) to its document count,
    ``aliases[role]`` a normalized surface form to the stored value it stands for, ``fields[role]``
    the field the values came from. ``total`` is the index's document count.
    """

    index: str
    counts: Mapping[str, Mapping[str, int]]
    total: int
    fields: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    version: int = 0
    numeric: frozenset = frozenset({"year"})  # roles whose values are numbers (an integer value is typed int)
    _exact: dict = field(init=False, repr=False, compare=False)
    _buckets: dict = field(init=False, repr=False, compare=False)
    max_span: int = field(init=False, repr=False, compare=False)  # the most tokens of any matchable value

    def __post_init__(self) -> None:
        bad = sorted(repr(r) for r in self.counts if not isinstance(r, str) or not _ROLE_NAME.match(r))
        if bad:
            raise QueryError(f"gazetteer of {self.index!r}: bad role name(s) {', '.join(bad)[:200]} "
                             f"(lowercase letters, digits and _)")
        if isinstance(self.total, bool) or not isinstance(self.total, int) or self.total < 0:
            raise QueryError(f"gazetteer of {self.index!r}: total must be a non-negative integer, got {self.total!r}")
        exact: dict[tuple[str, ...], dict[tuple[str, str], Entry]] = {}
        for role, values in self.counts.items():
            for value, count in values.items():
                self._add(exact, role, value, count, 1.0, value)
        for role, forms in self.aliases.items():
            for form, value in forms.items():
                self._add(exact, role, value, self.counts.get(role, {}).get(value, 0), ALIAS_QUALITY, form)
        frozen = {key: tuple(sorted(found.values(), key=_entry_order)) for key, found in exact.items()}
        buckets: dict[tuple[int, str, int], list[tuple[str, ...]]] = {}
        for key in sorted(frozen):
            buckets.setdefault(_bucket(key), []).append(key)
        object.__setattr__(self, "_exact", frozen)
        object.__setattr__(self, "_buckets", buckets)
        object.__setattr__(self, "max_span", max((len(k) for k in frozen), default=0))

    def _add(self, exact: dict, role: str, value: str, count: int, quality: float, surface: str) -> None:
        key = tuple(query_tokens(surface))
        if not key or len(key) > MAX_SPAN_TOKENS or count <= 0:
            return
        prior = min(1.0, count / self.total) if self.total else 0.0
        typed: str | int = int(value) if role in self.numeric and value.isdigit() else value
        entry = Entry(role, typed, round(prior, 6), quality)
        found = exact.setdefault(key, {})
        previous = found.get((role, str(value)))
        if previous is None or previous.quality < quality:
            found[(role, str(value))] = entry

    def exact(self, tokens: tuple[str, ...]) -> tuple[Entry, ...]:
        """Entries whose value or surface form has exactly these normalized tokens."""
        return self._exact.get(tuple(tokens), ())

    def fuzzy(self, tokens: tuple[str, ...]) -> list[Entry]:
        """Up to MAX_FUZZY_PER_SPAN entries within the per-token edit bound, best first.

        Tokens of at most 4 characters and tokens with digits must match exactly; longer ones may be
        1 edit off (2 from 8 characters). The first character must agree, as with ES prefix_length 1.
        An entry's quality is 1 - 1.5 * edits / characters.
        """
        tokens = tuple(tokens)
        if not tokens or any(len(t) > MAX_TOKEN_CHARS for t in tokens):
            return []
        bounds = [edit_bound(t) for t in tokens]
        if not any(bounds):
            return []
        length, slack = sum(map(len, tokens)), sum(bounds)
        found: dict[tuple[str, str], Entry] = {}
        for size in range(length - slack, length + slack + 1):
            for key in self._buckets.get((len(tokens), tokens[0][0], size), ()):
                edits = _edits(tokens, key, bounds)
                if edits is None or edits == 0:
                    continue
                quality = max(0.3, 1.0 - 1.5 * edits / max(length, 1))
                for entry in self._exact[key]:
                    fuzzy = Entry(entry.role, entry.value, entry.prior, round(entry.quality * quality, 6))
                    slot = (entry.role, str(entry.value))
                    if slot not in found or found[slot].quality < fuzzy.quality:
                        found[slot] = fuzzy
        return sorted(found.values(), key=lambda e: (-e.quality * weight(e.prior), *_entry_order(e)))[:MAX_FUZZY_PER_SPAN]

    def slot_sizes(self) -> dict[str, int]:
        """The number of stored values per role."""
        return {role: len(values) for role, values in self.counts.items()}

    def to_dict(self) -> dict:
        """Plain JSON-ready data; :meth:`from_dict` reads it back."""
        return {"format": FORMAT, "index": self.index, "version": self.version, "total": self.total,
                "fields": dict(self.fields), "numeric": sorted(self.numeric),
                "counts": {r: dict(v) for r, v in self.counts.items()},
                "aliases": {r: dict(v) for r, v in self.aliases.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Gazetteer":
        """The gazetteer described by ``data`` (as written by :meth:`to_dict`)."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            shown = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise QueryError(f"not a gazetteer of format {FORMAT}: format {shown!r}")
        return cls(index=str(data["index"]), counts=data["counts"], total=data["total"], fields=data.get("fields", {}),
                   aliases=data.get("aliases", {}), version=int(data.get("version", 0)),
                   numeric=frozenset(data.get("numeric", ("year",))))

    def to_artifact(self) -> str:
        """base64 of the gzipped JSON (the ``artifact`` of its lrr-models document)."""
        raw = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode("utf-8")
        return base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")

    @classmethod
    def from_artifact(cls, artifact: str, version: int | None = None) -> "Gazetteer":
        """Read :meth:`to_artifact` output back; ``version`` overrides the stored one."""
        try:
            data = json.loads(gzip.decompress(base64.b64decode(artifact)))
        except (ValueError, OSError, EOFError) as exc:
            raise QueryError(f"gazetteer artifact is unreadable: {exc}") from None
        if version is not None and isinstance(data, dict):
            data["version"] = version
        return cls.from_dict(data)


def weight(prior: float) -> float:
    """How much a value's prior lends to a reading: 1 on every document, 5/6 on a tenth, 0.3 at the floor."""
    if prior <= 0:
        return 0.3
    return min(1.0, max(0.3, 1.0 + math.log10(prior) / 6.0))


def edit_bound(token: str) -> int:
    """The edits a token may be off by: none up to 4 characters or with digits, 1 up to 7, else 2."""
    if len(token) <= 4 or any(c.isdigit() for c in token):
        return 0
    return 1 if len(token) <= 7 else 2


def role_fields(fields: FieldMap) -> dict[str, str]:
    """The keyword field each slot role's values live in (the first, when a role reads several),
    from the index's field map; the people role uses the ``keyword`` sub-field the catalog template
    gives every text-role field."""
    return {role: named[0] for role, named in fields.slot_fields().items()}


def numeric_roles(fields: FieldMap) -> frozenset:
    """The slot roles whose values are numbers."""
    return frozenset(a.name for a in fields.attributes if a.kind == "number")


def derived_aliases(counts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, str]]:
    """Surface forms of stored values: decades ("80s", "'80s", "1980's", "eighties"), plural entity
    types and their common names ("songs", "tracks", "bands"), artists (people) without a leading "the".

    A form claimed by two values goes to the one on more documents.
    """
    out: dict[str, dict[str, str]] = {}
    for role, forms in (("decade", _decade_forms), ("entity_type", _entity_forms), ("artist", _artist_forms),
                        ("people", _artist_forms)):
        values = counts.get(role, {})
        best: dict[str, str] = {}
        for value in sorted(values, key=lambda v: (-values[v], v)):
            for form in forms(value):
                key = " ".join(query_tokens(form))
                if key and key != " ".join(query_tokens(value)) and key not in best:
                    best[key] = value
        if best:
            out[role] = dict(sorted(best.items()))
    return out


def _decade_forms(value: str) -> Iterable[str]:
    match = _DECADE.match(value.strip().lower())
    if not match:
        return ()
    digits = match.group(1)
    start = int(digits) if len(digits) == 4 else (1900 + int(digits) if int(digits) >= 20 else 2000 + int(digits))
    short = f"{start % 100:02d}"
    forms = [f"{start}s", f"{start}'s", f"{short}s", f"{short}'s"]
    if start in _DECADE_WORDS:
        forms.append(_DECADE_WORDS[start])
    return forms


def _entity_forms(value: str) -> Iterable[str]:
    return (f"{value}s", *_ENTITY_WORDS.get(value.lower(), ()))


def _artist_forms(value: str) -> Iterable[str]:
    tokens = query_tokens(value)
    rest = tokens[1:]
    return (" ".join(rest),) if tokens[:1] == ["the"] and sum(map(len, rest)) >= 4 else ()


def _bucket(key: tuple[str, ...]) -> tuple[int, str, int]:
    return len(key), key[0][0], sum(map(len, key))


def _edits(tokens: tuple[str, ...], key: tuple[str, ...], bounds: list[int]) -> int | None:
    """Total edits between two token tuples of equal length, or None when a token exceeds its bound."""
    total = 0
    for token, other, bound in zip(tokens, key, bounds):
        if token == other:
            continue
        if bound == 0 or abs(len(token) - len(other)) > bound:
            return None
        edits = Levenshtein.distance(token, other)
        if edits > bound:
            return None
        total += edits
    return total


def _entry_order(entry: Entry) -> tuple:
    return (ROLES.index(entry.role) if entry.role in ROLES else len(ROLES), str(entry.value))
