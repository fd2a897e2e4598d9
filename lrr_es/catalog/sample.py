"""A deterministic synthetic music catalog in the canonical schema, for demos on a fresh machine.

No third-party data and no network: names come from ``sample_words``, randomness from one
``random.Random(seed)``. Popularity follows a Zipf-like law (a few stars, a long tail), titles are
often shared ("Love", "Home"), and some artist names contain title or genre words.
"""
from __future__ import annotations

import datetime as dt
import random
from typing import Iterator
from dataclasses import dataclass

from . import sample_words as words
from .fields import dedupe
from .rows import ParsedRow, make_doc

FIRST_YEAR, LAST_YEAR = 1950, 2024
SONGS_PER_ARTIST = 10
COLLABORATION_RATE = 0.1
ZIPF_EXPONENT = 0.8
CHART_POPULARITY = 30.0  # songs at least this popular carry a Billboard chart title


@dataclass(frozen=True)
class SampleArtist:
    """One made-up artist; ``debut`` bounds the years of its songs."""

    key: str
    name: str
    kind: str
    genres: tuple[str, ...]
    popularity: float
    followers: int
    debut: int


def sample_catalog(n_songs: int = 2000, seed: int = 7) -> list[dict]:
    """About ``n_songs // 10`` artist documents, then ``n_songs`` song documents.

    The same ``seed`` gives the same list; documents follow the canonical schema exactly.
    """
    if n_songs < 0:
        raise ValueError(f"n_songs must be >= 0, got {n_songs}")
    rng = random.Random(seed)
    artists = _artists(rng, max(1, n_songs // SONGS_PER_ARTIST) if n_songs else 0)
    credits = _credits(rng, artists, n_songs)
    songs = [_song(rng, number, artist, artists) for number, artist in enumerate(credits)]
    return [_artist_doc(artist) for artist in artists] + songs


def _zipf(rank: int) -> float:
    """Popularity 0..100 of the artist at popularity ``rank`` (1 = most popular)."""
    return 100.0 * rank ** -ZIPF_EXPONENT


def _artists(rng: random.Random, count: int) -> list[SampleArtist]:
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    taken: set[str] = set()
    return [_artist(rng, number, _unique_name(rng, taken), rank) for number, rank in enumerate(ranks)]


def _artist(rng: random.Random, number: int, name_kind: tuple[str, str], rank: int) -> SampleArtist:
    name, kind = name_kind
    main = rng.choices(words.GENRES, weights=words.GENRE_WEIGHTS)[0]
    genres = dedupe([main, *rng.sample(words.GENRES, rng.randint(0, 2))])
    if kind == "singer" and main == "hip hop":
        kind = "rapper"
    popularity = round(_zipf(rank) * rng.uniform(0.85, 1.0), 1)
    followers = int(popularity**3 * rng.uniform(5, 50))
    debut = rng.randint(FIRST_YEAR, LAST_YEAR - 2)
    return SampleArtist(f"sample-{number:04d}", name, kind, tuple(genres), popularity, followers, debut)


def _unique_name(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A (name, artist type) not in ``taken``; a numbered name if the word lists run out."""
    for _ in range(50):
        name, kind = _artist_name(rng)
        if name not in taken:
            break
    else:
        name = f"{name} {len(taken) + 1}"
    taken.add(name)
    return name, kind


def _artist_name(rng: random.Random) -> tuple[str, str]:
    pattern = rng.choices(range(6), weights=(30, 25, 10, 15, 14, 6))[0]
    if pattern == 0:
        return f"{rng.choice(words.FIRST_NAMES)} {rng.choice(words.LAST_NAMES)}", "singer"
    if pattern == 1:
        return f"The {rng.choice(words.ADJECTIVES)} {rng.choice(words.BAND_NOUNS)}", "band"
    if pattern == 2:
        return rng.choice(words.FIRST_NAMES), "singer"
    if pattern == 3:
        return f"{rng.choice(words.AMBIGUOUS_WORDS)} {rng.choice(words.COLLECTIVES)}", "band"
    if pattern == 4:
        return f"DJ {rng.choice(words.FIRST_NAMES)}", "DJ"
    return rng.choice(words.FOREIGN_BANDS), "band"


def _artist_doc(artist: SampleArtist) -> dict:
    return make_doc(
        doc_id=f"artist:{artist.key}",
        entity_type="artist",
        title=artist.name,
        artist=[artist.name],
        genre=artist.genres,
        main_genre=artist.genres[0],
        popularity=artist.popularity,
        followers=artist.followers,
        song_type=artist.kind,
    )


def _credits(rng: random.Random, artists: list[SampleArtist], n_songs: int) -> list[SampleArtist]:
    """The main artist of each song: every artist once, the rest weighted by sqrt(popularity)."""
    if not artists:
        return []
    weights = [artist.popularity**0.5 for artist in artists]
    extra = rng.choices(artists, weights=weights, k=n_songs - len(artists))
    credits = artists[:n_songs] + extra
    rng.shuffle(credits)
    return credits


def _song(rng: random.Random, number: int, artist: SampleArtist, artists: list[SampleArtist]) -> dict:
    performers = [artist]
    if len(artists) > 1 and rng.random() < COLLABORATION_RATE:
        performers.append(_other_artist(rng, artists, artist))
    title = _title(rng)
    if len(performers) > 1 and rng.random() < 0.5:
        title = f"{title} (feat. {performers[1].name})"
    year = rng.randint(artist.debut, min(artist.debut + 25, LAST_YEAR))
    popularity = round(artist.popularity * rng.uniform(0.2, 1.0), 1)
    return make_doc(
        doc_id=f"song:sample-{number:05d}",
        entity_type="song",
        title=title,
        artist=[p.name for p in performers],
        genre=dedupe(genre for p in performers for genre in p.genres),
        main_genre=artist.genres[0],
        year=year,
        popularity=popularity,
        explicit=rng.random() < words.EXPLICIT_RATE.get(artist.genres[0], 0.05),
        added_at=_day_in(rng, year),
        song_type="Collaboration" if len(performers) > 1 else "Solo",
        billboard=_chart_title(title) if popularity >= CHART_POPULARITY else None,
    )


def _other_artist(rng: random.Random, artists: list[SampleArtist], artist: SampleArtist) -> SampleArtist:
    """An artist other than ``artist``, uniformly (``artists`` holds at least two)."""
    pick = artists[rng.randrange(len(artists) - 1)]
    return artists[-1] if pick is artist else pick


def _title(rng: random.Random) -> str:
    pattern = rng.choices(range(6), weights=(22, 28, 12, 12, 10, 16))[0]
    if pattern == 0:
        title = rng.choice(words.SHARED_TITLES)
    elif pattern == 1:
        title = f"{rng.choice(words.ADJECTIVES)} {rng.choice(words.NOUNS)}"
    elif pattern == 2:
        title = f"{rng.choice(words.VERBS)} Me {rng.choice(words.ENDINGS)}"
    elif pattern == 3:
        title = f"{rng.choice(words.NOUNS)} in {rng.choice(words.PLACES)}"
    elif pattern == 4:
        title = f"I {rng.choice(words.VERBS)} You"
    else:
        title = f"{rng.choice(words.NOUNS)} of the {rng.choice(words.NOUNS)}"
    return title + rng.choice(words.VERSIONS) if rng.random() < 0.06 else title


def _day_in(rng: random.Random, year: int) -> str:
    """A random "YYYY-MM-DD" in ``year``."""
    start = dt.date(year, 1, 1)
    return (start + dt.timedelta(days=rng.randrange(365))).isoformat()


def _chart_title(title: str) -> str:
    """The title as a chart prints it: every word capitalized ("hold on" -> "Hold On")."""
    return " ".join(word[:1].upper() + word[1:] for word in title.split(" "))


def sample_rows(n_songs: int = 2000, seed: int = 7) -> Iterator[ParsedRow]:
    """The sample catalog as ParsedRows, so it loads through the same path as a file."""
    for line, doc in enumerate(sample_catalog(n_songs, seed), start=1):
        yield ParsedRow(source=f"sample(seed={seed})", line=line, doc=doc, error=None)
