"""One query of each intent: its text as a user would type it, and its graded relevant documents.

Every builder is ``(view, rng) -> Draft | None``; None means "this draw did not give a usable
query" (a one-word title cannot be typed partially) and the generator draws again. Relevance comes
from catalog fields only (see ``catalog_view``). Grades: 3 = the item sought, 2 = clearly
relevant, 1 = partly relevant.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

from .catalog_view import CatalogView, Weighted, core_title, norm
from .typos import can_misspell, misspell
from .vocab import BROAD_GENRES, STOPWORDS, pick_decade_text

LOWERCASE_SHARE = 0.75     # most people type queries in lower case
SAME_TITLE_CAP = 20        # other songs with the searched title, graded 1
ARTIST_SONGS_CAP = 20      # an artist's songs graded 2 under an artist query
BROAD_CAP, BROAD_TOP = 100, 20  # genre/decade: the BROAD_TOP most popular graded 2, up to BROAD_CAP graded 1
AMBIGUOUS_TITLE_CAP = 50   # ambiguous word: title matches graded 2
AMBIGUOUS_OTHER_CAP = 50   # ambiguous word: artist-name or genre matches graded 1
ARTIST_TYPO_SHARE = 0.2    # artist queries typed with a typo
DROP_THE_SHARE = 0.3       # "beatles" for "The Beatles"
TWO_TYPOS_SHARE = 0.2      # typo queries with two typos (long titles only)


@dataclass(frozen=True)
class Draft:
    """A query before it gets an id: text, relevant {doc_id: grade}, target doc id, metadata."""

    text: str
    relevant: dict[str, int]
    target: str | None = None
    meta: dict = field(default_factory=dict)


def _typed(text: str, rng: random.Random) -> str:
    """``text`` as typed: trimmed, single-spaced, usually lower case."""
    text = " ".join(text.split())
    return text.lower() if rng.random() < LOWERCASE_SHARE else text


def _graded(*groups: tuple[list[str] | tuple[str, ...], int]) -> dict[str, int]:
    """{doc_id: grade} from (ids, grade) groups; an id keeps the grade of its first group."""
    relevant: dict[str, int] = {}
    for ids, grade in groups:
        for doc_id in ids:
            relevant.setdefault(doc_id, grade)
    return relevant


def _song_meta(view: CatalogView, doc_id: str) -> dict:
    return {"title": view.title(doc_id), "artist": view.artists_of(doc_id), "popularity": view.popularity[doc_id]}


def _known_item_relevance(view: CatalogView, target: str, with_same_title: bool) -> dict[str, int]:
    """The target and its duplicates (same title and artists) 3; other songs of that title 1."""
    same_title = view.same_title(core_title(view.title(target)))[:SAME_TITLE_CAP] if with_same_title else []
    return _graded(([target], 3), (view.same_recording(target), 3), (same_title, 1))


def known_item_exact(view: CatalogView, rng: random.Random) -> Draft | None:
    """The exact (core) title of a song: "bohemian rhapsody"."""
    target = view.song_sampler.draw(rng)
    text = _typed(core_title(view.title(target)), rng)
    return Draft(text, _known_item_relevance(view, target, True), target, _song_meta(view, target))


def known_item_partial(view: CatalogView, rng: random.Random) -> Draft | None:
    """Leading words of a title, often with an unfinished last word: "bohemian rha"."""
    target = view.song_sampler.draw(rng)
    core = core_title(view.title(target))
    words = core.split()
    keep = rng.randint(0, len(words) - 1) if len(words) > 1 else 0
    nxt = words[keep]
    # a lone unfinished first word keeps 4+ letters: "lan" for "Landslide" is autocomplete, not search
    unfinished = len(nxt) >= (5 if keep == 0 else 3) and (keep == 0 or rng.random() < 0.5)
    head = words[:keep] + ([nxt[:rng.randint(4 if keep == 0 else 2, len(nxt) - 1)]] if unfinished else [])
    text = " ".join(head)
    tokens = norm(text).split()
    if not tokens or norm(text) == norm(core) or all(t in STOPWORDS for t in tokens) or len(norm(text)) < 3:
        return None
    meta = {**_song_meta(view, target), "unfinished": unfinished}
    return Draft(_typed(text, rng), _known_item_relevance(view, target, False), target, meta)


def known_item_typo(view: CatalogView, rng: random.Random) -> Draft | None:
    """A song title with one or two typos: "bohemain rhapsody"."""
    target = view.song_sampler.draw(rng)
    clean = _typed(core_title(view.title(target)), rng)
    if not can_misspell(clean):
        return None
    typos = 2 if len(clean) >= 12 and rng.random() < TWO_TYPOS_SHARE else 1
    typo = misspell(clean, rng, typos)
    meta = {**_song_meta(view, target), "clean": clean, "typos": list(typo.kinds)}
    return Draft(typo.text, _known_item_relevance(view, target, True), target, meta)


def _artist_text(name: str, rng: random.Random) -> str:
    words = name.split()
    if len(words) > 1 and words[0].lower() == "the" and rng.random() < DROP_THE_SHARE:
        return " ".join(words[1:])
    return name


def title_artist(view: CatalogView, rng: random.Random) -> Draft | None:
    """Title and artist, usually in that order: "hey jude beatles"."""
    target = view.song_sampler.draw(rng)
    artists = view.artists_of(target)
    if not artists:
        return None
    title, artist = core_title(view.title(target)), _artist_text(artists[0], rng)
    text = f"{artist} {title}" if rng.random() < 0.25 else f"{title} {artist}"
    return Draft(_typed(text, rng), _known_item_relevance(view, target, False), target, _song_meta(view, target))


def artist_navigation(view: CatalogView, rng: random.Random) -> Draft | None:
    """An artist's name, sometimes without "The" or with a typo: "rolling stones", "beyonse"."""
    target = view.artist_sampler.draw(rng)
    name = view.title(target)
    clean = _typed(_artist_text(name, rng), rng)
    meta: dict = {"name": name, "popularity": view.popularity[target]}
    text = clean
    if rng.random() < ARTIST_TYPO_SHARE and can_misspell(clean):
        typo = misspell(clean, rng)
        text, meta = typo.text, {**meta, "clean": clean, "typos": list(typo.kinds)}
    songs = view.songs_by(name)[:ARTIST_SONGS_CAP]
    return Draft(text, _graded(([target], 3), (view.artist_docs(name), 3), (songs, 2)), target, meta)


_BROAD_FORMS = ("genre", "decade genre", "genre decade", "decade")
_BROAD_FORM_WEIGHTS = (0.35, 0.35, 0.15, 0.15)


def genre_decade(view: CatalogView, rng: random.Random) -> Draft | None:
    """A genre, a decade or both: "rock", "80s rock", "pop 2000s", "eighties pop", "90s"."""
    forms = [f for f in _BROAD_FORMS if (("genre" not in f or view.genre_terms) and ("decade" not in f or view.decades))]
    form = rng.choices(forms, weights=[_BROAD_FORM_WEIGHTS[_BROAD_FORMS.index(f)] for f in forms])[0]
    genre = view.pick("genre", rng) if "genre" in form else None
    decade = None
    if "decade" in form:
        counts = view.decades if genre is None else {d: len(view.genre_docs(genre, d)) for d in view.decades}
        counts = {d: c for d, c in counts.items() if c > 0}
        if not counts:
            return None
        decade = Weighted(counts, power=1.0).draw(rng)
    ids = view.decade_docs(decade) if genre is None else view.genre_docs(genre, decade)
    if not ids:
        return None
    slots = {"genre": rng.choice(BROAD_GENRES.get(genre, (genre,))) if genre else "",
             "decade": pick_decade_text(decade, rng) if decade else ""}
    text = " ".join(slots[slot] for slot in form.split())
    relevant = _graded((ids[:BROAD_TOP], 2), (ids[BROAD_TOP:BROAD_CAP], 1))
    return Draft(_typed(text, rng), relevant, None, {"form": form, "genre": genre, "decade": decade})


def ambiguous_word(view: CatalogView, rng: random.Random) -> Draft | None:
    """One word common in titles that is also a genre word or part of an artist name: "soul", "angel"."""
    word = view.pick("ambiguous", rng)
    titles, others = view.word_docs(word)
    text = word if rng.random() < LOWERCASE_SHARE else word.capitalize()
    meta = {"title_matches": len(titles), "other_matches": len(others)}
    return Draft(text, _graded((titles[:AMBIGUOUS_TITLE_CAP], 2), (others[:AMBIGUOUS_OTHER_CAP], 1)), None, meta)


Builder = Callable[[CatalogView, random.Random], "Draft | None"]
INTENTS: dict[str, Builder] = {
    "known_item_exact": known_item_exact,
    "known_item_partial": known_item_partial,
    "known_item_typo": known_item_typo,
    "title_artist": title_artist,
    "artist": artist_navigation,
    "genre_decade": genre_decade,
    "ambiguous": ambiguous_word,
}


def available_intents(view: CatalogView) -> list[str]:
    """The intents this catalog can produce queries for (e.g. no "artist" without artist documents)."""
    has = {
        "known_item_exact": view.song_sampler is not None,
        "known_item_partial": view.song_sampler is not None,
        "known_item_typo": view.song_sampler is not None,
        "title_artist": view.song_sampler is not None and any(view.artists_of(i) for i in view.songs),
        "artist": view.artist_sampler is not None,
        "genre_decade": bool(view.genre_terms or view.decades),
        "ambiguous": bool(view.ambiguous_words),
    }
    return [name for name in INTENTS if has[name]]
