"""Query understanding on a small literal gazetteer: lookups, surface forms, readings, bad input."""
import json
import time

import pytest

from lrr_es.config import FieldMap
from lrr_es.roles import field_map
from lrr_es.errors import QueryError
from lrr_es.qu import Entry, Gazetteer, Interpretation, Readings, Slot, derived_aliases, interpret, role_fields, understand
from lrr_es.parse import parse_query

COUNTS = {
    "genre": {"rock": 500, "pop": 400, "love": 40, "soft rock": 100},
    "decade": {"1980s": 3000, "1990s": 4000},
    "year": {"1987": 300},
    "artist": {"taylor swift": 120, "courtney love": 10, "love": 5, "the beatles": 60},
    "entity_type": {"song": 20000, "artist": 10000},
}
GAZ = Gazetteer("music", COUNTS, 30000, fields={"genre": "genre"}, aliases=derived_aliases(COUNTS), version=3)


def readings(text, k=5):
    """Interpretations as plain tuples: (likelihood, [(role, value, matched_text)], rest)."""
    return [(i.likelihood, [(s.role, s.value, s.matched_text) for s in i.slots], i.rest) for i in interpret(text, GAZ, k)]


def test_derived_surface_forms():
    assert derived_aliases(COUNTS) == {
        "decade": {"1980 s": "1980s", "1990 s": "1990s", "80 s": "1980s", "80s": "1980s", "90 s": "1990s",
                   "90s": "1990s", "eighties": "1980s", "nineties": "1990s"},
        "entity_type": {"artists": "artist", "band": "artist", "bands": "artist", "singer": "artist",
                        "singers": "artist", "songs": "song", "track": "song", "tracks": "song"},
        "artist": {"beatles": "the beatles"},
    }


def test_a_short_form_goes_to_the_decade_on_more_documents():
    assert derived_aliases({"decade": {"1910s": 5, "2010s": 900}})["decade"]["10s"] == "2010s"
    assert derived_aliases({"decade": {"1910s": 900, "2010s": 5}})["decade"]["10s"] == "1910s"


def test_exact_lookup_returns_every_role_of_a_value():
    assert GAZ.exact(("love",)) == (Entry("genre", "love", 0.001333), Entry("artist", "love", 0.000167))
    assert GAZ.exact(("80s",)) == (Entry("decade", "1980s", 0.1, 0.95),)
    assert GAZ.exact(("1987",)) == (Entry("year", 1987, 0.01),)
    assert GAZ.exact(("courtney",)) == ()  # part of an artist name is not the artist


def test_fuzzy_lookup_is_bounded_per_token():
    assert GAZ.fuzzy(("tayler", "swift")) == [Entry("artist", "taylor swift", 0.004, 0.863636)]
    assert GAZ.fuzzy(("eigties",)) == [Entry("decade", "1980s", 0.1, 0.746429)]  # 0.95 * (1 - 1.5 / 7)
    assert GAZ.fuzzy(("rokc",)) == []  # four characters: exact only
    assert GAZ.fuzzy(("1988",)) == []  # digits: exact only
    assert GAZ.fuzzy(("teylor", "swyft")) == [Entry("artist", "taylor swift", 0.004, 0.727273)]  # 1 edit each
    assert GAZ.fuzzy(("taylor", "swfit")) == []  # a transposition is 2 edits, over the bound of 5 characters
    assert GAZ.fuzzy(("raylor", "swift")) == []  # the first character must agree


def test_artifact_round_trip_and_refusals():
    back = Gazetteer.from_artifact(GAZ.to_artifact())
    assert back == GAZ and back.exact(("80s",)) == GAZ.exact(("80s",))
    assert Gazetteer.from_artifact(GAZ.to_artifact(), version=9).version == 9
    assert GAZ.to_artifact() == GAZ.to_artifact()
    with pytest.raises(QueryError, match="format 7"):
        Gazetteer.from_dict({**GAZ.to_dict(), "format": 7})
    with pytest.raises(QueryError, match="unreadable"):
        Gazetteer.from_artifact("bm90IGd6aXA=")
    with pytest.raises(QueryError, match=r"bad role name\(s\) 'Colour!'"):
        Gazetteer("music", {"Colour!": {"red": 1}}, 10)
    with pytest.raises(QueryError, match="total must be a non-negative integer, got -1"):
        Gazetteer("music", {}, -1)


def test_role_fields_follow_the_field_map():
    assert role_fields(FieldMap()) == {"genre": "genre", "decade": "decade", "year": "year",
                                       "entity_type": "entity_type", "artist": "artist.keyword"}
    renamed = field_map("fields", {"artist": "performer.raw", "genre": "style", "decade": None, "mood": "mood",
                                   "year": None})
    assert role_fields(renamed) == {"genre": "style", "entity_type": "entity_type", "mood": "mood",
                                    "artist": "performer.raw"}


def test_80s_rock_is_decade_and_genre():
    assert readings("80s rock") == [
        (0.560764, [("decade", "1980s", "80s"), ("genre", "rock", "rock")], ""),
        (0.199236, [("decade", "1980s", "80s")], "rock"),
        (0.177083, [("genre", "rock", "rock")], "80s"),
        (0.062917, [], "80s rock"),
    ]


@pytest.mark.parametrize("text", ["eighties rock", "'80s rock", "1980s rock", "80's rock", "EIGHTIES Rock"])
def test_decade_surface_forms_read_as_the_stored_decade(text):
    top = interpret(text, GAZ)[0]
    assert [(s.role, s.value) for s in top.slots] == [("decade", "1980s"), ("genre", "rock")] and top.rest == ""


def test_love_is_ambiguous_between_genre_artist_and_title_word():
    assert readings("love") == [
        (0.456343, [("genre", "love", "love")], ""),
        (0.324601, [("artist", "love", "love")], ""),
        (0.219057, [], "love"),
    ]


def test_a_full_artist_name_beats_its_parts():
    assert readings("courtney love")[:2] == [
        (0.595712, [("artist", "courtney love", "courtney love")], ""),
        (0.184494, [("genre", "love", "love")], "courtney"),
    ]


def test_misspellings_are_read_fuzzily():
    assert readings("tayler swift") == [(0.892423, [("artist", "taylor swift", "tayler swift")], ""),
                                        (0.107577, [], "tayler swift")]
    assert readings("eigties rock") == [
        (0.526314, [("decade", "1980s", "eigties"), ("genre", "rock", "rock")], ""),
        (0.211533, [("genre", "rock", "rock")], "eigties"),
        (0.186996, [("decade", "1980s", "eigties")], "rock"),
        (0.075156, [], "eigties rock"),
    ]


def test_rest_keeps_the_users_words_and_matched_text_the_users_spelling():
    second = interpret("Love Story  Taylor Swift", GAZ)[1]
    assert second == Interpretation((Slot("artist", "taylor swift", "Taylor Swift", 0.600343),), "Love Story", 0.259825)
    assert interpret("rock 'n' roll", GAZ)[0].rest == "'n' roll"


def test_a_second_slot_of_one_role_is_penalized():
    # artist "love" + artist "taylor swift": 0.370453 * 0.3 (repeated role) * 0.600343 * 0.25 (free "story")
    assert readings("love story taylor swift")[2] == (0.115503, [("artist", "love", "love"),
                                                                 ("artist", "taylor swift", "taylor swift")], "story")


def test_unknown_text_has_one_reading():
    assert readings("zzz qqq") == [(1.0, [], "zzz qqq")]
    assert readings("!!!") == [(1.0, [], "!!!")]


def test_k_bounds_the_readings_and_keeps_the_all_text_one():
    two = interpret("80s rock", GAZ, k=2)
    assert [len(i.slots) for i in two] == [2, 0] and sum(i.likelihood for i in two) == pytest.approx(1.0, abs=1e-5)
    for bad in (1, 0, 51, 2.0, True):
        with pytest.raises(QueryError, match=rf"k must be an integer in \[2, 50\], got {bad!r}"):
            interpret("rock", GAZ, k=bad)
    with pytest.raises(QueryError, match="query text must be a string, not int"):
        interpret(42, GAZ)


def test_to_dict_is_plain_json():
    first = interpret("1987 songs", GAZ)[0]
    assert first.to_dict() == {"slots": [
        {"role": "year", "value": 1987, "matched_text": "1987", "score": 0.666667},
        {"role": "entity_type", "value": "song", "matched_text": "songs", "score": 0.922119}],
        "rest": "", "likelihood": 0.572154}
    assert json.loads(json.dumps(first.to_dict())) == first.to_dict()


def test_understand_returns_a_new_query():
    query = parse_query("80s rock", seed=4)
    understood = understand(query, GAZ)
    assert query.interpretations == () and understood.seed == 4 and understood.text == "80s rock"
    assert understood.interpretations == interpret("80s rock", GAZ)


def test_cached_readings_equal_a_fresh_reading_and_a_new_gazetteer_reads_again():
    cache = Readings(size=2)
    first = cache.understand(parse_query("80s rock", seed=1), GAZ)
    assert first.interpretations == interpret("80s rock", GAZ)
    again = cache.understand(parse_query("80s rock", seed=2), GAZ)  # another search of the same text
    assert again.interpretations is first.interpretations and again.seed == 2
    rebuilt = Gazetteer("music", {**COUNTS, "genre": {"pop": 900}}, 30000, fields={"genre": "genre"},
                        aliases=derived_aliases(COUNTS), version=4)
    assert cache.understand(parse_query("80s rock"), rebuilt).interpretations == interpret("80s rock", rebuilt)
    assert interpret("80s rock", rebuilt) != first.interpretations  # rock is no genre of the rebuilt one
    for text in ("love", "taylor swift", "the beatles"):  # bounded: the oldest text goes
        cache.understand(parse_query(text), rebuilt)
    assert len(cache._cache) == 2


HOSTILE = ["x" * 10_000, "love " * 2_000, "rock " * 3_000 + "80s", "title:(love OR hate) AND -x~2 /re.*gex/ [a TO z] {b} ^3",
           "𝄞 Beyoncé 東京 עברית \u200b\u0000 ﬁ ß İ ǅ", "\U0010ffff" * 500, "\ud800 lone surrogate", "٣٤ ¹²³ ⅷ", "   "]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_read_quickly_and_normalized(text):
    started = time.perf_counter()
    found = interpret(text, GAZ)
    assert time.perf_counter() - started < 0.5
    assert 1 <= len(found) <= 5 and sum(i.likelihood for i in found) == pytest.approx(1.0, abs=1e-5)
    assert [i.likelihood for i in found] == sorted((i.likelihood for i in found), reverse=True)
    assert any(not i.slots for i in found)
    assert interpret(text, GAZ) == found  # deterministic
