from lrr_es.phonetic import MAX_PHONETIC_TOKENS, phonetic_field, phonetic_keys


def test_misspellings_by_ear_share_keys_with_the_name():
    assert phonetic_keys("Tayler Swift") == phonetic_keys("taylor swift") == ["TLR", "SWFT"]
    assert phonetic_keys("beyonse") == phonetic_keys("Beyoncé") == ["BYNS"]
    assert phonetic_keys("emenim") == phonetic_keys("Eminem")


def test_tokens_with_digits_or_no_latin_letters_have_no_key():
    assert phonetic_keys("80s 1999 東京") == []
    assert phonetic_keys("") == []


def test_field_joins_strings_and_lists_and_is_bounded():
    assert phonetic_field(["Love", ["Taylor Swift", 3], None]) == "LF TLR SWFT"
    assert len(phonetic_field(["word " * 500]).split()) == MAX_PHONETIC_TOKENS
