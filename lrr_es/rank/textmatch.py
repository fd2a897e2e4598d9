"""The text-match ranking features of a whole pool at once: title and artist against the query (pure).

``text_match(q_tokens, docs)`` returns shape (n, 9): ``title_{exact,prefix,overlap,edit}``,
``artist_{exact,prefix,overlap,edit}`` and ``title_artist_coverage``, with the definitions of
:mod:`lrr_es.rank.features`. ``docs`` are the query-independent :class:`DocText` of the candidates
(folded once per document and cached by the caller). Per search the work is a few passes in C over
the pool's strings: RapidFuzz ``cdist`` calls for the common prefix (exact, prefix) and the edit
similarity (the same 1 - distance / longer length as ``Levenshtein.distance``), and one dictionary
look-up per document and query token; no Python loop runs per candidate.
"""
from __future__ import annotations

from itertools import chain, repeat
from typing import NamedTuple, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein, Prefix

EDIT_CHARS = 128  # edit distance is quadratic: a hostile 10,000-character title must not cost milliseconds
TEXT_COLUMNS = 9


class DocText(NamedTuple):
    """A document's folded strings: the title ("" when none), then each non-empty artist.

    Folded as queries are (case and accents folded, tokens joined by one space); ``edits`` are the
    first EDIT_CHARS characters of ``strings``; ``tokens`` maps each token to the bit mask of the
    strings holding it (bit 0 the title, bit j ``strings[j]``) and is never changed once built.
    """

    strings: tuple[str, ...]
    edits: tuple[str, ...]
    tokens: dict[str, int]


def doc_text(title: tuple[tuple[str, ...], str] | None,
             artists: Sequence[tuple[tuple[str, ...], str]]) -> DocText:
    """The DocText of a folded title ((tokens, joined), or None) and folded artists."""
    named = [((), "") if title is None else title, *((t, j) for t, j in artists if j)]
    tokens: dict[str, int] = {}
    for bit, (words, _) in enumerate(named):
        for word in words:
            tokens[word] = tokens.get(word, 0) | 1 << bit
    strings = tuple(j for _, j in named)
    return DocText(strings, tuple(s[:EDIT_CHARS] for s in strings), tokens)


def text_match(q_tokens: Sequence[str], docs: Sequence[DocText]) -> np.ndarray:
    """The text-match columns of ``docs`` for a query of folded ``q_tokens``, shape (len(docs), 9)."""
    n = len(docs)
    out = np.zeros((n, TEXT_COLUMNS))
    q_set = frozenset(q_tokens)
    if n == 0 or not q_set:
        return out
    strings, edits, tokens = zip(*docs)  # one tuple per field, over the documents
    counts = np.fromiter(map(len, strings), dtype=np.intp, count=n)
    starts = np.cumsum(counts) - counts
    owner = np.repeat(np.arange(n), counts)  # per string: its document, and its slot (0 the title)
    slot = np.arange(owner.size) - starts[owner]
    found = np.zeros(owner.size, dtype=np.int64)  # distinct query tokens in each string
    for token in q_set:
        bits = np.fromiter(map(dict.get, tokens, repeat(token), repeat(0)), dtype=np.int64, count=n)
        found += (bits[owner] >> slot) & 1
        out[:, 8] += bits != 0
    out[:, 8] /= len(q_set)
    q_joined = " ".join(q_tokens)
    if not q_joined:
        return out
    flat = list(chain.from_iterable(strings))
    match = np.empty((owner.size, 4))  # exact, prefix, overlap, edit per string, each computed in C
    match[:, 0] = _cdist(q_joined, flat, Prefix.distance) == 0  # max(len) - common prefix
    match[:, 1] = _cdist(q_joined, flat, Prefix.similarity) == len(q_joined)  # common prefix
    match[:, 2] = found / len(q_set)
    match[:, 3] = _cdist(q_joined[:EDIT_CHARS], list(chain.from_iterable(edits)), Levenshtein.normalized_similarity)
    out[:, 0:4] = match[starts]
    if (counts == 2).all():  # one artist each, the common case
        out[:, 4:8] = match[starts + 1]
    elif owner.size > n:  # several artists: the best one counts, compared as (exact, prefix, overlap, edit)
        artist = np.flatnonzero(slot > 0)
        best = artist[_best_per_owner(match[artist], owner[artist])]
        out[owner[best], 4:8] = match[best]
    return out


def _cdist(query: str, choices: list[str], scorer) -> np.ndarray:
    """``scorer(query, c)`` for every choice, shape (len(choices),); for Levenshtein.normalized_similarity
    that is 1 - distance / longer length, exactly as ``1 - Levenshtein.distance(a, b) / max(len)``."""
    dtype = np.float64 if scorer is Levenshtein.normalized_similarity else np.int64
    return process.cdist((query,), choices, scorer=scorer, dtype=dtype, workers=1)[0]


def _best_per_owner(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Index of the lexicographically largest row of ``values`` (m, 4) per ``owner`` (ascending)."""
    order = np.lexsort((values[:, 3], values[:, 2], values[:, 1], values[:, 0], owner))
    ordered = owner[order]
    return order[np.append(ordered[1:] != ordered[:-1], True)]
