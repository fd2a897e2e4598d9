"""Learning to retrieve on the music simulator: bandit policies against fixed plans.

Every contender serves the same simulated traffic (same query sequence, same per-search click
randomness: common random numbers) over MusicOSet: ``--searches`` searches drawn from a generated
query set, pages in the engine's cold-start order (lrr_es.fusion.fuse; the ranker is not part of this), users reacting with the
position-based click model. Each strategy's candidates are fetched once per distinct query from the
real node and replayed (``benchmarks/replay.py`` says what that leaves out).

Reported per contender: the cumulative semi-bandit arm reward (the policies' objective: an arm
earns 1 when it found a played/liked document, +0.5 when it alone found one, minus 0.1 x its cost;
it grows with the number of arms, so it does not compare plans of different sizes), the search
reward (1 per search with a positive engagement minus 0.1 x the plan's cost: comparable across
contenders), the share of searches with a positive engagement, candidate recall@100 (whole run and
the last quarter), and the Elasticsearch work: sub-searches and summed relative cost. Contenders:
lexical only, each strategy alone, all strategies every time, the best fixed subsets in hindsight
(of all 64 subsets containing lexical, quota 100 each: the best by search reward, and within the
bandit's cost budget the best by engaged share and the best by recall) and each bandit policy
(learning in batches of --batch searches, as the learner would): the per-arm policies with the
default "found" credit and with the "shared" credit (lrr_es.bandit.rewards), and the plan-level vw
policy (Vowpal Wabbit, shared credit). Every contender's table row uses the same default reward,
whatever it learned from.

Learning curves (engaged share, recall@100, sub-searches per search, per window of --window
searches) are saved as a PNG (--plot, default docs/img/bench_bandit.png).

Run: .venv/bin/python -m benchmarks.bench_bandit [--searches 20000] [--queries 2000]
Starts its own node on --port (default 9292) unless --es-url is given.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lrr_es.bandit import make_policy
from lrr_es.bandit.rewards import RewardParams, arm_rewards
from lrr_es.context import CONTEXT_DIM, context_vector
from lrr_es.simulate.clicks import ClickModel
from lrr_es.simulate.queries import generate_queries

from .bench_retrieval import ALIAS, DEFAULT_MUSICOSET, prepare
from .curves import save_curves, windowed
from .node import bench_node
from .replay import CachedQuery, fetch, play

# (label, policy, credit the policy learns from)
POLICIES = (("thompson", "thompson", "found"), ("linucb", "linucb", "found"),
            ("epsilon_greedy", "epsilon_greedy", "found"), ("thompson+shared", "thompson", "shared"),
            ("linucb+shared", "linucb", "shared"), ("vw", "vw", "shared"))
FULL = 100
DEFAULT_PLOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "bench_bandit.png"


@dataclass
class Tally:
    name: str
    reward: float = 0.0  # sum of the arms' semi-bandit rewards (the policies' objective)
    search_reward: float = 0.0  # per search: 1 if a positive engagement, minus COST_WEIGHT x plan cost
    engaged: int = 0
    subsearches: int = 0
    cost: float = 0.0
    recall: list[float] = field(default_factory=list)
    arm_use: dict[str, int] = field(default_factory=dict)
    engaged_each: list[bool] = field(default_factory=list)  # per search, for the learning curves
    subsearches_each: list[int] = field(default_factory=list)

    def summary(self, searches: int) -> dict:
        tail = self.recall[-searches // 4:]
        return {"reward": self.reward, "search_reward": self.search_reward, "engaged_share": self.engaged / searches,
                "cost_per_search": self.cost / searches,
                "recall": statistics.fmean(self.recall), "recall_last_quarter": statistics.fmean(tail),
                "subsearches": self.subsearches, "subsearches_per_search": self.subsearches / searches,
                "arm_use": {a: n / searches for a, n in sorted(self.arm_use.items())}}


class Simulator:
    """The shared traffic: query sequence, click randomness, cached outcomes per (plan, query)."""

    def __init__(self, cache: dict[str, CachedQuery], costs: dict[str, float], weights: dict[str, float],
                 searches: int, seed: int, vocabulary: set[str]) -> None:
        self.cache, self.costs, self.weights = cache, costs, weights
        texts = sorted(cache)
        rng = random.Random(seed)
        self.sequence = [texts[rng.randrange(len(texts))] for _ in range(searches)]
        self.seed = seed
        self.contexts = {t: context_vector(c.parsed, None, vocabulary) for t, c in cache.items()}
        self.click_model = ClickModel()
        self.params = RewardParams()
        self._outcomes: dict = {}

    def outcome(self, plan: tuple[tuple[str, int], ...], text: str, chosen: bool = True):
        key = (plan, text, chosen)
        if key not in self._outcomes:
            self._outcomes[key] = play(self.cache[text], plan, self.weights, chosen=chosen)
        return self._outcomes[key]

    def serve(self, n: int, plan: tuple[tuple[str, int], ...], tally: Tally,
              learn_params: RewardParams | None = None, chosen: bool = True) -> dict[str, float]:
        """Serve search ``n`` with ``plan``, count it in ``tally`` (default rewards) and return the arm
        rewards the policy learns from (``learn_params``, default: the same rewards). ``chosen`` False:
        the cold-start default plan (explore's own picks held back from the head of the page)."""
        text = self.sequence[n]
        out = self.outcome(plan, text, chosen)
        rng = random.Random(self.seed * 1_000_003 + n)
        actions = self.click_model.react(out.shown, self.cache[text].query.relevant, rng)
        positives = {a.doc_id for a in actions if a.action in ("play", "like")}
        rewards = arm_rewards(out.candidates_by_arm, positives, self.costs, self.params)
        cost = sum(self.costs[arm] for arm, _ in plan)
        tally.reward += sum(rewards.values())
        tally.search_reward += bool(positives) - self.params.cost_weight * cost
        tally.engaged += bool(positives)
        tally.subsearches += out.subsearches
        tally.cost += cost
        tally.recall.append(out.recall)
        tally.engaged_each.append(bool(positives))
        tally.subsearches_each.append(out.subsearches)
        for arm, _ in plan:
            tally.arm_use[arm] = tally.arm_use.get(arm, 0) + 1
        if learn_params is None or learn_params == self.params:
            return rewards
        return arm_rewards(out.candidates_by_arm, positives, self.costs, learn_params)


def run_fixed(sim: Simulator, name: str, arms: tuple[str, ...], chosen: bool = True) -> Tally:
    tally = Tally(name)
    plan = tuple((a, FULL) for a in arms)
    for n in range(len(sim.sequence)):
        sim.serve(n, plan, tally, chosen=chosen)
    return tally


def run_policy(sim: Simulator, label: str, name: str, credit: str, arms: list[dict], budget: float, seed: int,
               batch: int) -> tuple[Tally, list]:
    policy = make_policy(name, dim=CONTEXT_DIM, seed=seed)
    params = RewardParams(credit=credit)
    tally, pending, timings = Tally(label), [], []
    for n, text in enumerate(sim.sequence):
        t = time.perf_counter()
        decision = policy.select(sim.contexts[text], arms, budget=budget)
        timings.append((time.perf_counter() - t) * 1e6)
        rewards = sim.serve(n, tuple(zip(decision.arms, decision.quotas)), tally, params)
        pending.append((decision, rewards))
        if len(pending) >= batch:
            policy.update([d for d, _ in pending], [r for _, r in pending])
            pending = []
    return tally, timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--searches", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--budget", type=float, default=4.0, help="cost budget of a plan (lexical = 1)")
    parser.add_argument("--batch", type=int, default=200, help="searches between policy updates")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=9292)
    parser.add_argument("--es-url")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds per Elasticsearch request (raise it on a busy machine)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help="PNG of the learning curves")
    parser.add_argument("--window", type=int, default=1000, help="searches per point of the learning curves")
    parser.add_argument("--policies", default=",".join(label for label, _, _ in POLICIES),
                        help="comma-separated contenders among: " + ", ".join(label for label, _, _ in POLICIES))
    args = parser.parse_args(argv)
    with bench_node(args.es_url, args.port, timeout=args.timeout) as es:
        engine, docs = prepare(es, args.musicoset)
        queries = generate_queries(docs, args.queries, seed=args.seed)
        cache = fetch(engine, ALIAS, queries)
        strategies = {n: s for n, s in engine.strategies(ALIAS).items() if s.available}
        semantic = engine.resources(ALIAS).get("semantic")
        engine.decisions.flush()
    arms = [s.descriptors() for s in strategies.values()]
    costs = {a["name"]: a["cost"] for a in arms}
    sim = Simulator(cache, costs, dict(engine.config.retrieval.weights), args.searches, args.seed,
                    set(semantic.vocab) if semantic is not None else set())
    results = {}
    names = [a["name"] for a in arms]
    results["lexical only"] = run_fixed(sim, "lexical only", ("lexical",))
    for name in names:
        if name != "lexical":
            results[f"{name} only"] = run_fixed(sim, f"{name} only", (name,))
    results["all strategies"] = run_fixed(sim, "all strategies", tuple(names), chosen=False)  # the cold-start plan
    others = [n for n in names if n != "lexical"]
    subsets = []
    for size in range(len(others) + 1):
        for subset in itertools.combinations(others, size):
            arms_ = ("lexical", *subset)
            subsets.append((sum(costs[a] for a in arms_), run_fixed(sim, "+".join(arms_), arms_)))
    in_budget = [t for cost, t in subsets if cost <= args.budget]
    picks = {
        "best fixed subset, search reward": max((t for _, t in subsets), key=lambda t: t.search_reward),
        "best fixed subset in budget, engaged": max(in_budget, key=lambda t: t.engaged),
        "best fixed subset in budget, recall": max(in_budget, key=lambda t: statistics.fmean(t.recall)),
    }
    for label, tally in picks.items():
        results[f"{label} ({tally.name})"] = tally
    latencies = {}
    wanted = [p.strip() for p in args.policies.split(",")]
    for label, name, credit in POLICIES:
        if label not in wanted:
            continue
        tally, timings = run_policy(sim, label, name, credit, arms, args.budget, args.seed, args.batch)
        results[f"bandit: {label}"] = tally
        latencies[label] = (statistics.median(timings), float(np.percentile(timings, 99)))
    report(results, args, latencies)
    plot(results, picks, args)


def plot(results: dict[str, Tally], picks: dict[str, Tally], args) -> None:
    """Learning curves of the bandits next to all strategies and the best fixed subsets."""
    shown = {"all strategies": results["all strategies"], "lexical only": results["lexical only"]}
    shown.update({f"fixed: {t.name}": t for t in picks.values()})
    shown.update({name: t for name, t in results.items() if name.startswith("bandit")})
    metrics = {"engaged share": lambda t: t.engaged_each, "candidate recall@100": lambda t: t.recall,
               "sub-searches per search": lambda t: t.subsearches_each}
    panels = {m: {name: windowed(get(t), args.window) for name, t in shown.items()} for m, get in metrics.items()}
    path = save_curves(args.plot, f"bench_bandit: {args.searches} searches, seed {args.seed}, budget {args.budget}",
                       panels, "searches")
    print(f"learning curves: {path}")


def report(results: dict[str, Tally], args, latencies: dict) -> None:
    n = args.searches
    table = {name: t.summary(n) for name, t in results.items()}
    ceiling = table["all strategies"]
    print(f"\n{n} simulated searches over {args.queries} generated queries, seed {args.seed}, budget {args.budget}")
    print(f"{'contender':62}{'arm rwd':>9}{'srch rwd':>9}{'engaged':>8}{'recall':>7}{'last1/4':>8}{'x all':>6}"
          f"{'sub/srch':>9}{'x all':>6}{'cost/srch':>10}{'x all':>6}")
    for name, s in table.items():
        print(f"{name[:61]:62}{s['reward']:9.0f}{s['search_reward']:9.0f}{s['engaged_share']:8.3f}{s['recall']:7.3f}"
              f"{s['recall_last_quarter']:8.3f}{s['recall_last_quarter'] / ceiling['recall_last_quarter']:6.2f}"
              f"{s['subsearches_per_search']:9.2f}{s['subsearches'] / ceiling['subsearches']:6.2f}"
              f"{s['cost_per_search']:10.2f}{s['cost_per_search'] / ceiling['cost_per_search']:6.2f}")
    print("\narm use of the bandits (share of searches):")
    for name, s in table.items():
        if name.startswith("bandit"):
            print(f"  {name}: " + ", ".join(f"{a} {v:.2f}" for a, v in s["arm_use"].items()))
    print("\ndecision latency (µs, p50 / p99): " + "; ".join(f"{k} {v[0]:.0f} / {v[1]:.0f}" for k, v in latencies.items()))
    if args.json:
        args.json.write_text(json.dumps({"table": table, "latency_us": latencies}, indent=2))


if __name__ == "__main__":
    main()
