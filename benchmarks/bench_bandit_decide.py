"""Decision latency of every bandit policy: 7 arms (the real strategies' descriptors), d = 32 and 64.

Each policy is first trained on --train random rounds (so its matrices are not the identity), then
``select`` is timed call by call. The baseline, measured in the same run, is one numpy dot product of
the same size: the (7, d) matrix of the arms' weights times the (d,) context. Figures are
microseconds per call (p50 and p99) and the ratio of the policy's p50 to the baseline's p50. The
whole measurement runs --rounds times and each figure is the median over rounds (shared machines are
noisy; p99 especially).

Run: .venv/bin/python -m benchmarks.bench_bandit_decide [--calls N] [--train N] [--budget B] [--rounds N]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from lrr_es.bandit import POLICIES, make_policy
from lrr_es.strategies import STRATEGIES


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    arr = np.array(samples_ns) / 1000.0
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def time_calls(fn, args: list, repeat: int = 1) -> list[int]:
    out = []
    for a in args:
        t = time.perf_counter_ns()
        for _ in range(repeat):
            fn(a)
        out.append((time.perf_counter_ns() - t) // repeat)
    return out


def bench(dim: int, calls: int, train: int, budget: float) -> list[dict]:
    arms = [cls.descriptors() for cls in STRATEGIES.values()]
    rng = np.random.default_rng(0)
    xs = list(rng.normal(size=(calls, dim)))
    weights = rng.normal(size=(len(arms), dim))
    time_calls(lambda x: weights @ x, xs[:200])  # warm-up
    base_p50, base_p99 = percentiles(time_calls(lambda x: weights @ x, xs))
    rows = [{"policy": "baseline: (7,d)@(d,) dot", "dim": dim, "p50": base_p50, "p99": base_p99, "ratio": 1.0}]
    for name in sorted(POLICIES):
        policy = make_policy(name, dim=dim, seed=1)
        for _ in range(train):
            d = policy.select(rng.normal(size=dim), arms, budget)
            policy.update(d, {a: float(rng.random()) for a in d.arms})
        time_calls(lambda x: policy.select(x, arms, budget), xs[:200])
        p50, p99 = percentiles(time_calls(lambda x: policy.select(x, arms, budget), xs))
        rows.append({"policy": name, "dim": dim, "p50": p50, "p99": p99, "ratio": p50 / base_p50})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--train", type=int, default=500)
    parser.add_argument("--budget", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'policy':<28}{'d':>4}{'p50 us':>10}{'p99 us':>10}{'p50 / dot':>11}")
    for dim in (32, 64):
        rounds = [bench(dim, args.calls, args.train, args.budget) for _ in range(args.rounds)]
        for i, row in enumerate(rounds[0]):
            med = {key: float(np.median([r[i][key] for r in rounds])) for key in ("p50", "p99", "ratio")}
            print(f"{row['policy']:<28}{dim:>4}{med['p50']:>10.1f}{med['p99']:>10.1f}{med['ratio']:>11.1f}")


if __name__ == "__main__":
    main()
