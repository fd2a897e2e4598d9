"""Text folding: the one normalization of text into tokens that queries, Q2E keys, phonetic keys,
query understanding, the semantic model and the ranking features share (pure).

Case is folded and accents are stripped, then the text is split into letter/digit tokens.
"""
from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[^\W_]+")


def query_tokens(text: str) -> list[str]:
    """The normalized tokens of ``text``, in text order: case folded, accents stripped."""
    return _TOKEN.findall(_fold(_fold(text)))


def _fold(text: str) -> str:
    # Case is folded before marks are stripped, through upper() first, so that letters whose case
    # forms differ in length agree (Turkish dotless i, Greek iota subscript, German sharp s).
    # Compatibility decomposition can yield capitals again (GREEK UPSILON WITH HOOK -> Upsilon),
    # hence two passes, after which the text is stable.
    decomposed = unicodedata.normalize("NFKD", text.upper().casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", stripped)
