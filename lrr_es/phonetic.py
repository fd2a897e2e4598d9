"""Phonetic keys (Metaphone) of titles and artists, computed at index time for the fuzzy strategy.

"tayler swift" and "Taylor Swift" share the keys ``TLR SWFT``; "beyonse" and "Beyoncé" share
``BYNS``. Tokens are folded like Q2E keys first (case, accents), so the keys are ASCII. Tokens
with digits ("80s", years) or without Latin letters have no key and are left to the other strategies.
"""
from __future__ import annotations

import warnings
from typing import Iterable

import jellyfish

from .folding import query_tokens

MAX_PHONETIC_TOKENS = 64  # bounds the field for very long titles and the clause count of queries


def phonetic_keys(text: str) -> list[str]:
    """The Metaphone key of every token of ``text`` that has one, in order (duplicates kept)."""
    keys = []
    for token in query_tokens(text)[:MAX_PHONETIC_TOKENS]:
        if any(ch.isdigit() for ch in token):
            continue
        ascii_token = "".join(ch for ch in token if "a" <= ch <= "z")
        if ascii_token:
            with warnings.catch_warnings():  # jellyfish 0.9 warns about a CPython getargs detail
                warnings.simplefilter("ignore", DeprecationWarning)
                key = jellyfish.metaphone(ascii_token)
            if key:
                keys.append(key)
    return keys


def phonetic_field(values: Iterable[object]) -> str:
    """The ``lrr_phonetic`` field value for a document's title and artist values."""
    keys: list[str] = []
    for value in values:
        if isinstance(value, str):
            keys.extend(phonetic_keys(value))
        elif isinstance(value, (list, tuple)):
            keys.extend(k for v in value if isinstance(v, str) for k in phonetic_keys(v))
    return " ".join(keys[:MAX_PHONETIC_TOKENS])
