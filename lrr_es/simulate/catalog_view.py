"""A read-only view of a catalog built once for query generation: normalized keys, lookups, samplers.

Everything here is derived from the catalog's own fields (title, artist, genre, main_genre, decade,
popularity, entity_type), never from a search strategy, so it can serve as ground truth.
Lists of doc ids are kept "by popularity": most popular first, ties by id, so caps are stable.
"""
from __future__ import annotations

import bisect
import itertools
import math
import random
import re
from collections import Counter, defaultdict
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

from ..errors import SimulationError
from ..folding import query_tokens
from .vocab import BROAD_GENRES, STOPWORDS

# Text users do not type: "(feat. X)", "[Live]", " - Remastered 2011", "- From the film ...".
_DECORATION = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]|\s+-\s+.*$")
MIN_GENRE_DOCS = 5         # a genre query needs at least this many matching docs
MIN_AMBIGUOUS_TITLES = 3   # a word is "common in titles" from this many titles on
TOP_CATALOG_GENRES = 20    # the catalog's most used genre values join BROAD_GENRES as query terms


@lru_cache(maxsize=1 << 16)
def norm(text: str) -> str:
    """Folded tokens joined by spaces: "Déjà  Vu!" -> "deja vu". Cached: artist names repeat a lot."""
    return " ".join(query_tokens(text))


def core_title(title: str) -> str:
    """The part of a title people type: "Hey Jude - Remastered 2015" -> "Hey Jude".

    Falls back to the full title when nothing typeable would remain.
    """
    core = _DECORATION.sub("", title).strip()
    return core if norm(core) else title.strip()


def _padded(text: str) -> str:
    """`` tokens `` of ``text`` with a space on each side: a token run is then a substring."""
    return f" {norm(text)} "


class PopularitySampler:
    """Draws ids with a long tail: a mixture of popularity-weighted and uniform draws.

    With probability ``popular_share`` an id is drawn with weight ``(popularity + 1) ** exponent``,
    otherwise uniformly, so popular items dominate yet every item can come up.
    """

    def __init__(self, ids: Sequence[str], popularity: Mapping[str, float], popular_share: float = 0.7,
                 exponent: float = 2.0) -> None:
        if not ids:
            raise SimulationError("cannot sample from an empty set of documents")
        self.ids = list(ids)
        self.popular_share = popular_share
        self._cumulative = list(itertools.accumulate((popularity[i] + 1.0) ** exponent for i in self.ids))

    def draw(self, rng: random.Random) -> str:
        """One id."""
        if rng.random() < self.popular_share:
            spot = bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])
            return self.ids[min(spot, len(self.ids) - 1)]
        return self.ids[rng.randrange(len(self.ids))]


class CatalogView:
    """Lookups over canonical documents (see ``lrr_es.catalog.rows.DOC_FIELDS``).

    Songs (any entity_type but "artist", with a title) are known-item targets; artist documents are
    artist-navigation targets. Raises SimulationError for a catalog without documents or with
    repeated or missing ids.
    """

    def __init__(self, docs: Iterable[Mapping], popular_share: float = 0.7) -> None:
        self.docs: dict[str, Mapping] = {}
        for doc in docs:
            doc_id = doc.get("id") if isinstance(doc, Mapping) else None
            if not isinstance(doc_id, str) or not doc_id:
                raise SimulationError(f"every document needs a non-empty string id, got {doc_id!r}")
            if doc_id in self.docs:
                raise SimulationError(f"document id {doc_id!r} occurs twice in the catalog")
            self.docs[doc_id] = doc
        if not self.docs:
            raise SimulationError("the catalog has no documents")
        self.popularity = {i: _number(d.get("popularity")) for i, d in self.docs.items()}
        self._artists = {i: _strings(d.get("artist")) for i, d in self.docs.items()}
        self._decade_of = {i: d.get("decade") for i, d in self.docs.items()
                          if isinstance(d.get("decade"), str) and d.get("decade")}
        self.songs = [i for i, d in self.docs.items() if d.get("entity_type") != "artist" and norm(self.title(i))]
        self.artists = [i for i, d in self.docs.items() if d.get("entity_type") == "artist" and norm(self.title(i))]
        self.song_sampler = PopularitySampler(self.songs, self.popularity, popular_share) if self.songs else None
        self.artist_sampler = PopularitySampler(self.artists, self.popularity, popular_share) if self.artists else None
        self._index()

    # --- fields -------------------------------------------------------------------------------

    def title(self, doc_id: str) -> str:
        """The title (an artist document's title is its name); "" when missing."""
        value = self.docs[doc_id].get("title")
        return value if isinstance(value, str) else ""

    def artists_of(self, doc_id: str) -> list[str]:
        """The credited artist names."""
        return list(self._artists[doc_id])

    def genres_of(self, doc_id: str) -> list[str]:
        """The genres, main_genre included."""
        doc = self.docs[doc_id]
        return list(dict.fromkeys(_strings(doc.get("genre")) + _strings(doc.get("main_genre"))))

    def decade_of(self, doc_id: str) -> str | None:
        """The decade label ("1980s"), or None."""
        return self._decade_of.get(doc_id)

    def by_popularity(self, ids: Iterable[str]) -> list[str]:
        """``ids`` without repeats, most popular first, ties by id."""
        return sorted(set(ids), key=lambda i: (-self.popularity[i], i))

    # --- lookups ------------------------------------------------------------------------------

    def _index(self) -> None:
        self._by_title: dict[str, list[str]] = defaultdict(list)
        self._by_title_artist: dict[tuple, list[str]] = defaultdict(list)
        self._songs_by_artist: dict[str, list[str]] = defaultdict(list)
        self._artists_by_name: dict[str, list[str]] = defaultdict(list)
        self._title_words: dict[str, list[str]] = defaultdict(list)
        self._artist_words: dict[str, list[str]] = defaultdict(list)
        self._genre_docs: dict[str, list[str]] = defaultdict(list)
        for i in self.songs:
            key = norm(core_title(self.title(i)))
            self._by_title[key].append(i)
            self._by_title_artist[self.title_artist_key(i)].append(i)
            for word in set(key.split()):  # the core title: "(feat. Nelly)" does not make "nelly" a title word
                self._title_words[word].append(i)
            for name in {norm(a) for a in self.artists_of(i)}:
                self._songs_by_artist[name].append(i)
        for i in self.artists:
            self._artists_by_name[norm(self.title(i))].append(i)
        for i in self.docs:
            for word in {w for a in self.artists_of(i) for w in norm(a).split()}:
                self._artist_words[word].append(i)
            for genre in self.genres_of(i):
                self._genre_docs[genre].append(i)
        for lookup in (self._by_title, self._by_title_artist, self._songs_by_artist, self._artists_by_name,
                       self._title_words, self._artist_words, self._genre_docs):
            for key, ids in lookup.items():
                lookup[key] = self.by_popularity(ids)
        self._genre_padded = {genre: _padded(genre) for genre in self._genre_docs}
        self._genre_word_set = {w for padded in self._genre_padded.values() for w in padded.split()}
        self._cache: dict[tuple[str | None, str | None], tuple[str, ...]] = {}
        self._pickers: dict[str, Weighted] = {}

    def title_artist_key(self, doc_id: str) -> tuple:
        """(normalized core title, normalized artist names): equal keys are the same recording."""
        return norm(core_title(self.title(doc_id))), tuple(sorted(norm(a) for a in self.artists_of(doc_id)))

    def same_recording(self, doc_id: str) -> list[str]:
        """The songs with ``doc_id``'s title and artists (``doc_id`` included), by popularity."""
        return list(self._by_title_artist[self.title_artist_key(doc_id)])

    def same_title(self, title: str) -> list[str]:
        """The songs whose normalized core title is ``norm(title)``, by popularity."""
        return list(self._by_title.get(norm(title), ()))

    def artist_docs(self, name: str) -> list[str]:
        """The artist documents named ``name`` (normalized), by popularity."""
        return list(self._artists_by_name.get(norm(name), ()))

    def songs_by(self, name: str) -> list[str]:
        """The songs crediting artist ``name`` (normalized), by popularity."""
        return list(self._songs_by_artist.get(norm(name), ()))

    def genre_docs(self, genre: str, decade: str | None = None) -> tuple[str, ...]:
        """Docs with a genre containing ``genre``'s tokens in order, of ``decade`` if given; by popularity."""
        key = (genre, decade)
        if key not in self._cache:
            if decade is None:
                part = _padded(genre)
                ids = (i for value, padded in self._genre_padded.items() if part in padded
                       for i in self._genre_docs[value])
                self._cache[key] = tuple(self.by_popularity(ids)) if part.strip() else ()
            else:  # filtering keeps the popularity order
                self._cache[key] = tuple(i for i in self.genre_docs(genre) if self.decade_of(i) == decade)
        return self._cache[key]

    def decade_docs(self, decade: str) -> tuple[str, ...]:
        """Songs of ``decade``, by popularity."""
        key = (None, decade)
        if key not in self._cache:
            self._cache[key] = tuple(self.by_popularity(i for i in self.songs if self.decade_of(i) == decade))
        return self._cache[key]

    # --- query vocabularies -------------------------------------------------------------------

    @property
    def genre_terms(self) -> dict[str, int]:
        """Genre query terms with their number of matching docs (>= MIN_GENRE_DOCS)."""
        if not hasattr(self, "_genre_terms"):
            top = [g for g, _ in Counter({g: len(ids) for g, ids in self._genre_docs.items()})
                   .most_common(TOP_CATALOG_GENRES)]
            counts = {term: len(self.genre_docs(term)) for term in dict.fromkeys([*BROAD_GENRES, *top])
                      if norm(term)}
            self._genre_terms = {t: c for t, c in counts.items() if c >= MIN_GENRE_DOCS}
        return self._genre_terms

    @property
    def decades(self) -> dict[str, int]:
        """Decades of songs with their song counts (>= MIN_GENRE_DOCS)."""
        if not hasattr(self, "_decades"):
            counts = Counter(self.decade_of(i) for i in self.songs)
            self._decades = {d: c for d, c in sorted(counts.items(), key=lambda kv: str(kv[0]))
                             if d is not None and c >= MIN_GENRE_DOCS}
        return self._decades

    @property
    def ambiguous_words(self) -> dict[str, int]:
        """Words common in titles that are also a genre word or part of an artist name, with title counts."""
        if not hasattr(self, "_ambiguous"):
            self._ambiguous = {
                word: len(ids) for word, ids in sorted(self._title_words.items())
                if len(ids) >= MIN_AMBIGUOUS_TITLES and len(word) >= 3 and word not in STOPWORDS
                and not word.isdigit() and (word in self._genre_word_set or word in self._artist_words)
            }
        return self._ambiguous

    def word_docs(self, word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(songs with ``word`` in the title, other docs with ``word`` in an artist name or a genre), by popularity."""
        key = (f"word:{word}", None)
        if key not in self._cache:
            titles = self._title_words.get(word, [])
            in_titles = set(titles)
            others = [i for i in self.by_popularity([*self._artist_words.get(word, ()), *self.genre_docs(word)])
                      if i not in in_titles]
            self._cache[key] = tuple(titles)
            self._cache[(f"others:{word}", None)] = tuple(others)
        return self._cache[key], self._cache[(f"others:{word}", None)]

    def pick(self, vocabulary: str, rng: random.Random) -> str:
        """A genre term (``vocabulary="genre"``) or an ambiguous word (``"ambiguous"``), drawn with
        weight sqrt(matching docs): frequent ones come up more often without crowding out the rest."""
        if vocabulary not in self._pickers:
            counts = {"genre": self.genre_terms, "ambiguous": self.ambiguous_words}[vocabulary]
            self._pickers[vocabulary] = Weighted(counts, power=0.5)
        return self._pickers[vocabulary].draw(rng)


class Weighted:
    """Draws keys of ``counts`` with weight ``count ** power`` (sqrt damps the head)."""

    def __init__(self, counts: Mapping[str, float], power: float = 0.5) -> None:
        if not counts:
            raise SimulationError("nothing to draw from: the vocabulary is empty")
        self.keys = list(counts)
        self._cumulative = list(itertools.accumulate(math.pow(counts[k], power) for k in self.keys))

    def draw(self, rng: random.Random) -> str:
        """One key."""
        spot = bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])
        return self.keys[min(spot, len(self.keys) - 1)]


def _strings(value) -> list[str]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    return max(float(value), 0.0)
