import random

import pytest

from lrr_es.errors import SimulationError
from lrr_es.simulate.clicks import Action, ClickModel, positive


def test_a_seeded_user_repeats_exactly():
    shown = [f"d{i}" for i in range(10)]
    relevant = {"d0": 3, "d3": 2, "d7": 1}
    runs = [ClickModel().react(shown, relevant, random.Random(4)) for _ in range(2)]
    assert runs[0] == runs[1]


def test_pbm_rates_follow_examination_times_attraction():
    model, rng, n = ClickModel(eta=1.0), random.Random(1), 20_000
    counts = {1: 0, 4: 0}
    for _ in range(n):
        for a in model.react(["a", "b", "c", "d"], {"a": 3, "d": 3}, rng):
            if a.action == "play":
                counts[a.position] += 1
    assert counts[1] / n == pytest.approx(0.9, abs=0.02)  # examined always, attraction 0.9
    assert counts[4] / n == pytest.approx(0.9 / 4, abs=0.02)


def test_cascade_stops_at_the_first_satisfying_play():
    model = ClickModel(cascade=True, abandon=0.0, attraction=(0.0, 0.0, 1.0, 1.0), like=(0, 0, 0, 0))
    actions = model.react(["x", "y", "z"], {"y": 2, "z": 3}, random.Random(0))
    assert [(a.doc_id, a.action) for a in actions] == [("y", "click"), ("y", "play")]
    assert positive(actions) == {"y"}


def test_a_non_relevant_attraction_is_a_click_then_a_skip():
    model = ClickModel(examination=(1.0,), attraction=(1.0, 0.0, 0.0, 0.0))
    assert model.react(["n", "m"], {}, random.Random(0)) == [Action("n", 1, "click"), Action("n", 1, "skip")]


@pytest.mark.parametrize("kwargs", [{"attraction": (0.1, 0.2)}, {"attraction": (0, 0, 0, 2)}, {"abandon": -0.1},
                                    {"eta": -1}, {"examination": (1.5,)}])
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(SimulationError):
        ClickModel(**kwargs)
