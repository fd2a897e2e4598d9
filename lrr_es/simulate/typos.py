"""Seeded, realistic misspellings of query words.

Each typo kind is a function ``(word, rng) -> str | None``: the misspelled word, or None when the
kind does not apply to that word (no doubled letter to undouble, no "ph" to hear as "f"...).
Words are handled as clusters (a base character plus its combining marks), so a typo never splits
an accent from its letter; keyboard-based kinds touch ASCII letters only, so Cyrillic or Japanese
words only get deletions, insertions of a repeated letter and transpositions. One typo changes a
word by at most :data:`MAX_EDITS_PER_TYPO` Levenshtein edits and never empties it.
"""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

from ..errors import SimulationError

MIN_WORD_LENGTH = 4  # shorter words ("the", "u2", "me") are left alone: people rarely mistype them
MAX_EDITS_PER_TYPO = 3  # "tonight" -> "tonite" is the largest change one typo makes

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _qwerty_neighbours() -> dict[str, str]:
    """Letter -> the letters around it on a QWERTY keyboard (same row and the rows above/below)."""
    position = {ch: (row, col) for row, keys in enumerate(_QWERTY_ROWS) for col, ch in enumerate(keys)}
    neighbours: dict[str, str] = {}
    for ch, (row, col) in position.items():
        # Rows are staggered by about half a key: a key touches col-1..col+1 of its own row,
        # col..col+1 of the row above and col-1..col of the row below.
        near = [(row, col - 1), (row, col + 1), (row - 1, col), (row - 1, col + 1), (row + 1, col - 1), (row + 1, col)]
        neighbours[ch] = "".join(_QWERTY_ROWS[r][c] for r, c in near
                                 if 0 <= r < len(_QWERTY_ROWS) and 0 <= c < len(_QWERTY_ROWS[r]))
    return neighbours


QWERTY_NEIGHBOURS = _qwerty_neighbours()

# Spellings by ear, as (pattern, replacement); each is at most MAX_EDITS_PER_TYPO edits.
PHONETIC_RULES: tuple[tuple[str, str], ...] = (
    (r"ph", "f"),             # phone -> fone
    (r"(?<!f)f(?!f)", "ph"),  # fire -> phire
    (r"c(?=[aou])", "k"),     # cold -> kold
    (r"c$", "k"),             # music -> musik
    (r"ck", "k"),             # rock -> rok
    (r"k(?=[aou])", "c"),     # karma -> carma
    (r"ie", "ei"),            # believe -> beleive
    (r"ei", "ie"),            # receive -> recieve
    (r"(?<=[^aeiou])y$", "ie"),  # crazy -> crazie
    (r"ie$", "y"),            # movie -> movy
    (r"ce", "se"),            # dance -> danse
    (r"ea", "ee"),            # dream -> dreem
    (r"ight", "ite"),         # tonight -> tonite
    (r"(?<=[aeiouy])s$", "z"),  # boys -> boyz
    (r"^kn", "n"),            # knife -> nife (silent k)
    (r"^wr", "r"),            # wrong -> rong (silent w)
    (r"^rh", "r"),            # rhythm -> rythm (silent h)
    (r"mb$", "m"),            # bomb -> bom (silent b)
    (r"(?<=^w)h", ""),        # what -> wat (silent h)
    (r"(?<=[^aeiou][aeiou][^aeiouy])e$", ""),  # love -> lov (silent final e)
)
_COMPILED_RULES = tuple((re.compile(pattern), replacement) for pattern, replacement in PHONETIC_RULES)


@dataclass(frozen=True)
class Misspelling:
    """A misspelled text and the typo kinds applied to it, in order."""

    text: str
    kinds: tuple[str, ...]


def _clusters(word: str) -> list[str]:
    """``word`` (NFC) split into base characters, each with its combining marks."""
    clusters: list[str] = []
    for ch in unicodedata.normalize("NFC", word):
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _same_case(original: str, replacement: str) -> str:
    return replacement.upper() if original.isupper() else replacement


def adjacent_key(word: str, rng: random.Random) -> str | None:
    """One ASCII letter replaced by a QWERTY neighbour ("love" -> "lobe")."""
    parts = _clusters(word)
    spots = [i for i, c in enumerate(parts) if c.lower() in QWERTY_NEIGHBOURS]
    if not spots:
        return None
    i = rng.choice(spots)
    parts[i] = _same_case(parts[i], rng.choice(QWERTY_NEIGHBOURS[parts[i].lower()]))
    return "".join(parts)


def delete_letter(word: str, rng: random.Random) -> str | None:
    """One letter left out, never the first ("heart" -> "hert")."""
    parts = _clusters(word)
    if len(parts) < 2:
        return None
    del parts[rng.randrange(1, len(parts))]
    return "".join(parts)


def insert_letter(word: str, rng: random.Random) -> str | None:
    """A stray key pressed next to a letter: a QWERTY neighbour of it, or the letter itself."""
    parts = _clusters(word)
    i = rng.randrange(len(parts))
    letter = parts[i]
    stray = rng.choice(QWERTY_NEIGHBOURS[letter.lower()]) if letter.lower() in QWERTY_NEIGHBOURS else letter
    parts.insert(i + rng.randint(0, 1), _same_case(letter, stray))
    return "".join(parts)


def transpose(word: str, rng: random.Random) -> str | None:
    """Two neighbouring, different letters swapped, after the first ("angel" -> "anegl")."""
    parts = _clusters(word)
    spots = [i for i in range(1, len(parts) - 1) if parts[i] != parts[i + 1]]
    if not spots:
        return None
    i = rng.choice(spots)
    parts[i], parts[i + 1] = parts[i + 1], parts[i]
    return "".join(parts)


def double_letter(word: str, rng: random.Random) -> str | None:
    """A letter typed twice where it is not already doubled ("closer" -> "clloser")."""
    parts = _clusters(word)
    spots = [i for i, c in enumerate(parts) if c.isalpha() and (i + 1 == len(parts) or parts[i + 1] != c)
             and (i == 0 or parts[i - 1] != c)]
    if not spots:
        return None
    i = rng.choice(spots)
    parts.insert(i, parts[i])
    return "".join(parts)


def undouble_letter(word: str, rng: random.Random) -> str | None:
    """A doubled letter typed once ("summer" -> "sumer")."""
    parts = _clusters(word)
    spots = [i for i in range(len(parts) - 1) if parts[i] == parts[i + 1] and parts[i].isalpha()]
    if not spots:
        return None
    del parts[rng.choice(spots)]
    return "".join(parts)


def phonetic_swap(word: str, rng: random.Random) -> str | None:
    """A spelling by ear from :data:`PHONETIC_RULES` (ph/f, c/k, ie/ei, y/ie, ce/se, silent letters)."""
    lower = word.lower()
    if len(lower) != len(word):  # a few letters change length when lowered ("İ"): offsets would drift
        return None
    options = [(m.start(), m.end(), replacement) for rule, replacement in _COMPILED_RULES
               for m in rule.finditer(lower)]
    if not options:
        return None
    start, end, replacement = rng.choice(options)
    if word[start:end].isupper() and replacement:
        replacement = replacement.upper()
    elif word[start:start + 1].isupper():
        replacement = replacement[:1].upper() + replacement[1:]
    return word[:start] + replacement + word[end:]


TypoKind = Callable[[str, random.Random], "str | None"]
TYPO_KINDS: dict[str, TypoKind] = {
    "adjacent_key": adjacent_key,
    "deletion": delete_letter,
    "insertion": insert_letter,
    "transposition": transpose,
    "double": double_letter,
    "undouble": undouble_letter,
    "phonetic": phonetic_swap,
}
# How often each kind is tried first; keyboard slips dominate, spellings by ear are common in music.
TYPO_WEIGHTS: dict[str, float] = {
    "adjacent_key": 0.24, "deletion": 0.18, "insertion": 0.12, "transposition": 0.14,
    "double": 0.06, "undouble": 0.08, "phonetic": 0.18,
}


def can_misspell_word(word: str) -> bool:
    """Whether ``word`` is long enough and made of letters, so that a typo in it is plausible."""
    parts = _clusters(word)
    return len(parts) >= MIN_WORD_LENGTH and sum(c[0].isalpha() for c in parts) >= MIN_WORD_LENGTH


def misspell_word(word: str, rng: random.Random, kinds: Sequence[str] | None = None) -> tuple[str, str]:
    """``(misspelled word, kind)``: one typo of a kind drawn by :data:`TYPO_WEIGHTS`.

    Kinds that do not apply are skipped; the result always differs from ``word`` and is non-empty.
    Raises SimulationError for an unknown kind or a word that no kind can change.
    """
    names = list(TYPO_KINDS) if kinds is None else list(kinds)
    unknown = [name for name in names if name not in TYPO_KINDS]
    if unknown:
        raise SimulationError(f"unknown typo kind(s) {unknown}; known kinds: {', '.join(TYPO_KINDS)}")
    while names:
        name = rng.choices(names, weights=[TYPO_WEIGHTS[n] for n in names])[0]
        result = TYPO_KINDS[name](word, rng)
        if result and result.strip() and result != word:
            return result, name
        names.remove(name)
    raise SimulationError(f"no typo kind applies to {word!r}")


def can_misspell(text: str) -> bool:
    """Whether ``text`` has at least one word :func:`misspell` may change."""
    return any(can_misspell_word(word) for word in text.split())


def misspell(text: str, rng: random.Random, typos: int = 1) -> Misspelling:
    """``text`` with ``typos`` typos, each in a random eligible word (>= MIN_WORD_LENGTH letters).

    Spacing is kept. The result differs from ``text``, is never empty and is within
    ``typos * MAX_EDITS_PER_TYPO`` Levenshtein edits of it. Raises SimulationError when ``text``
    has no eligible word or ``typos`` < 1.
    """
    if typos < 1:
        raise SimulationError(f"typos must be >= 1, got {typos}")
    text = unicodedata.normalize("NFC", text)
    pieces = re.split(r"(\s+)", text)
    eligible = [i for i, piece in enumerate(pieces) if can_misspell_word(piece)]
    if not eligible:
        raise SimulationError(f"no word of {text!r} has {MIN_WORD_LENGTH}+ letters to misspell")
    for _ in range(8):  # a second typo can undo the first (double then undouble): draw again
        changed, kinds = list(pieces), []
        for _ in range(typos):
            i = rng.choice(eligible)
            changed[i], kind = misspell_word(changed[i], rng)
            kinds.append(kind)
        result = "".join(changed)
        if result != text:
            return Misspelling(result, tuple(kinds))
    word, kind = misspell_word(pieces[eligible[0]], rng)
    return Misspelling("".join(pieces[:eligible[0]] + [word] + pieces[eligible[0] + 1:]), (kind,))
