"""Team-draft interleaving (lrr_es.rank.interleave): its properties, the credit, the sign test."""
import random
import uuid

import pytest

from lrr_es.rank.interleave import (CANDIDATE, LIVE, InterleaveResult, coin, credit, in_share, summary, tally,
                                    team_draft)


def _rankings(seed: int, n: int = 20) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    live = [f"d{i}" for i in range(n)]
    candidate = live[:]
    rng.shuffle(candidate)
    return live, candidate


@pytest.mark.parametrize("seed", range(30))
def test_each_list_contributes_alternately_without_duplicates(seed):
    live, candidate = _rankings(seed)
    out, teams = team_draft(live, candidate, random.Random(seed))
    assert sorted(out) == sorted(live) and len(set(out)) == len(out)  # a permutation: no duplicate, none lost
    assert len(teams) == len(out) and set(teams) <= {LIVE, CANDIDATE}
    for k in range(1, len(out) + 1):  # at every prefix the teams placed as many items, give or take one
        assert abs(teams[:k].count(LIVE) - teams[:k].count(CANDIDATE)) <= 1
    for k in range(0, len(out), 2):  # each round of two, one pick per team
        assert {teams[k], teams[k + 1]} == {LIVE, CANDIDATE}


@pytest.mark.parametrize("seed", range(30))
def test_prefix_property_each_team_places_its_own_top_items_in_its_order(seed):
    live, candidate = _rankings(seed)
    out, teams = team_draft(live, candidate, random.Random(seed))
    for k in range(1, len(out) + 1):
        for ranking in (live, candidate):  # the top floor(k/2) of both rankings are in the first k
            assert set(ranking[:k // 2]) <= set(out[:k])
    for team, ranking in ((LIVE, live), (CANDIDATE, candidate)):
        picked = [doc for doc, t in zip(out, teams) if t == team]
        assert picked == sorted(picked, key=ranking.index)  # a team's picks follow its own order
        for n, doc in enumerate(out):  # each pick was the team's best item not yet placed
            if teams[n] == team:
                assert doc == next(d for d in ranking if d not in out[:n])


def test_identical_rankings_interleave_to_the_same_ranking_and_a_seed_repeats():
    live = ["a", "b", "c", "d", "e"]
    for seed in range(10):
        assert team_draft(live, live, random.Random(seed))[0] == live
    a, b = _rankings(3)
    assert team_draft(a, b, random.Random(5)) == team_draft(a, b, random.Random(5))
    assert len({tuple(team_draft(a, b, random.Random(s))[1]) for s in range(20)}) > 1  # the coin matters


def test_length_and_lists_of_different_items():
    out, teams = team_draft(["a", "b", "c"], ["x", "a", "y", "z"], random.Random(0), length=4)
    assert len(out) == 4 and len(set(out)) == 4
    out, teams = team_draft(["a"], ["x", "y", "z"], random.Random(1))  # one list runs out: the other fills
    assert sorted(out) == ["a", "x", "y", "z"] and teams.count(CANDIDATE) == 3
    assert team_draft([], [], random.Random(0)) == ([], [])


def test_the_share_is_drawn_from_the_search_id():
    rng = random.Random(7)
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in range(20_000)]  # as the engine's
    rate = sum(in_share(i, 0.05) for i in ids) / len(ids)
    assert 0.04 < rate < 0.06
    assert not any(in_share(i, 0.0) for i in ids[:1000]) and all(in_share(i, 1.0) for i in ids[:1000])
    assert coin(ids[0]).random() == coin(ids[0]).random()


def test_credit_goes_to_the_team_whose_documents_earned_more():
    teams = {"a": LIVE, "b": CANDIDATE, "c": CANDIDATE}
    assert credit(teams, {"b": 3.0}) == 1
    assert credit(teams, {"a": 3.0, "b": 1.0}) == -1
    assert credit(teams, {"a": 1.0, "c": 1.0}) == 0
    assert credit(teams, {}) is None and credit(teams, {"zzz": 3.0}) is None  # not shown by the trial
    assert credit(teams, {"a": 0.0}) is None  # a skip alone is no preference


def test_sign_test_win_share_and_verdict():
    result = tally([1] * 15 + [-1] * 5 + [0] * 4 + [None] * 10)
    assert (result.wins, result.losses, result.ties, result.silent, result.searches) == (15, 5, 4, 10, 34)
    assert result.win_share == 0.75
    assert result.p_value == pytest.approx(0.041389, abs=1e-6)  # 2 * P(X >= 15), X ~ Bin(20, 1/2)
    low, high = result.interval()
    assert low < 0.75 < high and low > 0.5
    assert result.verdict(0.05, 20) == "better" and result.verdict(0.01, 20) == "undecided"
    assert result.verdict(0.05, 21) == "undecided"  # too few decided searches
    assert tally([-1] * 15 + [1] * 5).verdict(0.05, 20) == "worse"
    empty = InterleaveResult()
    assert empty.win_share is None and empty.p_value == 1.0 and empty.verdict(0.05, 1) == "undecided"
    figures = result.to_dict(0.05, 20)
    assert figures["verdict"] == "better" and figures["ci95"] == [low, high]
    assert "15 won, 5 lost, 4 tied" in summary(figures) and "better" in summary(figures)
    assert summary(None) == "no interleaved search judged yet"
