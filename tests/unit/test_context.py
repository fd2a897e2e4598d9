from datetime import datetime, timezone

import numpy as np
import pytest

from lrr_es.context import CONTEXT_DIM, CONTEXT_SCHEMA, context_vector
from lrr_es.errors import QueryError
from lrr_es.qu import Interpretation, Slot
from lrr_es.parse import parse_query


def named(x):
    return {name: value for name, value in zip(CONTEXT_SCHEMA, x) if value != 0}


def test_a_plain_query_without_caller_context():
    x = context_vector(parse_query("Love Story"))
    assert x.shape == (CONTEXT_DIM,) and x.dtype == np.float64
    assert named(x) == {"bias": 1.0, "chars": 10 / 64, "tokens_2": 1.0}


def test_interpretations_and_caller_context():
    query = parse_query("80s rock 2")
    readings = (Interpretation((Slot("decade", "1980s", "80s", 0.9), Slot("genre", "rock", "rock", 0.8)), "2", 0.75),
                Interpretation((), "80s rock 2", 0.25))
    query = type(query)(**{**query.__dict__, "interpretations": readings})
    saturday_noon = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
    x = context_vector(query, {"timestamp": saturday_noon, "device": "mobile", "user_searches": 1000},
                       vocabulary={"80s", "rock"})
    assert named(x) == pytest.approx({
        "bias": 1.0, "chars": 10 / 64, "tokens_3": 1.0, "has_digit": 1.0, "known_token_share": 2 / 3,
        "vocabulary_given": 1.0, "qu_top_likelihood": 0.75, "qu_slot_mass": 0.75, "qu_free_text_likelihood": 0.25,
        "qu_rest_share": 1 / 3, "qu_readings": 0.4, "slot_attr1": 0.75, "slot_attr2": 0.75,
        "hour_sin": np.sin(np.pi), "hour_cos": -1.0, "weekend": 1.0, "time_given": 1.0, "device_mobile": 1.0,
        "user_activity": 1.0,
    }, abs=1e-12)


def test_epoch_milliseconds_and_seconds_agree_and_unknown_devices_are_other():
    a = context_vector(parse_query("x"), {"timestamp": 1_763_726_400, "device": "fridge"})
    b = context_vector(parse_query("x"), {"timestamp": 1_763_726_400_000, "device": "fridge"})
    assert np.array_equal(a, b) and named(a)["device_other"] == 1.0


@pytest.mark.parametrize("text", ["!!!", "東京 タワー", "x" * 10_000, "𝄞 \u200b é"])
def test_every_query_gives_a_finite_bounded_vector(text):
    x = context_vector(parse_query(text), vocabulary=set())
    assert np.isfinite(x).all() and (np.abs(x) <= 1.0).all()


@pytest.mark.parametrize("caller", [{"timestamp": float("nan")}, {"timestamp": "noon"}, {"device": 3},
                                    {"user_searches": -1}, {"user_searches": float("inf")}, {"weather": "rain"}, [1]])
def test_bad_caller_context_is_a_clear_error(caller):
    with pytest.raises(QueryError, match="context"):
        context_vector(parse_query("x"), caller)


def test_slot_features_follow_the_index_attributes():
    query = parse_query("football portugal")
    readings = (Interpretation((Slot("sport", "football", "football", 0.9), Slot("country", "Portugal", "portugal", 0.9)),
                               "", 0.8), Interpretation((), "football portugal", 0.2))
    query = type(query)(**{**query.__dict__, "interpretations": readings})
    x = named(context_vector(query, slot_roles=("country", "sport")))
    assert x["slot_attr1"] == pytest.approx(0.8) and x["slot_attr2"] == pytest.approx(0.8)
    assert "slot_attr3" not in x  # a role the index does not configure has no feature


def test_locale_enters_the_context_with_its_language():
    plain = named(context_vector(parse_query("x")))
    br = named(context_vector(parse_query("x"), {"locale": "pt-BR"}))
    pt = named(context_vector(parse_query("x"), {"locale": "pt_PT"}))
    en = named(context_vector(parse_query("x"), {"locale": "en"}))
    assert "locale_given" not in plain and br["locale_given"] == pt["locale_given"] == en["locale_given"] == 1.0
    buckets = {name: value for name, value in br.items() if name.startswith("locale_h")}
    assert sum(buckets.values()) == pytest.approx(1.0)  # half the language, half the whole tag
    assert br != pt and br != en and sum(v for k, v in en.items() if k.startswith("locale_h")) == pytest.approx(1.0)
    shared = {k for k in br if k.startswith("locale_h")} & {k for k in pt if k.startswith("locale_h")}
    assert shared  # pt-BR and pt-PT share the bucket of "pt"


def test_caller_fields_named_by_the_index_enter_the_context():
    x = named(context_vector(parse_query("x"), {"market": "BR", "premium": True, "age_days": 40},
                             caller_fields=("market", "premium", "age_days")))
    assert x["attributes_given"] == 1.0
    assert sum(v for k, v in x.items() if k.startswith("attribute_h")) > 0
    assert all(0 < v <= 1 for k, v in x.items() if k.startswith("attribute_h"))
    with pytest.raises(QueryError, match="unknown field.*'market'.*context.fields"):
        context_vector(parse_query("x"), {"market": "BR"})


@pytest.mark.parametrize("caller, message", [
    ({"locale": "portuguese of brazil"}, "context.locale must be a language tag"),
    ({"locale": 7}, "context.locale must be a language tag"),
    ({"market": "x" * 129}, "context.market must be a non-blank string"),
    ({"market": ["br"]}, "context.market must be a string, a boolean or a finite number"),
    ({"market": float("nan")}, "context.market must be a string, a boolean or a finite number"),
])
def test_bad_locale_and_caller_fields_are_named(caller, message):
    with pytest.raises(QueryError, match=message):
        context_vector(parse_query("x"), caller, caller_fields=("market",))
