"""Seeded misspellings: each kind on literal words, then properties over many titles and seeds."""
from __future__ import annotations

import random
import unicodedata

import Levenshtein
import pytest

from lrr_es.catalog import sample_catalog
from lrr_es.errors import SimulationError
from lrr_es.simulate.typos import (
    MAX_EDITS_PER_TYPO,
    QWERTY_NEIGHBOURS,
    TYPO_KINDS,
    adjacent_key,
    can_misspell,
    delete_letter,
    double_letter,
    insert_letter,
    misspell,
    misspell_word,
    phonetic_swap,
    transpose,
    undouble_letter,
)


def test_qwerty_neighbours():
    assert QWERTY_NEIGHBOURS["g"] == "fhtyvb"
    assert QWERTY_NEIGHBOURS["q"] == "wa"
    assert QWERTY_NEIGHBOURS["m"] == "njk"
    assert set(QWERTY_NEIGHBOURS) == set("abcdefghijklmnopqrstuvwxyz")


@pytest.mark.parametrize("word, expected", [
    ("tonight", "tonite"), ("believe", "beleive"), ("know", "now"), ("wrong", "rong"), ("rhythm", "rythm"),
    ("bomb", "bom"), ("music", "musik"), ("dance", "danse"), ("crazy", "crazie"), ("dream", "dreem"),
    ("boys", "boyz"), ("what", "wat"), ("Rock", "Rok"), ("Phantom", "Fantom"), ("weird", "wierd"),
])
def test_phonetic_swaps_with_one_applicable_rule(word, expected):
    assert phonetic_swap(word, random.Random(0)) == expected


def test_single_choice_kinds_are_literal():
    rng = random.Random(0)
    assert undouble_letter("summer", rng) == "sumer"
    assert transpose("abc", rng) == "acb"
    assert adjacent_key("q", rng) in ("w", "a")
    assert adjacent_key("Q", rng) in ("W", "A")  # case kept
    assert double_letter("abc", rng) in ("aabc", "abbc", "abcc")
    assert delete_letter("abcd", rng) in ("acd", "abd", "abc")  # never the first letter
    # no keyboard neighbours for Cyrillic: the stray key is the letter itself
    assert insert_letter("Ночь", rng) in ("ННочь", "Ноочь", "Ноччь", "Ночьь")


def test_kinds_that_do_not_apply_return_none():
    rng = random.Random(0)
    assert undouble_letter("abc", rng) is None
    assert transpose("aaa", rng) is None
    assert adjacent_key("Ночь", rng) is None  # no QWERTY key for Cyrillic
    assert phonetic_swap("xyz", rng) is None
    assert delete_letter("a", rng) is None


def test_accents_stay_on_their_letters():
    # NFD input: é is e + COMBINING ACUTE; the cluster moves as one piece
    word = unicodedata.normalize("NFD", "Déjà")
    for seed in range(200):
        out = transpose(word, random.Random(seed))
        assert out is not None and unicodedata.normalize("NFC", out) in ("Djéà", "Déàj")


def _titles():
    docs = sample_catalog(400, seed=3)
    return sorted({doc["title"] for doc in docs if can_misspell(doc["title"])})


@pytest.mark.parametrize("typos", [1, 2])
def test_misspell_differs_is_close_and_non_empty(typos):
    titles = _titles()
    assert len(titles) > 100
    for seed, title in enumerate(titles):
        result = misspell(title, random.Random(seed), typos)
        assert result.text.strip() and result.text != title
        assert 1 <= Levenshtein.distance(result.text, title) <= typos * MAX_EDITS_PER_TYPO
        assert len(result.kinds) == typos and set(result.kinds) <= set(TYPO_KINDS)
        assert unicodedata.normalize("NFC", result.text) == result.text
        assert not any(unicodedata.combining(word[0]) for word in result.text.split())
        assert result.text.split(" ") != [""] and len(result.text.split()) == len(title.split())


def test_misspell_is_seeded():
    titles = _titles()[:50]
    first = [misspell(t, random.Random(11)) for t in titles]
    again = [misspell(t, random.Random(11)) for t in titles]
    other = [misspell(t, random.Random(12)) for t in titles]
    assert first == again
    assert first != other


def test_misspell_uses_every_kind():
    seen = {kind for seed, title in enumerate(_titles() * 3) for kind in misspell(title, random.Random(seed)).kinds}
    assert seen == set(TYPO_KINDS)


def test_misspell_refuses_what_it_cannot_change():
    assert not can_misspell("U2 the ace")
    with pytest.raises(SimulationError, match="no word"):
        misspell("U2 the ace", random.Random(0))
    with pytest.raises(SimulationError, match="typos must be >= 1"):
        misspell("tonight", random.Random(0), typos=0)
    with pytest.raises(SimulationError, match="unknown typo kind"):
        misspell_word("tonight", random.Random(0), kinds=["swap"])
    with pytest.raises(SimulationError, match="no typo kind applies"):
        misspell_word("aaaa", random.Random(0), kinds=["transposition", "phonetic"])


def test_misspell_keeps_spacing_and_short_words():
    result = misspell("me  and   tonight", random.Random(5))
    assert result.text.startswith("me  and   ") and result.text != "me  and   tonight"
