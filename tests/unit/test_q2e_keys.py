import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrr_es.q2e import MAX_KEY_LENGTH, is_key, q2e_key, scoped_key, seed_keys

VALID_KEY = re.compile(r"^[^\W_]+(_[^\W_]+)*$")


@pytest.mark.parametrize("text, key", [
    ("Taylor Swift", "swift_taylor"),
    ("  swift\tTAYLOR ", "swift_taylor"),
    ("Beyoncé", "beyonce"),
    ("BEYONCE", "beyonce"),
    ("thank u, next", "next_thank_u"),
    ("AC/DC", "ac_dc"),
    ("80s rock", "80s_rock"),
    ("Straße", "strasse"),
    ("ＦＵＬＬ ｗｉｄｔｈ", "full_width"),
    ("a.b.c", "a_b_c"),
    ("snake_case_query", "case_query_snake"),
])
def test_literal_keys(text, key):
    assert q2e_key(text) == key


def test_symbol_only_queries_get_a_stable_hash_key():
    assert q2e_key("!!!") == q2e_key("!!!")
    assert q2e_key("!!!").startswith("h_") and q2e_key("!!!") != q2e_key("???")


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "\u3000"])
def test_blank_queries_are_refused(text):
    with pytest.raises(ValueError, match="no Q2E key"):
        q2e_key(text)


def test_non_strings_are_refused():
    with pytest.raises(TypeError):
        q2e_key(None)


def test_long_queries_are_bounded_and_distinct():
    a, b = q2e_key("x" * 10_000), q2e_key("x" * 9_999)
    assert len(a) <= MAX_KEY_LENGTH and len(b) <= MAX_KEY_LENGTH and a != b
    assert VALID_KEY.match(a)


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=1, max_size=300).filter(lambda t: t.strip()))
def test_every_key_is_a_valid_rank_features_name(text):
    key = q2e_key(text)
    assert 0 < len(key) <= MAX_KEY_LENGTH
    assert "." not in key and not key.startswith("_") and not any(c.isspace() for c in key)
    assert VALID_KEY.match(key) or key.startswith("h_")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=8),
                min_size=1, max_size=5))
def test_token_order_and_case_do_not_matter(words):
    forward, backward = " ".join(words), " ".join(reversed(words)).upper()
    assert q2e_key(forward) == q2e_key(backward)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()))
def test_normalizing_a_short_key_again_is_stable(text):
    key = q2e_key(text)
    if not key.startswith("h_") and len(key) < MAX_KEY_LENGTH - 20:
        assert q2e_key(key.replace("_", " ")) == key


def test_seed_keys_priorities_and_bounds():
    seeds = seed_keys("Love Story", ["Taylor Swift"], ["country", "pop"], popularity=50)
    assert seeds == {"love_story_swift_taylor": 2.0, "love_story": 1.0, "swift_taylor": 0.5,
                     "country_swift_taylor": 0.3, "pop_swift_taylor": 0.3}
    assert seed_keys(None, [], [], 0) == {}
    assert seed_keys("  ", ["!!"], [], 0) == {"h_" + q2e_key("!!")[2:]: 0.25}
    many = seed_keys("t", [f"artist {i}" for i in range(10)], [f"g{i}" for i in range(10)], 100)
    assert 0 < len(many) <= 12 and all(v > 0 for v in many.values())


def test_scoped_keys_never_equal_a_query_key():
    assert scoped_key("love_story", ["pt-BR"]) == "love_story__pt_br"
    assert scoped_key("love_story", ["pt-BR", None]) == "love_story__pt_br_none"
    assert scoped_key("love_story", []) == "love_story"
    assert is_key(scoped_key("love_story", ["en"])) and "__" not in q2e_key("love story pt br")
    long = scoped_key(q2e_key("x" * 300), ["pt-BR"])
    assert len(long) <= MAX_KEY_LENGTH and is_key(long) and "__" in long
    assert long != scoped_key(q2e_key("x" * 300), ["en"])
