from lrr_es.simulate.clicks import Action
from lrr_es.simulate.traffic import SearchOutcome, summarize


def outcome(intent, positives, recall, subsearches, actions=()):
    return SearchOutcome("s", "q", intent, "t", (), tuple(actions), frozenset(positives), recall, subsearches)


def test_summary_of_a_run():
    play = Action("d1", 1, "play", 0.9)
    summary = summarize([outcome("artist", {"d1"}, 1.0, 3, [Action("d1", 1, "click"), play]),
                         outcome("artist", set(), 0.5, 5), outcome("genre_decade", set(), 0.0, 4)])
    assert (summary.searches, summary.engaged_share, summary.recall, summary.subsearches, summary.actions) == (
        3, 1 / 3, 0.5, 4.0, 2)
    assert summary.by_intent == {"artist": (2, 0.5), "genre_decade": (1, 0.0)}
    assert summary.lines()[0].startswith("3 searches: 33.3% with a play or like")


def test_an_empty_run_is_all_zeros():
    assert summarize([]).lines() == ["0 searches: 0.0% with a play or like, candidate recall 0.000, "
                                     "0.00 sub-searches per search, 0 actions"]
