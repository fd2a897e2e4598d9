"""The words simulated users type for genres and decades, and words too common to be a query."""
from __future__ import annotations

import random
import re

# Broad genres people search for, with the spellings they use for them. The first spelling is the
# catalog's own: a doc matches when one of its genres contains the first spelling's tokens in order
# ("rock" matches "album rock", "hip hop" matches "southern hip hop").
BROAD_GENRES: dict[str, tuple[str, ...]] = {
    "rock": ("rock",), "pop": ("pop",), "hip hop": ("hip hop", "hiphop", "hip-hop"), "rap": ("rap",),
    "country": ("country",), "soul": ("soul",), "r&b": ("r&b", "rnb", "r and b"), "jazz": ("jazz",),
    "blues": ("blues",), "metal": ("metal",), "folk": ("folk",), "punk": ("punk",), "funk": ("funk",),
    "disco": ("disco",), "reggae": ("reggae",), "electronic": ("electronic",), "dance": ("dance",),
    "latin": ("latin",), "indie": ("indie",), "gospel": ("gospel",), "classical": ("classical",),
    "house": ("house",), "techno": ("techno",), "k-pop": ("k-pop", "kpop"), "grunge": ("grunge",),
    "motown": ("motown",), "new wave": ("new wave",), "emo": ("emo",), "trap": ("trap",),
    "edm": ("edm",), "ska": ("ska",), "swing": ("swing",), "salsa": ("salsa",),
}

_DECADE_WORDS = {
    1920: "twenties", 1930: "thirties", 1940: "forties", 1950: "fifties", 1960: "sixties",
    1970: "seventies", 1980: "eighties", 1990: "nineties", 2000: "noughties",
}
_DECADE_LABEL = re.compile(r"(\d{3})0s")

# Title words that make no query on their own (articles, pronouns, prepositions, credits).
STOPWORDS = frozenset(
    "a an the and or of in on at to for from by with without into onto over under up down out off "
    "i me my mine you your yours he him his she her it its we us our they them their this that "
    "is are was were be been am do does did don t s m ll re ve d not no yes so if but oh ooh "
    "feat ft featuring remix version edit mix live remastered remaster mono stereo single "
    "radio original album la le el de del lo los las en et y da di der die das und "
    "all can get got go just let like make what when where who how why see say now then there here too "
    "will won gonna wanna ain cause about again every only just".split()
)


def decade_texts(decade: str) -> tuple[str, ...]:
    """The ways to type a decade label such as "1980s": ("80s", "1980s", "eighties", "'80s").

    Decades from 2000 on are typed with four digits ("2000s", "2010s") or as "00s"/"10s".
    A label that is not ``NNN0s`` is typed as it is.
    """
    match = _DECADE_LABEL.fullmatch(decade)
    if match is None:
        return (decade,)
    start = int(match.group(1)) * 10
    if start < 1920:  # "00s" would read as the 2000s
        return (decade,)
    short = f"{start % 100:02d}s"
    texts = [short, decade, f"'{short}"] if start < 2000 else [decade, short]
    if start in _DECADE_WORDS:
        texts.append(_DECADE_WORDS[start])
    return tuple(texts)


def pick_decade_text(decade: str, rng: random.Random) -> str:
    """One way to type ``decade``, the common ones more often ("80s" before "eighties")."""
    texts = decade_texts(decade)
    weights = [0.5, 0.25, 0.1, 0.15][: len(texts)] if len(texts) > 2 else [0.7, 0.3][: len(texts)]
    return rng.choices(texts, weights=weights)[0]
