"""The example app before and after adopting lrr-es; `bash scripts/demo.sh` runs it after `lrr-es demo`.

The same app code (examples/music_app.py) runs with its plain client, then with the one-line change.
Simulated users search through the app and act on what they see; the app logs their clicks and plays
as UBI events in its own index, which the wrapper also takes as feedback. `lrr-es learn` and
`lrr-es train` then learn from them, and the same searches run again.
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import music_app  # noqa: E402 - the example app beside this file

from lrr_es import load_config  # noqa: E402
from lrr_es.errors import ModelError  # noqa: E402
from lrr_es.learn import learn  # noqa: E402
from lrr_es.learn.ranker import report_lines, train  # noqa: E402
from lrr_es.simulate import generate_queries, read_source  # noqa: E402
from lrr_es.simulate.clicks import ClickModel  # noqa: E402

QUERIES = ("love", "80s pop", "midnigt", "home")
SEARCHES = 400


def show(label: str, es) -> None:
    print(f"\n{label}")
    for q in QUERIES:
        found = music_app.search(es, q)
        top = "; ".join(f"{h['title']} ({h['year']})" for h in found["hits"][:3])
        print(f"  {q!r:<11} {found['total']:>4} results: {top}")


def simulate_users(es, seed: int = 11) -> float:
    """Users search through the app and act on the page; their actions go to the app's UBI log.
    The share of searches with a play or like."""
    docs = read_source("sample", sample_size=2000).docs
    queries = generate_queries(docs, 200, seed=seed)
    rng, model, engaged = random.Random(seed), ClickModel(), 0
    for n in range(SEARCHES):
        query = rng.choice(queries)
        found = music_app.search(es, query.text)
        actions = model.react([h["id"] for h in found["hits"]], query.relevant, rng)
        for action in actions:
            if action.action in ("click", "play", "like"):
                music_app.log_click(es, found["query_id"], action.doc_id, action.position, f"user-{n % 50}",
                                    action.action)
        engaged += any(a.action in ("play", "like") for a in actions)
    return engaged / SEARCHES


def main() -> None:
    plain = music_app.make_client(learn=False)
    show("the app as it was (plain elasticsearch-py):", plain)
    learning = music_app.make_client(learn=True)
    config = load_config(None)
    index = music_app.INDEX
    since = int(time.time() * 1000) - 1
    show("the same app after the one-line change (lrr-es serves its searches):", learning)
    print(f"\n{SEARCHES} simulated users search and click through the app...")
    before = simulate_users(learning)
    learning.lrr.feedback_writer.flush()
    learning.lrr.close()
    print(f"  searches with a play or like: {before:.0%}; passed through: {learning.passthrough.snapshot() or 'none'}")
    print("  " + learn(learning.lrr.es, config, index, since=since, echo=lambda _: None).summary().splitlines()[-1])
    try:
        for line in report_lines(train(learning.lrr.es, config, index, since=since, holdout=0.3,
                                       params={"n_estimators": 100})):
            print("  " + line)
    except ModelError as exc:
        print(f"  ranker not trained: {exc}")
    relearned = music_app.make_client(learn=True)
    show("after learning from the app's own click log:", relearned)
    relearned.lrr.close()


if __name__ == "__main__":
    main()
